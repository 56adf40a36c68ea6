//! Any OpenAI-compatible chat-completions endpoint: OpenAI, vLLM, Ollama, llama.cpp server,
//! LM Studio.
//!
//! Building the request body ([`request_body`]) is separate from sending it, so tests can check
//! exactly what goes over the wire. The answer is checked before it is trusted: an error object
//! inside a 200, unparsable JSON, empty content and `finish_reason: "length"` are all failures,
//! and failures are never cached.
//!
//! Servers differ in how they take a request for JSON: OpenAI and vLLM take a `json_schema`
//! `response_format`, llama-cpp-python only `json_object` with a `schema`, others none. With
//! `structured = "auto"` the backend starts with `json_schema` and, when the endpoint refuses
//! a request because of its `response_format` (an HTTP 4xx or 5xx whose body names it), steps
//! down to `json_object`, then to the schema in the prompt, at once and for the rest of the run;
//! the way in use is reported in run.json. The answer is validated against the schema whichever
//! way it was asked.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::http::{self, HttpSettings, Structured};
use super::{BackendError, Completion, Request};

#[derive(Clone)]
pub struct OpenAiBackend {
    settings: HttpSettings,
    client: reqwest::Client,
    /// How JSON is asked for now (`auto` starts at `json_schema` and may step down).
    structured: Arc<Mutex<Structured>>,
}

impl OpenAiBackend {
    pub fn new(settings: HttpSettings) -> Self {
        let client = http::client(&settings);
        let structured = match settings.structured {
            Structured::Auto => Structured::JsonSchema,
            chosen => chosen,
        };
        OpenAiBackend {
            settings,
            client,
            structured: Arc::new(Mutex::new(structured)),
        }
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// How JSON answers are asked for now: the setting, or where `auto` has stepped down to.
    pub fn structured(&self) -> Structured {
        *self.structured.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn complete(&self, request: &Request) -> Result<Completion, BackendError> {
        loop {
            let way = self.structured();
            match self.send(request, way).await {
                Err(error) if request.json_schema.is_some() && self.may_step_down(&error) => {
                    let Some(next) = way.step_down() else {
                        return Err(error);
                    };
                    let mut current = self.structured.lock().unwrap_or_else(|p| p.into_inner());
                    if *current == way {
                        tracing::warn!(
                            "{}: refused response_format {}; asking for JSON as {} from now on",
                            http::redact_url(&self.settings.base_url),
                            way.as_str(),
                            next.as_str()
                        );
                        *current = next;
                    }
                }
                result => return result,
            }
        }
    }

    async fn send(&self, request: &Request, way: Structured) -> Result<Completion, BackendError> {
        let url = self.settings.endpoint("chat/completions");
        let mut builder = self
            .client
            .post(&url)
            .json(&request_body(&self.settings, request, way));
        if let Some(key) = self.settings.api_key() {
            builder = builder.bearer_auth(key);
        }
        let body = http::send(&self.settings, &url, builder).await?;
        parse_response(&http::redact_url(&url), &body, self.settings.max_tokens)
    }

    /// `auto` steps down when the endpoint refused the request because of its
    /// `response_format`.
    fn may_step_down(&self, error: &BackendError) -> bool {
        if self.settings.structured != Structured::Auto {
            return false;
        }
        let body = match error {
            BackendError::Http { status, body, .. } if *status >= 400 => body,
            BackendError::Refused { detail, .. } => detail,
            _ => return false,
        };
        let body = body.to_lowercase();
        body.contains("response_format") || body.contains("json_schema")
    }
}

/// The JSON body of a chat-completions request, asking for JSON the way `way` says when the
/// request has a schema.
pub fn request_body(settings: &HttpSettings, request: &Request, way: Structured) -> Value {
    let mut system = request.system.clone();
    if let (Some(schema), Structured::Prompt) = (&request.json_schema, way) {
        system.push_str(&format!(
            "\n\nAnswer with one JSON object only, no other text, that follows this JSON schema:\n{schema}"
        ));
    }
    let mut body = json!({
        "model": settings.model,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": request.user},
        ],
        "temperature": settings.temperature,
        "stream": false,
    });
    body[settings.max_tokens_field.as_str()] = json!(settings.max_tokens);
    let Some(schema) = &request.json_schema else {
        return body;
    };
    match way {
        Structured::Auto | Structured::JsonSchema => {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": request.stage.as_str(), "schema": schema, "strict": true},
            });
        }
        Structured::JsonObject => {
            body["response_format"] = json!({"type": "json_object", "schema": schema});
        }
        Structured::Prompt => {}
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
        return Err(BackendError::EmptyContent {
            url: url.to_string(),
        });
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

    /// Each way of asking for JSON, and the token limit's field name, as they go on the wire.
    #[test]
    fn json_is_asked_for_the_way_the_endpoint_takes_it() {
        let mut settings: HttpSettings =
            toml::from_str("base_url = \"http://mock/v1\"\nmodel = \"m\"").unwrap();
        let request = Request {
            stage: crate::backend::Stage::Summarize,
            input: String::new(),
            system: "Summarize.".into(),
            user: "text".into(),
            json_schema: Some(json!({"type": "object", "properties": {"a": {"type": "string"}}})),
        };
        let body = request_body(&settings, &request, Structured::JsonSchema);
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["max_tokens"], 2048);
        let body = request_body(&settings, &request, Structured::JsonObject);
        assert_eq!(body["response_format"]["type"], "json_object");
        assert_eq!(
            body["response_format"]["schema"]["properties"]["a"]["type"],
            "string"
        );
        let body = request_body(&settings, &request, Structured::Prompt);
        assert!(body.get("response_format").is_none());
        let system = body["messages"][0]["content"].as_str().unwrap();
        assert!(system.starts_with("Summarize.") && system.contains("\"properties\""));
        settings.max_tokens_field = "max_completion_tokens".into();
        let plain = Request {
            json_schema: None,
            ..request
        };
        let body = request_body(&settings, &plain, Structured::Prompt);
        assert!(body.get("max_tokens").is_none() && body.get("response_format").is_none());
        assert_eq!(body["max_completion_tokens"], 2048);
        assert_eq!(body["messages"][0]["content"], "Summarize.");
        assert_eq!(
            Structured::JsonSchema.step_down(),
            Some(Structured::JsonObject)
        );
        assert_eq!(Structured::Prompt.step_down(), None);
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
            assert_eq!(
                matches!(error, BackendError::EmptyContent { .. }),
                expected == "empty content",
                "{body}"
            );
            assert!(
                matches!(
                    error,
                    BackendError::InvalidResponse { .. } | BackendError::EmptyContent { .. }
                ),
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
