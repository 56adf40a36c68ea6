//! Why a stage got no answer. The error keeps what each backend of the chain did (a failed
//! request, an unusable answer, an oversized one) until the pipeline writes it into a record or
//! a report, so callers decide on kinds (an empty answer is asked again; a too-long input is
//! split), never on the wording of a message.

use crate::backend::BackendError;
use crate::cache::CacheError;

/// Why a stage got no answer.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("not sent: the run was interrupted")]
    Interrupted,
    #[error("not sent: {0}")]
    Halted(Halt),
    /// Batch mode: collected for the stage's batch job instead of sent.
    #[error("not sent yet: collected for a batch job")]
    Deferred,
    /// Every backend said the input is too long; the caller may split it.
    #[error("{0}")]
    TooLong(Misses),
    /// No backend of the chain gave a usable answer.
    #[error("{0}")]
    Failed(Misses),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl StageError {
    /// Whether a backend's answer was empty (a small model's silence, worth asking again).
    pub fn is_empty_answer(&self) -> bool {
        match self {
            StageError::TooLong(misses) | StageError::Failed(misses) => {
                misses.0.iter().any(Miss::is_empty_answer)
            }
            _ => false,
        }
    }

    /// Whether the run stopped sending (interrupted, halted, or collecting for a batch job),
    /// rather than the backends failing this request.
    pub fn is_stop(&self) -> bool {
        matches!(
            self,
            StageError::Interrupted | StageError::Halted(_) | StageError::Deferred
        )
    }
}

/// What each backend of a chain did instead of answering, in the order they were asked.
#[derive(Debug, Default)]
pub struct Misses(pub Vec<Miss>);

impl std::fmt::Display for Misses {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, miss) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str("; then ")?;
            }
            write!(formatter, "{miss}")?;
        }
        Ok(())
    }
}

/// What one backend did with a request instead of giving a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum Miss {
    /// The request failed.
    #[error("{backend}: {error}")]
    Failed {
        backend: String,
        error: BackendError,
    },
    /// The backend answered; the answer failed the stage's check. `cached`: the answer was
    /// found in the cache as unusable, and is not asked for again unless `--retry-invalid`.
    #[error(
        "{backend}: unusable answer{}: {problem}",
        if *cached { " (cached; --retry-invalid asks again)" } else { "" }
    )]
    Unusable {
        backend: String,
        problem: Problem,
        cached: bool,
    },
    /// An answer far longer than the request warrants: not read further, not cached.
    #[error(
        "{backend}: an answer of {answer_bytes} bytes to a request of {request_bytes} bytes is \
         over the {limit}-byte limit; not cached"
    )]
    Oversized {
        backend: String,
        answer_bytes: usize,
        request_bytes: usize,
        limit: usize,
    },
}

impl Miss {
    fn is_empty_answer(&self) -> bool {
        matches!(
            self,
            Miss::Unusable {
                problem: Problem::Empty,
                ..
            } | Miss::Failed {
                error: BackendError::EmptyContent { .. },
                ..
            }
        )
    }
}

/// Why an answer is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Nothing left once the answer was cleaned.
    Empty,
    /// The stage's check refused it, saying why.
    Invalid(String),
}

impl Problem {
    const EMPTY: &'static str = "the answer was empty";

    /// The problem as the cache stores it (its text).
    pub fn from_cached(text: &str) -> Problem {
        if text == Problem::EMPTY {
            Problem::Empty
        } else {
            Problem::Invalid(text.to_string())
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Empty => formatter.write_str(Problem::EMPTY),
            Problem::Invalid(why) => formatter.write_str(why),
        }
    }
}

/// Why a run stopped sending before it was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Halt {
    /// A backend said the account is out of quota.
    QuotaExhausted,
    /// Every backend of a stage has its circuit breaker open.
    EndpointsDown,
    /// The run's deadline passed.
    DeadlinePassed,
    /// The answers have cost `--max-cost`.
    CostCapReached,
}

impl std::fmt::Display for Halt {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Halt::QuotaExhausted => "a backend's quota is exhausted",
            Halt::EndpointsDown => "every backend of a stage is down",
            Halt::DeadlinePassed => "the run's deadline passed",
            Halt::CostCapReached => "the run's cost cap (--max-cost) was reached",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unusable(problem: Problem, cached: bool) -> Miss {
        Miss::Unusable {
            backend: "local".into(),
            problem,
            cached,
        }
    }

    #[test]
    fn misses_read_in_the_order_they_happened() {
        let misses = Misses(vec![
            Miss::Failed {
                backend: "remote".into(),
                error: BackendError::Timeout {
                    url: "http://127.0.0.1:9/v1".into(),
                    seconds: 30,
                },
            },
            unusable(Problem::Invalid("not the JSON asked for".into()), true),
        ]);
        assert_eq!(
            StageError::Failed(misses).to_string(),
            "remote: request to http://127.0.0.1:9/v1 timed out after 30 s; then local: \
             unusable answer (cached; --retry-invalid asks again): not the JSON asked for"
        );
    }

    #[test]
    fn an_empty_answer_is_known_by_its_kind_not_its_wording() {
        let empty = StageError::Failed(Misses(vec![unusable(Problem::Empty, false)]));
        assert!(empty.is_empty_answer());
        let http_empty = StageError::Failed(Misses(vec![Miss::Failed {
            backend: "remote".into(),
            error: BackendError::EmptyContent {
                url: "http://127.0.0.1:9/v1".into(),
            },
        }]));
        assert!(http_empty.is_empty_answer());
        // A check whose message mentions emptiness is not an empty answer.
        let worded = StageError::Failed(Misses(vec![unusable(
            Problem::Invalid("the summary is empty".into()),
            false,
        )]));
        assert!(!worded.is_empty_answer());
        assert!(!StageError::Interrupted.is_empty_answer());
    }

    #[test]
    fn the_cache_keeps_the_problem_as_text_and_gives_back_its_kind() {
        for problem in [Problem::Empty, Problem::Invalid("no key points".into())] {
            assert_eq!(Problem::from_cached(&problem.to_string()), problem);
        }
    }
}
