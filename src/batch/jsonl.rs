//! The OpenAI batch format: one request per line in, one answer per line out.
//!
//! In: `{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`, the body
//! exactly what the live request would send. Out: `{"custom_id", "response": {"status_code",
//! "body"}, "error"}`, as OpenAI's batch API and vLLM's `run-batch` write it.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use super::Pending;
use crate::backend::http::{HttpSettings, Structured};
use crate::backend::{openai, Completion};

/// A batch file that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JsonlError {
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
    /// The batch output cannot be read; the error names the file (fs-err).
    #[error(transparent)]
    Read(#[from] std::io::Error),
}

/// One request as a batch line, for an endpoint with `settings`.
pub fn line(pending: &Pending, settings: &HttpSettings) -> Value {
    let way = match settings.structured {
        Structured::Auto => Structured::JsonSchema,
        chosen => chosen,
    };
    json!({
        "custom_id": pending.key,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": openai::request_body(settings, &pending.request, way),
    })
}

/// The batch file's text: one line per request.
pub fn text(
    batch: &[Pending],
    settings_of: &dyn Fn(&str) -> Option<HttpSettings>,
) -> Result<String, String> {
    let mut text = String::new();
    for pending in batch {
        let settings = settings_of(&pending.backend).ok_or_else(|| {
            format!(
                "backend `{}` is not an OpenAI-compatible one; batch jobs need `kind = \"openai\"`",
                pending.backend
            )
        })?;
        text.push_str(&line(pending, &settings).to_string());
        text.push('\n');
    }
    Ok(text)
}

/// Write `text` to `path` (atomically).
pub fn write(path: &Path, text: &str) -> Result<(), JsonlError> {
    Ok(crate::fsutil::write_atomic(path, text.as_bytes())?)
}

/// What a batch output holds: the answers by `custom_id`, and the lines that gave none.
#[derive(Debug, Default)]
pub struct Output {
    pub answers: HashMap<String, Completion>,
    /// `custom_id` (or line number) and why it has no answer.
    pub failed: Vec<(String, String)>,
}

impl Output {
    pub fn extend(&mut self, other: Output) {
        self.answers.extend(other.answers);
        self.failed.extend(other.failed);
    }
}

/// Read a batch output file; its failure notes name it.
pub fn read(path: &Path) -> Result<Output, JsonlError> {
    let text = fs_err::read_to_string(path)?;
    Ok(parse(&text, &path.display().to_string()))
}

/// Parse a batch output's lines; `origin` names the file in failure notes.
pub fn parse(text: &str, origin: &str) -> Output {
    let mut output = Output::default();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let label = || format!("{origin}:{}", number + 1);
        let value: Value = match serde_json::from_str(line) {
            Ok(value) => value,
            Err(error) => {
                output.failed.push((label(), format!("not JSON: {error}")));
                continue;
            }
        };
        let Some(id) = value.get("custom_id").and_then(Value::as_str) else {
            output.failed.push((label(), "no custom_id".into()));
            continue;
        };
        match answer(&value, &label()) {
            Ok(completion) => {
                output.answers.insert(id.to_string(), completion);
            }
            Err(why) => output.failed.push((id.to_string(), why)),
        }
    }
    output
}

/// The completion in one output line, or why there is none.
fn answer(value: &Value, label: &str) -> Result<Completion, String> {
    if let Some(error) = value.get("error").filter(|error| !error.is_null()) {
        return Err(format!("the job's error: {error}"));
    }
    let response = value.get("response").ok_or("no response")?;
    let status = response
        .get("status_code")
        .and_then(Value::as_u64)
        .unwrap_or(200);
    let body = response.get("body").ok_or("no response body")?;
    if status != 200 {
        return Err(format!("HTTP {status}: {body}"));
    }
    let body = match body {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    openai::parse_response(label, &body, 0).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Request, Stage};

    #[test]
    fn a_request_line_carries_the_cache_key_and_the_live_body() {
        let settings: HttpSettings =
            toml::from_str("base_url = \"http://127.0.0.1:1/v1\"\nmodel = \"m\"\nmax_tokens = 99")
                .unwrap();
        let pending = Pending {
            stage: Stage::Summarize,
            key: "abc".into(),
            backend: "api".into(),
            request: Request {
                stage: Stage::Summarize,
                input: "نص".into(),
                system: "sys".into(),
                user: "usr".into(),
                json_schema: Some(json!({"type": "object"})),
            },
        };
        let line = line(&pending, &settings);
        assert_eq!(line["custom_id"], "abc");
        assert_eq!(line["url"], "/v1/chat/completions");
        assert_eq!(line["body"]["model"], "m");
        assert_eq!(line["body"]["max_tokens"], 99);
        assert_eq!(line["body"]["messages"][1]["content"], "usr");
        assert_eq!(
            line["body"]["response_format"]["type"], "json_schema",
            "{line}"
        );
    }

    #[test]
    fn output_lines_give_answers_and_say_why_the_others_did_not() {
        let good = json!({"custom_id": "a", "response": {"status_code": 200, "body": {
            "choices": [{"message": {"content": "Hello"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2}}}, "error": null});
        let refused = json!({"custom_id": "b", "response": {"status_code": 400,
            "body": {"error": {"message": "bad"}}}, "error": null});
        let errored = json!({"custom_id": "c", "response": null,
            "error": {"code": "batch_expired", "message": "expired"}});
        let cut = json!({"custom_id": "d", "response": {"status_code": 200, "body": {
            "choices": [{"message": {"content": "Hel"}, "finish_reason": "length"}]}}});
        let text = format!("{good}\n{refused}\n\n{errored}\nnot json\n{cut}\n");
        let output = parse(&text, "out.jsonl");
        assert_eq!(output.answers.len(), 1);
        let answer = &output.answers["a"];
        assert_eq!(
            (
                answer.text.as_str(),
                answer.prompt_tokens,
                answer.completion_tokens
            ),
            ("Hello", 7, 2)
        );
        let failed: Vec<&str> = output.failed.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            failed,
            ["b", "c", "out.jsonl:5", "d"],
            "{:?}",
            output.failed
        );
        assert!(output.failed[1].1.contains("batch_expired"));
    }
}
