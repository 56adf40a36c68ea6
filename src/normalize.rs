//! Arabic text cleanup.
//!
//! INTERFACE STUB: the text-processing helper owns this file.

/// What `normalize` may do, from settings `[normalize]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeSettings {
    /// Keep Arabic diacritics (harakat). Dropping them changes the cache key of every chunk.
    pub keep_diacritics: bool,
    /// Drop scraped boilerplate lines.
    pub drop_boilerplate: bool,
    /// Lines equal to one of these (after cleanup, ignoring final punctuation) are boilerplate.
    pub boilerplate_lines: Vec<String>,
    /// Lines starting with one of these are boilerplate ("اقرأ أيضاً: ...").
    pub boilerplate_prefixes: Vec<String>,
}

/// A line removed from the article, recorded in the article's JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dropped {
    pub text: String,
    /// Why: "boilerplate", "caption", ...
    pub reason: String,
}

/// The cleaned article body.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cleaned {
    /// Paragraphs in order, each non-empty, whitespace collapsed.
    pub paragraphs: Vec<String>,
    pub dropped: Vec<Dropped>,
}

/// Normalize a single piece of text (Unicode, tatweel, invisible controls, whitespace, diacritics).
pub fn normalize_text(_text: &str, _settings: &NormalizeSettings) -> String {
    unimplemented!("text helper")
}

/// Clean a whole article body into paragraphs, dropping boilerplate lines.
pub fn clean(_body: &str, _settings: &NormalizeSettings) -> Cleaned {
    unimplemented!("text helper")
}
