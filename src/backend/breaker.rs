//! A circuit breaker per endpoint, so that a dead endpoint fails a night in seconds, not hours.
//!
//! Without it every chunk pays the whole retry schedule against a server that refuses
//! connections or never answers. The breaker counts consecutive requests that failed, after
//! their retries, in a way that speaks about the endpoint rather than the request
//! ([`BackendError::counts_against_endpoint`]): retries absorb a burst of errors, so only an
//! endpoint that stays down opens it. (A backend with replicas has one breaker per endpoint,
//! and each counts failed *attempts*, since a retry goes to another endpoint.) At `threshold` it opens, and every attempt (the retries
//! of requests in flight included) fails at once with [`BackendError::Unavailable`] for
//! `cooldown`. Then it half-opens: one trial is let through, and its outcome closes the breaker
//! or opens it again. Any success closes it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::BackendError;

pub struct Breaker {
    backend: String,
    /// Consecutive failures that open the breaker; 0 disables it.
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    consecutive_failures: u32,
    last_error: String,
    /// Set while open: no attempt before this moment.
    open_until: Option<Instant>,
    /// A half-open trial is in flight; other attempts wait for its verdict by failing fast.
    trial_in_flight: bool,
}

impl Breaker {
    pub fn new(backend: &str, threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            backend: backend.to_string(),
            threshold,
            cooldown,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// May an attempt go out now? `Err` when the breaker is open, or half-open with its trial
    /// already in flight.
    pub fn admit(&self) -> Result<(), BackendError> {
        if self.threshold == 0 {
            return Ok(());
        }
        let mut state = self.lock();
        let Some(open_until) = state.open_until else {
            return Ok(());
        };
        if Instant::now() >= open_until && !state.trial_in_flight {
            state.trial_in_flight = true;
            return Ok(());
        }
        Err(self.unavailable(&state))
    }

    /// May a new request start? Like [`Breaker::admit`], but without taking the half-open
    /// trial: the request's first attempt takes it.
    pub fn admit_new(&self) -> Result<(), BackendError> {
        if self.threshold == 0 {
            return Ok(());
        }
        let state = self.lock();
        match state.open_until {
            Some(open_until) if Instant::now() < open_until || state.trial_in_flight => {
                Err(self.unavailable(&state))
            }
            _ => Ok(()),
        }
    }

    fn unavailable(&self, state: &State) -> BackendError {
        BackendError::Unavailable {
            backend: self.backend.clone(),
            failures: state.consecutive_failures,
            last: state.last_error.clone(),
            cooldown_s: self.cooldown.as_secs(),
        }
    }

    /// Record the outcome of an admitted request, after its retries.
    pub fn record<T>(&self, outcome: &Result<T, BackendError>) {
        if self.threshold == 0 {
            return;
        }
        let mut state = self.lock();
        state.trial_in_flight = false;
        match outcome {
            Ok(_) => *state = State::default(),
            Err(error) if error.counts_against_endpoint() => {
                state.consecutive_failures += 1;
                state.last_error = error.to_string();
                if state.consecutive_failures >= self.threshold {
                    state.open_until = Some(Instant::now() + self.cooldown);
                }
            }
            // A failure about the request itself (too long, a 400) says nothing about the
            // endpoint, except that it answers.
            Err(_) => {
                state.consecutive_failures = 0;
                state.open_until = None;
            }
        }
    }

    /// Whether the breaker is open now (for reports).
    pub fn is_open(&self) -> bool {
        self.threshold > 0 && self.lock().open_until.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> Result<(), BackendError> {
        Err(BackendError::Timeout {
            url: "http://127.0.0.1:9/v1".into(),
            seconds: 1,
        })
    }

    #[test]
    fn opens_after_the_threshold_half_opens_after_the_cooldown_and_closes_on_success() {
        let breaker = Breaker::new("mock", 3, Duration::from_millis(50));
        for _ in 0..3 {
            breaker.admit().unwrap();
            breaker.record(&refused());
        }
        let error = breaker.admit().unwrap_err();
        assert!(
            error.to_string().contains("its last 3 attempts failed"),
            "{error}"
        );
        std::thread::sleep(Duration::from_millis(60));
        breaker.admit().expect("the trial goes out");
        assert!(breaker.admit().is_err(), "one trial at a time");
        breaker.record(&refused());
        assert!(breaker.admit().is_err(), "a failed trial opens it again");
        std::thread::sleep(Duration::from_millis(60));
        breaker.admit().unwrap();
        breaker.record(&Ok::<(), BackendError>(()));
        assert!(!breaker.is_open());
        breaker.admit().unwrap();
        breaker.admit().unwrap();
    }

    #[test]
    fn request_errors_do_not_count_and_zero_disables() {
        let breaker = Breaker::new("mock", 2, Duration::from_secs(60));
        let bad_request: Result<(), BackendError> = Err(BackendError::Http {
            url: "u".into(),
            status: 400,
            body: "bad".into(),
            retry_after: None,
        });
        for _ in 0..5 {
            breaker.admit().unwrap();
            breaker.record(&bad_request);
        }
        assert!(!breaker.is_open());
        let off = Breaker::new("mock", 0, Duration::from_secs(60));
        for _ in 0..5 {
            off.admit().unwrap();
            off.record(&refused());
        }
        assert!(off.admit().is_ok());
    }
}
