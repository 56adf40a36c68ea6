//! The run: read → clean → chunk → translate (cached, bounded, with fallbacks) → write.
//!
//! Articles are translated concurrently; each backend bounds its own requests in flight (see
//! `backend::dispatch`). Every result is committed to the cache the moment it arrives and every
//! article's files are written the moment it is done, so an interrupted run loses nothing and a
//! rerun picks up where it stopped. One failing article never stops the others: failures are
//! collected into `run.json`, and the exit code says whether there were any.
//!
//! `run` reads as the run does; one article's way through it is in `per_article`, the stages
//! it is asked through in `stages`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::article::{self, Article};
use crate::brief::night::Night;
use crate::brief::{self, BriefArticle, BriefInput};
use crate::cache::Cache;
use crate::chunk::TokenCounter;
use crate::fidelity::glossary::Glossary;
use crate::fsutil;
use crate::progress::Progress;
use crate::prompt::Template;
use crate::record::{ArticleRecord, BriefReport, Counts, Failure, InputCounts, RunReport, Timings};
use crate::render;
use crate::settings::Settings;
use crate::stage::{Halt, Shared};
use crate::summarize::Summarizer;
use crate::translate::Translator;

mod batch;
mod error;
mod estimate;
mod per_article;
mod report;
mod stages;

pub use batch::{run_batched, BatchEnd, BatchMode};
pub use error::RunError;
pub use estimate::estimate;

use per_article::{
    chunk_counts, finish_off_runtime, note_summary, prepare, summarize_record, translate_article,
};
use report::{
    batch_report, brief_report, cache_counts, ending, endpoint_shares, partial, write_run_json,
};
use stages::Stages;

/// Everything the translate stage shares across articles.
struct Context {
    settings: Settings,
    translator: Translator,
    summarizer: Summarizer,
    progress: Arc<dyn Progress>,
}

/// What to run on.
pub struct RunRequest {
    pub inputs: Vec<String>,
    pub out: PathBuf,
    /// Ask again for answers the cache holds as unusable.
    pub retry_invalid: bool,
    /// Stop sending once the answers cost this much (`--max-cost`).
    pub max_cost: Option<f64>,
    /// Collect what the cache cannot answer instead of sending it (batch mode, estimates).
    pub collector: Option<Arc<crate::batch::Collector>>,
    /// Write the outputs (false for an estimate: nothing is written, not even the folder).
    pub write: bool,
    /// When the run must stop sending, if it started earlier than this pass (a batch run's
    /// later passes); otherwise `run.deadline` counts from the start.
    pub deadline_at: Option<tokio::time::Instant>,
}

impl RunRequest {
    /// A plain run of `inputs` into `out`.
    pub fn new(inputs: Vec<String>, out: PathBuf) -> RunRequest {
        RunRequest {
            inputs,
            out,
            retry_invalid: false,
            max_cost: None,
            collector: None,
            write: true,
            deadline_at: None,
        }
    }
}

/// Run the pipeline. `cancel` is triggered by Ctrl-C: in-flight requests are dropped, nothing new
/// is sent, and what is done is written.
pub async fn run(
    settings: Settings,
    request: RunRequest,
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339();
    let (opened, template, glossary) = open(&settings, &request, &progress, cancel)?;
    let mut inputs = read(&request, &settings, &*progress).await?;
    let articles = std::mem::take(&mut inputs.articles);
    let sizes = chunk_counts(&settings, &opened.shared.counter, &articles);
    let names_started = Instant::now();
    let stages = Stages::new(
        &settings,
        &opened.shared,
        (template, glossary),
        &articles,
        &progress,
    )
    .await?;
    let names_ms = names_started.elapsed().as_millis();
    let prepare_ms = started.elapsed().as_millis();
    let articles_started = Instant::now();
    let out = request.write.then_some(request.out.as_path());
    let translated = translate_all(&stages.context, (articles, sizes), out).await;
    let articles_ms = articles_started.elapsed().as_millis();
    let brief_started = Instant::now();
    let mut failures = [inputs.failures, translated.failures].concat();
    let brief = write_brief(
        out,
        partial(&opened.shared),
        translated.night,
        stages.brief_input(&settings, translated.left_out),
        &mut failures,
        &*progress,
    )
    .await;
    progress.finish();
    let report = RunReport {
        tarjim_version: env!("CARGO_PKG_VERSION"),
        started_at,
        finished_at: chrono::Utc::now().to_rfc3339(),
        duration_ms: started.elapsed().as_millis(),
        timings: Timings {
            prepare_ms,
            names_ms,
            articles_ms,
            brief_ms: brief_started.elapsed().as_millis(),
        },
        peak_rss_mib: report::peak_rss_mib(),
        ending: ending(&opened.shared),
        inputs: request.inputs,
        out: request.out.clone(),
        stages: stages.backends(),
        endpoints: endpoint_shares(&opened.shared),
        articles: translated.article_counts,
        chunks: translated.chunk_counts,
        requests: stages.sum(|stats| &stats.requests),
        attempts: stages.sum(|stats| &stats.attempts),
        tokens_in: stages.sum(|stats| &stats.prompt_tokens),
        tokens_in_evaluated: stages.tokens_in_evaluated(),
        tokens_out: stages.sum(|stats| &stats.completion_tokens),
        cost: opened.shared.spent(),
        batch: batch_report(&opened.shared),
        cache: cache_counts(&opened.shared),
        failures,
        warnings: inputs.warnings,
        input_counts: inputs.counts,
        dropped_lines: translated.dropped_lines,
        summaries: translated.summary_counts,
        brief,
        names: stages.names_report,
        config: settings.to_redacted_json(),
    };
    if request.write {
        write_run_json(&request.out, &report)?;
    }
    Ok(report)
}

/// What the run holds from start to end: the cache, locked against a second run (an estimate,
/// which sends and writes nothing, reads it beside a run without the lock).
struct Opened {
    shared: Arc<Shared>,
    _cache_lock: Option<crate::lock::RunLock>,
}

/// Check the settings for a run, lock and open the cache, load the template and glossary, and
/// start the deadline's timer.
fn open(
    settings: &Settings,
    request: &RunRequest,
    progress: &Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<(Opened, Template, Glossary), RunError> {
    if request.write {
        // An estimate sends nothing, so it needs no API key.
        settings.check_for_run()?;
    }
    let deadline = match request.deadline_at {
        Some(at) => Some(at),
        None => (settings.run.deadline().map_err(RunError::Deadline)?)
            .map(|limit| tokio::time::Instant::now() + limit),
    };
    let counter = TokenCounter::new(&settings.chunk.encoding).map_err(RunError::Encoding)?;
    let template = Template::load(&settings.prompts.dir, "translate")?;
    let cache_lock = match request.write {
        true => Some(crate::lock::acquire(&[crate::lock::cache_lock_path(
            &settings.cache_path(),
        )])?),
        false => None,
    };
    let cache = Cache::open(&settings.cache_path())?;
    let note_progress = progress.clone();
    let shared = Arc::new(Shared {
        retry_invalid: request.retry_invalid,
        max_cost: request.max_cost,
        collector: request.collector.clone(),
        ..Shared::new(
            cache,
            counter,
            cancel,
            Box::new(move |text| note_progress.note(text)),
        )
    });
    let glossary = Glossary::load(&settings.fidelity.glossary)?;
    if let Some(deadline) = deadline {
        let shared = shared.clone();
        let shown = settings.run.deadline.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(deadline).await;
            shared.halt(
                Halt::DeadlinePassed,
                &format!(
                    "error: the run's deadline ({shown}) passed; no new requests will be sent, \
                     writing what is done"
                ),
            );
        });
    }
    let opened = Opened {
        shared,
        _cache_lock: cache_lock,
    };
    Ok((opened, template, glossary))
}

/// Where each article's body waits from the moment it is read until its turn comes: an unnamed
/// file beside the cache (none, so held in memory, when no file can be made there).
fn input_spill(settings: &Settings) -> Option<Arc<fsutil::Spill>> {
    let cache = settings.cache_path();
    let folder = match cache.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fsutil::Spill::new_in(&folder).ok().map(Arc::new)
}

/// The night's articles, and what was wrong with the inputs that gave none.
struct Inputs {
    articles: Vec<Article>,
    /// Unreadable inputs (errors) and skipped ones (warnings: empty items, duplicates).
    failures: Vec<Failure>,
    warnings: Vec<Failure>,
    counts: InputCounts,
    _output_lock: Option<crate::lock::RunLock>,
}

/// Read every input (off the runtime), then lock and prepare the output folder. No article at
/// all is an error that writes nothing, so an empty inbox cannot replace last night's brief.
async fn read(
    request: &RunRequest,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<Inputs, RunError> {
    let spill = input_spill(settings);
    let (articles, input_errors) = {
        let inputs = request.inputs.clone();
        tokio::task::spawn_blocking(move || article::read_inputs_spilling(&inputs, spill))
            .await
            .unwrap_or_else(|error| {
                (
                    Vec::new(),
                    vec![article::InputError::Invalid {
                        path: "<inputs>".into(),
                        message: format!("reading inputs panicked: {error}"),
                    }],
                )
            })
    };
    if articles.is_empty() {
        return Err(RunError::NoArticles {
            problems: input_errors
                .iter()
                .map(|problem| problem.to_string())
                .collect(),
            out_exists: request.out.exists(),
        });
    }
    let output_lock = if request.write {
        let lock = crate::lock::acquire(&[crate::lock::output_lock_path(&request.out)])?;
        fs_err::create_dir_all(request.out.join("articles"))?;
        fsutil::remove_stale_temporaries(&request.out.join("articles"));
        Some(lock)
    } else {
        None
    };

    let (skipped, unreadable): (Vec<_>, Vec<_>) = input_errors
        .iter()
        .partition(|problem| problem.is_skipped());
    let as_failure = |problem: &&article::InputError| {
        let (path, message) = problem.parts();
        Failure {
            article: path.to_string(),
            error: message.to_string(),
        }
    };
    let failures: Vec<Failure> = unreadable.iter().map(as_failure).collect();
    let warnings: Vec<Failure> = skipped.iter().map(as_failure).collect();
    for failure in &failures {
        progress.note(&format!("error: {}: {}", failure.article, failure.error));
    }
    for warning in &warnings {
        progress.note(&format!(
            "warning: {}: {} (skipped)",
            warning.article, warning.error
        ));
    }
    let counts = InputCounts {
        articles: articles.len() as u64,
        unreadable: failures.len() as u64,
        skipped: warnings.len() as u64,
    };
    Ok(Inputs {
        articles,
        failures,
        warnings,
        counts,
        _output_lock: output_lock,
    })
}

/// What translating and summarizing every article gave.
struct Translated {
    /// What the brief keeps of each article that did not fail.
    night: Night,
    /// Articles left out of the brief, with why.
    left_out: Vec<(String, String)>,
    failures: Vec<Failure>,
    article_counts: Counts,
    chunk_counts: Counts,
    summary_counts: Counts,
    dropped_lines: BTreeMap<String, u64>,
}

/// Translate, summarize and write every article, several at a time; each article's files are
/// written the moment it is done.
async fn translate_all(
    context: &Arc<Context>,
    (articles, (chunk_counts, characters)): (Vec<Article>, (Vec<usize>, usize)),
    out: Option<&Path>,
) -> Translated {
    let progress = &context.progress;
    let total_chunks = chunk_counts.iter().sum();
    progress.begin(articles.len(), total_chunks);
    if context.summarizer.uses_llm() {
        progress.stage_begin("summaries", articles.len());
    }
    let mut done = Translated {
        night: Night::new(out, characters),
        left_out: Vec::new(),
        failures: Vec::new(),
        article_counts: Counts {
            total: articles.len() as u64,
            ..Counts::default()
        },
        chunk_counts: Counts {
            total: total_chunks as u64,
            ..Counts::default()
        },
        summary_counts: Counts::default(),
        dropped_lines: BTreeMap::new(),
    };
    let article_parallelism = context.translator.runner.concurrency() * 4;
    let preparer = done.night.preparer(context.summarizer.glossary.clone());
    let mut records = stream::iter(articles)
        .map(|article| {
            let context = context.clone();
            let out = out.map(Path::to_path_buf);
            let preparer = preparer.clone();
            async move {
                let (mut record, usage) = crate::stage::metered(async {
                    let settings = &context.settings;
                    let prepared = prepare(settings, &context.translator.counter, article);
                    let mut record = translate_article(&context, prepared).await;
                    summarize_record(&context, &mut record).await;
                    record
                })
                .await;
                record.usage = usage;
                if context.summarizer.uses_llm() {
                    context.progress.stage_step("summaries");
                }
                finish_off_runtime(out, record, preparer).await
            }
        })
        .buffer_unordered(article_parallelism.max(1));
    while let Some((record, written, ready)) = records.next().await {
        done.count(&record, written, ready, &**progress);
    }
    done
}

impl Translated {
    /// Count one finished article, and keep it for the brief unless it failed.
    fn count(
        &mut self,
        record: &ArticleRecord,
        written: Result<(), fsutil::WriteError>,
        ready: Option<brief::night::Ready>,
        progress: &dyn Progress,
    ) {
        let translated = record
            .chunks
            .iter()
            .filter(|chunk| chunk.translation.is_some())
            .count() as u64;
        self.chunk_counts.succeeded += translated;
        self.chunk_counts.failed += record.chunks.len() as u64 - translated;
        let mut error = record.error.clone();
        if let Err(write_error) = written {
            error = Some(write_error.to_string());
        }
        match error {
            None => self.article_counts.succeeded += 1,
            Some(error) => {
                self.article_counts.failed += 1;
                progress.note(&format!("error: article {}: {error}", record.id));
                self.failures.push(Failure {
                    article: record.id.clone(),
                    error,
                });
            }
        }
        for dropped in &record.cleaned.dropped {
            *self
                .dropped_lines
                .entry(dropped.reason.clone())
                .or_default() += 1;
        }
        note_summary(record, &mut self.summary_counts, progress);
        match (&record.error, ready) {
            (None, Some(ready)) => self.night.keep(ready),
            (None, None) => {}
            (Some(error), _) => self.left_out.push((record.id.clone(), error.clone())),
        }
        progress.article_done(&record.id, record.error.is_some());
    }
}

// ---- Names --------------------------------------------------------------------------------

// ---- The combined brief ---------------------------------------------------------------------
//
// The compact record the brief keeps of each article, and writing brief.{json,md,html} at the
// end. A brief that cannot be written is the run's failure, but the articles are already on
// disk.

/// The compact record the brief keeps of a translated article.
fn brief_article(record: &ArticleRecord) -> BriefArticle {
    BriefArticle {
        id: record.id.clone(),
        origin: record.origin.clone(),
        title: record.title.clone(),
        title_en: record.title_en.clone(),
        source: record.source.clone(),
        url: record.url.clone(),
        published: record.published.clone(),
        arabic: record.cleaned.paragraphs.clone(),
        english: record.translation.clone(),
        summary: record.summary.clone(),
        confidence: record.confidence,
        paragraph_flags: record.flags_by_paragraph(),
        title_flags: record.title_flags.clone(),
        features: None,
        stowed: None,
    }
}

/// Renders the brief as one of its files.
type Render = fn(&brief::Brief) -> Vec<u8>;

/// Build the brief and write it: `brief.{json,md,html}` after a complete run. After a run that
/// stopped early (`partial` says why) it goes to `brief.partial.*`, marked so at its top, and
/// the previous night's `brief.*` stay as they were; a complete run removes stale partial ones.
/// A file that cannot be written is a failure of the run; the others are still written.
async fn write_brief(
    out: Option<&Path>,
    partial: Option<String>,
    night: Night,
    input: BriefInput<'_>,
    failures: &mut Vec<Failure>,
    progress: &dyn Progress,
) -> Option<BriefReport> {
    let mut brief = brief::build(night, input).await;
    let stem = match &partial {
        Some(why) => {
            brief.notes.insert(
                0,
                format!(
                    "Partial brief: {why} before every article was done; it covers the {} \
                     articles finished. The last complete brief, if any, is brief.md; run the \
                     same command again to finish.",
                    brief.articles.len()
                ),
            );
            "brief.partial"
        }
        None => "brief",
    };
    let mut files = Vec::new();
    let Some(out) = out else {
        return Some(brief_report(&brief, files));
    };
    if partial.is_none() {
        for extension in ["json", "md", "html"] {
            let _ = std::fs::remove_file(out.join(format!("brief.partial.{extension}")));
        }
    }
    // One file at a time: on a night of 100,000 articles each is tens of megabytes.
    let renderers: [(&str, Render); 3] = [
        ("json", |brief| render::json::pretty(brief)),
        ("md", |brief| render::brief::markdown(brief).into_bytes()),
        ("html", |brief| render::brief::html(brief).into_bytes()),
    ];
    for (extension, render) in renderers {
        let name = format!("{stem}.{extension}");
        let contents = render(&brief);
        let written = fsutil::write_atomic(&out.join(&name), &contents);
        drop(contents);
        crate::memory::give_back();
        match written {
            Ok(()) => files.push(name),
            Err(error) => {
                progress.note(&format!("error: brief: {error}"));
                failures.push(Failure {
                    article: "brief".into(),
                    error: error.to_string(),
                });
            }
        }
    }
    Some(brief_report(&brief, files))
}
