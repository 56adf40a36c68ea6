//! Why a run could not start or go on: the errors `tarjim run` reports before exiting with
//! code 2 (or 75 when another run holds the lock).

use crate::fsutil;

/// A problem that stops the whole run before it starts (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("chunk.encoding: {0}")]
    Encoding(String),
    #[error(transparent)]
    Prompt(#[from] crate::prompt::PromptError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Write(#[from] fsutil::WriteError),
    #[error(transparent)]
    Glossary(#[from] crate::fidelity::glossary::GlossaryError),
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error("{0}")]
    Deadline(String),
    #[error("batch: {0}")]
    Batch(String),
    #[error("batch: {0}")]
    BatchFile(#[from] crate::batch::jsonl::JsonlError),
    #[error("batch: the {stage} stage's batch job: {error}")]
    BatchJob {
        stage: String,
        error: crate::backend::BackendError,
    },
    /// A file or folder the run needs could not be made; the error names it (fs-err).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Another run holds the cache or the output folder.
    #[error(transparent)]
    Locked(#[from] crate::lock::LockError),
    /// Nothing to translate: every input was missing, empty or unreadable. Nothing is written,
    /// so an empty inbox (a scraper that failed) cannot replace last night's brief.
    #[error("no articles to translate, so nothing was written{}{}", left_alone(.out_exists), indented(.problems))]
    NoArticles {
        problems: Vec<String>,
        out_exists: bool,
    },
}

fn left_alone(out_exists: &bool) -> &'static str {
    if *out_exists {
        " (the outputs already in the output folder are left as they were)"
    } else {
        ""
    }
}

fn indented(lines: &[String]) -> String {
    lines.iter().map(|line| format!("\n  {line}")).collect()
}
