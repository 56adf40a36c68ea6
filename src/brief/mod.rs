// Over 600 lines only with its tests: the code is 570 lines, the brief's shape and the order it is built in.
//! The combined brief across a run: articles grouped into stories, each with a headline, a
//! synthesis, cited key facts, agreements and differences, entities and a timeline; wire copy
//! reported once; and a list of every source.
//!
//! The shape is fixed here (and serialized as `brief.json`); the renderers in `render` only
//! present it. Building never fails: when the brief stage has no LLM, or the LLM's answer for a
//! story stays malformed after one retry, that story is composed extractively (`compose`) and
//! the brief says so in `notes`. Model citations are checked (`citations`): invented ones are
//! dropped and listed, never rendered. Each fact says how many independent sources support it:
//! paragraphs of one wire-copy group count once.

pub mod citations;
pub mod compose;
pub mod composed;
pub mod group;
pub mod linkage;
pub mod llm;
pub mod night;
mod notes;
pub mod rank;
mod stories;
pub mod wire;
mod write;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::fidelity::glossary::Glossary;
use crate::fidelity::{self, Flag};
use crate::settings::{BriefMode, SINGLE_BRIEF_MIN_TOKENS};
use crate::stage::StageRunner;
use crate::summarize::Summary;
use citations::{Citation, DroppedCitation, Known};
use rank::{OutletReports, StoryLine};
use wire::{ParagraphRef, WireGroup};
use write::Writer;

/// Version of the `brief.json` layout.
pub const SCHEMA_VERSION: u32 = 1;
/// What the brief says when it was built without any LLM.
pub const NO_LLM_NOTE: &str = "extractive: no LLM configured for summaries/brief";

/// What the brief needs to know about one translated article.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BriefArticle {
    pub id: String,
    pub origin: String,
    pub title: Option<String>,
    pub title_en: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
    /// Cleaned Arabic paragraphs and their English translations, same order and count.
    pub arabic: Vec<String>,
    pub english: Vec<String>,
    pub summary: Option<Summary>,
    /// Trust in the English (see `fidelity::confidence`), 0..1.
    pub confidence: f64,
    /// What the fidelity checks found, per English paragraph (same order and count as
    /// `english`; empty lists for clean paragraphs).
    pub paragraph_flags: Vec<Vec<Flag>>,
    /// What the checks found in the English title.
    pub title_flags: Vec<Flag>,
    /// What grouping and wire-copy detection read of the Arabic (see `night`).
    #[serde(skip)]
    pub features: Option<night::Features>,
    /// Set while the texts above (`arabic`, `english`, `paragraph_flags`) are stowed on disk
    /// and empty here (see `night`).
    #[serde(skip)]
    pub stowed: Option<night::Stowed>,
}

impl BriefArticle {
    /// The outlet when known, else the input file.
    pub fn outlet(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.origin)
    }

    /// English paragraphs (1-based) with at least one fidelity flag.
    pub fn flagged_paragraphs(&self) -> Vec<usize> {
        match &self.stowed {
            Some(stowed) => stowed.flagged.clone(),
            None => night::flagged(&self.paragraph_flags),
        }
    }

    /// How many English paragraphs the article has, stowed or not.
    pub fn paragraph_count(&self) -> usize {
        self.stowed
            .as_ref()
            .map_or(self.english.len(), |stowed| stowed.paragraphs)
    }

    /// The English title, the Arabic title, or the id.
    /// Why the English title is in doubt ("the English names Qatar, which the Arabic does not
    /// mention"), when the checks flagged it.
    pub fn title_doubt(&self) -> Option<String> {
        let messages: Vec<&str> = self
            .title_flags
            .iter()
            .map(|f| f.message.as_str())
            .collect();
        (!messages.is_empty() && self.title_en.is_some()).then(|| messages.join("; "))
    }

    pub fn display_title(&self) -> &str {
        self.title_en
            .as_deref()
            .or(self.title.as_deref())
            .unwrap_or(&self.id)
    }
}

/// `brief.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Brief {
    pub schema_version: u32,
    pub generated_at: String,
    /// `llm` (one request per story), `composed` (small requests over key points),
    /// `extractive`, or `mixed` (stories written different ways).
    pub method: String,
    /// How the brief was made and what it could not do.
    pub notes: Vec<String>,
    /// The top stories (`brief.top_stories`), written in full, in rank order.
    pub stories: Vec<Story>,
    /// The other stories of several articles, in rank order: listed, not written.
    pub more_stories: Vec<StoryLine>,
    /// The stories of one article past the top ones, by outlet.
    pub single_reports: Vec<OutletReports>,
    pub wire_copy: Vec<WireGroup>,
    pub sources: Vec<Source>,
    /// Every model citation that named an article or paragraph that does not exist.
    pub dropped_citations: Vec<DroppedCitation>,
    /// Technical causes behind the notes (a model answer that failed to parse...), for
    /// run.json; the notes say what they mean for the reader.
    #[serde(skip)]
    pub causes: Vec<String>,
    /// The articles themselves, for the renderers (not part of brief.json).
    #[serde(skip)]
    pub articles: Vec<BriefArticle>,
}

/// One story: articles about the same event.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Story {
    /// `story-1`, `story-2`... in rank order (see `rank`).
    pub id: String,
    /// Outlets carrying it, wire copy counted once.
    pub independent_sources: usize,
    /// `llm`, `composed` or `extractive`.
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Which way each section was written, when not all the same way (composed stories).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sections: BTreeMap<String, String>,
    pub headline: String,
    pub synthesis: String,
    /// Article ids, in run order.
    pub articles: Vec<String>,
    pub key_facts: Vec<Fact>,
    pub agreements: Vec<Fact>,
    pub differences: Vec<Difference>,
    pub entities: Vec<Entity>,
    pub timeline: Vec<TimelineEntry>,
    pub notes: Vec<String>,
    /// The mean confidence of the story's articles (0..1), and how many have flagged paragraphs.
    pub confidence: f64,
    pub flagged_articles: usize,
}

impl Brief {
    /// Each article's title as the brief shows it (English when translated).
    pub fn titles(&self) -> HashMap<&str, &str> {
        self.articles
            .iter()
            .map(|article| (article.id.as_str(), article.display_title()))
            .collect()
    }

    /// Why each flagged article title is in doubt.
    pub fn title_doubts(&self) -> HashMap<&str, String> {
        self.articles
            .iter()
            .filter_map(|article| Some((article.id.as_str(), article.title_doubt()?)))
            .collect()
    }

    /// The ids of the articles of the stories written in full.
    pub fn written_articles(&self) -> HashSet<&str> {
        self.stories
            .iter()
            .flat_map(|story| story.articles.iter().map(String::as_str))
            .collect()
    }

    /// Single-article stories past the top ones.
    pub fn single_report_count(&self) -> usize {
        self.single_reports.iter().map(|r| r.articles.len()).sum()
    }

    /// Every story of the run: written, listed and single reports.
    pub fn story_count(&self) -> usize {
        self.stories.len() + self.more_stories.len() + self.single_report_count()
    }
}

impl Story {
    /// One line saying which way the sections were written, for stories written more than one
    /// way: "Headline, synthesis: model, from the articles' key points · ...".
    pub fn sections_text(&self) -> Option<String> {
        if self.sections.is_empty() {
            return None;
        }
        let mut by_way: Vec<(&str, Vec<&str>)> = Vec::new();
        for section in [
            "headline",
            "synthesis",
            "key_facts",
            "agreements",
            "differences",
            "entities",
            "timeline",
        ] {
            let Some(way) = self.sections.get(section) else {
                continue;
            };
            let name = section
                .strip_suffix("_facts")
                .map_or(section, |_| "key facts");
            match by_way.iter_mut().find(|(w, _)| w == way) {
                Some((_, names)) => names.push(name),
                None => by_way.push((way, vec![name])),
            }
        }
        let parts: Vec<String> = by_way
            .into_iter()
            .map(|(way, names)| {
                let mut list = names.join(", ");
                if let Some(first) = list.get(..1) {
                    list = first.to_uppercase() + &list[1..];
                }
                format!("{list}: {way}")
            })
            .collect();
        Some(parts.join(" · "))
    }

    /// Every fact of the story: key facts, agreements, and each position of each difference.
    pub fn facts_mut(&mut self) -> impl Iterator<Item = &mut Fact> {
        self.key_facts
            .iter_mut()
            .chain(self.agreements.iter_mut())
            .chain(
                self.differences
                    .iter_mut()
                    .flat_map(|d| d.positions.iter_mut()),
            )
    }
}

/// A statement and the article paragraphs it rests on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fact {
    pub text: String,
    pub citations: Vec<Citation>,
    /// Distinct sources behind it: the paragraphs of one wire-copy group count once.
    pub independent_sources: usize,
    /// Wire-copy groups among its citations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wire_copy: Vec<String>,
    /// True when every citation the model gave was invented and removed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unsupported: bool,
    /// True when every paragraph it cites carries a fidelity flag: the English it rests on is
    /// in doubt.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub on_flagged_paragraphs: bool,
    /// When some but not all of the paragraphs it cites carry a flag: how many of how many
    /// (a fact citing ¶1-5 of an article whose ¶1 rendered a date wrong says "1 of 5").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flagged_citations: Option<FlaggedShare>,
}

/// Of the paragraphs a fact cites, how many the checks flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlaggedShare {
    pub flagged: usize,
    pub cited: usize,
}

/// A point on which the sources differ, and each position with its citations.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Difference {
    pub topic: String,
    pub positions: Vec<Fact>,
}

/// A named person, place or organisation, spelled one way.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Entity {
    pub name: String,
    /// `person`, `place`, `organisation`, `other`, or `unknown` (extractive).
    pub kind: String,
    /// Other spellings found.
    pub variants: Vec<String>,
    /// Articles that name it.
    pub articles: Vec<String>,
    /// True when it is named only in paragraphs the checks flagged: the name may be the
    /// model's, not the articles' ("Taliban" for مكافحة الإرهاب, "counter-terrorism").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub on_flagged_paragraphs: bool,
}

/// A dated event.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TimelineEntry {
    /// `YYYY-MM-DD` when it could be read so, else as written.
    pub date: String,
    pub event: String,
    pub citations: Vec<Citation>,
    /// True when every paragraph it cites carries a fidelity flag (a date read from flagged
    /// English may be the model's, not the article's).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub on_flagged_paragraphs: bool,
}

/// One article in the sources list.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub id: String,
    pub title: Option<String>,
    pub title_en: Option<String>,
    pub origin: String,
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
    /// The article's Markdown page, relative to the output folder.
    pub page: String,
    /// The id of the article's section in brief.html.
    pub anchor: String,
    /// The story it belongs to.
    pub story: String,
    /// Trust in the English, 0..1, with its label (high, medium, low).
    pub confidence: f64,
    pub confidence_label: String,
    /// English paragraphs (1-based) the fidelity checks flagged.
    pub flagged_paragraphs: Vec<usize>,
}

impl Source {
    /// "high (0.95)", with the flagged paragraphs when there are any ("; check ¶2 ¶5").
    pub fn confidence_text(&self) -> String {
        let mut text = format!("{} ({:.2})", self.confidence_label, self.confidence);
        if !self.flagged_paragraphs.is_empty() {
            let list: Vec<String> = self
                .flagged_paragraphs
                .iter()
                .map(|p| format!("¶{p}"))
                .collect();
            text.push_str(&format!("; check {}", list.join(" ")));
        }
        text
    }
}

/// What the brief stage is given besides the articles.
pub struct BriefInput<'a> {
    /// The brief stage: one request per story (`single`).
    pub runner: Option<&'a StageRunner>,
    /// The same backends with the composed-story prompt (`composed`).
    pub story_runner: Option<&'a StageRunner>,
    pub mode: BriefMode,
    /// How articles are grouped into stories.
    pub grouping: linkage::Limits,
    /// How many stories are written in full; the rest are listed.
    pub top_stories: usize,
    pub summaries_use_llm: bool,
    /// Articles left out because they failed (id and error), for the notes.
    pub left_out: Vec<(String, String)>,
    /// Names with their English spelling and kind, to type the extractive brief's entities.
    pub glossary: &'a Glossary,
    /// Told of each story written ("brief" stage).
    pub progress: &'a dyn crate::progress::Progress,
}

/// The HTML id of an article's section (ids are already file-name safe; anything else is
/// replaced so the anchor is always a valid id).
pub fn anchor(article: &str) -> String {
    let safe: String = article
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("article-{safe}")
}

/// The HTML id of one paragraph (1-based) of an article.
pub fn paragraph_anchor(article: &str, paragraph: usize) -> String {
    format!("{}-p{paragraph}", anchor(article))
}

/// Build the brief. Never fails; what could not be done is in `notes`.
pub async fn build(night: night::Night, input: BriefInput<'_>) -> Brief {
    let (mut articles, stowage, problems) = night.into_parts();
    articles.sort_by(|a, b| a.id.cmp(&b.id));
    let features = stories::take_features(&mut articles);
    // Each phase starts from what is live, not from the last one's peak (see `memory`).
    crate::memory::give_back();
    let (wire_groups, mut causes) = stories::wire_copy(&articles, &features, &stowage);
    crate::memory::give_back();
    let (neighbours, ranked) =
        stories::group_and_rank(&articles, features, &wire_groups, input.grouping);
    crate::memory::give_back();
    let wire_index = wire::index(&wire_groups);
    let known = Known::new(
        articles
            .iter()
            .map(|a| (a.id.as_str(), a.paragraph_count())),
    );
    let writer = Writer {
        articles: &articles,
        stowage: &stowage,
        neighbours: &neighbours,
        wire_index: &wire_index,
        known: &known,
        use_llm: input.runner.is_some_and(StageRunner::is_llm),
        mode: resolve_mode(input.mode, input.runner),
        input: &input,
    };

    let top = input.top_stories.min(ranked.len());
    let (mut written, more_stories, singles) = writer.write_all(&ranked, top).await;
    let single_reports = rank::by_outlet(&singles);
    let mut notes = notes::method_notes(writer.use_llm, input.summaries_use_llm);
    notes.append(&mut written.notes);
    if ranked.len() > top {
        notes.push(format!(
            "the {top} stories carried by the most independent sources are written in full; {} more stories of several articles and {} single reports are listed after them",
            more_stories.len(),
            singles.len()
        ));
    }
    notes.extend(notes::run_notes(
        &articles,
        &input,
        &written.dropped,
        &wire_groups,
    ));
    let sources = sources(&articles, &ranked);
    // The renderers show the written stories' articles in full: put their texts back.
    for (index, loaded) in std::mem::take(&mut written.loaded) {
        articles[index] = loaded;
    }
    causes.extend(problems);
    causes.append(&mut written.causes);
    Brief {
        schema_version: SCHEMA_VERSION,
        generated_at: chrono::Utc::now().to_rfc3339(),
        method: notes::brief_method(&written.stories),
        notes,
        stories: written.stories,
        more_stories,
        single_reports,
        wire_copy: wire_groups,
        sources,
        dropped_citations: written.dropped,
        causes,
        articles,
    }
}

/// `auto` resolved: one request per story when the brief stage's first backend may answer
/// [`SINGLE_BRIEF_MIN_TOKENS`] tokens, small requests otherwise.
pub fn resolve_mode(mode: BriefMode, runner: Option<&StageRunner>) -> BriefMode {
    match mode {
        BriefMode::Auto => {
            let room = runner
                .and_then(|runner| runner.chain.first())
                .map(|dispatcher| dispatcher.settings.max_tokens())
                .unwrap_or(0);
            if room >= SINGLE_BRIEF_MIN_TOKENS {
                BriefMode::Single
            } else {
                BriefMode::Composed
            }
        }
        chosen => chosen,
    }
}

pub(crate) fn sources(articles: &[BriefArticle], ranked: &[rank::Ranked]) -> Vec<Source> {
    let mut story_of: Vec<String> = vec![String::new(); articles.len()];
    for (number, story) in ranked.iter().enumerate() {
        for &member in &story.members {
            story_of[member] = format!("story-{}", number + 1);
        }
    }
    articles
        .iter()
        .enumerate()
        .map(|(position, article)| Source {
            id: article.id.clone(),
            title: article.title.clone(),
            title_en: article.title_en.clone(),
            origin: article.origin.clone(),
            source: article.source.clone(),
            url: article.url.clone(),
            published: article.published.clone(),
            page: format!("articles/{}.en.md", article.id),
            anchor: anchor(&article.id),
            story: std::mem::take(&mut story_of[position]),
            confidence: article.confidence,
            confidence_label: fidelity::confidence_label(article.confidence).to_string(),
            flagged_paragraphs: article.flagged_paragraphs(),
        })
        .collect()
}

/// Count a fact's independent sources: a cited paragraph in wire group G counts as source G, any
/// other as its article; no more sources than cited articles.
pub fn annotate(fact: &mut Fact, wire_index: &HashMap<ParagraphRef, String>) {
    let mut units: BTreeSet<String> = BTreeSet::new();
    let mut groups: BTreeSet<String> = BTreeSet::new();
    for citation in &fact.citations {
        if citation.paragraphs.is_empty() {
            units.insert(format!("article:{}", citation.article));
        }
        for &paragraph in &citation.paragraphs {
            let reference = ParagraphRef {
                article: citation.article.clone(),
                paragraph,
            };
            match wire_index.get(&reference) {
                Some(group) => {
                    units.insert(format!("wire:{group}"));
                    groups.insert(group.clone());
                }
                None => {
                    units.insert(format!("article:{}", citation.article));
                }
            }
        }
    }
    let articles: BTreeSet<&str> = fact.citations.iter().map(|c| c.article.as_str()).collect();
    fact.independent_sources = units.len().min(articles.len());
    fact.wire_copy = groups.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_copy_counts_once() {
        let index = HashMap::from([
            (
                ParagraphRef {
                    article: "a".into(),
                    paragraph: 2,
                },
                "wire-1".to_string(),
            ),
            (
                ParagraphRef {
                    article: "d".into(),
                    paragraph: 5,
                },
                "wire-1".to_string(),
            ),
        ]);
        let mut fact = Fact {
            text: "x".into(),
            citations: vec![
                Citation {
                    article: "a".into(),
                    paragraphs: vec![2],
                },
                Citation {
                    article: "d".into(),
                    paragraphs: vec![5],
                },
            ],
            ..Fact::default()
        };
        annotate(&mut fact, &index);
        assert_eq!(fact.independent_sources, 1);
        assert_eq!(fact.wire_copy, vec!["wire-1".to_string()]);
        fact.citations.push(Citation {
            article: "b".into(),
            paragraphs: vec![1],
        });
        annotate(&mut fact, &index);
        assert_eq!(fact.independent_sources, 2);
        assert_eq!(anchor("x/y"), "article-x_y");
        assert_eq!(paragraph_anchor("a", 3), "article-a-p3");
    }
}
