//! Brief-building benchmark: wire-copy detection and story grouping on synthetic articles,
//! in memory (no LLM, no disk).
//!
//! Run with `cargo bench --no-default-features --bench brief` (10,000 articles of three
//! paragraphs) or `cargo bench --no-default-features --bench brief -- 1000` for another count.
//! Two inputs are timed, because the cost of both stages depends on how alike the articles are:
//! - `mixed`: stories of 50 articles; each article carries a near-copy of its story's agency
//!   paragraph, every other one an exact copy of a second agency line, and one paragraph of its
//!   own; the English text shares story words and names plus filler;
//! - `identical`: every article is a near-copy of the same three paragraphs and English text
//!   (the worst case: every pair is similar).
//!
//! Seconds go to stdout, with the number of groups found (to see that the work was real).

use std::hash::{Hash, Hasher};
use std::time::Instant;

use tarjim::brief::{group, wire};

const DEFAULT_ARTICLES: usize = 10_000;
const STORY_SIZE: usize = 50;

/// xorshift64*: a fixed, dependency-free sequence so every run times the same input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

const ARABIC: &[char] = &[
    'ا', 'ب', 'ت', 'ث', 'ج', 'ح', 'خ', 'د', 'ر', 'ز', 'س', 'ش', 'ص', 'ع', 'ف', 'ق', 'ك', 'ل', 'م',
    'ن', 'ه', 'و', 'ي',
];
const LATIN: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'k', 'l', 'm', 'n', 'o', 'p', 'r', 's', 't', 'u',
    'v', 'z',
];

fn word(rng: &mut Rng, letters: &[char]) -> String {
    let length = 3 + rng.below(5);
    (0..length)
        .map(|_| letters[rng.below(letters.len())])
        .collect()
}

fn vocabulary(rng: &mut Rng, letters: &[char], size: usize) -> Vec<String> {
    (0..size).map(|_| word(rng, letters)).collect()
}

fn sentence(rng: &mut Rng, words: &[String], length: usize) -> String {
    (0..length)
        .map(|_| words[rng.below(words.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalized(word: &str) -> String {
    let mut characters = word.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

/// Articles as the brief sees them: ids, Arabic and English paragraphs, profile text.
struct Input {
    ids: Vec<String>,
    arabic: Vec<Vec<String>>,
    english: Vec<Vec<String>>,
    profiles: Vec<String>,
}

/// One story's shared material: agency paragraphs and English words and names.
struct Story {
    agency: String,
    line: String,
    words: String,
    names: String,
}

fn story(rng: &mut Rng, arabic: &[String], english: &[String]) -> Story {
    Story {
        agency: sentence(rng, arabic, 30),
        line: sentence(rng, arabic, 20),
        words: sentence(rng, english, 6),
        names: (0..3)
            .map(|_| capitalized(&word(rng, LATIN)))
            .collect::<Vec<_>>()
            .join(" and "),
    }
}

fn build(count: usize, story_size: usize) -> Input {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let arabic = vocabulary(&mut rng, ARABIC, 3_000);
    let english = vocabulary(&mut rng, LATIN, 5_000);
    let stories: Vec<Story> = (0..count.div_ceil(story_size.max(1)))
        .map(|_| story(&mut rng, &arabic, &english))
        .collect();
    let mut input = Input {
        ids: Vec::new(),
        arabic: Vec::new(),
        english: Vec::new(),
        profiles: Vec::new(),
    };
    for index in 0..count {
        let story = &stories[index / story_size.max(1)];
        let outlet = &arabic[rng.below(arabic.len())];
        let own = if story_size >= count {
            format!("{} {index}", story.line)
        } else {
            sentence(&mut rng, &arabic, 25)
        };
        let second = if index % 2 == 0 {
            story.line.clone()
        } else {
            own
        };
        let paragraphs = vec![
            format!("{} وقال مصدر {outlet} {index}", story.agency),
            second,
            sentence(&mut rng, &arabic, 25),
        ];
        let translated: Vec<String> = (0..3).map(|_| sentence(&mut rng, &english, 20)).collect();
        let profile = format!(
            "{} {}. {}\n{}",
            story.words,
            story.names,
            sentence(&mut rng, &english, 10),
            translated.join("\n")
        );
        input.ids.push(format!("{index:06}"));
        input.arabic.push(paragraphs);
        input.english.push(translated);
        input.profiles.push(profile);
    }
    input
}

fn time(label: &str, input: &Input) {
    let texts: Vec<wire::ArticleText<'_>> = (0..input.ids.len())
        .map(|i| wire::ArticleText {
            id: &input.ids[i],
            arabic: &input.arabic[i],
            english: &input.english[i],
        })
        .collect();
    let start = Instant::now();
    let groups = wire::detect_texts(&texts);
    let detect = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let profiles: Vec<group::Profile> = input
        .profiles
        .iter()
        .map(|text| group::Profile::new(text))
        .collect();
    let profiling = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let scored = group::score(&profiles);
    let similarities = &scored.neighbours;
    let similarity = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let stories =
        tarjim::brief::linkage::stories(&scored, tarjim::brief::linkage::Limits::new(0.15));
    let central = stories
        .iter()
        .filter_map(|members| group::most_central(similarities, members))
        .count();
    let grouping = start.elapsed().as_secs_f64();
    // What was found, as one number: two versions that find the same groups and stories print
    // the same fingerprint.
    let mut hasher = std::hash::DefaultHasher::new();
    for group in &groups {
        (&group.paragraphs, group.exact, group.similarity.to_bits()).hash(&mut hasher);
    }
    stories.hash(&mut hasher);
    println!(
        "{label}: {} articles: wire::detect {detect:.3} s ({} groups); profiles {profiling:.3} s; \
         similarities {similarity:.3} s; stories + most_central {grouping:.3} s ({} stories, {central} centres); \
         fingerprint {:016x}",
        input.ids.len(),
        groups.len(),
        stories.len(),
        hasher.finish(),
    );
}

fn main() {
    let count = std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse::<usize>().ok())
        .unwrap_or(DEFAULT_ARTICLES);
    time("mixed", &build(count, STORY_SIZE));
    time("identical", &build(count, count));
}
