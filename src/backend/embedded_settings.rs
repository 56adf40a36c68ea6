//! Settings of the embedded engine, parsed whether or not tarjim is built with it (a build
//! without the `embedded` feature still reads a default configuration, and refuses only to
//! start the engine).

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
    /// Seed of the sampler when `temperature > 0` (greedy decoding ignores it).
    #[serde(default = "default_seed")]
    pub seed: u32,
    /// Benchmarks only: keep generating past end-of-generation tokens until `max_tokens`, and
    /// return that as a normal answer (like llama-server's `ignore_eos`).
    #[serde(default)]
    pub ignore_eos: bool,
    /// Keep each sequence's KV cells after its request and evaluate only what a new prompt
    /// does not share with them (like llama-server's `cache_prompt`). Answers are the same as
    /// a cold evaluation's (tests/it/default_model.rs), because attention is computed the same
    /// way whatever the batch holds (see `flash_attention`).
    #[serde(default = "default_true")]
    pub prefix_cache: bool,
    /// llama.cpp's flash attention. Off by default: its CPU kernels are chosen by the shape
    /// of the batch, so a prompt's answer would depend on what was batched with it and on
    /// whether its prefix was reused. Worth turning on for speed on a GPU build, where answers
    /// then stop being reproducible from run to run.
    #[serde(default)]
    pub flash_attention: bool,
}

fn default_true() -> bool {
    true
}

impl Default for EmbeddedSettings {
    fn default() -> Self {
        EmbeddedSettings {
            model: "default".into(),
            models_dir: String::new(),
            threads: 0,
            context: default_context(),
            batch: default_batch(),
            parallel: default_parallel(),
            max_tokens: default_max_tokens(),
            temperature: 0.0,
            concurrency: default_concurrency(),
            seed: default_seed(),
            ignore_eos: false,
            prefix_cache: true,
            flash_attention: false,
        }
    }
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
fn default_seed() -> u32 {
    0x5eed
}

impl EmbeddedSettings {
    /// Where the model these settings name lives, and where it comes from.
    pub fn location(&self) -> crate::model::ModelLocation {
        crate::model::resolve_spec(&self.model, &self.models_dir)
    }
}
