//! Walking the inputs: files, folders, globs and stdin, each checked (size, kind, encoding)
//! before it is read, and each article given its id.

use std::collections::HashMap;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::formats::*;
use super::*;

/// Accumulates articles and errors across all inputs.
#[derive(Default)]
pub(super) struct Reader {
    pub(super) articles: Vec<Article>,
    pub(super) errors: Vec<InputError>,
    /// Full body digest -> id and outlet of the first article with that body.
    pub(super) seen: HashMap<String, (String, Option<String>)>,
    /// Where bodies are set aside as they are read (none: kept in memory).
    pub(super) spill: Option<std::sync::Arc<Spill>>,
}

impl Reader {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(InputError::new(path, message));
    }

    fn skip(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(InputError::Skipped {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(super) fn read_input(&mut self, input: &str) {
        if input == "-" {
            self.read_stdin();
            return;
        }
        let path = Path::new(input);
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => self.read_folder(path),
            Ok(_) => self.read_file(path, true),
            Err(error) if error.kind() == ErrorKind::NotFound && is_glob_pattern(input) => {
                self.read_glob(input)
            }
            Err(error) => self.error(input, io_message(&error)),
        }
    }

    pub(super) fn read_stdin(&mut self) {
        let mut bytes = Vec::new();
        let read = std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes);
        if let Err(error) = read {
            self.error("-", io_message(&error));
            return;
        }
        if bytes.len() as u64 > MAX_FILE_BYTES {
            self.error("-", too_large_message(bytes.len() as u64));
            return;
        }
        match crate::decode::decode(&bytes, false) {
            Ok(decoded) => {
                let draft = Draft {
                    origin: "-".to_string(),
                    stem: "stdin".to_string(),
                    encoding: decoded.encoding,
                    ..Draft::default()
                };
                self.add(with_text_title(draft, &decoded.text));
            }
            Err(error) => self.error("-", error.to_string()),
        }
    }

    fn read_folder(&mut self, folder: &Path) {
        let mut found = 0;
        let entries = walkdir::WalkDir::new(folder)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let file_type = entry.file_type();
                    if file_type.is_dir() || Format::of_path(entry.path()).is_none() {
                        continue;
                    }
                    if file_type.is_file() {
                        found += 1;
                        self.read_file(entry.path(), false);
                    } else {
                        self.error(entry.path().display().to_string(), not_regular_message());
                    }
                }
                Err(error) => {
                    let path = error.path().unwrap_or(folder).display().to_string();
                    let message = match error.io_error() {
                        Some(io_error) => io_message(io_error),
                        None => format!("cannot read folder: {error}"),
                    };
                    self.error(path, message);
                }
            }
        }
        if found == 0 {
            self.error(
                folder.display().to_string(),
                format!(
                    "folder has no articles; hint: article files end in {}",
                    extension_list()
                ),
            );
        }
    }

    fn read_glob(&mut self, pattern: &str) {
        let paths = match glob::glob(pattern) {
            Ok(paths) => paths,
            Err(error) => {
                self.error(
                    pattern,
                    format!(
                        "invalid glob pattern: {} at position {}",
                        error.msg, error.pos
                    ),
                );
                return;
            }
        };
        let mut matched = Vec::new();
        for entry in paths {
            match entry {
                Ok(path) => matched.push(path),
                Err(error) => self.error(
                    error.path().display().to_string(),
                    io_message(error.error()),
                ),
            }
        }
        matched.sort();
        let mut found = 0;
        for path in matched {
            let hidden = path.file_name().is_some_and(is_hidden);
            if hidden {
                continue;
            }
            if path.is_dir() {
                found += 1;
                self.read_folder(&path);
            } else if Format::of_path(&path).is_some() {
                found += 1;
                self.read_file(&path, false);
            }
        }
        if found == 0 {
            self.error(
                pattern,
                format!(
                    "glob pattern matched no articles; hint: article files end in {}",
                    extension_list()
                ),
            );
        }
    }

    /// Read one file. An `explicit` file (named on the command line) without an extension is
    /// read as text; folders and globs only yield files with known extensions.
    fn read_file(&mut self, path: &Path, explicit: bool) {
        let display = path.display().to_string();
        let format = match Format::of_path(path) {
            Some(format) => format,
            None if explicit && path.extension().is_none() => Format::Text,
            None => {
                let extension = path.extension().map(|e| e.to_string_lossy().to_string());
                self.error(
                    display,
                    format!(
                        "unsupported file type .{}; hint: article files end in {}",
                        extension.unwrap_or_default(),
                        extension_list()
                    ),
                );
                return;
            }
        };
        let html = format == Format::Html;
        let decoded = read_limited(path)
            .and_then(|bytes| crate::decode::decode(&bytes, html).map_err(|e| e.to_string()));
        let (text, encoding) = match decoded {
            Ok(decoded) => (decoded.text, decoded.encoding),
            Err(message) => {
                self.error(display, message);
                return;
            }
        };
        let draft = Draft {
            origin: display.clone(),
            stem: path
                .file_stem()
                .map(|stem| stem.to_string_lossy().to_string())
                .unwrap_or_default(),
            encoding,
            ..Draft::default()
        };
        match format {
            Format::Text => self.add(with_text_title(draft, &text)),
            Format::Markdown => self.add(parse_markdown(draft, &text)),
            Format::Html => self.add(parse_html(draft, &text)),
            Format::Json => self.add_json(draft, &text),
            Format::JsonLines => self.add_json_lines(draft, &text),
        }
    }

    fn add_json(&mut self, draft: Draft, text: &str) {
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(error) => {
                self.error(draft.origin, malformed_json_message(&error));
                return;
            }
        };
        match value {
            Value::Object(object) => self.add_json_object(draft, &object),
            Value::Array(items) if items.is_empty() => {
                self.error(draft.origin, "JSON array holds no articles")
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let element = Draft {
                        origin: format!("{}[{index}]", draft.origin),
                        stem: draft.stem.clone(),
                        id_suffix: format!("-I{index}"),
                        ..Draft::default()
                    };
                    self.add_json_value(element, item);
                }
            }
            other => self.add_json_value(draft, &other),
        }
    }

    fn add_json_lines(&mut self, draft: Draft, text: &str) {
        let mut any_line = false;
        for (index, line) in text.split('\n').enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            any_line = true;
            let number = index + 1;
            let origin = format!("{}:{number}", draft.origin);
            match serde_json::from_str::<Value>(line) {
                Ok(value) => {
                    let element = Draft {
                        origin,
                        stem: draft.stem.clone(),
                        id_suffix: format!("-L{number}"),
                        ..Draft::default()
                    };
                    self.add_json_value(element, &value);
                }
                Err(error) => self.error(origin, malformed_json_message(&error)),
            }
        }
        if !any_line {
            self.error(draft.origin, "empty file: no JSON lines");
        }
    }

    fn add_json_value(&mut self, draft: Draft, value: &Value) {
        match value {
            Value::Object(object) => self.add_json_object(draft, object),
            other => {
                let message = format!(
                    "expected an article object with a \"text\" field, found {}",
                    json_kind(other)
                );
                self.error(draft.origin, message);
            }
        }
    }

    fn add_json_object(&mut self, draft: Draft, object: &Map<String, Value>) {
        match article_from_object(draft, object) {
            Ok(draft) => self.add(Ok(draft)),
            Err((origin, message)) => self.error(origin, message),
        }
    }

    /// Give a draft its id and keep it, unless it is empty or a duplicate.
    fn add(&mut self, draft: Result<Draft, (String, String)>) {
        let draft = match draft {
            Ok(draft) => draft,
            Err((origin, message)) => {
                self.error(origin, message);
                return;
            }
        };
        if is_blank(&draft.text) {
            self.skip(draft.origin, "empty article: no text");
            return;
        }
        let digest = hex::encode(Sha256::digest(draft.text.as_bytes()));
        let id = format!(
            "{}{}-{}",
            sanitize_stem(&draft.stem),
            draft.id_suffix,
            &digest[..DIGEST_CHARS]
        );
        if let Some((first, first_source)) = self.seen.get(&digest) {
            // The same text from another outlet is a reprint (wire copy): kept, so that the
            // brief counts the outlet; its translation comes from the cache.
            let reprint = draft.source.is_some() && draft.source != *first_source;
            if !reprint {
                let message = format!("duplicate of {first}");
                self.skip(draft.origin, message);
                return;
            }
        } else {
            self.seen.insert(digest, (id.clone(), draft.source.clone()));
        }
        let (text, spilled) = match &self.spill {
            Some(spill) => match spill.put(draft.text.as_bytes()) {
                Ok(span) => (
                    String::new(),
                    Some(Spilled {
                        spill: spill.clone(),
                        span,
                    }),
                ),
                Err(_) => (draft.text, None),
            },
            None => (draft.text, None),
        };
        self.articles.push(Article {
            id,
            origin: draft.origin,
            title: draft.title,
            source: draft.source,
            url: draft.url,
            published: draft.published,
            encoding: if draft.encoding.is_empty() {
                utf8_name()
            } else {
                draft.encoding.to_string()
            },
            text,
            spilled,
        });
    }
}

/// Read a whole file of at most [`MAX_FILE_BYTES`], checking its size before reading it. Only
/// regular files are opened: opening a FIFO waits for a writer that may never come.
pub(super) fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(path).map_err(|error| io_message(&error))?;
    if !metadata.is_file() {
        return Err(not_regular_message());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large_message(metadata.len()));
    }
    let file = File::open(path).map_err(|error| io_message(&error))?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| io_message(&error))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large_message(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Only `[A-Za-z0-9_-]`, runs of `_` collapsed, no leading or trailing `_`/`-`, at most
/// [`MAX_STEM_CHARS`]; `article` when nothing is left.
pub(super) fn sanitize_stem(stem: &str) -> String {
    let mut sanitized = String::with_capacity(stem.len());
    for character in stem.chars() {
        let allowed = character.is_ascii_alphanumeric() || character == '-' || character == '_';
        let replacement = if allowed { character } else { '_' };
        if replacement == '_' && sanitized.ends_with('_') {
            continue;
        }
        sanitized.push(replacement);
    }
    let trimmed: String = sanitized
        .trim_matches(['_', '-'])
        .chars()
        .take(MAX_STEM_CHARS)
        .collect();
    let trimmed = trimmed.trim_end_matches(['_', '-']);
    if trimmed.is_empty() {
        "article".to_string()
    } else {
        trimmed.to_string()
    }
}

pub(super) fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

pub(super) fn is_glob_pattern(input: &str) -> bool {
    input.contains(['*', '?', '['])
}

pub(super) fn extension_list() -> String {
    KNOWN_EXTENSIONS
        .iter()
        .map(|extension| format!(".{extension}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn not_regular_message() -> String {
    "not a regular file (a FIFO, socket or device): skipped; hint: to read a pipe, give `-` \
     and pipe it to stdin"
        .to_string()
}

pub(super) fn too_large_message(bytes: u64) -> String {
    const MEGABYTE: f64 = 1024.0 * 1024.0;
    format!(
        "file is {:.1} MB, over the {} MB limit; hint: split it into smaller files",
        bytes as f64 / MEGABYTE,
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

pub(super) fn io_message(error: &std::io::Error) -> String {
    match error.kind() {
        ErrorKind::NotFound => "no such file or folder; hint: check the path".to_string(),
        ErrorKind::PermissionDenied => {
            "cannot read: permission denied; hint: check the file's permissions".to_string()
        }
        _ => format!("cannot read: {error}"),
    }
}
