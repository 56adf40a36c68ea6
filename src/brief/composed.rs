//! A story written from small requests: what a small model can do within its limits.
//!
//! The single-request brief (`llm`) asks for the whole story in one answer, over the articles'
//! full English; the default 1.5B model runs past its `max_tokens` doing it and the story falls
//! back to extractive. Here the model is given only the articles' key points (from their
//! summaries, already checked against the paragraphs they cite), numbered, and asked for three
//! things that fit in a short answer: a headline, a synthesis of two to four sentences, and the
//! numbers of the key points that matter most. The key facts are those key points, word for
//! word, with the citations their summaries gave; agreements, differences, entities and the
//! timeline come from the extractive composer (`compose`). The story says per section which way
//! it was written (`Story::sections`), and the headline and synthesis are checked against the
//! key points they were written from: a number or glossary name the key points do not have is
//! a note on the story, where the analyst reads it.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::json;

use crate::brief::citations::Citation;
use crate::brief::wire::ParagraphRef;
use crate::brief::{compose, BriefArticle, Fact, Story};
use crate::fidelity::glossary::Glossary;
use crate::fidelity::Flag;
use crate::stage::StageRunner;
use crate::structured::{self, unfence, AskError};
use crate::summarize::{self, KeyPoint};

/// Most key points sent for one story, shared between its articles; a story of a thousand
/// articles sends no more than a story of five.
pub const MAX_PROMPT_POINTS: usize = 40;
/// Most key points the model may pick as key facts.
const MAX_KEY_FACTS: u64 = 5;

/// One numbered key point of the prompt and the article it comes from.
#[derive(Debug, Clone)]
struct Point {
    article: String,
    text: String,
    paragraphs: Vec<usize>,
}

/// The key points the model reads, numbered from 1, and the prompt text listing them.
#[derive(Debug)]
struct Prompt {
    points: Vec<Point>,
    text: String,
    /// Articles none of whose key points fit in [`MAX_PROMPT_POINTS`].
    left_out: usize,
}

#[derive(Debug, Deserialize)]
struct ModelAnswer {
    headline: String,
    synthesis: String,
    key_facts: Vec<i64>,
}

/// The JSON schema sent with every composed-story request.
pub fn schema() -> serde_json::Value {
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["headline", "synthesis", "key_facts"],
        "properties": {
            "headline": {"type": "string"},
            "synthesis": {"type": "string"},
            "key_facts": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": MAX_KEY_FACTS}
        }
    })
}

fn parse(answer: &str, points: usize) -> Result<ModelAnswer, String> {
    let parsed: ModelAnswer = serde_json::from_str(unfence(answer))
        .map_err(|error| format!("not the JSON asked for: {error}"))?;
    if parsed.headline.trim().is_empty() {
        return Err("the headline is empty".into());
    }
    if parsed.synthesis.trim().is_empty() {
        return Err("the synthesis is empty".into());
    }
    if !parsed
        .key_facts
        .iter()
        .any(|&n| n >= 1 && n as usize <= points)
    {
        return Err(format!(
            "no key fact names one of the {points} key points given"
        ));
    }
    Ok(parsed)
}

/// The key points the model reads: an article's unflagged key points (all of them when every
/// one is flagged), at most [`MAX_PROMPT_POINTS`] in all, shared fairly between the articles.
/// They are listed round-robin (every article's first point, then every article's second...),
/// each marked with its article, so the first few points cover every outlet: a model that
/// picks "1, 2, 3" does not take all its key facts from one article.
fn prompt(articles: &[&BriefArticle]) -> Prompt {
    let share = (MAX_PROMPT_POINTS / articles.len().max(1)).max(1);
    let mut lists: Vec<(usize, &BriefArticle, Vec<&KeyPoint>)> = Vec::new();
    for article in articles {
        let Some(summary) = &article.summary else {
            continue;
        };
        let clean: Vec<&KeyPoint> = summary
            .key_points
            .iter()
            .filter(|point| point.flags.is_empty())
            .collect();
        let mut chosen: Vec<&KeyPoint> = if clean.is_empty() {
            summary.key_points.iter().collect()
        } else {
            clean
        };
        chosen.truncate(share);
        if !chosen.is_empty() {
            lists.push((lists.len() + 1, article, chosen));
        }
    }
    let mut points = Vec::new();
    let mut lines = String::new();
    let mut used: Vec<bool> = vec![false; lists.len()];
    let longest = lists
        .iter()
        .map(|(_, _, list)| list.len())
        .max()
        .unwrap_or(0);
    'rounds: for round in 0..longest {
        for (slot, (label, article, list)) in lists.iter().enumerate() {
            let Some(point) = list.get(round) else {
                continue;
            };
            if points.len() == MAX_PROMPT_POINTS {
                break 'rounds;
            }
            used[slot] = true;
            points.push(Point {
                article: article.id.clone(),
                text: point.text.trim().to_string(),
                paragraphs: point.paragraphs.clone(),
            });
            lines.push_str(&format!(
                "{}. [A{label}] {}\n",
                points.len(),
                point.text.trim()
            ));
        }
    }
    let mut text = String::from("Articles:\n");
    for ((label, article, _), used) in lists.iter().zip(&used) {
        if *used {
            text.push_str(&format!(
                "A{label} = article {} — \"{}\" ({}; published {})\n",
                article.id,
                article.display_title(),
                article.outlet(),
                article.published.as_deref().unwrap_or("date unknown")
            ));
        }
    }
    text.push_str("\nKey points:\n");
    text.push_str(&lines);
    Prompt {
        points,
        text,
        left_out: used.iter().filter(|used| !**used).count(),
    }
}

/// Which way each section of a composed story was written (`Story::sections`).
fn sections() -> BTreeMap<String, String> {
    let model = "model, from the articles' key points";
    let chosen = "the articles' key points, chosen by the model";
    let extractive = "extractive, from the translations";
    [
        ("headline", model),
        ("synthesis", model),
        ("key_facts", chosen),
        ("agreements", extractive),
        ("differences", extractive),
        ("entities", extractive),
        ("timeline", extractive),
    ]
    .into_iter()
    .map(|(section, how)| (section.to_string(), how.to_string()))
    .collect()
}

/// Write story `id` from its articles' key points. `Err` when there are no key points or the
/// model's answer stays unusable after one retry; the caller then composes it extractively.
pub async fn story(
    runner: &StageRunner,
    id: &str,
    articles: &[&BriefArticle],
    central: Option<&str>,
    wire_index: &HashMap<ParagraphRef, String>,
    glossary: &Glossary,
) -> Result<Story, AskError> {
    let prompt = prompt(articles);
    if prompt.points.is_empty() {
        return Err(AskError::NothingToAsk(
            "the articles have no key points to write the story from",
        ));
    }
    let count = prompt.points.len();
    let validate = move |answer: &str| parse(answer, count).map(|_| ());
    let structured = structured::ask_json(
        runner,
        &[("text", &prompt.text)],
        &prompt.text,
        &schema(),
        &validate,
    )
    .await?;
    let answer = parse(&structured.answer.text, count).map_err(AskError::Unreadable)?;

    let mut story = compose::story(id, articles, central, wire_index, glossary);
    story.method = "composed".into();
    story.backend = Some(structured.answer.backend);
    story.sections = sections();
    story.headline = answer.headline.trim().to_string();
    story.synthesis = answer.synthesis.trim().to_string();
    story.key_facts = picked_facts(&prompt, &answer.key_facts);
    // The extractive composer's note describes a story no model wrote; this one says what the
    // model did and did not write.
    story.notes = vec![format!(
        "composed: the model wrote the headline and synthesis from {count} key points of the \
         articles' summaries (not their full text) and chose the key facts among them; \
         agreements and differences compare only numbers the articles give for the same \
         thing, and entities and the timeline are taken from the translations"
    )];
    if prompt.left_out > 0 {
        story.notes.push(format!(
            "{} article(s) of the story had no room among the {MAX_PROMPT_POINTS} key points \
             the model read; their facts are in the sources list and their pages",
            prompt.left_out
        ));
    }
    if structured.retried {
        story
            .notes
            .push("the first answer was malformed; the retry with a reminder was used".into());
    }
    check_against_points(&mut story, &prompt, glossary);
    Ok(story)
}

/// The key points the model chose (by number, each once, unknown numbers ignored), as facts
/// citing the paragraphs their summaries cited.
fn picked_facts(prompt: &Prompt, numbers: &[i64]) -> Vec<Fact> {
    let mut picked: Vec<usize> = Vec::new();
    for &number in numbers {
        let index = number.saturating_sub(1) as usize;
        if number >= 1 && index < prompt.points.len() && !picked.contains(&index) {
            picked.push(index);
        }
    }
    picked
        .iter()
        .map(|&index| {
            let point = &prompt.points[index];
            Fact {
                text: point.text.clone(),
                citations: vec![Citation {
                    article: point.article.clone(),
                    paragraphs: point.paragraphs.clone(),
                }],
                ..Fact::default()
            }
        })
        .collect()
}

/// A note under the story for each number or glossary name of its headline or synthesis that
/// the key points it was written from do not have, and for meta text.
fn check_against_points(story: &mut Story, prompt: &Prompt, glossary: &Glossary) {
    let points_text: Vec<&str> = prompt.points.iter().map(|p| p.text.as_str()).collect();
    let points_text = points_text.join("\n");
    for (what, text) in [
        ("the headline", story.headline.clone()),
        ("the synthesis", story.synthesis.clone()),
    ] {
        let flags: Vec<Flag> = summarize::unsupported_in(
            &text,
            what,
            &points_text,
            "the key points it was written from",
            glossary,
        )
        .into_iter()
        .chain(crate::fidelity::check_written(&text))
        .collect();
        for flag in flags {
            story.notes.push(format!("check {what}: {}", flag.message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summarize::Summary;

    fn article(id: &str, points: &[(&str, &[usize])]) -> BriefArticle {
        BriefArticle {
            id: id.into(),
            origin: format!("{id}.txt"),
            title: None,
            title_en: Some(format!("Title of {id}")),
            source: Some(format!("Outlet {id}")),
            url: None,
            published: None,
            arabic: vec!["نص".into(); 3],
            english: vec!["Text.".into(); 3],
            summary: Some(Summary {
                summary: "S.".into(),
                key_points: points
                    .iter()
                    .map(|(text, paragraphs)| KeyPoint {
                        text: text.to_string(),
                        paragraphs: paragraphs.to_vec(),
                        flags: Vec::new(),
                    })
                    .collect(),
                method: "llm".into(),
                backend: None,
                notes: Vec::new(),
            }),
            confidence: 1.0,
            paragraph_flags: vec![Vec::new(); 3],
            title_flags: Vec::new(),
            features: None,
            stowed: None,
        }
    }

    #[test]
    fn the_prompt_numbers_key_points_and_stays_bounded() {
        let a = article("a", &[("A first.", &[1]), ("A second.", &[2, 3])]);
        let b = article("b", &[("B only.", &[1])]);
        let prompt = prompt(&[&a, &b]);
        assert_eq!(prompt.points.len(), 3);
        assert!(prompt
            .text
            .contains("A1 = article a — \"Title of a\" (Outlet a;"));
        // Round-robin: every article's first point, then the second ones.
        assert!(
            prompt.text.contains("1. [A1] A first.\n"),
            "{}",
            prompt.text
        );
        assert!(prompt.text.contains("2. [A2] B only.\n"), "{}", prompt.text);
        assert!(
            prompt.text.contains("3. [A1] A second.\n"),
            "{}",
            prompt.text
        );
        assert_eq!(prompt.points[1].article, "b");
        assert_eq!(prompt.points[2].paragraphs, vec![2, 3]);

        // A story of a thousand articles sends no more key points than the bound.
        let many: Vec<BriefArticle> = (0..1000)
            .map(|i| article(&format!("x{i}"), &[("One.", &[1]), ("Two.", &[2])]))
            .collect();
        let refs: Vec<&BriefArticle> = many.iter().collect();
        let prompt = super::prompt(&refs);
        assert_eq!(prompt.points.len(), MAX_PROMPT_POINTS);
        assert_eq!(prompt.left_out, 1000 - MAX_PROMPT_POINTS);
        assert!(prompt.text.len() < 4_000, "{}", prompt.text.len());
    }

    #[test]
    fn flagged_key_points_are_left_out_when_clean_ones_exist() {
        let mut a = article("a", &[("Clean.", &[1]), ("Invented 6000.", &[2])]);
        a.summary.as_mut().unwrap().key_points[1]
            .flags
            .push(Flag::new(crate::fidelity::FlagKind::Summary, "x".into()));
        let prompt = prompt(&[&a]);
        assert_eq!(prompt.points.len(), 1);
        assert!(!prompt.text.contains("6000"));
    }

    #[test]
    fn answers_must_pick_a_key_point_that_exists() {
        let ok = r#"{"headline": "H", "synthesis": "S.", "key_facts": [2, 9]}"#;
        assert!(parse(ok, 3).is_ok());
        assert!(parse(
            r#"{"headline": "H", "synthesis": "S.", "key_facts": [9]}"#,
            3
        )
        .is_err());
        assert!(parse(
            r#"{"headline": "", "synthesis": "S.", "key_facts": [1]}"#,
            3
        )
        .is_err());
        assert!(parse(r#"{"headline": "H", "synthesis": "S.""#, 3).is_err());
    }
}
