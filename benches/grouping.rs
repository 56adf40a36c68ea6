//! How well the brief groups a real night into stories, on pairs of articles labelled by hand.
//!
//! `benches/data/grouping-pairs.tsv` holds 320 pairs of articles from one night of
//! SaudiNewsNet (2015-07-21, 2,972 articles from 11 outlets), each labelled same event (1) or
//! not (0) by reading the Arabic titles and leads. Its text is not in this repository (the
//! corpus is CC BY-NC-SA); make the night's JSONL as `scripts/saudinewsnet-night.py` says and
//! point `TARJIM_BENCH_NIGHT` at it (line numbers are the pairs' article numbers):
//!
//! ```sh
//! TARJIM_BENCH_NIGHT=night.jsonl cargo bench --bench grouping
//! ```
//!
//! For each threshold it groups the whole night (as `brief::build` does: cleaned Arabic, the
//! built-in glossary, average linkage) and scores the labelled pairs: precision and recall of
//! "in the same story". The same is shown for single-link grouping at that threshold (what
//! the brief did before) and for profiles over the whole text instead of the title and lead.
//! It also reports the stories' count and the largest, and the time and peak memory of grouping.

#![allow(unsafe_code)] // getrusage, to read this process's peak RSS.

use std::collections::HashMap;
use std::time::Instant;

use tarjim::brief::group::{self, Neighbour, Profile};
use tarjim::brief::linkage::{self, Limits};
use tarjim::fidelity::glossary::Glossary;
use tarjim::normalize::{self, NormalizeSettings};

const PAIRS: &str = include_str!("data/grouping-pairs.tsv");

struct Article {
    title: String,
    paragraphs: Vec<String>,
    published: Option<String>,
}

fn main() {
    let Some(night) = std::env::var_os("TARJIM_BENCH_NIGHT") else {
        println!("grouping: skipped (set TARJIM_BENCH_NIGHT to the 2015-07-21 night's JSONL)");
        return;
    };
    let articles = read_night(&night);
    let pairs = labelled_pairs();
    let glossary = Glossary::load("").expect("the built-in glossary");
    println!(
        "grouping: {} articles, {} labelled pairs ({} same event)",
        articles.len(),
        pairs.len(),
        pairs.iter().filter(|p| p.2).count()
    );

    let mut largest: Vec<Vec<usize>> = Vec::new();
    for (label, lead_words) in [
        ("title + 300 words (the default)", group::LEAD_WORDS),
        ("title + 80 words", 80),
        ("whole text", usize::MAX),
    ] {
        let start = Instant::now();
        let profiles: Vec<Profile> = articles
            .iter()
            .map(|a| {
                Profile::from_arabic_lead(
                    Some(&a.title),
                    &a.paragraphs,
                    &glossary,
                    a.published.as_deref(),
                    lead_words,
                )
            })
            .collect();
        let scored = group::score(&profiles);
        let scoring = start.elapsed().as_secs_f64();
        println!("\n{label}: profiles and similarities {scoring:.2} s");
        println!("threshold | average linkage: P / R / F1, stories>1, largest, s | single-link: P / R / F1, largest");
        for threshold in [0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.60] {
            let start = Instant::now();
            let limits = Limits {
                max_size: 300,
                window_days: 3,
                ..Limits::new(threshold)
            };
            let stories = linkage::stories(&scored, limits);
            let seconds = start.elapsed().as_secs_f64();
            let single = single_link(&scored.neighbours, threshold);
            let (p, r, f) = score(&stories, &pairs, articles.len());
            let (sp, sr, sf) = score(&single, &pairs, articles.len());
            if lead_words == group::LEAD_WORDS && (threshold - 0.25).abs() < 1e-9 {
                largest.clone_from(&stories);
            }
            println!(
                "{threshold:.2} | {p:.3} / {r:.3} / {f:.3}, {}, {}, {seconds:.3} | {sp:.3} / {sr:.3} / {sf:.3}, {}",
                stories.iter().filter(|s| s.len() > 1).count(),
                stories.first().map_or(0, Vec::len),
                single.first().map_or(0, Vec::len),
            );
        }
    }
    println!("\nthe five largest stories at 0.25 (title + 300 words), first titles:");
    for story in largest.iter().take(5) {
        println!("- {} articles:", story.len());
        for &member in story.iter().take(6) {
            println!("    {}", articles[member].title);
        }
    }
    println!("\npeak RSS {:.0} MiB", peak_rss_mib());
}

fn read_night(path: &std::ffi::OsStr) -> Vec<Article> {
    let text = std::fs::read_to_string(path).expect("the night's JSONL");
    let settings = NormalizeSettings {
        keep_diacritics: false,
        drop_boilerplate: true,
        boilerplate_lines: Vec::new(),
        boilerplate_prefixes: Vec::new(),
    };
    text.lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let field = |name: &str| record[name].as_str().map(str::to_string);
            let body = field("text").unwrap_or_default();
            Article {
                title: normalize::normalize_text(&field("title").unwrap_or_default(), &settings),
                paragraphs: normalize::clean(&body, &settings).paragraphs,
                published: field("published"),
            }
        })
        .collect()
}

/// (first article, second article, same event).
fn labelled_pairs() -> Vec<(usize, usize, bool)> {
    PAIRS
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("pair\t"))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let number = |i: usize| fields[i].parse::<usize>().expect("a number");
            (number(2), number(3), fields[5] == "1")
        })
        .collect()
}

/// Pairwise precision, recall and F1 of "in the same story" on the labelled pairs.
fn score(stories: &[Vec<usize>], pairs: &[(usize, usize, bool)], count: usize) -> (f64, f64, f64) {
    let mut story_of = vec![usize::MAX; count];
    for (number, members) in stories.iter().enumerate() {
        for &member in members {
            story_of[member] = number;
        }
    }
    let (mut hits, mut predicted, mut actual) = (0.0, 0.0, 0.0);
    for &(a, b, same) in pairs {
        let together = story_of[a] == story_of[b];
        hits += f64::from(u8::from(together && same));
        predicted += f64::from(u8::from(together));
        actual += f64::from(u8::from(same));
    }
    let precision = if predicted > 0.0 {
        hits / predicted
    } else {
        1.0
    };
    let recall = hits / actual.max(1.0);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1)
}

/// Connected groups of pairs at or above `threshold` (the grouping this bench compares with).
fn single_link(neighbours: &[Vec<Neighbour>], threshold: f64) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..neighbours.len()).collect();
    fn find(parent: &mut [usize], mut node: usize) -> usize {
        while parent[node] != node {
            parent[node] = parent[parent[node]];
            node = parent[node];
        }
        node
    }
    for (index, list) in neighbours.iter().enumerate() {
        for neighbour in list.iter().filter(|n| f64::from(n.similarity) >= threshold) {
            let other = neighbour.index as usize;
            let (a, b) = (find(&mut parent, index), find(&mut parent, other));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for index in 0..neighbours.len() {
        let top = find(&mut parent, index);
        groups.entry(top).or_default().push(index);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    groups
}

fn peak_rss_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}
