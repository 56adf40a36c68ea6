// Over 600 lines: the extractive story's sections (headline, facts, numbers, entities, timeline) share one set of helpers; 270 of the lines are its tests.
//! The extractive story: what can be said about a story with no model at all.
//!
//! Headline: the most central sentence (TextRank) of the story's most central article. Synthesis
//! and key facts: the most central sentences across the story, each citing its paragraph; a
//! sentence from wire copy is taken once and cites every copy. Agreements and differences: the
//! same context word ("people", "soldiers") with the same or different numbers in different
//! articles. Entities: runs of capitalized words, one spelling per entity key. Timeline: the
//! sentences that carry a date. Framing and attributions need a model and are not compared; the
//! story's notes say so.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::brief::citations::Citation;
use crate::brief::wire::ParagraphRef;
use crate::brief::{BriefArticle, Difference, Entity, Fact, Story, TimelineEntry};
use crate::english::{extractive, text};
use crate::fidelity::glossary::Glossary;

const SYNTHESIS_SENTENCES: usize = 3;
const KEY_FACTS: usize = 6;
const MAX_ENTITIES: usize = 25;
const MAX_TIMELINE: usize = 15;
const MAX_HEADLINE_CHARACTERS: usize = 200;
/// TextRank builds a dense sentence-by-sentence matrix; beyond this many sentences a story's key
/// facts are ranked among its first sentences only, so a huge story cannot exhaust memory.
/// Most copies of a wire paragraph a fact cites; the wire group lists every copy.
const MAX_WIRE_CITATIONS: usize = 8;

/// A sentence of the story and where it (and its wire copies) sit.
struct StorySentence {
    text: String,
    citations: Vec<Citation>,
}

/// Compose story `id` from its articles; `central` is the most central article's id.
pub fn story(
    id: &str,
    articles: &[&BriefArticle],
    central: Option<&str>,
    wire_index: &HashMap<ParagraphRef, String>,
    glossary: &Glossary,
) -> Story {
    let mut sentences = story_sentences(articles, wire_index);
    let mut notes = vec![
        "extractive: no model wrote this story; its key facts are the story's most central translated sentences, agreements and differences compare only numbers the articles give for the same thing, and how each outlet frames the story is not compared".to_string(),
    ];
    if sentences.len() > extractive::MAX_RANKED_SENTENCES {
        notes.push(format!(
            "the story has {} sentences; key facts were ranked among the first {}",
            sentences.len(),
            extractive::MAX_RANKED_SENTENCES
        ));
        sentences.truncate(extractive::MAX_RANKED_SENTENCES);
    }
    let texts: Vec<String> = sentences.iter().map(|s| s.text.clone()).collect();
    let ranking = extractive::ranking(&extractive::textrank(&texts));
    let mut synthesis_indices: Vec<usize> =
        ranking.iter().copied().take(SYNTHESIS_SENTENCES).collect();
    synthesis_indices.sort_unstable();
    let (agreements, differences) = numbers(articles, wire_index);
    Story {
        id: id.to_string(),
        method: "extractive".into(),
        backend: None,
        headline: headline(articles, central),
        synthesis: synthesis_indices
            .iter()
            .filter_map(|&i| sentences.get(i))
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        articles: articles.iter().map(|a| a.id.clone()).collect(),
        key_facts: ranking
            .iter()
            .take(KEY_FACTS)
            .filter_map(|&i| sentences.get(i))
            .map(|s| Fact {
                text: s.text.clone(),
                citations: s.citations.clone(),
                ..Fact::default()
            })
            .collect(),
        agreements,
        differences,
        entities: entities(articles, glossary),
        timeline: timeline(articles),
        notes,
        ..Story::default()
    }
}

/// Every sentence of the story; wire-copy paragraphs are taken from their first article only and
/// cite every copy.
fn story_sentences(
    articles: &[&BriefArticle],
    wire_index: &HashMap<ParagraphRef, String>,
) -> Vec<StorySentence> {
    // Copies are cited only among this story's own articles, and at most
    // MAX_WIRE_CITATIONS of them: a group reused by thousands of articles must not make every
    // fact cite thousands of paragraphs (the group itself lists them all in `wire_copy`).
    let mut copies: BTreeMap<&str, Vec<ParagraphRef>> = BTreeMap::new();
    for article in articles {
        for paragraph in 1..=article.english.len() {
            let reference = ParagraphRef {
                article: article.id.clone(),
                paragraph,
            };
            if let Some(group) = wire_index.get(&reference) {
                copies.entry(group.as_str()).or_default().push(reference);
            }
        }
    }
    let mut claimed: HashMap<&str, &str> = HashMap::new();
    let mut sentences = Vec::new();
    let mut in_doubt = Vec::new();
    for article in articles {
        for located in text::sentences(&article.english) {
            let flagged = article
                .paragraph_flags
                .get(located.paragraph)
                .is_some_and(|flags| !flags.is_empty());
            let reference = ParagraphRef {
                article: article.id.clone(),
                paragraph: located.paragraph + 1,
            };
            let citations = match wire_index.get(&reference) {
                Some(group) => {
                    let owner = *claimed.entry(group.as_str()).or_insert(article.id.as_str());
                    if owner != article.id {
                        continue;
                    }
                    let mut members = copies.get(group.as_str()).cloned().unwrap_or_default();
                    members.sort();
                    members.truncate(MAX_WIRE_CITATIONS);
                    members
                        .into_iter()
                        .map(|r| Citation {
                            article: r.article.clone(),
                            paragraphs: vec![r.paragraph],
                        })
                        .collect()
                }
                None => vec![Citation {
                    article: article.id.clone(),
                    paragraphs: vec![reference.paragraph],
                }],
            };
            let sentence = StorySentence {
                text: located.text,
                citations,
            };
            if flagged {
                in_doubt.push(sentence);
            } else {
                sentences.push(sentence);
            }
        }
    }
    // Key facts and the synthesis come from English the checks found clean, unless too little
    // of it is left.
    if sentences.len() < MIN_CLEAN_SENTENCES {
        sentences.extend(in_doubt);
    }
    sentences
}

/// The central article's English title, else its most central sentence from a paragraph the
/// checks found clean.
fn headline(articles: &[&BriefArticle], central: Option<&str>) -> String {
    let article = central
        .and_then(|id| articles.iter().find(|a| a.id == id))
        .or(articles.first());
    let Some(article) = article else {
        return String::new();
    };
    if let Some(title) = article.title_en.as_deref().filter(|t| !t.trim().is_empty()) {
        return shorten(title.trim(), MAX_HEADLINE_CHARACTERS);
    }
    let clean: Vec<String> = article
        .english
        .iter()
        .enumerate()
        .filter(|(index, _)| {
            article
                .paragraph_flags
                .get(*index)
                .is_none_or(|flags| flags.is_empty())
        })
        .map(|(_, paragraph)| paragraph.clone())
        .collect();
    let located = text::sentences(if clean.is_empty() {
        &article.english
    } else {
        &clean
    });
    let top = extractive::top_in_order(&located, 1);
    let sentence = top
        .first()
        .map(|s| s.text.clone())
        .unwrap_or_else(|| article.display_title().to_string());
    shorten(&sentence, MAX_HEADLINE_CHARACTERS)
}

/// Fewest clean sentences a story needs before flagged ones are left out of its key facts.
const MIN_CLEAN_SENTENCES: usize = 6;

fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    let at_word = cut.rsplit_once(' ').map(|(head, _)| head).unwrap_or(&cut);
    format!("{}…", at_word.trim_end())
}

/// One number a sentence gives for something ("32 people").
struct Mention {
    number: String,
    article: String,
    paragraph: usize,
    /// The sentence's other content words, to tell whether two mentions speak of one thing.
    words: BTreeSet<String>,
    /// Past years the paragraph names (the story's latest year left out): numbers from
    /// different years are about different events.
    years: BTreeSet<String>,
}

/// Whether two mentions from different articles are about the same thing: besides what they
/// count, their sentences share a content word ("killed", "Karabakh"), and their paragraphs
/// name the same past years (or none but the story's own). "25 people were injured in Tartar" and "6,500 people fled to
/// Armenia" share no word; "25 people were killed" today and "30,000 people" killed from 1992
/// to 1994 are different years; neither pair is compared.
fn same_thing(first: &Mention, second: &Mention) -> bool {
    let same_time =
        first.years == second.years || first.years.intersection(&second.years).next().is_some();
    first.article != second.article
        && same_time
        && first.words.intersection(&second.words).next().is_some()
}

/// Four-digit years (1900-2099) a sentence names.
fn years_in(sentence: &str) -> BTreeSet<String> {
    sentence
        .split(|c: char| !c.is_ascii_digit())
        .filter(|digits| {
            digits.len() == 4 && (digits.starts_with("19") || digits.starts_with("20"))
        })
        .map(str::to_string)
        .collect()
}

/// Numbers across articles, by what they count: the same number for the same thing in
/// several independent sources is an agreement; different numbers for the same thing (same
/// counted word, and sentences that share another) are a difference.
fn numbers(
    articles: &[&BriefArticle],
    wire_index: &HashMap<ParagraphRef, String>,
) -> (Vec<Fact>, Vec<Difference>) {
    let by_context = mentions_by_context(articles);
    let mut agreements = Vec::new();
    let mut differences = Vec::new();
    for (context, mentions) in by_context {
        // Mentions with a partner about the same thing: equal numbers (agreement) or not.
        let mut agreeing: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        let mut differing: BTreeSet<usize> = BTreeSet::new();
        for (i, first) in mentions.iter().enumerate() {
            for (j, second) in mentions.iter().enumerate().skip(i + 1) {
                if !same_thing(first, second) {
                    continue;
                }
                if first.number == second.number {
                    agreeing.entry(&first.number).or_default().extend([i, j]);
                } else {
                    differing.extend([i, j]);
                }
            }
        }
        let fact = |number: &str, indices: &mut dyn Iterator<Item = usize>| {
            let mut cited: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
            for index in indices {
                let mention = &mentions[index];
                cited
                    .entry(mention.article.clone())
                    .or_default()
                    .insert(mention.paragraph);
            }
            Fact {
                text: format!("{number} {context}"),
                citations: cited
                    .into_iter()
                    .map(|(article, paragraphs)| Citation {
                        article,
                        paragraphs: paragraphs.into_iter().collect(),
                    })
                    .collect(),
                ..Fact::default()
            }
        };
        for (number, indices) in &agreeing {
            let mut agreement = fact(number, &mut indices.iter().copied());
            crate::brief::annotate(&mut agreement, wire_index);
            if agreement.independent_sources >= 2 {
                agreements.push(agreement);
            }
        }
        let mut positions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &index in &differing {
            positions
                .entry(&mentions[index].number)
                .or_default()
                .push(index);
        }
        if positions.len() >= 2 {
            differences.push(Difference {
                topic: context.clone(),
                positions: positions
                    .iter()
                    .map(|(number, indices)| fact(number, &mut indices.iter().copied()))
                    .collect(),
            });
        }
    }
    (agreements, differences)
}

/// Every number the articles' English gives, grouped by what it counts ("people", "soldiers"),
/// with the sentence's other content words and the years its paragraph names.
fn mentions_by_context(articles: &[&BriefArticle]) -> BTreeMap<String, Vec<Mention>> {
    // The story's own year is the latest any article names: a paragraph that names it speaks
    // of the same time as one that names no year ("on 19 September 2023, 32 people were
    // killed" and "27 people were killed"); one that names only earlier years ("from 1992 to
    // 1994 ... 30,000 people") speaks of another time.
    let latest = articles
        .iter()
        .flat_map(|article| article.english.iter())
        .flat_map(|paragraph| years_in(paragraph))
        .max();
    let mut by_context: BTreeMap<String, Vec<Mention>> = BTreeMap::new();
    for article in articles {
        for sentence in text::sentences(&article.english) {
            let mentions = text::numbers_with_context(&sentence.text);
            if mentions.is_empty() {
                continue;
            }
            let all_words: BTreeSet<String> =
                text::content_words(&sentence.text).into_iter().collect();
            // The years of the whole paragraph: "From 1992 to 1994, ... Those were large-scale
            // operations, in which up to 30,000 people were killed" dates its second sentence.
            let paragraph = article
                .english
                .get(sentence.paragraph)
                .map_or(sentence.text.as_str(), String::as_str);
            let mut years = years_in(paragraph);
            if let Some(latest) = &latest {
                years.remove(latest);
            }
            for (number, context) in mentions {
                let mut words = all_words.clone();
                words.remove(&context);
                for part in number.split(' ') {
                    words.remove(part);
                }
                by_context.entry(context).or_default().push(Mention {
                    number,
                    article: article.id.clone(),
                    paragraph: sentence.paragraph + 1,
                    words,
                    years: years.clone(),
                });
            }
        }
    }
    by_context
}

/// Where one entity was seen: its spellings with counts, the articles, the first mention.
#[derive(Default)]
struct Sightings {
    kind: &'static str,
    /// The glossary's English rendering, when the entity is a glossary term.
    canonical: Option<String>,
    spellings: BTreeMap<String, usize>,
    articles: BTreeSet<String>,
    first: usize,
    /// Seen in at least one paragraph the checks did not flag.
    in_clean_paragraph: bool,
}

/// Words of titles and institutions: a capitalized run made of these alone ("Defense
/// Ministry", "President") is not a name.
const GENERIC_WORDS: &[&str] = &[
    "Ministry",
    "Minister",
    "Defense",
    "Defence",
    "President",
    "Prime",
    "Foreign",
    "Affairs",
    "Army",
    "Armed",
    "Forces",
    "Government",
    "Spokesman",
    "Spokesperson",
    "Agency",
    "Council",
    "Security",
    "General",
    "Office",
    "State",
    "States",
    "Republic",
    "National",
    "Interior",
    "Committee",
    "Union",
    "News",
    "Press",
    "Department",
    "Military",
    "Deputy",
    "Chief",
    "Secretary",
    "Ambassador",
    "Parliament",
    "Assembly",
    "Authorities",
    "Officials",
    "Sources",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "The",
];

/// Words that make a capitalized run an organisation ("Ministry of Defense of Azerbaijan").
const ORGANISATION_WORDS: &[&str] = &[
    "Ministry",
    "Council",
    "Army",
    "Forces",
    "Agency",
    "Committee",
    "Union",
    "Organization",
    "Organisation",
    "Party",
    "Parliament",
    "Government",
    "Office",
    "Court",
    "Assembly",
    "Department",
    "Bank",
    "Company",
    "Corporation",
];

/// Whether glossary terms account for every word of `phrase` ("Armenia", "Nagorno-Karabakh",
/// "Azerbaijani" as a demonym of Azerbaijan).
fn glossary_covers(glossary: &Glossary, phrase: &str) -> bool {
    let spans = glossary.english_spans(phrase);
    let words = crate::fidelity::glossary::english_words(phrase);
    !words.is_empty()
        && (0..words.len()).all(|index| spans.iter().any(|span| span.words.contains(&index)))
}

/// Named entities of the story, each with a kind: glossary terms first (their English
/// rendering, kind and the spellings the articles used), then other capitalized names that are
/// not titles or institutions alone, as "organisation" when an institution word says so and
/// as "name" (kind unknown) otherwise. A single-word unknown name must appear in two articles.
fn entities(articles: &[&BriefArticle], glossary: &Glossary) -> Vec<Entity> {
    let mut found: BTreeMap<String, Sightings> = BTreeMap::new();
    let mut position = 0;
    for article in articles {
        let flagged = article.flagged_paragraphs();
        for (index, paragraph) in article.english.iter().enumerate() {
            let clean = !flagged.contains(&(index + 1));
            let known = glossary.in_english(paragraph);
            let known_words: BTreeSet<String> = known
                .iter()
                .flat_map(|f| f.written.split(' ').map(str::to_string).collect::<Vec<_>>())
                .collect();
            for mention in known {
                position += 1;
                let entry = glossary.entry(mention.term);
                let key = format!("term:{}", entry.en);
                let sightings = found.entry(key).or_insert_with(|| Sightings {
                    kind: entry.kind.as_str(),
                    canonical: Some(entry.en.clone()),
                    first: position,
                    ..Sightings::default()
                });
                *sightings.spellings.entry(mention.written).or_insert(0) += 1;
                sightings.articles.insert(article.id.clone());
                sightings.in_clean_paragraph |= clean;
            }
            for phrase in text::entity_phrases(paragraph) {
                position += 1;
                let phrase = phrase
                    .trim_end_matches("'s")
                    .trim_end_matches("’s")
                    .to_string();
                let words: Vec<&str> = phrase
                    .split([' ', '-'])
                    .map(|w| w.trim_end_matches("'s").trim_end_matches("’s"))
                    .collect();
                // Covered when every word is a glossary name or a title: "Russian President
                // Vladimir Putin" is Vladimir Putin, already listed.
                let covered = glossary_covers(glossary, &phrase)
                    || words.iter().all(|w| {
                        known_words.contains(*w)
                            || GENERIC_WORDS.contains(w)
                            || glossary_covers(glossary, w)
                    });
                let generic = words.iter().all(|w| GENERIC_WORDS.contains(w));
                let key = text::entity_key(&phrase);
                if covered || generic || key.chars().count() < 3 {
                    continue;
                }
                let kind = if words.iter().any(|w| ORGANISATION_WORDS.contains(w)) {
                    "organisation"
                } else {
                    "name"
                };
                let sightings = found.entry(key).or_insert_with(|| Sightings {
                    kind,
                    first: position,
                    ..Sightings::default()
                });
                *sightings.spellings.entry(phrase).or_insert(0) += 1;
                sightings.articles.insert(article.id.clone());
                sightings.in_clean_paragraph |= clean;
            }
        }
    }
    ranked_entities(found)
}

/// The names seen, most articles first (then first seen), each with its most used spelling
/// (the glossary's when it has one) and the others as variants. A one-word name the glossary
/// does not know is kept only when two articles use it.
fn ranked_entities(found: BTreeMap<String, Sightings>) -> Vec<Entity> {
    let mut entities: Vec<(usize, usize, Entity)> = found
        .into_values()
        .filter(|sightings| {
            let single_word = sightings.spellings.keys().all(|s| !s.contains(' '));
            sightings.canonical.is_some() || !single_word || sightings.articles.len() >= 2
        })
        .map(|sightings| {
            let most_used = sightings
                .spellings
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(name, _)| name.clone())
                .unwrap_or_default();
            let name = sightings.canonical.clone().unwrap_or(most_used);
            let variants = sightings
                .spellings
                .keys()
                .filter(|s| **s != name)
                .cloned()
                .collect();
            let entity = Entity {
                name,
                kind: sightings.kind.into(),
                variants,
                articles: sightings.articles.iter().cloned().collect(),
                on_flagged_paragraphs: !sightings.in_clean_paragraph,
            };
            (sightings.articles.len(), sightings.first, entity)
        })
        .collect();
    entities.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    entities
        .into_iter()
        .take(MAX_ENTITIES)
        .map(|(_, _, entity)| entity)
        .collect()
}

fn timeline(articles: &[&BriefArticle]) -> Vec<TimelineEntry> {
    let mut entries: BTreeMap<(String, String), Vec<Citation>> = BTreeMap::new();
    for article in articles {
        let year = article.published.as_deref().and_then(text::year_of);
        for located in text::sentences(&article.english) {
            for date in text::dates(&located.text, year) {
                entries
                    .entry((date, located.text.clone()))
                    .or_default()
                    .push(Citation {
                        article: article.id.clone(),
                        paragraphs: vec![located.paragraph + 1],
                    });
            }
        }
    }
    entries
        .into_iter()
        .take(MAX_TIMELINE)
        .map(|((date, event), citations)| TimelineEntry {
            date,
            event,
            citations,
            on_flagged_paragraphs: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_glossary() -> Glossary {
        Glossary::load("").expect("built-in glossary")
    }

    fn article(id: &str, english: &[&str]) -> BriefArticle {
        BriefArticle {
            id: id.into(),
            origin: format!("{id}.txt"),
            title: None,
            title_en: None,
            source: None,
            url: None,
            published: Some("2023-09-20".into()),
            arabic: english.iter().map(|_| String::new()).collect(),
            english: english.iter().map(|p| p.to_string()).collect(),
            summary: None,
            confidence: 1.0,
            paragraph_flags: english.iter().map(|_| Vec::new()).collect(),
            title_flags: Vec::new(),
            features: None,
            stowed: None,
        }
    }

    /// Regression: a wire paragraph shared by a thousand articles made every fact cite every
    /// copy, and the brief of 1,000 near-identical articles grew to 2.5 GB.
    #[test]
    fn a_widely_copied_paragraph_is_cited_a_bounded_number_of_times() {
        let shared = "Shared wire paragraph about Karabakh talks in Yevlakh.";
        let ids: Vec<String> = (0..40).map(|i| format!("a{i:02}")).collect();
        let articles: Vec<BriefArticle> = ids.iter().map(|id| article(id, &[shared])).collect();
        let members: Vec<&BriefArticle> = articles.iter().collect();
        let index: HashMap<ParagraphRef, String> = ids
            .iter()
            .map(|id| {
                (
                    ParagraphRef {
                        article: id.clone(),
                        paragraph: 1,
                    },
                    "wire-1".to_string(),
                )
            })
            .collect();
        let sentences = story_sentences(&members, &index);
        assert_eq!(sentences.len(), 1, "the copied paragraph is taken once");
        assert_eq!(sentences[0].citations.len(), MAX_WIRE_CITATIONS);
        // Copies outside the story are not cited.
        let sentences = story_sentences(&members[..3], &index);
        assert_eq!(sentences[0].citations.len(), 3);
    }

    /// Issue 10: the sample run's entity table listed "Taliban" (the model's rendering of
    /// مكافحة الإرهاب, "counter-terrorism", flagged in its paragraph) as if the articles named it.
    #[test]
    fn a_name_seen_only_in_flagged_paragraphs_is_in_doubt() {
        let mut a = article(
            "a",
            &[
                "Azerbaijan said local anti-Taliban operations in Karabakh go on.",
                "Azerbaijan and Armenia traded fire near Karabakh.",
            ],
        );
        a.paragraph_flags[0] = vec![crate::fidelity::Flag {
            kind: crate::fidelity::FlagKind::NotInSource,
            message: "the English names Taliban, which the Arabic does not mention".into(),
            arabic: None,
            english: Some("Taliban".into()),
        }];
        let story = story(
            "story-1",
            &[&a],
            Some("a"),
            &HashMap::new(),
            &test_glossary(),
        );
        let doubt = |name: &str| {
            story
                .entities
                .iter()
                .find(|e| e.name == name)
                .unwrap_or_else(|| panic!("{name} not in {:?}", story.entities))
                .on_flagged_paragraphs
        };
        assert!(doubt("Taliban"), "named only in the flagged paragraph");
        assert!(!doubt("Azerbaijan"), "also named in a clean one");
        assert!(!doubt("Karabakh"), "also named in a clean one");
    }

    #[test]
    fn entities_are_names_with_a_kind() {
        // Issue 13: the entity table listed "Defense", "Ministry", "President" of kind
        // "unknown"; then "Azerbaijan's President Ilham Aliyev" and "Therefore" as names.
        let a = article("a", &[
            "The Defense Ministry of Azerbaijan said President Ilham Aliyev met the Ministry officials in Baku. Therefore, Azerbaijan's President Ilham Aliyev spoke.",
        ]);
        let b = article("b", &[
            "President Aliyev spoke in Baku. The Ministry said the Karabakh Security Council met.",
        ]);
        let story = story(
            "story-1",
            &[&a, &b],
            Some("a"),
            &HashMap::new(),
            &test_glossary(),
        );
        let names: Vec<(&str, &str)> = story
            .entities
            .iter()
            .map(|e| (e.name.as_str(), e.kind.as_str()))
            .collect();
        for generic in [
            "Defense",
            "Ministry",
            "President",
            "Defense Ministry",
            "Therefore",
            "Azerbaijan's President Ilham Aliyev",
        ] {
            assert!(!names.iter().any(|(n, _)| *n == generic), "{names:?}");
        }
        assert!(names.contains(&("Azerbaijan", "place")), "{names:?}");
        assert!(names.contains(&("Baku", "place")), "{names:?}");
        assert!(
            names.iter().all(|(_, kind)| *kind != "unknown"),
            "{names:?}"
        );
    }

    #[test]
    fn unrelated_numbers_of_the_same_word_are_not_a_difference() {
        // Issue 13: "Where the sources differ" compared 25, 27, 30,000 and 6,500 "people"
        // from unrelated sentences, and "10 final" (a date) was an agreement.
        let a = article(
            "a",
            &["On November 10, final talks began. At least 25 people were injured in Tartar."],
        );
        let b = article(
            "b",
            &["On November 10, final talks began in Moscow. Some 6,500 people fled to Armenia."],
        );
        let story = story(
            "story-1",
            &[&a, &b],
            Some("a"),
            &HashMap::new(),
            &test_glossary(),
        );
        assert!(story.differences.is_empty(), "{:?}", story.differences);
        assert!(story.agreements.is_empty(), "{:?}", story.agreements);
        // Deaths in two different wars are not two counts of one thing (the samples: 30,000
        // people in 1992-1994 against 6,500 people in 2020).
        let c = article(
            "c",
            &["From 1992 to 1994 the war resulted in the death of approximately 30,000 people."],
        );
        let d = article(
            "d",
            &["The war of 2020 resulted in the death of approximately 6,500 people on both sides."],
        );
        let wars = super::story(
            "story-2",
            &[&c, &d],
            Some("c"),
            &HashMap::new(),
            &test_glossary(),
        );
        assert!(wars.differences.is_empty(), "{:?}", wars.differences);
        // The samples again: the year is in the paragraph's first sentence, the count in its
        // second, and today's toll (no year) is a different event.
        let e = article(
            "e",
            &["From 1992 to 1994, Azerbaijan tried to take the region by military operations. Those were large-scale military operations, resulting in the death of approximately 30,000 people."],
        );
        let f = article(
            "f",
            &["Its forces took 60 military positions, while 25 people were killed, including civilians."],
        );
        let tolls = super::story(
            "story-3",
            &[&e, &f],
            Some("e"),
            &HashMap::new(),
            &test_glossary(),
        );
        assert!(tolls.differences.is_empty(), "{:?}", tolls.differences);
    }

    #[test]
    fn numbers_agree_and_differ_and_wire_copy_is_cited_once() {
        let a = article("a", &[
            "Azerbaijan launched an offensive in Karabakh on 19 September 2023. At least 32 people were killed.",
            "Shared wire paragraph about Karabakh talks in Yevlakh.",
        ]);
        let b = article("b", &[
            "Officials said 27 people were killed in Karabakh. Ilham Aliyev spoke on 20 September.",
            "Shared wire paragraph about Karabakh talks in Yevlakh.",
            "Some 120 thousand Armenians live in Karabakh.",
        ]);
        let c = article(
            "c",
            &["About 120 thousand Armenians live in the region, Aliyev said."],
        );
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
                    article: "b".into(),
                    paragraph: 2,
                },
                "wire-1".to_string(),
            ),
        ]);
        let story = story(
            "story-1",
            &[&a, &b, &c],
            Some("b"),
            &index,
            &test_glossary(),
        );
        assert_eq!(story.differences.len(), 1);
        assert_eq!(story.differences[0].topic, "people");
        assert_eq!(story.differences[0].positions.len(), 2);
        assert_eq!(story.agreements.len(), 1);
        assert_eq!(story.agreements[0].text, "120 thousand armenians");
        let wire_sentences: Vec<&Fact> = story
            .key_facts
            .iter()
            .filter(|f| f.text.starts_with("Shared wire"))
            .collect();
        assert!(wire_sentences.len() <= 1);
        if let Some(fact) = wire_sentences.first() {
            assert_eq!(fact.citations.len(), 2);
        }
        let dates: Vec<&str> = story.timeline.iter().map(|t| t.date.as_str()).collect();
        assert_eq!(dates, ["2023-09-19", "2023-09-20"]);
        let karabakh = story
            .entities
            .iter()
            .find(|e| e.name == "Karabakh")
            .unwrap();
        assert_eq!(karabakh.articles, ["a", "b"]);
        assert!(!story.headline.is_empty());
        assert!(story.notes[0].starts_with("extractive"));
    }

    #[test]
    fn flagged_english_stays_out_of_key_facts_and_the_headline() {
        let paragraphs: Vec<String> = (0..8)
            .map(|i| format!("Azerbaijan and Armenia talked about Karabakh in round {i}."))
            .collect();
        let mut a = article(
            "a",
            &paragraphs.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        a.english[0] =
            "Local anti-Taliban operations in Karabakh, Azerbaijan and Armenia talked.".into();
        a.paragraph_flags[0] = vec![crate::fidelity::check_names(
            "عمليات مكافحة الإرهاب",
            "the Taliban",
            &crate::fidelity::glossary::Glossary::load("").unwrap(),
        )
        .remove(0)];
        let members = [&a];
        let composed = story(
            "story-1",
            &members,
            Some("a"),
            &HashMap::new(),
            &test_glossary(),
        );
        assert!(
            !composed.headline.contains("Taliban"),
            "{}",
            composed.headline
        );
        assert!(composed
            .key_facts
            .iter()
            .all(|fact| !fact.text.contains("Taliban")));
        a.title_en = Some("Azerbaijan and Armenia hold talks".into());
        let members = [&a];
        let composed = story(
            "story-1",
            &members,
            Some("a"),
            &HashMap::new(),
            &test_glossary(),
        );
        assert_eq!(composed.headline, "Azerbaijan and Armenia hold talks");
    }

    #[test]
    fn an_empty_story_is_still_a_story() {
        let story = story("story-1", &[], None, &HashMap::new(), &test_glossary());
        assert!(story.headline.is_empty() && story.key_facts.is_empty());
        assert_eq!(shorten("one two three", 7), "one…");
    }
}
