//! What every HTTP backend shares: settings, the client, status classification, `Retry-After`.
//!
//! Building a request is each backend's own business (`openai.rs`, `mt.rs`); sending it, timing
//! it out and turning an HTTP failure into a [`BackendError`] that names the URL happens here,
//! once. API keys are read from the environment when a request is built, never stored in
//! settings, and scrubbed from any server text that ends up in an error.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use super::price::Price;
use super::BackendError;

/// `[backends.<name>]` for `kind = "openai" | "libretranslate" | "deepl" | "google" | "azure"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Endpoint root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:5000`.
    pub base_url: String,
    /// Model name (chat endpoints; DeepL's `model_type`, Google's `model`, Azure's `category`
    /// when set).
    #[serde(default)]
    pub model: String,
    /// Azure Translator's resource region (`Ocp-Apim-Subscription-Region`), when the resource
    /// is regional or multi-service; empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Environment variable holding the API key; empty when the endpoint needs none.
    #[serde(default)]
    pub api_key_env: String,
    #[serde(default)]
    pub temperature: f32,
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_s: u64,
    #[serde(default = "default_request_timeout")]
    pub request_timeout_s: u64,
    /// Tries per request, the first included.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_backoff_base")]
    pub backoff_base_ms: u64,
    #[serde(default = "default_backoff_cap")]
    pub backoff_cap_ms: u64,
    /// A `Retry-After` longer than this fails the request instead of sleeping.
    #[serde(default = "default_max_retry_after")]
    pub max_retry_after_s: u64,
    /// Consecutive requests failed after their retries (connection refused, timeouts, 5xx,
    /// 401/403/404, garbled answers) that open the circuit breaker: the endpoint is then not
    /// asked for `breaker_cooldown_s`, after which one trial request decides. 0 turns it off.
    #[serde(default = "default_breaker_failures")]
    pub breaker_failures: u32,
    #[serde(default = "default_breaker_cooldown")]
    pub breaker_cooldown_s: u64,
    /// Proactive limits; 0 means none.
    #[serde(default)]
    pub requests_per_minute: u32,
    #[serde(default)]
    pub tokens_per_minute: u32,
    /// How an answer that must be JSON is asked for (chat endpoints). `auto`: a JSON schema in
    /// `response_format`, and when the endpoint refuses that, a JSON object with the schema,
    /// then the schema in the prompt (remembered for the run, reported in run.json).
    #[serde(default)]
    pub structured: Structured,
    /// The request field for the answer's token limit: `max_tokens`, or
    /// `max_completion_tokens` (OpenAI's newer models refuse `max_tokens`).
    #[serde(default = "default_max_tokens_field")]
    pub max_tokens_field: String,
    /// More endpoints serving the same model (replicas), or the same API under other keys.
    /// Each request goes to the least-loaded one whose circuit breaker is closed; each has
    /// this backend's `concurrency`, rate limits and breaker of its own. Cached answers do not
    /// depend on which endpoint gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<Replica>,
    /// What its answers cost (`[backends.<name>.price]`), for `tarjim estimate`, `--max-cost`
    /// and the usage in run.json; none set means free (a server of your own).
    #[serde(default, skip_serializing_if = "Price::is_free")]
    pub price: Price,
}

/// One more endpoint of a backend (`[[backends.<name>.replicas]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    /// Its endpoint root; empty means the backend's own `base_url` (another key for it).
    #[serde(default)]
    pub base_url: String,
    /// The variable holding its key; empty means the backend's own `api_key_env`.
    #[serde(default)]
    pub api_key_env: String,
}

/// How a chat endpoint is asked for JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Structured {
    /// `json_schema`, stepping down on a refusal that names `response_format`.
    #[default]
    Auto,
    /// `response_format: {"type": "json_schema", ...}` (OpenAI, vLLM, llama.cpp server).
    JsonSchema,
    /// `response_format: {"type": "json_object", "schema": ...}` (llama-cpp-python,
    /// llama.cpp server).
    JsonObject,
    /// No `response_format`: the schema goes in the prompt, and the answer is checked as ever.
    Prompt,
}

impl Structured {
    pub fn as_str(self) -> &'static str {
        match self {
            Structured::Auto => "auto",
            Structured::JsonSchema => "json_schema",
            Structured::JsonObject => "json_object",
            Structured::Prompt => "prompt",
        }
    }

    /// The next way down, for `auto`, after a refusal of this one.
    pub fn step_down(self) -> Option<Structured> {
        match self {
            Structured::Auto | Structured::JsonSchema => Some(Structured::JsonObject),
            Structured::JsonObject => Some(Structured::Prompt),
            Structured::Prompt => None,
        }
    }
}

fn default_max_tokens_field() -> String {
    "max_tokens".into()
}

fn default_max_tokens() -> u32 {
    2048
}
fn default_concurrency() -> usize {
    4
}
fn default_connect_timeout() -> u64 {
    10
}
fn default_request_timeout() -> u64 {
    120
}
fn default_attempts() -> u32 {
    5
}
fn default_backoff_base() -> u64 {
    500
}
fn default_backoff_cap() -> u64 {
    30_000
}
fn default_breaker_failures() -> u32 {
    5
}
fn default_breaker_cooldown() -> u64 {
    60
}
fn default_max_retry_after() -> u64 {
    120
}

impl HttpSettings {
    /// The settings of each endpoint: these, then one per replica (its URL and key variable
    /// in place of the backend's), none of them with replicas of its own.
    pub fn endpoints(&self) -> Vec<HttpSettings> {
        let own = HttpSettings {
            replicas: Vec::new(),
            ..self.clone()
        };
        let mut endpoints = vec![own.clone()];
        for replica in &self.replicas {
            let mut endpoint = own.clone();
            if !replica.base_url.is_empty() {
                endpoint.base_url = replica.base_url.clone();
            }
            if !replica.api_key_env.is_empty() {
                endpoint.api_key_env = replica.api_key_env.clone();
            }
            endpoints.push(endpoint);
        }
        endpoints
    }

    /// How run.json names this endpoint: its URL without credentials, and the key's variable
    /// when one is set (replicas may share a URL and differ by key).
    pub fn endpoint_label(&self) -> String {
        let url = redact_url(&self.base_url);
        if self.api_key_env.is_empty() {
            url
        } else {
            format!("{url} (${})", self.api_key_env)
        }
    }

    /// The API key from the environment, if the settings name a variable.
    pub fn api_key(&self) -> Option<String> {
        if self.api_key_env.is_empty() {
            return None;
        }
        std::env::var(&self.api_key_env)
            .ok()
            .filter(|key| !key.is_empty())
    }

    /// `base_url` joined with `path`, without doubled slashes.
    pub fn endpoint(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

/// Most bytes read from one response body. Answers to tarjim's requests are a few kilobytes;
/// a server that sends more is broken, and reading it all would fill memory and the cache.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A client with the configured timeouts.
pub fn client(settings: &HttpSettings) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(settings.connect_timeout_s))
        .timeout(Duration::from_secs(settings.request_timeout_s))
        .user_agent(concat!("tarjim/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// Send `request` and return the body of a 2xx answer, or a classified error.
pub async fn send(
    settings: &HttpSettings,
    url: &str,
    request: reqwest::RequestBuilder,
) -> Result<String, BackendError> {
    let shown_url = redact_url(url);
    let response = request
        .send()
        .await
        .map_err(|error| transport_error(settings, &shown_url, error))?;
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = read_body(settings, &shown_url, response).await?;
    let body = scrub(settings, &body);
    if (200..300).contains(&status) {
        return Ok(body);
    }
    Err(classify(settings, &shown_url, status, body, retry_after))
}

/// Send `request` and stream a 2xx answer's body into `path` (a batch job's output, which can
/// be far larger than an answer), written atomically; returns its size. Any other answer is a
/// classified error.
pub async fn download(
    settings: &HttpSettings,
    url: &str,
    request: reqwest::RequestBuilder,
    path: &std::path::Path,
) -> Result<u64, BackendError> {
    use std::io::Write;
    let shown_url = redact_url(url);
    let mut response = request
        .send()
        .await
        .map_err(|error| transport_error(settings, &shown_url, error))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let retry_after = retry_after(response.headers());
        let body = read_body(settings, &shown_url, response).await?;
        let body = scrub(settings, &body);
        return Err(classify(settings, &shown_url, status, body, retry_after));
    }
    let local = |error: std::io::Error| BackendError::InvalidResponse {
        url: shown_url.clone(),
        detail: format!("cannot save the answer to {}: {error}", path.display()),
    };
    let folder = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(folder).map_err(local)?;
    let mut file = tempfile::NamedTempFile::new_in(folder).map_err(local)?;
    let mut size = 0u64;
    while let Some(piece) = response
        .chunk()
        .await
        .map_err(|error| transport_error(settings, &shown_url, error))?
    {
        file.write_all(&piece).map_err(local)?;
        size += piece.len() as u64;
    }
    file.persist(path).map_err(|error| local(error.error))?;
    Ok(size)
}

/// The body, at most [`MAX_BODY_BYTES`] of it: a longer one is refused as soon as its length
/// is known (from `Content-Length` or while reading), never read to the end. A body that is not
/// UTF-8 text (a compressed or binary answer) is described, not copied into errors.
async fn read_body(
    settings: &HttpSettings,
    url: &str,
    mut response: reqwest::Response,
) -> Result<String, BackendError> {
    let too_large = || BackendError::TooLarge {
        url: url.to_string(),
        limit_mb: MAX_BODY_BYTES / (1024 * 1024),
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(piece) = response
        .chunk()
        .await
        .map_err(|error| transport_error(settings, url, error))?
    {
        if body.len() + piece.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&piece);
    }
    Ok(match String::from_utf8(body) {
        Ok(text) => text,
        Err(error) => format!(
            "<{} bytes that are not UTF-8 text{}>",
            error.as_bytes().len(),
            if error.as_bytes().starts_with(&[0x1F, 0x8B]) {
                ", gzip-compressed"
            } else {
                ""
            }
        ),
    })
}

fn transport_error(settings: &HttpSettings, url: &str, error: reqwest::Error) -> BackendError {
    if error.is_timeout() {
        BackendError::Timeout {
            url: url.to_string(),
            seconds: settings.request_timeout_s,
        }
    } else if error.is_decode() || error.is_body() {
        BackendError::InvalidResponse {
            url: url.to_string(),
            detail: "the response body was cut off".into(),
        }
    } else {
        BackendError::Connect {
            url: url.to_string(),
            source: error.without_url(),
        }
    }
}

fn classify(
    settings: &HttpSettings,
    url: &str,
    status: u16,
    body: String,
    retry_after: Option<Duration>,
) -> BackendError {
    let excerpt: String = body.chars().take(300).collect();
    let lower = body.to_lowercase();
    match status {
        // Google's per-minute limits come as 403 `rateLimitExceeded`/`userRateLimitExceeded`:
        // a wait, not a refusal (is_retryable reads the same words).
        403 if google_rate_limit(&lower) => BackendError::Http {
            url: url.to_string(),
            status,
            body: excerpt,
            retry_after,
        },
        // Google's daily quota, Azure's free tier used up (403001).
        403 if lower.contains("dailylimitexceeded")
            || lower.contains("quotaexceeded")
            || lower.contains("403001") =>
        {
            BackendError::Quota {
                url: url.to_string(),
                detail: excerpt,
            }
        }
        // Google answers a wrong key with 400 `keyInvalid`.
        400 if lower.contains("keyinvalid") || lower.contains("api key not valid") => {
            BackendError::Auth {
                url: url.to_string(),
                status,
                key_env: settings.api_key_env.clone(),
            }
        }
        401 | 403 => BackendError::Auth {
            url: url.to_string(),
            status,
            key_env: settings.api_key_env.clone(),
        },
        456 => BackendError::Quota {
            url: url.to_string(),
            detail: excerpt,
        },
        429 if lower.contains("insufficient_quota") => BackendError::Quota {
            url: url.to_string(),
            detail: excerpt,
        },
        400 | 413 | 422
            if lower.contains("context_length")
                || lower.contains("maximum context length")
                || lower.contains("too many tokens")
                || lower.contains("too long")
                // llama.cpp's server: `exceed_context_size_error`, "request (N tokens)
                // exceeds the available context size (M tokens)".
                || lower.contains("exceed_context_size")
                || lower.contains("exceeds the available context size") =>
        {
            BackendError::ContextLength {
                url: url.to_string(),
                detail: excerpt,
            }
        }
        400 | 422 if refused_parameter(&lower).is_some() => BackendError::Refused {
            url: url.to_string(),
            detail: excerpt,
            hint: refused_parameter(&lower).unwrap_or_default(),
        },
        _ => BackendError::Http {
            url: url.to_string(),
            status,
            body: excerpt,
            retry_after,
        },
    }
}

/// Google's words for "too many requests for now" in a 403 answer.
pub fn google_rate_limit(lower_body: &str) -> bool {
    lower_body.contains("ratelimitexceeded")
}

/// What to change when an endpoint refuses a parameter tarjim sends (OpenAI's
/// `unsupported_parameter` / `unsupported_value` errors): a setting, not a fault to retry.
fn refused_parameter(lower_body: &str) -> Option<String> {
    let unsupported = lower_body.contains("unsupported_parameter")
        || lower_body.contains("unsupported_value")
        || lower_body.contains("unsupported parameter")
        || lower_body.contains("unsupported value");
    if !unsupported {
        return None;
    }
    Some(if lower_body.contains("max_completion_tokens") {
        "this model wants max_completion_tokens: set max_tokens_field = \"max_completion_tokens\" in the backend's table".into()
    } else if lower_body.contains("temperature") {
        "this model takes only its default temperature: set temperature = 1 in the backend's table"
            .into()
    } else {
        "change or remove the parameter it names in the backend's table".into()
    })
}

/// The wait a server demands: `retry-after-ms`, then `Retry-After` in seconds or as an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    if let Some(millis) = text("retry-after-ms").and_then(|value| value.parse::<f64>().ok()) {
        if millis.is_finite() && millis >= 0.0 {
            return Some(Duration::from_secs_f64(millis / 1000.0));
        }
    }
    let value = text("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Remove the API key from text that came back from a server.
fn scrub(settings: &HttpSettings, text: &str) -> String {
    match settings.api_key() {
        Some(key) if key.len() >= 4 && text.contains(&key) => text.replace(&key, "[redacted]"),
        _ => text.to_string(),
    }
}

/// A URL fit for logs: user info and secret-looking query parameters replaced.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_username("redacted");
        let _ = parsed.set_password(None);
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let secret = ["key", "token", "secret", "auth", "password"]
                    .iter()
                    .any(|word| key.to_lowercase().contains(word));
                (
                    key.into_owned(),
                    if secret {
                        "redacted".into()
                    } else {
                        value.into_owned()
                    },
                )
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn retry_after_reads_every_form() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));

        let mut headers = HeaderMap::new();
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        headers.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );

        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn redact_url_hides_credentials() {
        assert_eq!(
            redact_url("https://user:pw@example.com/v1?api_key=abc&x=1"),
            "https://redacted@example.com/v1?api_key=redacted&x=1"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
    }
}
