// Over 600 lines only with its tests: the code is 536 lines.
//! Per-article summaries: one paragraph and 3 to 6 key points, each citing the paragraphs
//! ([1]..[n]) of the English translation it rests on.
//!
//! With an LLM configured for `stages.summarize`, the numbered translation is sent with a JSON
//! schema; an article longer than [`MAX_INPUT_CHARACTERS`] is summarized map-reduce style (groups
//! of paragraphs first, keeping the article's own paragraph numbers, then a summary of those
//! summaries). Answers are validated before they are cached; a malformed answer is retried once
//! (see `structured`), and citations past the end of the article are dropped and noted. Without
//! an LLM, or when its answers stay unusable, TextRank picks the sentences instead: a summary
//! always exists, and `method` and `notes` say how it was made.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::english::{extractive, text};
use std::sync::Arc;

use crate::fidelity::glossary::Glossary;
use crate::fidelity::{numbers, Flag, FlagKind};
use crate::stage::StageRunner;
use crate::structured::{self, unfence, AskError};

/// Longest numbered text sent in one request; longer articles are summarized in parts.
pub const MAX_INPUT_CHARACTERS: usize = 12_000;
const MIN_KEY_POINTS: usize = 3;
const MAX_KEY_POINTS: usize = 6;
const SUMMARY_SENTENCES: usize = 2;

/// An article's summary (`summary` in `articles/<id>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub summary: String,
    pub key_points: Vec<KeyPoint>,
    /// `llm` or `extractive`.
    pub method: String,
    /// The backend that wrote it (LLM summaries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// How it was made when that is worth knowing: retries, fallbacks, dropped citations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One key point and the article paragraphs (1-based) it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyPoint {
    pub text: String,
    #[serde(default)]
    pub paragraphs: Vec<usize>,
    /// A number or name in it that the paragraphs it cites do not have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
}

/// What a model must answer.
#[derive(Debug, Deserialize)]
struct ModelSummary {
    summary: String,
    key_points: Vec<KeyPoint>,
}

/// The JSON schema sent with every summarize request.
pub fn schema() -> serde_json::Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["summary", "key_points"],
        "properties": {
            "summary": {"type": "string"},
            "key_points": {
                "type": "array", "minItems": MIN_KEY_POINTS, "maxItems": MAX_KEY_POINTS,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["text", "paragraphs"],
                    "properties": {
                        "text": {"type": "string"},
                        "paragraphs": {"type": "array", "items": {"type": "integer"}}
                    }
                }
            }
        }
    })
}

/// Parse and check a model's summary: a non-empty summary and at least one non-empty key point.
fn parse(answer: &str) -> Result<ModelSummary, String> {
    let parsed: ModelSummary = serde_json::from_str(unfence(answer))
        .map_err(|error| format!("not the JSON asked for: {error}"))?;
    if parsed.summary.trim().is_empty() {
        return Err("the summary is empty".into());
    }
    if !parsed
        .key_points
        .iter()
        .any(|point| !point.text.trim().is_empty())
    {
        return Err("no key points".into());
    }
    Ok(parsed)
}

fn validate(answer: &str) -> Result<(), String> {
    parse(answer).map(|_| ())
}

/// Summarizes articles with the stage's backends, or extractively.
pub struct Summarizer {
    pub runner: Option<StageRunner>,
    /// Names whose presence in a key point is checked against the paragraphs it cites.
    pub glossary: Arc<Glossary>,
}

impl Summarizer {
    /// Whether summaries come from an LLM (else TextRank).
    pub fn uses_llm(&self) -> bool {
        self.runner.as_ref().is_some_and(StageRunner::is_llm)
    }

    /// Summarize article `id` from its English paragraphs. Never fails: when the LLM's answers
    /// are unusable the summary is extractive and the error comes back beside it.
    pub async fn summarize(&self, id: &str, english: &[String]) -> (Summary, Option<String>) {
        let Some(runner) = self.runner.as_ref().filter(|runner| runner.is_llm()) else {
            let mut summary = extractive_summary(english);
            summary
                .notes
                .push("extractive: no LLM configured for summaries".into());
            return (summary, None);
        };
        match llm_summary(runner, english).await {
            Ok(mut summary) => {
                check_key_points(&mut summary, english, &self.glossary);
                if summary.key_points.is_empty() {
                    let fallback = extractive_summary(english);
                    summary.key_points = fallback.key_points;
                    summary
                        .notes
                        .push("every key point the model wrote was a fragment; the key points are extractive".into());
                }
                (summary, None)
            }
            Err(error) => {
                let error = format!("article {id}: summary: {error}");
                let mut summary = extractive_summary(english);
                summary.notes.push(format!(
                    "extractive: the LLM summary failed, so TextRank was used ({error})"
                ));
                (summary, Some(error))
            }
        }
    }
}

/// `[1] first paragraph\n\n[2] second...` for paragraphs `first..` (numbers are 1-based).
pub fn numbered(paragraphs: &[String], first: usize) -> String {
    paragraphs
        .iter()
        .enumerate()
        .map(|(offset, paragraph)| format!("[{}] {}", first + offset + 1, paragraph.trim()))
        .collect::<Vec<_>>()
        .join("\n\n")
}

async fn llm_summary(runner: &StageRunner, english: &[String]) -> Result<Summary, AskError> {
    let whole = numbered(english, 0);
    if whole.chars().count() <= MAX_INPUT_CHARACTERS {
        return ask(runner, ARTICLE_TASK, &whole, english.len()).await;
    }
    let mut parts = Vec::new();
    for (first, group) in paragraph_groups(english, MAX_INPUT_CHARACTERS) {
        let text = numbered(group, first);
        parts.push(ask(runner, PART_TASK, &text, english.len()).await?);
    }
    let combined = parts
        .iter()
        .enumerate()
        .map(|(index, part)| describe_part(index, part))
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut summary = ask(runner, REDUCE_TASK, &combined, english.len()).await?;
    summary.notes.push(format!(
        "map-reduce: the article was summarized in {} parts, then combined",
        parts.len()
    ));
    Ok(summary)
}

const ARTICLE_TASK: &str =
    "Summarize the news article below. Its paragraphs are numbered [1]..[n].";
const PART_TASK: &str = "Summarize this part of a longer news article. Its paragraphs keep the \
article's numbers; cite those numbers.";
const REDUCE_TASK: &str = "Below are summaries of consecutive parts of one news article, with \
key points citing the article's paragraph numbers in brackets. Combine them into one summary of \
the whole article, keeping the paragraph numbers.";

fn describe_part(index: usize, part: &Summary) -> String {
    let points: Vec<String> = part
        .key_points
        .iter()
        .map(|point| {
            let cited: Vec<String> = point.paragraphs.iter().map(|p| format!("[{p}]")).collect();
            format!("- {} {}", point.text, cited.join(""))
        })
        .collect();
    format!(
        "Part {}: {}\n{}",
        index + 1,
        part.summary,
        points.join("\n")
    )
}

/// Consecutive groups of paragraphs whose numbered text stays under `budget` characters (a
/// longer single paragraph is a group of its own), each with the index of its first paragraph.
pub fn paragraph_groups(paragraphs: &[String], budget: usize) -> Vec<(usize, &[String])> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (index, paragraph) in paragraphs.iter().enumerate() {
        let length = paragraph.chars().count() + 8;
        if index > start && size + length > budget {
            groups.push((start, &paragraphs[start..index]));
            start = index;
            size = 0;
        }
        size += length;
    }
    if start < paragraphs.len() {
        groups.push((start, &paragraphs[start..]));
    }
    groups
}

async fn ask(
    runner: &StageRunner,
    task: &str,
    text: &str,
    paragraph_count: usize,
) -> Result<Summary, AskError> {
    let schema = schema();
    let structured = structured::ask_json(
        runner,
        &[("task", task), ("text", text)],
        text,
        &schema,
        &validate,
    )
    .await?;
    let parsed = parse(&structured.answer.text).map_err(AskError::Unreadable)?;
    let mut summary = checked(parsed, paragraph_count);
    summary.backend = Some(structured.answer.backend);
    if structured.retried {
        summary
            .notes
            .push("the first answer was malformed; the retry with a reminder was used".into());
    }
    Ok(summary)
}

/// The model's summary with citations past the end of the article removed (and noted), and at
/// most [`MAX_KEY_POINTS`] key points.
fn checked(parsed: ModelSummary, paragraph_count: usize) -> Summary {
    let mut notes = Vec::new();
    let key_points = parsed
        .key_points
        .into_iter()
        .filter(|point| !point.text.trim().is_empty())
        .take(MAX_KEY_POINTS)
        .map(|point| {
            let paragraphs = check_paragraphs(&point.paragraphs, paragraph_count, |bad| {
                notes.push(format!(
                    "citation [{bad}] removed: the article has {paragraph_count} paragraphs"
                ));
            });
            KeyPoint {
                text: point.text.trim().to_string(),
                paragraphs,
                flags: Vec::new(),
            }
        })
        .collect();
    Summary {
        summary: parsed.summary.trim().to_string(),
        key_points,
        method: "llm".into(),
        backend: None,
        notes,
    }
}

/// Words a whole sentence does not end on: the model stopped mid-sentence.
const DANGLING: &[&str] = &[
    "that",
    "the",
    "a",
    "an",
    "of",
    "to",
    "and",
    "or",
    "with",
    "in",
    "on",
    "for",
    "by",
    "from",
    "as",
    "at",
    "said",
    "stated",
    "announced",
    "added",
    "which",
    "who",
    "its",
    "their",
    // Read on the samples: "Azerbaijan could have returned because of rising tensions over"
    // (the model's key point stopped before a quotation) was kept as a whole sentence.
    "over",
    "about",
    "against",
    "into",
    "onto",
    "upon",
    "under",
    "between",
    "after",
    "before",
    "during",
    "because",
    "than",
    "if",
    "while",
    "since",
    "until",
    "whether",
    "his",
    "her",
    "our",
    "this",
    "these",
    "those",
    "toward",
    "towards",
    "via",
    "amid",
    "among",
    "despite",
    "including",
    "within",
    "without",
    "through",
    "across",
    "along",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "has",
    "have",
    "had",
    "will",
    "would",
    "could",
    "can",
    "may",
    "must",
    "should",
    "not",
    "but",
];

/// Whether a key point reads as a whole sentence: at least four words, balanced quotes and
/// brackets, and not ending on a word that needs more after it.
pub fn is_whole_sentence(text: &str) -> bool {
    let trimmed = text.trim();
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let last = words
        .last()
        .map(|word| {
            word.trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .unwrap_or_default();
    let ends_with_mark = trimmed
        .trim_end_matches(|c: char| crate::normalize::is_closer(c))
        .ends_with(['.', '!', '?']);
    let balanced = trimmed.matches('"').count().is_multiple_of(2)
        && trimmed.matches('(').count() == trimmed.matches(')').count()
        && trimmed.matches('“').count() == trimmed.matches('”').count();
    words.len() >= 4 && balanced && (ends_with_mark || !DANGLING.contains(&last.as_str()))
}

/// Drop key points that are fragments (noted and counted), and flag a number or glossary name
/// in a key point that the paragraphs it cites (the whole article when it cites none) lack.
pub fn check_key_points(summary: &mut Summary, english: &[String], glossary: &Glossary) {
    let before = summary.key_points.len();
    summary
        .key_points
        .retain(|point| is_whole_sentence(&point.text));
    let dropped = before - summary.key_points.len();
    if dropped > 0 {
        summary.notes.push(format!(
            "{dropped} key point(s) dropped: not a whole sentence (the model stopped mid-sentence)"
        ));
    }
    for point in &mut summary.key_points {
        let cited: Vec<&str> = if point.paragraphs.is_empty() {
            english.iter().map(String::as_str).collect()
        } else {
            point
                .paragraphs
                .iter()
                .filter_map(|p| english.get(p.wrapping_sub(1)))
                .map(String::as_str)
                .collect()
        };
        let cited = cited.join("\n");
        point.flags = unsupported_in(
            &point.text,
            "the key point",
            &cited,
            "the paragraphs it cites",
            glossary,
        );
        for mut flag in crate::fidelity::check_written(&point.text) {
            flag.kind = FlagKind::Summary;
            point.flags.push(flag);
        }
    }
}

/// Numbers and glossary names in `point` that `cited` does not have; the messages call `point`
/// `what` ("the key point") and `cited` `against` ("the paragraphs it cites").
pub fn unsupported_in(
    point: &str,
    what: &str,
    cited: &str,
    against: &str,
    glossary: &Glossary,
) -> Vec<Flag> {
    let cited_numbers = numbers::english_numbers(cited);
    let mut flags = Vec::new();
    for number in numbers::english_numbers(point).iter().filter(|n| n.digits) {
        if !cited_numbers
            .iter()
            .any(|c| numbers::same(c.value, number.value))
        {
            flags.push(Flag {
                kind: FlagKind::Summary,
                message: format!(
                    "{what} has the number {}, which {against} do not",
                    number.written
                ),
                arabic: None,
                english: Some(number.written.clone()),
            });
        }
    }
    let cited_terms: Vec<usize> = glossary
        .english_spans(cited)
        .iter()
        .map(|s| s.term)
        .collect();
    for found in glossary.in_english(point) {
        if !cited_terms.contains(&found.term) && !glossary.entry(found.term).ambiguous {
            flags.push(Flag {
                kind: FlagKind::Summary,
                message: format!("{what} names {}, which {against} do not", found.written),
                arabic: None,
                english: Some(found.written),
            });
        }
    }
    flags
}

/// The paragraph numbers within `1..=count`, sorted and deduplicated; `invalid` hears of each
/// one that is not.
pub fn check_paragraphs(
    paragraphs: &[usize],
    count: usize,
    mut invalid: impl FnMut(usize),
) -> Vec<usize> {
    let mut valid = BTreeSet::new();
    for &paragraph in paragraphs {
        if (1..=count).contains(&paragraph) {
            valid.insert(paragraph);
        } else {
            invalid(paragraph);
        }
    }
    valid.into_iter().collect()
}

/// A TextRank summary: the top sentences in article order, and key points citing the paragraph
/// each sentence comes from.
pub fn extractive_summary(english: &[String]) -> Summary {
    let located = text::sentences(english);
    let texts: Vec<String> = located.iter().map(|s| s.text.clone()).collect();
    let ranking = extractive::ranking(&extractive::textrank(&texts));
    let top = |count: usize| {
        let mut chosen: Vec<usize> = ranking.iter().copied().take(count).collect();
        chosen.sort_unstable();
        chosen
            .into_iter()
            .filter_map(|index| located.get(index).cloned())
            .collect::<Vec<_>>()
    };
    let summary_sentences = top(SUMMARY_SENTENCES);
    let points = top(MAX_KEY_POINTS.min(located.len().max(1)));
    Summary {
        summary: summary_sentences
            .iter()
            .map(|sentence| sentence.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        key_points: points
            .into_iter()
            .map(|sentence| KeyPoint {
                text: sentence.text,
                paragraphs: vec![sentence.paragraph + 1],
                flags: Vec::new(),
            })
            .collect(),
        method: "extractive".into(),
        backend: None,
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extractive_summary_cites_real_paragraphs() {
        let english = vec![
            "Azerbaijan launched an operation in Karabakh. Armenia protested.".to_string(),
            "The operation in Karabakh would stop if Armenian forces disarmed, Aliyev said."
                .to_string(),
            "Blinken called Aliyev about the Karabakh operation.".to_string(),
        ];
        let summary = extractive_summary(&english);
        assert_eq!(summary.method, "extractive");
        assert!(!summary.summary.is_empty());
        assert!(summary.key_points.len() >= 3);
        assert!(summary
            .key_points
            .iter()
            .all(|point| point.paragraphs.iter().all(|p| (1..=3).contains(p))));
        let empty = extractive_summary(&[]);
        assert!(empty.summary.is_empty() && empty.key_points.is_empty());
    }

    #[test]
    fn model_answers_are_checked() {
        assert!(validate("not json").is_err());
        assert!(validate(r#"{"summary": "", "key_points": []}"#).is_err());
        let answer = r#"```json
{"summary": "S.", "key_points": [{"text": "A", "paragraphs": [1, 9]}, {"text": "B", "paragraphs": [2]}]}
```"#;
        let summary = checked(parse(answer).unwrap(), 2);
        assert_eq!(summary.key_points[0].paragraphs, vec![1]);
        assert_eq!(summary.notes.len(), 1, "{:?}", summary.notes);
    }

    #[test]
    fn fragments_are_dropped_and_unsupported_numbers_flagged() {
        assert!(!is_whole_sentence(
            "The Azerbaijani Defense Ministry stated that"
        ));
        assert!(!is_whole_sentence("Aliyev said"));
        assert!(!is_whole_sentence(
            "Azerbaijan could have returned because of rising tensions over"
        ));
        assert!(!is_whole_sentence(
            "The ministry said that the operation will"
        ));
        assert!(is_whole_sentence(
            "Azerbaijan says its operation in Karabakh continues"
        ));
        assert!(is_whole_sentence(
            "Up to 30,000 people were killed in the 1990s war."
        ));
        let english = vec![
            "Up to 30,000 people were killed in the first war.".to_string(),
            "Blinken called Aliyev on Tuesday.".to_string(),
        ];
        let point = |text: &str, paragraphs: Vec<usize>| KeyPoint {
            text: text.into(),
            paragraphs,
            flags: Vec::new(),
        };
        let mut summary = Summary {
            summary: "S.".into(),
            key_points: vec![
                point("The Azerbaijani Defense Ministry stated that", vec![1]),
                point("Up to 3,000 people were killed in the first war.", vec![1]),
                point("Up to 30,000 people were killed in the first war.", vec![1]),
            ],
            method: "llm".into(),
            backend: None,
            notes: Vec::new(),
        };
        check_key_points(&mut summary, &english, &Glossary::default());
        assert_eq!(summary.key_points.len(), 2);
        assert_eq!(summary.key_points[0].flags.len(), 1);
        assert!(summary.key_points[1].flags.is_empty());
        assert!(summary.notes[0].contains("1 key point(s) dropped"));
    }

    #[test]
    fn long_articles_are_split_in_order() {
        let paragraphs: Vec<String> = (0..10).map(|i| format!("{i}").repeat(50)).collect();
        let groups = paragraph_groups(&paragraphs, 130);
        assert_eq!(groups.len(), 5);
        assert_eq!(groups[1].0, 2);
        assert_eq!(groups.iter().map(|(_, g)| g.len()).sum::<usize>(), 10);
        assert_eq!(
            numbered(&paragraphs[2..3], 2)
                .chars()
                .take(3)
                .collect::<String>(),
            "[3]"
        );
    }
}
