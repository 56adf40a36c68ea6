//! Grouping the night's articles into stories.
//!
//! Two articles are about the same story when their English text is close (TF-IDF cosine over
//! content words of the title and translation) and they name the same people, places
//! and organisations (Jaccard over entity keys, so "Aliyev" and "Aliev" agree). The score is
//! `0.6 × cosine + 0.4 × Jaccard` when both articles name entities, else the cosine alone.
//! Pairs at or above `brief.story_threshold` are linked and stories are the connected groups
//! (single-link): a story can grow through a chain of close articles, which is what a night's
//! coverage of one event looks like. Order is deterministic: largest story first, then input
//! order.

use std::collections::{HashMap, HashSet};

use crate::brief::extractive::cosine;
use crate::brief::text;

const COSINE_WEIGHT: f64 = 0.6;
const ENTITY_WEIGHT: f64 = 0.4;

/// What grouping looks at for one article.
pub struct Profile {
    pub words: Vec<String>,
    pub entities: HashSet<String>,
}

impl Profile {
    /// A profile from an article's English text (title, summary, translation...).
    pub fn new(text: &str) -> Profile {
        Profile {
            words: text::content_words(text),
            entities: text::entity_phrases(text)
                .iter()
                .flat_map(|phrase| phrase.split_whitespace().map(text::entity_key))
                .filter(|key| key.chars().count() >= 3)
                .collect(),
        }
    }
}

/// Pairwise similarity of the profiles, 0..1 (1 on the diagonal).
pub fn similarities(profiles: &[Profile]) -> Vec<Vec<f64>> {
    let vectors = tf_idf(profiles);
    let count = profiles.len();
    let mut matrix = vec![vec![0.0; count]; count];
    for i in 0..count {
        matrix[i][i] = 1.0;
        for j in (i + 1)..count {
            let words = cosine(&vectors[i], &vectors[j]);
            let (first, second) = (&profiles[i].entities, &profiles[j].entities);
            let score = if first.is_empty() || second.is_empty() {
                words
            } else {
                COSINE_WEIGHT * words + ENTITY_WEIGHT * crate::brief::wire::jaccard(first, second)
            };
            matrix[i][j] = score;
            matrix[j][i] = score;
        }
    }
    matrix
}

fn tf_idf(profiles: &[Profile]) -> Vec<HashMap<String, f64>> {
    let mut document_frequency: HashMap<&str, f64> = HashMap::new();
    for profile in profiles {
        let unique: HashSet<&str> = profile.words.iter().map(String::as_str).collect();
        for word in unique {
            *document_frequency.entry(word).or_insert(0.0) += 1.0;
        }
    }
    let documents = profiles.len() as f64;
    profiles
        .iter()
        .map(|profile| {
            let mut vector: HashMap<String, f64> = HashMap::new();
            for word in &profile.words {
                *vector.entry(word.clone()).or_insert(0.0) += 1.0;
            }
            for (word, weight) in vector.iter_mut() {
                let frequency = document_frequency
                    .get(word.as_str())
                    .copied()
                    .unwrap_or(1.0);
                *weight =
                    (1.0 + weight.ln()) * (((1.0 + documents) / (1.0 + frequency)).ln() + 1.0);
            }
            vector
        })
        .collect()
}

/// Stories as lists of article indices: single-link groups of pairs whose similarity reaches
/// `threshold`. Largest first; ties in input order; members in input order.
pub fn stories(matrix: &[Vec<f64>], threshold: f64) -> Vec<Vec<usize>> {
    let count = matrix.len();
    let mut parent: Vec<usize> = (0..count).collect();
    for i in 0..count {
        for j in (i + 1)..count {
            let score = matrix
                .get(i)
                .and_then(|row| row.get(j))
                .copied()
                .unwrap_or(0.0);
            if score >= threshold {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for index in 0..count {
        let top = root(&mut parent, index);
        let position = *slot.entry(top).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[position].push(index);
    }
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    groups
}

fn root(parent: &mut [usize], mut node: usize) -> usize {
    while parent[node] != node {
        parent[node] = parent[parent[node]];
        node = parent[node];
    }
    node
}

/// The member most similar to the rest of its story (ties: the first).
pub fn most_central(matrix: &[Vec<f64>], members: &[usize]) -> Option<usize> {
    let centrality = |i: usize| -> f64 {
        members
            .iter()
            .filter(|&&j| j != i)
            .map(|&j| {
                matrix
                    .get(i)
                    .and_then(|row| row.get(j))
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum()
    };
    members
        .iter()
        .copied()
        .fold(None, |best: Option<(usize, f64)>, i| {
            let score = centrality(i);
            match best {
                Some((_, top)) if top >= score => best,
                _ => Some((i, score)),
            }
        })
        .map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(texts: &[&str]) -> Vec<Profile> {
        texts.iter().map(|text| Profile::new(text)).collect()
    }

    #[test]
    fn same_story_groups_and_unrelated_stories_split() {
        let texts = [
            "Azerbaijan launched a military offensive in Nagorno-Karabakh; Ilham Aliyev said the operation would stop if Armenian forces disarm.",
            "Aliev: the counter-terrorism operation in Karabakh continues; Armenian forces must surrender weapons, Azerbaijan says.",
            "Real Madrid beat Barcelona 3-1 in the Spanish league football match at the Bernabeu stadium.",
            "Heavy rain and strong winds are expected in Cairo tomorrow, the weather authority said, with temperatures falling.",
            "Barcelona lost the football match to Real Madrid; the league leaders scored three goals.",
        ];
        let matrix = similarities(&profiles(&texts));
        let groups = stories(&matrix, 0.3);
        assert_eq!(groups, vec![vec![0, 1], vec![2, 4], vec![3]]);
        assert_eq!(most_central(&matrix, &[0, 1]), Some(0));
        assert!(stories(&[], 0.3).is_empty());
    }

    #[test]
    fn a_threshold_above_one_keeps_every_article_apart_and_zero_joins_all() {
        let matrix = similarities(&profiles(&["a b c", "d e f", "g h i"]));
        assert_eq!(stories(&matrix, 1.01).len(), 3);
        assert_eq!(stories(&matrix, 0.0).len(), 1);
    }
}
