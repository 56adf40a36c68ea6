//! Quantities given only by their order of magnitude: عشرات ("dozens"), مئات الآلاف
//! ("hundreds of thousands"), "tens of thousands". A small model turns عشرات المواقع ("dozens of
//! positions") into "tens of thousands of sites"; no digit is involved, so the number check
//! cannot see it, and the analyst reads a figure a thousand times too large.
//!
//! Each side's vague quantities are read as powers of ten (dozens 1, hundreds 2, thousands 3,
//! tens of thousands 4 ...). The check built on them (see `fidelity::check_numbers`) flags an
//! English one that the Arabic has neither as a vague quantity nor as a number of that size. An
//! Arabic one the English leaves vaguer ("many") is not flagged: less said, nothing false.

use super::{arabic, numbers};

/// A vague quantity: its power of ten, and the words it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Magnitude {
    pub exponent: u32,
    pub written: String,
}

/// How an analyst reads a power of ten as a vague quantity.
pub fn gloss(exponent: u32) -> &'static str {
    match exponent {
        1 => "dozens",
        2 => "hundreds",
        3 => "thousands",
        4 => "tens of thousands",
        5 => "hundreds of thousands",
        6 => "millions",
        7 => "tens of millions",
        8 => "hundreds of millions",
        _ => "billions",
    }
}

/// The power of ten of a number (10 → 1, 30,000 → 4); 0 below 10.
pub fn exponent_of(value: f64) -> u32 {
    if value < 10.0 {
        0
    } else {
        value.log10().floor() as u32
    }
}

/// The folded Arabic word without an attached conjunction, preposition or article.
fn bare(folded: &str) -> &str {
    // Not ك: كميات ("quantities") would read as مئات.
    const PREFIXES: [&str; 10] = ["وبال", "وال", "بال", "فال", "لل", "ال", "و", "ف", "ب", "ل"];
    PREFIXES
        .iter()
        .filter_map(|prefix| folded.strip_prefix(prefix))
        .find(|rest| arabic_base(rest).is_some() || arabic_scale(rest).is_some())
        .unwrap_or(folded)
}

/// عشرات, مئات: a count of tens or hundreds of what follows.
fn arabic_base(bare: &str) -> Option<u32> {
    match bare {
        "عشرات" => Some(1),
        "ميات" => Some(2),
        _ => None,
    }
}

/// آلاف, ملايين, مليارات: plural scales.
fn arabic_scale(bare: &str) -> Option<u32> {
    match bare {
        "الاف" | "الوف" => Some(3),
        "ملايين" => Some(6),
        "مليارات" => Some(9),
        _ => None,
    }
}

/// The vague quantities of an Arabic text: عشرات/مئات alone (1, 2) or before a plural scale
/// (عشرات الآلاف 4, مئات الملايين 8), and a plural scale alone (آلاف 3) unless a number comes
/// before it (ثلاثة آلاف is 3,000, a number).
pub fn arabic(text: &str) -> Vec<Magnitude> {
    let words = arabic::words_and_folds(text);
    let mut found = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let word = bare(&words[index].1);
        if let Some(base) = arabic_base(word) {
            let scale = words
                .get(index + 1)
                .and_then(|next| arabic_scale(bare(&next.1)));
            let taken = if scale.is_some() { 2 } else { 1 };
            found.push(Magnitude {
                exponent: base + scale.unwrap_or(0),
                written: join(&words[index..index + taken]),
            });
            index += taken;
            continue;
        }
        if let Some(scale) = arabic_scale(word) {
            let after_number = index > 0 && {
                let before = &words[index - 1].1;
                before.chars().all(char::is_numeric)
                    || numbers::arabic_word_value(bare_number(before)).is_some()
            };
            if !after_number {
                found.push(Magnitude {
                    exponent: scale,
                    written: words[index].0.to_string(),
                });
            }
        }
        index += 1;
    }
    found
}

fn bare_number(folded: &str) -> &str {
    ["و", "ب", "ل"]
        .iter()
        .find_map(|prefix| folded.strip_prefix(prefix))
        .filter(|rest| numbers::arabic_word_value(rest).is_some())
        .unwrap_or(folded)
}

fn join(words: &[(&str, String)]) -> String {
    let written: Vec<&str> = words.iter().map(|(word, _)| *word).collect();
    written.join(" ")
}

/// The vague quantities of an English text: "dozens", "scores of", "tens of" (1), "hundreds"
/// (2), "thousands" (3), "millions" (6), "billions" (9), "tens/hundreds of thousands|millions"
/// (4, 5, 7, 8), and "several/a few hundred|thousand|million".
pub fn english(text: &str) -> Vec<Magnitude> {
    let words: Vec<String> = text
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    let word = |index: usize| words.get(index).map_or("", String::as_str);
    let scale = |word: &str| match word {
        "thousands" => Some(3),
        "millions" => Some(6),
        "billions" => Some(9),
        _ => None,
    };
    let mut found = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let base = match (word(index), word(index + 1)) {
            ("dozens", _) => Some(1),
            ("tens" | "scores", "of") => Some(1),
            ("hundreds", _) => Some(2),
            _ => None,
        };
        if let Some(base) = base {
            let combined = (word(index + 1) == "of")
                .then(|| scale(word(index + 2)))
                .flatten();
            let taken = if combined.is_some() { 3 } else { 1 };
            found.push(Magnitude {
                exponent: base + combined.unwrap_or(0),
                written: words[index..index + taken].join(" "),
            });
            index += taken;
            continue;
        }
        let vague_singular = matches!(word(index), "several" | "few")
            .then(|| match word(index + 1) {
                "hundred" => Some(2),
                "thousand" => Some(3),
                "million" => Some(6),
                _ => None,
            })
            .flatten();
        if let Some(exponent) = vague_singular {
            found.push(Magnitude {
                exponent,
                written: words[index..index + 2].join(" "),
            });
            index += 2;
            continue;
        }
        if let Some(exponent) = scale(word(index)) {
            found.push(Magnitude {
                exponent,
                written: words[index].clone(),
            });
        }
        index += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exponents(found: &[Magnitude]) -> Vec<u32> {
        found.iter().map(|m| m.exponent).collect()
    }

    #[test]
    fn arabic_vague_quantities() {
        let text = "سيطرت على عشرات المواقع";
        assert_eq!(exponents(&arabic(text)), [1]);
        assert_eq!(arabic(text)[0].written, "عشرات");
        assert_eq!(exponents(&arabic("نزوح عشرات الآلاف من السكان")), [4]);
        assert_eq!(arabic("نزوح عشرات الآلاف")[0].written, "عشرات الآلاف");
        assert_eq!(exponents(&arabic("ومئات الجرحى")), [2]);
        assert_eq!(exponents(&arabic("بمئات الملايين من الدولارات")), [8]);
        assert_eq!(exponents(&arabic("فر آلاف المدنيين")), [3]);
        assert_eq!(exponents(&arabic("بضعة آلاف")), [3]);
        // A number before a scale makes a number, not a vague quantity.
        assert!(arabic("إجلاء سبعة آلاف شخص").is_empty());
        assert!(arabic("نحو 30 ألف شخص").is_empty());
        assert!(arabic("أعلنت الوزارة بدء العملية").is_empty());
        assert!(
            arabic("شراء كميات صغيرة من الطعام").is_empty(),
            "quantities"
        );
    }

    #[test]
    fn english_vague_quantities() {
        assert_eq!(exponents(&english("took tens of thousands of sites")), [4]);
        assert_eq!(exponents(&english("dozens of positions")), [1]);
        assert_eq!(exponents(&english("tens of people")), [1]);
        assert_eq!(exponents(&english("Hundreds were wounded")), [2]);
        assert_eq!(exponents(&english("hundreds of thousands fled")), [5]);
        assert_eq!(exponents(&english("several thousand people")), [3]);
        assert_eq!(exponents(&english("millions of dollars")), [6]);
        assert!(english("two thousand people and the tension").is_empty());
        assert!(english("the test scores rose").is_empty());
    }
}
