//! A story written by the brief stage's LLM, with structured output and checked citations.
//!
//! The prompt lists each article (id, title, outlet, date) with its numbered English
//! paragraphs, marking wire-copy paragraphs so the model does not count them as independent.
//! Long stories are cut to [`MAX_PROMPT_CHARACTERS`], shared fairly between articles. The answer
//! must match [`schema`]; it is parsed and checked before it is cached, retried once with a
//! reminder when malformed, and its citations are checked against the run's articles (invented
//! ones are dropped and recorded). Any failure is returned to the caller, which composes the
//! story extractively instead.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;

use crate::brief::citations::{Citation, DroppedCitation, Known};
use crate::brief::wire::ParagraphRef;
use crate::brief::{BriefArticle, Difference, Entity, Fact, Story, TimelineEntry};
use crate::stage::StageRunner;
use crate::structured::{self, unfence, AskError};

/// Most characters of article text sent for one story.
pub const MAX_PROMPT_CHARACTERS: usize = 24_000;
/// Most articles in one story's prompt. A larger story is written from its articles' key
/// points instead (`composed`: the summaries are the map step, that request the reduce), so a
/// story of a thousand articles asks no more than a story of twelve.
pub const MAX_PROMPT_ARTICLES: usize = 12;
const ENTITY_KINDS: [&str; 4] = ["person", "place", "organisation", "other"];

#[derive(Debug, Deserialize)]
struct ModelStory {
    headline: String,
    synthesis: String,
    key_facts: Vec<ModelFact>,
    #[serde(default)]
    agreements: Vec<ModelFact>,
    #[serde(default)]
    differences: Vec<ModelDifference>,
    #[serde(default)]
    entities: Vec<ModelEntity>,
    #[serde(default)]
    timeline: Vec<ModelEvent>,
}

#[derive(Debug, Deserialize)]
struct ModelFact {
    text: String,
    #[serde(default)]
    citations: Vec<Citation>,
}

#[derive(Debug, Deserialize)]
struct ModelDifference {
    topic: String,
    #[serde(default)]
    positions: Vec<ModelFact>,
}

#[derive(Debug, Deserialize)]
struct ModelEntity {
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    variants: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ModelEvent {
    date: String,
    event: String,
    #[serde(default)]
    citations: Vec<Citation>,
}

/// The JSON schema sent with every brief request.
/// The brief answer's list bounds. A small model asked for an unbounded list keeps adding
/// entities or timeline entries until `max_tokens` cuts it off, and the whole story is lost;
/// the grammar (embedded engine) and `response_format` (HTTP) hold it to these.
const MAX_KEY_FACTS: u64 = 5;
const MAX_COMPARISONS: u64 = 3;
const MAX_POSITIONS: u64 = 3;
const MAX_ENTITIES: u64 = 6;
const MAX_VARIANTS: u64 = 2;
const MAX_TIMELINE: u64 = 4;
const MAX_CITATIONS: u64 = 6;
const MAX_PARAGRAPHS: u64 = 4;

pub fn schema() -> serde_json::Value {
    let citations = json!({
        "type": "array", "minItems": 1, "maxItems": MAX_CITATIONS,
        "items": {
            "type": "object", "additionalProperties": false,
            "required": ["article", "paragraphs"],
            "properties": {
                "article": {"type": "string"},
                "paragraphs": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": MAX_PARAGRAPHS}
            }
        }
    });
    let fact = json!({
        "type": "object", "additionalProperties": false,
        "required": ["text", "citations"],
        "properties": {"text": {"type": "string"}, "citations": citations}
    });
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["headline", "synthesis", "key_facts", "agreements", "differences", "entities", "timeline"],
        "properties": {
            "headline": {"type": "string"},
            "synthesis": {"type": "string"},
            "key_facts": {"type": "array", "items": fact, "minItems": 1, "maxItems": MAX_KEY_FACTS},
            "agreements": {"type": "array", "items": fact, "maxItems": MAX_COMPARISONS},
            "differences": {"type": "array", "maxItems": MAX_COMPARISONS, "items": {
                "type": "object", "additionalProperties": false,
                "required": ["topic", "positions"],
                "properties": {"topic": {"type": "string"}, "positions": {"type": "array", "items": fact, "minItems": 2, "maxItems": MAX_POSITIONS}}
            }},
            "entities": {"type": "array", "maxItems": MAX_ENTITIES, "items": {
                "type": "object", "additionalProperties": false,
                "required": ["name", "kind", "variants"],
                "properties": {
                    "name": {"type": "string"},
                    "kind": {"type": "string", "enum": ENTITY_KINDS},
                    "variants": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_VARIANTS}
                }
            }},
            "timeline": {"type": "array", "maxItems": MAX_TIMELINE, "items": {
                "type": "object", "additionalProperties": false,
                "required": ["date", "event", "citations"],
                "properties": {"date": {"type": "string"}, "event": {"type": "string"}, "citations": citations}
            }}
        }
    })
}

fn parse(answer: &str) -> Result<ModelStory, String> {
    let story: ModelStory = serde_json::from_str(unfence(answer))
        .map_err(|error| format!("not the JSON asked for: {error}"))?;
    if story.headline.trim().is_empty() {
        return Err("the headline is empty".into());
    }
    if story.synthesis.trim().is_empty() {
        return Err("the synthesis is empty".into());
    }
    if story.key_facts.is_empty() {
        return Err("no key facts".into());
    }
    Ok(story)
}

fn validate(answer: &str) -> Result<(), String> {
    parse(answer).map(|_| ())
}

/// Ask the model for story `id`; citations are checked against `known`.
pub async fn story(
    runner: &StageRunner,
    id: &str,
    articles: &[&BriefArticle],
    wire_index: &HashMap<ParagraphRef, String>,
    known: &Known,
    dropped: &mut Vec<DroppedCitation>,
) -> Result<Story, AskError> {
    let text = prompt_text(articles, wire_index);
    let schema = schema();
    let structured =
        structured::ask_json(runner, &[("text", &text)], &text, &schema, &validate).await?;
    let parsed = parse(&structured.answer.text).map_err(AskError::Unreadable)?;
    let mut story = checked(parsed, id, known, dropped);
    story.articles = articles.iter().map(|a| a.id.clone()).collect();
    story.backend = Some(structured.answer.backend);
    if structured.retried {
        story
            .notes
            .push("the first answer was malformed; the retry with a reminder was used".into());
    }
    Ok(story)
}

/// The articles as the model reads them.
pub fn prompt_text(
    articles: &[&BriefArticle],
    wire_index: &HashMap<ParagraphRef, String>,
) -> String {
    let shown = &articles[..articles.len().min(MAX_PROMPT_ARTICLES)];
    let share = MAX_PROMPT_CHARACTERS / shown.len().max(1);
    let mut text = String::new();
    for article in shown {
        text.push_str(&format!(
            "Article {} — \"{}\" ({}; published {})\n",
            article.id,
            article.display_title(),
            article.outlet(),
            article.published.as_deref().unwrap_or("date unknown")
        ));
        let mut used = 0;
        for (index, paragraph) in article.english.iter().enumerate() {
            let number = index + 1;
            let reference = ParagraphRef {
                article: article.id.clone(),
                paragraph: number,
            };
            let mark = wire_index
                .get(&reference)
                .map(|group| format!(" (wire copy {group}: also in other articles)"))
                .unwrap_or_default();
            let paragraph: String = paragraph.trim().chars().take(share).collect();
            let line = format!("[{number}] {paragraph}{mark}\n");
            used += line.chars().count();
            if used > share && index > 0 {
                text.push_str(&format!(
                    "[{number}..{}] (omitted for length)\n",
                    article.english.len()
                ));
                break;
            }
            text.push_str(&line);
        }
        text.push('\n');
    }
    if articles.len() > shown.len() {
        text.push_str(&format!(
            "({} more articles of this story are not shown.)\n",
            articles.len() - shown.len()
        ));
    }
    text
}

fn checked(
    parsed: ModelStory,
    id: &str,
    known: &Known,
    dropped: &mut Vec<DroppedCitation>,
) -> Story {
    let mut notes = Vec::new();
    let mut fact = |model: ModelFact, location: String, dropped: &mut Vec<DroppedCitation>| {
        let before = dropped.len();
        let citations = known.check(&model.citations, &location, dropped);
        let unsupported =
            citations.is_empty() && (dropped.len() > before || !model.citations.is_empty());
        if unsupported {
            notes.push(format!(
                "{location}: every citation was invented and removed; the statement is unsupported"
            ));
        }
        Fact {
            text: model.text.trim().to_string(),
            citations,
            unsupported,
            ..Fact::default()
        }
    };
    let key_facts = parsed
        .key_facts
        .into_iter()
        .enumerate()
        .map(|(i, f)| fact(f, format!("{id} key_facts[{i}]"), dropped))
        .collect();
    let agreements = parsed
        .agreements
        .into_iter()
        .enumerate()
        .map(|(i, f)| fact(f, format!("{id} agreements[{i}]"), dropped))
        .collect();
    let differences = parsed
        .differences
        .into_iter()
        .enumerate()
        .map(|(i, d)| Difference {
            topic: d.topic.trim().to_string(),
            positions: d
                .positions
                .into_iter()
                .enumerate()
                .map(|(j, f)| fact(f, format!("{id} differences[{i}].positions[{j}]"), dropped))
                .collect(),
        })
        .collect();
    let timeline = parsed
        .timeline
        .into_iter()
        .enumerate()
        .map(|(i, event)| TimelineEntry {
            date: event.date.trim().to_string(),
            event: event.event.trim().to_string(),
            citations: known.check(&event.citations, &format!("{id} timeline[{i}]"), dropped),
            on_flagged_paragraphs: false,
        })
        .collect();
    let entities = parsed.entities.into_iter().map(entity).collect();
    Story {
        id: id.to_string(),
        method: "llm".into(),
        backend: None,
        headline: parsed.headline.trim().to_string(),
        synthesis: parsed.synthesis.trim().to_string(),
        articles: Vec::new(),
        key_facts,
        agreements,
        differences,
        entities,
        timeline,
        notes,
        ..Story::default()
    }
}

fn entity(model: ModelEntity) -> Entity {
    let kind = model.kind.trim().to_lowercase();
    let kind = match kind.as_str() {
        "organization" => "organisation".to_string(),
        known if ENTITY_KINDS.contains(&known) => kind,
        _ => "other".to_string(),
    };
    let name = model.name.trim().to_string();
    let mut variants: Vec<String> = model
        .variants
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && *v != name)
        .collect();
    variants.sort();
    variants.dedup();
    Entity {
        name,
        kind,
        variants,
        articles: Vec::new(),
        on_flagged_paragraphs: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_citations_are_dropped_and_the_fact_flagged() {
        let answer = r#"{"headline": "H", "synthesis": "S", "key_facts": [
            {"text": "real", "citations": [{"article": "a", "paragraphs": [1, 99]}]},
            {"text": "ghost", "citations": [{"article": "ghost-123", "paragraphs": [1]}]}
        ], "agreements": [], "differences": [], "entities": [{"name": "Aliyev", "kind": "Person", "variants": ["Aliev", "Aliyev"]}], "timeline": []}"#;
        let known = Known::new([("a", 2)]);
        let mut dropped = Vec::new();
        let story = checked(parse(answer).unwrap(), "story-1", &known, &mut dropped);
        assert_eq!(dropped.len(), 2);
        assert_eq!(
            story.key_facts[0].citations,
            vec![Citation {
                article: "a".into(),
                paragraphs: vec![1]
            }]
        );
        assert!(!story.key_facts[0].unsupported);
        assert!(story.key_facts[1].unsupported && story.key_facts[1].citations.is_empty());
        assert_eq!(story.entities[0].kind, "person");
        assert_eq!(story.entities[0].variants, vec!["Aliev".to_string()]);
        assert!(validate(r#"{"headline": "", "synthesis": "S", "key_facts": []}"#).is_err());
        assert!(validate("{").is_err());
    }

    /// The night that made a 618,307-character prompt: one story of a thousand articles, each
    /// with a long first paragraph. The prompt stays within its bound whatever the story size.
    #[test]
    fn a_story_of_a_thousand_articles_makes_a_bounded_prompt() {
        let articles: Vec<BriefArticle> = (0..1000)
            .map(|i| BriefArticle {
                id: format!("{i:04}_article"),
                origin: format!("{i}.txt"),
                title: Some("عنوان".into()),
                title_en: Some("A title of ordinary length for a news article".into()),
                source: Some("outlet".into()),
                url: None,
                published: Some("2015-07-21".into()),
                arabic: vec!["نص".repeat(3000); 3],
                english: vec!["A very long paragraph. ".repeat(500); 3],
                summary: None,
                confidence: 1.0,
                paragraph_flags: vec![Vec::new(); 3],
                title_flags: Vec::new(),
                features: None,
                stowed: None,
            })
            .collect();
        let story: Vec<&BriefArticle> = articles.iter().collect();
        let text = prompt_text(&story, &HashMap::new());
        let bound = MAX_PROMPT_CHARACTERS + MAX_PROMPT_ARTICLES * 200;
        assert!(text.chars().count() <= bound, "{}", text.chars().count());
        assert!(text.contains("(988 more articles of this story are not shown.)"));
        let small = prompt_text(&story[..2], &HashMap::new());
        assert!(small.contains("Article 0001_article") && !small.contains("not shown"));
    }
}
