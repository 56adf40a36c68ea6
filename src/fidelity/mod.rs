//! Fidelity: does the English say what the Arabic says?
//!
//! Every translated chunk is checked against its source, deterministically and without another
//! model call (see [`check`]): numbers and dates must match in both directions, a name the
//! English mentions must be named in the Arabic, names in the glossary must get their one
//! English rendering, and the English must cover the source (no dropped sentences, no leftover
//! Arabic, no meta text or refusal, no degenerate repetition). What fails becomes a [`Flag`]:
//! the translate stage retries the chunk with the problems named, then sentence by sentence, and
//! keeps whatever still fails with its flags, which every output shows where the analyst reads.

pub mod arabic;
pub mod attribution;
pub mod dates;
pub mod events;
pub mod glossary;
pub mod magnitudes;
mod meta;
pub mod numbers;
pub mod titles;

pub use meta::{check_meta_text, check_repetition};

use serde::{Deserialize, Serialize};

pub use dates::check as check_dates;
use glossary::Glossary;

/// How the fidelity checks and repairs run, from settings `[fidelity]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FidelitySettings {
    /// Check every translated chunk and flag what fails.
    pub checks: bool,
    /// Ask again for a flagged chunk: with the problems named, then sentence by sentence.
    pub repair: bool,
    /// Put the glossary names found in a chunk into its prompt.
    pub glossary_in_prompt: bool,
    /// An extra glossary file added to the built-in one (empty: none).
    pub glossary: String,
}

/// English/Arabic length ratio (in characters) below which a chunk is taken to have lost text.
/// On the NTREX news sample the 1st percentile of reference ratios is 0.60.
pub const MIN_LENGTH_RATIO: f64 = 0.5;
/// Ratio above which the English is taken to have added text (99th percentile there: 1.54).
pub const MAX_LENGTH_RATIO: f64 = 2.2;
/// Sources shorter than this (characters) are not judged by their length ratio.
const MIN_CHARS_FOR_RATIO: usize = 60;

/// What a flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    /// A number missing from the English, or one the Arabic does not have.
    Number,
    /// A month or weekday that differs.
    Date,
    /// A name the English mentions that the Arabic does not.
    NotInSource,
    /// A glossary name the English does not render as the glossary says.
    Name,
    /// The English is much shorter or longer than the source, or has fewer sentences.
    Coverage,
    /// Arabic script left in the English.
    LeftoverArabic,
    /// "Here is the translation", "As an AI", a refusal.
    MetaText,
    /// The same words over and over.
    Repetition,
    /// No English at all.
    Empty,
    /// A summary key point that is not a whole sentence, or not backed by what it cites.
    Summary,
    /// An event word of the Arabic (a phone call, prisoners, resumed, denied) that the English
    /// does not render.
    Meaning,
}

impl FlagKind {
    /// How much a flag of this kind lowers trust in its chunk (1 = the chunk cannot be trusted).
    pub fn weight(self) -> f64 {
        match self {
            // Meta text left after cleaning is an answer about the task, a refusal or the
            // prompt echoed: no translation of that text, like an empty answer.
            FlagKind::Empty | FlagKind::Repetition | FlagKind::NotInSource | FlagKind::MetaText => {
                1.0
            }
            FlagKind::Number | FlagKind::Date | FlagKind::Coverage | FlagKind::Meaning => 0.8,
            FlagKind::Summary | FlagKind::LeftoverArabic => 0.5,
            FlagKind::Name => 0.3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Number => "number",
            FlagKind::Date => "date",
            FlagKind::NotInSource => "not-in-source",
            FlagKind::Name => "name",
            FlagKind::Coverage => "coverage",
            FlagKind::LeftoverArabic => "leftover-arabic",
            FlagKind::MetaText => "meta-text",
            FlagKind::Repetition => "repetition",
            FlagKind::Empty => "empty",
            FlagKind::Summary => "summary",
            FlagKind::Meaning => "meaning",
        }
    }
}

/// One doubt about a translation, written for the analyst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    /// What is wrong, in English.
    pub message: String,
    /// The Arabic it concerns, when there is a piece of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arabic: Option<String>,
    /// The English it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub english: Option<String>,
}

impl Flag {
    pub fn new(kind: FlagKind, message: String) -> Flag {
        Flag {
            kind,
            message,
            arabic: None,
            english: None,
        }
    }

    fn arabic(mut self, text: &str) -> Flag {
        self.arabic = Some(text.to_string());
        self
    }

    fn english(mut self, text: &str) -> Flag {
        self.english = Some(text.to_string());
        self
    }
}

/// How bad a set of flags is: the sum of their weights (0 = clean).
pub fn badness(flags: &[Flag]) -> f64 {
    flags.iter().map(|flag| flag.kind.weight()).sum()
}

/// Every check on one chunk: `source` (Arabic) and its English `translation`.
pub fn check(source: &str, translation: &str, glossary: &Glossary) -> Vec<Flag> {
    let english = translation.trim();
    if english.is_empty() {
        return vec![Flag::new(
            FlagKind::Empty,
            "the translation is empty".into(),
        )];
    }
    let mut flags = Vec::new();
    flags.extend(check_numbers(source, english));
    flags.extend(check_dates(source, english));
    flags.extend(dates::check_relative_days(source, english));
    flags.extend(dates::check_decades(source, english));
    flags.extend(check_names(source, english, glossary));
    flags.extend(check_titles(source, english));
    flags.extend(check_attribution(source, english, glossary));
    flags.extend(check_events(source, english));
    flags.extend(check_coverage(source, english));
    flags.extend(check_leftover_arabic(english));
    flags.extend(check_meta_text(english));
    flags.extend(check_repetition(english));
    flags
}

/// Numbers in digits on either side must be on the other (in digits or words).
pub fn check_numbers(source: &str, english: &str) -> Vec<Flag> {
    let arabic_numbers = numbers::arabic_numbers(source);
    let english_numbers = numbers::english_numbers(english);
    let mut seen = Vec::new();
    let mut flags = missing_numbers(&arabic_numbers, &english_numbers, &mut seen, |number| {
        Flag::new(
            FlagKind::Number,
            format!(
                "the Arabic has the number {}; the English does not",
                show(number.value)
            ),
        )
        .arabic(&number.written)
    });
    flags.extend(missing_numbers(
        &english_numbers,
        &arabic_numbers,
        &mut seen,
        |number| {
            Flag::new(
                FlagKind::Number,
                format!(
                    "the English has the number {}, which the Arabic does not",
                    number.written
                ),
            )
            .english(&number.written)
        },
    ));
    flags.extend(check_magnitudes(source, english, &arabic_numbers));
    flags
}

/// A vague quantity in the English ("tens of thousands") must be in the Arabic, as one of the
/// same size or as a number of that size (see `magnitudes`).
fn check_magnitudes(source: &str, english: &str, arabic_numbers: &[numbers::Number]) -> Vec<Flag> {
    let arabic = magnitudes::arabic(source);
    let english = magnitudes::english(english);
    let mut flags = Vec::new();
    let mut seen = Vec::new();
    for found in &english {
        let in_arabic = arabic.iter().any(|a| a.exponent == found.exponent)
            || (arabic_numbers.iter()).any(|n| magnitudes::exponent_of(n.value) == found.exponent);
        if in_arabic || seen.contains(&found.exponent) {
            continue;
        }
        seen.push(found.exponent);
        // The Arabic quantity it most likely renders: one the English has no match for.
        let counterpart = (arabic.iter())
            .find(|a| !english.iter().any(|e| e.exponent == a.exponent))
            .or(arabic.first());
        let flag = match counterpart {
            Some(original) => Flag::new(
                FlagKind::Number,
                format!(
                    "the English says \"{}\" where the Arabic has {} (\"{}\")",
                    found.written,
                    original.written,
                    magnitudes::gloss(original.exponent)
                ),
            )
            .arabic(&original.written),
            None => Flag::new(
                FlagKind::Number,
                format!(
                    "the English says \"{}\", a quantity the Arabic does not give",
                    found.written
                ),
            ),
        };
        flags.push(flag.english(&found.written));
    }
    flags
}

/// A flag for each number written in digits in `from` whose value `to` lacks, once per value
/// (`seen` carries the values already flagged from the other side).
fn missing_numbers(
    from: &[numbers::Number],
    to: &[numbers::Number],
    seen: &mut Vec<f64>,
    flag: impl Fn(&numbers::Number) -> Flag,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    for number in from.iter().filter(|number| number.digits) {
        let present = to
            .iter()
            .any(|other| numbers::same(other.value, number.value));
        if !present && !seen.iter().any(|value| numbers::same(*value, number.value)) {
            seen.push(number.value);
            flags.push(flag(number));
        }
    }
    flags
}

/// A value as an analyst reads it: 30000 → "30,000", 6.5 → "6.5".
pub fn show(value: f64) -> String {
    if value.fract() != 0.0 || value.abs() >= 1e15 {
        return format!("{value}");
    }
    let digits = format!("{}", value.abs() as u64);
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 && digits.len() > 4 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// Ministries the English gives to another country than the Arabic (see `attribution`).
pub fn check_attribution(source: &str, english: &str, glossary: &Glossary) -> Vec<Flag> {
    attribution::misattributed(source, english, glossary)
        .into_iter()
        .map(|found| {
            Flag::new(
                FlagKind::NotInSource,
                format!(
                    "the English gives the {} ministry to {}; the Arabic's is {}'s",
                    found.ministry,
                    found.english,
                    found.arabic.join(" or ")
                ),
            )
            .english(&found.english)
        })
        .collect()
}

/// Event words of the Arabic that the English does not render, and a negation it drops (see
/// `events`).
pub fn check_events(source: &str, english: &str) -> Vec<Flag> {
    let mut flags: Vec<Flag> = events::missing(source, english)
        .into_iter()
        .map(|(event, written)| {
            Flag::new(
                FlagKind::Meaning,
                format!(
                    "the Arabic says {} ({written}); the English does not",
                    event.label
                ),
            )
            .arabic(&written)
        })
        .collect();
    if let Some(written) = events::dropped_negation(source, english) {
        flags.push(
            Flag::new(
                FlagKind::Meaning,
                format!("the Arabic negates ({written}); the English negates nothing"),
            )
            .arabic(&written),
        );
    }
    flags
}

/// Offices the English gives that the Arabic does not name (see `titles`).
pub fn check_titles(source: &str, english: &str) -> Vec<Flag> {
    titles::missing(source, english)
        .into_iter()
        .map(|(written, arabic)| {
            Flag::new(
                FlagKind::NotInSource,
                format!("the English says \"{written}\", but the Arabic names no such office ({arabic})"),
            )
            .english(&written)
        })
        .collect()
}

/// Names: a glossary name the English mentions must be in the Arabic, and a glossary name in the
/// Arabic must appear in the English as the glossary renders it.
pub fn check_names(source: &str, english: &str, glossary: &Glossary) -> Vec<Flag> {
    let in_source = glossary.in_arabic(source);
    let source_terms: Vec<usize> = in_source.iter().map(|found| found.term).collect();
    let spans = glossary.english_spans(english);
    let mut flags = Vec::new();
    for mention in Glossary::longest(&spans) {
        let entry = glossary.entry(mention.term);
        // Names the model proposed for this run are checked for their spelling only.
        let proposed = entry.source.as_deref() == Some(glossary::RUN_SOURCE);
        if entry.ambiguous || proposed || source_terms.contains(&mention.term) {
            continue;
        }
        // "Nagorno-Karabakh" for a source that says "قره باغ", or "Red Cross" for one that says
        // "اللجنة الدولية للصليب الأحمر": a name inside, or around, a name of the same kind the
        // source has ("Armenian" inside "Armenian Revolutionary Front" grounds no party).
        let grounded = spans.iter().any(|span| {
            span.written != mention.written
                && mention.written.contains(&span.written)
                && source_terms.contains(&span.term)
                && glossary.entry(span.term).kind == entry.kind
        }) || source_terms.iter().any(|&term| {
            let entry = glossary.entry(term);
            std::iter::once(&entry.en)
                .chain(&entry.en_variants)
                .any(|name| contains_words(name, &mention.written))
        });
        if !grounded {
            flags.push(
                Flag::new(
                    FlagKind::NotInSource,
                    format!(
                        "the English names {}, which the Arabic does not mention",
                        mention.written
                    ),
                )
                .english(&mention.written),
            );
        }
    }
    let substituted = !flags.is_empty();
    for found in &in_source {
        let entry = glossary.entry(found.term);
        let rendered = spans.iter().any(|span| span.term == found.term);
        // An adjective left out is usual ("the Senate"); one put in another's place is not.
        let left_out = entry.is_adjective(&found.written) && !substituted;
        if !entry.ambiguous && !rendered && !left_out {
            flags.push(
                Flag::new(
                    FlagKind::Name,
                    format!(
                        "the Arabic names {} ({}); the English does not call it that",
                        entry.en,
                        entry.kind.as_str()
                    ),
                )
                .arabic(&found.written),
            );
        }
    }
    flags
}

/// Whether phrase `outer` contains `inner` as whole words ("International Committee of the Red
/// Cross" contains "Red Cross").
fn contains_words(outer: &str, inner: &str) -> bool {
    let outer = glossary::english_words(outer);
    let inner = glossary::english_words(inner);
    !inner.is_empty()
        && outer
            .windows(inner.len())
            .any(|window| window == inner.as_slice())
}

/// The English should be about as long as the source and keep its sentences.
pub fn check_coverage(source: &str, english: &str) -> Vec<Flag> {
    let source_chars = source.chars().filter(|c| !c.is_whitespace()).count();
    let english_chars = english.chars().filter(|c| !c.is_whitespace()).count();
    let mut flags = Vec::new();
    if source_chars >= MIN_CHARS_FOR_RATIO {
        let ratio = english_chars as f64 / source_chars as f64;
        if ratio < MIN_LENGTH_RATIO {
            flags.push(Flag::new(
                FlagKind::Coverage,
                format!(
                    "the English is much shorter than the Arabic ({:.0}% of its length); text may be missing",
                    ratio * 100.0
                ),
            ));
        } else if ratio > MAX_LENGTH_RATIO {
            flags.push(Flag::new(
                FlagKind::Coverage,
                format!(
                    "the English is much longer than the Arabic ({:.0}% of its length); text may have been added",
                    ratio * 100.0
                ),
            ));
        }
    }
    if is_name_list(english) && source.split_whitespace().count() >= 6 {
        flags.push(Flag::new(
            FlagKind::Coverage,
            "the English is a list of names, not a translation of the text".into(),
        ));
    }
    let source_sentences = crate::chunk::split_sentences(source).len();
    let english_sentences = crate::chunk::split_sentences(english).len();
    if source_sentences >= 3 && english_sentences * 2 < source_sentences {
        flags.push(Flag::new(
            FlagKind::Coverage,
            format!(
                "the Arabic has {source_sentences} sentences; the English only {english_sentences}"
            ),
        ));
    }
    flags
}

/// "Recep Tayyip Erdogan, Russia, Azerbaijan, Armenia, Karabakh": names and commas, no word in
/// lower case (the small model's answer to a headline when the prompt listed the names).
fn is_name_list(english: &str) -> bool {
    let words: Vec<&str> = english
        .split(|c: char| !c.is_alphabetic())
        .filter(|word| !word.is_empty())
        .collect();
    words.len() >= 3
        && english.matches(',').count() >= 2
        && !words
            .iter()
            .any(|word| word.chars().next().is_some_and(char::is_lowercase))
}

/// Arabic words left untranslated in the English.
pub fn check_leftover_arabic(english: &str) -> Vec<Flag> {
    let words: Vec<&str> = english
        .split_whitespace()
        .filter(|word| word.chars().any(arabic::is_arabic_letter))
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let shown = words.iter().take(6).copied().collect::<Vec<_>>().join(" ");
    vec![Flag::new(
        FlagKind::LeftoverArabic,
        format!(
            "{} Arabic word(s) left untranslated in the English",
            words.len()
        ),
    )
    .arabic(&shown)]
}

/// Checks on text the model wrote from the English (summaries, key points): Arabic left in it,
/// meta text.
pub fn check_written(english: &str) -> Vec<Flag> {
    let mut flags = check_leftover_arabic(english);
    flags.extend(check_meta_text(english));
    flags
}

/// What to tell the model when a chunk is asked again: one line per problem.
pub fn repair_notes(flags: &[Flag]) -> String {
    flags
        .iter()
        .map(|flag| {
            let about = match (&flag.arabic, &flag.english) {
                (Some(arabic), _) => format!(" [{arabic}]"),
                (None, Some(english)) => format!(" [{english}]"),
                (None, None) => String::new(),
            };
            format!("- {}{about}", flag.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Trust in a text of several pieces: 1 minus the token-weighted share lost to flags, where a
/// piece's loss is its flags' summed weight, capped at 1.
pub fn confidence<'a>(pieces: impl IntoIterator<Item = (usize, &'a [Flag])>) -> f64 {
    let (mut lost, mut total) = (0.0, 0.0);
    for (tokens, flags) in pieces {
        let weight = tokens.max(1) as f64;
        lost += weight * badness(flags).min(1.0);
        total += weight;
    }
    if total == 0.0 {
        1.0
    } else {
        ((1.0 - lost / total) * 100.0).round() / 100.0
    }
}

/// "high", "medium" or "low" for a confidence from [`confidence`].
pub fn confidence_label(confidence: f64) -> &'static str {
    if confidence >= 0.9 {
        "high"
    } else if confidence >= 0.7 {
        "medium"
    } else {
        "low"
    }
}

#[cfg(test)]
mod tests;
