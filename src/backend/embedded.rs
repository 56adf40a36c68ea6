// Over 600 lines: the engine thread owns one llama.cpp context, and its batching, slots and prefix reuse share that state, so they read best in one file.
//! In-process llama.cpp engine (the default backend).
//!
//! llama.cpp contexts are not thread-safe and decoding is CPU-bound, so one dedicated OS thread
//! owns the model and the context for the engine's whole life; [`EmbeddedBackend`] is only a
//! cloneable handle holding a channel to it. `complete` sends a [`Job`] with a tokio oneshot for
//! the answer, so async callers never block a runtime worker.
//!
//! The engine thread runs continuous batching, like llama-server: up to `parallel` [`Slot`]s,
//! each a sequence with its own `seq_id` and its own share of the KV cache (`context /
//! parallel` cells; the cache is not unified). Every step builds one batch holding one token
//! for each generating slot plus as many prompt tokens of prefilling slots as `batch` allows,
//! decodes it once, and samples a token for every slot whose last fed token asked for logits.
//! A slot finishes on an end-of-generation token (or at `max_tokens`), answers, and is refilled
//! from the queue at the next step, independently of the others.
//!
//! Prefix reuse (`prefix_cache`, like llama-server's `cache_prompt`, on by default): a finished slot keeps its KV cells and remembers the tokens they hold. A new request goes to the free
//! slot whose remembered tokens share the longest prefix with its prompt (the least recently
//! used one on a tie), the cells past that prefix are removed (`llama_memory_seq_rm`), and only
//! the rest of the prompt is evaluated. Every request of a stage starts with the same system
//! prompt and template head, and a repair of a chunk repeats the chunk's whole prompt up to the
//! notes at its end, so most of their prompt is not evaluated again. Completions report how many
//! prompt tokens were reused. A reused prefix, and batching, leave answers unchanged only
//! because attention is plain (not flash): each query is then computed the same way whatever
//! else the batch holds (`flash_attention`, off by default; tested against cold evaluation).
//!
//! Decoding is greedy (plain argmax over the logits) unless `temperature > 0`, which uses a
//! seeded sampler; a request with a JSON schema gets a per-slot grammar sampler built from a
//! small JSON-Schema→GBNF converter ([`gbnf`]). Token bytes go through a streaming UTF-8
//! decoder because one token may hold only part of a multi-byte character (common in Arabic).
//!
//! Determinism: on the CPU backend each row of a batch is computed by the same kernels whatever
//! the other rows are, so batching does not change greedy output in practice (the integration
//! test checks this against the real model). Because that is an empirical property of the
//! kernels rather than a guarantee, `identity()` names only what changes answers by design —
//! model file, per-sequence context, sampler — and not threads, batch or parallel.

mod gbnf;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, OnceLock};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;

use super::{BackendError, Completion, Request};
use crate::model::{self, ModelLocation, ModelSource};

pub use super::embedded_settings::EmbeddedSettings;

/// Handle to the engine thread. Cheap to clone; the thread stops when the last clone is dropped
/// and the sequences in flight have finished.
#[derive(Clone)]
pub struct EmbeddedBackend {
    inner: Arc<Handle>,
}

struct Handle {
    jobs: mpsc::Sender<Job>,
    identity: String,
    /// Model file name, used as the "url" in errors.
    name: String,
}

/// One request on its way to the engine thread.
struct Job {
    system: String,
    user: String,
    json_schema: Option<serde_json::Value>,
    reply: oneshot::Sender<Result<Completion, BackendError>>,
}

impl EmbeddedBackend {
    /// Load the model (fails with a message naming `tarjim model pull` when it is missing).
    ///
    /// Blocks until the engine thread has loaded the model and created its context (about a
    /// second for the default model, which is memory-mapped).
    pub fn start(settings: &EmbeddedSettings) -> Result<Self, BackendError> {
        let location = settings.location();
        let size = model::check_quick(&location)
            .map_err(|e| BackendError::Engine(crate::hint::one_line(&e)))?;
        let name = location
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| location.path.display().to_string());
        let config = EngineConfig::from_settings(settings, &location.path, &name)?;
        let identity = identity_string(settings, &location, &name, size, config.seq_ctx);

        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), BackendError>>(1);
        std::thread::Builder::new()
            .name("tarjim-llama".into())
            .spawn(move || engine_thread(config, job_rx, ready_tx))
            .map_err(|e| {
                BackendError::Engine(format!("{name}: cannot spawn engine thread: {e}"))
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(err),
            Err(_) => {
                return Err(BackendError::Engine(format!(
                    "{name}: engine thread exited while loading the model"
                )))
            }
        }
        Ok(EmbeddedBackend {
            inner: Arc::new(Handle {
                jobs,
                identity,
                name,
            }),
        })
    }

    /// A string naming what changes answers: model file digest/name, context, sampler.
    pub fn identity(&self) -> String {
        self.inner.identity.clone()
    }

    pub async fn complete(&self, request: &Request) -> Result<Completion, BackendError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            system: request.system.clone(),
            user: request.user.clone(),
            json_schema: request.json_schema.clone(),
            reply,
        };
        let stopped =
            || BackendError::Engine(format!("{}: engine thread stopped", self.inner.name));
        self.inner.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// `llama.cpp:<file>:<digest>:ctx=<per-sequence context>[:temp=..:seed=..]`.
///
/// The digest is the published SHA-256 prefix for the default model and pinned `hf:` specs
/// (their size was just checked; `tarjim model path` does the full hash), else size + mtime, so
/// replacing a local file invalidates cached answers without hashing 1 GB at every start.
fn identity_string(
    settings: &EmbeddedSettings,
    location: &ModelLocation,
    name: &str,
    size: u64,
    seq_ctx: u32,
) -> String {
    let pinned = match &location.source {
        ModelSource::Default => Some(model::WheelSet::default_model().sha256),
        ModelSource::HuggingFace(spec) => spec.sha256.clone(),
        _ => None,
    };
    let digest = match pinned {
        Some(hex) => format!("sha256:{}", &hex[..16.min(hex.len())]),
        None => {
            let mtime = std::fs::metadata(&location.path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            format!("size={size},mtime={mtime}")
        }
    };
    let sampler = if settings.temperature > 0.0 {
        format!(":temp={}:seed={}", settings.temperature, settings.seed)
    } else {
        String::new()
    };
    format!("llama.cpp:{name}:{digest}:ctx={seq_ctx}{sampler}")
}

/// Everything the engine thread needs, validated up front.
struct EngineConfig {
    path: PathBuf,
    name: String,
    threads: i32,
    context: u32,
    batch: u32,
    parallel: u32,
    /// KV cells each sequence owns (`context / parallel`).
    seq_ctx: u32,
    max_tokens: u32,
    temperature: f32,
    seed: u32,
    ignore_eos: bool,
    prefix_cache: bool,
    flash_attention: bool,
}

impl EngineConfig {
    fn from_settings(s: &EmbeddedSettings, path: &Path, name: &str) -> Result<Self, BackendError> {
        let bad = |what: &str| BackendError::Engine(format!("{name}: invalid setting: {what}"));
        if s.parallel == 0 {
            return Err(bad("parallel must be at least 1"));
        }
        if s.batch < s.parallel {
            // Every generating sequence needs one batch cell per step, or some would starve.
            return Err(bad("batch must be at least `parallel`"));
        }
        if s.context < s.parallel.saturating_mul(64) {
            return Err(bad(
                "context must leave at least 64 tokens per parallel sequence",
            ));
        }
        let threads = if s.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            s.threads as usize
        };
        Ok(EngineConfig {
            path: path.to_path_buf(),
            name: name.to_string(),
            threads: i32::try_from(threads).unwrap_or(i32::MAX),
            context: s.context,
            batch: s.batch,
            parallel: s.parallel,
            seq_ctx: s.context / s.parallel,
            max_tokens: s.max_tokens,
            temperature: s.temperature,
            seed: s.seed,
            ignore_eos: s.ignore_eos,
            prefix_cache: s.prefix_cache,
            flash_attention: s.flash_attention,
        })
    }
}

/// llama.cpp allows one backend per process; every engine shares it. Logs are routed to
/// `tracing` only when `RUST_LOG` is set, otherwise silenced (llama.cpp is chatty on stderr).
fn llama_backend() -> Result<&'static LlamaBackend, BackendError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let enabled = std::env::var_os("RUST_LOG").is_some();
            llama_cpp_2::send_logs_to_tracing(
                llama_cpp_2::LogOptions::default().with_logs_enabled(enabled),
            );
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| BackendError::Engine(format!("cannot initialise llama.cpp: {e}")))
}

fn engine_thread(
    config: EngineConfig,
    jobs: mpsc::Receiver<Job>,
    ready: mpsc::SyncSender<Result<(), BackendError>>,
) {
    let loaded = load(&config);
    let (model, backend) = match loaded {
        Ok(pair) => pair,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    let ctx = match new_context(&config, &model, backend) {
        Ok(ctx) => ctx,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    let template = match model.chat_template(None) {
        Ok(t) => t,
        Err(e) => {
            let _ = ready.send(Err(BackendError::Engine(format!(
                "{}: the GGUF has no usable chat template: {e}",
                config.name
            ))));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let mut engine = Engine {
        model: &model,
        ctx,
        template,
        batch: LlamaBatch::new(config.batch as usize, 1),
        slots: (0..config.parallel).map(|_| None).collect(),
        kept: (0..config.parallel).map(|_| Kept::default()).collect(),
        clock: 0,
        config: &config,
    };
    engine.run(&jobs);
}

fn load(config: &EngineConfig) -> Result<(LlamaModel, &'static LlamaBackend), BackendError> {
    let backend = llama_backend()?;
    let params = LlamaModelParams::default();
    #[cfg(feature = "cuda")]
    let params = params.with_n_gpu_layers(u32::MAX);
    let model = LlamaModel::load_from_file(backend, &config.path, &params)
        .map_err(|e| BackendError::Engine(format!("cannot load {}: {e}", config.path.display())))?;
    Ok((model, backend))
}

fn new_context<'m>(
    config: &EngineConfig,
    model: &'m LlamaModel,
    backend: &LlamaBackend,
) -> Result<LlamaContext<'m>, BackendError> {
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(config.context))
        .with_n_batch(config.batch)
        .with_n_ubatch(config.batch)
        .with_n_seq_max(config.parallel)
        .with_kv_unified(false)
        .with_flash_attention_policy(if config.flash_attention {
            FLASH_ATTENTION_AUTO
        } else {
            FLASH_ATTENTION_DISABLED
        })
        .with_n_threads(config.threads)
        .with_n_threads_batch(config.threads);
    model.new_context(backend, params).map_err(|e| {
        BackendError::Engine(format!(
            "{}: cannot create a context of {} tokens: {e}",
            config.name, config.context
        ))
    })
}

/// `LLAMA_FLASH_ATTN_TYPE_DISABLED`, the default. llama.cpp's CPU flash attention picks its
/// kernel by the shape of the batch (a tiled one from 32 queries up, a split one for a single
/// query over 512 cells or more), so the same token got other numbers alone than batched or
/// after a reused prefix, and greedy answers changed; plain attention computes each query the
/// same way whatever else is in the batch.
const FLASH_ATTENTION_DISABLED: i32 = 0;
/// `LLAMA_FLASH_ATTN_TYPE_AUTO`: llama.cpp's choice (on where the device supports it).
const FLASH_ATTENTION_AUTO: i32 = -1;

/// Prompt tokens a request always evaluates, however much of its prompt a sequence holds.
/// Sampling needs the last one's logits; and a prompt tail of one token, decoded alone, came
/// out with other numbers than the same token decoded among others (the real-model test of a
/// repeated prompt changed its answer), while a tail of 32 gave the cold answer. The cost is
/// small: a repeated prompt re-reads 32 tokens, not hundreds.
pub const MIN_EVALUATED: usize = 32;

/// A kept prefix shorter than this (a chat template's first tokens) is not worth choosing a
/// sequence for.
const MIN_REUSE: usize = 16;

/// One active sequence.
struct Slot {
    seq_id: i32,
    job: Job,
    /// Every token of the sequence so far: the whole prompt, then each sampled token. The
    /// first `n_past` of them are in the sequence's KV cells.
    history: Vec<LlamaToken>,
    /// Tokens not yet fed to the model: the prompt (or what is left of it), then the last
    /// sampled token.
    pending: Vec<LlamaToken>,
    /// Position of the next token fed.
    n_past: i32,
    prompt_tokens: u64,
    /// Prompt tokens whose KV cells were left by the sequence's previous request.
    reused: u64,
    generated: u32,
    /// Grammar and/or seeded sampler; `None` means plain argmax.
    sampler: Option<LlamaSampler>,
    text: String,
    decoder: encoding_rs::Decoder,
    piece: Vec<u8>,
    /// Index in the current batch of the token whose logits this slot samples from.
    logits_at: Option<i32>,
}

enum Step {
    Continue,
    Done(Result<Completion, BackendError>),
}

struct Engine<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    template: LlamaChatTemplate,
    batch: LlamaBatch<'static>,
    slots: Vec<Option<Slot>>,
    /// Per sequence id: the tokens its KV cells hold while no request runs on it.
    kept: Vec<Kept>,
    /// Counts releases, to find the least recently used sequence.
    clock: u64,
    config: &'m EngineConfig,
}

/// What a free sequence's KV cells hold, for prefix reuse.
#[derive(Default)]
struct Kept {
    tokens: Vec<LlamaToken>,
    released_at: u64,
}

impl Engine<'_> {
    fn run(&mut self, jobs: &mpsc::Receiver<Job>) {
        let mut open = true;
        loop {
            if self.slots.iter().all(Option::is_none) {
                if !open {
                    return;
                }
                match jobs.recv() {
                    Ok(job) => self.admit(job),
                    Err(_) => return,
                }
            }
            while open && self.slots.iter().any(Option::is_none) {
                match jobs.try_recv() {
                    Ok(job) => self.admit(job),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => open = false,
                }
            }
            self.drop_abandoned();
            if self.slots.iter().any(Option::is_some) {
                self.step();
            }
        }
    }

    /// Put `job` into a free slot, or answer it at once if its prompt cannot run.
    fn admit(&mut self, job: Job) {
        let (tokens, sampler) = match self.prepare(&job) {
            Ok(prepared) => prepared,
            Err(err) => {
                let _ = job.reply.send(Err(err));
                return;
            }
        };
        let Some(seq_id) = self.pick_slot(&tokens) else {
            let _ = job
                .reply
                .send(Err(BackendError::Engine("no free slot".into())));
            return;
        };
        let reused = self.reuse_prefix(seq_id, &tokens);
        self.slots[seq_id] = Some(Slot {
            seq_id: seq_id as i32,
            prompt_tokens: tokens.len() as u64,
            reused: reused as u64,
            pending: tokens[reused..].to_vec(),
            history: tokens,
            job,
            n_past: reused as i32,
            generated: 0,
            sampler,
            text: String::new(),
            decoder: encoding_rs::UTF_8.new_decoder_without_bom_handling(),
            piece: Vec::new(),
            logits_at: None,
        });
    }

    /// The free slot whose kept tokens share the longest prefix with `tokens`; when none
    /// shares at least [`MIN_REUSE`] tokens (or on a tie), the least recently used one, so that
    /// an unrelated prompt does not overwrite a prefix that others share.
    fn pick_slot(&self, tokens: &[LlamaToken]) -> Option<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].is_none())
            .max_by_key(|&i| {
                let kept = &self.kept[i];
                let shared = common_prefix(&kept.tokens, tokens);
                (
                    if shared >= MIN_REUSE { shared } else { 0 },
                    std::cmp::Reverse(kept.released_at),
                )
            })
    }

    /// Keep the cells of `seq_id` that hold a prefix of `tokens` and remove the rest; returns
    /// how many prompt tokens need no evaluation. At least the last [`MIN_EVALUATED`] prompt
    /// tokens are always evaluated again.
    fn reuse_prefix(&mut self, seq_id: usize, tokens: &[LlamaToken]) -> usize {
        let kept = std::mem::take(&mut self.kept[seq_id].tokens);
        let keep = if self.config.prefix_cache {
            common_prefix(&kept, tokens).min(tokens.len().saturating_sub(MIN_EVALUATED))
        } else {
            0
        };
        let seq = seq_id as u32;
        // A partial removal can fail (never for this model's plain attention cache); then the
        // sequence starts cold.
        if keep > 0
            && self
                .ctx
                .clear_kv_cache_seq(Some(seq), Some(keep as u32), None)
                .unwrap_or(false)
        {
            return keep;
        }
        let _ = self.ctx.clear_kv_cache_seq(Some(seq), None, None);
        0
    }

    /// Render the chat template, tokenize, check the context budget, build the sampler.
    fn prepare(&self, job: &Job) -> Result<(Vec<LlamaToken>, Option<LlamaSampler>), BackendError> {
        let name = &self.config.name;
        let engine_err = |what: String| BackendError::Engine(format!("{name}: {what}"));
        let mut messages = Vec::with_capacity(2);
        if !job.system.is_empty() {
            messages.push(
                LlamaChatMessage::new("system".into(), job.system.clone())
                    .map_err(|e| engine_err(format!("system prompt: {e}")))?,
            );
        }
        messages.push(
            LlamaChatMessage::new("user".into(), job.user.clone())
                .map_err(|e| engine_err(format!("user prompt: {e}")))?,
        );
        let prompt = self
            .model
            .apply_chat_template(&self.template, &messages, true)
            .map_err(|e| engine_err(format!("chat template: {e}")))?;
        // The template already holds the special tokens (BOS where the model wants one).
        let tokens = self.model.vocab().tokenize(prompt.as_bytes(), false, true);
        if tokens.is_empty() {
            return Err(engine_err("the prompt tokenized to nothing".into()));
        }
        let budget = self.config.seq_ctx as usize;
        if tokens.len() + self.config.max_tokens as usize > budget {
            return Err(BackendError::ContextLength {
                url: name.clone(),
                detail: format!(
                    "prompt of {} tokens + max_tokens {} exceeds the {} tokens each of the {} \
                     parallel sequences gets (context {}); raise `context`, lower `parallel` or \
                     `max_tokens`, or use smaller chunks",
                    tokens.len(),
                    self.config.max_tokens,
                    budget,
                    self.config.parallel,
                    self.config.context
                ),
            });
        }
        Ok((tokens, self.sampler_for(job)?))
    }

    fn sampler_for(&self, job: &Job) -> Result<Option<LlamaSampler>, BackendError> {
        let name = &self.config.name;
        let mut chain = Vec::new();
        if let Some(schema) = &job.json_schema {
            let grammar = gbnf::json_schema_to_gbnf(schema)
                .map_err(|e| BackendError::Engine(format!("{name}: json_schema: {e}")))?;
            let sampler = LlamaSampler::grammar(self.model, &grammar, "root").map_err(|e| {
                BackendError::Engine(format!("{name}: llama.cpp rejected the grammar: {e}"))
            })?;
            chain.push(sampler);
        }
        if self.config.temperature > 0.0 {
            chain.push(LlamaSampler::temp(self.config.temperature));
            chain.push(LlamaSampler::dist(self.config.seed));
        } else if chain.is_empty() {
            return Ok(None);
        } else {
            chain.push(LlamaSampler::greedy());
        }
        Ok(Some(LlamaSampler::chain_simple(chain)))
    }

    /// Free slots whose caller went away (dropped future): no point finishing them.
    fn drop_abandoned(&mut self) {
        for i in 0..self.slots.len() {
            if self.slots[i]
                .as_ref()
                .is_some_and(|s| s.job.reply.is_closed())
            {
                self.release(i, false);
            }
        }
    }

    /// Take the slot at `index` out of service. With prefix reuse its KV cells stay, holding
    /// the tokens fed so far; otherwise (or when `forget`) they are cleared.
    fn release(&mut self, index: usize, forget: bool) -> Option<Slot> {
        let slot = self.slots[index].take()?;
        self.clock += 1;
        let fed = usize::try_from(slot.n_past)
            .unwrap_or(0)
            .min(slot.history.len());
        if self.config.prefix_cache && !forget {
            self.kept[index] = Kept {
                tokens: slot.history[..fed].to_vec(),
                released_at: self.clock,
            };
        } else {
            self.kept[index] = Kept::default();
            // Only fails for ids > i32::MAX, which slots never have.
            let _ = self
                .ctx
                .clear_kv_cache_seq(Some(slot.seq_id as u32), None, None);
        }
        Some(slot)
    }

    /// One decode call: fill the batch, decode, sample for the slots that produced logits.
    fn step(&mut self) {
        self.fill_batch();
        if self.batch.n_tokens() == 0 {
            return;
        }
        if let Err(e) = self.ctx.decode(&mut self.batch) {
            let msg = format!("{}: llama_decode failed: {e}", self.config.name);
            // What a failed decode left in the cache is unknown: forget every sequence.
            for i in 0..self.slots.len() {
                if let Some(slot) = self.release(i, true) {
                    let _ = slot.job.reply.send(Err(BackendError::Engine(msg.clone())));
                }
            }
            return;
        }
        for i in 0..self.slots.len() {
            let step = match self.slots[i].as_mut() {
                Some(slot) if slot.logits_at.is_some() => {
                    sample_next(slot, self.model, &self.ctx, self.config)
                }
                _ => continue,
            };
            if let Step::Done(result) = step {
                if let Some(slot) = self.release(i, false) {
                    let _ = slot.job.reply.send(result);
                }
            }
        }
    }

    /// Generating slots first (one token each), then prompt chunks while `batch` has room.
    fn fill_batch(&mut self) {
        self.batch.clear();
        let capacity = self.config.batch as usize;
        let mut order: Vec<usize> = (0..self.slots.len()).collect();
        order.sort_by_key(|&i| {
            self.slots[i]
                .as_ref()
                .map_or(usize::MAX, |s| s.pending.len())
        });
        for i in order {
            let Some(slot) = self.slots[i].as_mut() else {
                continue;
            };
            slot.logits_at = None;
            let room = capacity - self.batch.n_tokens() as usize;
            let take = slot.pending.len().min(room);
            if take == 0 {
                continue;
            }
            let last = take == slot.pending.len();
            for (k, token) in slot.pending.drain(..take).enumerate() {
                let wants_logits = last && k + 1 == take;
                if wants_logits {
                    slot.logits_at = Some(self.batch.n_tokens());
                }
                // Cannot fail: `take` is bounded by the room left in the batch.
                let _ = self
                    .batch
                    .add(token, slot.n_past, &[slot.seq_id], wants_logits);
                slot.n_past += 1;
            }
        }
    }
}

/// Pick the next token for `slot`, append its text, and decide whether the sequence is done.
fn sample_next(
    slot: &mut Slot,
    model: &LlamaModel,
    ctx: &LlamaContext<'_>,
    config: &EngineConfig,
) -> Step {
    let Some(idx) = slot.logits_at.take() else {
        return Step::Continue;
    };
    let token = match slot.sampler.as_mut() {
        Some(sampler) => sampler.sample(ctx, idx),
        None => argmax(ctx.get_logits_ith(idx)),
    };
    let vocab = model.vocab();
    if vocab.is_eog(token) && !config.ignore_eos {
        return Step::Done(Ok(finish(slot)));
    }
    slot.generated += 1;
    slot.piece.clear();
    vocab.token_to_piece_into(token, &mut slot.piece, false, None);
    decode_utf8(&mut slot.decoder, &slot.piece, &mut slot.text, false);
    if slot.generated >= config.max_tokens {
        if config.ignore_eos {
            return Step::Done(Ok(finish(slot)));
        }
        return Step::Done(Err(BackendError::Truncated {
            url: config.name.clone(),
            max_tokens: config.max_tokens,
        }));
    }
    slot.pending.push(token);
    slot.history.push(token);
    Step::Continue
}

fn finish(slot: &mut Slot) -> Completion {
    decode_utf8(&mut slot.decoder, &[], &mut slot.text, true);
    Completion {
        text: std::mem::take(&mut slot.text),
        prompt_tokens: slot.prompt_tokens,
        prompt_tokens_reused: slot.reused,
        completion_tokens: u64::from(slot.generated),
    }
}

/// Length of the longest common prefix of `a` and `b`.
fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Feed `bytes` to the streaming decoder; an incomplete trailing character waits for the next
/// token (or becomes U+FFFD when `last`).
fn decode_utf8(decoder: &mut encoding_rs::Decoder, bytes: &[u8], out: &mut String, last: bool) {
    let need = decoder
        .max_utf8_buffer_length(bytes.len())
        .unwrap_or(bytes.len() * 3 + 16);
    out.reserve(need);
    let _ = decoder.decode_to_string(bytes, out, last);
}

/// Index of the largest logit (ties go to the lowest id, as llama.cpp's greedy sampler does).
fn argmax(logits: &[f32]) -> LlamaToken {
    let mut best = 0usize;
    let mut best_val = f32::NEG_INFINITY;
    for (i, &v) in logits.iter().enumerate() {
        if v > best_val {
            best_val = v;
            best = i;
        }
    }
    LlamaToken(best as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_across_tokens_is_reassembled() {
        let word = "أذربيجان";
        let bytes = word.as_bytes();
        let mut decoder = encoding_rs::UTF_8.new_decoder_without_bom_handling();
        let mut out = String::new();
        // Feed one byte at a time: every Arabic letter is split across two "tokens".
        for b in bytes {
            decode_utf8(&mut decoder, std::slice::from_ref(b), &mut out, false);
        }
        decode_utf8(&mut decoder, &[], &mut out, true);
        assert_eq!(out, word);
    }

    #[test]
    fn common_prefix_counts_shared_leading_tokens() {
        let t = |ids: &[i32]| ids.iter().map(|&i| LlamaToken(i)).collect::<Vec<_>>();
        assert_eq!(common_prefix(&t(&[1, 2, 3, 4]), &t(&[1, 2, 9])), 2);
        assert_eq!(common_prefix(&t(&[1, 2]), &t(&[1, 2, 3])), 2);
        assert_eq!(common_prefix(&t(&[]), &t(&[1])), 0);
        assert_eq!(common_prefix(&t(&[5]), &t(&[1])), 0);
    }

    #[test]
    fn argmax_picks_first_maximum() {
        assert_eq!(argmax(&[0.1, 3.0, -1.0, 3.0]), LlamaToken(1));
    }

    #[test]
    fn missing_model_error_names_pull_command() {
        let dir = std::env::temp_dir().join("tarjim-no-such-models-dir");
        let settings = EmbeddedSettings {
            models_dir: dir.to_string_lossy().into_owned(),
            ..EmbeddedSettings::default()
        };
        let err = EmbeddedBackend::start(&settings)
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("tarjim model pull"), "{err}");
    }

    #[test]
    fn settings_defaults_deserialize() {
        let s: EmbeddedSettings = toml::from_str("model = \"default\"").unwrap();
        assert_eq!(s, EmbeddedSettings::default());
    }
}
