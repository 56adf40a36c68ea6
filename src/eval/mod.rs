//! `tarjim eval`: translate a parallel test set through the configured translate stage and
//! score it against the references with sacreBLEU's chrF, chrF++ and BLEU ([`metrics`]).
//!
//! Two modes, so the pipeline's own additions can be judged: `pipeline` translates each line as
//! a chunk the way `tarjim run` does (the translate templates, glossary names in the prompt, the
//! fidelity checks, and repairs of flagged lines); `plain` asks the same backend with a minimal
//! prompt, one line at a time, and nothing else. Both count what the checks flag, and both go
//! through the result cache, so a second evaluation of the same set is free.

pub mod metrics;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::backend::Stage;
use crate::cache::Cache;
use crate::chunk::TokenCounter;
use crate::fidelity::FidelitySettings;
use crate::fidelity::{glossary::Glossary, Flag};
use crate::normalize;
use crate::progress::Progress;
use crate::prompt::Template;
use crate::settings::Settings;
use crate::stage::{Shared, StageRunner};
use crate::translate::{Preceding, Translator, PLAIN_SYSTEM, PLAIN_USER};

/// How to translate the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The run's translate stage: templates, glossary, checks and repairs.
    Pipeline,
    /// A minimal prompt, one line at a time, no glossary and no repairs.
    Plain,
}

/// What to evaluate.
pub struct EvalRequest {
    pub source: PathBuf,
    pub reference: PathBuf,
    pub doc_ids: Option<PathBuf>,
    pub mode: Mode,
    /// Only the first N lines (0: all).
    pub limit: usize,
    /// Where to write `eval.json` and `hypotheses.txt` (none: nothing is written).
    pub out: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file cannot be read or written; the error names it (fs-err).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{source_path} has {sources} lines but {reference_path} has {references}; a parallel set needs one reference per source line")]
    Mismatch {
        source_path: PathBuf,
        sources: usize,
        reference_path: PathBuf,
        references: usize,
    },
    #[error("{0} has no lines to evaluate")]
    Empty(PathBuf),
    #[error("chunk.encoding: {0}")]
    Encoding(String),
    #[error("stages.translate names no backend")]
    NoBackend,
    #[error(transparent)]
    Prompt(#[from] crate::prompt::PromptError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Glossary(#[from] crate::fidelity::glossary::GlossaryError),
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
}

/// One line's outcome.
#[derive(Debug, Serialize)]
pub struct Line {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    pub source: String,
    pub reference: String,
    pub hypothesis: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// Which translation was kept when the first was flagged (pipeline mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The scores and counts (`eval.json` without the lines, and what is printed).
#[derive(Debug, Serialize)]
pub struct EvalReport {
    pub mode: Mode,
    pub source: PathBuf,
    pub reference: PathBuf,
    pub lines: usize,
    pub documents: usize,
    pub backend: String,
    pub model: String,
    pub chrf: f64,
    pub chrf_plus_plus: f64,
    pub bleu: f64,
    pub bleu_detail: metrics::Bleu,
    /// Lines with at least one flag, and flags by kind.
    pub flagged_lines: usize,
    pub flags: BTreeMap<&'static str, usize>,
    /// How many lines kept each kind of attempt (pipeline mode).
    pub kept: BTreeMap<&'static str, usize>,
    pub failed_lines: usize,
    pub requests: u64,
    pub cache_hits: u64,
    pub duration_ms: u128,
}

/// Translate and score the set.
pub async fn run(
    settings: &Settings,
    request: &EvalRequest,
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<(EvalReport, Vec<Line>), EvalError> {
    let started = Instant::now();
    let (sources, references, docs) = read_set(request)?;
    let translator = Arc::new(translator(
        settings,
        request.mode,
        progress.clone(),
        cancel,
    )?);
    let documents = docs
        .iter()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    // Lines left per document, so the progress counts documents as they finish.
    let remaining = std::sync::Mutex::new(lines_per_document(&docs));
    let remaining = &remaining;
    progress.begin(documents.max(1), sources.len());
    let concurrency = translator.runner.concurrency().max(1) * 2;
    let normalize_settings = settings.normalize.clone();
    // With context from the line before (chunk.context_chars, pipeline mode), a document's
    // lines go in order, each after the one it follows, as an article's chunks do in a run;
    // documents (and lines without one) go in parallel.
    let context_chars = match request.mode {
        Mode::Pipeline => settings.chunk.context_chars,
        Mode::Plain => 0,
    };
    let groups = line_groups(sources, references, docs, context_chars);
    let mut lines: Vec<Line> = stream::iter(groups)
        .map(|group| {
            let translator = translator.clone();
            let progress = progress.clone();
            let normalize_settings = &normalize_settings;
            async move {
                let mut done: Vec<Line> = Vec::with_capacity(group.len());
                let mut preceding: Option<Preceding> = None;
                for (index, source, reference, doc) in group {
                    let text = normalize::normalize_text(&source, normalize_settings);
                    let outcome = translator.translate(&text, preceding.as_ref()).await;
                    preceding = match &outcome {
                        Ok(checked) if context_chars > 0 => {
                            Some(Preceding::new(&text, &checked.answer.text, context_chars))
                        }
                        _ => None,
                    };
                    let tokens = translator.counter.count(&text);
                    progress.chunk_done(tokens, matches!(&outcome, Ok(done) if done.answer.cached));
                    if let Some(doc) = &doc {
                        let mut counts = remaining.lock().unwrap_or_else(|p| p.into_inner());
                        if counts.get_mut(doc).is_some_and(|left| {
                            *left -= 1;
                            *left == 0
                        }) {
                            progress.article_done(doc, false);
                        }
                    }
                    done.push(scored_line((index, source, reference, doc), outcome));
                }
                done
            }
        })
        .buffer_unordered(concurrency)
        .flat_map(stream::iter)
        .collect()
        .await;
    progress.finish();
    lines.sort_by_key(|line| line.index);
    let report = score(settings, request, &translator, &lines, documents, started);
    if let Some(out) = &request.out {
        write_outputs(out, &report, &lines)?;
    }
    Ok((report, lines))
}

/// One line of the set: its index, source, reference and document id.
type SetLine = (usize, String, String, Option<String>);

/// Source lines, reference lines and document ids (when given), same length.
type ParallelSet = (Vec<String>, Vec<String>, Vec<Option<String>>);

/// The source, reference and document-id lines, checked to be parallel.
fn read_set(request: &EvalRequest) -> Result<ParallelSet, EvalError> {
    let read = |path: &Path| -> Result<Vec<String>, EvalError> {
        let text = fs_err::read_to_string(path)?;
        Ok(text
            .lines()
            .map(|line| line.trim_end_matches('\r').to_string())
            .collect())
    };
    let mut sources = read(&request.source)?;
    let mut references = read(&request.reference)?;
    if sources.len() != references.len() {
        return Err(EvalError::Mismatch {
            source_path: request.source.clone(),
            sources: sources.len(),
            reference_path: request.reference.clone(),
            references: references.len(),
        });
    }
    let mut docs: Vec<Option<String>> = match &request.doc_ids {
        Some(path) => {
            let ids = read(path)?;
            if ids.len() != sources.len() {
                return Err(EvalError::Mismatch {
                    source_path: request.source.clone(),
                    sources: sources.len(),
                    reference_path: path.clone(),
                    references: ids.len(),
                });
            }
            ids.into_iter().map(Some).collect()
        }
        None => vec![None; sources.len()],
    };
    if request.limit > 0 {
        sources.truncate(request.limit);
        references.truncate(request.limit);
        docs.truncate(request.limit);
    }
    if sources.iter().all(|line| line.trim().is_empty()) {
        return Err(EvalError::Empty(request.source.clone()));
    }
    Ok((sources, references, docs))
}

/// The translate stage for `mode`.
fn translator(
    settings: &Settings,
    mode: Mode,
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<Translator, EvalError> {
    if settings.stages.translate.is_empty() {
        return Err(EvalError::NoBackend);
    }
    let counter = TokenCounter::new(&settings.chunk.encoding).map_err(EvalError::Encoding)?;
    let cache = Cache::open(&settings.cache_path())?;
    let shared = Arc::new(Shared::new(
        cache,
        counter.clone(),
        cancel,
        Box::new(move |text| progress.note(text)),
    ));
    // Pipeline: the run's templates, with the minimal prompt as its last resort; plain: the
    // minimal prompt alone, no glossary and no repairs.
    let (runner, plain, fidelity) = match mode {
        Mode::Pipeline => (
            StageRunner::new(
                Stage::Translate,
                &settings.stages.translate,
                settings,
                Template::load(&settings.prompts.dir, "translate")?,
                shared.clone(),
            ),
            Some(plain_runner(settings, &shared)),
            settings.fidelity.clone(),
        ),
        Mode::Plain => (
            plain_runner(settings, &shared),
            None,
            FidelitySettings {
                repair: false,
                glossary_in_prompt: false,
                ..settings.fidelity.clone()
            },
        ),
    };
    Ok(Translator {
        runner,
        plain,
        glossary: Arc::new(Glossary::load(&settings.fidelity.glossary)?),
        settings: fidelity,
        counter,
    })
}

/// The translate backends with the minimal prompt.
pub fn plain_runner(settings: &Settings, shared: &Arc<Shared>) -> StageRunner {
    StageRunner::new(
        Stage::Translate,
        &settings.stages.translate,
        settings,
        Template {
            system: PLAIN_SYSTEM.into(),
            user: PLAIN_USER.into(),
        },
        shared.clone(),
    )
}

/// How many lines each document has.
fn lines_per_document(docs: &[Option<String>]) -> BTreeMap<String, usize> {
    let mut lines: BTreeMap<String, usize> = BTreeMap::new();
    for doc in docs.iter().flatten() {
        *lines.entry(doc.clone()).or_default() += 1;
    }
    lines
}

/// The set's lines in groups that go one after the other: with context from the line before,
/// one group per document (in order); without, one line per group.
fn line_groups(
    sources: Vec<String>,
    references: Vec<String>,
    docs: Vec<Option<String>>,
    context_chars: usize,
) -> Vec<Vec<SetLine>> {
    let mut groups: Vec<Vec<SetLine>> = Vec::new();
    let mut group_of: BTreeMap<String, usize> = BTreeMap::new();
    for (index, ((source, reference), doc)) in
        sources.into_iter().zip(references).zip(docs).enumerate()
    {
        let line = (index, source, reference, doc.clone());
        match doc.filter(|_| context_chars > 0) {
            Some(doc) => {
                let group = *group_of.entry(doc).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[group].push(line);
            }
            None => groups.push(vec![line]),
        }
    }
    groups
}

/// One line of the set with its translation (or why there is none).
fn scored_line(
    (index, source, reference, doc): SetLine,
    outcome: Result<crate::translate::Checked, crate::translate::TranslateError>,
) -> Line {
    let mut line = Line {
        index: index + 1,
        doc,
        source,
        reference,
        hypothesis: String::new(),
        flags: Vec::new(),
        kept: None,
        error: None,
    };
    match outcome {
        Ok(checked) => {
            line.hypothesis = checked.answer.text.trim().replace('\n', " ");
            line.flags = checked.flags;
            line.kept = (!checked.attempts.is_empty()).then_some(checked.kept);
        }
        Err(error) => line.error = Some(error.to_string()),
    }
    line
}

fn score(
    settings: &Settings,
    request: &EvalRequest,
    translator: &Translator,
    lines: &[Line],
    documents: usize,
    started: Instant,
) -> EvalReport {
    let hypotheses: Vec<&str> = lines.iter().map(|line| line.hypothesis.as_str()).collect();
    let references: Vec<&str> = lines.iter().map(|line| line.reference.as_str()).collect();
    let chrf = metrics::chrf(&hypotheses, &references).unwrap_or(0.0);
    let chrf_plus_plus = metrics::chrf_plus_plus(&hypotheses, &references).unwrap_or(0.0);
    let bleu = metrics::bleu(&hypotheses, &references).unwrap_or_default();
    let mut flags = BTreeMap::new();
    let mut kept = BTreeMap::new();
    for line in lines {
        for flag in &line.flags {
            *flags.entry(flag.kind.as_str()).or_insert(0) += 1;
        }
        if let Some(how) = line.kept {
            *kept.entry(how).or_insert(0) += 1;
        }
    }
    let backend = settings
        .stages
        .translate
        .first()
        .cloned()
        .unwrap_or_default();
    let model = settings
        .backend(&backend)
        .map(crate::backend::BackendSettings::model_name)
        .unwrap_or_default();
    EvalReport {
        mode: request.mode,
        source: request.source.clone(),
        reference: request.reference.clone(),
        lines: lines.len(),
        documents,
        backend,
        model,
        chrf: round2(chrf),
        chrf_plus_plus: round2(chrf_plus_plus),
        bleu: round2(bleu.score),
        bleu_detail: bleu,
        flagged_lines: lines.iter().filter(|line| !line.flags.is_empty()).count(),
        flags,
        kept,
        failed_lines: lines.iter().filter(|line| line.error.is_some()).count(),
        requests: translator.runner.requests(),
        cache_hits: translator.runner.cache_hits(),
        duration_ms: started.elapsed().as_millis(),
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn write_outputs(out: &Path, report: &EvalReport, lines: &[Line]) -> Result<(), EvalError> {
    fs_err::create_dir_all(out)?;
    let document = serde_json::json!({ "report": report, "lines": lines });
    crate::fsutil::write_atomic(
        &out.join("eval.json"),
        &crate::render::json::pretty(&document),
    )?;
    let hypotheses: String = lines
        .iter()
        .map(|line| format!("{}\n", line.hypothesis))
        .collect();
    crate::fsutil::write_atomic(&out.join("hypotheses.txt"), hypotheses.as_bytes())?;
    Ok(())
}

/// The report as a few lines for a terminal.
pub fn summary_text(report: &EvalReport) -> String {
    let flags: Vec<String> = report
        .flags
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    let kept: Vec<String> = report
        .kept
        .iter()
        .map(|(how, count)| format!("{how} {count}"))
        .collect();
    format!(
        "eval ({:?}, {} lines, {} documents, {} / {}):\n  chrF {:.2}  chrF++ {:.2}  BLEU {:.2}\n  flagged lines {} of {} ({})\n  repairs kept: {}\n  failed lines {}; {} requests, {} cache hits, {:.1} s\n",
        report.mode,
        report.lines,
        report.documents,
        report.backend,
        report.model,
        report.chrf,
        report.chrf_plus_plus,
        report.bleu,
        report.flagged_lines,
        report.lines,
        if flags.is_empty() { "none".to_string() } else { flags.join(", ") },
        if kept.is_empty() { "none".to_string() } else { kept.join(", ") },
        report.failed_lines,
        report.requests,
        report.cache_hits,
        report.duration_ms as f64 / 1000.0
    )
}
