//! Wire copy: paragraphs that several outlets carry word for word (or nearly).
//!
//! Outlets reprint agency paragraphs, so five articles repeating a sentence are not five
//! confirmations. Paragraphs are compared on their normalized Arabic (no diacritics or tatweel,
//! one alef, one yeh, no punctuation): equal texts are exact copies; otherwise a Jaccard
//! similarity of character 5-shingles of at least [`NEAR_DUPLICATE`] makes a near-duplicate.
//! Only paragraphs in different articles are compared, and short lines are ignored. Copies are
//! grouped (union-find), reported once, and the brief counts a group as one source.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

/// Shingle Jaccard at or above which two paragraphs are the same wire copy.
pub const NEAR_DUPLICATE: f64 = 0.7;
/// Paragraphs shorter than this (normalized characters) are never wire copy.
const MIN_CHARACTERS: usize = 40;
const SHINGLE: usize = 5;

/// One paragraph of one article (paragraph numbers start at 1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ParagraphRef {
    pub article: String,
    pub paragraph: usize,
}

/// Paragraphs found in several articles.
#[derive(Debug, Clone, Serialize)]
pub struct WireGroup {
    /// `wire-1`, `wire-2`... in order of first appearance.
    pub id: String,
    pub paragraphs: Vec<ParagraphRef>,
    /// True when every copy is identical after normalization.
    pub exact: bool,
    /// The lowest pairwise similarity that joined the group (1.0 for exact copies).
    pub similarity: f64,
    /// The first copy's Arabic and English text.
    pub arabic: String,
    pub english: String,
}

/// One article's paragraphs as the detector sees them.
pub struct ArticleText<'a> {
    pub id: &'a str,
    pub arabic: &'a [String],
    pub english: &'a [String],
}

/// Arabic folded for comparison: no diacritics or tatweel, alef/yeh/teh marbuta unified,
/// punctuation dropped, spaces collapsed.
pub fn normalize_arabic(text: &str) -> String {
    let folded: String = text
        .chars()
        .filter(|c| !('\u{064B}'..='\u{065F}').contains(c) && *c != '\u{0670}' && *c != 'ـ')
        .map(|c| match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' => 'ي',
            'ة' => 'ه',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Character shingles of a normalized text.
pub fn shingles(text: &str) -> HashSet<String> {
    let characters: Vec<char> = text.chars().collect();
    if characters.len() < SHINGLE {
        return HashSet::from([text.to_string()]);
    }
    characters
        .windows(SHINGLE)
        .map(|window| window.iter().collect())
        .collect()
}

/// Jaccard similarity of two sets (0 when both are empty).
pub fn jaccard<T: Eq + std::hash::Hash>(first: &HashSet<T>, second: &HashSet<T>) -> f64 {
    let union = first.union(second).count();
    if union == 0 {
        return 0.0;
    }
    first.intersection(second).count() as f64 / union as f64
}

struct Candidate {
    reference: ParagraphRef,
    normalized: String,
    shingles: HashSet<String>,
    arabic: String,
    english: String,
}

/// Find the wire-copy groups among `articles`.
pub fn detect(articles: &[ArticleText<'_>]) -> Vec<WireGroup> {
    let candidates = candidates(articles);
    let mut parent: Vec<usize> = (0..candidates.len()).collect();
    let mut weakest: HashMap<(usize, usize), f64> = HashMap::new();
    for i in 0..candidates.len() {
        for j in (i + 1)..candidates.len() {
            let (first, second) = (&candidates[i], &candidates[j]);
            if first.reference.article == second.reference.article {
                continue;
            }
            let Some(similarity) = similarity(first, second) else {
                continue;
            };
            weakest.insert((i, j), similarity);
            union(&mut parent, i, j);
        }
    }
    group(&candidates, &mut parent, &weakest)
}

fn candidates(articles: &[ArticleText<'_>]) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    for article in articles {
        for (index, arabic) in article.arabic.iter().enumerate() {
            let normalized = normalize_arabic(arabic);
            if normalized.chars().count() < MIN_CHARACTERS {
                continue;
            }
            candidates.push(Candidate {
                reference: ParagraphRef {
                    article: article.id.to_string(),
                    paragraph: index + 1,
                },
                shingles: shingles(&normalized),
                normalized,
                arabic: arabic.clone(),
                english: article.english.get(index).cloned().unwrap_or_default(),
            });
        }
    }
    candidates
}

/// The similarity of two paragraphs when they are copies of each other.
fn similarity(first: &Candidate, second: &Candidate) -> Option<f64> {
    if first.normalized == second.normalized {
        return Some(1.0);
    }
    let (a, b) = (first.shingles.len() as f64, second.shingles.len() as f64);
    if a.min(b) / a.max(b) < NEAR_DUPLICATE {
        return None;
    }
    Some(jaccard(&first.shingles, &second.shingles)).filter(|s| *s >= NEAR_DUPLICATE)
}

fn find(parent: &mut [usize], mut node: usize) -> usize {
    while parent[node] != node {
        parent[node] = parent[parent[node]];
        node = parent[node];
    }
    node
}

fn union(parent: &mut [usize], first: usize, second: usize) {
    let (a, b) = (find(parent, first), find(parent, second));
    if a != b {
        parent[a.max(b)] = a.min(b);
    }
}

fn group(
    candidates: &[Candidate],
    parent: &mut [usize],
    weakest: &HashMap<(usize, usize), f64>,
) -> Vec<WireGroup> {
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..candidates.len() {
        let root = find(parent, index);
        members.entry(root).or_default().push(index);
    }
    let mut groups = Vec::new();
    for indices in members.values().filter(|indices| indices.len() > 1) {
        let similarity = weakest
            .iter()
            .filter(|((i, j), _)| indices.contains(i) && indices.contains(j))
            .map(|(_, s)| *s)
            .fold(1.0_f64, f64::min);
        let first = &candidates[indices[0]];
        let exact = indices
            .iter()
            .all(|&i| candidates[i].normalized == first.normalized);
        groups.push(WireGroup {
            id: format!("wire-{}", groups.len() + 1),
            paragraphs: indices
                .iter()
                .map(|&i| candidates[i].reference.clone())
                .collect(),
            exact,
            similarity,
            arabic: first.arabic.clone(),
            english: first.english.clone(),
        });
    }
    groups
}

/// Which wire group (if any) each paragraph belongs to.
pub fn index(groups: &[WireGroup]) -> HashMap<ParagraphRef, String> {
    groups
        .iter()
        .flat_map(|group| {
            group
                .paragraphs
                .iter()
                .map(|reference| (reference.clone(), group.id.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED: &str = "وكانت أذربيجان قد أعلنت صباح الثلاثاء بدء عمليات عسكرية في إقليم قره باغ.";

    #[test]
    fn exact_and_near_copies_are_grouped_once() {
        let first = vec![
            SHARED.to_string(),
            "فقرة خاصة بالمقال الأول عن موضوع آخر تماما هنا.".into(),
        ];
        let second = vec![
            "مقدمة مختلفة كليا لا علاقة لها بغيرها على الإطلاق في هذا النص.".into(),
            // Diacritics, a different alef and punctuation: still the same paragraph.
            "وكانت أَذربيجان قد اعلنت، صباح الثلاثاء، بدء عمليات عسكرية في إقليم قره باغ".into(),
        ];
        let third = vec![format!("{SHARED} وأضاف المصدر.")];
        let english = vec![String::new(); 2];
        let articles = [
            ArticleText {
                id: "a",
                arabic: &first,
                english: &english,
            },
            ArticleText {
                id: "b",
                arabic: &second,
                english: &english,
            },
            ArticleText {
                id: "c",
                arabic: &third,
                english: &english,
            },
        ];
        let groups = detect(&articles);
        assert_eq!(groups.len(), 1, "{groups:?}");
        let refs: Vec<(&str, usize)> = groups[0]
            .paragraphs
            .iter()
            .map(|r| (r.article.as_str(), r.paragraph))
            .collect();
        assert_eq!(refs, [("a", 1), ("b", 2), ("c", 1)]);
        assert!(!groups[0].exact);
        assert!(groups[0].similarity >= NEAR_DUPLICATE);
        assert_eq!(
            index(&groups).get(&ParagraphRef {
                article: "b".into(),
                paragraph: 2
            }),
            Some(&"wire-1".to_string())
        );
    }

    #[test]
    fn repeats_inside_one_article_and_short_lines_are_not_wire_copy() {
        let same = vec![SHARED.to_string(), SHARED.to_string()];
        let short = vec!["شارك".to_string()];
        let english: Vec<String> = Vec::new();
        let articles = [
            ArticleText {
                id: "a",
                arabic: &same,
                english: &english,
            },
            ArticleText {
                id: "b",
                arabic: &short,
                english: &english,
            },
            ArticleText {
                id: "c",
                arabic: &short,
                english: &english,
            },
        ];
        assert!(detect(&articles).is_empty());
        assert_eq!(normalize_arabic("إِلى  أحمد، ـمدرسة"), "الي احمد مدرسه");
    }
}
