// Over 600 lines only with its tests: the code is 500 lines.
//! How close two articles are, for grouping them into stories (`linkage` does the grouping).
//!
//! Closeness is read from the Arabic, not the English, so a bad translation cannot split a
//! story or join two: each article is a TF-IDF vector over the lightly stemmed content words of
//! its Arabic title (counted twice) and lead (the first [`LEAD_WORDS`] words), its numbers, and
//! the glossary's names found there (counted twice, so two articles naming the same minister or
//! town meet even when their wording differs). The title and lead say which event an article
//! reports; the rest of a long article is background that other stories share.
//!
//! Pairs that share no indexed word score 0, so only pairs meeting in an inverted index are
//! scored and the result is a sparse neighbour list, not an n×n matrix: a posting list keeps
//! the first [`POSTINGS`] articles of a word and each article scores at most [`COMPARISONS`]
//! earlier ones, best partial score first. Order never depends on hash order.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::english::text;
use crate::fidelity::glossary::Glossary;

/// How many words of the article's first paragraphs (after the title) are compared.
pub const LEAD_WORDS: usize = 300;
/// IDF is computed as if the run had at least this many articles, the others using none of
/// its words: in a run of five articles on one event, the event's words are in every article
/// and a plain IDF would weigh them least, while on a night of thousands they are rare and
/// weigh most. With the floor, a small run weighs its words as a night would.
pub const MIN_DOCUMENTS: usize = 1000;
/// The most articles one word's posting list holds (the first, in input order).
pub const POSTINGS: usize = 64;
/// The most earlier articles one article is scored against.
pub const COMPARISONS: usize = 64;

/// Function words and the verbs of attribution every news article uses; compared as stems.
#[rustfmt::skip]
const ARABIC_STOPWORDS: &[&str] = &[
    "في", "من", "على", "إلى", "الى", "عن", "أن", "ان", "إن", "التي", "الذي", "الذين", "مع",
    "هذا", "هذه", "ذلك", "تلك", "كان", "كانت", "يكون", "قال", "قالت", "وقال", "أكد", "وأكد",
    "أضاف", "وأضاف", "أوضح", "وأوضح", "أشار", "وأشار", "ذكر", "وذكر", "أعلن", "وأعلن", "بين",
    "بعد", "قبل", "حيث", "كما", "أو", "لا", "ما", "لم", "لن", "قد", "وقد", "تم", "عام", "خلال",
    "اليوم", "أمس", "يوم", "أي", "كل", "غير", "عند", "منذ", "حتى", "ثم", "إذا", "ضمن", "نحو",
    "لدى", "عبر", "وفق", "وفقا", "أنه", "أنها", "إنه", "هو", "هي", "هم", "وهو", "وهي", "التى",
    "الذى", "إلا", "الا", "أيضا", "ايضا", "بشكل", "حول", "وذلك", "فيما", "لها", "له", "بها",
    "به", "فيه", "فيها", "عليه", "عليها", "منها", "منه", "الجاري", "الماضي", "المقبل", "الأول",
    "الثاني", "مصدر", "مصادر", "بحسب", "حسب", "وكالة", "الأنباء", "صحيفة", "أجل", "إطار",
    "جانب", "عدد", "عدة", "مدينة",
];

static STOP_STEMS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    ARABIC_STOPWORDS
        .iter()
        .map(|w| text::arabic_stem(w))
        .collect()
});

/// What grouping looks at for one article: its terms (words and names, repeated by weight)
/// and its publication day, when known.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub words: Vec<String>,
    pub day: Option<i64>,
}

impl Profile {
    /// A profile from any text: its content words (English or Arabic), no date.
    pub fn new(text: &str) -> Profile {
        Profile {
            words: content_words(text),
            day: None,
        }
    }

    /// A profile from an article's Arabic: the title's words twice, the lead's once, each
    /// glossary name found in them twice, and the day it was published.
    pub fn from_arabic(
        title: Option<&str>,
        paragraphs: &[String],
        glossary: &Glossary,
        published: Option<&str>,
    ) -> Profile {
        Profile::from_arabic_lead(title, paragraphs, glossary, published, LEAD_WORDS)
    }

    /// [`Profile::from_arabic`] with a lead of `lead_words` words (for measuring the choice).
    pub fn from_arabic_lead(
        title: Option<&str>,
        paragraphs: &[String],
        glossary: &Glossary,
        published: Option<&str>,
        lead_words: usize,
    ) -> Profile {
        let title = title.unwrap_or("");
        let mut lead: Vec<&str> = Vec::new();
        for paragraph in paragraphs {
            lead.extend(paragraph.split_whitespace());
            if lead.len() >= lead_words {
                break;
            }
        }
        lead.truncate(lead_words);
        let lead = lead.join(" ");
        let title_words = content_words(title);
        let mut words = title_words.clone();
        words.extend(title_words);
        words.extend(content_words(&lead));
        for found in glossary.in_arabic(&format!("{title}\n{lead}")) {
            let name = format!("={}", glossary.entry(found.term).en);
            words.push(name.clone());
            words.push(name);
        }
        Profile {
            words,
            day: published.and_then(day_number),
        }
    }
}

/// Content words for grouping: `english::text::content_words` without Arabic stop words, and
/// the numbers of two digits or more (Arabic-Indic digits read as Western ones): two reports of
/// one event share its numbers (431 arrested, 25 judges), two reports made from one template
/// (each region's monthly figures) do not.
fn content_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text::content_words(text)
        .into_iter()
        .filter(|word| !word.chars().any(|c| c.is_numeric()))
        .filter(|word| !STOP_STEMS.contains(word))
        .collect();
    let digits: String = text
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(digit) if !c.is_ascii_digit() => char::from(b'0' + digit as u8),
            _ if c.is_ascii_digit() => c,
            _ => ' ',
        })
        .collect();
    words.extend(
        digits
            .split_whitespace()
            .filter(|number| number.len() >= 2)
            .map(|number| format!("#{}", number.trim_start_matches('0'))),
    );
    words
}

/// Days since 1970-01-01 of a date written `YYYY-MM-DD...` (ISO 8601 or RFC 3339).
pub fn day_number(published: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(published.trim().get(..10)?, "%Y-%m-%d").ok()?;
    Some(
        date.signed_duration_since(chrono::NaiveDate::default())
            .num_days(),
    )
}

/// Another article's similarity to this one (0..1, above 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub index: u32,
    pub similarity: f32,
}

/// One article as numbers: TF-IDF weights by term (sorted by id) and their norm. Weights are
/// kept as `f32` (a night holds some twenty million of them); sums and products are `f64`.
/// Only terms some other article shares are kept; the norm is over all of them.
struct Vector {
    weights: Vec<(u32, f32)>,
    norm: f64,
}

/// The run's terms, numbered, so that what grouping keeps of each article is numbers.
#[derive(Debug, Default)]
pub struct Vocabulary {
    ids: HashMap<Box<str>, u32>,
}

/// What grouping keeps of one article: its terms as (term, count), in order of first use in
/// the article, and its publication day.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    counts: Vec<(u32, u32)>,
    day: Option<i64>,
}

impl Vocabulary {
    /// A profile's words counted under this vocabulary's numbers.
    pub fn terms(&mut self, profile: &Profile) -> Terms {
        let mut counts: Vec<(u32, u32)> = Vec::new();
        let mut slot: HashMap<u32, usize> = HashMap::new();
        for word in &profile.words {
            let next = self.ids.len() as u32;
            let id = match self.ids.get(word.as_str()) {
                Some(&id) => id,
                None => {
                    self.ids.insert(word.as_str().into(), next);
                    next
                }
            };
            match slot.get(&id) {
                Some(&at) => counts[at].1 += 1,
                None => {
                    slot.insert(id, counts.len());
                    counts.push((id, 1));
                }
            }
        }
        counts.shrink_to_fit();
        Terms {
            counts,
            day: profile.day,
        }
    }
}

/// What grouping needs of the articles, computed once: each one's TF-IDF vector scaled to
/// length 1 (as (term, weight) sorted by term), its neighbours, and its day.
pub struct Scored {
    /// Every article's neighbours (the articles it has a score above 0 with), sorted by
    /// index; an article is not its own neighbour.
    pub neighbours: Vec<Vec<Neighbour>>,
    /// Taken by [`linkage::stories`](crate::brief::linkage::stories) as its clusters' sums.
    pub(crate) unit_vectors: Vec<Vec<(u32, f32)>>,
    pub(crate) days: Vec<Option<i64>>,
}

/// The articles' vectors and neighbours.
pub fn score(profiles: &[Profile]) -> Scored {
    let mut vocabulary = Vocabulary::default();
    let terms: Vec<Terms> = profiles.iter().map(|p| vocabulary.terms(p)).collect();
    score_terms(terms)
}

/// [`score`] over articles already counted (see [`Vocabulary::terms`]); each article's terms
/// are dropped as soon as its vector is made.
pub fn score_terms(terms: Vec<Terms>) -> Scored {
    let days = terms.iter().map(|terms| terms.day).collect();
    let vectors = vectors(terms);
    let neighbours = neighbours(&vectors);
    let unit_vectors = vectors
        .into_iter()
        .map(|vector| {
            let norm = if vector.norm > 0.0 { vector.norm } else { 1.0 };
            vector
                .weights
                .into_iter()
                .map(|(t, w)| (t, (f64::from(w) / norm) as f32))
                .collect()
        })
        .collect();
    Scored {
        neighbours,
        unit_vectors,
        days,
    }
}

/// Every article's neighbours: the articles meeting it in the inverted index, scored.
fn neighbours(vectors: &[Vector]) -> Vec<Vec<Neighbour>> {
    // The pairs first, in one array, so that each list is made at its size: lists grown a
    // push at a time held up to twice their size, and a night has millions of entries.
    let mut pairs: Vec<(u32, u32, f32)> = Vec::new();
    let mut degree = vec![0u32; vectors.len()];
    let mut index = Index::new(vectors);
    for (article, vector) in vectors.iter().enumerate() {
        for other in index.candidates(article, vector) {
            let similarity = cosine(vector, &vectors[other]) as f32;
            if similarity > 0.0 {
                pairs.push((article as u32, other as u32, similarity));
                degree[article] += 1;
                degree[other] += 1;
            }
        }
    }
    drop(index);
    let mut neighbours: Vec<Vec<Neighbour>> = (degree.iter())
        .map(|&count| Vec::with_capacity(count as usize))
        .collect();
    for (article, other, similarity) in pairs {
        let (article, other) = (article as usize, other as usize);
        neighbours[article].push(Neighbour {
            index: other as u32,
            similarity,
        });
        neighbours[other].push(Neighbour {
            index: article as u32,
            similarity,
        });
    }
    for list in &mut neighbours {
        list.sort_unstable_by_key(|neighbour| neighbour.index);
    }
    neighbours
}

fn cosine(first: &Vector, second: &Vector) -> f64 {
    let denominator = first.norm * second.norm;
    if denominator <= 0.0 {
        return 0.0;
    }
    dot(&first.weights, &second.weights) / denominator
}

/// TF-IDF vectors: weight `(1 + ln tf) × (ln((1 + n) / (1 + df)) + 1)`. Terms are numbered
/// again in order of first use across the articles in their order, so nothing depends on the
/// order articles were counted in, nor on hash order.
fn vectors(terms: Vec<Terms>) -> Vec<Vector> {
    let top = terms
        .iter()
        .flat_map(|t| t.counts.iter().map(|&(id, _)| id as usize + 1))
        .max()
        .unwrap_or(0);
    let mut renumbered = vec![u32::MAX; top];
    let mut document_frequency: Vec<u32> = Vec::new();
    for &(id, _) in terms.iter().flat_map(|t| &t.counts) {
        let slot = &mut renumbered[id as usize];
        if *slot == u32::MAX {
            *slot = document_frequency.len() as u32;
            document_frequency.push(0);
        }
        document_frequency[*slot as usize] += 1;
    }
    let documents = terms.len().max(MIN_DOCUMENTS) as f64;
    terms
        .into_iter()
        .map(|terms| {
            let mut weights: Vec<(u32, f32)> = terms
                .counts
                .iter()
                .map(|&(id, count)| {
                    let term = renumbered[id as usize];
                    let frequency = f64::from(document_frequency[term as usize]);
                    let idf = ((1.0 + documents) / (1.0 + frequency)).ln() + 1.0;
                    (term, ((1.0 + f64::from(count).ln()) * idf) as f32)
                })
                .collect();
            weights.sort_unstable_by_key(|&(term, _)| term);
            let norm = weights
                .iter()
                .map(|&(_, w)| f64::from(w) * f64::from(w))
                .sum::<f64>()
                .sqrt();
            // A term of one article only is in its norm but in no dot product: keeping it
            // would change no similarity, and such terms are a large share of a night's.
            weights.retain(|&(term, _)| document_frequency[term as usize] > 1);
            weights.shrink_to_fit();
            Vector { weights, norm }
        })
        .collect()
}

/// Inverted index: per word, the first [`POSTINGS`] articles that have it (in article order)
/// with their scaled weight, one flat array for the night. Probing an article reads only the
/// entries before it, which are what an index built as it went would have held.
struct Index {
    starts: Vec<usize>,
    entries: Vec<(u32, f32)>,
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
        let words = vectors
            .iter()
            .flat_map(|v| v.weights.iter().map(|w| w.0 as usize))
            .max()
            .map_or(0, |top| top + 1);
        let mut held = vec![0u32; words];
        for &(term, _) in vectors.iter().flat_map(|v| &v.weights) {
            let held = &mut held[term as usize];
            *held = (*held + 1).min(POSTINGS as u32);
        }
        let mut starts = Vec::with_capacity(words + 1);
        starts.push(0);
        for &count in &held {
            starts.push(starts[starts.len() - 1] + count as usize);
        }
        let mut entries = vec![(0, 0.0); starts[words]];
        held.fill(0);
        for (article, vector) in vectors.iter().enumerate() {
            let scale = if vector.norm > 0.0 { vector.norm } else { 1.0 };
            for &(term, weight) in &vector.weights {
                let (term, filled) = (term as usize, held[term as usize] as usize);
                if starts[term] + filled < starts[term + 1] {
                    entries[starts[term] + filled] =
                        (article as u32, (f64::from(weight) / scale) as f32);
                    held[term] += 1;
                }
            }
        }
        Index {
            starts,
            entries,
            tally: Tally {
                partial: vec![0.0; vectors.len()],
                probed_by: vec![usize::MAX; vectors.len()],
                found: Vec::new(),
            },
        }
    }

    /// Earlier articles sharing an indexed word with `vector`, best partial score first (ties:
    /// input order), at most [`COMPARISONS`].
    fn candidates(&mut self, article: usize, vector: &Vector) -> Vec<usize> {
        let tally = &mut self.tally;
        tally.found.clear();
        let scale = if vector.norm > 0.0 { vector.norm } else { 1.0 };
        for &(term, weight) in &vector.weights {
            let (start, end) = (self.starts[term as usize], self.starts[term as usize + 1]);
            let earlier = self.entries[start..end].iter();
            for &(other, other_weight) in
                earlier.take_while(|(other, _)| (*other as usize) < article)
            {
                let amount = f64::from(weight) * f64::from(other_weight) / scale;
                tally.credit(article, other as usize, amount);
            }
        }
        let (partial, mut found) = (&tally.partial, std::mem::take(&mut tally.found));
        let order = |a: &usize, b: &usize| partial[*b].total_cmp(&partial[*a]).then(a.cmp(b));
        if found.len() > COMPARISONS && COMPARISONS > 0 {
            found.select_nth_unstable_by(COMPARISONS - 1, order);
        }
        found.truncate(COMPARISONS);
        found.sort_unstable_by(order);
        found
    }
}

/// The dot product of two sparse vectors sorted by term.
pub(crate) fn dot(first: &[(u32, f32)], second: &[(u32, f32)]) -> f64 {
    let (mut i, mut j, mut total) = (0, 0, 0.0);
    while let (Some(&(a, x)), Some(&(b, y))) = (first.get(i), second.get(j)) {
        match a.cmp(&b) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                total += f64::from(x) * f64::from(y);
                i += 1;
                j += 1;
            }
        }
    }
    total
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
            .filter(|n| n.index as usize != i && set.contains(&(n.index as usize)))
            .map(|n| f64::from(n.similarity))
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
pub(crate) mod tests {
    use super::*;

    /// The dense matrix this module replaced: the reference for inputs below the caps.
    fn dense(profiles: &[Profile]) -> Vec<Vec<f64>> {
        let documents = profiles.len().max(MIN_DOCUMENTS) as f64;
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
                    .map(|j| crate::english::extractive::cosine(&vectors[i], &vectors[j]))
                    .collect()
            })
            .collect()
    }

    /// Short synthetic articles: `stories` groups of `size`, each sharing story words and a name,
    /// plus filler from a shared vocabulary and one word every article uses.
    pub(crate) fn synthetic(stories: usize, size: usize, filler: usize) -> Vec<Profile> {
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
                    .map(|_| format!("filler{}", alphabetic(next(1_000))))
                    .collect();
                let name = alphabetic(story);
                Profile::new(&format!(
                    "report on Place{name}x and Chief{name}x storyword{name}a storyword{name}b \
                     storyword{name}c storyword{name}d storyword{name}e {} overnight",
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
    fn dates_are_read_as_days() {
        assert_eq!(day_number("2015-07-21 02:51:32"), Some(16637));
        assert_eq!(day_number("July 21"), None);
    }

    #[test]
    fn sparse_scores_match_the_dense_matrix_below_the_caps() {
        let profiles = synthetic(8, 5, 8);
        let matrix = dense(&profiles);
        let neighbours = score(&profiles).neighbours;
        for (i, row) in matrix.iter().enumerate() {
            let listed: HashMap<usize, f64> = neighbours[i]
                .iter()
                .map(|n| (n.index as usize, f64::from(n.similarity)))
                .collect();
            for (j, &expected) in row.iter().enumerate().filter(|(j, _)| *j != i) {
                let found = listed.get(&j).copied().unwrap_or(0.0);
                // Weights and similarities are kept as f32.
                assert!(
                    (found - expected).abs() < 1e-6,
                    "{i} {j}: {found} {expected}"
                );
            }
        }
        let limits = crate::brief::linkage::Limits::new(0.15);
        let groups = crate::brief::linkage::stories(&score(&profiles), limits);
        assert_eq!(groups.len(), 8);
        assert!(groups.iter().all(|g| g.len() == 5));
    }
}
