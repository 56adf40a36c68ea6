//! The glossary: Arabic names and terms with their spelling variants, each with one English
//! rendering and a kind. It is used three ways: the terms found in a chunk go into its prompt,
//! the English must then use the rendering, and a name the English mentions whose Arabic forms
//! are not in the source is flagged as not in the source.
//!
//! The built-in glossary is `config/glossary.toml` (generated from CLDR territory names and a
//! curated list by `scripts/glossary/generate.py`); `fidelity.glossary` names an extra file in
//! the same format whose entries are added to it (an entry with the same `en` replaces the
//! built-in one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::arabic::{self, Form};

/// The built-in glossary.
pub const BUILTIN: &str = include_str!("../../config/glossary.toml");

/// What a term names.
/// `source` of glossary entries that come from the names stage (proposed by a model during the
/// run, not reviewed).
pub const RUN_SOURCE: &str = "run";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Person,
    Place,
    Organisation,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Place => "place",
            Kind::Organisation => "organisation",
            Kind::Other => "other",
        }
    }
}

/// One entry as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The English rendering to use.
    pub en: String,
    pub kind: Kind,
    /// Arabic forms: spelling variants, short forms, adjective stems.
    pub ar: Vec<String>,
    /// Other English forms that count as this term (surnames alone, demonyms).
    #[serde(default)]
    pub en_variants: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// An Arabic form is also an ordinary word, or the English name is: the term is put in
    /// prompts but never flagged.
    #[serde(default)]
    pub ambiguous: bool,
}

impl Entry {
    /// Whether `written`, where the Arabic names this term, is its adjective (a nisba:
    /// "الأمريكي", "البريطانية", "الأوروبيين") rather than the name itself. English often
    /// renders such an adjective without the name ("مجلس الشيوخ الأمريكي" is "the Senate").
    pub fn is_adjective(&self, written: &str) -> bool {
        let ends_in_ya = |word: &str| {
            let word = arabic::fold(word);
            let stem = ["ين", "ون", "ه"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .unwrap_or(&word);
            stem.ends_with('ي')
        };
        let last_word = |text: &str| text.split_whitespace().last().unwrap_or("").to_string();
        let name_ends_in_ya = self
            .ar
            .first()
            .is_some_and(|name| arabic::fold(&last_word(name)).ends_with('ي'));
        !name_ends_in_ya && ends_in_ya(&last_word(written))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    terms: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum GlossaryError {
    /// The glossary file cannot be read; the error names it (fs-err).
    #[error(transparent)]
    Read(#[from] std::io::Error),
    #[error("glossary {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// A term found in a text: which entry, and the words that named it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub term: usize,
    pub written: String,
}

/// The loaded glossary with its lookup indexes.
#[derive(Debug, Default)]
pub struct Glossary {
    entries: Vec<Entry>,
    /// Folded first Arabic word → (entry, form).
    arabic_index: HashMap<String, Vec<(usize, Form)>>,
    /// First English word → (entry, phrase words).
    english_index: HashMap<String, Vec<(usize, Vec<String>)>>,
}

impl Glossary {
    /// The built-in glossary plus the file at `extra` (when not empty).
    pub fn load(extra: &str) -> Result<Glossary, GlossaryError> {
        let mut entries = parse(BUILTIN, Path::new("config/glossary.toml (built in)"))?;
        if !extra.is_empty() {
            let path = PathBuf::from(extra);
            let text = fs_err::read_to_string(&path)?;
            for entry in parse(&text, &path)? {
                entries.retain(|existing| existing.en != entry.en);
                entries.push(entry);
            }
        }
        Ok(Glossary::new(entries))
    }

    /// A glossary of exactly these entries.
    pub fn new(entries: Vec<Entry>) -> Glossary {
        let mut glossary = Glossary::default();
        for (index, entry) in entries.iter().enumerate() {
            let mut spellings: Vec<String> = Vec::new();
            for text in &entry.ar {
                for spelling in [text.clone(), arabic::final_alef_maqsura_as_ya(text)] {
                    if !spellings.contains(&spelling) {
                        spellings.push(spelling);
                    }
                }
            }
            for form in spellings.iter().filter_map(|text| Form::new(text)) {
                glossary
                    .arabic_index
                    .entry(form.key().to_string())
                    .or_default()
                    .push((index, form));
            }
            for phrase in std::iter::once(&entry.en).chain(&entry.en_variants) {
                let words = english_words(phrase);
                if let Some(first) = words.first() {
                    glossary
                        .english_index
                        .entry(first.clone())
                        .or_default()
                        .push((index, words.clone()));
                }
            }
        }
        glossary.entries = entries;
        glossary
    }

    /// This glossary with `extra` entries added after its own.
    pub fn with(&self, extra: Vec<Entry>) -> Glossary {
        let mut entries = self.entries.clone();
        entries.extend(extra);
        Glossary::new(entries)
    }

    pub fn entry(&self, term: usize) -> &Entry {
        &self.entries[term]
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Terms named in Arabic `text`, each once, in order of first appearance; where two forms
    /// overlap, the longer one wins ("ناغورني قره باغ" over "قره باغ").
    pub fn in_arabic(&self, text: &str) -> Vec<Found> {
        let words = surface_words(text);
        let folded: Vec<String> = words.iter().map(|(folded, _)| folded.clone()).collect();
        let mut spans: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
        for (start, word) in folded.iter().enumerate() {
            for core in arabic::candidate_cores(word) {
                for (term, form) in self.arabic_index.get(&core).into_iter().flatten() {
                    for range in form.find_in(&folded[start..]) {
                        if range.start == 0 {
                            spans.push((start..start + range.end, *term));
                        }
                    }
                }
            }
        }
        let spans = longest_first(spans);
        let mut found: Vec<Found> = Vec::new();
        for (range, term) in spans {
            if found.iter().any(|f| f.term == term) {
                continue;
            }
            let written = words[range]
                .iter()
                .map(|(_, original)| original.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            found.push(Found { term, written });
        }
        found
    }

    /// Every place the English `text` mentions a term (by `en` or a variant, case-sensitive,
    /// whole words), overlapping ones included: "Nagorno-Karabakh" is also a "Karabakh".
    pub fn english_spans(&self, text: &str) -> Vec<Span> {
        let words = english_words(text);
        let mut spans = Vec::new();
        for (start, word) in words.iter().enumerate() {
            for (term, phrase) in self.english_index.get(word).into_iter().flatten() {
                if words.get(start..start + phrase.len()) == Some(phrase.as_slice()) {
                    spans.push(Span {
                        words: start..start + phrase.len(),
                        term: *term,
                        written: phrase.join(" "),
                    });
                }
            }
        }
        spans
    }

    /// Terms the English `text` mentions, each once, in order of first appearance; a mention
    /// inside a longer one counts as the longer one only.
    pub fn in_english(&self, text: &str) -> Vec<Found> {
        Glossary::longest(&self.english_spans(text))
    }

    /// The mentions among `spans` (from [`Glossary::english_spans`]) that are not inside a
    /// longer one, each term once, in order of first appearance.
    pub fn longest(spans: &[Span]) -> Vec<Found> {
        let ranges = spans
            .iter()
            .map(|span| (span.words.clone(), span.term))
            .collect();
        let mut found: Vec<Found> = Vec::new();
        for (range, term) in longest_first(ranges) {
            if found.iter().any(|f| f.term == term) {
                continue;
            }
            if let Some(span) = spans.iter().find(|s| s.words == range && s.term == term) {
                found.push(Found {
                    term,
                    written: span.written.clone(),
                });
            }
        }
        found
    }
}

/// One English mention: the words it covers, its term, and the phrase as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub words: std::ops::Range<usize>,
    pub term: usize,
    pub written: String,
}

fn parse(text: &str, path: &Path) -> Result<Vec<Entry>, GlossaryError> {
    toml::from_str::<File>(text)
        .map(|file| file.terms)
        .map_err(|error| GlossaryError::Parse {
            path: path.to_path_buf(),
            message: error.to_string(),
        })
}

/// Spans sorted by position, keeping only those not inside a longer (or earlier equal) one.
fn longest_first(
    mut spans: Vec<(std::ops::Range<usize>, usize)>,
) -> Vec<(std::ops::Range<usize>, usize)> {
    spans.sort_by_key(|(range, _)| (std::cmp::Reverse(range.len()), range.start));
    let mut kept: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    for (range, term) in spans {
        let inside = kept.iter().any(|(other, _)| {
            other.start <= range.start && range.end <= other.end && other != &range
        });
        if !inside {
            kept.push((range, term));
        }
    }
    kept.sort_by_key(|(range, _)| range.start);
    kept
}

/// Words of an Arabic text: (folded, as written).
fn surface_words(text: &str) -> Vec<(String, String)> {
    text.split(|character: char| !(character.is_alphanumeric() || is_mark(character)))
        .filter(|word| !word.is_empty())
        .map(|word| (arabic::fold(word), word.to_string()))
        .filter(|(folded, _)| !folded.is_empty())
        .collect()
}

fn is_mark(character: char) -> bool {
    matches!(character, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}')
}

/// Words of an English text, split at anything that is not a letter or digit.
pub fn english_words(text: &str) -> Vec<String> {
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(en: &str, kind: Kind, ar: &[&str], variants: &[&str]) -> Entry {
        Entry {
            en: en.into(),
            kind,
            ar: ar.iter().map(|s| s.to_string()).collect(),
            en_variants: variants.iter().map(|s| s.to_string()).collect(),
            source: None,
            ambiguous: false,
        }
    }

    fn sample() -> Glossary {
        Glossary::new(vec![
            entry("Karabakh", Kind::Place, &["قره باغ", "كاراباخ"], &[]),
            entry(
                "Nagorno-Karabakh",
                Kind::Place,
                &["ناغورني قره باغ", "ناغورنو كاراباخ"],
                &["Nagorno Karabakh"],
            ),
            entry(
                "Antony Blinken",
                Kind::Person,
                &["أنتوني بلينكن", "بلينكن"],
                &["Blinken"],
            ),
            entry("Saudi Arabia", Kind::Place, &["السعودية"], &["Saudi"]),
        ])
    }

    #[test]
    fn arabic_terms_with_the_longest_form() {
        let glossary = sample();
        let found = glossary.in_arabic("ناغورني قره باغ هي منطقة. وقال بلينكن إن قرة باغ");
        let names: Vec<&str> = found
            .iter()
            .map(|f| glossary.entry(f.term).en.as_str())
            .collect();
        assert_eq!(names, ["Nagorno-Karabakh", "Antony Blinken", "Karabakh"]);
        assert_eq!(found[1].written, "بلينكن");
    }

    #[test]
    fn english_mentions_on_word_boundaries() {
        let glossary = sample();
        let found = glossary.in_english("Blinken said Nagorno-Karabakh and the Saudis");
        let names: Vec<&str> = found
            .iter()
            .map(|f| glossary.entry(f.term).en.as_str())
            .collect();
        assert_eq!(names, ["Antony Blinken", "Nagorno-Karabakh"]);
        assert!(glossary.in_english("Linben called").is_empty());
    }

    #[test]
    fn names_ending_in_alef_maqsura_match_both_spellings() {
        let glossary = Glossary::new(vec![entry("Mustafa", Kind::Person, &["مصطفى"], &[])]);
        assert_eq!(glossary.in_arabic("قال مصطفى").len(), 1);
        assert_eq!(glossary.in_arabic("قال مصطفي").len(), 1);
    }

    #[test]
    fn the_built_in_glossary_loads() {
        let glossary = Glossary::load("").expect("built-in glossary parses");
        assert!(glossary.len() > 200, "{} terms", glossary.len());
    }
}
