//! Any OpenAI-compatible chat-completions endpoint: OpenAI, vLLM, Ollama, llama.cpp server,
//! LM Studio.
//!
//! Building the request body ([`request_body`]) is separate from sending it, so tests can check
//! exactly what goes over the wire. The answer is checked before it is trusted: an error object
//! inside a 200, unparsable JSON, empty content and `finish_reason: "length"` are all failures,
//! and failures are never cached.

use serde_json::{json, Value};

use super::http::{self, HttpSettings};
use super::{BackendError, Completion, Request};

#[derive(Clone)]
pub struct OpenAiBackend {
    settings: HttpSettings,
    client: reqwest::Client,
}

impl OpenAiBackend {
    pub fn new(settings: HttpSettings) -> Self {
        let client = http::client(&settings);
        OpenAiBackend { settings, client }
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    pub async fn complete(&self, request: &Request) -> Result<Completion, BackendError> {
        let url = self.settings.endpoint("chat/completions");
        let mut builder = self
            .client
            .post(&url)
            .json(&request_body(&self.settings, request));
        if let Some(key) = self.settings.api_key() {
            builder = builder.bearer_auth(key);
        }
        let body = http::send(&self.settings, &url, builder).await?;
        parse_response(&http::redact_url(&url), &body, self.settings.max_tokens)
    }
}

/// The JSON body of a chat-completions request.
pub fn request_body(settings: &HttpSettings, request: &Request) -> Value {
    let mut body = json!({
        "model": settings.model,
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ],
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "stream": false,
    });
    if let Some(schema) = &request.json_schema {
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": {"name": request.stage.as_str(), "schema": schema, "strict": true},
        });
    }
    body
}

/// Check and unpack a chat-completions answer.
pub fn parse_response(url: &str, body: &str, max_tokens: u32) -> Result<Completion, BackendError> {
    let invalid = |detail: String| BackendError::InvalidResponse {
        url: url.to_string(),
        detail,
    };
    let value: Value = serde_json::from_str(body)
        .map_err(|error| invalid(format!("not JSON ({error}): {}", excerpt(body))))?;
    if let Some(error) = value.get("error").filter(|error| !error.is_null()) {
        return Err(invalid(format!(
            "error in a 200 answer: {}",
            excerpt(&error.to_string())
        )));
    }
    let choice = value
        .get("choices")
        .and_then(|choices| choices.get(0))
        .ok_or_else(|| invalid(format!("no choices: {}", excerpt(body))))?;
    if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
        return Err(BackendError::Truncated {
            url: url.to_string(),
            max_tokens,
        });
    }
    let text = choice
        .pointer("/message/content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(invalid("empty content".into()));
    }
    let usage = |name: &str| {
        value
            .pointer(&format!("/usage/{name}"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Ok(Completion {
        text: text.to_string(),
        prompt_tokens: usage("prompt_tokens"),
        prompt_tokens_reused: usage("prompt_tokens_details/cached_tokens"),
        completion_tokens: usage("completion_tokens"),
    })
}

fn excerpt(text: &str) -> String {
    let short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://mock/v1/chat/completions";

    #[test]
    fn a_good_answer_is_unpacked() {
        let body = r#"{"choices":[{"message":{"content":"Hello"},"finish_reason":"stop"}],
                       "usage":{"prompt_tokens":12,"completion_tokens":3,
                                "prompt_tokens_details":{"cached_tokens":8}}}"#;
        let completion = parse_response(URL, body, 100).unwrap();
        assert_eq!(
            completion,
            Completion {
                text: "Hello".into(),
                prompt_tokens: 12,
                prompt_tokens_reused: 8,
                completion_tokens: 3
            }
        );
    }

    #[test]
    fn bad_answers_are_errors() {
        let cases = [
            ("not json", "not JSON"),
            (
                r#"{"error":{"message":"overloaded"}}"#,
                "error in a 200 answer",
            ),
            (r#"{"choices":[]}"#, "no choices"),
            (
                r#"{"choices":[{"message":{"content":"  "}}]}"#,
                "empty content",
            ),
        ];
        for (body, expected) in cases {
            let error = parse_response(URL, body, 100).unwrap_err();
            assert!(
                matches!(error, BackendError::InvalidResponse { .. }),
                "{body}"
            );
            assert!(error.to_string().contains(expected), "{error}");
        }
        let truncated = r#"{"choices":[{"message":{"content":"Hel"},"finish_reason":"length"}]}"#;
        assert!(matches!(
            parse_response(URL, truncated, 100),
            Err(BackendError::Truncated { .. })
        ));
    }
}
