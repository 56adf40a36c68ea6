//! Sending requests to one configured backend: bounded concurrency, proactive rate limits,
//! retries with backoff, and the counters that end up in run.json.
//!
//! A [`Dispatcher`] is created per configured backend that a stage uses. The backend itself is
//! started lazily on the first request that misses the cache, so a fully cached rerun never
//! loads a model or opens a connection. Retries use `backon` (exponential backoff with jitter,
//! overridden by the server's `Retry-After`); rate limits use `governor` (requests and tokens
//! per minute).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OnceCell, Semaphore};

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
}

impl DispatchStats {
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

pub struct Dispatcher {
    pub name: String,
    pub settings: BackendSettings,
    backend: OnceCell<Backend>,
    permits: Semaphore,
    /// Requests this backend takes in flight at once.
    pub concurrency: usize,
    retry: RetryPolicy,
    requests_per_minute: Option<DefaultDirectRateLimiter>,
    tokens_per_minute: Option<(DefaultDirectRateLimiter, NonZeroU32)>,
    breaker: Breaker,
}

impl Dispatcher {
    pub fn new(name: &str, settings: &BackendSettings) -> Arc<Dispatcher> {
        let concurrency = settings.concurrency();
        let (retry, rpm, tpm, breaker) = match settings.http() {
            Some(http) => (
                RetryPolicy {
                    max_attempts: http.max_attempts.max(1),
                    base: Duration::from_millis(http.backoff_base_ms),
                    cap: Duration::from_millis(http.backoff_cap_ms),
                    max_retry_after: Duration::from_secs(http.max_retry_after_s),
                },
                http.requests_per_minute,
                http.tokens_per_minute,
                Breaker::new(
                    name,
                    http.breaker_failures,
                    Duration::from_secs(http.breaker_cooldown_s),
                ),
            ),
            // The embedded engine: one process, no endpoint to lose, nothing worth retrying.
            None => (
                RetryPolicy {
                    max_attempts: 1,
                    base: Duration::ZERO,
                    cap: Duration::ZERO,
                    max_retry_after: Duration::ZERO,
                },
                0,
                0,
                Breaker::new(name, 0, Duration::ZERO),
            ),
        };
        Arc::new(Dispatcher {
            name: name.to_string(),
            settings: settings.clone(),
            backend: OnceCell::new(),
            permits: Semaphore::new(concurrency.max(1)),
            concurrency: concurrency.max(1),
            retry,
            requests_per_minute: NonZeroU32::new(rpm)
                .map(|n| RateLimiter::direct(Quota::per_minute(n))),
            tokens_per_minute: NonZeroU32::new(tpm)
                .map(|n| (RateLimiter::direct(Quota::per_minute(n)), n)),
            breaker,
        })
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

    /// Send one request: wait for a slot and the rate limits, then try up to `max_attempts`
    /// times. `estimated_tokens` feeds the tokens-per-minute limit; `stats` is the calling
    /// stage's counters (one dispatcher serves every stage that names its backend, so a model
    /// is loaded once and the concurrency bound holds across stages).
    pub async fn complete(
        &self,
        request: &Request,
        estimated_tokens: usize,
        stats: &DispatchStats,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Completion, BackendError> {
        let backend = self.backend().await?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| BackendError::Engine("dispatcher closed".into()))?;
        if stop() {
            return Err(BackendError::Stopped);
        }
        // An open breaker refuses before anything is counted: nothing is sent.
        self.breaker.admit_new()?;
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let policy = self.retry;
        let attempt = || async {
            self.wait_for_rate_limits(estimated_tokens).await;
            if stop() {
                return Err(BackendError::Stopped);
            }
            self.breaker.admit()?;
            stats.attempts.fetch_add(1, Ordering::Relaxed);
            backend.complete(request).await
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.base)
            .with_max_delay(policy.cap)
            .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        let result = attempt
            .retry(backoff)
            .when(BackendError::is_retryable)
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
        if !matches!(
            result,
            Err(BackendError::Unavailable { .. } | BackendError::Stopped)
        ) {
            self.breaker.record(&result);
        }
        stats.settle(result, policy.max_retry_after)
    }

    /// Whether this backend's circuit breaker is open now.
    /// How this backend asks for JSON answers now (chat endpoints that have been started):
    /// the setting, or where `structured = "auto"` stepped down to.
    pub fn structured(&self) -> Option<&'static str> {
        match self.backend.get()? {
            Backend::OpenAi(backend) => Some(backend.structured().as_str()),
            _ => None,
        }
    }

    pub fn is_unavailable(&self) -> bool {
        self.breaker.is_open()
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
