//! A run in passes, each stage's requests sent as one batch job (`tarjim run --batch`,
//! `--batch-export`, `--batch-import`).
//!
//! A pass is an ordinary run whose cache misses are collected instead of sent (see
//! `crate::batch`). The earliest stage's collected requests become one JSONL file: with
//! `--batch-export` it is written for another engine to run and the command ends, saying how to
//! fold the answers in; with `--batch` it is submitted to the backend's own batch API, polled,
//! and its output read back. The next pass takes those answers (checked and cached like live
//! ones) and collects what follows from them, until a pass collects nothing: that pass wrote
//! the finished outputs. A submitted job is saved in `<out>/batch/state.json` under the hash
//! of its requests, so a stopped run resumes polling it instead of submitting again; requests
//! the job did not answer are collected again and go in the next job.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::{run, RunError, RunRequest};
use crate::batch::{self, jsonl, provider::Provider, Collector, Pending};
use crate::progress::Progress;
use crate::record::{BatchJob, RunReport};
use crate::settings::Settings;

/// Most passes one run makes: translate, its two repairs, summaries and their stricter retry,
/// and the brief's requests come to fewer.
const MAX_PASSES: usize = 12;

/// Where a stage's batch goes.
#[derive(Debug, Clone)]
pub enum BatchMode {
    /// Submitted to the backend's own batch API (`/files`, `/batches`).
    Provider,
    /// Written to this folder for another engine; the command ends there.
    Export(PathBuf),
}

/// How a batch run ended.
#[derive(Debug)]
pub enum BatchEnd {
    /// Nothing left to ask: the last pass wrote the finished outputs.
    Done { passes: usize },
    /// A stage's requests were written for another engine to run.
    Exported {
        path: PathBuf,
        stage: &'static str,
        requests: usize,
    },
    /// The run stopped (interrupted, deadline, cost cap) before it was done.
    Stopped,
}

/// A submitted job, saved so a stopped run resumes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    stage: String,
    /// SHA-256 of the JSONL submitted: the same requests resume the same job.
    input_sha256: String,
    requests: usize,
    batch_id: String,
    status: String,
}

/// Run `request` in passes, each stage's requests going out as one batch job; `imports` are
/// batch outputs (JSONL) whose answers are folded in first. Without a `mode` the imported
/// answers are taken and the rest is sent live.
pub async fn run_batched(
    settings: Settings,
    request: RunRequest,
    mode: Option<BatchMode>,
    imports: &[PathBuf],
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<(RunReport, BatchEnd), RunError> {
    let collector = Arc::new(Collector::new(mode.is_some()));
    // The deadline holds for the whole run: waiting for a job counts.
    let deadline = settings
        .run
        .deadline()
        .map_err(RunError::Deadline)?
        .map(|limit| tokio::time::Instant::now() + limit);
    for path in imports {
        let output = jsonl::read(path).map_err(batch_error)?;
        progress.note(&format!(
            "batch: {} answers read from {} ({} lines without one)",
            output.answers.len(),
            path.display(),
            output.failed.len()
        ));
        collector.add_answers(output.answers);
    }
    let mut pass = 0;
    let mut spent = 0.0;
    let mut jobs: Vec<BatchJob> = Vec::new();
    loop {
        pass += 1;
        let report = run(
            settings.clone(),
            RunRequest {
                inputs: request.inputs.clone(),
                out: request.out.clone(),
                retry_invalid: request.retry_invalid,
                // The cap holds for the whole run, every pass together.
                max_cost: request.max_cost.map(|cap| (cap - spent).max(0.0)),
                collector: Some(collector.clone()),
                write: request.write,
            },
            progress.clone(),
            cancel.clone(),
        )
        .await?;
        spent += report.cost;
        if collector.unused() > 0 && pass == 1 && !imports.is_empty() {
            progress.note(&format!(
                "batch: {} imported answers match no request of this run (other inputs or \
                 settings?)",
                collector.unused()
            ));
        }
        let finish = |mut report: RunReport, jobs: &[BatchJob], end: BatchEnd| {
            report.cost = spent;
            if let Some(batch) = &mut report.batch {
                batch.passes = pass;
                batch.jobs = jobs.to_vec();
            }
            if request.write {
                crate::fsutil::write_atomic(
                    &request.out.join("run.json"),
                    &crate::render::json::pretty(&report),
                )?;
            }
            Ok((report, end))
        };
        let pending = batch::next_batch(collector.take_pending());
        let Some(first) = pending.first() else {
            return finish(report, &jobs, BatchEnd::Done { passes: pass });
        };
        if report.ending != crate::record::Ending::Complete || cancel.is_cancelled() {
            return finish(report, &jobs, BatchEnd::Stopped);
        }
        let stage = first.stage.as_str();
        let text = jsonl::text(&pending, &|name| {
            settings
                .backend(name)
                .filter(|backend| backend.kind() == "openai")
                .and_then(|backend| backend.http().cloned())
        })
        .map_err(RunError::Batch)?;
        match &mode {
            None => return finish(report, &jobs, BatchEnd::Done { passes: pass }),
            Some(BatchMode::Export(folder)) => {
                let path = folder.join(format!("{stage}-{}.jsonl", &sha256(&text)[..12]));
                jsonl::write(&path, &text).map_err(batch_error)?;
                let requests = pending.len();
                jobs.push(BatchJob {
                    stage,
                    job: path.display().to_string(),
                    requests,
                    answered: 0,
                });
                let end = BatchEnd::Exported {
                    path,
                    stage,
                    requests,
                };
                return finish(report, &jobs, end);
            }
            Some(BatchMode::Provider) => {}
        }
        if pass >= MAX_PASSES {
            return Err(RunError::Batch(format!(
                "{} requests of the {stage} stage are still unanswered after {MAX_PASSES} \
                 batch passes; the outputs say which",
                pending.len()
            )));
        }
        let waiting = Waiting {
            progress: &progress,
            cancel: &cancel,
            deadline,
        };
        let output = submitted(&settings, &request.out, &pending, &text, &waiting).await?;
        let Some((job, output)) = output else {
            return finish(report, &jobs, BatchEnd::Stopped);
        };
        jobs.push(BatchJob {
            stage,
            job,
            requests: pending.len(),
            answered: output.answers.len(),
        });
        if output.answers.is_empty() {
            return Err(RunError::Batch(format!(
                "the batch job of the {stage} stage answered none of its {} requests{}",
                pending.len(),
                first_reason(&output.failed)
            )));
        }
        if !output.failed.is_empty() {
            progress.note(&format!(
                "batch: {} of {} {stage} requests got no answer{}; they go in the next job",
                output.failed.len(),
                pending.len(),
                first_reason(&output.failed)
            ));
        }
        collector.add_answers(output.answers);
    }
}

fn first_reason(failed: &[(String, String)]) -> String {
    failed
        .first()
        .map(|(id, why)| format!(" (first: {id}: {why})"))
        .unwrap_or_default()
}

fn batch_error(error: jsonl::JsonlError) -> RunError {
    RunError::Batch(error.to_string())
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What waiting for a job watches.
struct Waiting<'a> {
    progress: &'a Arc<dyn Progress>,
    cancel: &'a CancellationToken,
    /// When the run's deadline passes.
    deadline: Option<tokio::time::Instant>,
}

/// Submit `text` (the requests `pending`) to the backend's batch API, or resume the job saved
/// for the same requests, wait for it, and read its output; `None` when the run was stopped
/// while waiting (the job stays saved). With the output comes the job's id.
async fn submitted(
    settings: &Settings,
    out: &Path,
    pending: &[Pending],
    text: &str,
    waiting: &Waiting<'_>,
) -> Result<Option<(String, jsonl::Output)>, RunError> {
    let progress = waiting.progress;
    let backend = &pending[0].backend;
    let http = settings
        .backend(backend)
        .and_then(|settings| settings.http())
        .ok_or_else(|| RunError::Batch(format!("backend `{backend}` has no endpoint")))?;
    let provider = Provider::new(http);
    let folder = out.join("batch");
    let state_path = folder.join("state.json");
    let hash = sha256(text);
    let stage = pending[0].stage.as_str();
    let failed = |error: crate::backend::BackendError| {
        RunError::Batch(format!("the {stage} stage's batch job: {error}"))
    };
    let saved = read_state(&state_path).filter(|state| state.input_sha256 == hash);
    let mut state = match saved {
        Some(state) => {
            progress.note(&format!(
                "batch: resuming job {} ({} {stage} requests, submitted before)",
                state.batch_id, state.requests
            ));
            state
        }
        None => {
            let name = format!("tarjim-{stage}-{}.jsonl", &hash[..12]);
            jsonl::write(&folder.join(&name), text).map_err(batch_error)?;
            let file_id = provider
                .upload(&name, text.to_string())
                .await
                .map_err(failed)?;
            let job = provider.create(&file_id).await.map_err(failed)?;
            progress.note(&format!(
                "batch: submitted job {} with {} {stage} requests",
                job.id,
                pending.len()
            ));
            let state = State {
                stage: stage.to_string(),
                input_sha256: hash.clone(),
                requests: pending.len(),
                batch_id: job.id,
                status: job.status,
            };
            write_state(&state_path, &state)?;
            state
        }
    };
    let poll = Duration::from_secs(settings.run.batch_poll_s);
    let job = loop {
        let job = provider.job(&state.batch_id).await.map_err(failed)?;
        if job.status != state.status {
            state.status = job.status.clone();
            write_state(&state_path, &state)?;
            progress.note(&format!("batch: job {} is {}", job.id, job.status));
        }
        if job.is_over() {
            break job;
        }
        let far = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = waiting.cancel.cancelled() => return Ok(None),
            _ = tokio::time::sleep_until(waiting.deadline.unwrap_or(far)) => {
                progress.note(&format!(
                    "batch: the run's deadline passed while job {} was {}; run the same \
                     command again to resume it",
                    job.id, job.status
                ));
                return Ok(None);
            }
        }
    };
    let mut output = jsonl::Output::default();
    for (file, kind) in [
        (&job.output_file_id, "output"),
        (&job.error_file_id, "errors"),
    ] {
        let Some(file) = file else { continue };
        let path = folder.join(format!("{}.{kind}.jsonl", job.id));
        provider.download(file, &path).await.map_err(failed)?;
        output.extend(jsonl::read(&path).map_err(batch_error)?);
    }
    Ok(Some((job.id, output)))
}

fn read_state(path: &Path) -> Option<State> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn write_state(path: &Path, state: &State) -> Result<(), RunError> {
    let text = serde_json::to_vec_pretty(state).unwrap_or_default();
    Ok(crate::fsutil::write_atomic(path, &text)?)
}
