//! Sending requests to one configured backend: bounded concurrency, proactive rate limits,
//! retries with backoff, and the counters that end up in run.json.
//!
//! A [`Dispatcher`] is created per configured backend that a stage uses. The backend itself is
//! started lazily on the first request that misses the cache, so a fully cached rerun never
//! loads a model or opens a connection. Retries use `backon` (exponential backoff with jitter,
//! overridden by the server's `Retry-After`); rate limits use `governor` (requests and tokens
//! per minute).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};

use super::breaker::Breaker;
use super::BackendSettings;
use super::{Backend, BackendError, Completion, Request};

/// Counters for one backend, read when the run report is written.
#[derive(Debug, Default)]
pub struct DispatchStats {
    pub requests: AtomicU64,
    pub attempts: AtomicU64,
    pub failures: AtomicU64,
    pub prompt_tokens: AtomicU64,
    pub prompt_tokens_reused: AtomicU64,
    pub completion_tokens: AtomicU64,
    /// What its answers cost, in billionths of the price's currency unit.
    pub cost_nanos: AtomicU64,
}

/// A cost as the counters keep it: billionths of the currency unit.
pub fn nanos(cost: f64) -> u64 {
    (cost * 1e9).round() as u64
}

/// A cost from the counters' billionths.
pub fn from_nanos(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

impl DispatchStats {
    /// Count an answer that came from elsewhere (a batch job): one request, its tokens and
    /// its cost.
    pub fn count_answer(&self, completion: &Completion, cost: f64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.attempts.fetch_add(1, Ordering::Relaxed);
        self.prompt_tokens
            .fetch_add(completion.prompt_tokens, Ordering::Relaxed);
        self.prompt_tokens_reused
            .fetch_add(completion.prompt_tokens_reused, Ordering::Relaxed);
        self.completion_tokens
            .fetch_add(completion.completion_tokens, Ordering::Relaxed);
        self.cost_nanos.fetch_add(nanos(cost), Ordering::Relaxed);
    }

    /// Count what a request gave: its tokens when it succeeded, a failure otherwise (a stop
    /// is not a failure). A server that asked to wait longer than `max_retry_after` is
    /// reported as such.
    fn settle(
        &self,
        result: Result<Completion, BackendError>,
        max_retry_after: std::time::Duration,
    ) -> Result<Completion, BackendError> {
        let stats = self;
        match result {
            Ok(completion) => {
                stats
                    .prompt_tokens
                    .fetch_add(completion.prompt_tokens, Ordering::Relaxed);
                stats
                    .prompt_tokens_reused
                    .fetch_add(completion.prompt_tokens_reused, Ordering::Relaxed);
                stats
                    .completion_tokens
                    .fetch_add(completion.completion_tokens, Ordering::Relaxed);
                Ok(completion)
            }
            Err(BackendError::Http {
                url,
                status,
                retry_after: Some(wait),
                ..
            }) if wait > max_retry_after => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                Err(BackendError::RetryAfterTooLong {
                    url,
                    status,
                    wait,
                    cap: max_retry_after,
                })
            }
            Err(BackendError::Stopped) => Err(BackendError::Stopped),
            Err(error) => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                Err(error)
            }
        }
    }
}

/// How a failed request is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// A demanded `Retry-After` beyond this fails the request instead of sleeping.
    pub max_retry_after: Duration,
}

/// Counters of one endpoint over the whole run (every stage that uses its backend), for
/// run.json's `endpoints`.
#[derive(Debug, Default)]
pub struct EndpointStats {
    pub attempts: AtomicU64,
    pub failures: AtomicU64,
    pub cost_nanos: AtomicU64,
}

/// One endpoint of a backend: the backend's own, or one of its replicas. Each has its own
/// client (started on first use), slots, rate limits and circuit breaker.
struct Endpoint {
    label: String,
    settings: BackendSettings,
    backend: OnceCell<Backend>,
    permits: Semaphore,
    concurrency: usize,
    /// Requests holding or waiting for one of its slots: what "least loaded" compares.
    load: AtomicUsize,
    requests_per_minute: Option<DefaultDirectRateLimiter>,
    tokens_per_minute: Option<(DefaultDirectRateLimiter, NonZeroU32)>,
    breaker: Breaker,
    stats: EndpointStats,
}

impl Endpoint {
    fn new(backend_name: &str, settings: BackendSettings) -> Endpoint {
        let concurrency = settings.concurrency().max(1);
        let (rpm, tpm, breaker) = match settings.http() {
            Some(http) => (
                http.requests_per_minute,
                http.tokens_per_minute,
                Breaker::new(
                    backend_name,
                    http.breaker_failures,
                    Duration::from_secs(http.breaker_cooldown_s),
                ),
            ),
            // The embedded engine: one process, no endpoint to lose.
            None => (0, 0, Breaker::new(backend_name, 0, Duration::ZERO)),
        };
        Endpoint {
            label: settings.endpoint_label(),
            backend: OnceCell::new(),
            permits: Semaphore::new(concurrency),
            concurrency,
            load: AtomicUsize::new(0),
            requests_per_minute: NonZeroU32::new(rpm)
                .map(|n| RateLimiter::direct(Quota::per_minute(n))),
            tokens_per_minute: NonZeroU32::new(tpm)
                .map(|n| (RateLimiter::direct(Quota::per_minute(n)), n)),
            breaker,
            stats: EndpointStats::default(),
            settings,
        }
    }

    /// Start the backend if this is the first request that needs it.
    async fn backend(&self) -> Result<&Backend, BackendError> {
        self.backend
            .get_or_try_init(|| async {
                let settings = self.settings.clone();
                tokio::task::spawn_blocking(move || Backend::start(&settings))
                    .await
                    .map_err(|error| {
                        BackendError::Engine(format!("backend start panicked: {error}"))
                    })?
            })
            .await
    }

    async fn wait_for_rate_limits(&self, estimated_tokens: usize) {
        if let Some(limiter) = &self.requests_per_minute {
            limiter.until_ready().await;
        }
        if let Some((limiter, burst)) = &self.tokens_per_minute {
            let tokens = u32::try_from(estimated_tokens.max(1))
                .unwrap_or(u32::MAX)
                .min(burst.get());
            if let Some(tokens) = NonZeroU32::new(tokens) {
                // Cannot fail: `tokens` is capped at the burst size.
                let _ = limiter.until_n_ready(tokens).await;
            }
        }
    }
}

/// One slot on one endpoint, held for one attempt.
struct Slot<'a> {
    index: usize,
    _permit: SemaphorePermit<'a>,
    _load: Load<'a>,
}

/// An endpoint's load, counted while a request holds or waits for one of its slots.
struct Load<'a>(&'a AtomicUsize);

impl<'a> Load<'a> {
    fn add(load: &'a AtomicUsize) -> Load<'a> {
        load.fetch_add(1, Ordering::Relaxed);
        Load(load)
    }
}

impl Drop for Load<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One endpoint's share of the run, for run.json.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EndpointShare {
    pub endpoint: String,
    pub attempts: u64,
    pub failures: u64,
    /// What its answers cost (0 without a price).
    pub cost: f64,
    /// Its circuit breaker was open when the run ended (it was cooling down).
    pub cooling_down: bool,
}

/// What one request's attempts share: the one slot it holds (a retry that moves to another
/// endpoint gives it up before waiting for one there, so no request holds one slot while
/// waiting for another, which could deadlock two busy endpoints), and where it last failed.
struct RequestState<'a> {
    held: std::sync::Mutex<Option<Slot<'a>>>,
    held_index: AtomicUsize,
    failed_on: AtomicUsize,
}

pub struct Dispatcher {
    pub name: String,
    pub settings: BackendSettings,
    endpoints: Vec<Endpoint>,
    /// Requests all its endpoints take in flight at once.
    pub concurrency: usize,
    retry: RetryPolicy,
    /// Where the next pick starts looking, so that ties go round the endpoints.
    turn: AtomicUsize,
}

impl Dispatcher {
    pub fn new(name: &str, settings: &BackendSettings) -> Arc<Dispatcher> {
        let retry = match settings.http() {
            Some(http) => RetryPolicy {
                max_attempts: http.max_attempts.max(1),
                base: Duration::from_millis(http.backoff_base_ms),
                cap: Duration::from_millis(http.backoff_cap_ms),
                max_retry_after: Duration::from_secs(http.max_retry_after_s),
            },
            // The embedded engine: nothing worth retrying.
            None => RetryPolicy {
                max_attempts: 1,
                base: Duration::ZERO,
                cap: Duration::ZERO,
                max_retry_after: Duration::ZERO,
            },
        };
        let endpoints: Vec<Endpoint> = settings
            .endpoints()
            .into_iter()
            .map(|endpoint| Endpoint::new(name, endpoint))
            .collect();
        Arc::new(Dispatcher {
            name: name.to_string(),
            settings: settings.clone(),
            concurrency: endpoints.iter().map(|e| e.concurrency).sum(),
            endpoints,
            retry,
            turn: AtomicUsize::new(0),
        })
    }

    /// The least-loaded endpoint that takes new requests (its breaker closed), `avoid` (the
    /// endpoint that just failed this request) last. `Err` when none takes new requests now.
    fn pick(&self, avoid: Option<usize>) -> Result<usize, BackendError> {
        let mut refusal = None;
        let mut best: Option<(usize, (bool, usize))> = None;
        // Ties (an idle cluster) go round: each pick starts one endpoint further on.
        let count = self.endpoints.len();
        let start = self.turn.fetch_add(1, Ordering::Relaxed) % count;
        for index in (start..count).chain(0..start) {
            let endpoint = &self.endpoints[index];
            if let Err(error) = endpoint.breaker.admit_new() {
                refusal.get_or_insert(error);
                continue;
            }
            // Load per slot, scaled so that it compares without division.
            let load = endpoint.load.load(Ordering::Relaxed) * 1024 / endpoint.concurrency;
            let rank = (avoid == Some(index) && self.endpoints.len() > 1, load);
            if best.is_none_or(|(_, best_rank)| rank < best_rank) {
                best = Some((index, rank));
            }
        }
        match best {
            Some((index, _)) => Ok(index),
            None => Err(refusal.unwrap_or(BackendError::Stopped)),
        }
    }

    /// Wait for a slot on endpoint `index`.
    async fn acquire(&self, index: usize) -> Result<Slot<'_>, BackendError> {
        let endpoint = &self.endpoints[index];
        let load = Load::add(&endpoint.load);
        let permit = endpoint
            .permits
            .acquire()
            .await
            .map_err(|_| BackendError::Engine("dispatcher closed".into()))?;
        Ok(Slot {
            index,
            _permit: permit,
            _load: load,
        })
    }

    /// The slot a request holds from its start to its end: on the least-loaded endpoint,
    /// waiting in its queue when every slot is taken. An endpoint whose breaker opened while
    /// the request waited refuses it then; with replicas another is picked.
    async fn request_slot(&self) -> Result<Slot<'_>, BackendError> {
        let mut avoid = None;
        for _ in 0..self.endpoints.len() {
            let slot = self.acquire(self.pick(avoid)?).await?;
            match self.endpoints[slot.index].breaker.admit_new() {
                Ok(()) => return Ok(slot),
                Err(refused) if self.endpoints.len() == 1 => return Err(refused),
                Err(_) => avoid = Some(slot.index),
            }
        }
        let slot = self.acquire(self.pick(avoid)?).await?;
        self.endpoints[slot.index].breaker.admit_new()?;
        Ok(slot)
    }

    /// Send one request: wait for a slot and the rate limits, then try up to `max_attempts`
    /// times. The request holds its slot until it ends (retries included), so a dead endpoint
    /// sees no more requests than its `concurrency` before its breaker opens. With replicas
    /// each attempt goes to the least-loaded endpoint that takes requests, another than the one
    /// that just failed it when it can, moving its slot there. `estimated_tokens`
    /// feeds the tokens-per-minute limit; `stats` is the calling stage's counters (one
    /// dispatcher serves every stage that names its backend, so a model is loaded once and the
    /// concurrency bound holds across stages).
    pub async fn complete(
        &self,
        request: &Request,
        estimated_tokens: usize,
        stats: &DispatchStats,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Completion, BackendError> {
        // An open breaker on every endpoint refuses before anything is counted: nothing is sent.
        let first = self.request_slot().await?;
        if stop() {
            return Err(BackendError::Stopped);
        }
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let state = RequestState {
            held_index: AtomicUsize::new(first.index),
            held: std::sync::Mutex::new(Some(first)),
            failed_on: AtomicUsize::new(usize::MAX),
        };
        let replicated = self.endpoints.len() > 1;
        let policy = self.retry;
        let attempt = || self.attempt(&state, request, estimated_tokens, stats, stop);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.base)
            .with_max_delay(policy.cap)
            .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        let result = attempt
            .retry(backoff)
            .when(|error| is_retryable_here(error, replicated))
            .adjust(|error, delay| {
                let delay = delay?;
                match error {
                    BackendError::Http {
                        retry_after: Some(wait),
                        ..
                    } if *wait > policy.max_retry_after => None,
                    BackendError::Http {
                        retry_after: Some(wait),
                        ..
                    } => Some(*wait),
                    _ => Some(delay),
                }
            })
            .notify(|error, delay| {
                tracing::debug!(backend = %self.name, "retrying in {delay:?}: {error}");
            })
            .await;
        if !replicated
            && !matches!(
                result,
                Err(BackendError::Unavailable { .. } | BackendError::Stopped)
            )
        {
            self.endpoints[0].breaker.record(&result);
        }
        if let Ok(completion) = &result {
            let cost = self.cost(request, completion, false);
            stats.cost_nanos.fetch_add(nanos(cost), Ordering::Relaxed);
        }
        stats.settle(result, policy.max_retry_after)
    }

    /// What `completion`, the answer to `request`, cost at this backend's price: its tokens
    /// for a chat endpoint, the source's characters for an MT API; at the batch price when it
    /// came from a batch job.
    pub fn cost(&self, request: &Request, completion: &Completion, batch: bool) -> f64 {
        let price = self.settings.price();
        let characters = if self.settings.reads_prompts() {
            0
        } else {
            request.input.chars().count() as u64
        };
        let cost = price.cost(
            completion.prompt_tokens,
            completion.completion_tokens,
            characters,
        );
        if batch {
            cost * price.batch_factor
        } else {
            cost
        }
    }

    /// One attempt of a request: on the endpoint whose slot it holds, or, with replicas and
    /// when that endpoint just failed it, on the least-loaded other one (the slot moves there).
    async fn attempt<'a>(
        &'a self,
        state: &RequestState<'a>,
        request: &Request,
        estimated_tokens: usize,
        stats: &DispatchStats,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Completion, BackendError> {
        let replicated = self.endpoints.len() > 1;
        let last_failed = state.failed_on.load(Ordering::Relaxed);
        let mut avoid = (last_failed != usize::MAX).then_some(last_failed);
        let mut tries_left = self.endpoints.len();
        loop {
            let current = state.held_index.load(Ordering::Relaxed);
            let index = if replicated && avoid == Some(current) {
                self.pick(avoid)?
            } else {
                current
            };
            if index != current {
                drop(lock(&state.held).take());
                let slot = self.acquire(index).await?;
                *lock(&state.held) = Some(slot);
                state.held_index.store(index, Ordering::Relaxed);
            }
            let endpoint = &self.endpoints[index];
            endpoint.wait_for_rate_limits(estimated_tokens).await;
            if stop() {
                return Err(BackendError::Stopped);
            }
            if let Err(refused) = endpoint.breaker.admit() {
                // Opened since it was picked: with replicas, another one may take it.
                tries_left -= 1;
                if replicated && tries_left > 0 {
                    avoid = Some(index);
                    continue;
                }
                return Err(refused);
            }
            stats.attempts.fetch_add(1, Ordering::Relaxed);
            endpoint.stats.attempts.fetch_add(1, Ordering::Relaxed);
            let result = match endpoint.backend().await {
                Ok(backend) => backend.complete(request).await,
                Err(error) => Err(error),
            };
            match &result {
                Ok(completion) => {
                    let cost = self.cost(request, completion, false);
                    endpoint
                        .stats
                        .cost_nanos
                        .fetch_add(nanos(cost), Ordering::Relaxed);
                }
                Err(_) => {
                    endpoint.stats.failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            let failed = if result.is_err() { index } else { usize::MAX };
            state.failed_on.store(failed, Ordering::Relaxed);
            // With replicas a retry goes to another endpoint, so each attempt speaks about its
            // own; alone, the breaker counts requests after their retries (in `complete`).
            if replicated && !matches!(result, Err(BackendError::Stopped)) {
                endpoint.breaker.record(&result);
            }
            return result;
        }
    }

    /// How this backend asks for JSON answers now (chat endpoints that have been started):
    /// the setting, or where `structured = "auto"` stepped down to.
    pub fn structured(&self) -> Option<&'static str> {
        self.endpoints
            .iter()
            .find_map(|endpoint| match endpoint.backend.get()? {
                Backend::OpenAi(backend) => Some(backend.structured().as_str()),
                _ => None,
            })
    }

    /// Each endpoint's share of the run so far.
    pub fn endpoint_shares(&self) -> Vec<EndpointShare> {
        self.endpoints
            .iter()
            .map(|endpoint| EndpointShare {
                endpoint: endpoint.label.clone(),
                attempts: endpoint.stats.attempts.load(Ordering::Relaxed),
                failures: endpoint.stats.failures.load(Ordering::Relaxed),
                cost: from_nanos(endpoint.stats.cost_nanos.load(Ordering::Relaxed)),
                cooling_down: endpoint.breaker.is_open(),
            })
            .collect()
    }

    /// Whether every endpoint's circuit breaker is open now.
    pub fn is_unavailable(&self) -> bool {
        self.endpoints
            .iter()
            .all(|endpoint| endpoint.breaker.is_open())
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether a failed attempt is worth another: the transient failures, and with replicas also
/// a failure that speaks about the endpoint (connection refused, a 401), since the next
/// attempt goes to another one; an open breaker on every endpoint is never retried.
fn is_retryable_here(error: &BackendError, replicated: bool) -> bool {
    error.is_retryable()
        || (replicated
            && error.counts_against_endpoint()
            && !matches!(error, BackendError::Unavailable { .. }))
}
