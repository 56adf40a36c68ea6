//! Writing the top stories: the best way that works for each (one request, small requests over
//! key points, or extractive), with the brief's notes on what could not be done, each fact's
//! independent sources and doubts marked, and the one-line form of the stories past the top.

use std::collections::HashMap;

use crate::brief::citations::{Citation, DroppedCitation, Known};
use crate::brief::rank::{self, StoryLine};
use crate::brief::wire::ParagraphRef;
use crate::brief::{
    annotate, compose, composed, group, llm, night, BriefArticle, BriefInput, FlaggedShare, Story,
};
use crate::settings::BriefMode;

/// What writing the top stories needs, shared by every story.
pub(super) struct Writer<'a> {
    pub(super) articles: &'a [BriefArticle],
    /// Where the articles' texts are, when not in `articles` (see `night`).
    pub(super) stowage: &'a night::Stowage,
    pub(super) neighbours: &'a [Vec<group::Neighbour>],
    pub(super) wire_index: &'a HashMap<ParagraphRef, String>,
    pub(super) known: &'a Known,
    pub(super) use_llm: bool,
    pub(super) mode: BriefMode,
    pub(super) input: &'a BriefInput<'a>,
}

/// The top stories as written, with what the brief must say about them.
#[derive(Default)]
pub(super) struct Written {
    pub(super) stories: Vec<Story>,
    pub(super) notes: Vec<String>,
    pub(super) causes: Vec<String>,
    pub(super) dropped: Vec<DroppedCitation>,
    /// The written stories' articles with their texts read back, by position in `articles`.
    pub(super) loaded: Vec<(usize, BriefArticle)>,
}

impl<'a> Writer<'a> {
    /// The article whose English title heads an extractive story or a listed one: the most
    /// central one that has a title (a headline is a title, not a sentence picked from a body).
    fn central(&self, members: &[usize]) -> Option<usize> {
        let titled: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| {
                self.articles
                    .get(i)
                    .and_then(|a| a.title_en.as_deref())
                    .is_some_and(|title| !title.trim().is_empty())
            })
            .collect();
        group::most_central_of(self.neighbours, members, &titled)
            .or_else(|| group::most_central(self.neighbours, members))
    }

    /// A story's articles with their texts (read back when stowed). An article whose text
    /// cannot be read stays without it, and the brief's causes say so.
    fn load_members(&self, ranked: &rank::Ranked, written: &mut Written) -> Vec<BriefArticle> {
        let mut loaded = Vec::new();
        for &index in &ranked.members {
            let Some(article) = self.articles.get(index) else {
                continue;
            };
            match self.stowage.load(article) {
                Ok(full) => {
                    if article.stowed.is_some() {
                        written.loaded.push((index, full.clone()));
                    }
                    loaded.push(full);
                }
                Err(error) => {
                    written.notes.push(format!(
                        "{error}; its story was written without that article's text"
                    ));
                    written.causes.push(error.to_string());
                    loaded.push(article.clone());
                }
            }
        }
        loaded
    }

    fn members(&self, ranked: &rank::Ranked) -> Vec<&BriefArticle> {
        ranked
            .members
            .iter()
            .filter_map(|&i| self.articles.get(i))
            .collect()
    }

    fn central_article(&self, ranked: &rank::Ranked) -> Option<&BriefArticle> {
        self.central(&ranked.members)
            .and_then(|i| self.articles.get(i))
    }

    /// The `top` first of the ranked stories written in full; the others listed, stories of
    /// several articles as lines and single reports as (index, article) for listing by outlet.
    pub(super) async fn write_all(
        &self,
        ranked: &[rank::Ranked],
        top: usize,
    ) -> (Written, Vec<StoryLine>, Vec<(usize, &'a BriefArticle)>) {
        let mut written = Written::default();
        let mut more_stories = Vec::new();
        let mut singles = Vec::new();
        self.input.progress.stage_begin("brief", top);
        for (number, story) in ranked.iter().enumerate() {
            let id = format!("story-{}", number + 1);
            if number < top {
                self.write(&id, story, &mut written).await;
                self.input.progress.stage_step("brief");
            } else if story.members.len() > 1 {
                more_stories.push(self.line(&id, story));
            } else {
                singles.extend(story.members.iter().map(|&m| (m, &self.articles[m])));
            }
        }
        (written, more_stories, singles)
    }

    /// One top story, written the best way that works: one request, small requests,
    /// extractive (each falls back to the next).
    pub(super) async fn write(&self, id: &str, ranked: &rank::Ranked, written: &mut Written) {
        let input = self.input;
        let loaded = self.load_members(ranked, written);
        let story_articles: Vec<&BriefArticle> = loaded.iter().collect();
        let central = self.central_article(ranked).map(|a| a.id.as_str());
        let mut failed: Vec<String> = Vec::new();
        let mut story = None;
        // A story too large for one prompt is written from its key points (composed).
        let fits = story_articles.len() <= llm::MAX_PROMPT_ARTICLES;
        if let Some(runner) = input
            .runner
            .filter(|_| self.use_llm && self.mode == BriefMode::Single && fits)
        {
            let dropped = &mut written.dropped;
            match llm::story(
                runner,
                id,
                &story_articles,
                self.wire_index,
                self.known,
                dropped,
            )
            .await
            {
                Ok(done) => story = Some(done),
                Err(error) => failed.push(format!("single request: {error}")),
            }
        }
        if let Some(runner) = input
            .story_runner
            .filter(|_| self.use_llm && story.is_none())
        {
            let glossary = input.glossary;
            match composed::story(
                runner,
                id,
                &story_articles,
                central,
                self.wire_index,
                glossary,
            )
            .await
            {
                Ok(done) => story = Some(done),
                Err(error) => failed.push(format!("composed: {error}")),
            }
        }
        let mut story = story.unwrap_or_else(|| {
            compose::story(
                id,
                &story_articles,
                central,
                self.wire_index,
                input.glossary,
            )
        });
        if !failed.is_empty() {
            written.notes.push(fallback_note(id, &story.method));
            written.causes.push(format!("{id}: {}", failed.join("; ")));
        }
        story.independent_sources = ranked.independent_sources;
        // A headline that is an article's translated title carries that title's doubts.
        let headline_from = story_articles
            .iter()
            .find(|a| central == Some(a.id.as_str()) && a.display_title() == story.headline);
        if let Some(doubt) = headline_from.and_then(|a| a.title_doubt()) {
            story.notes.push(format!(
                "check the headline: it is the English title of {}, which the checks flagged: {doubt}",
                headline_from.map_or("", |a| a.id.as_str())
            ));
        }
        annotate_story(&mut story, self.wire_index);
        mark_doubts(&mut story, &story_articles);
        written.stories.push(story);
    }

    /// A story past the top ones, as one line of the list.
    pub(super) fn line(&self, id: &str, ranked: &rank::Ranked) -> StoryLine {
        let members = self.members(ranked);
        let central = self.central_article(ranked);
        let headline = central.map_or_else(String::new, |a| a.display_title().to_string());
        let title_doubt = central.and_then(BriefArticle::title_doubt);
        let confidence =
            members.iter().map(|a| a.confidence).sum::<f64>() / members.len().max(1) as f64;
        StoryLine {
            id: id.to_string(),
            headline,
            title_doubt,
            independent_sources: ranked.independent_sources,
            outlets: ranked.outlets.clone(),
            articles: members.iter().map(|a| a.id.clone()).collect(),
            confidence,
        }
    }
}

/// What the brief tells the analyst when a story could not be written the way asked.
fn fallback_note(id: &str, method: &str) -> String {
    if method == "composed" {
        format!(
            "composed: the model's single answer for {id} was unusable, so the story was \
             written from small requests instead: the model wrote its headline and synthesis \
             from the articles' key points, and the other sections come from the translations \
             (the technical cause is in run.json, brief.causes)"
        )
    } else {
        format!(
            "extractive: the model's answer for {id} was unusable, so that story was \
             assembled from the articles' own translated sentences; no model wrote its \
             headline or synthesis (the technical cause is in run.json, brief.causes)"
        )
    }
}

/// The story's confidence, and each fact that cites only flagged paragraphs marked so.
fn mark_doubts(story: &mut Story, articles: &[&BriefArticle]) {
    let flagged: HashMap<&str, Vec<usize>> = articles
        .iter()
        .map(|article| (article.id.as_str(), article.flagged_paragraphs()))
        .collect();
    // Of the paragraphs cited, how many are flagged; a citation of a whole article (no
    // paragraph) keeps a fact from resting only on flagged ones.
    let count = |citations: &[Citation]| {
        let (mut flagged_count, mut cited, mut whole_article) = (0, 0, false);
        for citation in citations {
            let article_flags = flagged.get(citation.article.as_str());
            whole_article |= citation.paragraphs.is_empty();
            for paragraph in &citation.paragraphs {
                cited += 1;
                if article_flags.is_some_and(|list| list.contains(paragraph)) {
                    flagged_count += 1;
                }
            }
        }
        let all = cited > 0 && flagged_count == cited && !whole_article;
        let some = (flagged_count > 0 && flagged_count < cited).then_some(FlaggedShare {
            flagged: flagged_count,
            cited,
        });
        (all, some)
    };
    for fact in story.facts_mut() {
        (fact.on_flagged_paragraphs, fact.flagged_citations) = count(&fact.citations);
    }
    for entry in &mut story.timeline {
        entry.on_flagged_paragraphs = count(&entry.citations).0;
    }
    if !articles.is_empty() {
        let sum: f64 = articles.iter().map(|article| article.confidence).sum();
        story.confidence = (sum / articles.len() as f64 * 100.0).round() / 100.0;
    }
    story.flagged_articles = articles
        .iter()
        .filter(|article| !article.flagged_paragraphs().is_empty())
        .count();
}

/// Fill in each fact's independent-source count and wire-copy groups.
fn annotate_story(story: &mut Story, wire_index: &HashMap<ParagraphRef, String>) {
    let facts = story.facts_mut();
    for fact in facts {
        annotate(fact, wire_index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::{Fact, TimelineEntry};
    use crate::fidelity::{Flag, FlagKind};

    /// A dated event read from a flagged paragraph is marked in doubt like a fact (a date the
    /// model got wrong, "September 20, 1991" for 2 سبتمبر 1991, must not stand as fact).
    #[test]
    fn a_date_from_flagged_english_is_in_doubt() {
        let flag = Flag::new(FlagKind::Number, "the English has the number 20".into());
        let article = BriefArticle {
            id: "a".into(),
            origin: "a.txt".into(),
            title: None,
            title_en: None,
            source: None,
            url: None,
            published: None,
            arabic: vec![String::new(); 2],
            english: vec![String::new(); 2],
            summary: None,
            confidence: 0.5,
            paragraph_flags: vec![vec![flag], Vec::new()],
            title_flags: Vec::new(),
            features: None,
            stowed: None,
        };
        let entry = |paragraph: usize| TimelineEntry {
            date: "1991-09-20".into(),
            event: "independence".into(),
            citations: vec![Citation {
                article: "a".into(),
                paragraphs: vec![paragraph],
            }],
            on_flagged_paragraphs: false,
        };
        let mut story = Story {
            timeline: vec![entry(1), entry(2)],
            ..Story::default()
        };
        mark_doubts(&mut story, &[&article]);
        let marks: Vec<bool> = story
            .timeline
            .iter()
            .map(|e| e.on_flagged_paragraphs)
            .collect();
        assert_eq!(marks, vec![true, false]);
        assert_eq!(story.flagged_articles, 1);
    }

    /// A fact citing ¶1-3 of an article whose ¶1 was flagged says so: "1 of 3" (the sample
    /// run's key fact about "the US military" seizing positions cited ¶1-5, ¶1 flagged, and
    /// showed no doubt at all). One citing only ¶1 is in doubt; one citing only ¶2, clean.
    #[test]
    fn a_fact_resting_partly_on_flagged_english_says_how_much() {
        let flag = Flag::new(
            FlagKind::Date,
            "the Arabic says Tuesday; the English does not".into(),
        );
        let article = BriefArticle {
            id: "a".into(),
            origin: "a.txt".into(),
            arabic: vec![String::new(); 3],
            english: vec![String::new(); 3],
            confidence: 0.5,
            paragraph_flags: vec![vec![flag], Vec::new(), Vec::new()],
            ..BriefArticle::default()
        };
        let fact = |paragraphs: Vec<usize>| Fact {
            text: "A fact.".into(),
            citations: vec![Citation {
                article: "a".into(),
                paragraphs,
            }],
            ..Fact::default()
        };
        let mut story = Story {
            key_facts: vec![fact(vec![1, 2, 3]), fact(vec![1]), fact(vec![2])],
            ..Story::default()
        };
        mark_doubts(&mut story, &[&article]);
        let marks: Vec<(bool, Option<FlaggedShare>)> = story
            .key_facts
            .iter()
            .map(|f| (f.on_flagged_paragraphs, f.flagged_citations))
            .collect();
        assert_eq!(
            marks,
            vec![
                (
                    false,
                    Some(FlaggedShare {
                        flagged: 1,
                        cited: 3
                    })
                ),
                (true, None),
                (false, None)
            ]
        );
    }
}
