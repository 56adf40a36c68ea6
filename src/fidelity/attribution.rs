//! Whose ministry: the English must not hand one country's ministry to another. The default
//! model wrote "the United States Defense Department said" for وزارة الدفاع الأذربيجانية (the
//! Azerbaijani one) in an article that also names the American secretary of state, so every
//! name is in the source and the name checks pass, yet the statement is given to the wrong
//! government.
//!
//! A ministry the English ties to a country ("the Azerbaijani Defense Ministry", "Azerbaijan's
//! Foreign Ministry", "the Ministry of Defense of Saudi Arabia") is compared with the same
//! ministry in the Arabic (وزارة الدفاع الأذربيجانية, وزير الخارجية الروسي, وزارة الداخلية في
//! مصر): when the Arabic ties that ministry only to other countries, the chunk is flagged. An
//! Arabic ministry with no country beside it says nothing either way.

use super::arabic;
use super::glossary::{english_words, Glossary, Kind};

/// A ministry: its English words and its Arabic word after وزارة/وزير.
struct Ministry {
    name: &'static str,
    english: &'static [&'static str],
    arabic: &'static str,
}

const MINISTRIES: [Ministry; 3] = [
    Ministry {
        name: "defense",
        english: &["defense", "defence"],
        arabic: "الدفاع",
    },
    Ministry {
        name: "foreign",
        english: &["foreign"],
        arabic: "الخارجية",
    },
    Ministry {
        name: "interior",
        english: &["interior"],
        arabic: "الداخلية",
    },
];

/// A ministry given to the wrong country: the ministry, the country the English gives it, and
/// the countries the Arabic gives it.
#[derive(Debug, PartialEq)]
pub struct Misattributed {
    pub ministry: &'static str,
    pub english: String,
    pub arabic: Vec<String>,
}

/// Ministries the English gives to a country that the Arabic gives only to others.
pub fn misattributed(source: &str, english: &str, glossary: &Glossary) -> Vec<Misattributed> {
    let mut found = Vec::new();
    for ministry in &MINISTRIES {
        let in_arabic = arabic_countries(source, ministry, glossary);
        if in_arabic.is_empty() {
            continue;
        }
        for term in english_countries(english, ministry, glossary) {
            let seen = found
                .iter()
                .any(|m: &Misattributed| m.english == glossary.entry(term).en);
            if !in_arabic.contains(&term) && !seen {
                found.push(Misattributed {
                    ministry: ministry.name,
                    english: glossary.entry(term).en.clone(),
                    arabic: (in_arabic.iter())
                        .map(|&t| glossary.entry(t).en.clone())
                        .collect(),
                });
            }
        }
    }
    found
}

/// The places the Arabic ties this ministry to: glossary places in the three words after
/// وزارة/وزير + the ministry's word.
fn arabic_countries(source: &str, ministry: &Ministry, glossary: &Glossary) -> Vec<usize> {
    let words = arabic::words_and_folds(source);
    let office = ["وزاره", "وزير", "وزيره"];
    let key = arabic::fold(ministry.arabic);
    let mut terms = Vec::new();
    for index in 0..words.len() {
        let first = &words[index].1;
        let is_office = office.iter().any(|o| {
            first == o
                || ["و", "ف", "ب", "ل", "ال", "وال", "بال", "لل"]
                    .iter()
                    .any(|p| first.strip_prefix(p) == Some(o))
        });
        if !is_office || words.get(index + 1).map(|w| w.1.as_str()) != Some(key.as_str()) {
            continue;
        }
        let window: Vec<&str> = (words.iter().skip(index + 2).take(3))
            .map(|(written, _)| *written)
            .collect();
        for found in glossary.in_arabic(&window.join(" ")) {
            if glossary.entry(found.term).kind == Kind::Place && !terms.contains(&found.term) {
                terms.push(found.term);
            }
        }
    }
    terms
}

/// The places the English ties this ministry to: a glossary place just before "<defense>
/// ministry|department|minister" or "ministry of <defense>" ("Azerbaijan's" included), or
/// just after it with "of" or "in".
fn english_countries(english: &str, ministry: &Ministry, glossary: &Glossary) -> Vec<usize> {
    let words = english_words(english);
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let word = |index: usize| lower.get(index).map_or("", String::as_str);
    let is_kind = |index: usize| ministry.english.contains(&word(index));
    let office = |index: usize| {
        matches!(
            word(index),
            "ministry" | "ministries" | "department" | "minister" | "secretary"
        )
    };
    let places: Vec<_> = (glossary.english_spans(english).into_iter())
        .filter(|span| glossary.entry(span.term).kind == Kind::Place)
        .collect();
    let mut terms = Vec::new();
    for start in 0..lower.len() {
        let end = if is_kind(start) && office(start + 1) {
            start + 2
        } else if office(start) && word(start + 1) == "of" && is_kind(start + 2) {
            start + 3 + usize::from(word(start + 3) == "affairs")
        } else {
            continue;
        };
        for span in &places {
            let before = span.words.end == start
                || (span.words.end + 1 == start && word(span.words.end) == "s");
            let after = matches!(word(end), "of" | "in")
                && (span.words.start == end + 1
                    || (span.words.start == end + 2 && word(end + 1) == "the"));
            if (before || after) && !terms.contains(&span.term) {
                terms.push(span.term);
            }
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glossary() -> Glossary {
        Glossary::load("").expect("built-in glossary")
    }

    const SOURCE: &str = "دعا وزير الخارجية الأمريكي، أنتوني بلينكن، إلى وقف العمليات العسكرية، في وقت أكدت فيه وزارة الدفاع الأذربيجانية أن عملياتها العسكرية مستمرة.";

    #[test]
    fn a_ministry_handed_to_another_country_is_found() {
        let glossary = glossary();
        let wrong = "US Secretary of State Antony Blinken called for a halt, while the United States Defense Department said its operations were continuing.";
        let found = misattributed(SOURCE, wrong, &glossary);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].ministry, "defense");
        assert_eq!(found[0].english, "United States");
        assert_eq!(found[0].arabic, ["Azerbaijan"]);
        let saudi = "The Ministry of Defense of Saudi Arabia said its operations were continuing.";
        assert_eq!(
            misattributed(SOURCE, saudi, &glossary)[0].english,
            "Saudi Arabia"
        );
        let possessive = "Russia's Foreign Minister Antony Blinken called for a halt.";
        assert_eq!(
            misattributed(SOURCE, possessive, &glossary)[0].english,
            "Russia"
        );
    }

    #[test]
    fn the_right_country_or_none_raises_nothing() {
        let glossary = glossary();
        let right = "US Secretary of State Antony Blinken called for a halt, while the Azerbaijani Defense Ministry said its operations were continuing.";
        assert!(misattributed(SOURCE, right, &glossary).is_empty());
        let of = "The Ministry of Defense of Azerbaijan said its operations were continuing.";
        assert!(misattributed(SOURCE, of, &glossary).is_empty());
        // An Arabic ministry with no country beside it says nothing either way.
        let bare = "وقالت وزارة الدفاع إن عملياتها مستمرة.";
        let english = "The Azerbaijani Defense Ministry said its operations were continuing.";
        assert!(misattributed(bare, english, &glossary).is_empty());
    }
}
