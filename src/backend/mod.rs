//! Translation and LLM backends.
//!
//! A backend turns one [`Request`] into one [`Completion`]. The set of kinds is closed, so it is
//! an enum dispatched with one `match` rather than a trait object: adding a backend means a file,
//! a variant in [`BackendSettings`] and [`Backend`], and a match arm.
//!
//! LLM backends (OpenAI-compatible chat, the embedded engine) read the rendered prompt in
//! `system`/`user`; dedicated MT APIs (LibreTranslate, DeepL) read the bare `input` text.

pub mod breaker;
pub mod dispatch;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod embedded_settings;
pub mod http;
pub mod mt;
pub mod openai;
pub mod price;
pub mod settings;

use serde::{Deserialize, Serialize};

pub use embedded_settings::EmbeddedSettings;
pub use settings::BackendSettings;

/// The pipeline stage a request belongs to; part of every cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Translate,
    Summarize,
    Brief,
    /// One story of the brief written from its articles' key points (`brief.mode = "composed"`).
    BriefStory,
    /// Names and terms of an article, with their English spelling.
    Names,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Translate => "translate",
            Stage::Summarize => "summarize",
            Stage::Brief => "brief",
            Stage::BriefStory => "brief-story",
            Stage::Names => "names",
        }
    }
}

/// One unit of work for a backend.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub stage: Stage,
    /// The bare source text (what an MT API translates).
    pub input: String,
    /// Rendered system prompt (LLM backends).
    pub system: String,
    /// Rendered user prompt: the task, the fenced input, the task restated (LLM backends).
    pub user: String,
    /// When set, the answer must be JSON matching this schema (grammar-constrained where possible).
    pub json_schema: Option<serde_json::Value>,
}

/// A backend's answer with the token accounting every backend reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    pub prompt_tokens: u64,
    /// Of `prompt_tokens`, those the engine did not evaluate again because it kept them from an
    /// earlier request (the embedded engine's prefix reuse, an API's `cached_tokens`).
    #[serde(default)]
    pub prompt_tokens_reused: u64,
    pub completion_tokens: u64,
}

/// Why a request failed. Messages name the endpoint (credentials never appear).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot connect to {url}")]
    Connect {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("request to {url} timed out after {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url} refused the request (HTTP {status}){}", auth_hint(.key_env))]
    Auth {
        url: String,
        status: u16,
        key_env: String,
    },
    #[error("{url} answered HTTP {status}: {body}")]
    Http {
        url: String,
        status: u16,
        body: String,
        /// Wait the server asked for (Retry-After), if any.
        retry_after: Option<std::time::Duration>,
    },
    /// The endpoint refuses a parameter of the request (a model that wants
    /// `max_completion_tokens`, or only its default temperature): a setting to change, never
    /// retried.
    #[error("{url} refuses a parameter of the request: {detail}; hint: {hint}")]
    Refused {
        url: String,
        detail: String,
        hint: String,
    },
    #[error("{url}: quota exhausted: {detail}")]
    Quota { url: String, detail: String },
    #[error("{url}: input too long for the model's context: {detail}")]
    ContextLength { url: String, detail: String },
    #[error("{url}: invalid response: {detail}")]
    InvalidResponse { url: String, detail: String },
    /// A well-formed answer with no text in it (a small model's silence).
    #[error("{url}: invalid response: empty content")]
    EmptyContent { url: String },
    #[error("{url}: the answer was cut off at max_tokens ({max_tokens}); raise max_tokens or lower chunk.max_tokens")]
    Truncated { url: String, max_tokens: u32 },
    #[error("{url} answered HTTP {status} and asked to wait {wait:?}, more than the {cap:?} allowed by max_retry_after_s")]
    RetryAfterTooLong {
        url: String,
        status: u16,
        wait: std::time::Duration,
        cap: std::time::Duration,
    },
    #[error("{url} sent an answer over the {limit_mb} MB limit; it is not read, nor cached")]
    TooLarge { url: String, limit_mb: usize },
    /// The backend's circuit breaker is open: it failed too often in a row to be asked now.
    #[error("{backend} is not asked for now: its last {failures} attempts failed (last: {last}); it is tried again after {cooldown_s} s")]
    Unavailable {
        backend: String,
        failures: u32,
        last: String,
        cooldown_s: u64,
    },
    #[error("embedded model: {0}")]
    Engine(String),
    /// Not sent: the run stopped dispatching (quota exhausted or interrupted) while it waited.
    #[error("not sent: the run is stopping")]
    Stopped,
}

fn auth_hint(key_env: &str) -> String {
    if key_env.is_empty() {
        crate::hint::hinted(
            "; no API key is configured",
            "set api_key_env to the environment variable that holds it",
        )
    } else {
        crate::hint::hinted(
            "",
            format!("check the API key in the environment variable `{key_env}`"),
        )
    }
}

impl BackendError {
    /// Failures that say the endpoint is down, unreachable or misconfigured, rather than
    /// something about one request: they count towards its circuit breaker.
    pub fn counts_against_endpoint(&self) -> bool {
        match self {
            BackendError::Connect { .. }
            | BackendError::Timeout { .. }
            | BackendError::Auth { .. }
            | BackendError::InvalidResponse { .. }
            | BackendError::EmptyContent { .. }
            | BackendError::TooLarge { .. } => true,
            BackendError::Http { status, .. } => *status == 404 || *status >= 500,
            _ => false,
        }
    }

    /// Transient failures worth another attempt (408, 409, 429, 5xx, connection, timeout, garbled).
    pub fn is_retryable(&self) -> bool {
        match self {
            BackendError::Connect { .. } | BackendError::Timeout { .. } => true,
            BackendError::InvalidResponse { .. } | BackendError::EmptyContent { .. } => true,
            BackendError::Http { status, body, .. } => {
                matches!(status, 408 | 409 | 429)
                    || (500..600).contains(status)
                    || (*status == 403 && http::google_rate_limit(&body.to_lowercase()))
            }
            _ => false,
        }
    }
}

/// A started backend of any kind.
#[derive(Clone)]
pub enum Backend {
    OpenAi(openai::OpenAiBackend),
    Mt(mt::MtBackend),
    #[cfg(feature = "embedded")]
    Embedded(embedded::EmbeddedBackend),
}

impl Backend {
    /// Start the backend `settings` describe. For the embedded engine this loads the model,
    /// which takes seconds: callers run it off the async runtime and only when needed.
    pub fn start(settings: &BackendSettings) -> Result<Backend, BackendError> {
        Ok(match settings {
            BackendSettings::Openai(http) => {
                Backend::OpenAi(openai::OpenAiBackend::new(http.clone()))
            }
            BackendSettings::Libretranslate(http) => {
                Backend::Mt(mt::MtBackend::new(mt::MtApi::LibreTranslate, http.clone()))
            }
            BackendSettings::Deepl(http) => {
                Backend::Mt(mt::MtBackend::new(mt::MtApi::DeepL, http.clone()))
            }
            BackendSettings::Google(http) => {
                Backend::Mt(mt::MtBackend::new(mt::MtApi::Google, http.clone()))
            }
            BackendSettings::Azure(http) => {
                Backend::Mt(mt::MtBackend::new(mt::MtApi::Azure, http.clone()))
            }
            #[cfg(feature = "embedded")]
            BackendSettings::Embedded(embedded) => {
                Backend::Embedded(embedded::EmbeddedBackend::start(embedded)?)
            }
            #[cfg(not(feature = "embedded"))]
            BackendSettings::Embedded(_) => {
                return Err(BackendError::Engine(
                    "this tarjim was built without the `embedded` feature; rebuild with default \
                     features or configure an HTTP backend in stages.translate"
                        .into(),
                ))
            }
        })
    }

    pub async fn complete(&self, request: &Request) -> Result<Completion, BackendError> {
        match self {
            Backend::OpenAi(backend) => backend.complete(request).await,
            Backend::Mt(backend) => backend.complete(request).await,
            #[cfg(feature = "embedded")]
            Backend::Embedded(backend) => backend.complete(request).await,
        }
    }
}
