//! Articles and the readers for each input format.
//!
//! INTERFACE STUB: the text-processing helper owns this file.

use std::path::PathBuf;

/// One news article as read from disk or stdin, before cleaning.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Article {
    /// Stable id: sanitized file stem plus a short digest of the text, e.g. `000_d24ed62e-3f9a1c2b`.
    pub id: String,
    /// Where it came from: a file path, `path:line` for JSONL, or `-` for stdin.
    pub origin: String,
    pub title: Option<String>,
    /// Outlet name when the input says so.
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
    /// Body text, raw (not yet normalized), title line removed.
    pub text: String,
}

/// A problem with one input: names the file (and line for JSONL).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Every article in `inputs` (files, folders read recursively in sorted order, globs, `-` for
/// stdin), plus one error per input that could not be read. Never panics on bad input.
pub fn read_inputs(_inputs: &[String]) -> (Vec<Article>, Vec<InputError>) {
    unimplemented!("text helper")
}

#[allow(dead_code)]
fn _unused(_p: PathBuf) {}
