//! What a run writes about itself and its articles: `run.json` ([`RunReport`]) and
//! `articles/<id>.json` ([`ArticleRecord`]). The pipeline fills these in; the renderers and
//! anything else that reads a run's outputs depend on this module, not on the pipeline.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::chunk::{Chunk, Sentence};
use crate::fidelity::Flag;
use crate::normalize::Cleaned;
use crate::summarize::Summary;
use crate::translate::Attempt;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    Complete,
    /// Ctrl-C: no new requests were sent after it.
    Interrupted,
    /// A backend said the account is out of quota; no new requests were sent after it.
    QuotaExhausted,
    /// Every backend of a stage had its circuit breaker open (dead or refusing endpoints); no
    /// new requests were sent after it.
    EndpointsDown,
    /// The run's deadline (`run.deadline`, `--deadline`) passed; no new requests were sent
    /// after it.
    DeadlinePassed,
    /// The answers cost `--max-cost`; no new requests were sent after it.
    CostCapReached,
}

/// One failure, for run.json and the summary on stderr.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Article id, or the input path when the input could not be read.
    pub article: String,
    pub error: String,
}

/// The run's outcome, written to run.json.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub tarjim_version: &'static str,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u128,
    pub timings: Timings,
    /// The process's peak resident memory so far, in MiB (Linux; absent elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<u64>,
    pub ending: Ending,
    pub inputs: Vec<String>,
    pub out: PathBuf,
    pub stages: BTreeMap<&'static str, Vec<StageBackend>>,
    /// Per backend, each endpoint's share of the run (attempts, failures, whether its circuit
    /// breaker was open at the end): the backend's own URL, then its replicas.
    pub endpoints: BTreeMap<String, Vec<crate::backend::dispatch::EndpointShare>>,
    pub articles: Counts,
    pub chunks: Counts,
    pub requests: u64,
    pub attempts: u64,
    /// Prompt tokens sent; of those, the ones evaluated (the rest were reused from a kept
    /// prefix); generated tokens. Per stage and backend under `stages`.
    pub tokens_in: u64,
    pub tokens_in_evaluated: u64,
    pub tokens_out: u64,
    /// What the answers cost at the backends' prices (`[backends.<name>.price]`; 0 without);
    /// per stage and backend under `stages`, per endpoint under `endpoints`.
    pub cost: f64,
    /// Batch mode and estimates: the requests left for a batch job, by stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchReport>,
    pub cache: CacheCounts,
    pub failures: Vec<Failure>,
    /// Feed noise skipped without failing the run: empty items, second copies of an article
    /// from the same outlet.
    pub warnings: Vec<Failure>,
    /// What the inputs held: articles read, inputs that could not be read (failures), and
    /// inputs skipped as noise (warnings).
    pub input_counts: InputCounts,
    /// Source lines left out by cleaning, by reason ("caption", "boilerplate", "latin-line");
    /// each article page lists its own.
    pub dropped_lines: BTreeMap<String, u64>,
    /// Per-article summaries: succeeded counts summaries from the configured stage (LLM or
    /// extractive by configuration); failed counts LLM summaries that fell back to extractive.
    pub summaries: Counts,
    /// The combined brief (absent when the run stopped before it).
    pub brief: Option<BriefReport>,
    /// The names stage (absent when it is not configured).
    pub names: Option<NamesReport>,
    pub config: serde_json::Value,
}

/// Where the run's time went, in milliseconds.
#[derive(Debug, Serialize)]
pub struct Timings {
    /// Reading, cleaning and chunking every input.
    pub prepare_ms: u128,
    /// Asking for every article's names and choosing one spelling each.
    pub names_ms: u128,
    /// Translating, summarizing and writing the articles.
    pub articles_ms: u128,
    /// Building and writing the brief.
    pub brief_ms: u128,
}

#[derive(Debug, Default, Serialize)]
pub struct InputCounts {
    pub articles: u64,
    pub unreadable: u64,
    pub skipped: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

#[derive(Debug, Serialize)]
pub struct CacheCounts {
    pub path: PathBuf,
    pub hits: u64,
    pub misses: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageBackend {
    pub backend: String,
    pub kind: &'static str,
    pub model: String,
    pub requests: u64,
    pub attempts: u64,
    pub failures: u64,
    /// Prompt tokens sent, and of those the ones the backend evaluated (not reused from an
    /// earlier request's prefix); generated tokens.
    pub tokens_in: u64,
    pub tokens_in_evaluated: u64,
    pub tokens_out: u64,
    pub cost: f64,
    /// How JSON answers were asked for at the end of the run (chat endpoints that were used):
    /// `json_schema`, `json_object` or `prompt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured: Option<&'static str>,
}

/// What a run would send.
#[derive(Debug, Default, Serialize)]
pub struct Estimate {
    pub articles: u64,
    pub chunks: u64,
    /// Requests the cache already answers (cost 0).
    pub cached: u64,
    pub requests: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub characters: u64,
    /// Without repairs: the least the run will cost.
    pub cost: f64,
    /// With repairs at the default model's rate on the samples.
    pub cost_with_repairs: f64,
    /// Seconds at the configured rate limits (or the embedded engine's measured speed); none
    /// when a backend has neither.
    pub seconds: Option<f64>,
    pub stages: Vec<StageEstimate>,
    pub notes: Vec<String>,
}

/// One stage on one backend.
#[derive(Debug, Default, Clone, Serialize)]
pub struct StageEstimate {
    pub stage: &'static str,
    pub backend: String,
    pub requests: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub characters: u64,
    pub cost: f64,
    /// Counted from requests formed now (false: projected, their inputs do not exist yet).
    pub exact: bool,
    /// Source tokens of translate requests, for the time estimate.
    #[serde(skip)]
    pub source_tokens: u64,
}

/// What a pass of a batch run left for the next job (`run.json` `batch`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchReport {
    /// Requests collected instead of sent, by stage, in the last pass (none when done).
    pub collected: BTreeMap<&'static str, u64>,
    /// Answers from batch jobs taken (checked and cached), every pass.
    pub answers_taken: u64,
    /// Passes of the run. Requests, tokens and cost (in all, per stage, per endpoint) are
    /// every pass's together; `cache` is the last pass's.
    pub passes: usize,
    /// Each batch job of the run, in order.
    pub jobs: Vec<BatchJob>,
}

/// One batch job of a run.
#[derive(Debug, Clone, Serialize)]
pub struct BatchJob {
    pub stage: &'static str,
    /// The provider's batch id, or the exported file.
    pub job: String,
    pub requests: usize,
    /// Lines of its output with an answer (none yet for an exported file).
    pub answered: usize,
}

/// An article's output record (`articles/<id>.json`).
#[derive(Debug, Serialize)]
pub struct ArticleRecord {
    pub id: String,
    pub origin: String,
    pub title: Option<String>,
    pub title_en: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
    /// The input's encoding ("UTF-8", "windows-1256", "UTF-16LE" ...).
    pub encoding: String,
    pub status: &'static str,
    pub error: Option<String>,
    /// Trust in the English, 0..1: the token-weighted share of chunks the checks found clean
    /// (see `fidelity::confidence`), and its label (high, medium, low).
    pub confidence: f64,
    pub confidence_label: &'static str,
    /// Chunks with at least one flag, and flags in all (title included).
    pub flagged_chunks: usize,
    pub flag_count: usize,
    /// Doubts about the translated title.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub title_flags: Vec<Flag>,
    /// Warnings about the input, e.g. little or no Arabic text.
    pub flags: Vec<String>,
    pub cleaned: Cleaned,
    pub sentences: Vec<Sentence>,
    pub chunks: Vec<ChunkRecord>,
    /// English paragraphs, one per source paragraph (empty when the article failed).
    pub translation: Vec<String>,
    /// The article's summary (absent when the translation failed).
    pub summary: Option<Summary>,
    /// Why the LLM summary failed, when the summary above is the extractive fallback.
    pub summary_error: Option<String>,
    pub cache_hits: u64,
    pub requests: u64,
    /// What this article's requests took (title, chunks, repairs, summary; not the names
    /// stage's request): answers received, tokens, and cost at the backends' prices.
    pub usage: crate::stage::Usage,
    pub duration_ms: u128,
}

impl ArticleRecord {
    /// The fidelity flags of each English paragraph (same order and count as `translation`).
    pub fn flags_by_paragraph(&self) -> Vec<Vec<Flag>> {
        let mut by_source: Vec<(bool, Vec<Flag>)> =
            vec![(false, Vec::new()); self.cleaned.paragraphs.len()];
        for record in &self.chunks {
            if let Some((has_text, flags)) = by_source.get_mut(record.chunk.paragraph) {
                *has_text |= record
                    .translation
                    .as_deref()
                    .is_some_and(|text| !text.trim().is_empty());
                flags.extend(record.flags.iter().cloned());
            }
        }
        by_source
            .into_iter()
            .filter(|(has_text, _)| *has_text)
            .map(|(_, flags)| flags)
            .collect()
    }
}

#[derive(Debug, Serialize)]
pub struct ChunkRecord {
    #[serde(flatten)]
    pub chunk: Chunk,
    pub translation: Option<String>,
    pub backend: Option<String>,
    pub cached: bool,
    pub duration_ms: u128,
    pub error: Option<String>,
    /// What the fidelity checks found in the kept translation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// Every translation tried when the first was flagged, and which one was kept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<&'static str>,
}

/// What run.json says about the names stage.
#[derive(Debug, Serialize)]
pub struct NamesReport {
    /// Articles asked, and those whose answer was unusable (they are translated all the same).
    pub articles: usize,
    pub failed: usize,
    /// Names chosen, how many came from the name table (accepted or earlier nights), and how
    /// many had other spellings proposed (the run writes each one way).
    pub chosen: usize,
    pub from_table: usize,
    pub respelled: usize,
    pub requests: u64,
}

/// What run.json says about the brief.
#[derive(Debug, Serialize)]
pub struct BriefReport {
    /// `llm`, `extractive` or `mixed`.
    pub method: String,
    /// Stories written in full (the top `brief.top_stories`).
    pub stories: usize,
    /// Stories of several articles past the top ones, listed.
    pub more_stories: usize,
    /// Stories of one article past the top ones, listed by outlet.
    pub single_reports: usize,
    /// Articles in the largest story.
    pub largest_story: usize,
    pub articles: usize,
    pub wire_copy_groups: usize,
    pub dropped_citations: usize,
    /// The files written, relative to the output folder.
    pub files: Vec<String>,
    pub notes: Vec<String>,
    /// The technical causes behind the notes (e.g. why a model's answer was unusable).
    pub causes: Vec<String>,
}

/// A run's request counters (`requests`, `attempts`, tokens, and the same per stage and backend
/// and per endpoint), summed over the passes of a batch run, each of which counts only what it
/// sent or took.
#[derive(Debug, Default)]
pub struct Counters {
    stages: BTreeMap<&'static str, Vec<StageBackend>>,
    endpoints: BTreeMap<String, Vec<crate::backend::dispatch::EndpointShare>>,
    requests: u64,
    attempts: u64,
    tokens_in: u64,
    tokens_in_evaluated: u64,
    tokens_out: u64,
}

impl Counters {
    /// Add one pass's counters.
    pub fn add(&mut self, report: &RunReport) {
        for (stage, backends) in &report.stages {
            let into = self.stages.entry(stage).or_default();
            for backend in backends {
                match into.iter_mut().find(|b| b.backend == backend.backend) {
                    Some(sum) => {
                        sum.requests += backend.requests;
                        sum.attempts += backend.attempts;
                        sum.failures += backend.failures;
                        sum.tokens_in += backend.tokens_in;
                        sum.tokens_in_evaluated += backend.tokens_in_evaluated;
                        sum.tokens_out += backend.tokens_out;
                        sum.cost += backend.cost;
                        sum.structured = backend.structured.or(sum.structured);
                    }
                    None => into.push(backend.clone()),
                }
            }
        }
        for (backend, shares) in &report.endpoints {
            let into = self.endpoints.entry(backend.clone()).or_default();
            for share in shares {
                match into.iter_mut().find(|s| s.endpoint == share.endpoint) {
                    Some(sum) => {
                        sum.attempts += share.attempts;
                        sum.failures += share.failures;
                        sum.cost += share.cost;
                        sum.cooling_down = share.cooling_down;
                    }
                    None => into.push(share.clone()),
                }
            }
        }
        self.requests += report.requests;
        self.attempts += report.attempts;
        self.tokens_in += report.tokens_in;
        self.tokens_in_evaluated += report.tokens_in_evaluated;
        self.tokens_out += report.tokens_out;
    }

    /// Put the sums of the earlier passes and of `last` into `last`.
    pub fn write_into(mut self, last: &mut RunReport) {
        self.add(last);
        last.stages = self.stages;
        last.endpoints = self.endpoints;
        last.requests = self.requests;
        last.attempts = self.attempts;
        last.tokens_in = self.tokens_in;
        last.tokens_in_evaluated = self.tokens_in_evaluated;
        last.tokens_out = self.tokens_out;
    }
}
