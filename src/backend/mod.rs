//! Translation and LLM backends.
//!
//! A backend turns one [`Request`] into one [`Completion`]. The set of kinds is closed, so it is
//! an enum dispatched with one `match` rather than a trait object: adding a backend means a file,
//! a variant in [`BackendSettings`] and [`Backend`], and a match arm.
//!
//! LLM backends (OpenAI-compatible chat, the embedded engine) read the rendered prompt in
//! `system`/`user`; dedicated MT APIs (LibreTranslate, DeepL) read the bare `input` text.

pub mod openai;
pub mod mt;
#[cfg(feature = "embedded")]
pub mod embedded;

use serde::{Deserialize, Serialize};

/// The pipeline stage a request belongs to; part of every cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Translate,
    Summarize,
    Brief,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Translate => "translate",
            Stage::Summarize => "summarize",
            Stage::Brief => "brief",
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
    #[error("{url} refused the API key (HTTP {status}); check the environment variable `{key_env}`")]
    Auth { url: String, status: u16, key_env: String },
    #[error("{url} answered HTTP {status}: {body}")]
    Http {
        url: String,
        status: u16,
        body: String,
        /// Wait the server asked for (Retry-After), if any.
        retry_after: Option<std::time::Duration>,
    },
    #[error("{url}: quota exhausted: {detail}")]
    Quota { url: String, detail: String },
    #[error("{url}: input too long for the model's context: {detail}")]
    ContextLength { url: String, detail: String },
    #[error("{url}: invalid response: {detail}")]
    InvalidResponse { url: String, detail: String },
    #[error("{url}: the answer was cut off at max_tokens ({max_tokens}); raise max_tokens or lower chunk.max_tokens")]
    Truncated { url: String, max_tokens: u32 },
    #[error("embedded model: {0}")]
    Engine(String),
}

impl BackendError {
    /// Transient failures worth another attempt (408, 409, 429, 5xx, connection, timeout, garbled).
    pub fn is_retryable(&self) -> bool {
        match self {
            BackendError::Connect { .. } | BackendError::Timeout { .. } => true,
            BackendError::InvalidResponse { .. } => true,
            BackendError::Http { status, .. } => {
                matches!(status, 408 | 409 | 429) || (500..600).contains(status)
            }
            _ => false,
        }
    }
}
