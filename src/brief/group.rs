//! Grouping the night's articles into stories.
//!
//! Grouping reads what the articles say in Arabic, not the English, so a bad translation
//! cannot split a story or join two: each article is a TF-IDF vector over the lightly stemmed
//! content words of its Arabic title (counted twice) and lead (the first [`LEAD_WORDS`] words),
//! plus the glossary's names found there (each counted twice, so two articles naming the same
//! minister or town meet even when their wording differs). The title and lead are what says
//! which event an article reports; the rest of a long article is background that other stories
//! share. Stop words and the words of the night's most common stems weigh little (IDF).
//!
//! Stories are built by average linkage: the two stories whose articles are closest *on
//! average* are merged, again and again, while that average reaches `brief.story_threshold`.
//! Unlike single-link (one close pair joins two groups, so a night chains into one story
//! through "the ministry said"), a story of many articles only takes a new one that is close to
//! most of them. Two further bounds: a story never grows past `brief.max_story_articles`, and
//! its articles' dates span at most `brief.window_days`. The average of two stories is exact:
//! with unit vectors it is the dot product of the two stories' vector sums over the product of
//! their sizes, so it needs no n×n table. Which stories meet at all comes from a sparse
//! neighbour list: pairs that share no indexed word score 0, so only pairs meeting in an
//! inverted index are scored; a posting list keeps the first [`POSTINGS`] articles of a word
//! and each article scores at most [`COMPARISONS`] earlier ones, best partial score first.
//! Order is deterministic: largest story first, then input order.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
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
const ARABIC_STOPWORDS: &[&str] = &[
    "في",
    "من",
    "على",
    "إلى",
    "الى",
    "عن",
    "أن",
    "ان",
    "إن",
    "التي",
    "الذي",
    "الذين",
    "مع",
    "هذا",
    "هذه",
    "ذلك",
    "تلك",
    "كان",
    "كانت",
    "يكون",
    "قال",
    "قالت",
    "وقال",
    "أكد",
    "وأكد",
    "أضاف",
    "وأضاف",
    "أوضح",
    "وأوضح",
    "أشار",
    "وأشار",
    "ذكر",
    "وذكر",
    "أعلن",
    "وأعلن",
    "بين",
    "بعد",
    "قبل",
    "حيث",
    "كما",
    "أو",
    "لا",
    "ما",
    "لم",
    "لن",
    "قد",
    "وقد",
    "تم",
    "عام",
    "خلال",
    "اليوم",
    "أمس",
    "يوم",
    "أي",
    "كل",
    "غير",
    "عند",
    "منذ",
    "حتى",
    "ثم",
    "إذا",
    "ضمن",
    "نحو",
    "لدى",
    "عبر",
    "وفق",
    "وفقا",
    "أنه",
    "أنها",
    "إنه",
    "هو",
    "هي",
    "هم",
    "وهو",
    "وهي",
    "التى",
    "الذى",
    "إلا",
    "الا",
    "أيضا",
    "ايضا",
    "بشكل",
    "حول",
    "وذلك",
    "فيما",
    "لها",
    "له",
    "بها",
    "به",
    "فيه",
    "فيها",
    "عليه",
    "عليها",
    "منها",
    "منه",
    "الجاري",
    "الماضي",
    "المقبل",
    "الأول",
    "الثاني",
    "مصدر",
    "مصادر",
    "بحسب",
    "حسب",
    "وكالة",
    "الأنباء",
    "صحيفة",
    "أجل",
    "إطار",
    "جانب",
    "عدد",
    "عدة",
    "مدينة",
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

/// The bounds on a story (`brief.story_threshold`, `brief.max_story_articles`,
/// `brief.window_days`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// The average similarity two stories' articles must reach to be merged.
    pub threshold: f64,
    /// The most articles in one story.
    pub max_size: usize,
    /// The most days between a story's first and last article (of those with a date).
    pub window_days: i64,
}

impl Limits {
    pub fn new(threshold: f64) -> Limits {
        Limits {
            threshold,
            max_size: usize::MAX,
            window_days: i64::MAX,
        }
    }
}

/// Another article's similarity to this one (0..1, above 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub index: usize,
    pub similarity: f64,
}

/// One article as numbers: TF-IDF weights by term (sorted by id) and their norm.
struct Vector {
    weights: Vec<(usize, f64)>,
    norm: f64,
}

/// Every article's neighbours (the articles it has a score above 0 with), sorted by index;
/// an article is not its own neighbour.
pub fn similarities(profiles: &[Profile]) -> Vec<Vec<Neighbour>> {
    let vectors = vectors(profiles);
    let mut neighbours: Vec<Vec<Neighbour>> = vec![Vec::new(); vectors.len()];
    let mut index = Index::new(&vectors);
    for (article, vector) in vectors.iter().enumerate() {
        for other in index.candidates(article, vector) {
            let similarity = cosine(vector, &vectors[other]);
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

fn cosine(first: &Vector, second: &Vector) -> f64 {
    let denominator = first.norm * second.norm;
    if denominator <= 0.0 {
        return 0.0;
    }
    dot(&first.weights, &second.weights) / denominator
}

/// TF-IDF vectors: weight `(1 + ln tf) × (ln((1 + n) / (1 + df)) + 1)`. Terms are numbered in
/// order of first use, so nothing depends on hash order.
fn vectors(profiles: &[Profile]) -> Vec<Vector> {
    let mut terms: HashMap<&str, usize> = HashMap::new();
    let counts: Vec<Vec<(usize, f64)>> = profiles
        .iter()
        .map(|profile| term_counts(&profile.words, &mut terms))
        .collect();
    let mut document_frequency = vec![0.0_f64; terms.len()];
    for &(term, _) in counts.iter().flatten() {
        document_frequency[term] += 1.0;
    }
    let documents = profiles.len().max(MIN_DOCUMENTS) as f64;
    counts
        .into_iter()
        .map(|counts| {
            let weights: Vec<(usize, f64)> = counts
                .into_iter()
                .map(|(term, count)| {
                    let frequency = document_frequency.get(term).copied().unwrap_or(1.0);
                    let idf = ((1.0 + documents) / (1.0 + frequency)).ln() + 1.0;
                    (term, (1.0 + count.ln()) * idf)
                })
                .collect();
            let norm = weights.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
            Vector { weights, norm }
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

/// Inverted index over the articles seen so far: word → (article, weight), each list capped
/// at [`POSTINGS`].
struct Index {
    words: Vec<Vec<(usize, f64)>>,
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
            .flat_map(|v| v.weights.iter().map(|w| w.0))
            .max()
            .map_or(0, |top| top + 1);
        Index {
            words: vec![Vec::new(); words],
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
            for &(other, other_weight) in self.words.get(term).into_iter().flatten() {
                tally.credit(article, other, weight * other_weight / scale);
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

    fn add(&mut self, article: usize, vector: &Vector) {
        let scale = if vector.norm > 0.0 { vector.norm } else { 1.0 };
        for &(term, weight) in &vector.weights {
            if let Some(list) = self.words.get_mut(term).filter(|l| l.len() < POSTINGS) {
                list.push((article, weight / scale));
            }
        }
    }
}

/// Stories as lists of article indices, by average linkage within `limits`. Largest first;
/// ties in input order; members in input order. `neighbours` (from [`similarities`]) says which
/// stories meet; the average similarity of two stories is computed exactly, from the sums of
/// their members' unit vectors (the mean of all pairwise cosines is the dot product of the two
/// sums over the product of the sizes), so pairs the sparse index did not score still count.
pub fn stories(
    profiles: &[Profile],
    neighbours: &[Vec<Neighbour>],
    limits: Limits,
) -> Vec<Vec<usize>> {
    let mut clusters = Clusters::new(profiles, neighbours, limits);
    clusters.merge_all();
    let mut groups: Vec<Vec<usize>> = clusters
        .members
        .into_iter()
        .filter(|members| !members.is_empty())
        .collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    groups
}

/// Average-linkage state: per live cluster, its members, the sum of their unit vectors, the
/// clusters it meets, and its first and last publication day.
struct Clusters {
    members: Vec<Vec<usize>>,
    sums: Vec<Vec<(usize, f64)>>,
    meets: Vec<HashSet<usize>>,
    days: Vec<Option<(i64, i64)>>,
    version: Vec<u32>,
    heap: BinaryHeap<Merge>,
    limits: Limits,
}

/// A candidate merge of clusters `first` < `second`, valid while both are at these versions.
#[derive(Debug, PartialEq)]
struct Merge {
    average: f64,
    first: usize,
    second: usize,
    versions: (u32, u32),
}

impl Eq for Merge {}

impl Ord for Merge {
    /// Highest average first; ties: the lowest pair of indices, so the order is deterministic.
    fn cmp(&self, other: &Merge) -> Ordering {
        self.average
            .total_cmp(&other.average)
            .then_with(|| (other.first, other.second).cmp(&(self.first, self.second)))
    }
}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Merge) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Clusters {
    fn new(profiles: &[Profile], neighbours: &[Vec<Neighbour>], limits: Limits) -> Clusters {
        let count = profiles.len();
        let sums = vectors(profiles)
            .into_iter()
            .map(|vector| {
                let norm = if vector.norm > 0.0 { vector.norm } else { 1.0 };
                vector
                    .weights
                    .into_iter()
                    .map(|(t, w)| (t, w / norm))
                    .collect()
            })
            .collect();
        let mut meets: Vec<HashSet<usize>> = vec![HashSet::new(); count];
        for (index, list) in neighbours.iter().enumerate().take(count) {
            for neighbour in list {
                if neighbour.index < count && neighbour.index != index {
                    meets[index].insert(neighbour.index);
                    meets[neighbour.index].insert(index);
                }
            }
        }
        let mut clusters = Clusters {
            members: (0..count).map(|index| vec![index]).collect(),
            sums,
            meets,
            days: profiles.iter().map(|p| p.day.map(|d| (d, d))).collect(),
            version: vec![0; count],
            heap: BinaryHeap::new(),
            limits,
        };
        for index in 0..count {
            clusters.offer(index);
        }
        clusters
    }

    /// Queue the merges of `cluster` with the clusters it meets that are allowed (size, time
    /// window) and whose average similarity reaches the threshold.
    fn offer(&mut self, cluster: usize) {
        let mut others: Vec<usize> = self.meets[cluster].iter().copied().collect();
        others.sort_unstable();
        for other in others {
            if !self.allowed(cluster, other) {
                continue;
            }
            let sizes = (self.members[cluster].len() * self.members[other].len()) as f64;
            let average = dot(&self.sums[cluster], &self.sums[other]) / sizes;
            if average >= self.limits.threshold {
                let (first, second) = (cluster.min(other), cluster.max(other));
                self.heap.push(Merge {
                    average,
                    first,
                    second,
                    versions: (self.version[first], self.version[second]),
                });
            }
        }
    }

    /// Whether the two clusters may become one story: not over the size cap, and their
    /// articles' dates (where known) within the window.
    fn allowed(&self, first: usize, second: usize) -> bool {
        let size = self.members[first].len() + self.members[second].len();
        let span = match (self.days[first], self.days[second]) {
            (Some((a, b)), Some((c, d))) => b.max(d) - a.min(c),
            _ => 0,
        };
        size <= self.limits.max_size && span <= self.limits.window_days
    }

    fn merge_all(&mut self) {
        while let Some(merge) = self.heap.pop() {
            let (keep, gone) = (merge.first, merge.second);
            let current = (self.version[keep], self.version[gone]);
            if current != merge.versions || self.members[gone].is_empty() {
                continue;
            }
            for other in std::mem::take(&mut self.meets[gone]) {
                self.meets[other].remove(&gone);
                if other != keep {
                    self.meets[other].insert(keep);
                    self.meets[keep].insert(other);
                }
            }
            let members = std::mem::take(&mut self.members[gone]);
            self.members[keep].extend(members);
            self.members[keep].sort_unstable();
            let gone_sum = std::mem::take(&mut self.sums[gone]);
            self.sums[keep] = add(&self.sums[keep], &gone_sum);
            self.days[keep] = match (self.days[keep], self.days[gone]) {
                (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                (known, None) | (None, known) => known,
            };
            self.version[keep] += 1;
            self.version[gone] += 1;
            self.offer(keep);
        }
    }
}

/// The dot product of two sparse vectors sorted by term.
fn dot(first: &[(usize, f64)], second: &[(usize, f64)]) -> f64 {
    let (mut i, mut j, mut total) = (0, 0, 0.0);
    while let (Some(&(a, x)), Some(&(b, y))) = (first.get(i), second.get(j)) {
        match a.cmp(&b) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                total += x * y;
                i += 1;
                j += 1;
            }
        }
    }
    total
}

/// The sum of two sparse vectors sorted by term.
fn add(first: &[(usize, f64)], second: &[(usize, f64)]) -> Vec<(usize, f64)> {
    let mut sum = Vec::with_capacity(first.len() + second.len());
    let (mut i, mut j) = (0, 0);
    loop {
        match (first.get(i), second.get(j)) {
            (Some(&(a, x)), Some(&(b, y))) => match a.cmp(&b) {
                Ordering::Less => {
                    sum.push((a, x));
                    i += 1;
                }
                Ordering::Greater => {
                    sum.push((b, y));
                    j += 1;
                }
                Ordering::Equal => {
                    sum.push((a, x + y));
                    i += 1;
                    j += 1;
                }
            },
            (Some(&entry), None) => {
                sum.push(entry);
                i += 1;
            }
            (None, Some(&entry)) => {
                sum.push(entry);
                j += 1;
            }
            (None, None) => return sum,
        }
    }
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

    fn arabic(glossary: &Glossary, title: &str, lead: &str) -> Profile {
        Profile::from_arabic(
            Some(title),
            &[lead.to_string()],
            glossary,
            Some("2015-07-21"),
        )
    }

    /// Wire copy of one event from two outlets is one story; articles that only share the
    /// words of every night ("the ministry said", a country's name) are not.
    #[test]
    fn one_event_groups_and_shared_common_words_do_not() {
        let glossary = Glossary::load("").unwrap();
        let night = [
            arabic(
                &glossary,
                "الداخلية: القبض على 431 شخصا من خلايا داعش",
                "أعلنت وزارة الداخلية السعودية القبض على 431 شخصا ينتمون إلى خلايا تنظيم داعش الإرهابي كانت تخطط لتنفيذ عمليات في المملكة.",
            ),
            arabic(
                &glossary,
                "تفكيك خلايا داعش والقبض على 431 متهما",
                "كشفت وزارة الداخلية عن تفكيك خلايا عنقودية مرتبطة بتنظيم داعش والقبض على 431 متهما كانوا يخططون لعمليات إرهابية في السعودية.",
            ),
            arabic(
                &glossary,
                "الداخلية: وفاة مقيم في حادث مروري بالرياض",
                "قالت وزارة الداخلية السعودية إن مقيما توفي في حادث مروري على طريق الملك فهد في الرياض صباح اليوم.",
            ),
            arabic(
                &glossary,
                "الهلال يتعاقد مع مدافع برازيلي",
                "أعلن نادي الهلال السعودي التعاقد مع مدافع برازيلي لمدة ثلاثة مواسم قادما من الدوري البرتغالي.",
            ),
            arabic(
                &glossary,
                "وزارة الصحة: حملة تطعيم في الرياض",
                "قالت وزارة الصحة السعودية إنها أطلقت حملة تطعيم ضد الحصبة في مدارس الرياض تستمر أسبوعين.",
            ),
        ];
        // The rest of a Saudi night: reports that also name the kingdom, its capital and a
        // ministry, each about something else, so that IDF weighs those words as a night does.
        let topics = [
            "الكهرباء",
            "التعليم",
            "الإسكان",
            "النقل",
            "المياه",
            "الزراعة",
            "التجارة",
            "العمل",
            "الرياضة",
            "الثقافة",
            "السياحة",
            "البلديات",
        ];
        let things = [
            "مشروع",
            "معرض",
            "مؤتمر",
            "برنامج",
            "مسابقة",
            "ميزانية",
            "تقرير",
            "جائزة",
            "منحة",
            "اتفاقية",
        ];
        let mut night = night.to_vec();
        for (i, topic) in topics.iter().enumerate() {
            for (_, thing) in things.iter().enumerate().filter(|(j, _)| (i + j) % 3 == 0) {
                night.push(arabic(
                    &glossary,
                    &format!("وزارة {topic} تطلق {thing} في الرياض"),
                    &format!("قالت وزارة {topic} السعودية إنها أطلقت {thing} {topic} في الرياض."),
                ));
            }
        }
        let neighbours = similarities(&night);
        let groups = stories(&night, &neighbours, Limits::new(THRESHOLD));
        let story_of = |article: usize| groups.iter().position(|g| g.contains(&article));
        assert_eq!(story_of(0), story_of(1), "{groups:?}");
        for (a, b) in [(0, 2), (2, 4), (3, 4), (2, 3)] {
            assert_ne!(story_of(a), story_of(b), "{a} and {b}: {groups:?}");
        }
        assert!(stories(&[], &[], Limits::new(THRESHOLD)).is_empty());
    }

    /// The default `brief.story_threshold`.
    const THRESHOLD: f64 = 0.25;

    fn words(texts: &[&str]) -> Vec<Profile> {
        texts
            .iter()
            .map(|text| Profile {
                words: text.split_whitespace().map(str::to_string).collect(),
                day: None,
            })
            .collect()
    }

    /// Single-link groups at `threshold`: what the brief did before, to compare with.
    fn single_link(neighbours: &[Vec<Neighbour>], threshold: f64) -> usize {
        let mut parent: Vec<usize> = (0..neighbours.len()).collect();
        fn find(parent: &mut [usize], mut node: usize) -> usize {
            while parent[node] != node {
                node = parent[node];
            }
            node
        }
        for (index, list) in neighbours.iter().enumerate() {
            for neighbour in list.iter().filter(|n| n.similarity >= threshold) {
                let (a, b) = (find(&mut parent, index), find(&mut parent, neighbour.index));
                parent[a.max(b)] = a.min(b);
            }
        }
        (0..neighbours.len())
            .filter(|&i| find(&mut parent, i) == i)
            .count()
    }

    /// The failure of single-link on a real night: a chain of articles, each close to the
    /// next, made one story of things that had nothing in common. Average linkage keeps the
    /// ends of the chain apart; a copy close to most of a story still joins it.
    #[test]
    fn a_chain_of_close_pairs_does_not_make_one_story() {
        let chain = words(&[
            "aa ab ac ad",
            "ac ad ae af",
            "ae af ag ah",
            "ag ah ai aj",
            "ai aj ak al",
            "ak al am an",
        ]);
        let neighbours = similarities(&chain);
        assert_eq!(single_link(&neighbours, 0.3), 1);
        let groups = stories(&chain, &neighbours, Limits::new(0.3));
        assert!(groups.len() >= 3, "{groups:?}");
        assert!(groups.iter().all(|g| !(g.contains(&0) && g.contains(&5))));
        let story = words(&[
            "qa qb qc qd qe qf",
            "qa qb qc qd qe qg",
            "qa qb qc qd qf qg",
            "qa qb qc qd qh qi",
            "zz zy zx zw zv zu",
        ]);
        let neighbours = similarities(&story);
        let groups = stories(&story, &neighbours, Limits::new(0.3));
        assert_eq!(groups, vec![vec![0, 1, 2, 3], vec![4]]);
    }

    #[test]
    fn the_size_cap_and_the_time_window_bound_a_story() {
        let mut same = words(&["one event told the same way"; 5]);
        let neighbours = similarities(&same);
        let limits = Limits {
            max_size: 3,
            ..Limits::new(THRESHOLD)
        };
        let groups = stories(&same, &neighbours, limits);
        assert_eq!(groups, vec![vec![0, 1, 2], vec![3, 4]]);
        for (profile, day) in same
            .iter_mut()
            .zip([Some(10), Some(11), Some(20), None, Some(19)])
        {
            profile.day = day;
        }
        let window = Limits {
            window_days: 2,
            ..Limits::new(THRESHOLD)
        };
        // 3 has no date: it joins either way; the first pair takes it.
        let groups = stories(&same, &neighbours, window);
        assert_eq!(groups, vec![vec![0, 1, 3], vec![2, 4]]);
    }

    #[test]
    fn a_threshold_above_one_keeps_every_article_apart() {
        let texts = words(&["aaa bbb ccc", "aaa bbb ccc", "ggg hhh iii"]);
        let matrix = similarities(&texts);
        assert_eq!(stories(&texts, &matrix, Limits::new(1.01)).len(), 3);
        assert_eq!(stories(&texts, &matrix, Limits::new(0.5)).len(), 2);
        assert_eq!(day_number("2015-07-21 02:51:32"), Some(16637));
        assert_eq!(day_number("July 21"), None);
    }

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
        let groups = stories(&profiles, &neighbours, Limits::new(0.15));
        assert_eq!(groups.len(), 8);
        assert!(groups.iter().all(|g| g.len() == 5));
    }

    #[test]
    fn thousands_of_articles_group_into_their_stories() {
        let (count, size) = (20, 100);
        let profiles = synthetic(count, size, 20);
        let neighbours = similarities(&profiles);
        let groups = stories(&profiles, &neighbours, Limits::new(0.15));
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
