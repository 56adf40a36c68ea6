//! Months and weekdays on both sides of a translation.
//!
//! Arabic news names months in two series, often side by side ("أيلول/ سبتمبر"): the
//! Gulf/Egyptian one (يناير ... ديسمبر) and the Levantine one (كانون الثاني ... كانون الأول).
//! Several month names are also ordinary words (مارس "practised", آب/أب "father" once folded,
//! "May" in English), so a month word counts only beside a number, another month, "شهر", or a
//! word such as "الماضي"; English "May" likewise needs a number or "in/of/since..." beside it.

use super::{arabic, Flag, FlagKind};

/// English month names, January first.
pub const MONTHS: [&str; 12] = [
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
];

/// English weekday names, Sunday first (the Arabic week).
pub const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// One-word Arabic month names (folded) and their month numbers.
const ARABIC_MONTHS: [(&str, usize); 24] = [
    ("يناير", 1),
    ("فبراير", 2),
    ("مارس", 3),
    ("ابريل", 4),
    ("مايو", 5),
    ("يونيو", 6),
    ("يونيه", 6),
    ("يوليو", 7),
    ("يوليه", 7),
    ("اغسطس", 8),
    ("سبتمبر", 9),
    ("اكتوبر", 10),
    ("نوفمبر", 11),
    ("ديسمبر", 12),
    ("شباط", 2),
    ("اذار", 3),
    ("نيسان", 4),
    ("ايار", 5),
    ("حزيران", 6),
    ("تموز", 7),
    ("اب", 8),
    ("ايلول", 9),
    ("جانفي", 1),
    ("فيفري", 2),
];

/// Two-word Levantine months: كانون الثاني (January) ... كانون الأول (December).
const ARABIC_TWO_WORD_MONTHS: [(&str, &str, usize); 4] = [
    ("كانون", "الثاني", 1),
    ("تشرين", "الاول", 10),
    ("تشرين", "الثاني", 11),
    ("كانون", "الاول", 12),
];

/// Folded Arabic weekdays with the article, Sunday first.
const ARABIC_WEEKDAYS: [&str; 7] = [
    "الاحد",
    "الاثنين",
    "الثلاثاء",
    "الاربعاء",
    "الخميس",
    "الجمعه",
    "السبت",
];

/// Words after a month that make it a month ("سبتمبر الماضي").
const MONTH_FOLLOWERS: [&str; 6] = ["الماضي", "المقبل", "الجاري", "القادم", "المنصرم", "الحالي"];

/// Month names that are also ordinary words: مارس "he practised", آب folded to اب "father",
/// نيسان (a car maker).
const AMBIGUOUS_MONTHS: [&str; 3] = ["مارس", "اب", "نيسان"];

/// Words before a month that make it a month ("منذ ديسمبر", "في أواخر مارس"), folded.
const MONTH_LEADERS: [&str; 13] = [
    "منذ",
    "في",
    "خلال",
    "حتي",
    "بدايه",
    "نهايه",
    "اواخر",
    "اوائل",
    "منتصف",
    "مطلع",
    "اواسط",
    "الي",
    "شهري",
];

/// Words before a weekday that make "الاثنين" Monday rather than "the two".
const DAY_MARKERS: [&str; 9] = [
    "يوم",
    "يومي",
    "اليوم",
    "مساء",
    "صباح",
    "ليله",
    "فجر",
    "ظهر",
    "امس",
];

/// Words after a weekday that make "الاثنين" Monday ("الاثنين الماضي").
const DAY_FOLLOWERS: [&str; 4] = ["الماضي", "المقبل", "القادم", "المنصرم"];

fn strip_one_prefix(word: &str) -> &str {
    ["و", "ف", "ب", "ل"]
        .iter()
        .find_map(|prefix| {
            word.strip_prefix(prefix)
                .filter(|rest| rest.chars().count() >= 4)
        })
        .unwrap_or(word)
}

fn is_number(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|character| character.is_numeric())
}

/// The month a folded word (or word pair starting at `index`) names, and how many words it takes.
fn arabic_month_at(words: &[String], index: usize) -> Option<(usize, usize)> {
    let word = strip_one_prefix(&words[index]);
    if let Some(next) = words.get(index + 1) {
        let pair = ARABIC_TWO_WORD_MONTHS
            .iter()
            .find(|(first, second, _)| *first == word && second == next);
        if let Some(&(_, _, month)) = pair {
            return Some((month, 2));
        }
    }
    if word == "كانون" || word == "تشرين" {
        return None;
    }
    ARABIC_MONTHS
        .iter()
        .find(|(name, _)| *name == word || *name == words[index])
        .map(|&(_, month)| (month, 1))
}

/// Months (1-12) an Arabic text names, in context.
pub fn arabic_months(text: &str) -> Vec<usize> {
    let words = arabic::folded_words(text);
    let mut months = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let Some((month, length)) = arabic_month_at(&words, index) else {
            index += 1;
            continue;
        };
        let before = index.checked_sub(1).map(|i| words[i].as_str());
        let after = words.get(index + length).map(String::as_str);
        // Only the month names that are also ordinary words need a number or a month word
        // beside them; "قمة يونيو" (the June summit) is June.
        let ambiguous = length == 1 && AMBIGUOUS_MONTHS.contains(&strip_one_prefix(&words[index]));
        let in_context = !ambiguous
            || before.is_some_and(|w| {
                is_number(w)
                    || strip_one_prefix(w) == "شهر"
                    || MONTH_LEADERS.contains(&strip_one_prefix(w))
            })
            || after.is_some_and(|w| is_number(w) || MONTH_FOLLOWERS.contains(&w))
            || (index > 0 && arabic_month_at(&words, index - 1).is_some())
            || (index + length < words.len() && arabic_month_at(&words, index + length).is_some());
        if in_context && !months.contains(&month) {
            months.push(month);
        }
        index += length;
    }
    months
}

/// Weekdays (0 = Sunday) an Arabic text names.
pub fn arabic_weekdays(text: &str) -> Vec<usize> {
    weekdays_in(text, true)
}

/// Weekdays an Arabic text may name: also "الاثنين" with nothing around it that makes it Monday
/// ("بوم الاثنين" with a typo, a list). Used to accept an English weekday, never to ask for one.
pub fn arabic_weekdays_loosely(text: &str) -> Vec<usize> {
    weekdays_in(text, false)
}

fn weekdays_in(text: &str, strict: bool) -> Vec<usize> {
    let words = arabic::folded_words(text);
    let mut days = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let bare = ["و", "ف", "ب"]
            .iter()
            .find_map(|prefix| {
                word.strip_prefix(prefix)
                    .filter(|rest| rest.starts_with("ال"))
            })
            .unwrap_or(word);
        let Some(day) = ARABIC_WEEKDAYS.iter().position(|name| *name == bare) else {
            continue;
        };
        let needs_marker = strict && day == 1;
        let marked = index
            .checked_sub(1)
            .is_some_and(|i| DAY_MARKERS.contains(&strip_one_prefix(&words[i])))
            || words
                .get(index + 1)
                .is_some_and(|next| DAY_FOLLOWERS.contains(&next.as_str()));
        if (!needs_marker || marked) && !days.contains(&day) {
            days.push(day);
        }
    }
    days
}

fn english_words(text: &str) -> Vec<&str> {
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect()
}

/// Months (1-12) an English text names.
pub fn english_months(text: &str) -> Vec<usize> {
    const MAY_MARKERS: [&str; 14] = [
        "in", "of", "since", "until", "late", "early", "mid", "last", "next", "this", "from", "by",
        "on", "end",
    ];
    let words = english_words(text);
    let mut months = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let found = MONTHS.iter().position(|month| month == word).or_else(|| {
            let short = word.strip_suffix('.').unwrap_or(word);
            ["Jan", "Feb", "Aug", "Sept", "Oct", "Nov", "Dec"]
                .iter()
                .position(|abbreviation| *abbreviation == short)
                .map(|position| [0, 1, 7, 8, 9, 10, 11][position])
        });
        let Some(position) = found else {
            continue;
        };
        if *word == "May" {
            let before = index.checked_sub(1).map(|i| words[i].to_lowercase());
            let after = words.get(index + 1);
            let dated = before.is_some_and(|w| MAY_MARKERS.contains(&w.as_str()) || is_number(&w))
                || after.is_some_and(|w| is_number(w));
            if !dated {
                continue;
            }
        }
        if !months.contains(&(position + 1)) {
            months.push(position + 1);
        }
    }
    months
}

/// Weekdays (0 = Sunday) an English text names. A weekday followed by another capitalized word
/// that is no month is part of a name ("The Sunday Times", "Saturday Night Live").
pub fn english_weekdays(text: &str) -> Vec<usize> {
    let mut days = Vec::new();
    let mut rest = text;
    while let Some((day, after)) = next_weekday(rest) {
        rest = after;
        let next = after
            .strip_prefix(' ')
            .and_then(|after| after.split(|c: char| !c.is_alphanumeric()).next())
            .unwrap_or("");
        let in_a_name = next.starts_with(char::is_uppercase) && !MONTHS.contains(&next);
        if !in_a_name && !days.contains(&day) {
            days.push(day);
        }
    }
    days
}

/// The first whole-word weekday in `text`, and the text after it.
fn next_weekday(text: &str) -> Option<(usize, &str)> {
    let mut start = None;
    for (offset, character) in text.char_indices().chain([(text.len(), ' ')]) {
        match (character.is_alphanumeric(), start) {
            (true, None) => start = Some(offset),
            (false, Some(begin)) => {
                start = None;
                if let Some(day) = WEEKDAYS
                    .iter()
                    .position(|name| *name == &text[begin..offset])
                {
                    return Some((day, &text[offset..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// Months and weekdays must be the same on both sides.
pub fn check(source: &str, english: &str) -> Vec<Flag> {
    let mut flags = Vec::new();
    let months = arabic_months(source);
    // (what the Arabic says, what it may say, what the English says, names, first number)
    let pairs = [
        (
            months.clone(),
            months,
            english_months(english),
            &MONTHS[..],
            1,
        ),
        (
            arabic_weekdays(source),
            arabic_weekdays_loosely(source),
            english_weekdays(english),
            &WEEKDAYS[..],
            0,
        ),
    ];
    for (arabic, loosely, english, names, first) in pairs {
        let missing: Vec<&str> = arabic
            .iter()
            .filter(|item| !english.contains(item))
            .map(|&item| names[item - first])
            .collect();
        let extra: Vec<&str> = english
            .iter()
            .filter(|item| !loosely.contains(item))
            .map(|&item| names[item - first])
            .collect();
        let message = match (missing.is_empty(), extra.is_empty()) {
            (true, true) => continue,
            (false, false) => format!(
                "the Arabic says {}; the English says {}",
                missing.join(", "),
                extra.join(", ")
            ),
            (false, true) => format!(
                "the Arabic says {}; the English does not",
                missing.join(", ")
            ),
            (true, false) => format!(
                "the English says {}, which the Arabic does not",
                extra.join(", ")
            ),
        };
        let mut flag = Flag::new(FlagKind::Date, message);
        if !extra.is_empty() {
            flag = flag.english(&extra.join(", "));
        }
        flags.push(flag);
    }
    flags
}

/// "Yesterday", "today" and "tomorrow" (0, 1, 2).
const RELATIVE_DAYS: [&str; 3] = ["yesterday", "today", "tomorrow"];

/// Relative days an Arabic text names, folded and without prefixes: أمس/البارحة (yesterday),
/// اليوم/حاليا/الآن (today, also "these days"), غدا/الغد (tomorrow).
fn arabic_relative_days(text: &str) -> Vec<usize> {
    let mut days = Vec::new();
    for word in arabic::folded_words(text) {
        let bare = ["و", "ف", "ب", "ل"]
            .iter()
            .find_map(|prefix| {
                word.strip_prefix(prefix)
                    .filter(|rest| rest.chars().count() >= 3)
            })
            .unwrap_or(&word);
        let day = match bare {
            "امس" | "الامس" | "البارحه" => 0,
            "اليوم" | "حاليا" | "الان" | "الحالي" | "الحاليه" | "الراهن" | "الليله" => {
                1
            }
            "غدا" | "غد" | "الغد" => 2,
            _ => continue,
        };
        if !days.contains(&day) {
            days.push(day);
        }
    }
    days
}

/// Relative days an English text names ("tonight" is today).
fn english_relative_days(text: &str) -> Vec<usize> {
    let mut days = Vec::new();
    for word in english_words(text) {
        let lower = word.to_lowercase();
        let day = match lower.as_str() {
            "tonight" => 1,
            other => match RELATIVE_DAYS.iter().position(|name| *name == other) {
                Some(day) => day,
                None => continue,
            },
        };
        if !days.contains(&day) {
            days.push(day);
        }
    }
    days
}

/// Arabic decade words, folded, by their tens: التسعينيات and التسعينات are the nineties. Longer
/// stems first, so that no stem is found inside another.
const ARABIC_DECADES: [(&str, usize); 8] = [
    ("ثمانين", 8),
    ("ثلاثين", 3),
    ("اربعين", 4),
    ("خمسين", 5),
    ("عشرين", 2),
    ("سبعين", 7),
    ("تسعين", 9),
    ("ستين", 6),
];

/// English decade words, the twenties first.
const ENGLISH_DECADES: [&str; 8] = [
    "twenties",
    "thirties",
    "forties",
    "fifties",
    "sixties",
    "seventies",
    "eighties",
    "nineties",
];

/// The decades (by their tens, 2..=9) an Arabic text names, with the words that name them.
fn arabic_decades(text: &str) -> Vec<(usize, String)> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for (written, folded) in arabic::words_and_folds(text) {
        let tens = ARABIC_DECADES.iter().find_map(|&(stem, tens)| {
            let (_, rest) = folded.split_once(stem)?;
            matches!(rest, "ات" | "يات").then_some(tens)
        });
        if let Some(tens) = tens.filter(|tens| found.iter().all(|(t, _)| t != tens)) {
            found.push((tens, written.to_string()));
        }
    }
    found
}

/// The decades an English text names: "1990s", "90s", "'90s", "nineties".
fn english_decades(text: &str) -> Vec<usize> {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    for token in lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\'' || c == '’')) {
        let token = token.trim_start_matches(['\'', '’']);
        let digits = token
            .strip_suffix("0s")
            .or_else(|| token.strip_suffix("0's"))
            .or_else(|| token.strip_suffix("0’s"));
        let tens = match digits {
            Some(digits)
                if matches!(digits.len(), 1 | 3) && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                digits.bytes().last().map(|b| usize::from(b - b'0'))
            }
            _ => ENGLISH_DECADES
                .iter()
                .position(|word| token == *word)
                .map(|index| index + 2),
        };
        if let Some(tens) = tens.filter(|tens| !found.contains(tens)) {
            found.push(tens);
        }
    }
    found
}

/// A decade the Arabic names ("أوائل التسعينيات", the early nineties) must be the English one:
/// the small model writes "the early 1920s" for it.
pub fn check_decades(source: &str, english: &str) -> Vec<Flag> {
    let arabic = arabic_decades(source);
    if arabic.is_empty() {
        return Vec::new();
    }
    let english = english_decades(english);
    let said: Vec<&str> = english
        .iter()
        .filter(|tens| (2..=9).contains(*tens))
        .map(|&tens| ENGLISH_DECADES[tens - 2])
        .collect();
    arabic
        .into_iter()
        .filter(|(tens, _)| !english.contains(tens))
        .map(|(tens, written)| {
            let decade = ENGLISH_DECADES[tens - 2];
            let message = if said.is_empty() {
                format!("the Arabic names the {decade}; the English names no decade")
            } else {
                format!(
                    "the Arabic names the {decade}; the English says the {}",
                    said.join(", the ")
                )
            };
            Flag::new(FlagKind::Date, message).arabic(&written)
        })
        .collect()
}

/// "Today" for the Arabic's أمس: the English names a relative day that the Arabic does not,
/// where the Arabic names another. A relative day the English adds or leaves out is not
/// flagged (a weekday often stands for it, and the reverse).
pub fn check_relative_days(source: &str, english: &str) -> Vec<Flag> {
    let arabic = arabic_relative_days(source);
    if arabic.is_empty() {
        return Vec::new();
    }
    let wrong: Vec<&str> = english_relative_days(english)
        .into_iter()
        .filter(|day| !arabic.contains(day))
        .map(|day| RELATIVE_DAYS[day])
        .collect();
    if wrong.is_empty() {
        return Vec::new();
    }
    let said: Vec<&str> = arabic.iter().map(|&day| RELATIVE_DAYS[day]).collect();
    vec![Flag::new(
        FlagKind::Date,
        format!(
            "the English says {}; the Arabic says {}",
            wrong.join(", "),
            said.join(", ")
        ),
    )
    .english(&wrong.join(", "))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decade_must_be_the_arabics() {
        // Sample 003: "the first in the early nineties, after the fall of the Soviet Union".
        let arabic = "وخاضت كلًا من أذربيجان وأرمينيا الحرب مرتين بشأن ناجورنو قره باغ، الأولى في \
                      أوائل التسعينيات بعد سقوط الاتحاد السوفييتي، والثانية في عام 2020.";
        let wrong =
            "Azerbaijan and Armenia fought twice over Nagorno-Karabakh, first in the early \
                     1920s after the Soviet Union's collapse, and then in 2020.";
        let flags = check_decades(arabic, wrong);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(
            flags[0].message,
            "the Arabic names the nineties; the English says the twenties"
        );
        for right in [
            "in the early 1990s",
            "in the early '90s",
            "in the early nineties",
            "in the 90's",
        ] {
            assert!(check_decades(arabic, right).is_empty(), "{right}");
        }
        assert_eq!(
            check_decades(arabic, "in the early years")[0].message,
            "the Arabic names the nineties; the English names no decade"
        );
        // "التسعينات", the other spelling; the number ninety is no decade.
        assert_eq!(check_decades("في الثمانينات", "in the 1950s").len(), 1);
        assert!(check_decades("قتل تسعين شخصا", "ninety people were killed").is_empty());
        assert!(check_decades("في الستينيات", "in the 1960s").is_empty());
    }

    #[test]
    fn both_arabic_month_series_are_read() {
        assert_eq!(arabic_months("ليلة 10 تشرين الثاني/ نوفمبر 2020"), [11]);
        assert_eq!(arabic_months("وفي نهاية أيلول/ سبتمبر 2020"), [9]);
        assert_eq!(arabic_months("في 10 ديسمبر/كانون الأول 1991"), [12]);
        assert_eq!(arabic_months("وفي تموز/يوليو الماضي"), [7]);
        assert_eq!(arabic_months("في نهاية شهر مايو/ أيار من هذا العام"), [5]);
    }

    #[test]
    fn month_words_out_of_context_are_not_months() {
        assert!(arabic_months("مارس الضغط على الحكومة").is_empty());
        assert!(arabic_months("قال الأب إن ابنه").is_empty());
        // Regression: "منذ ديسمبر" (since December) was not read as a month, and the correct
        // English "since December" was flagged.
        assert_eq!(arabic_months("وفرضت أذربيجان، منذ ديسمبر، حصارًا"), [12]);
        // Regression from the NTREX sample: "قمة يونيو" (the June summit).
        assert_eq!(
            arabic_months("بعد مرور ثلاثة أشهر من قمة يونيو التي عقدت"),
            [6]
        );
        assert!(english_months("Baku may stop the operation").is_empty());
        assert!(english_months("May God protect them").is_empty());
        assert_eq!(english_months("in May this year"), [5]);
    }

    #[test]
    fn weekdays_on_both_sides() {
        assert_eq!(arabic_weekdays("صباح اليوم الأربعاء، ذكرت الوزارة"), [3]);
        assert_eq!(arabic_weekdays("أمس الثلاثاء"), [2]);
        assert!(arabic_weekdays("اتفق الاثنين على الحوار").is_empty());
        assert_eq!(english_weekdays("on Wednesday morning"), [3]);
        // Names, not dates (NTREX lines 174, 254, 452).
        assert!(english_weekdays("told The Sunday Telegraph: \"Cromwell").is_empty());
        assert!(english_weekdays("his appearance on Saturday Night Live, where").is_empty());
        assert_eq!(
            english_weekdays("on Monday, Trump said; Tuesday October 3"),
            [1, 2]
        );
        // Monday without "يوم": a dual, a follower, a typo (NTREX lines 205, 359, 509).
        assert_eq!(arabic_weekdays("سيول يومي الاثنين والثلاثاء"), [1, 2]);
        assert_eq!(arabic_weekdays("نشره معهد أبحاث الاثنين الماضي"), [1]);
        assert!(arabic_weekdays("أمطار بوم الاثنين").is_empty());
        assert_eq!(arabic_weekdays_loosely("أمطار بوم الاثنين"), [1]);
    }

    #[test]
    fn a_relative_day_is_flagged_only_against_another() {
        // From sample 000: "أعلنت ... أمس" rendered "announced today".
        let source = "وأعلنت وزارة الدفاع الأذربيجانية، أمس الثلاثاء، إطلاق عملية عسكرية.";
        let flags = check_relative_days(
            source,
            "The ministry announced today, Tuesday, an operation.",
        );
        assert_eq!(flags.len(), 1);
        assert!(flags[0].message.contains("today"), "{flags:?}");
        assert!(flags[0].message.contains("yesterday"), "{flags:?}");
        assert!(
            check_relative_days(source, "The ministry announced on Tuesday an operation.")
                .is_empty()
        );
        assert!(
            check_relative_days(source, "The ministry announced yesterday an operation.")
                .is_empty()
        );
        // Nothing relative in the Arabic: an English "today" is not judged.
        assert!(check_relative_days("أعلنت الوزارة الثلاثاء", "announced today").is_empty());
        assert!(!check_relative_days("وصل الوزير وأمس أعلن", "arrived today").is_empty());
        assert!(
            !check_relative_days("يصل الوزير غدا إلى باكو", "arrived in Baku yesterday").is_empty()
        );
        assert!(
            check_relative_days("يصل الوزير غداً إلى باكو", "arrives in Baku tomorrow").is_empty()
        );
    }

    #[test]
    fn english_months_with_abbreviations() {
        assert_eq!(english_months("on Sept. 19, 2023"), [9]);
        assert_eq!(english_months("November 10, 2020 and October"), [11, 10]);
    }
}
