//! Articles and the readers for each input format.
//!
//! The night's articles arrive as whatever the scraper produced: plain text (title on the first
//! line), Markdown, saved web pages, JSON objects or arrays, JSON Lines, or text on stdin. This
//! module turns every one of them into the same [`Article`]: the raw body (not yet normalized,
//! title removed) plus whatever metadata the input carried. Cleaning is left to `normalize`.
//!
//! One bad input must not stop a night's run, so [`read_inputs`] never fails as a whole: it
//! returns the articles it could read and one [`InputError`] per problem, each naming the file
//! (and line for JSONL) and saying what to do. Text is never repaired silently: invalid UTF-8
//! is an error with the byte offset, not a lossy conversion. Files are size-checked from their
//! metadata before reading, so a stray multi-gigabyte file costs nothing.
//!
//! Ids are the sanitized file stem plus 8 hex digits of the body's SHA-256: stable across runs,
//! safe as file names, and different for different texts. Two inputs with the same body are the
//! same article; the later one is reported as a duplicate.

use std::path::Path;

mod formats;
mod reader;
#[cfg(test)]
mod tests;

use crate::fsutil::{Span, Spill};
use reader::Reader;

/// One news article as read from disk or stdin, before cleaning.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Article {
    /// Stable id: sanitized file stem plus a short digest of the text, e.g.
    /// `000_d24ed62e350e2f11-3f9a1c2b` (`-L<line>` after the stem for JSONL, `-I<index>` for an
    /// element of a JSON array).
    pub id: String,
    /// Where it came from: a file path, `path:line` for JSONL, `path[index]` for an element of
    /// a JSON array, or `-` for stdin.
    pub origin: String,
    pub title: Option<String>,
    /// Outlet name when the input says so.
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
    /// The encoding the input was in ("UTF-8", "windows-1256", "UTF-16LE" ...).
    #[serde(default = "utf8_name")]
    pub encoding: String,
    /// Body text, raw (not yet normalized), title line removed; empty while it waits on disk
    /// (see [`Article::body`]).
    pub text: String,
    /// Where the body waits on disk, when the run set it aside after reading (a night's text
    /// need not all be in memory at once).
    #[serde(skip)]
    pub spilled: Option<Spilled>,
}

/// An article body set aside in the run's spill file.
#[derive(Debug, Clone)]
pub struct Spilled {
    pub spill: std::sync::Arc<Spill>,
    pub span: Span,
}

impl PartialEq for Spilled {
    fn eq(&self, other: &Spilled) -> bool {
        std::sync::Arc::ptr_eq(&self.spill, &other.spill) && self.span == other.span
    }
}

impl Article {
    /// The body text, read back from disk when it was set aside.
    pub fn body(&self) -> Result<std::borrow::Cow<'_, str>, String> {
        let Some(spilled) = &self.spilled else {
            return Ok(std::borrow::Cow::Borrowed(&self.text));
        };
        let bytes = spilled.spill.get(spilled.span).map_err(|error| {
            format!(
                "could not read back the text of {} set aside after reading it: {error}",
                self.origin
            )
        })?;
        String::from_utf8(bytes)
            .map(std::borrow::Cow::Owned)
            .map_err(|error| {
                format!(
                    "the text of {} set aside after reading it came back damaged: {error}",
                    self.origin
                )
            })
    }
}

fn utf8_name() -> String {
    "UTF-8".to_string()
}

/// A problem with one input: names the file (and line for JSONL).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The input could not be read as an article: a failure of the run.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// Feed noise, skipped with a warning: an empty item, or a second copy of an article
    /// already read from the same outlet. Not a failure (unless the run is `--strict`).
    #[error("{path}: {message}")]
    Skipped { path: String, message: String },
}

impl InputError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        InputError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The input it names and what is wrong with it.
    pub fn parts(&self) -> (&str, &str) {
        match self {
            InputError::Invalid { path, message } | InputError::Skipped { path, message } => {
                (path, message)
            }
        }
    }

    pub fn is_skipped(&self) -> bool {
        matches!(self, InputError::Skipped { .. })
    }
}

/// Largest input file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// File extensions read from folders and globs (compared without case).
pub const KNOWN_EXTENSIONS: [&str; 6] = ["txt", "md", "html", "htm", "json", "jsonl"];

/// Longest file-stem part of an id, in characters.
const MAX_STEM_CHARS: usize = 40;

/// Hex digits of the body digest in an id.
const DIGEST_CHARS: usize = 8;

/// Every article in `inputs` (files, folders read recursively in sorted order, globs, `-` for
/// stdin), plus one error per input that could not be read. Never panics on bad input.
pub fn read_inputs(inputs: &[String]) -> (Vec<Article>, Vec<InputError>) {
    read_inputs_spilling(inputs, None)
}

/// [`read_inputs`], each article's body set aside in `spill` as soon as it is read (kept in
/// memory when that fails).
pub fn read_inputs_spilling(
    inputs: &[String],
    spill: Option<std::sync::Arc<Spill>>,
) -> (Vec<Article>, Vec<InputError>) {
    let mut reader = Reader {
        spill,
        ..Reader::default()
    };
    for input in inputs {
        reader.read_input(input);
    }
    (reader.articles, reader.errors)
}

/// The input formats, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Text,
    Markdown,
    Html,
    Json,
    JsonLines,
}

impl Format {
    /// The format of a known extension (any case).
    fn from_extension(extension: &str) -> Option<Format> {
        match extension.to_ascii_lowercase().as_str() {
            "txt" => Some(Format::Text),
            "md" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            "json" => Some(Format::Json),
            "jsonl" => Some(Format::JsonLines),
            _ => None,
        }
    }

    fn of_path(path: &Path) -> Option<Format> {
        path.extension()
            .and_then(|extension| extension.to_str())
            .and_then(Format::from_extension)
    }
}

/// An article read from an input, before it gets its id.
#[derive(Debug, Default)]
struct Draft {
    /// File path, `path:line`, `path[index]` or `-`.
    origin: String,
    /// Raw file stem, or `stdin`.
    stem: String,
    /// Appended to the sanitized stem in the id, e.g. `-L3`.
    id_suffix: String,
    title: Option<String>,
    source: Option<String>,
    url: Option<String>,
    published: Option<String>,
    /// The file's encoding ("UTF-8", "windows-1256" ...); empty means UTF-8.
    encoding: &'static str,
    text: String,
}
