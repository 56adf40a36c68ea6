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
//!
//! A pair that shares no content word and no entity scores 0, so only pairs meeting in an
//! inverted index (word or entity → articles) are scored, and the result is a sparse list of
//! neighbours per article rather than an n×n matrix. A night of thousands of articles on one
//! event would still make every pair meet, so the work is bounded: a posting list keeps the
//! first [`POSTINGS`] articles that use the term, and each article scores at most
//! [`COMPARISONS`] earlier ones, those with the largest partial cosine over the shared indexed
//! terms first. Single-link needs only one close earlier article to join a story, so stories
//! keep their shape; centrality is then summed over the pairs actually scored. When no term is
//! in more than [`POSTINGS`] articles and no article meets more than [`COMPARISONS`] earlier
//! ones, every pair with a score above 0 is scored, as with the full matrix.

use std::collections::{HashMap, HashSet};

use crate::english::text;

const COSINE_WEIGHT: f64 = 0.6;
const ENTITY_WEIGHT: f64 = 0.4;
/// The most articles one word's or entity's posting list holds (the first, in input order).
pub const POSTINGS: usize = 64;
/// The most earlier articles one article is scored against.
pub const COMPARISONS: usize = 64;

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

/// Another article's similarity to this one (0..1, above 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub index: usize,
    pub similarity: f64,
}

/// One article as numbers: TF-IDF weights by term, their norm, entity ids (all sorted by id).
struct Vector {
    weights: Vec<(usize, f64)>,
    norm: f64,
    entities: Vec<usize>,
}

/// Every article's neighbours (the articles it has a score above 0 with), sorted by index;
/// an article is not its own neighbour.
pub fn similarities(profiles: &[Profile]) -> Vec<Vec<Neighbour>> {
    let vectors = vectors(profiles);
    let mut neighbours: Vec<Vec<Neighbour>> = vec![Vec::new(); vectors.len()];
    let mut index = Index::new(&vectors);
    for (article, vector) in vectors.iter().enumerate() {
        for other in index.candidates(article, vector) {
            let similarity = score(vector, &vectors[other]);
            if similarity > 0.0 {
                neighbours[article].push(Neighbour {
                    index: other,
                    similarity,
                });
                neighbours[other].push(Neighbour {
                    index: article,
                    similarity,
                });
            }
        }
        index.add(article, vector);
    }
    for list in &mut neighbours {
        list.sort_unstable_by_key(|neighbour| neighbour.index);
    }
    neighbours
}

/// The pair score: `0.6 × cosine + 0.4 × entity Jaccard`, or the cosine alone when either
/// article names no entity.
fn score(first: &Vector, second: &Vector) -> f64 {
    let words = cosine(first, second);
    if first.entities.is_empty() || second.entities.is_empty() {
        return words;
    }
    let common = intersection(&first.entities, &second.entities);
    let union = first.entities.len() + second.entities.len() - common;
    let entities = if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    };
    COSINE_WEIGHT * words + ENTITY_WEIGHT * entities
}

fn cosine(first: &Vector, second: &Vector) -> f64 {
    let denominator = first.norm * second.norm;
    if denominator <= 0.0 {
        return 0.0;
    }
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while let (Some(&(a, x)), Some(&(b, y))) = (first.weights.get(i), second.weights.get(j)) {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += x * y;
                i += 1;
                j += 1;
            }
        }
    }
    dot / denominator
}

/// The size of the intersection of two sorted, duplicate-free lists.
fn intersection(first: &[usize], second: &[usize]) -> usize {
    let (mut i, mut j, mut common) = (0, 0, 0);
    while let (Some(a), Some(b)) = (first.get(i), second.get(j)) {
        match a.cmp(b) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common
}

/// TF-IDF vectors: weight `(1 + ln tf) × (ln((1 + n) / (1 + df)) + 1)`. Terms and entities
/// are numbered in order of first use (entities of one article in sorted order), so nothing
/// depends on hash order.
fn vectors(profiles: &[Profile]) -> Vec<Vector> {
    let mut terms: HashMap<&str, usize> = HashMap::new();
    let mut entity_ids: HashMap<&str, usize> = HashMap::new();
    let mut counts: Vec<Vec<(usize, f64)>> = Vec::with_capacity(profiles.len());
    let mut entities: Vec<Vec<usize>> = Vec::with_capacity(profiles.len());
    for profile in profiles {
        counts.push(term_counts(&profile.words, &mut terms));
        let mut keys: Vec<&str> = profile.entities.iter().map(String::as_str).collect();
        keys.sort_unstable();
        let mut ids: Vec<usize> = keys
            .into_iter()
            .map(|key| {
                let next = entity_ids.len();
                *entity_ids.entry(key).or_insert(next)
            })
            .collect();
        ids.sort_unstable();
        entities.push(ids);
    }
    let mut document_frequency = vec![0.0_f64; terms.len()];
    for &(term, _) in counts.iter().flatten() {
        document_frequency[term] += 1.0;
    }
    let documents = profiles.len() as f64;
    counts
        .into_iter()
        .zip(entities)
        .map(|(counts, entities)| {
            let weights: Vec<(usize, f64)> = counts
                .into_iter()
                .map(|(term, count)| {
                    let frequency = document_frequency.get(term).copied().unwrap_or(1.0);
                    let idf = ((1.0 + documents) / (1.0 + frequency)).ln() + 1.0;
                    (term, (1.0 + count.ln()) * idf)
                })
                .collect();
            let norm = weights.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
            Vector {
                weights,
                norm,
                entities,
            }
        })
        .collect()
}

/// Occurrences of each word, by term id (ids handed out in order of first use).
fn term_counts<'a>(words: &'a [String], terms: &mut HashMap<&'a str, usize>) -> Vec<(usize, f64)> {
    let mut ids: Vec<usize> = words
        .iter()
        .map(|word| {
            let next = terms.len();
            *terms.entry(word.as_str()).or_insert(next)
        })
        .collect();
    ids.sort_unstable();
    let mut counts: Vec<(usize, f64)> = Vec::new();
    for id in ids {
        match counts.last_mut() {
            Some((last, count)) if *last == id => *count += 1.0,
            _ => counts.push((id, 1.0)),
        }
    }
    counts
}

/// Inverted index over the articles seen so far: word → (article, weight), entity → article,
/// each list capped at [`POSTINGS`].
struct Index {
    words: Vec<Vec<(usize, f64)>>,
    entities: Vec<Vec<usize>>,
    tally: Tally,
}

/// Partial scores of the earlier articles met while probing one article.
struct Tally {
    partial: Vec<f64>,
    /// Which article each partial score belongs to (scores are reset lazily).
    probed_by: Vec<usize>,
    found: Vec<usize>,
}

impl Tally {
    fn credit(&mut self, article: usize, other: usize, amount: f64) {
        let (Some(partial), Some(probed_by)) =
            (self.partial.get_mut(other), self.probed_by.get_mut(other))
        else {
            return;
        };
        if *probed_by != article {
            *probed_by = article;
            *partial = 0.0;
            self.found.push(other);
        }
        *partial += amount;
    }
}

impl Index {
    fn new(vectors: &[Vector]) -> Index {
        let top = |ids: &mut dyn Iterator<Item = usize>| ids.max().map_or(0, |top| top + 1);
        let words = top(&mut vectors.iter().flat_map(|v| v.weights.iter().map(|w| w.0)));
        let entities = top(&mut vectors.iter().flat_map(|v| v.entities.iter().copied()));
        Index {
            words: vec![Vec::new(); words],
            entities: vec![Vec::new(); entities],
            tally: Tally {
                partial: vec![0.0; vectors.len()],
                probed_by: vec![usize::MAX; vectors.len()],
                found: Vec::new(),
            },
        }
    }

    /// Earlier articles sharing an indexed word or entity with `vector`, best partial score
    /// first (ties: input order), at most [`COMPARISONS`].
    fn candidates(&mut self, article: usize, vector: &Vector) -> Vec<usize> {
        let tally = &mut self.tally;
        tally.found.clear();
        let scale = if vector.norm > 0.0 { vector.norm } else { 1.0 };
        for &(term, weight) in &vector.weights {
            for &(other, other_weight) in self.words.get(term).into_iter().flatten() {
                let product = weight * other_weight / scale;
                tally.credit(article, other, product);
            }
        }
        let entities = vector.entities.len().max(1) as f64;
        for &entity in &vector.entities {
            for &other in self.entities.get(entity).into_iter().flatten() {
                tally.credit(article, other, ENTITY_WEIGHT / entities);
            }
        }
        let (partial, mut found) = (&tally.partial, std::mem::take(&mut tally.found));
        let order = |a: &usize, b: &usize| partial[*b].total_cmp(&partial[*a]).then(a.cmp(b));
        if found.len() > COMPARISONS && COMPARISONS > 0 {
            found.select_nth_unstable_by(COMPARISONS - 1, order);
            found.truncate(COMPARISONS);
        }
        found.truncate(COMPARISONS);
        found.sort_unstable_by(order);
        found
    }

    fn add(&mut self, article: usize, vector: &Vector) {
        let scale = if vector.norm > 0.0 { vector.norm } else { 1.0 };
        for &(term, weight) in &vector.weights {
            if let Some(list) = self.words.get_mut(term).filter(|l| l.len() < POSTINGS) {
                list.push((article, weight / scale));
            }
        }
        for &entity in &vector.entities {
            if let Some(list) = self.entities.get_mut(entity).filter(|l| l.len() < POSTINGS) {
                list.push(article);
            }
        }
    }
}

/// Stories as lists of article indices: single-link groups of pairs whose similarity reaches
/// `threshold`. Largest first; ties in input order; members in input order. A threshold of 0
/// or less links every pair (unlisted pairs score 0).
pub fn stories(neighbours: &[Vec<Neighbour>], threshold: f64) -> Vec<Vec<usize>> {
    let count = neighbours.len();
    let mut parent: Vec<usize> = (0..count).collect();
    if threshold <= 0.0 {
        for index in 1..count {
            join(&mut parent, 0, index);
        }
    }
    for (index, list) in neighbours.iter().enumerate() {
        for neighbour in list {
            if neighbour.index < count && neighbour.similarity >= threshold {
                join(&mut parent, index, neighbour.index);
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

fn join(parent: &mut [usize], first: usize, second: usize) {
    let (a, b) = (root(parent, first), root(parent, second));
    parent[a.max(b)] = a.min(b);
}

fn root(parent: &mut [usize], mut node: usize) -> usize {
    while parent[node] != node {
        parent[node] = parent[parent[node]];
        node = parent[node];
    }
    node
}

/// The member most similar to the rest of its story (ties: the first): the sum of its listed
/// similarities to the other members.
pub fn most_central(neighbours: &[Vec<Neighbour>], members: &[usize]) -> Option<usize> {
    most_central_of(neighbours, members, members)
}

/// Among `candidates`, the one closest to all of `members` (ties: the earliest).
pub fn most_central_of(
    neighbours: &[Vec<Neighbour>],
    members: &[usize],
    candidates: &[usize],
) -> Option<usize> {
    let set: HashSet<usize> = members.iter().copied().collect();
    let centrality = |i: usize| -> f64 {
        neighbours
            .get(i)
            .into_iter()
            .flatten()
            .filter(|n| n.index != i && set.contains(&n.index))
            .map(|n| n.similarity)
            .sum()
    };
    candidates
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

    /// The dense matrix this module replaced: the reference for inputs below the caps.
    fn dense(profiles: &[Profile]) -> Vec<Vec<f64>> {
        let documents = profiles.len() as f64;
        let bags: Vec<HashMap<String, f64>> = profiles
            .iter()
            .map(|p| crate::english::extractive::bag(&p.words.join(" ")))
            .collect();
        let mut frequency: HashMap<&str, f64> = HashMap::new();
        for bag in &bags {
            for word in bag.keys() {
                *frequency.entry(word).or_insert(0.0) += 1.0;
            }
        }
        let vectors: Vec<HashMap<String, f64>> = bags
            .iter()
            .map(|bag| {
                bag.iter()
                    .map(|(word, count)| {
                        let idf = ((1.0 + documents) / (1.0 + frequency[word.as_str()])).ln() + 1.0;
                        (word.clone(), (1.0 + count.ln()) * idf)
                    })
                    .collect()
            })
            .collect();
        (0..profiles.len())
            .map(|i| {
                (0..profiles.len())
                    .map(|j| {
                        let words = crate::english::extractive::cosine(&vectors[i], &vectors[j]);
                        let (a, b) = (&profiles[i].entities, &profiles[j].entities);
                        if a.is_empty() || b.is_empty() {
                            words
                        } else {
                            COSINE_WEIGHT * words
                                + ENTITY_WEIGHT * crate::brief::wire::jaccard(a, b)
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Short synthetic articles: `stories` groups of `size`, each sharing story words and a name,
    /// plus filler from a shared vocabulary and one word every article uses.
    fn synthetic(stories: usize, size: usize, filler: usize) -> Vec<Profile> {
        let mut state = 0x2545_F491_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        (0..stories * size)
            .map(|i| {
                let story = i / size;
                let words: Vec<String> = (0..filler)
                    .map(|_| format!("filler{}", next(1_000)))
                    .collect();
                Profile::new(&format!(
                    "report on Place{}x and Chief{}x storyword{story}a storyword{story}b storyword{story}c \
                     storyword{story}d storyword{story}e {} overnight",
                    alphabetic(story),
                    alphabetic(story),
                    words.join(" ")
                ))
            })
            .collect()
    }

    /// A number as letters, so it can be part of an entity name.
    fn alphabetic(mut number: usize) -> String {
        let mut name = String::new();
        loop {
            name.push(char::from(b'a' + (number % 26) as u8));
            number /= 26;
            if number == 0 {
                return name;
            }
        }
    }

    #[test]
    fn sparse_scores_match_the_dense_matrix_below_the_caps() {
        let profiles = synthetic(8, 5, 8);
        let matrix = dense(&profiles);
        let neighbours = similarities(&profiles);
        for (i, row) in matrix.iter().enumerate() {
            let listed: HashMap<usize, f64> = neighbours[i]
                .iter()
                .map(|n| (n.index, n.similarity))
                .collect();
            for (j, &expected) in row.iter().enumerate().filter(|(j, _)| *j != i) {
                let found = listed.get(&j).copied().unwrap_or(0.0);
                assert!(
                    (found - expected).abs() < 1e-12,
                    "{i} {j}: {found} {expected}"
                );
            }
        }
        let groups = stories(&neighbours, 0.15);
        assert_eq!(groups.len(), 8);
        assert!(groups.iter().all(|g| g.len() == 5));
    }

    #[test]
    fn thousands_of_articles_group_into_their_stories() {
        let (count, size) = (20, 100);
        let profiles = synthetic(count, size, 20);
        let neighbours = similarities(&profiles);
        let groups = stories(&neighbours, 0.15);
        let expected: Vec<Vec<usize>> = (0..count)
            .map(|story| (story * size..(story + 1) * size).collect())
            .collect();
        assert_eq!(groups, expected);
        let listed: usize = neighbours.iter().map(Vec::len).sum();
        assert!(listed <= 2 * COMPARISONS * profiles.len());
        for members in &groups {
            let central = most_central(&neighbours, members);
            assert!(central.is_some_and(|c| members.contains(&c)));
        }
    }
}
