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

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::{run, RunError, RunRequest};
use crate::backend::BackendError;
use crate::batch::provider::{Job, Provider};
use crate::batch::{self, jsonl, Collector, Pending};
use crate::progress::Progress;
use crate::record::{BatchJob, Counters, RunReport};
use crate::settings::Settings;

/// Most passes one run makes: translate, its two repairs, summaries and their stricter retry,
/// and the brief's requests come to fewer.
const MAX_PASSES: usize = 12;

/// Most bytes in one job's file (OpenAI's batch API takes 200 MB; the most requests in one job
/// is `run.batch_max_requests`).
const MAX_JOB_BYTES: usize = 190 * 1024 * 1024;

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
    Done,
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
    mut settings: Settings,
    request: RunRequest,
    mode: Option<BatchMode>,
    imports: &[PathBuf],
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<(RunReport, BatchEnd), RunError> {
    if mode.is_some() && settings.chunk.context_chars > 0 {
        // With the preceding chunk's English in each prompt, an article's chunks would take
        // one job each, in turn; in batch mode they go together.
        progress.note("batch: chunk.context_chars is 0 in batch mode (one job per stage)");
        settings.chunk.context_chars = 0;
    }
    // The deadline holds for the whole run: waiting for a job counts.
    let deadline = settings
        .run
        .deadline()
        .map_err(RunError::Deadline)?
        .map(|limit| tokio::time::Instant::now() + limit);
    let mut batched = Batched {
        collector: Arc::new(Collector::new(mode.is_some())),
        settings,
        request,
        progress,
        cancel,
        deadline,
        pass: 0,
        spent: 0.0,
        earlier: Counters::default(),
        jobs: Vec::new(),
    };
    batched.import(imports)?;
    loop {
        let report = batched.pass().await?;
        let pending = batch::next_batch(batched.collector.take_pending());
        if pending.is_empty() || mode.is_none() {
            return batched.finish(report, BatchEnd::Done);
        }
        if report.ending != crate::record::Ending::Complete || batched.cancel.is_cancelled() {
            return batched.finish(report, BatchEnd::Stopped);
        }
        let text = jsonl::text(&pending, &|name| {
            (batched.settings.backend(name))
                .filter(|backend| backend.kind() == "openai")
                .and_then(|backend| backend.http().cloned())
        })
        .map_err(RunError::Batch)?;
        let end = match &mode {
            Some(BatchMode::Export(folder)) => Some(batched.export(folder, &pending, &text)?),
            _ => batched.submit(&pending, &text).await?,
        };
        if let Some(end) = end {
            return batched.finish(report, end);
        }
        batched.earlier.add(&report);
    }
}

/// A batch run between its passes.
struct Batched {
    settings: Settings,
    request: RunRequest,
    collector: Arc<Collector>,
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
    /// When the run's deadline passes.
    deadline: Option<tokio::time::Instant>,
    pass: usize,
    /// What every pass so far cost.
    spent: f64,
    /// The requests and tokens of the passes before the current one.
    earlier: Counters,
    jobs: Vec<BatchJob>,
}

impl Batched {
    /// Fold batch outputs in: their answers are taken where the run asks for them.
    fn import(&self, imports: &[PathBuf]) -> Result<(), RunError> {
        for path in imports {
            let output = jsonl::read(path)?;
            self.progress.note(&format!(
                "batch: {} answers read from {} ({} lines without one)",
                output.answers.len(),
                path.display(),
                output.failed.len()
            ));
            self.collector.add_answers(output.answers);
        }
        Ok(())
    }

    /// One pass of the run: the answers in hand taken, what is missing collected.
    async fn pass(&mut self) -> Result<RunReport, RunError> {
        self.pass += 1;
        let request = &self.request;
        let report = run(
            self.settings.clone(),
            RunRequest {
                inputs: request.inputs.clone(),
                out: request.out.clone(),
                retry_invalid: request.retry_invalid,
                // The cap holds for the whole run, every pass together.
                max_cost: request.max_cost.map(|cap| (cap - self.spent).max(0.0)),
                collector: Some(self.collector.clone()),
                write: request.write,
                // The deadline holds for the whole run, every pass together.
                deadline_at: self.deadline,
            },
            self.progress.clone(),
            self.cancel.clone(),
        )
        .await?;
        self.spent += report.cost;
        if self.pass == 1 && self.collector.unused() > 0 {
            self.progress.note(&format!(
                "batch: {} imported answers match no request of this run (other inputs or \
                 settings?)",
                self.collector.unused()
            ));
        }
        Ok(report)
    }

    /// The last pass's report with the whole run's counters, cost and jobs, written as
    /// run.json.
    fn finish(
        self,
        mut report: RunReport,
        end: BatchEnd,
    ) -> Result<(RunReport, BatchEnd), RunError> {
        self.earlier.write_into(&mut report);
        report.cost = self.spent;
        if let Some(batch) = &mut report.batch {
            batch.passes = self.pass;
            batch.jobs = self.jobs;
        }
        if self.request.write {
            super::report::write_run_json(&self.request.out, &report)?;
        }
        Ok((report, end))
    }

    /// Write the batch file for another engine.
    fn export(
        &mut self,
        folder: &Path,
        pending: &[Pending],
        text: &str,
    ) -> Result<BatchEnd, RunError> {
        let stage = pending[0].stage.as_str();
        let path = folder.join(format!("{stage}-{}.jsonl", &sha256(text)[..12]));
        jsonl::write(&path, text)?;
        let requests = pending.len();
        self.jobs.push(BatchJob {
            stage,
            job: path.display().to_string(),
            requests,
            answered: 0,
        });
        Ok(BatchEnd::Exported {
            path,
            stage,
            requests,
        })
    }

    /// Send the batch to the provider as one job or several (or resume them) and take their
    /// answers for the next pass; an end when the run stopped while waiting.
    async fn submit(
        &mut self,
        pending: &[Pending],
        text: &str,
    ) -> Result<Option<BatchEnd>, RunError> {
        let stage = pending[0].stage.as_str();
        if self.pass >= MAX_PASSES {
            return Err(RunError::Batch(format!(
                "{} requests of the {stage} stage are still unanswered after {MAX_PASSES} \
                 batch passes; the outputs say which",
                pending.len()
            )));
        }
        let parts = parts(text, self.settings.run.batch_max_requests, MAX_JOB_BYTES);
        if parts.len() > 1 {
            self.progress.note(&format!(
                "batch: the {stage} stage's {} requests go out as {} jobs (at most {} requests \
                 each, run.batch_max_requests)",
                pending.len(),
                parts.len(),
                self.settings.run.batch_max_requests
            ));
        }
        let Some(done) = self.submitted(pending, &parts).await? else {
            return Ok(Some(BatchEnd::Stopped));
        };
        let mut output = jsonl::Output::default();
        for ((range, _), (job, answers)) in parts.iter().zip(done) {
            self.jobs.push(BatchJob {
                stage,
                job,
                requests: range.len(),
                answered: answers.answers.len(),
            });
            output.extend(answers);
        }
        if output.answers.is_empty() {
            return Err(RunError::Batch(format!(
                "the batch job of the {stage} stage answered none of its {} requests{}",
                pending.len(),
                first_reason(&output.failed)
            )));
        }
        if !output.failed.is_empty() {
            self.progress.note(&format!(
                "batch: {} of {} {stage} requests got no answer{}; they go in the next job",
                output.failed.len(),
                pending.len(),
                first_reason(&output.failed)
            ));
        }
        self.collector.add_answers(output.answers);
        Ok(None)
    }
}

/// A batch's JSONL cut into jobs of at most `max_requests` lines and `max_bytes` (a line
/// longer than that is a job alone): each job's range of the requests and its text.
fn parts(text: &str, max_requests: usize, max_bytes: usize) -> Vec<(Range<usize>, &str)> {
    let mut parts = Vec::new();
    let (mut first, mut count, mut from, mut to) = (0, 0, 0, 0);
    for line in text.split_inclusive('\n') {
        if count > 0 && (count >= max_requests || to - from + line.len() > max_bytes) {
            parts.push((first..first + count, &text[from..to]));
            (first, count, from) = (first + count, 0, to);
        }
        count += 1;
        to += line.len();
    }
    if count > 0 {
        parts.push((first..first + count, &text[from..to]));
    }
    parts
}

fn first_reason(failed: &[(String, String)]) -> String {
    failed
        .first()
        .map(|(id, why)| format!(" (first: {id}: {why})"))
        .unwrap_or_default()
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Batched {
    /// Submit each part of the batch to the backend's batch API, or resume the job saved for
    /// the same requests, wait for them all, and read their outputs, with each job's id; `None`
    /// when the run was stopped while waiting (the jobs stay saved).
    async fn submitted(
        &self,
        pending: &[Pending],
        parts: &[(Range<usize>, &str)],
    ) -> Result<Option<Vec<(String, jsonl::Output)>>, RunError> {
        let backend = &pending[0].backend;
        let http = (self.settings.backend(backend))
            .and_then(|settings| settings.http())
            .ok_or_else(|| RunError::Batch(format!("backend `{backend}` has no endpoint")))?;
        let provider = Provider::new(http);
        let stage = pending[0].stage.as_str();
        let failed = |error: BackendError| RunError::BatchJob {
            stage: stage.to_string(),
            error,
        };
        let state_path = self.folder().join("state.json");
        let mut saved = read_states(&state_path);
        let mut states = Vec::with_capacity(parts.len());
        for (range, text) in parts {
            let state = self
                .saved_or_submitted(&provider, &pending[range.clone()], text, &mut saved)
                .await
                .map_err(|error| match error {
                    Submit::Backend(error) => failed(error),
                    Submit::Run(error) => error,
                })?;
            states.push(state);
        }
        write_states(&state_path, &states)?;
        let Some(jobs) = self.waited(&provider, &mut states).await? else {
            return Ok(None);
        };
        let mut done = Vec::with_capacity(jobs.len());
        for job in jobs {
            let mut output = jsonl::Output::default();
            for (file, kind) in [
                (&job.output_file_id, "output"),
                (&job.error_file_id, "errors"),
            ] {
                let Some(file) = file else { continue };
                let path = self.folder().join(format!("{}.{kind}.jsonl", job.id));
                provider.download(file, &path).await.map_err(failed)?;
                output.extend(jsonl::read(&path)?);
            }
            done.push((job.id, output));
        }
        Ok(Some(done))
    }

    fn folder(&self) -> PathBuf {
        self.request.out.join("batch")
    }

    /// The job saved for these same requests, or a new one (uploaded, created, and saved among
    /// `saved` before anything else happens, so a run stopped after submitting one part of a
    /// stage does not submit it again).
    async fn saved_or_submitted(
        &self,
        provider: &Provider,
        pending: &[Pending],
        text: &str,
        saved: &mut Vec<State>,
    ) -> Result<State, Submit> {
        let hash = sha256(text);
        let stage = pending[0].stage.as_str();
        let state_path = self.folder().join("state.json");
        if let Some(state) = saved
            .iter()
            .find(|state| state.input_sha256 == hash)
            .cloned()
        {
            self.progress.note(&format!(
                "batch: resuming job {} ({} {stage} requests, submitted before)",
                state.batch_id, state.requests
            ));
            return Ok(state);
        }
        let name = format!("tarjim-{stage}-{}.jsonl", &hash[..12]);
        jsonl::write(&self.folder().join(&name), text).map_err(|e| Submit::Run(e.into()))?;
        let file_id = provider.upload(&name, text.to_string()).await?;
        let job = provider.create(&file_id).await?;
        self.progress.note(&format!(
            "batch: submitted job {} with {} {stage} requests",
            job.id,
            pending.len()
        ));
        let state = State {
            stage: stage.to_string(),
            input_sha256: hash,
            requests: pending.len(),
            batch_id: job.id,
            status: job.status,
        };
        saved.push(state.clone());
        write_states(&state_path, saved).map_err(Submit::Run)?;
        Ok(state)
    }

    /// Poll the jobs until every one is over; `None` when the run is interrupted or its
    /// deadline passes first.
    async fn waited(
        &self,
        provider: &Provider,
        states: &mut [State],
    ) -> Result<Option<Vec<Job>>, RunError> {
        let state_path = self.folder().join("state.json");
        let poll = Duration::from_secs(self.settings.run.batch_poll_s);
        let far = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
        let mut over: Vec<Option<Job>> = vec![None; states.len()];
        loop {
            let mut changed = false;
            for (state, over) in states.iter_mut().zip(&mut over) {
                if over.is_some() {
                    continue;
                }
                let job =
                    provider
                        .job(&state.batch_id)
                        .await
                        .map_err(|error| RunError::BatchJob {
                            stage: state.stage.to_string(),
                            error,
                        })?;
                if job.status != state.status {
                    state.status = job.status.clone();
                    changed = true;
                    self.progress
                        .note(&format!("batch: job {} is {}", job.id, job.status));
                }
                if job.is_over() {
                    *over = Some(job);
                }
            }
            // Saved when a job's status moves, not on every look (a night's job is polled for
            // hours).
            if changed {
                write_states(&state_path, states)?;
            }
            if over.iter().all(Option::is_some) {
                return Ok(Some(over.into_iter().flatten().collect()));
            }
            let waiting: Vec<String> = (states.iter().zip(&over))
                .filter(|(_, over)| over.is_none())
                .map(|(state, _)| format!("{} ({})", state.batch_id, state.status))
                .collect();
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = self.cancel.cancelled() => return Ok(None),
                _ = tokio::time::sleep_until(self.deadline.unwrap_or(far)) => {
                    self.progress.note(&format!(
                        "batch: the run's deadline passed while job {} was waited for; run \
                         the same command again to resume it",
                        waiting.join(", ")
                    ));
                    return Ok(None);
                }
            }
        }
    }
}

/// Why a job could not be submitted.
enum Submit {
    Backend(BackendError),
    Run(RunError),
}

impl From<BackendError> for Submit {
    fn from(error: BackendError) -> Submit {
        Submit::Backend(error)
    }
}

/// `state.json` as saved: the jobs of the stage in flight (one job, as earlier versions saved
/// it, is read too).
#[derive(Deserialize)]
#[serde(untagged)]
enum Saved {
    Jobs(Vec<State>),
    Job(State),
}

fn read_states(path: &Path) -> Vec<State> {
    let saved = std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    match saved {
        Some(Saved::Jobs(states)) => states,
        Some(Saved::Job(state)) => vec![state],
        None => Vec::new(),
    }
}

fn write_states(path: &Path, states: &[State]) -> Result<(), RunError> {
    let text = serde_json::to_vec_pretty(states).unwrap_or_default();
    Ok(crate::fsutil::write_atomic(path, &text)?)
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn a_batch_is_cut_by_requests_and_by_bytes_without_losing_a_line() {
        let text = "{\"a\":1}\n{\"b\":22}\n{\"c\":333}\n{\"d\":4}\n{\"e\":5}\n";
        let cut = parts(text, 2, 1000);
        let ranges: Vec<_> = cut.iter().map(|(range, _)| range.clone()).collect();
        assert_eq!(ranges, [0..2, 2..4, 4..5]);
        assert_eq!(cut.iter().map(|(_, t)| *t).collect::<String>(), text);
        assert_eq!(cut[1].1, "{\"c\":333}\n{\"d\":4}\n");
        // 8 + 9 bytes fit in 20, a third line would not; the long line goes alone.
        let cut = parts(text, 10, 20);
        let ranges: Vec<_> = cut.iter().map(|(range, _)| range.clone()).collect();
        assert_eq!(ranges, [0..2, 2..4, 4..5]);
        let cut = parts(text, 10, 5);
        assert_eq!(cut.len(), 5, "every line alone, none dropped");
        assert!(parts("", 10, 10).is_empty());
    }
}
