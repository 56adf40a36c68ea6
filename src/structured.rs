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
) -> Result<Structured, String> {
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
        Err(error @ (StageError::Interrupted | StageError::Halted(_) | StageError::Deferred)) => {
            return Err(error.to_string())
        }
        Err(error) => error.to_string(),
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
        Err(second) => Err(format!("{first_error}; retried with a reminder: {second}")),
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
