// Over 600 lines only with its tests: the code is 548 lines; the tests check it against an all-pairs comparison.
//! Wire copy: paragraphs that several outlets carry word for word (or nearly).
//!
//! Outlets reprint agency paragraphs, so five articles repeating a sentence are not five
//! confirmations. Paragraphs are compared on their normalized Arabic (no diacritics or tatweel,
//! one alef, one yeh, no punctuation): equal texts are exact copies; otherwise a Jaccard
//! similarity of character 5-shingles of at least [`NEAR_DUPLICATE`] makes a near-duplicate.
//! Only paragraphs in different articles are compared, and short lines are ignored. Copies are
//! grouped (union-find), reported once, and the brief counts a group as one source.
//!
//! A night can hold thousands of articles that all carry the same agency paragraph, so nothing
//! here compares all pairs:
//! - exact copies are found by hashing the normalized text; each distinct text is then one node;
//! - near-duplicates among distinct texts come from prefix filtering: shingles are ordered
//!   rarest first, and two sets with a Jaccard of at least `t` must share one of the first
//!   `n - ⌊t·n⌋ + 1` shingles of each, so only texts meeting in that prefix's posting lists
//!   are candidates, and every candidate is verified with the exact Jaccard;
//! - to bound the work when a shingle is everywhere (the same paragraph in every article), a
//!   posting list keeps only the first [`POSTINGS`] texts that reach it, and each text verifies
//!   at most [`VERIFICATIONS`] candidates, those sharing most prefix shingles first. Joining any
//!   earlier copy is enough to join the group, so the groups stay right; only the reported
//!   weakest similarity is then taken over the pairs actually verified. Below those caps (any
//!   input where no prefix shingle is in more than [`POSTINGS`] texts) every pair at or above
//!   the threshold is found, exactly as an all-pairs comparison would.
//!
//! Everything is ordered by input position, never by hash order, so output is deterministic.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

/// Shingle Jaccard at or above which two paragraphs are the same wire copy.
pub const NEAR_DUPLICATE: f64 = 0.7;
/// Paragraphs shorter than this (normalized characters) are never wire copy.
const MIN_CHARACTERS: usize = 40;
const SHINGLE: usize = 5;
/// About how many shingles a night's sketches keep in all (4 bytes each); past it they are
/// sampled (see [`sampling_rate`]).
pub const SHINGLE_BUDGET: usize = 16_000_000;
/// The most texts a shingle's posting list holds (the first to reach it, in input order).
pub const POSTINGS: usize = 64;
/// The most candidates one text verifies with the exact Jaccard.
pub const VERIFICATIONS: usize = 128;

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

/// One paragraph as the detector keeps it from the moment its article is translated until the
/// brief is built: a hash of its normalized text and the hashes of its (sampled) shingles,
/// never the text itself, so that a night of 100,000 articles fits in memory.
#[derive(Debug, Clone)]
pub struct Sketch {
    /// The paragraph's number in its article (from 1).
    pub paragraph: u32,
    /// Hash of the normalized text: equal hashes are exact copies.
    text: u64,
    /// Hashes of the kept shingles, sorted, without repeats.
    shingles: Box<[u32]>,
}

/// The sketches of an article's paragraphs long enough to be wire copy. `rate` keeps the
/// shingles whose hash is a multiple of it (1 keeps every one; see [`sampling_rate`]).
pub fn sketch(arabic: &[String], rate: u32) -> Vec<Sketch> {
    let rate = rate.max(1);
    arabic
        .iter()
        .enumerate()
        .filter_map(|(index, paragraph)| {
            let normalized = normalize_arabic(paragraph);
            if normalized.chars().count() < MIN_CHARACTERS {
                return None;
            }
            let mut shingles: Vec<u32> = shingle_slices(&normalized)
                .map(|shingle| fold(hash(shingle.as_bytes())))
                .filter(|hash| hash % rate == 0)
                .collect();
            shingles.sort_unstable();
            shingles.dedup();
            Some(Sketch {
                paragraph: index as u32 + 1,
                text: hash(normalized.as_bytes()),
                shingles: shingles.into_boxed_slice(),
            })
        })
        .collect()
}

/// How sparsely shingles are kept for a night of `characters` of Arabic: 1 (every shingle, and
/// the near-duplicate test exact) until the night's shingles pass [`SHINGLE_BUDGET`], then one
/// in `rate`, so the sketches stay about that size. Sampling by hash keeps the same shingles of
/// every copy, so the Jaccard of two sampled sets estimates the Jaccard of the full ones; near
/// the threshold that estimate can fall either side, far from it (wire copy reprinted word for
/// word) it cannot.
pub fn sampling_rate(characters: usize) -> u32 {
    characters.div_ceil(SHINGLE_BUDGET).max(1) as u32
}

/// 64-bit FNV-1a with a final mix: fixed across runs and platforms (never a seeded hasher).
fn hash(bytes: &[u8]) -> u64 {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        state ^= u64::from(byte);
        state = state.wrapping_mul(0x0000_0100_0000_01b3);
    }
    state ^= state >> 33;
    state = state.wrapping_mul(0xff51_afd7_ed55_8ccd);
    state ^ (state >> 33)
}

fn fold(hash: u64) -> u32 {
    (hash ^ (hash >> 32)) as u32
}

/// One article's sketches as the detector sees them.
pub struct ArticleSketches<'a> {
    pub id: &'a str,
    pub paragraphs: &'a [Sketch],
}

/// One paragraph long enough to be wire copy.
struct Candidate<'a> {
    /// Number of the article it belongs to (articles with equal ids count as one).
    article: u32,
    paragraph: u32,
    sketch: &'a Sketch,
}

/// Which articles carry a distinct normalized text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Span {
    One(u32),
    Many,
}

impl Span {
    fn with(self, article: u32) -> Span {
        match self {
            Span::One(first) if first == article => self,
            _ => Span::Many,
        }
    }

    /// Two texts are compared only when some copy of one is in another article than some copy
    /// of the other.
    fn meets(self, other: Span) -> bool {
        !matches!((self, other), (Span::One(a), Span::One(b)) if a == b)
    }
}

/// One distinct normalized text (its copies are the candidates whose `text_of` is its index).
struct Text<'a> {
    shingles: &'a [u32],
    span: Span,
}

/// A near-duplicate link between two distinct texts.
struct Edge {
    first: u32,
    second: u32,
    similarity: f64,
}

/// Lists of numbers stored one after another (a night's worth of small `Vec`s would cost more
/// in headers and allocator slack than in numbers).
struct Lists {
    /// Where each list starts in `items`, plus the end of the last.
    starts: Vec<usize>,
    items: Vec<u32>,
}

impl Lists {
    fn get(&self, index: usize) -> &[u32] {
        &self.items[self.starts[index]..self.starts[index + 1]]
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn get_mut(&mut self, index: usize) -> &mut [u32] {
        &mut self.items[self.starts[index]..self.starts[index + 1]]
    }
}

/// Find the wire-copy groups among `articles`' sketches. The groups' `arabic` and `english`
/// are left empty: the caller, who holds the texts, fills them in (see [`detect_texts`]).
pub fn detect(articles: &[ArticleSketches<'_>]) -> Vec<WireGroup> {
    let (ids, candidates) = candidates(articles);
    let (texts, text_of) = distinct_texts(&candidates);
    let tokens = ranked_shingles(&texts);
    let edges = near_duplicates(&texts, &tokens);
    drop(tokens);
    group(&ids, &candidates, &texts, &text_of, &edges)
}

/// [`detect`] on texts in memory, every shingle kept, with each group's first copy's Arabic
/// and English filled in.
pub fn detect_texts(articles: &[ArticleText<'_>]) -> Vec<WireGroup> {
    let sketches: Vec<Vec<Sketch>> = articles.iter().map(|a| sketch(a.arabic, 1)).collect();
    let views: Vec<ArticleSketches<'_>> = articles
        .iter()
        .zip(&sketches)
        .map(|(article, paragraphs)| ArticleSketches {
            id: article.id,
            paragraphs,
        })
        .collect();
    let mut groups = detect(&views);
    let by_id: HashMap<&str, &ArticleText<'_>> = articles.iter().map(|a| (a.id, a)).collect();
    for group in &mut groups {
        let Some(first) = group.paragraphs.first() else {
            continue;
        };
        if let Some(article) = by_id.get(first.article.as_str()) {
            let at = first.paragraph - 1;
            group.arabic = article.arabic.get(at).cloned().unwrap_or_default();
            group.english = article.english.get(at).cloned().unwrap_or_default();
        }
    }
    groups
}

/// The articles' ids by number (equal ids share one) and their paragraphs as candidates.
fn candidates<'a>(articles: &[ArticleSketches<'a>]) -> (Vec<&'a str>, Vec<Candidate<'a>>) {
    let mut numbers: HashMap<&str, u32> = HashMap::new();
    let mut ids = Vec::new();
    let mut candidates = Vec::new();
    for article in articles {
        let number = *numbers.entry(article.id).or_insert_with(|| {
            ids.push(article.id);
            ids.len() as u32 - 1
        });
        for sketch in article.paragraphs {
            candidates.push(Candidate {
                article: number,
                paragraph: sketch.paragraph,
                sketch,
            });
        }
    }
    (ids, candidates)
}

/// Candidates folded into distinct normalized texts, in order of first appearance, and the
/// text each candidate carries.
fn distinct_texts<'a>(candidates: &[Candidate<'a>]) -> (Vec<Text<'a>>, Vec<u32>) {
    let mut texts: Vec<Text<'a>> = Vec::new();
    let mut text_of = Vec::with_capacity(candidates.len());
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for candidate in candidates {
        let next = texts.len() as u32;
        let text = *seen.entry(candidate.sketch.text).or_insert(next);
        if text == next {
            texts.push(Text {
                shingles: &candidate.sketch.shingles,
                span: Span::One(candidate.article),
            });
        } else {
            let span = &mut texts[text as usize].span;
            *span = span.with(candidate.article);
        }
        text_of.push(text);
    }
    (texts, text_of)
}

/// Each text's shared shingles (those in two texts or more) as token numbers sorted rarest
/// first (ties: first seen first), and each text's count of all its shingles. Under that one
/// global order a text's full list would start with its unshared shingles (each in one text,
/// the rarest there are), which can meet no other text, so they are only counted: the prefix
/// filter and the Jaccard need their number, not them. Flat arrays and a sorted table rather
/// than a hash map: at a night's scale the map's slack was the largest thing held.
fn ranked_shingles(texts: &[Text<'_>]) -> Ranked {
    let sizes: Vec<u32> = texts.iter().map(|t| t.shingles.len() as u32).collect();
    let mut sorted: Vec<u32> = texts.iter().flat_map(|t| t.shingles).copied().collect();
    sorted.sort_unstable();
    // The shared hashes, sorted, and in how many texts each is (a sketch's hashes are
    // distinct, so a hash's copies are in as many texts).
    let (mut shared, mut frequency) = (Vec::new(), Vec::new());
    for run in sorted.chunk_by(|a, b| a == b).filter(|run| run.len() > 1) {
        shared.push(run[0]);
        frequency.push(run.len() as u32);
    }
    drop(sorted);
    let mut starts = Vec::with_capacity(texts.len() + 1);
    starts.push(0);
    let mut items = Vec::new();
    for text in texts {
        let found = (text.shingles.iter()).filter_map(|hash| shared.binary_search(hash).ok());
        items.extend(found.map(|at| at as u32));
        starts.push(items.len());
    }
    drop(shared);
    // Number the shared hashes by first use, then rank them by (frequency, first use).
    let mut number = vec![u32::MAX; frequency.len()];
    let mut next = 0;
    for &item in &items {
        if number[item as usize] == u32::MAX {
            number[item as usize] = next;
            next += 1;
        }
    }
    let mut order: Vec<u32> = (0..frequency.len() as u32).collect();
    order.sort_unstable_by_key(|&at| (frequency[at as usize], number[at as usize]));
    // `number` becomes each hash's rank.
    let rank = &mut number;
    for (position, &at) in order.iter().enumerate() {
        rank[at as usize] = position as u32;
    }
    drop(order);
    for item in &mut items {
        *item = rank[*item as usize];
    }
    let mut lists = Lists { starts, items };
    for index in 0..lists.len() {
        lists.get_mut(index).sort_unstable();
    }
    Ranked { lists, sizes }
}

/// Each text's shared shingles by rank (see [`ranked_shingles`]) and its count of all.
struct Ranked {
    lists: Lists,
    sizes: Vec<u32>,
}

impl Ranked {
    fn len(&self) -> usize {
        self.sizes.len()
    }

    fn shared(&self, index: usize) -> &[u32] {
        self.lists.get(index)
    }

    fn size(&self, index: usize) -> usize {
        self.sizes[index] as usize
    }

    /// The shared part of the text's prefix: its first `prefix_length(size)` shingles in the
    /// global order, less the unshared ones, which come first.
    fn prefix(&self, index: usize) -> &[u32] {
        let shared = self.shared(index);
        let unshared = self.size(index) - shared.len();
        let length = prefix_length(self.size(index)).saturating_sub(unshared);
        &shared[..length.min(shared.len())]
    }
}

/// The shingles of a normalized text as slices of it (the whole text when it is shorter than a
/// shingle), the same set [`shingles`] returns.
fn shingle_slices(text: &str) -> impl Iterator<Item = &str> {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(at, _)| at)
        .chain([text.len()])
        .collect();
    let windows = bounds.len().saturating_sub(SHINGLE);
    let whole = (windows == 0).then_some(text);
    (0..windows)
        .filter_map(move |start| text.get(bounds[start]..bounds[start + SHINGLE]))
        .chain(whole)
}

/// How many of a set's (rarest-first) tokens must be indexed and probed so that any two sets
/// with a Jaccard of at least [`NEAR_DUPLICATE`] share one: `n - ⌊t·n⌋ + 1` (never less than
/// the exact `n - ⌈t·n⌉ + 1`, whatever the rounding).
fn prefix_length(size: usize) -> usize {
    let overlap = (NEAR_DUPLICATE * size as f64).floor() as usize;
    (size - overlap.min(size) + 1).min(size)
}

/// Near-duplicate links between distinct texts (see the module notes for the bounds).
fn near_duplicates(texts: &[Text<'_>], tokens: &Ranked) -> Vec<Edge> {
    let postings = postings(tokens);
    let mut shared = vec![0u32; texts.len()];
    let mut seen_by = vec![u32::MAX; texts.len()];
    let mut edges = Vec::new();
    for index in 0..tokens.len() {
        let mut found: Vec<usize> = Vec::new();
        for &token in tokens.prefix(index) {
            // A posting list is in text order; the texts before this one are the ones it
            // would have held when this text was reached.
            let earlier = postings.get(token as usize).iter();
            for &other in earlier.take_while(|&&other| (other as usize) < index) {
                if seen_by[other as usize] != index as u32 {
                    seen_by[other as usize] = index as u32;
                    shared[other as usize] = 0;
                    found.push(other as usize);
                }
                shared[other as usize] += 1;
            }
        }
        found.retain(|&other| {
            texts[other].span.meets(texts[index].span)
                && comparable(tokens.size(other), tokens.size(index))
        });
        let key = |&other: &usize| (std::cmp::Reverse(shared[other]), other);
        best_first(&mut found, VERIFICATIONS, key);
        for &other in &found {
            let first = (tokens.shared(other), tokens.size(other));
            let second = (tokens.shared(index), tokens.size(index));
            if let Some(similarity) = similarity(first, second) {
                edges.push(Edge {
                    first: other as u32,
                    second: index as u32,
                    similarity,
                });
            }
        }
    }
    edges
}

/// Per token, the first [`POSTINGS`] texts (in text order) that have it in their prefix.
fn postings(tokens: &Ranked) -> Lists {
    let token_count = (tokens.lists.items.iter())
        .max()
        .map_or(0, |&top| top as usize + 1);
    let mut held = vec![0u32; token_count];
    for index in 0..tokens.len() {
        for &token in tokens.prefix(index) {
            let held = &mut held[token as usize];
            *held = (*held + 1).min(POSTINGS as u32);
        }
    }
    let mut starts = Vec::with_capacity(token_count + 1);
    starts.push(0);
    for &count in &held {
        starts.push(starts[starts.len() - 1] + count as usize);
    }
    let mut lists = Lists {
        items: vec![0; starts[token_count]],
        starts,
    };
    held.fill(0);
    for index in 0..tokens.len() {
        for &token in tokens.prefix(index) {
            let token = token as usize;
            let filled = held[token] as usize;
            if lists.starts[token] + filled < lists.starts[token + 1] {
                lists.items[lists.starts[token] + filled] = index as u32;
                held[token] += 1;
            }
        }
    }
    lists
}

/// Keep the `limit` smallest items by `key`, sorted, without sorting the rest.
fn best_first<K: Ord>(items: &mut Vec<usize>, limit: usize, key: impl Fn(&usize) -> K) {
    if limit == 0 {
        items.clear();
        return;
    }
    if items.len() > limit {
        items.select_nth_unstable_by_key(limit - 1, &key);
        items.truncate(limit);
    }
    items.sort_unstable_by_key(key);
}

/// Whether two shingle sets are close enough in size to reach [`NEAR_DUPLICATE`].
fn comparable(first: usize, second: usize) -> bool {
    let (a, b) = (first as f64, second as f64);
    a.min(b) / a.max(b) >= NEAR_DUPLICATE
}

/// The shingle Jaccard of two distinct texts when it makes them near-duplicates: each as its
/// shared shingles (the only ones two texts can have in common) and its count of all.
fn similarity(first: (&[u32], usize), second: (&[u32], usize)) -> Option<f64> {
    let ((first, first_size), (second, second_size)) = (first, second);
    if !comparable(first_size, second_size) {
        return None;
    }
    // J ≥ t exactly when the overlap is at least t·(a + b) / (1 + t); one less, for rounding.
    let needed = NEAR_DUPLICATE * (first_size + second_size) as f64 / (1.0 + NEAR_DUPLICATE);
    let common = intersection_reaching(first, second, (needed.floor() as usize).saturating_sub(1))?;
    let union = first_size + second_size - common;
    if union == 0 {
        return None;
    }
    Some(common as f64 / union as f64).filter(|s| *s >= NEAR_DUPLICATE)
}

/// The size of the intersection of two sorted, duplicate-free lists, or `None` as soon as it
/// cannot reach `needed` any more (most candidates are rejected after a short scan).
fn intersection_reaching(first: &[u32], second: &[u32], needed: usize) -> Option<usize> {
    let (mut i, mut j, mut common) = (0, 0, 0);
    while let (Some(a), Some(b)) = (first.get(i), second.get(j)) {
        let left = (first.len() - i).min(second.len() - j);
        if common + left < needed {
            return None;
        }
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
    Some(common).filter(|&common| common >= needed)
}

/// The root of `node` in a union-find forest (with path halving).
pub(super) fn find(parent: &mut [usize], mut node: usize) -> usize {
    while parent[node] != node {
        parent[node] = parent[parent[node]];
        node = parent[node];
    }
    node
}

/// Join the sets of `first` and `second`; the lower root stays the root.
pub(super) fn union(parent: &mut [usize], first: usize, second: usize) {
    let (a, b) = (find(parent, first), find(parent, second));
    if a != b {
        parent[a.max(b)] = a.min(b);
    }
}

/// Groups of linked texts, in order of first appearance. A text is in a group when its copies
/// span several articles or a near-duplicate link reaches it; a group's weakest similarity is
/// the lowest of its own links (1.0 when it has none: exact copies only).
fn group(
    ids: &[&str],
    candidates: &[Candidate<'_>],
    texts: &[Text<'_>],
    text_of: &[u32],
    edges: &[Edge],
) -> Vec<WireGroup> {
    let mut parent: Vec<usize> = (0..texts.len()).collect();
    let mut linked: Vec<bool> = texts.iter().map(|t| t.span == Span::Many).collect();
    for edge in edges {
        let (first, second) = (edge.first as usize, edge.second as usize);
        union(&mut parent, first, second);
        linked[first] = true;
        linked[second] = true;
    }
    let mut weakest = vec![1.0_f64; texts.len()];
    for edge in edges {
        let root = find(&mut parent, edge.first as usize);
        weakest[root] = weakest[root].min(edge.similarity);
    }
    // Per component (by root): its distinct texts, and its paragraphs in candidate order.
    let mut components: BTreeMap<usize, (usize, Vec<usize>)> = BTreeMap::new();
    for (index, _) in linked.iter().enumerate().filter(|(_, &linked)| linked) {
        components.entry(find(&mut parent, index)).or_default().0 += 1;
    }
    for (candidate, &text) in text_of.iter().enumerate() {
        if linked[text as usize] {
            let root = find(&mut parent, text as usize);
            components.entry(root).or_default().1.push(candidate);
        }
    }
    let mut groups = Vec::new();
    for (root, (distinct, paragraphs)) in components {
        if paragraphs.is_empty() {
            continue;
        }
        groups.push(WireGroup {
            id: format!("wire-{}", groups.len() + 1),
            paragraphs: paragraphs
                .iter()
                .map(|&i| ParagraphRef {
                    article: ids[candidates[i].article as usize].to_string(),
                    paragraph: candidates[i].paragraph as usize,
                })
                .collect(),
            exact: distinct == 1,
            similarity: weakest[root],
            arabic: String::new(),
            english: String::new(),
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
        let groups = detect_texts(&articles);
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
        assert!(detect_texts(&articles).is_empty());
        assert_eq!(normalize_arabic("إِلى  أحمد، ـمدرسة"), "الي احمد مدرسه");
    }

    fn articles<'a>(ids: &'a [String], arabic: &'a [Vec<String>]) -> Vec<ArticleText<'a>> {
        ids.iter()
            .zip(arabic)
            .map(|(id, arabic)| ArticleText {
                id,
                arabic,
                english: &[],
            })
            .collect()
    }

    /// The all-pairs detector this module replaced: the reference for inputs below the caps.
    fn all_pairs(articles: &[ArticleText<'_>]) -> Vec<(Vec<ParagraphRef>, bool, f64)> {
        let mut paragraphs = Vec::new();
        for article in articles {
            for (index, arabic) in article.arabic.iter().enumerate() {
                let normalized = normalize_arabic(arabic);
                if normalized.chars().count() >= MIN_CHARACTERS {
                    let set = shingles(&normalized);
                    paragraphs.push((article.id, index + 1, normalized, set));
                }
            }
        }
        let mut parent: Vec<usize> = (0..paragraphs.len()).collect();
        let mut links = Vec::new();
        for i in 0..paragraphs.len() {
            for j in (i + 1)..paragraphs.len() {
                let (a, b) = (&paragraphs[i], &paragraphs[j]);
                if a.0 == b.0 {
                    continue;
                }
                let ratio = a.3.len().min(b.3.len()) as f64 / a.3.len().max(b.3.len()) as f64;
                let similarity = if a.2 == b.2 {
                    1.0
                } else if ratio < NEAR_DUPLICATE {
                    continue;
                } else {
                    jaccard(&a.3, &b.3)
                };
                if similarity >= NEAR_DUPLICATE {
                    links.push((i, j, similarity));
                    union(&mut parent, i, j);
                }
            }
        }
        let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for index in 0..paragraphs.len() {
            members
                .entry(find(&mut parent, index))
                .or_default()
                .push(index);
        }
        members
            .values()
            .filter(|indices| indices.len() > 1)
            .map(|indices| {
                let weakest = links
                    .iter()
                    .filter(|(i, _, _)| indices.contains(i))
                    .map(|(_, _, s)| *s)
                    .fold(1.0_f64, f64::min);
                let exact = indices
                    .iter()
                    .all(|&i| paragraphs[i].2 == paragraphs[indices[0]].2);
                let references = indices
                    .iter()
                    .map(|&i| ParagraphRef {
                        article: paragraphs[i].0.to_string(),
                        paragraph: paragraphs[i].1,
                    })
                    .collect();
                (references, exact, weakest)
            })
            .collect()
    }

    /// A fixed pseudo-random sequence (xorshift) for generated inputs.
    fn sequence(mut state: u64) -> impl FnMut(usize) -> usize {
        move |bound| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound.max(1) as u64) as usize
        }
    }

    #[test]
    fn agrees_with_all_pairs_on_generated_copies() {
        let words = [
            "الحكومة",
            "أعلنت",
            "اليوم",
            "عن",
            "خطة",
            "جديدة",
            "لدعم",
            "الاقتصاد",
            "الوطني",
            "وقال",
            "الوزير",
            "إن",
            "المفاوضات",
            "مستمرة",
            "مع",
            "الأطراف",
            "المعنية",
            "في",
            "العاصمة",
            "قره",
            "باغ",
            "الأمم",
            "المتحدة",
            "مجلس",
            "الأمن",
        ];
        let mut next = sequence(0x5EED);
        let templates: Vec<Vec<&str>> = (0..6)
            .map(|_| (0..14).map(|_| words[next(words.len())]).collect())
            .collect();
        let ids: Vec<String> = (0..40).map(|i| format!("a{i:02}")).collect();
        let arabic: Vec<Vec<String>> = (0..40)
            .map(|_| {
                (0..3)
                    .map(|_| {
                        let mut copy = templates[next(templates.len())].clone();
                        for _ in 0..next(4) {
                            let at = next(copy.len());
                            copy[at] = words[next(words.len())];
                        }
                        copy.join(" ")
                    })
                    .collect()
            })
            .collect();
        let texts = articles(&ids, &arabic);
        let found: Vec<(Vec<ParagraphRef>, bool, f64)> = detect_texts(&texts)
            .into_iter()
            .map(|group| (group.paragraphs, group.exact, group.similarity))
            .collect();
        let expected = all_pairs(&texts);
        assert!(expected.len() > 1 && expected.iter().any(|g| !g.1));
        assert_eq!(found, expected);
    }

    #[test]
    fn sampled_sketches_still_find_copies_reprinted_with_small_changes() {
        assert_eq!(sampling_rate(SHINGLE_BUDGET), 1);
        assert_eq!(sampling_rate(10 * SHINGLE_BUDGET), 10);
        let letters: Vec<char> = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي".chars().collect();
        let mut next = sequence(0xB0B);
        let ids: Vec<String> = (0..200).map(|i| format!("article-{i:03}")).collect();
        let arabic: Vec<Vec<String>> = (0..200)
            .map(|i| {
                // A paragraph of its own: 12 words of random letters.
                let own: Vec<String> = (0..12)
                    .map(|_| (0..5).map(|_| letters[next(letters.len())]).collect())
                    .collect();
                vec![
                    format!("{SHARED} وأضاف المصدر أن الاشتباكات تواصلت حتى المساء {i}"),
                    own.join(" "),
                ]
            })
            .collect();
        let full: Vec<Vec<Sketch>> = arabic.iter().map(|a| sketch(a, 1)).collect();
        let sampled: Vec<Vec<Sketch>> = arabic.iter().map(|a| sketch(a, 4)).collect();
        let kept = |sketches: &[Vec<Sketch>]| -> usize {
            sketches.iter().flatten().map(|s| s.shingles.len()).sum()
        };
        assert!(kept(&sampled) * 3 < kept(&full), "about a quarter is kept");
        let views: Vec<ArticleSketches<'_>> = ids
            .iter()
            .zip(&sampled)
            .map(|(id, paragraphs)| ArticleSketches { id, paragraphs })
            .collect();
        let groups = detect(&views);
        assert_eq!(groups.len(), 1, "only the reprinted paragraph is wire copy");
        assert_eq!(groups[0].paragraphs.len(), 200);
        assert!(groups[0].paragraphs.iter().all(|r| r.paragraph == 1));
    }

    #[test]
    fn thousands_of_near_identical_paragraphs_make_one_group_each() {
        let templates = [
            "وكانت أذربيجان قد أعلنت صباح الثلاثاء بدء عمليات عسكرية في إقليم قره باغ",
            "وقال المتحدث باسم الحكومة إن المفاوضات مع الأطراف المعنية ستستأنف الأسبوع المقبل",
            "ودعا مجلس الأمن الدولي جميع الأطراف إلى ضبط النفس والعودة إلى طاولة الحوار",
        ];
        let count = 1_000;
        let ids: Vec<String> = (0..count).map(|i| format!("article-{i:04}")).collect();
        let arabic: Vec<Vec<String>> = (0..count)
            .map(|i| {
                templates
                    .iter()
                    .map(|template| format!("{template} وأضاف المصدر {i}"))
                    .collect()
            })
            .collect();
        let groups = detect_texts(&articles(&ids, &arabic));
        assert_eq!(groups.len(), templates.len());
        for (number, group) in groups.iter().enumerate() {
            assert_eq!(group.paragraphs.len(), count);
            assert!(group.paragraphs.iter().all(|r| r.paragraph == number + 1));
            assert!(!group.exact && group.similarity >= NEAR_DUPLICATE);
            assert_eq!(group.id, format!("wire-{}", number + 1));
        }
    }
}
