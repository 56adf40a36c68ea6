//! What a run would ask, and cost, before it asks anything (`tarjim estimate`, `run --dry-run`,
//! the check before `--max-cost`).
//!
//! A dry pass of the run reads, cleans and chunks the articles and looks every request up in
//! the cache, collecting the ones it would send instead of sending them, and writes nothing.
//! Those requests are counted exactly (prompt tokens by `chunk.encoding`, characters for MT
//! APIs); what cannot be formed before their answers exist is projected from the sample run's
//! measured ratios: answers' lengths, the summaries of articles still to translate, and (as a
//! separate figure) the repairs of chunks the checks flag. The brief's few requests per story
//! are counted only when the summaries they are made from exist. Cached work counts 0.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{run, RunError, RunRequest};
use crate::backend::Stage;
use crate::batch::Collector;
use crate::chunk::TokenCounter;
use crate::progress::Progress;
use crate::record::{Estimate, StageEstimate};
use crate::settings::Settings;

/// English tokens per Arabic source token (`o200k_base`), first answers on the samples.
const ENGLISH_PER_SOURCE_TOKEN: f64 = 1.2;
/// Share of translate requests asked again because the checks flagged the first answer (the
/// default model on the samples: 41 repairs for 94 first requests). Larger models repair less.
const REPAIR_SHARE: f64 = 0.44;
/// Tokens of a summary's answer (JSON: summary and key points).
const SUMMARY_ANSWER_TOKENS: u64 = 300;
/// Tokens of a structured answer of the other stages (names, a brief story).
const OTHER_ANSWER_TOKENS: u64 = 200;
/// The embedded engine on the 2-core reference machine: seconds of translation per source
/// token, repairs included (the five samples, 4,763 tokens: 15 min 14 s for translation and
/// summaries, less some 200 s for the summaries at the speeds below; BENCHMARKS.md).
const EMBEDDED_SECONDS_PER_SOURCE_TOKEN: f64 = 714.0 / 4763.0;
/// Its prompt and generation speeds there (tokens per second; `cargo bench --bench embedded`,
/// four sequences generating at once), for requests other than translation.
const EMBEDDED_PROMPT_SPEED: f64 = 57.3;
const EMBEDDED_GENERATION_SPEED: f64 = 17.9;

/// Estimate a run of `inputs` with `settings`; `batch` prices answers at the batch price.
pub async fn estimate(
    settings: Settings,
    inputs: Vec<String>,
    batch: bool,
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<Estimate, RunError> {
    let counter = TokenCounter::new(&settings.chunk.encoding).map_err(RunError::Encoding)?;
    let collector = Arc::new(Collector::new(true));
    let report = run(
        settings.clone(),
        RunRequest {
            collector: Some(collector.clone()),
            write: false,
            ..RunRequest::new(inputs, std::path::PathBuf::new())
        },
        progress,
        cancel,
    )
    .await?;
    let mut rows: BTreeMap<(u8, &'static str, String), StageEstimate> = BTreeMap::new();
    for pending in collector.take_pending() {
        let request = &pending.request;
        let reads_prompts = settings
            .backend(&pending.backend)
            .is_some_and(|backend| backend.reads_prompts());
        let row = rows
            .entry((
                crate::batch::stage_order(pending.stage),
                pending.stage.as_str(),
                pending.backend.clone(),
            ))
            .or_insert_with(|| StageEstimate {
                stage: pending.stage.as_str(),
                backend: pending.backend.clone(),
                exact: true,
                ..Default::default()
            });
        row.requests += 1;
        let source = counter.count(&request.input) as u64;
        if reads_prompts {
            row.tokens_in += (counter.count(&request.system) + counter.count(&request.user)) as u64;
            row.tokens_out += match pending.stage {
                Stage::Translate => (source as f64 * ENGLISH_PER_SOURCE_TOKEN).ceil() as u64,
                Stage::Summarize => SUMMARY_ANSWER_TOKENS,
                _ => OTHER_ANSWER_TOKENS,
            };
        } else {
            row.characters += request.input.chars().count() as u64;
        }
        if pending.stage == Stage::Translate {
            row.source_tokens += source;
        }
    }
    let mut estimate = Estimate {
        articles: report.articles.total,
        chunks: report.chunks.total,
        cached: report.cache.hits,
        ..Default::default()
    };
    let mut rows: Vec<StageEstimate> = rows.into_values().collect();
    if let Some(projected) = projected_summaries(&settings, &counter, &rows, report.articles.failed)
    {
        rows.push(projected);
    }
    for row in &mut rows {
        if let Some(backend) = settings.backend(&row.backend) {
            let price = backend.price();
            row.cost = price.cost(row.tokens_in, row.tokens_out, row.characters)
                * if batch { price.batch_factor } else { 1.0 };
        }
    }
    total(&settings, &mut estimate, rows);
    Ok(estimate)
}

/// The summaries of articles the dry pass could not translate yet (their English does not
/// exist), on the summarize stage's first backend, sized from their translations' projection.
fn projected_summaries(
    settings: &Settings,
    counter: &TokenCounter,
    rows: &[StageEstimate],
    untranslated: u64,
) -> Option<StageEstimate> {
    let backend = settings.stages.summarize.first()?;
    let reads_prompts = settings.backend(backend)?.reads_prompts();
    if untranslated == 0 || !reads_prompts {
        return None;
    }
    let template = crate::prompt::Template::load(&settings.prompts.dir, "summarize").ok()?;
    let template_tokens = (counter.count(&template.system) + counter.count(&template.user)) as u64;
    let english: u64 = rows
        .iter()
        .filter(|row| row.stage == "translate")
        .map(|row| row.tokens_out)
        .sum();
    Some(StageEstimate {
        stage: Stage::Summarize.as_str(),
        backend: backend.clone(),
        requests: untranslated,
        tokens_in: untranslated * template_tokens + english,
        tokens_out: untranslated * SUMMARY_ANSWER_TOKENS,
        exact: false,
        ..Default::default()
    })
}

/// Sum the rows into `estimate`, with repairs and time.
fn total(settings: &Settings, estimate: &mut Estimate, rows: Vec<StageEstimate>) {
    let mut seconds = Some(0.0);
    for row in &rows {
        estimate.requests += row.requests;
        estimate.tokens_in += row.tokens_in;
        estimate.tokens_out += row.tokens_out;
        estimate.characters += row.characters;
        estimate.cost += row.cost;
        let repairs = if row.stage == "translate" {
            REPAIR_SHARE
        } else {
            0.0
        };
        estimate.cost_with_repairs += row.cost * (1.0 + repairs);
        let row_seconds = settings
            .backend(&row.backend)
            .and_then(|backend| backend_seconds(backend, row));
        seconds = match (seconds, row_seconds) {
            (Some(total), Some(more)) => Some(total + more),
            _ => None,
        };
    }
    estimate.seconds = seconds;
    estimate.stages = rows;
    estimate.notes = vec![
        format!(
            "answers' lengths are projected ({ENGLISH_PER_SOURCE_TOKEN} English tokens per \
             Arabic token, {SUMMARY_ANSWER_TOKENS} per summary); repairs of flagged chunks add \
             about {:.0} % to translate (the default model on the samples), counted only in \
             cost_with_repairs; the brief's requests are counted only where they can be formed \
             now (its stories are written from the summaries)",
            REPAIR_SHARE * 100.0
        ),
        "tokens are counted with chunk.encoding; a model's own tokenizer may count more"
            .to_string(),
    ];
}

/// How long a row takes on its backend: the rate limits' bound for an HTTP backend that has
/// them, the measured speed for the embedded engine; none otherwise.
fn backend_seconds(backend: &crate::backend::BackendSettings, row: &StageEstimate) -> Option<f64> {
    let Some(http) = backend.http() else {
        if row.stage == "translate" {
            return Some(row.source_tokens as f64 * EMBEDDED_SECONDS_PER_SOURCE_TOKEN);
        }
        return Some(
            row.tokens_in as f64 / EMBEDDED_PROMPT_SPEED
                + row.tokens_out as f64 / EMBEDDED_GENERATION_SPEED,
        );
    };
    let by_requests = (http.requests_per_minute > 0)
        .then(|| row.requests as f64 * 60.0 / f64::from(http.requests_per_minute));
    let by_tokens = (http.tokens_per_minute > 0).then(|| {
        (row.tokens_in + row.tokens_out) as f64 * 60.0 / f64::from(http.tokens_per_minute)
    });
    match (by_requests, by_tokens) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (one, other) => one.or(other),
    }
}
