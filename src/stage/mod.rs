//! Asking a stage's backends for an answer: cache first, then the fallback chain.
//!
//! Every stage (translate, summarize, brief) goes through a [`StageRunner`]: it builds one
//! request per backend in the stage's chain, returns a cached answer from any of them if there
//! is one, and otherwise tries them in order, committing the first good answer to the cache.
//! Stopping conditions that concern the whole run live here too: after Ctrl-C or an exhausted
//! quota no new request is sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::backend::dispatch::{DispatchStats, Dispatcher};
use crate::backend::{BackendError, Completion, Request, Stage};
use crate::batch::Collector;

mod batched;
mod error;
mod usage;

use crate::cache::{Cache, KeyParts};
use crate::chunk::TokenCounter;
use crate::prompt::{self, Template};
use crate::settings::Settings;
pub use error::{Halt, Miss, Misses, Problem, StageError};
pub use usage::{metered, Usage};

/// What the whole run shares between stages.
pub struct Shared {
    pub cache: Cache,
    pub counter: TokenCounter,
    pub cancel: CancellationToken,
    /// Set once when the run must stop sending before it is done, with the reason.
    pub halted: std::sync::OnceLock<Halt>,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    /// Called with each warning worth showing now (quota exhausted...).
    pub note: Box<dyn Fn(&str) + Send + Sync>,
    /// One dispatcher per backend name, shared by every stage that uses it.
    pub dispatchers: std::sync::Mutex<HashMap<String, Arc<Dispatcher>>>,
    /// Ask again for answers the cache holds as unusable (`--retry-invalid`).
    pub retry_invalid: bool,
    /// What the run's answers have cost so far, in billionths (see `dispatch::nanos`).
    pub spent_nanos: AtomicU64,
    /// Stop sending once the answers have cost this much (`--max-cost`).
    pub max_cost: Option<f64>,
    /// Batch mode and estimates: requests the cache cannot answer are collected here instead
    /// of sent, and a batch job's answers are taken from here.
    pub collector: Option<Arc<Collector>>,
}

/// Bytes of answer still accepted for a request of `request_bytes` (prompt and input): a
/// generous multiple, so that no honest answer comes near it, while a server that floods its
/// answer cannot fill the cache or slow every rerun.
pub fn answer_limit(request_bytes: usize) -> usize {
    16 * 1024 + 8 * request_bytes
}

impl Shared {
    /// What a run shares, with no request sent yet; `note` shows a warning now.
    pub fn new(
        cache: Cache,
        counter: TokenCounter,
        cancel: CancellationToken,
        note: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Shared {
        Shared {
            cache,
            counter,
            cancel,
            halted: std::sync::OnceLock::new(),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            note,
            dispatchers: Default::default(),
            retry_invalid: false,
            spent_nanos: AtomicU64::new(0),
            max_cost: None,
            collector: None,
        }
    }

    /// Stop sending for good (the first reason given wins); `message` is shown once.
    pub fn halt(&self, why: Halt, message: &str) {
        if self.halted.set(why).is_ok() {
            (self.note)(message);
        }
    }

    /// Why the run stopped sending, if it did.
    pub fn halted(&self) -> Option<Halt> {
        self.halted.get().copied()
    }

    /// The dispatcher for backend `name`, created on first use.
    pub fn dispatcher(
        &self,
        name: &str,
        settings: &crate::backend::BackendSettings,
    ) -> Arc<Dispatcher> {
        let mut dispatchers = self
            .dispatchers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        dispatchers
            .entry(name.to_string())
            .or_insert_with(|| Dispatcher::new(name, settings))
            .clone()
    }
}

/// An answer and where it came from.
#[derive(Debug, Clone)]
pub struct Answer {
    pub text: String,
    pub backend: String,
    pub cached: bool,
}

/// One stage's chain of backends.
/// What the cache holds for a request.
enum Cached {
    Answer(Answer),
    /// No usable answer; for each backend of the chain, whether its answer is cached as
    /// unusable.
    Unusable(Vec<bool>),
}

pub struct StageRunner {
    pub stage: Stage,
    pub chain: Vec<Arc<Dispatcher>>,
    /// This stage's counters, one per backend in `chain`.
    pub stats: Vec<DispatchStats>,
    identities: Vec<serde_json::Value>,
    pub template: Template,
    shared: Arc<Shared>,
    /// One lock per cache key being worked on, so identical inputs in flight at once (wire copy
    /// repeated across outlets) are requested once: the second waits and then hits the cache.
    in_flight: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl StageRunner {
    /// The runner for `stage` with the backends `names` (already checked against settings).
    pub fn new(
        stage: Stage,
        names: &[String],
        settings: &Settings,
        template: Template,
        shared: Arc<Shared>,
    ) -> StageRunner {
        let chain: Vec<Arc<Dispatcher>> = names
            .iter()
            .filter_map(|name| {
                settings
                    .backend(name)
                    .map(|backend| shared.dispatcher(name, backend))
            })
            .collect();
        let identities = chain
            .iter()
            .map(|dispatcher| dispatcher.settings.identity())
            .collect();
        let stats = chain.iter().map(|_| DispatchStats::default()).collect();
        StageRunner {
            stage,
            stats,
            chain,
            identities,
            template,
            shared,
            in_flight: Default::default(),
        }
    }

    /// The most requests any backend of the chain takes in flight at once.
    pub fn concurrency(&self) -> usize {
        self.chain
            .iter()
            .map(|dispatcher| dispatcher.concurrency)
            .max()
            .unwrap_or(1)
    }

    /// Requests this stage sent (first attempts, not retries).
    pub fn requests(&self) -> u64 {
        self.stats
            .iter()
            .map(|stats| stats.requests.load(Ordering::Relaxed))
            .sum()
    }

    /// Answers the run found in the cache (all stages).
    pub fn cache_hits(&self) -> u64 {
        self.shared.cache_hits.load(Ordering::Relaxed)
    }

    /// Whether every backend in the chain reads prompts (can summarize, can follow a schema).
    pub fn is_llm(&self) -> bool {
        !self.chain.is_empty()
            && self
                .chain
                .iter()
                .all(|dispatcher| dispatcher.settings.reads_prompts())
    }

    /// Ask for `values` filled into the template (`input` is the bare text MT APIs get).
    /// `validate` checks an answer before it is cached; a rejected answer counts as a failure
    /// of that backend.
    pub async fn ask(
        &self,
        values: &[(&str, &str)],
        input: &str,
        json_schema: Option<&serde_json::Value>,
        validate: &(dyn Fn(&str) -> Result<(), String> + Sync),
    ) -> Result<Answer, StageError> {
        let templates: [&str; 2] = [&self.template.system, &self.template.user];
        let (system, user) = self.template.render(values);
        let schema_text = json_schema
            .map(|schema| schema.to_string())
            .unwrap_or_default();
        let attempts: Vec<(Request, String)> = self
            .chain
            .iter()
            .zip(&self.identities)
            .map(|(dispatcher, identity)| {
                let reads_prompts = dispatcher.settings.reads_prompts();
                let prompt_input = format!("{user}\u{0}{schema_text}");
                let key = KeyParts {
                    stage: self.stage,
                    backend: identity,
                    templates: if reads_prompts { &templates } else { &[] },
                    input: if reads_prompts { &prompt_input } else { input },
                }
                .digest();
                let request = Request {
                    stage: self.stage,
                    input: input.to_string(),
                    system: if reads_prompts {
                        system.clone()
                    } else {
                        String::new()
                    },
                    user: if reads_prompts {
                        user.clone()
                    } else {
                        String::new()
                    },
                    json_schema: json_schema.cloned(),
                };
                (request, key)
            })
            .collect();

        let primary_key = attempts
            .first()
            .map(|(_, key)| key.clone())
            .unwrap_or_default();
        let key_lock = self
            .lock_map()
            .entry(primary_key.clone())
            .or_default()
            .clone();
        let result = {
            let _working_on_it = key_lock.lock().await;
            self.cached_or_requested(&attempts, validate).await
        };
        let mut map = self.lock_map();
        if Arc::strong_count(&key_lock) == 2 {
            map.remove(&primary_key);
        }
        result
    }

    fn lock_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn cached_or_requested(
        &self,
        attempts: &[(Request, String)],
        validate: &(dyn Fn(&str) -> Result<(), String> + Sync),
    ) -> Result<Answer, StageError> {
        let mut errors = Vec::new();
        let known_unusable = match self.cached(attempts, &mut errors)? {
            Cached::Answer(answer) => return Ok(answer),
            Cached::Unusable(known_unusable) => known_unusable,
        };
        if known_unusable.iter().all(|&unusable| unusable) {
            self.shared.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Err(StageError::Failed(Misses(errors)));
        }
        self.shared.cache_misses.fetch_add(1, Ordering::Relaxed);
        self.requested(attempts, &known_unusable, validate, errors)
            .await
    }

    /// The cached answer of the first backend that has a usable one; else which backends'
    /// answers are cached as unusable (not asked again unless `--retry-invalid`).
    fn cached(
        &self,
        attempts: &[(Request, String)],
        errors: &mut Vec<Miss>,
    ) -> Result<Cached, StageError> {
        let shared = &self.shared;
        let mut known_unusable = vec![false; attempts.len()];
        for (index, (((request, key), dispatcher), stats)) in attempts
            .iter()
            .zip(&self.chain)
            .zip(&self.stats)
            .enumerate()
        {
            let Some(hit) = shared.cache.get(key)? else {
                continue;
            };
            if hit.completion.text.len() > answer_limit(request_bytes(request)) {
                continue; // cached before answers were bounded: ask again, replacing it
            }
            match hit.invalid {
                None => {
                    shared.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(Cached::Answer(Answer {
                        // Cleaned again: answers cached before a cleaning rule existed get it too.
                        text: self
                            .template
                            .strip_echo(&prompt::clean_answer(&hit.completion.text)),
                        backend: dispatcher.name.clone(),
                        cached: true,
                    }));
                }
                Some(problem) if !shared.retry_invalid => {
                    known_unusable[index] = true;
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    errors.push(Miss::Unusable {
                        backend: dispatcher.name.clone(),
                        problem: Problem::from_cached(&problem),
                        cached: true,
                    });
                }
                Some(_) => {}
            }
        }
        Ok(Cached::Unusable(known_unusable))
    }

    /// Ask the chain's backends in order (those whose answer is not cached as unusable) until
    /// one gives a usable answer, which is cached; each failure is added to `errors`.
    async fn requested(
        &self,
        attempts: &[(Request, String)],
        known_unusable: &[bool],
        validate: &(dyn Fn(&str) -> Result<(), String> + Sync),
        mut errors: Vec<Miss>,
    ) -> Result<Answer, StageError> {
        let shared = &self.shared;
        let mut too_long = true;
        let mut unavailable = 0;
        for ((((request, key), dispatcher), stats), &known_unusable) in attempts
            .iter()
            .zip(&self.chain)
            .zip(&self.stats)
            .zip(known_unusable)
        {
            if known_unusable {
                too_long = false;
                continue;
            }
            if let Some(stopped) = self.stopped() {
                return Err(stopped);
            }
            let batch = (shared.collector.as_deref()).filter(|c| c.collecting || c.has_answer(key));
            if let Some(collector) = batch {
                let asked = (request, key.as_str(), &**dispatcher, stats);
                return self.answered_by_batch(collector, asked, validate, errors);
            }
            let estimated =
                shared.counter.count(&request.system) + shared.counter.count(&request.user) * 2;
            let stop = || shared.cancel.is_cancelled() || shared.halted().is_some();
            let result = tokio::select! {
                result = dispatcher.complete(request, estimated, stats, &stop) => result,
                _ = shared.cancel.cancelled() => return Err(StageError::Interrupted),
            };
            let error = match result {
                Ok(completion) => {
                    too_long = false;
                    shared.paid(&completion, dispatcher.cost(request, &completion, false));
                    let answer = self.kept(request, key, dispatcher, stats, completion, validate);
                    match answer? {
                        Ok(answer) => return Ok(answer),
                        Err(problem) => {
                            errors.push(problem);
                            continue;
                        }
                    }
                }
                Err(error) => error,
            };
            let error = self.after_failure(&dispatcher.name, error)?;
            match error {
                BackendError::ContextLength { .. } | BackendError::Truncated { .. } => {}
                BackendError::Unavailable { .. } => {
                    too_long = false;
                    unavailable += 1;
                }
                _ => too_long = false,
            }
            errors.push(Miss::Failed {
                backend: dispatcher.name.clone(),
                error,
            });
        }
        Err(self.given_up(errors, unavailable, too_long))
    }

    /// Whether a failed request stops the run's sending (interrupted, halted, a quota
    /// exhausted: the error to return) or the next backend of the chain is asked (the error
    /// back, to be listed).
    fn after_failure(
        &self,
        backend: &str,
        error: BackendError,
    ) -> Result<BackendError, StageError> {
        let shared = &self.shared;
        match error {
            BackendError::Stopped if shared.cancel.is_cancelled() => Err(StageError::Interrupted),
            BackendError::Stopped => Err(StageError::Halted(
                shared.halted().unwrap_or(Halt::QuotaExhausted),
            )),
            BackendError::Quota { .. } => {
                shared.halt(
                    Halt::QuotaExhausted,
                    &format!(
                        "error: {error}; no new requests will be sent, finishing what is in hand"
                    ),
                );
                Err(StageError::Failed(Misses(vec![Miss::Failed {
                    backend: backend.to_string(),
                    error,
                }])))
            }
            error => Ok(error),
        }
    }

    /// Why nothing more may be sent now, if something stopped the run.
    fn stopped(&self) -> Option<StageError> {
        if self.shared.cancel.is_cancelled() {
            return Some(StageError::Interrupted);
        }
        self.shared.halted().map(StageError::Halted)
    }

    /// A backend's answer checked and cached: the answer when usable, else why not (an
    /// unusable answer is cached as such; an oversized one is not cached at all).
    fn kept(
        &self,
        request: &Request,
        key: &str,
        dispatcher: &Dispatcher,
        stats: &DispatchStats,
        completion: Completion,
        validate: &(dyn Fn(&str) -> Result<(), String> + Sync),
    ) -> Result<Result<Answer, Miss>, StageError> {
        let cache = &self.shared.cache;
        let limit = answer_limit(request_bytes(request));
        if completion.text.len() > limit {
            stats.failures.fetch_add(1, Ordering::Relaxed);
            return Ok(Err(Miss::Oversized {
                backend: dispatcher.name.clone(),
                answer_bytes: completion.text.len(),
                request_bytes: request_bytes(request),
                limit,
            }));
        }
        let text = self
            .template
            .strip_echo(&prompt::clean_answer(&completion.text));
        let problem = if text.is_empty() {
            Some(Problem::Empty)
        } else {
            validate(&text).err().map(Problem::Invalid)
        };
        if let Some(problem) = problem {
            stats.failures.fetch_add(1, Ordering::Relaxed);
            let why = problem.to_string();
            cache.put_invalid(key, self.stage, &dispatcher.name, &completion, &why)?;
            return Ok(Err(Miss::Unusable {
                backend: dispatcher.name.clone(),
                problem,
                cached: false,
            }));
        }
        let completion = Completion { text, ..completion };
        cache.put(key, self.stage, &dispatcher.name, &completion)?;
        Ok(Ok(Answer {
            text: completion.text,
            backend: dispatcher.name.clone(),
            cached: false,
        }))
    }

    /// The error once every backend failed; when each failed because it is down, the run
    /// stops sending.
    fn given_up(&self, errors: Vec<Miss>, unavailable: usize, too_long: bool) -> StageError {
        let misses = Misses(errors);
        let every_route_down = self
            .chain
            .iter()
            .all(|dispatcher| dispatcher.is_unavailable());
        if unavailable > 0 && every_route_down {
            self.shared.halt(
                Halt::EndpointsDown,
                &format!(
                    "error: every backend of the {} stage is down ({misses}); no new requests \
                     will be sent, writing what is done",
                    self.stage.as_str()
                ),
            );
        }
        if too_long && !misses.0.is_empty() {
            StageError::TooLong(misses)
        } else {
            StageError::Failed(misses)
        }
    }
}

/// The size of what a request sends: its prompt, or its bare input for MT APIs.
fn request_bytes(request: &Request) -> usize {
    request.system.len() + request.user.len() + request.input.len()
}
