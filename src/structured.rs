//! Asking a stage for structured (JSON) output, with one stricter retry.
//!
//! The schema goes to the backend (grammar-constrained where the backend can) and the answer is
//! validated before it is cached, so a malformed answer is never stored. When every backend's
//! answer is unusable, the question is asked once more with a reminder appended to the prompt:
//! the prompt differs, so the cache key differs and the retry is a real request. Whoever calls
//! this decides what to build when the retry fails too (the extractive path).

use crate::stage::{Answer, StageError, StageRunner};

/// Appended to the prompt for the second try.
pub const STRICT_REMINDER: &str = "\n\nREMINDER: your previous answer could not be used. Reply \
with one JSON object that matches the schema exactly: no prose, no Markdown fences, every \
required field present.";

/// Why a structured answer could not be had.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// Not asked again: the run stopped sending.
    #[error(transparent)]
    Stopped(StageError),
    /// Unusable twice: the first answer, and the retry with a reminder.
    #[error("{first}; retried with a reminder: {second}")]
    Retried {
        first: StageError,
        second: StageError,
    },
    /// An answer that passed the stage's check but not the caller's reading of it.
    #[error("{0}")]
    Unreadable(String),
    /// Not asked: the input holds nothing to ask about.
    #[error("{0}")]
    NothingToAsk(&'static str),
}

/// A structured answer and whether it took the retry.
#[derive(Debug, Clone)]
pub struct Structured {
    pub answer: Answer,
    pub retried: bool,
}

/// Ask `runner` for JSON matching `schema` (checked by `validate`); retry once with
/// [`STRICT_REMINDER`] when the answer is unusable. `values` must not contain `reminder`.
pub async fn ask_json(
    runner: &StageRunner,
    values: &[(&str, &str)],
    input: &str,
    schema: &serde_json::Value,
    validate: &(dyn Fn(&str) -> Result<(), String> + Sync),
) -> Result<Structured, AskError> {
    let mut first_values = values.to_vec();
    first_values.push(("reminder", ""));
    let first = runner
        .ask(&first_values, input, Some(schema), validate)
        .await;
    let first_error = match first {
        Ok(answer) => {
            return Ok(Structured {
                answer,
                retried: false,
            })
        }
        Err(error) if error.is_stop() => return Err(AskError::Stopped(error)),
        Err(error) => error,
    };
    let mut second_values = values.to_vec();
    second_values.push(("reminder", STRICT_REMINDER));
    match runner
        .ask(&second_values, input, Some(schema), validate)
        .await
    {
        Ok(answer) => Ok(Structured {
            answer,
            retried: true,
        }),
        Err(second) => Err(AskError::Retried {
            first: first_error,
            second,
        }),
    }
}

/// Strip a Markdown code fence a model may wrap JSON in.
pub fn unfence(text: &str) -> &str {
    let trimmed = text.trim();
    let Some(inner) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let inner = inner.strip_prefix("json").unwrap_or(inner);
    inner.strip_suffix("```").unwrap_or(inner).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_are_removed() {
        assert_eq!(unfence("```json\n{\"a\":1}\n```"), "{\"a\":1}");
        assert_eq!(unfence(" {\"a\":1} "), "{\"a\":1}");
        assert_eq!(unfence("```"), "");
    }
}
