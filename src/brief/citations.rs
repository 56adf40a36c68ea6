//! Checking the citations a model gives: every one must name an article of the run and a
//! paragraph that article has.
//!
//! Models invent references. A citation to an unknown article, or to a paragraph number past
//! the end of a real one, is removed and recorded as a [`DroppedCitation`] (where it was, what
//! it named, why it was dropped) so the brief can flag it; it is never rendered as a link.
//! Repeated citations of one article are merged and paragraph lists sorted, so the output is
//! the same whatever order the model wrote them in.

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use crate::summarize::check_paragraphs;

use serde::{Deserialize, Serialize};

/// A reference to paragraphs of one article (paragraph numbers start at 1; an empty list means
/// the article as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub article: String,
    #[serde(default)]
    pub paragraphs: Vec<usize>,
}

/// A citation that was removed because what it names does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedCitation {
    /// Where it was, e.g. `story-1 key_facts[2]`.
    pub location: String,
    pub article: String,
    pub paragraph: Option<usize>,
    pub reason: String,
}

/// The articles that exist and how many paragraphs each has.
#[derive(Debug, Default)]
pub struct Known {
    paragraphs: HashMap<String, usize>,
}

impl Known {
    pub fn new<'a>(articles: impl IntoIterator<Item = (&'a str, usize)>) -> Known {
        Known {
            paragraphs: articles
                .into_iter()
                .map(|(id, count)| (id.to_string(), count))
                .collect(),
        }
    }

    /// Keep the citations that resolve; record the others in `dropped`.
    pub fn check(
        &self,
        citations: &[Citation],
        location: &str,
        dropped: &mut Vec<DroppedCitation>,
    ) -> Vec<Citation> {
        let mut kept: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        for citation in citations {
            let article = citation.article.trim();
            let Some(&count) = self.paragraphs.get(article) else {
                dropped.push(DroppedCitation {
                    location: location.to_string(),
                    article: article.to_string(),
                    paragraph: citation.paragraphs.first().copied(),
                    reason: "no such article in this run".into(),
                });
                continue;
            };
            let valid = check_paragraphs(&citation.paragraphs, count, |paragraph| {
                dropped.push(DroppedCitation {
                    location: location.to_string(),
                    article: article.to_string(),
                    paragraph: Some(paragraph),
                    reason: format!("the article has {count} paragraphs"),
                });
            });
            if valid.is_empty() && !citation.paragraphs.is_empty() {
                continue;
            }
            if !kept.contains_key(article) {
                order.push(article);
            }
            kept.entry(article).or_default().extend(valid);
        }
        order
            .into_iter()
            .map(|article| Citation {
                article: article.to_string(),
                paragraphs: kept
                    .get(article)
                    .map(|set| set.iter().copied().collect())
                    .unwrap_or_default(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cite(article: &str, paragraphs: &[usize]) -> Citation {
        Citation {
            article: article.into(),
            paragraphs: paragraphs.to_vec(),
        }
    }

    #[test]
    fn invented_articles_and_paragraphs_are_dropped_and_recorded() {
        let known = Known::new([("a", 3), ("b", 5)]);
        let mut dropped = Vec::new();
        let kept = known.check(
            &[
                cite("a", &[2, 99, 1]),
                cite("ghost-123", &[1]),
                cite("b", &[0]),
                cite("a", &[2, 3]),
                cite("b", &[]),
            ],
            "story-1 key_facts[0]",
            &mut dropped,
        );
        assert_eq!(kept, vec![cite("a", &[1, 2, 3]), cite("b", &[])]);
        let reasons: Vec<(&str, Option<usize>)> = dropped
            .iter()
            .map(|d| (d.article.as_str(), d.paragraph))
            .collect();
        assert_eq!(
            reasons,
            [("a", Some(99)), ("ghost-123", Some(1)), ("b", Some(0))]
        );
        assert!(dropped.iter().all(|d| d.location == "story-1 key_facts[0]"));
    }

    #[test]
    fn paragraph_numbers_are_bounded() {
        let mut bad = Vec::new();
        assert_eq!(
            check_paragraphs(&[3, 1, 3, 4], 3, |p| bad.push(p)),
            vec![1, 3]
        );
        assert_eq!(bad, vec![4]);
        assert!(check_paragraphs(&[1], 0, |_| {}).is_empty());
    }
}
