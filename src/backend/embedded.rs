//! In-process llama.cpp engine (the default backend).
//!
//! INTERFACE STUB: the embedded-engine helper owns this file.

use super::{BackendError, Completion, Request};

/// Settings of `[backends.<name>]` with `kind = "embedded"`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedSettings {
    /// `default`, a local GGUF path, or `hf:owner/repo/file.gguf`.
    pub model: String,
    /// Where fetched models live; empty means the user cache folder (`~/.cache/tarjim/models`).
    #[serde(default)]
    pub models_dir: String,
    /// CPU threads for decoding; 0 means all cores.
    #[serde(default)]
    pub threads: u32,
    #[serde(default = "default_context")]
    pub context: u32,
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// Sequences decoded together in one batch.
    #[serde(default = "default_parallel")]
    pub parallel: u32,
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    #[serde(default)]
    pub temperature: f32,
    /// Requests in flight at once (queued to the engine thread).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_context() -> u32 {
    8192
}
fn default_batch() -> u32 {
    512
}
fn default_parallel() -> u32 {
    4
}
fn default_concurrency() -> usize {
    4
}
fn default_max_tokens() -> u32 {
    1024
}

/// Handle to the engine thread. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedBackend {}

impl EmbeddedBackend {
    /// Load the model (fails with a message naming `tarjim model pull` when it is missing).
    pub fn start(_settings: &EmbeddedSettings) -> Result<Self, BackendError> {
        Err(BackendError::Engine("not built yet".into()))
    }

    /// A string naming what changes answers: model file digest/name, context, sampler.
    pub fn identity(&self) -> String {
        String::new()
    }

    pub async fn complete(&self, _request: &Request) -> Result<Completion, BackendError> {
        Err(BackendError::Engine("not built yet".into()))
    }
}
