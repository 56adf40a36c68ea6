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

use std::collections::HashMap;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use scraper::{ElementRef, Html, Node, Selector};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::normalize::ends_with_sentence_punctuation;

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
    /// Body text, raw (not yet normalized), title line removed.
    pub text: String,
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

/// Longest first line (in characters) still taken as the title of a `.txt` article.
const MAX_TITLE_CHARS: usize = 120;

/// Longest file-stem part of an id, in characters.
const MAX_STEM_CHARS: usize = 40;

/// Hex digits of the body digest in an id.
const DIGEST_CHARS: usize = 8;

/// Fields that may hold a JSON article's body, in order of preference.
const TEXT_FIELDS: [&str; 3] = ["text", "body", "content"];

/// HTML elements that never hold article text.
const DROPPED_ELEMENTS: [&str; 17] = [
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "noscript",
    "iframe",
    "template",
    "svg",
    "button",
    "select",
    "textarea",
    "object",
    "embed",
    "figcaption",
];

/// HTML elements that start a new paragraph.
const BLOCK_ELEMENTS: [&str; 30] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "figure",
    "hr",
    "address",
    "details",
    "summary",
    "center",
    "body",
];

/// Every article in `inputs` (files, folders read recursively in sorted order, globs, `-` for
/// stdin), plus one error per input that could not be read. Never panics on bad input.
pub fn read_inputs(inputs: &[String]) -> (Vec<Article>, Vec<InputError>) {
    let mut reader = Reader::default();
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

/// Accumulates articles and errors across all inputs.
#[derive(Default)]
struct Reader {
    articles: Vec<Article>,
    errors: Vec<InputError>,
    /// Full body digest -> id and outlet of the first article with that body.
    seen: HashMap<String, (String, Option<String>)>,
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

    fn read_input(&mut self, input: &str) {
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

    fn read_stdin(&mut self) {
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
            Err(message) => self.error("-", message),
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
        let decoded = read_limited(path).and_then(|bytes| crate::decode::decode(&bytes, html));
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
            text: draft.text,
        });
    }
}

/// Read a whole file of at most [`MAX_FILE_BYTES`], checking its size before reading it. Only
/// regular files are opened: opening a FIFO waits for a writer that may never come.
fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
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

/// Text is blank when it holds nothing but whitespace and invisible characters.
fn is_blank(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
    })
}

/// A plain-text article: the first line is the title when it is short, has no final sentence
/// punctuation and more text follows it.
fn with_text_title(mut draft: Draft, text: &str) -> Result<Draft, (String, String)> {
    let lines = without_leading_blank_lines(text);
    if let Some((first, rest)) = lines.split_first() {
        let first = first.trim();
        let rest = rest.join("\n");
        let looks_like_title = first.chars().count() <= MAX_TITLE_CHARS
            && !ends_with_sentence_punctuation(first)
            && !is_blank(&rest);
        if looks_like_title {
            draft.title = Some(first.to_string());
            draft.text = body_text(&rest);
            return Ok(draft);
        }
    }
    draft.text = body_text(text);
    Ok(draft)
}

/// Lines of `text` from the first non-blank one on.
fn without_leading_blank_lines(text: &str) -> Vec<&str> {
    text.lines().skip_while(|line| is_blank(line)).collect()
}

/// Body text without leading blank lines or trailing whitespace.
fn body_text(text: &str) -> String {
    without_leading_blank_lines(text)
        .join("\n")
        .trim_end()
        .to_string()
}

/// A Markdown article, read with a CommonMark parser: a leading level-1 heading is the title,
/// markup goes and the text stays as written (`5 * 3 يساوي 15` keeps its `*`). Each block is a
/// paragraph and line breaks inside one are kept, as in plain-text articles; table rows become
/// one line with their cells between ` | `. Images, raw HTML and code blocks are not article
/// prose and are left out.
fn parse_markdown(mut draft: Draft, text: &str) -> Result<Draft, (String, String)> {
    use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut blocks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut title: Option<String> = None;
    let mut in_title = false;
    let mut skipped_depth = 0usize;
    let mut seen_block = false;
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(Tag::Image { .. } | Tag::CodeBlock(_) | Tag::HtmlBlock) => {
                skipped_depth += 1
            }
            Event::End(TagEnd::Image | TagEnd::CodeBlock | TagEnd::HtmlBlock) => {
                skipped_depth = skipped_depth.saturating_sub(1)
            }
            _ if skipped_depth > 0 => {}
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) if !seen_block && title.is_none() => in_title = true,
            Event::End(TagEnd::Heading(_)) if in_title => {
                in_title = false;
                seen_block = true;
                let heading = collapse_blank(&std::mem::take(&mut current));
                if !heading.is_empty() {
                    title = Some(heading);
                }
            }
            Event::Text(piece) | Event::Code(piece) => current.push_str(&piece),
            Event::SoftBreak | Event::HardBreak => current.push('\n'),
            Event::End(TagEnd::TableCell) => current.push_str(" | "),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) => {
                seen_block = true;
                let block = current.trim().trim_end_matches('|').trim_end().to_string();
                current.clear();
                if !block.is_empty() {
                    blocks.push(block);
                }
            }
            Event::Start(Tag::Item) if !current.trim().is_empty() => {
                blocks.push(current.trim().to_string());
                current.clear();
            }
            _ => {}
        }
    }
    if !current.trim().is_empty() {
        blocks.push(current.trim().to_string());
    }
    draft.title = title;
    draft.text = body_text(&blocks.join("\n\n"));
    Ok(draft)
}

/// A heading's text on one line.
fn collapse_blank(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An HTML page: the main text only, with block elements as paragraph breaks.
fn parse_html(mut draft: Draft, text: &str) -> Result<Draft, (String, String)> {
    let document = Html::parse_document(text);
    let root = first_match(&document, "article")
        .or_else(|| first_match(&document, "main"))
        .or_else(|| first_match(&document, "body"))
        .unwrap_or_else(|| document.root_element());
    let heading = first_match_in(root, "h1").filter(|h1| !element_text(*h1).is_empty());
    let title = heading
        .or_else(|| first_match(&document, "h1"))
        .map(element_text)
        .filter(|title| !title.is_empty())
        .or_else(|| first_match(&document, "title").map(element_text))
        .filter(|title| !title.is_empty());
    draft.title = title;
    draft.text = body_text(&html_block_text(root, heading));
    if is_blank(&draft.text) {
        return Err((
            draft.origin,
            "no article text found in the HTML".to_string(),
        ));
    }
    Ok(draft)
}

fn first_match<'d>(document: &'d Html, selector: &str) -> Option<ElementRef<'d>> {
    let selector = Selector::parse(selector).ok()?;
    document.select(&selector).next()
}

fn first_match_in<'d>(element: ElementRef<'d>, selector: &str) -> Option<ElementRef<'d>> {
    let selector = Selector::parse(selector).ok()?;
    element.select(&selector).next()
}

/// An element's text with whitespace collapsed.
fn element_text(element: ElementRef<'_>) -> String {
    let text: String = element.text().collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A step of the HTML walk: visit a node, or close a block opened earlier.
enum Step<N> {
    Visit(N),
    CloseBlock,
}

/// The text under `root`, skipping non-content elements and `skip` (the title heading), with
/// block elements separated by blank lines. Walks with an explicit stack, so deeply nested
/// markup cannot overflow the call stack.
fn html_block_text(root: ElementRef<'_>, skip: Option<ElementRef<'_>>) -> String {
    let skip_id = skip.map(|element| element.id());
    let mut output = String::new();
    let mut stack = vec![Step::Visit(*root)];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::CloseBlock => {
                output.push_str("\n\n");
                continue;
            }
            Step::Visit(node) => node,
        };
        match node.value() {
            Node::Text(text) => {
                output.extend(
                    text.chars()
                        .map(|c| if c.is_whitespace() { ' ' } else { c }),
                );
            }
            Node::Element(element) => {
                let name = element.name();
                if DROPPED_ELEMENTS.contains(&name) || Some(node.id()) == skip_id {
                    continue;
                }
                if name == "br" {
                    output.push('\n');
                    continue;
                }
                if BLOCK_ELEMENTS.contains(&name) {
                    output.push_str("\n\n");
                    stack.push(Step::CloseBlock);
                }
                stack.extend(node.children().rev().map(Step::Visit));
            }
            Node::Document | Node::Fragment => {
                stack.extend(node.children().rev().map(Step::Visit));
            }
            _ => {}
        }
    }
    paragraphs_from_lines(&output)
}

/// Lines trimmed and whitespace-collapsed, runs of blank lines reduced to one.
fn paragraphs_from_lines(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let previous_blank = lines.last().is_none_or(|last| last.is_empty());
        if collapsed.is_empty() && previous_blank {
            continue;
        }
        lines.push(collapsed);
    }
    lines.join("\n").trim().to_string()
}

/// A draft from a JSON article object, or (origin, message) when it has no usable text.
fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn article_from_object(
    mut draft: Draft,
    object: &Map<String, Value>,
) -> Result<Draft, (String, String)> {
    let mut found_field = false;
    for field in TEXT_FIELDS {
        match object.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => {
                found_field = true;
                if !is_blank(text) {
                    draft.text = body_text(&normalize_newlines(text));
                    break;
                }
            }
            Some(other) => {
                let message = format!(
                    "field \"{field}\" must be a string, found {}",
                    json_kind(other)
                );
                return Err((draft.origin, message));
            }
        }
    }
    if !found_field {
        let message = "no text field; hint: put the article body in \"text\" (or \"body\" or \
                       \"content\")";
        return Err((draft.origin, message.to_string()));
    }
    draft.title = json_string(object, "title");
    draft.source = json_string(object, "source");
    draft.url = json_string(object, "url");
    draft.published = json_string(object, "published");
    Ok(draft)
}

/// An optional metadata field as text: strings trimmed, numbers and booleans written out.
fn json_string(object: &Map<String, Value>, field: &str) -> Option<String> {
    let text = match object.get(field)? {
        Value::String(text) => text.split_whitespace().collect::<Vec<_>>().join(" "),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn malformed_json_message(error: &serde_json::Error) -> String {
    format!(
        "malformed JSON at line {}, column {}: {error}",
        error.line(),
        error.column()
    )
}

/// Only `[A-Za-z0-9_-]`, runs of `_` collapsed, no leading or trailing `_`/`-`, at most
/// [`MAX_STEM_CHARS`]; `article` when nothing is left.
fn sanitize_stem(stem: &str) -> String {
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

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn is_glob_pattern(input: &str) -> bool {
    input.contains(['*', '?', '['])
}

fn extension_list() -> String {
    KNOWN_EXTENSIONS
        .iter()
        .map(|extension| format!(".{extension}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_regular_message() -> String {
    "not a regular file (a FIFO, socket or device): skipped; hint: to read a pipe, give `-` \
     and pipe it to stdin"
        .to_string()
}

fn too_large_message(bytes: u64) -> String {
    const MEGABYTE: f64 = 1024.0 * 1024.0;
    format!(
        "file is {:.1} MB, over the {} MB limit; hint: split it into smaller files",
        bytes as f64 / MEGABYTE,
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

fn io_message(error: &std::io::Error) -> String {
    match error.kind() {
        ErrorKind::NotFound => "no such file or folder; hint: check the path".to_string(),
        ErrorKind::PermissionDenied => {
            "cannot read: permission denied; hint: check the file's permissions".to_string()
        }
        _ => format!("cannot read: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sample(name: &str) -> String {
        format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn write(folder: &Path, name: &str, contents: &[u8]) -> String {
        let path = folder.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create test folder");
        }
        std::fs::write(&path, contents).expect("write test file");
        path.display().to_string()
    }

    fn messages(errors: &[InputError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    fn read_one(path: &str) -> Article {
        let (mut articles, errors) = read_inputs(&[path.to_string()]);
        assert!(
            errors.is_empty(),
            "unexpected errors: {:?}",
            messages(&errors)
        );
        assert_eq!(articles.len(), 1);
        articles.remove(0)
    }

    fn read_error(path: &str) -> String {
        let (articles, errors) = read_inputs(&[path.to_string()]);
        assert!(articles.is_empty());
        assert_eq!(errors.len(), 1, "errors: {:?}", messages(&errors));
        errors[0].to_string()
    }

    #[test]
    fn sample_004_title_and_body() {
        let path = sample("004_b6a035201fa0cd3b.txt");
        let article = read_one(&path);
        assert_eq!(
            article.title.as_deref(),
            Some("الخارجية الروسية تحث الأطراف المتصارعة على وقف إراقة الدماء في قره باغ")
        );
        assert_eq!(article.origin, path);
        assert!(article
            .text
            .starts_with("صرحت المتحدثة باسم وزارة الخارجية الروسية، ماريا زاخاروفا،"));
        assert!(article.text.contains("\nSputnik\n"));
        assert!(article.text.ends_with("\nمناقشة"));
        let digest = hex::encode(Sha256::digest(article.text.as_bytes()));
        assert_eq!(article.id, format!("004_b6a035201fa0cd3b-{}", &digest[..8]));
        assert_eq!(
            (article.source, article.url, article.published),
            (None, None, None)
        );
    }

    #[test]
    fn sample_004_through_cleaning() {
        let article = read_one(&sample("004_b6a035201fa0cd3b.txt"));
        let settings = crate::normalize::NormalizeSettings {
            keep_diacritics: true,
            drop_boilerplate: true,
            boilerplate_lines: ["اخترنا لك", "مناقشة", "Sputnik", "شارك"]
                .map(String::from)
                .to_vec(),
            boilerplate_prefixes: vec!["اقرأ أيضاً:".to_string()],
        };
        let cleaned = crate::normalize::clean(&article.text, &settings);
        let dropped: Vec<&str> = cleaned.dropped.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(dropped, vec!["Sputnik", "مناقشة"]);
        assert_eq!(
            cleaned.paragraphs[..3],
            [
                "صرحت المتحدثة باسم وزارة الخارجية الروسية، ماريا زاخاروفا، أن موسكو تشعر بالقلق إزاء تصعيد الوضع في قره باغ وتدعو الأطراف للعودة إلى التسوية الدبلوماسية.",
                "وقالت زاخاروفا: \"نشعر بقلق بالغ إزاء التصعيد الحاد للوضع في ناغورني قره باغ. هناك تقارير تفيد بأن القوات المسلحة الأذربيجانية بدأت، كما تزعم باكو، إجراءات مكافحة الإرهاب في المنطقة وعمليات الرد من قبل التشكيلات المسلحة الأرمينية\".",
                "وأضافت: \"الجانب الروسي يحث الأطراف المتصارعة على وقف إراقة الدماء ووقف الأعمال العدائية على الفور، والعودة إلى الطريق المؤدي إلى تسوية سياسية ودبلوماسية\".",
            ]
        );
    }

    #[test]
    fn samples_folder_reads_in_order_with_titles_where_present() {
        let folder = format!("{}/samples", env!("CARGO_MANIFEST_DIR"));
        let (articles, errors) = read_inputs(&[folder]);
        assert!(errors.is_empty(), "{:?}", messages(&errors));
        let stems: Vec<&str> = articles.iter().map(|a| &a.id[..20]).collect();
        assert_eq!(
            stems,
            vec![
                "000_d24ed62e350e2f11",
                "001_e51f061674820845",
                "002_fa4c1d13aaf5ba4d",
                "003_2cfdabd13fab4b50",
                "004_b6a035201fa0cd3b",
            ]
        );
        let titles: Vec<Option<&str>> = articles.iter().map(|a| a.title.as_deref()).collect();
        assert_eq!(
            titles,
            vec![
                None,
                Some("رئيس أذربيجان: سننهي عملية كاراباخ في حال سلّمت القوات الأرمنية أسلحتها"),
                None,
                Some("أذربيجان تطلق عملية عسكرية ضد ناجورنو قره باغ لمكافحة الإرهاب"),
                Some("الخارجية الروسية تحث الأطراف المتصارعة على وقف إراقة الدماء في قره باغ"),
            ]
        );
        // Ids are stable: reading again gives the same ones.
        let (again, _) = read_inputs(&[format!("{}/samples", env!("CARGO_MANIFEST_DIR"))]);
        let ids: Vec<&String> = articles.iter().map(|a| &a.id).collect();
        let ids_again: Vec<&String> = again.iter().map(|a| &a.id).collect();
        assert_eq!(ids, ids_again);
    }

    #[test]
    fn glob_reads_matching_files_and_reports_no_match() {
        let pattern = format!("{}/samples/00[34]_*.txt", env!("CARGO_MANIFEST_DIR"));
        let (articles, errors) = read_inputs(&[pattern]);
        assert!(errors.is_empty());
        assert_eq!(articles.len(), 2);
        assert!(articles[0].id.starts_with("003_"));
        let pattern = format!("{}/samples/*.nothing", env!("CARGO_MANIFEST_DIR"));
        let error = read_error(&pattern);
        assert!(
            error.contains("glob pattern matched no articles"),
            "{error}"
        );
    }

    #[test]
    fn text_title_rules() {
        let folder = tempfile::tempdir().expect("temp dir");
        let titled = write(
            folder.path(),
            "a.txt",
            "\u{FEFF}عنوان قصير\r\n\r\nالنص الأول.\r\nالنص الثاني.\r\n".as_bytes(),
        );
        let article = read_one(&titled);
        assert_eq!(article.title.as_deref(), Some("عنوان قصير"));
        assert_eq!(article.text, "النص الأول.\nالنص الثاني.");
        let sentence_first = write(folder.path(), "b.txt", "جملة كاملة.\nوأخرى.".as_bytes());
        assert_eq!(read_one(&sentence_first).title, None);
        let single_line = write(folder.path(), "c.txt", "سطر وحيد بلا نقطة".as_bytes());
        let article = read_one(&single_line);
        assert_eq!(article.title, None);
        assert_eq!(article.text, "سطر وحيد بلا نقطة");
        let quoted = write(
            folder.path(),
            "d.txt",
            "قال: \"انتهى.\"\nثم غادر.".as_bytes(),
        );
        assert_eq!(read_one(&quoted).title, None);
    }

    #[test]
    fn markdown_heading_is_title_and_markup_is_removed() {
        let folder = tempfile::tempdir().expect("temp dir");
        let text = "# عنوان **الخبر**\n\n## فرعي\n\nقال [الوزير](https://x.y/z) إن **الوضع** هادئ.\n\n![صورة](a.png)\n- بند أول\n> اقتباس\n---\n[ref]: https://x.y\n";
        let path = write(folder.path(), "news.md", text.as_bytes());
        let article = read_one(&path);
        assert_eq!(article.title.as_deref(), Some("عنوان الخبر"));
        assert_eq!(
            article.text,
            "فرعي\n\nقال الوزير إن الوضع هادئ.\n\nبند أول\n\nاقتباس"
        );
    }

    #[test]
    fn markdown_cleaning_keeps_arithmetic_and_reads_tables() {
        // Harm 4 of the hostile night: `5 * 3 يساوي 15` reached the model as `5 3 يساوي 15`,
        // table rules were sent for translation, and so were code blocks.
        let folder = tempfile::tempdir().expect("temp dir");
        let text = "# حساب\n\nقال إن 5 * 3 يساوي 15 وإن 2_000 * 4 يساوي 8_000.\n\n\
                    | المدينة | السكان |\n|---|---|\n| الرياض | 7 ملايين |\n\n\
                    ```\nlet x = 1;\n```\n\nسطر أول\nسطر ثان\n";
        let path = write(folder.path(), "math.md", text.as_bytes());
        let article = read_one(&path);
        assert_eq!(article.title.as_deref(), Some("حساب"));
        assert_eq!(
            article.text,
            "قال إن 5 * 3 يساوي 15 وإن 2_000 * 4 يساوي 8_000.\n\nالمدينة | السكان\n\n\
             الرياض | 7 ملايين\n\nسطر أول\nسطر ثان"
        );
    }

    #[test]
    fn html_keeps_main_text_only() {
        let folder = tempfile::tempdir().expect("temp dir");
        let html = r#"<!doctype html><html><head><title>عنوان الصفحة</title>
            <style>p { color: red }</style><script>var x = "لا";</script></head>
            <body><nav><a href="/">الرئيسية</a></nav><header>رأس</header>
            <article><h1>عنوان   الخبر</h1>
              <p>الفقرة <b>الأولى</b>
                 تستمر.</p><script>alert(1)</script>
              <div>الفقرة الثانية<br>سطر جديد</div>
              <aside>اقرأ أيضا</aside><figure><img src="a.png"><figcaption>تعليق</figcaption></figure>
              <ul><li>بند</li></ul>
            </article><footer>حقوق</footer></body></html>"#;
        let path = write(folder.path(), "page.html", html.as_bytes());
        let article = read_one(&path);
        assert_eq!(article.title.as_deref(), Some("عنوان الخبر"));
        assert_eq!(
            article.text,
            "الفقرة الأولى تستمر.\n\nالفقرة الثانية\nسطر جديد\n\nبند"
        );
    }

    #[test]
    fn html_without_article_uses_body_and_page_title() {
        let folder = tempfile::tempdir().expect("temp dir");
        let html = "<html><head><title> الصفحة </title></head><body><nav>قائمة</nav><p>نص.</p><p>آخر.</p></body></html>";
        let path = write(folder.path(), "page.htm", html.as_bytes());
        let article = read_one(&path);
        assert_eq!(article.title.as_deref(), Some("الصفحة"));
        assert_eq!(article.text, "نص.\n\nآخر.");
        let empty = write(
            folder.path(),
            "empty.html",
            b"<html><body><nav>x</nav></body></html>",
        );
        let error = read_error(&empty);
        assert!(
            error.ends_with("no article text found in the HTML"),
            "{error}"
        );
    }

    #[test]
    fn json_object_with_metadata() {
        let folder = tempfile::tempdir().expect("temp dir");
        let json = r#"{"title": "عنوان", "content": "نص\r\nالخبر.", "source": "وكالة", "url": "https://x.y/1", "published": "2023-09-20"}"#;
        let path = write(folder.path(), "one.json", json.as_bytes());
        let article = read_one(&path);
        assert_eq!(article.title.as_deref(), Some("عنوان"));
        assert_eq!(article.text, "نص\nالخبر.");
        assert_eq!(article.source.as_deref(), Some("وكالة"));
        assert_eq!(article.url.as_deref(), Some("https://x.y/1"));
        assert_eq!(article.published.as_deref(), Some("2023-09-20"));
        assert!(article.id.starts_with("one-"));
    }

    #[test]
    fn json_array_and_its_errors() {
        let folder = tempfile::tempdir().expect("temp dir");
        let json =
            r#"[{"text": "الأول."}, {"body": "الثاني."}, {"title": "بلا نص"}, 5, {"text": 7}]"#;
        let path = write(folder.path(), "many.json", json.as_bytes());
        let (articles, errors) = read_inputs(std::slice::from_ref(&path));
        let texts: Vec<&str> = articles.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, vec!["الأول.", "الثاني."]);
        assert_eq!(articles[0].origin, format!("{path}[0]"));
        assert!(articles[1].id.starts_with("many-I1-"));
        assert_eq!(
            messages(&errors),
            vec![
                format!("{path}[2]: no text field; hint: put the article body in \"text\" (or \"body\" or \"content\")"),
                format!("{path}[3]: expected an article object with a \"text\" field, found a number"),
                format!("{path}[4]: field \"text\" must be a string, found a number"),
            ]
        );
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = write(
            folder.path(),
            "bad.json",
            b"{\n  \"text\": \"x\",\n  oops\n}",
        );
        let error = read_error(&path);
        assert!(
            error.starts_with(&format!("{path}: malformed JSON at line 3, column 3")),
            "{error}"
        );
    }

    #[test]
    fn jsonl_bad_line_is_reported_and_others_load() {
        let folder = tempfile::tempdir().expect("temp dir");
        let lines = "{\"text\": \"الأول.\", \"title\": \"أ\"}\n{broken\n\n{\"text\": \"الثالث.\"}\n";
        let path = write(folder.path(), "feed.jsonl", lines.as_bytes());
        let (articles, errors) = read_inputs(std::slice::from_ref(&path));
        let origins: Vec<&str> = articles.iter().map(|a| a.origin.as_str()).collect();
        assert_eq!(origins, vec![format!("{path}:1"), format!("{path}:4")]);
        assert!(articles[0].id.starts_with("feed-L1-"));
        assert!(articles[1].id.starts_with("feed-L4-"));
        assert_eq!(articles[0].title.as_deref(), Some("أ"));
        assert_eq!(errors.len(), 1);
        let error = errors[0].to_string();
        assert!(
            error.starts_with(&format!("{path}:2: malformed JSON at line 1, column 2")),
            "{error}"
        );
    }

    #[test]
    fn invalid_utf8_names_file_and_offset() {
        let folder = tempfile::tempdir().expect("temp dir");
        let mut bytes = "نص".as_bytes().to_vec();
        bytes.push(0xC7); // Windows-1256 alef: not UTF-8 here.
        bytes.extend_from_slice(b" more");
        let path = write(folder.path(), "cp1256.txt", &bytes);
        let error = read_error(&path);
        assert!(
            error.starts_with(&format!(
                "{path}: not valid UTF-8: invalid byte at offset 4"
            )),
            "{error}"
        );
        assert!(error.contains("iconv"));
    }

    #[test]
    fn legacy_encodings_are_decoded_and_recorded() {
        let folder = tempfile::tempdir().expect("temp dir");
        let text = "قال الوزير إن الاجتماع سيعقد في الرياض.\nوأضاف أن الوضع هادئ.";
        let (cp1256, _, _) = encoding_rs::WINDOWS_1256.encode(text);
        let path = write(folder.path(), "legacy.txt", &cp1256);
        let article = read_one(&path);
        assert_eq!(article.text, text);
        assert_eq!(article.encoding, "windows-1256");
        let page = format!(
            "<html><head><meta charset=\"windows-1256\"><title>خبر</title></head>\
             <body><article><p>{text}</p></article></body></html>"
        );
        let (html, _, _) = encoding_rs::WINDOWS_1256.encode(&page);
        let path = write(folder.path(), "legacy.html", &html);
        let article = read_one(&path);
        assert!(article.text.contains("قال الوزير"), "{}", article.text);
        assert_eq!(article.encoding, "windows-1256");
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let path = write(folder.path(), "utf16.txt", &utf16);
        let article = read_one(&path);
        assert_eq!(article.text, text);
        assert_eq!(article.encoding, "UTF-16LE");
    }

    #[test]
    fn binary_empty_and_missing_inputs_are_errors() {
        let folder = tempfile::tempdir().expect("temp dir");
        let binary = write(folder.path(), "image.txt", b"\x89PNG\r\n\x1a\n\0\0\0");
        assert!(read_error(&binary).contains("binary file (NUL byte at offset 8)"));
        let empty = write(folder.path(), "empty.txt", b"");
        assert_eq!(
            read_error(&empty),
            format!("{empty}: empty article: no text")
        );
        let blank = write(folder.path(), "blank.txt", " \n\t\r\n\u{200B}\n".as_bytes());
        assert_eq!(
            read_error(&blank),
            format!("{blank}: empty article: no text")
        );
        let missing = folder.path().join("missing.txt").display().to_string();
        assert_eq!(
            read_error(&missing),
            format!("{missing}: no such file or folder; hint: check the path")
        );
        let utf16 = write(folder.path(), "utf16.txt", &[0xFF, 0xFE, 0x34, 0xD8]);
        assert!(read_error(&utf16).contains("not valid UTF-16LE"));
        let pdf = write(folder.path(), "paper.pdf", b"%PDF");
        assert!(read_error(&pdf).contains("unsupported file type .pdf"));
    }

    #[test]
    fn folder_without_articles_and_hidden_files() {
        let folder = tempfile::tempdir().expect("temp dir");
        write(folder.path(), "notes.pdf", b"x");
        write(folder.path(), ".hidden.txt", "مخفي.".as_bytes());
        write(folder.path(), ".git/HEAD.txt", "مخفي أيضا.".as_bytes());
        let path = folder.path().display().to_string();
        let error = read_error(&path);
        assert!(
            error.starts_with(&format!("{path}: folder has no articles")),
            "{error}"
        );
        write(folder.path(), "b/2.TXT", "ثان.".as_bytes());
        write(folder.path(), "a.md", "أول.".as_bytes());
        let (articles, errors) = read_inputs(std::slice::from_ref(&path));
        assert!(errors.is_empty());
        let texts: Vec<&str> = articles.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, vec!["أول.", "ثان."]);
    }

    #[test]
    fn duplicates_keep_the_first() {
        let folder = tempfile::tempdir().expect("temp dir");
        let first = write(folder.path(), "first.txt", "نص مكرر.".as_bytes());
        let second = write(folder.path(), "second.md", "نص مكرر.\n".as_bytes());
        let (articles, errors) = read_inputs(&[first, second.clone()]);
        assert_eq!(articles.len(), 1);
        assert_eq!(
            messages(&errors),
            vec![format!("{second}: duplicate of {}", articles[0].id)]
        );
    }

    #[test]
    fn a_reprint_by_another_outlet_is_kept_as_wire_copy() {
        // Hostile night, harm 8: a reprint by another outlet was dropped as a duplicate, and
        // every duplicate made the night exit 1.
        let folder = tempfile::tempdir().expect("temp dir");
        let feed = write(
            folder.path(),
            "feed.jsonl",
            concat!(
                r#"{"text": "نص الوكالة.", "source": "واس"}"#,
                "\n",
                r#"{"text": "نص الوكالة.", "source": "عكاظ"}"#,
                "\n",
                r#"{"text": "نص الوكالة.", "source": "واس"}"#,
                "\n",
                r#"{"text": ""}"#,
                "\n"
            )
            .as_bytes(),
        );
        let (articles, problems) = read_inputs(&[feed]);
        let sources: Vec<_> = articles.iter().map(|a| a.source.as_deref()).collect();
        assert_eq!(sources, vec![Some("واس"), Some("عكاظ")]);
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(InputError::is_skipped), "{problems:?}");
    }

    #[test]
    fn oversized_file_is_refused_from_metadata() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path: PathBuf = folder.path().join("huge.txt");
        let file = File::create(&path).expect("create");
        file.set_len(MAX_FILE_BYTES + 1).expect("sparse file");
        let error = read_error(&path.display().to_string());
        assert!(
            error.contains("file is 20.0 MB, over the 20 MB limit"),
            "{error}"
        );
    }

    #[test]
    fn ids_are_safe_file_names() {
        assert_eq!(sanitize_stem("../../etc/passwd"), "etc_passwd");
        assert_eq!(sanitize_stem("خبر عاجل"), "article");
        assert_eq!(sanitize_stem("-rf"), "rf");
        assert_eq!(sanitize_stem(&"a".repeat(60)).len(), 40);
        assert_eq!(
            sanitize_stem("000_d24ed62e350e2f11"),
            "000_d24ed62e350e2f11"
        );
    }
}
