//! The run: read → clean → chunk → translate (cached, bounded, with fallbacks) → write.
//!
//! Articles are translated concurrently; each backend bounds its own requests in flight (see
//! `backend::dispatch`). Every result is committed to the cache the moment it arrives and every
//! article's files are written the moment it is done, so an interrupted run loses nothing and a
//! rerun picks up where it stopped. One failing article never stops the others: failures are
//! collected into `run.json`, and the exit code says whether there were any.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::article::{self, Article};
use crate::backend::dispatch::DispatchStats;
use crate::backend::Stage;
use crate::brief::{self, BriefArticle, BriefInput};
use crate::cache::Cache;
use crate::chunk::{self, Chunk, Sentence, TokenCounter};
use crate::fidelity::{self, glossary::Glossary};
use crate::fsutil;
use crate::names;
use crate::normalize::{self, Cleaned};
use crate::progress::Progress;
use crate::prompt::Template;
use crate::record::{
    ArticleRecord, BriefReport, CacheCounts, ChunkRecord, Counts, Ending, Failure, InputCounts,
    NamesReport, RunReport, StageBackend, Timings,
};
use crate::render;
use crate::settings::Settings;
use crate::stage::{Halt, Shared, StageRunner};
use crate::summarize::Summarizer;
use crate::translate::{Preceding, Translator};

/// A problem that stops the whole run before it starts (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("chunk.encoding: {0}")]
    Encoding(String),
    #[error(transparent)]
    Prompt(#[from] crate::prompt::PromptError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Write(#[from] fsutil::WriteError),
    #[error(transparent)]
    Glossary(#[from] crate::fidelity::glossary::GlossaryError),
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error("{0}")]
    Deadline(String),
    /// Another run holds the cache or the output folder.
    #[error(transparent)]
    Locked(#[from] crate::lock::LockError),
    /// Nothing to translate: every input was missing, empty or unreadable. Nothing is written,
    /// so an empty inbox (a scraper that failed) cannot replace last night's brief.
    #[error("no articles to translate, so nothing was written{}{}", left_alone(.out_exists), indented(.problems))]
    NoArticles {
        problems: Vec<String>,
        out_exists: bool,
    },
}

fn left_alone(out_exists: &bool) -> &'static str {
    if *out_exists {
        " (the outputs already in the output folder are left as they were)"
    } else {
        ""
    }
}

fn indented(lines: &[String]) -> String {
    lines.iter().map(|line| format!("\n  {line}")).collect()
}

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
    let mut inputs = read(&request, &*progress).await?;
    let articles = std::mem::take(&mut inputs.articles);
    let prepared = prepare_all(&settings, &opened.shared.counter, articles);
    let names_started = Instant::now();
    let stages = Stages::new(
        &settings,
        &opened.shared,
        (template, glossary),
        &prepared,
        &progress,
    )
    .await?;
    let names_ms = names_started.elapsed().as_millis();
    let prepare_ms = started.elapsed().as_millis();

    let articles_started = Instant::now();
    let translated = translate_all(&stages.context, prepared, &request.out).await;
    let articles_ms = articles_started.elapsed().as_millis();

    let brief_started = Instant::now();
    let mut failures = inputs.failures;
    failures.extend(translated.failures);
    let brief = write_brief(
        &request.out,
        partial(&opened.shared),
        translated.brief_articles,
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
        ending: ending(&opened.shared),
        inputs: request.inputs,
        out: request.out.clone(),
        stages: stages.backends(),
        articles: translated.article_counts,
        chunks: translated.chunk_counts,
        requests: stages.sum(|stats| &stats.requests),
        attempts: stages.sum(|stats| &stats.attempts),
        tokens_in: stages.sum(|stats| &stats.prompt_tokens),
        tokens_in_evaluated: stages.tokens_in_evaluated(),
        tokens_out: stages.sum(|stats| &stats.completion_tokens),
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
    fsutil::write_atomic(
        &request.out.join("run.json"),
        &render::json::pretty(&report),
    )?;
    Ok(report)
}

/// What the run holds from start to end: the cache, locked against a second run.
struct Opened {
    shared: Arc<Shared>,
    _cache_lock: crate::lock::RunLock,
}

/// Check the settings for a run, lock and open the cache, load the template and glossary, and
/// start the deadline's timer.
fn open(
    settings: &Settings,
    request: &RunRequest,
    progress: &Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<(Opened, Template, Glossary), RunError> {
    settings.check_for_run()?;
    let deadline = settings.run.deadline().map_err(RunError::Deadline)?;
    let counter = TokenCounter::new(&settings.chunk.encoding).map_err(RunError::Encoding)?;
    let template = Template::load(&settings.prompts.dir, "translate")?;
    let cache_lock = crate::lock::acquire(&[crate::lock::cache_lock_path(&settings.cache_path())])?;
    let cache = Cache::open(&settings.cache_path())?;
    let note_progress = progress.clone();
    let shared = Arc::new(Shared {
        retry_invalid: request.retry_invalid,
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
            tokio::time::sleep(deadline).await;
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

/// The night's articles, and what was wrong with the inputs that gave none.
struct Inputs {
    articles: Vec<Article>,
    /// Unreadable inputs (errors) and skipped ones (warnings: empty items, duplicates).
    failures: Vec<Failure>,
    warnings: Vec<Failure>,
    counts: InputCounts,
    _output_lock: crate::lock::RunLock,
}

/// Read every input (off the runtime), then lock and prepare the output folder. No article at
/// all is an error that writes nothing, so an empty inbox cannot replace last night's brief.
async fn read(request: &RunRequest, progress: &dyn Progress) -> Result<Inputs, RunError> {
    let (articles, input_errors) = {
        let inputs = request.inputs.clone();
        tokio::task::spawn_blocking(move || article::read_inputs(&inputs))
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
    let output_lock = crate::lock::acquire(&[crate::lock::output_lock_path(&request.out)])?;
    std::fs::create_dir_all(request.out.join("articles")).map_err(|source| {
        fsutil::WriteError::Io {
            path: request.out.join("articles"),
            source,
        }
    })?;
    fsutil::remove_stale_temporaries(&request.out.join("articles"));

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

/// The stages of the run, ready to ask: translate and summarize (shared by the articles), the
/// brief's two ways, and the names chosen before translating.
struct Stages {
    context: Arc<Context>,
    brief_runner: Option<StageRunner>,
    story_runner: Option<StageRunner>,
    names_report: Option<NamesReport>,
}

impl Stages {
    async fn new(
        settings: &Settings,
        shared: &Arc<Shared>,
        (template, glossary): (Template, Glossary),
        prepared: &[Prepared],
        progress: &Arc<dyn Progress>,
    ) -> Result<Stages, RunError> {
        let (glossary, names_report) =
            choose_names(settings, shared, prepared, glossary, &**progress).await?;
        let glossary = Arc::new(glossary);
        let translator = Translator {
            runner: StageRunner::new(
                Stage::Translate,
                &settings.stages.translate,
                settings,
                template,
                shared.clone(),
            ),
            plain: Some(crate::eval::plain_runner(settings, shared)),
            glossary: glossary.clone(),
            settings: settings.fidelity.clone(),
            counter: shared.counter.clone(),
        };
        let summarizer = Summarizer {
            runner: optional_runner(
                Stage::Summarize,
                &settings.stages.summarize,
                settings,
                shared,
            )?,
            glossary,
        };
        let context = Arc::new(Context {
            settings: settings.clone(),
            translator,
            summarizer,
            progress: progress.clone(),
        });
        Ok(Stages {
            context,
            brief_runner: optional_runner(Stage::Brief, &settings.stages.brief, settings, shared)?,
            story_runner: optional_runner(
                Stage::BriefStory,
                &settings.stages.brief,
                settings,
                shared,
            )?,
            names_report,
        })
    }

    /// What the brief stage is given.
    fn brief_input<'a>(
        &'a self,
        settings: &Settings,
        left_out: Vec<(String, String)>,
    ) -> BriefInput<'a> {
        BriefInput {
            runner: self.brief_runner.as_ref(),
            story_runner: self.story_runner.as_ref(),
            mode: settings.brief.mode,
            grouping: crate::brief::linkage::Limits {
                threshold: settings.brief.story_threshold,
                max_size: settings.brief.max_story_articles,
                window_days: settings.brief.window_days,
            },
            top_stories: settings.brief.top_stories,
            summaries_use_llm: self.context.summarizer.uses_llm(),
            left_out,
            glossary: &self.context.summarizer.glossary,
            progress: &*self.context.progress,
        }
    }

    fn runners(&self) -> [Option<&StageRunner>; 4] {
        [
            Some(&self.context.translator.runner),
            self.context.summarizer.runner.as_ref(),
            self.brief_runner.as_ref(),
            self.story_runner.as_ref(),
        ]
    }

    /// One counter summed over every backend of every stage.
    fn sum(&self, field: fn(&DispatchStats) -> &AtomicU64) -> u64 {
        self.runners()
            .into_iter()
            .flatten()
            .flat_map(|runner| runner.stats.iter())
            .map(|stats| field(stats).load(Ordering::Relaxed))
            .sum()
    }

    /// Prompt tokens evaluated: those sent, less those reused from a kept prefix.
    fn tokens_in_evaluated(&self) -> u64 {
        self.sum(|stats| &stats.prompt_tokens)
            .saturating_sub(self.sum(|stats| &stats.prompt_tokens_reused))
    }

    /// Each stage's backends with their counts, for run.json.
    fn backends(&self) -> BTreeMap<&'static str, Vec<StageBackend>> {
        let [translate, summarize, brief, story] = self.runners();
        BTreeMap::from([
            ("translate", runner_backends(translate)),
            ("summarize", runner_backends(summarize)),
            ("brief", runner_backends(brief)),
            ("brief-story", runner_backends(story)),
        ])
    }
}

/// What translating and summarizing every article gave.
#[derive(Default)]
struct Translated {
    brief_articles: Vec<BriefArticle>,
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
async fn translate_all(context: &Arc<Context>, prepared: Vec<Prepared>, out: &Path) -> Translated {
    let progress = &context.progress;
    let total_chunks = prepared.iter().map(|prepared| prepared.chunks.len()).sum();
    progress.begin(prepared.len(), total_chunks);
    if context.summarizer.uses_llm() {
        progress.stage_begin("summaries", prepared.len());
    }
    let mut done = Translated {
        article_counts: Counts {
            total: prepared.len() as u64,
            ..Counts::default()
        },
        chunk_counts: Counts {
            total: total_chunks as u64,
            ..Counts::default()
        },
        ..Translated::default()
    };
    let article_parallelism = context.translator.runner.concurrency() * 4;
    let mut records = stream::iter(prepared)
        .map(|prepared| {
            let context = context.clone();
            let out = out.to_path_buf();
            async move {
                let mut record = translate_article(&context, prepared).await;
                summarize_record(&context, &mut record).await;
                if context.summarizer.uses_llm() {
                    context.progress.stage_step("summaries");
                }
                write_article_off_runtime(out, record).await
            }
        })
        .buffer_unordered(article_parallelism.max(1));
    while let Some((record, written)) = records.next().await {
        done.count(&record, written, &**progress);
    }
    done
}

impl Translated {
    /// Count one finished article, and keep it for the brief unless it failed.
    fn count(
        &mut self,
        record: &ArticleRecord,
        written: Result<(), fsutil::WriteError>,
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
        match &record.error {
            None => self.brief_articles.push(brief_article(record)),
            Some(error) => self.left_out.push((record.id.clone(), error.clone())),
        }
        progress.article_done(&record.id, record.error.is_some());
    }
}

/// Why the brief is partial, when the run stopped early: a brief of half the night must not go
/// over last night's.
fn partial(shared: &Shared) -> Option<String> {
    if shared.cancel.is_cancelled() {
        Some("the run was interrupted".to_string())
    } else {
        shared.halted().map(|why| why.to_string())
    }
}

fn cache_counts(shared: &Shared) -> CacheCounts {
    CacheCounts {
        path: shared.cache.path().to_path_buf(),
        hits: shared.cache_hits.load(Ordering::Relaxed),
        misses: shared.cache_misses.load(Ordering::Relaxed),
    }
}

fn ending(shared: &Shared) -> Ending {
    if shared.cancel.is_cancelled() {
        return Ending::Interrupted;
    }
    match shared.halted() {
        Some(Halt::QuotaExhausted) => Ending::QuotaExhausted,
        Some(Halt::EndpointsDown) => Ending::EndpointsDown,
        Some(Halt::DeadlinePassed) => Ending::DeadlinePassed,
        None => Ending::Complete,
    }
}

fn prepare_all(
    settings: &Settings,
    counter: &TokenCounter,
    articles: Vec<Article>,
) -> Vec<Prepared> {
    articles
        .into_iter()
        .map(|article| prepare(settings, counter, article))
        .collect()
}

/// An article cleaned and chunked, ready to translate.
struct Prepared {
    article: Article,
    cleaned: Cleaned,
    sentences: Vec<Sentence>,
    chunks: Vec<Chunk>,
    flags: Vec<String>,
    error: Option<String>,
}

fn prepare(settings: &Settings, counter: &TokenCounter, article: Article) -> Prepared {
    let cleaned = normalize::clean(&article.text, &settings.normalize);
    let (sentences, mut chunks) =
        chunk::chunk_article(&cleaned.paragraphs, settings.chunk.max_tokens, counter);
    let mut flags = Vec::new();
    let ceiling = settings.chunk.max_per_article;
    if chunks.len() > ceiling {
        let translated_paragraphs = chunks[ceiling - 1].paragraph + 1;
        flags.push(format!(
            "too long: only the first {ceiling} of {} chunks (up to paragraph {translated_paragraphs} \
             of {}) are translated (chunk.max_per_article); the rest of the article is not",
            chunks.len(),
            cleaned.paragraphs.len()
        ));
        chunks.truncate(ceiling);
    }
    let letters = cleaned
        .paragraphs
        .iter()
        .flat_map(|paragraph| paragraph.chars())
        .filter(|c| c.is_alphabetic());
    let (arabic, all) = letters.fold((0usize, 0usize), |(arabic, all), c| {
        (
            arabic + usize::from(('\u{0600}'..='\u{06FF}').contains(&c)),
            all + 1,
        )
    });
    if all > 0 && arabic * 5 < all {
        flags.push(format!(
            "little Arabic text: {}% of letters are Arabic; the input may not be an Arabic article",
            arabic * 100 / all
        ));
    }
    if let Some(share) = persian_share(&cleaned.paragraphs) {
        flags.push(format!(
            "the text looks Persian or Urdu, not Arabic: letters Arabic does not use (پ چ ژ گ ک ی \
             ٹ ڈ ے) make {share}% of it; the translation and its checks assume Arabic"
        ));
    }
    let error = chunks.is_empty().then(|| {
        format!(
            "{}: no text left to translate after cleaning ({} lines dropped as boilerplate)",
            article.origin,
            cleaned.dropped.len()
        )
    });
    Prepared {
        article,
        cleaned,
        sentences,
        chunks,
        flags,
        error,
    }
}

/// Letters of the Persian and Urdu alphabets that Arabic does not use.
const NON_ARABIC_LETTERS: [char; 9] = ['پ', 'چ', 'ژ', 'گ', 'ک', 'ی', 'ٹ', 'ڈ', 'ے'];

/// The share (percent) of Persian or Urdu letters among the Arabic-script letters, when it is
/// large enough (2% or more, over at least 50 letters) to say the text is not Arabic. An Arabic
/// article quoting a Persian name stays well under it.
fn persian_share(paragraphs: &[String]) -> Option<usize> {
    let (other, script) = paragraphs
        .iter()
        .flat_map(|paragraph| paragraph.chars())
        .filter(|c| ('\u{0600}'..='\u{06FF}').contains(c) && c.is_alphabetic())
        .fold((0usize, 0usize), |(other, script), c| {
            (
                other + usize::from(NON_ARABIC_LETTERS.contains(&c)),
                script + 1,
            )
        });
    (script >= 50 && other * 50 >= script).then(|| other * 100 / script)
}

async fn translate_article(context: &Context, prepared: Prepared) -> ArticleRecord {
    let started = Instant::now();
    let Prepared {
        article,
        cleaned,
        sentences,
        chunks,
        flags,
        error,
    } = prepared;
    let title = article
        .title
        .clone()
        .map(|title| normalize::normalize_text(&title, &context.settings.normalize));
    let work = ArticleWork::new(context, started);
    let title_future = async {
        match &title {
            Some(title) if !title.is_empty() && error.is_none() => work
                .translate(title.clone(), None)
                .await
                .map(|done| Some((done.answer.text, done.flags))),
            _ => Ok(None),
        }
    };
    let chunks_done = work.chunks(chunks);
    let (title_en, chunk_records) = tokio::join!(title_future, chunks_done);
    // A title that failed to translate fails the article like a chunk would: the page would
    // otherwise go out with an Arabic heading and no one told. A rerun asks for it again.
    let (title_en, title_flags, title_error) = match title_en {
        Ok(Some((title_en, flags))) => (Some(title_en), flags, None),
        Ok(None) => (None, Vec::new(), None),
        Err(title_error) => (None, Vec::new(), Some(format!("title: {title_error}"))),
    };

    let error = error.or(title_error).or_else(|| {
        chunk_records.iter().find_map(|record| {
            record
                .error
                .as_ref()
                .map(|error| format!("chunk {}: {error}", record.chunk.index))
        })
    });
    article_record(Translation {
        article,
        title,
        title_en,
        title_flags,
        error,
        flags,
        cleaned,
        sentences,
        chunk_records,
        started,
    })
}

/// Translating one article's title and chunks, each bounded by the article's time ceiling
/// (`run.article_timeout_s`).
struct ArticleWork<'a> {
    context: &'a Context,
    deadline: Option<tokio::time::Instant>,
}

impl<'a> ArticleWork<'a> {
    fn new(context: &'a Context, started: Instant) -> ArticleWork<'a> {
        let ceiling = context.settings.run.article_timeout_s;
        let deadline = (ceiling > 0).then(|| {
            tokio::time::Instant::from_std(started) + std::time::Duration::from_secs(ceiling)
        });
        ArticleWork { context, deadline }
    }

    /// One translation, bounded by the article's time ceiling.
    async fn translate(
        &self,
        text: String,
        preceding: Option<Preceding>,
    ) -> Result<crate::translate::Checked, String> {
        let translating = self.context.translator.translate(&text, preceding.as_ref());
        let Some(deadline) = self.deadline else {
            return translating.await;
        };
        tokio::time::timeout_at(deadline, translating)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "not done: the article's time ceiling (run.article_timeout_s = {}) \
                     passed; what was done is cached, and a rerun continues",
                    self.context.settings.run.article_timeout_s
                ))
            })
    }

    async fn chunk(&self, chunk: Chunk, preceding: Option<Preceding>) -> ChunkRecord {
        let chunk_started = Instant::now();
        let outcome = self.translate(chunk.text.clone(), preceding).await;
        self.context.progress.chunk_done(
            chunk.tokens,
            matches!(&outcome, Ok(done) if done.answer.cached),
        );
        chunk_record(chunk, outcome, chunk_started)
    }

    /// With context from the chunk before (chunk.context_chars), an article's chunks go in
    /// order, each after the one it follows; without, all at once.
    async fn chunks(&self, chunks: Vec<Chunk>) -> Vec<ChunkRecord> {
        let context_chars = self.context.settings.chunk.context_chars;
        if context_chars == 0 {
            return futures::future::join_all(chunks.into_iter().map(|c| self.chunk(c, None)))
                .await;
        }
        let mut records: Vec<ChunkRecord> = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let preceding = records.last().and_then(|before| {
                before
                    .translation
                    .as_deref()
                    .map(|english| Preceding::new(&before.chunk.text, english, context_chars))
            });
            records.push(self.chunk(chunk, preceding).await);
        }
        records
    }
}

/// One chunk's record from what translating it gave.
fn chunk_record(
    chunk: Chunk,
    outcome: Result<crate::translate::Checked, String>,
    started: Instant,
) -> ChunkRecord {
    let mut record = ChunkRecord {
        chunk,
        translation: None,
        backend: None,
        cached: false,
        duration_ms: 0,
        error: None,
        flags: Vec::new(),
        attempts: Vec::new(),
        kept: None,
    };
    match outcome {
        Ok(done) => {
            record.translation = Some(done.answer.text);
            record.backend = Some(done.answer.backend);
            record.cached = done.answer.cached;
            record.flags = done.flags;
            record.kept = (!done.attempts.is_empty()).then_some(done.kept);
            record.attempts = done.attempts;
        }
        Err(error) => record.error = Some(error),
    }
    record.duration_ms = started.elapsed().as_millis();
    record
}

/// An article as translated, before its record is written.
struct Translation {
    article: Article,
    title: Option<String>,
    title_en: Option<String>,
    title_flags: Vec<fidelity::Flag>,
    /// The first error (the article's own, its title's, or a chunk's); none when it succeeded.
    error: Option<String>,
    flags: Vec<String>,
    cleaned: Cleaned,
    sentences: Vec<Sentence>,
    chunk_records: Vec<ChunkRecord>,
    started: Instant,
}

/// The article's record: its English (when every part translated), confidence and counts.
fn article_record(done: Translation) -> ArticleRecord {
    let chunk_records = done.chunk_records;
    let translation = if done.error.is_none() {
        assemble(&done.cleaned, &chunk_records)
    } else {
        Vec::new()
    };
    let confidence = fidelity::confidence(
        chunk_records
            .iter()
            .map(|record| (record.chunk.tokens, record.flags.as_slice())),
    );
    let flagged_chunks = chunk_records
        .iter()
        .filter(|record| !record.flags.is_empty())
        .count();
    let flag_count = done.title_flags.len()
        + chunk_records
            .iter()
            .map(|record| record.flags.len())
            .sum::<usize>();
    let cache_hits = chunk_records.iter().filter(|record| record.cached).count() as u64;
    let requests = chunk_records
        .iter()
        .filter(|record| record.translation.is_some() && !record.cached)
        .count() as u64;
    let article = done.article;
    ArticleRecord {
        id: article.id,
        origin: article.origin,
        title: done.title,
        title_en: done.title_en,
        source: article.source,
        url: article.url,
        published: article.published,
        encoding: article.encoding,
        status: if done.error.is_none() { "ok" } else { "failed" },
        error: done.error,
        confidence,
        confidence_label: fidelity::confidence_label(confidence),
        flagged_chunks,
        flag_count,
        title_flags: done.title_flags,
        flags: done.flags,
        cleaned: done.cleaned,
        sentences: done.sentences,
        chunks: chunk_records,
        translation,
        summary: None,
        summary_error: None,
        cache_hits,
        requests,
        duration_ms: done.started.elapsed().as_millis(),
    }
}

/// English paragraphs in source order: each paragraph's chunks joined with a space.
fn assemble(cleaned: &Cleaned, chunks: &[ChunkRecord]) -> Vec<String> {
    let mut paragraphs = vec![String::new(); cleaned.paragraphs.len()];
    for record in chunks {
        if let (Some(text), Some(paragraph)) = (
            &record.translation,
            paragraphs.get_mut(record.chunk.paragraph),
        ) {
            if !paragraph.is_empty() {
                paragraph.push(' ');
            }
            paragraph.push_str(text.trim());
        }
    }
    paragraphs.retain(|paragraph| !paragraph.is_empty());
    paragraphs
}

/// [`write_article`] on a blocking thread. It syncs two files to disk, and every article future
/// is polled by the one task that runs the stream: writing inline stalled all the others (and
/// their requests) for each fsync, which made a 5,000-article run several times slower.
async fn write_article_off_runtime(
    out: PathBuf,
    record: ArticleRecord,
) -> (ArticleRecord, Result<(), fsutil::WriteError>) {
    let writing = tokio::task::spawn_blocking(move || {
        let written = write_article(&out, &record);
        (record, written)
    });
    match writing.await {
        Ok(done) => done,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Write `articles/<id>.json` always, and `articles/<id>.en.md` when the article succeeded.
fn write_article(out: &Path, record: &ArticleRecord) -> Result<(), fsutil::WriteError> {
    let folder = out.join("articles");
    let json_path = fsutil::join_inside(&folder, &format!("{}.json", record.id))?;
    fsutil::write_atomic(&json_path, &render::json::pretty(record))?;
    let md_path = fsutil::join_inside(&folder, &format!("{}.en.md", record.id))?;
    if record.error.is_none() {
        fsutil::write_atomic(&md_path, render::markdown::article(record).as_bytes())?;
    } else if md_path.exists() {
        // A stale translation from an earlier run must not pass for this run's output.
        let _ = std::fs::remove_file(&md_path);
    }
    Ok(())
}

// ---- Names --------------------------------------------------------------------------------

/// Ask for every article's names, choose one spelling each, remember the choices, and return
/// the glossary extended with them. Without a names stage (or with only MT APIs) the glossary
/// comes back as it was.
async fn choose_names(
    settings: &Settings,
    shared: &Arc<Shared>,
    prepared: &[Prepared],
    glossary: Glossary,
    progress: &dyn Progress,
) -> Result<(Glossary, Option<NamesReport>), RunError> {
    let runner = optional_runner(Stage::Names, &settings.stages.names, settings, shared)?;
    let Some(runner) = runner.filter(|runner| runner.is_llm() && settings.fidelity.checks) else {
        return Ok((glossary, None));
    };
    let asked: Vec<&Prepared> = prepared.iter().filter(|p| p.error.is_none()).collect();
    progress.note(&format!(
        "names: asking for the names in {} article(s) before translating",
        asked.len()
    ));
    let answers = stream::iter(asked.iter().map(|prepared| {
        let runner = &runner;
        async move { names::propose(runner, &prepared.cleaned.paragraphs).await }
    }))
    .buffered(runner.concurrency().max(1))
    .collect::<Vec<_>>()
    .await;
    let mut failed = 0;
    let mut proposals = Vec::new();
    for (prepared, answer) in asked.iter().zip(answers) {
        match answer {
            Ok(names) => proposals.push((names, prepared.cleaned.paragraphs.as_slice())),
            Err(error) => {
                failed += 1;
                progress.note(&format!(
                    "warning: article {}: names: {error}; it is translated with the glossary alone",
                    prepared.article.id
                ));
            }
        }
    }
    let stored = shared.cache.names()?;
    let chosen = names::reconcile(&proposals, &stored, &glossary);
    names::remember(&shared.cache, &chosen)?;
    let report = NamesReport {
        articles: asked.len(),
        failed,
        chosen: chosen.len(),
        from_table: chosen.iter().filter(|name| name.from != "run").count(),
        respelled: chosen
            .iter()
            .filter(|name| !name.other_spellings.is_empty())
            .count(),
        requests: runner.requests(),
    };
    progress.note(&format!(
        "names: {} chosen ({} from the name table, {} proposed with several spellings)",
        report.chosen, report.from_table, report.respelled
    ));
    Ok((glossary.with(names::entries(&chosen)), Some(report)))
}

// ---- Summaries and the combined brief -------------------------------------------------------
//
// Everything after translation lives in this block: the per-article summary (before the
// article's files are written), the compact record the brief keeps of each article, and writing
// brief.{json,md,html} at the end. A failed summary never fails its article (the extractive
// fallback is used and the error is kept in the article's JSON); a brief that cannot be written
// is the run's failure, but the articles are already on disk.

/// The runner for a stage with an optional backend list (`None` when it names none).
fn optional_runner(
    stage: Stage,
    names: &[String],
    settings: &Settings,
    shared: &Arc<Shared>,
) -> Result<Option<StageRunner>, RunError> {
    if names.is_empty() {
        return Ok(None);
    }
    let template = Template::load(&settings.prompts.dir, stage.as_str())?;
    Ok(Some(StageRunner::new(
        stage,
        names,
        settings,
        template,
        shared.clone(),
    )))
}

/// The run.json entries for a stage's backends.
fn runner_backends(runner: Option<&StageRunner>) -> Vec<StageBackend> {
    let Some(runner) = runner else {
        return Vec::new();
    };
    runner
        .chain
        .iter()
        .zip(&runner.stats)
        .map(|(dispatcher, stats)| StageBackend {
            backend: dispatcher.name.clone(),
            kind: dispatcher.settings.kind(),
            model: dispatcher.settings.model_name(),
            requests: stats.requests.load(Ordering::Relaxed),
            attempts: stats.attempts.load(Ordering::Relaxed),
            failures: stats.failures.load(Ordering::Relaxed),
            tokens_in: stats.prompt_tokens.load(Ordering::Relaxed),
            tokens_in_evaluated: stats
                .prompt_tokens
                .load(Ordering::Relaxed)
                .saturating_sub(stats.prompt_tokens_reused.load(Ordering::Relaxed)),
            tokens_out: stats.completion_tokens.load(Ordering::Relaxed),
        })
        .collect()
}

/// Summarize a translated article in place; a failed article is left without a summary.
async fn summarize_record(context: &Context, record: &mut ArticleRecord) {
    if record.error.is_some() || record.translation.is_empty() {
        return;
    }
    let (summary, error) = context
        .summarizer
        .summarize(&record.id, &record.translation)
        .await;
    record.summary = Some(summary);
    record.summary_error = error;
}

fn note_summary(record: &ArticleRecord, counts: &mut Counts, progress: &dyn Progress) {
    if record.summary.is_none() {
        return;
    }
    counts.total += 1;
    match &record.summary_error {
        None => counts.succeeded += 1,
        Some(error) => {
            counts.failed += 1;
            progress.note(&format!("warning: {error}; an extractive summary was used"));
        }
    }
}

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
    }
}

/// Build the brief and write brief.json, brief.md and brief.html. A file that cannot be written
/// is a failure of the run; the others are still written.
/// Build the brief and write it: `brief.{json,md,html}` after a complete run. After a run that
/// stopped early (`partial` says why) it goes to `brief.partial.*`, marked so at its top, and
/// the previous night's `brief.*` stay as they were; a complete run removes stale partial ones.
async fn write_brief(
    out: &Path,
    partial: Option<String>,
    articles: Vec<BriefArticle>,
    input: BriefInput<'_>,
    failures: &mut Vec<Failure>,
    progress: &dyn Progress,
) -> Option<BriefReport> {
    let mut brief = brief::build(articles, input).await;
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
    let outputs: [(String, Vec<u8>); 3] = [
        (format!("{stem}.json"), render::json::pretty(&brief)),
        (
            format!("{stem}.md"),
            render::brief_md::brief(&brief).into_bytes(),
        ),
        (
            format!("{stem}.html"),
            render::html::page(&brief).into_bytes(),
        ),
    ];
    if partial.is_none() {
        for extension in ["json", "md", "html"] {
            let _ = std::fs::remove_file(out.join(format!("brief.partial.{extension}")));
        }
    }
    let mut files = Vec::new();
    for (name, contents) in outputs {
        match fsutil::write_atomic(&out.join(&name), &contents) {
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
    Some(BriefReport {
        method: brief.method.clone(),
        stories: brief.stories.len(),
        more_stories: brief.more_stories.len(),
        single_reports: brief.single_reports.iter().map(|r| r.articles.len()).sum(),
        largest_story: brief
            .stories
            .iter()
            .map(|story| story.articles.len())
            .chain(brief.more_stories.iter().map(|line| line.articles.len()))
            .max()
            .unwrap_or(0),
        articles: brief.articles.len(),
        wire_copy_groups: brief.wire_copy.len(),
        dropped_citations: brief.dropped_citations.len(),
        files,
        notes: brief.notes.clone(),
        causes: brief.causes.clone(),
    })
}
