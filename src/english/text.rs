//! Small text tools shared by the summarizers and the brief: sentences, content words, entity
//! tokens, numbers and dates.
//!
//! They are deliberately simple and language-light (English first, Arabic script tolerated) so
//! that the extractive path works with no model at all and the same input always gives the same
//! output. Nothing here can panic on any input: every slice is taken on character boundaries.

use crate::fidelity::dates::MONTHS;

/// English and Arabic function words that carry no topic.
const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "that",
    "with",
    "this",
    "from",
    "have",
    "has",
    "had",
    "was",
    "were",
    "are",
    "been",
    "not",
    "but",
    "its",
    "his",
    "her",
    "their",
    "they",
    "them",
    "who",
    "which",
    "will",
    "would",
    "said",
    "says",
    "also",
    "into",
    "after",
    "before",
    "over",
    "about",
    "than",
    "more",
    "there",
    "these",
    "those",
    "such",
    "what",
    "when",
    "where",
    "while",
    "other",
    "one",
    "two",
    "all",
    "any",
    "can",
    "could",
    "may",
    "our",
    "out",
    "she",
    "him",
    "you",
    "your",
    "did",
    "does",
    "within",
    "between",
    "during",
    "since",
    "under",
    "against",
    "through",
    "upon",
    "per",
    "في",
    "من",
    "على",
    "إلى",
    "الى",
    "عن",
    "مع",
    "أن",
    "ان",
    "إن",
    "التي",
    "الذي",
    "الذين",
    "هذا",
    "هذه",
    "ذلك",
    "تلك",
    "كما",
    "حيث",
    "وقد",
    "قد",
    "لقد",
    "كان",
    "كانت",
    "وفي",
    "بين",
    "بعد",
    "قبل",
    "عند",
    "منذ",
    "حول",
    "خلال",
    "أو",
    "او",
    "ثم",
    "لا",
    "لم",
    "لن",
    "ما",
    "وهو",
    "وهي",
    "هو",
    "هي",
    "وأن",
    "وان",
    "فيه",
    "فيها",
    "إنه",
    "انه",
    "أنه",
    "أنها",
    "وقال",
    "قال",
    "وقالت",
    "قالت",
];

/// Capitalized words that start sentences or name no one.
const NOT_ENTITIES: &[&str] = &[
    // Sentence adverbs and connectives that open sentences capitalized.
    "Therefore",
    "However",
    "Meanwhile",
    "Moreover",
    "Also",
    "Thus",
    "Earlier",
    "Later",
    "Furthermore",
    "Accordingly",
    "Nevertheless",
    "Instead",
    "Indeed",
    "Yesterday",
    "Today",
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "He",
    "She",
    "It",
    "They",
    "We",
    "I",
    "This",
    "That",
    "These",
    "Those",
    "But",
    "And",
    "Or",
    "If",
    "As",
    "For",
    "From",
    "By",
    "With",
    "After",
    "Before",
    "Meanwhile",
    "However",
    "Earlier",
    "Later",
    "According",
    "Mr",
    "Mrs",
    "Ms",
    "EN",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "There",
    "His",
    "Her",
    "Their",
    "Its",
    "When",
    "While",
    "Since",
    "During",
    "Also",
    "On",
    "Some",
    "Many",
    "All",
    "Both",
];

/// A sentence and the (0-based) paragraph it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub paragraph: usize,
    pub text: String,
}

/// Split paragraphs into sentences, remembering each sentence's paragraph.
pub fn sentences(paragraphs: &[String]) -> Vec<Located> {
    paragraphs
        .iter()
        .enumerate()
        .flat_map(|(paragraph, text)| {
            split_sentences(text)
                .into_iter()
                .map(move |text| Located { paragraph, text })
        })
        .collect()
}

/// Split one paragraph after `.`, `!`, `?`, `؟` followed by a space (not after a single capital
/// letter or a digit-dot-digit, so "U.S." and "3.5" stay whole).
pub fn split_sentences(paragraph: &str) -> Vec<String> {
    let characters: Vec<char> = paragraph.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (index, &character) in characters.iter().enumerate() {
        current.push(character);
        let ends = matches!(character, '.' | '!' | '?' | '؟');
        let next_is_space = characters
            .get(index + 1)
            .is_some_and(|next| next.is_whitespace());
        let before = index
            .checked_sub(1)
            .and_then(|previous| characters.get(previous));
        let before_is_initial = character == '.'
            && before.is_some_and(|c| c.is_uppercase())
            && index
                .checked_sub(2)
                .and_then(|i| characters.get(i))
                .is_none_or(|c| !c.is_alphabetic());
        if ends && next_is_space && !before_is_initial {
            push_trimmed(&mut out, &current);
            current.clear();
        }
    }
    push_trimmed(&mut out, &current);
    out
}

fn push_trimmed(out: &mut Vec<String>, text: &str) {
    let trimmed = text.trim();
    if trimmed.chars().any(char::is_alphanumeric) {
        out.push(trimmed.to_string());
    }
}

/// Lower-cased content words (letters only, at least 3 characters, no stopwords). Arabic
/// words are lightly stemmed (see [`arabic_stem`]) so that "وأذربيجان" and "الأذربيجانية" meet.
pub fn content_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().count() >= 3)
        .filter(|word| !word.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .filter(|word| !STOPWORDS.contains(&word.as_str()))
        .map(|word| {
            if word.chars().any(is_arabic_letter) {
                arabic_stem(&word)
            } else {
                word
            }
        })
        .filter(|word| word.chars().count() >= 3)
        .collect()
}

fn is_arabic_letter(c: char) -> bool {
    ('\u{0620}'..='\u{064A}').contains(&c)
}

/// A light Arabic stem: one alef, no diacritics, common prefixes (و, ال, بال, لل...) and
/// suffixes (ية, ات, ون, ين, ة, ي...; at most two) removed while at least three letters remain.
pub fn arabic_stem(word: &str) -> String {
    let mut stem: String = word
        .chars()
        .filter(|c| !('\u{064B}'..='\u{065F}').contains(c) && *c != 'ـ')
        .map(|c| match c {
            'أ' | 'إ' | 'آ' => 'ا',
            'ى' => 'ي',
            'ة' => 'ه',
            c => c,
        })
        .collect();
    for prefix in [
        "وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل",
    ] {
        if let Some(rest) = stem.strip_prefix(prefix) {
            if rest.chars().count() >= 3 {
                stem = rest.to_string();
                break;
            }
        }
    }
    for _ in 0..2 {
        let shorter = ["يه", "ات", "ون", "ين", "ان", "ها", "ه", "ي"]
            .iter()
            .find_map(|suffix| stem.strip_suffix(suffix))
            .filter(|rest| rest.chars().count() >= 3)
            .map(str::to_string);
        match shorter {
            Some(rest) => stem = rest,
            None => break,
        }
    }
    stem
}

/// Runs of capitalized words (e.g. "Ilham Aliyev", "Nagorno-Karabakh"): candidate named
/// entities, in order of appearance.
pub fn entity_phrases(text: &str) -> Vec<String> {
    let mut phrases = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
        let capitalized = word.chars().next().is_some_and(char::is_uppercase)
            && word.chars().count() >= 2
            && word
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’'))
            && !NOT_ENTITIES.contains(&word);
        if capitalized {
            current.push(word);
        } else if !current.is_empty() {
            phrases.push(current.join(" "));
            current.clear();
        }
        let breaks = raw.ends_with([',', '.', ';', ':', '"', ')', '?', '!']);
        if breaks && !current.is_empty() {
            phrases.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        phrases.push(current.join(" "));
    }
    phrases
}

/// The key two spellings of one entity share: lower case, no "al-" prefix, no hyphens, no
/// doubled letters, no final vowel ("Aliyev"/"Aliev", "Nagorno-Karabakh"/"Nagorno Karabakh").
pub fn entity_key(name: &str) -> String {
    let lower = name.to_lowercase();
    let lower = lower.strip_prefix("al-").unwrap_or(&lower);
    let mut key = String::new();
    let mut previous = None;
    for c in lower.chars().filter(|c| c.is_alphanumeric()) {
        let doubled = Some(c) == previous;
        let soft_y = c == 'y' && previous == Some('i');
        if !doubled && !soft_y {
            key.push(c);
        }
        previous = Some(c);
    }
    key.trim_end_matches(['a', 'e', 'h']).to_string()
}

/// Words that scale the number before them ("120 thousand"): part of the number, not its
/// context.
const SCALE_WORDS: [&str; 4] = ["hundred", "thousand", "million", "billion"];

/// Numbers written with digits, each with what it counts: the word right after it ("32
/// people", "120 thousand armenians", "25% percent"). Years, and the day of a date ("November
/// 10", "10 November"), are left out: they are dates, not counts; so is a number whose next
/// word is not a content word ("10 of them").
pub fn numbers_with_context(text: &str) -> Vec<(String, String)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let bare = |word: &str| {
        word.trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
    };
    let mut found = Vec::new();
    for (index, raw) in words.iter().enumerate() {
        let number = raw.trim_matches(|c: char| !c.is_ascii_digit());
        let digits_only = number
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.');
        if number.is_empty() || !digits_only {
            continue;
        }
        let is_year = number.len() == 4 && (number.starts_with("19") || number.starts_with("20"));
        let before_is_month = index
            .checked_sub(1)
            .is_some_and(|previous| is_month(&bare(words[previous])));
        let after_is_month = words
            .get(index + 1)
            .is_some_and(|next| is_month(&bare(next)));
        if is_year || before_is_month || after_is_month {
            continue;
        }
        if raw.ends_with('%') {
            found.push((number.to_string(), "percent".to_string()));
            continue;
        }
        let mut number = number.to_string();
        let mut next = index + 1;
        if let Some(scale) = words
            .get(next)
            .map(|word| bare(word))
            .filter(|word| SCALE_WORDS.contains(&word.as_str()))
        {
            number = format!("{number} {scale}");
            next += 1;
        }
        // A number that ends its clause ("rose to 30.") counts nothing named.
        if words[next - 1].ends_with([',', '.', ';', ':']) {
            continue;
        }
        let context = words
            .get(next)
            .and_then(|word| content_words(word).into_iter().next())
            .filter(|word| !is_month(word));
        if let Some(context) = context {
            found.push((number, context));
        }
    }
    found
}

/// Dates written as "19 September 2023", "September 19, 2023" or "2023-09-19", as ISO
/// `YYYY-MM-DD`; a day and month without a year take `default_year` when known.
pub fn dates(text: &str, default_year: Option<i32>) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == '/' || c == ',')
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
                .to_string()
        })
        .filter(|word| !word.is_empty())
        .collect();
    let mut found = Vec::new();
    for (index, word) in words.iter().enumerate() {
        if let Some(iso) = iso_date(word) {
            found.push(iso);
            continue;
        }
        let Some(month) = month_number(word) else {
            continue;
        };
        let day_before = index.checked_sub(1).and_then(|i| day_number(&words[i]));
        let day_after = words.get(index + 1).and_then(|w| day_number(w));
        let (day, year_at) = match (day_before, day_after) {
            (Some(day), _) => (day, index + 1),
            (None, Some(day)) => (day, index + 2),
            _ => continue,
        };
        let year = words
            .get(year_at)
            .and_then(|w| w.parse::<i32>().ok())
            .filter(|year| (1900..=2100).contains(year))
            .or(default_year);
        if let Some(year) = year {
            found.push(format!("{year:04}-{month:02}-{day:02}"));
        }
    }
    found.dedup();
    found
}

fn iso_date(word: &str) -> Option<String> {
    let parts: Vec<&str> = word.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let year: i32 = year.parse().ok().filter(|y| (1900..=2100).contains(y))?;
    let month: u32 = month.parse().ok().filter(|m| (1..=12).contains(m))?;
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

fn month_number(word: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|month| month.eq_ignore_ascii_case(word))
        .and_then(|index| u32::try_from(index + 1).ok())
}

fn is_month(word: &str) -> bool {
    month_number(word).is_some()
}

fn day_number(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_alphabetic());
    digits.parse().ok().filter(|day| (1..=31).contains(day))
}

/// The year of a published date such as "2023-09-20" or "Wed, 20 Sep 2023".
pub fn year_of(published: &str) -> Option<i32> {
    published
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse::<i32>().ok())
        .find(|year| (1900..=2100).contains(year))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_keep_initials_and_paragraphs() {
        let located = sentences(&[
            "The U.S. called for calm. Baku refused!".to_string(),
            "Was it over? Yes".to_string(),
        ]);
        let texts: Vec<&str> = located.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "The U.S. called for calm.",
                "Baku refused!",
                "Was it over?",
                "Yes"
            ]
        );
        assert_eq!(located[2].paragraph, 1);
        assert!(split_sentences("").is_empty());
        assert_eq!(split_sentences("قال علييف. وأضاف بلينكن؟ نعم").len(), 3);
    }

    #[test]
    fn entities_numbers_and_dates() {
        let text = "On Tuesday, Ilham Aliyev spoke to Antony Blinken about Nagorno-Karabakh.";
        assert_eq!(
            entity_phrases(text),
            ["Ilham Aliyev", "Antony Blinken", "Nagorno-Karabakh"]
        );
        assert!(entity_phrases("EN(وفي قال) EN(x)").is_empty());
        assert_eq!(entity_key("Aliyev"), entity_key("Aliev"));
        assert_eq!(
            entity_key("Nagorno-Karabakh"),
            entity_key("Nagorno Karabakh")
        );
        assert_eq!(
            numbers_with_context("at least 32 people died in 2023, 200 soldiers"),
            [
                ("32".to_string(), "people".to_string()),
                ("200".to_string(), "soldiers".to_string())
            ]
        );
        // Issue 13: "10 final" was an agreement, from a date followed by a word.
        assert!(numbers_with_context("On November 10, final talks began").is_empty());
        assert!(numbers_with_context("on 10 November the final round").is_empty());
        assert_eq!(
            numbers_with_context("some 120 thousand Armenians and 25% of them"),
            [
                ("120 thousand".to_string(), "armenians".to_string()),
                ("25".to_string(), "percent".to_string())
            ]
        );
        assert!(numbers_with_context("the toll rose to 30. Then").is_empty());
        assert_eq!(
            dates("on 19 September 2023 and September 20, 2023", None),
            ["2023-09-19", "2023-09-20"]
        );
        assert_eq!(dates("on 21 September", Some(2023)), ["2023-09-21"]);
        assert!(dates("on 21 September", None).is_empty());
        assert_eq!(year_of("2023-09-20"), Some(2023));
        assert_eq!(arabic_stem("وأذربيجان"), arabic_stem("الأذربيجانية"));
        assert_eq!(content_words("والأرمن"), ["ارمن"]);
    }
}
