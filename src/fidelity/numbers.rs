//! Numbers on both sides of a translation, as values: Western and Arabic-Indic digits, the
//! Arabic decimal and thousands separators (٫ ٬, and ، inside digits), multiplier words
//! ("30 ألف" = 30,000; "1.5 million"), and number words on each side ("سبعة آلاف", "seven").
//!
//! The check built on these (see `fidelity::check_numbers`) asks two things: every number the
//! Arabic writes in digits is in the English (as digits or words), and every number the English
//! writes in digits is in the Arabic (as digits or words).

use super::arabic;

/// A number found in a text: its value, and the text it was read from (for the flag message).
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub value: f64,
    pub written: String,
    /// Written with digits (numbers written as words are only used to accept the other side).
    pub digits: bool,
}

/// Whether two values are the same number.
pub fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// `text` with Arabic-Indic digits and separators replaced by their Western forms.
fn western_digits(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (character as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (character as u32 - 0x06F0) as u8),
            '\u{066B}' => '.',
            '\u{066C}' => ',',
            other => other,
        })
        .collect()
}

/// A run of digits with separators inside it, read as a value: `,` `،` before exactly three
/// digits group thousands; `.` (or a lone `,` before one or two digits) is the decimal point.
fn parse_digits(token: &str) -> Option<f64> {
    let mut integer = String::new();
    let mut fraction: Option<String> = None;
    let groups: Vec<(Option<char>, &str)> = split_groups(token);
    for (separator, digits) in groups {
        match (separator, &mut fraction) {
            (None, _) => integer.push_str(digits),
            (Some(_), Some(_)) => return None,
            (Some(',' | '،'), None) if digits.len() == 3 => integer.push_str(digits),
            (Some(_), None) => fraction = Some(digits.to_string()),
        }
    }
    let text = match fraction {
        Some(fraction) => format!("{integer}.{fraction}"),
        None => integer,
    };
    text.parse().ok()
}

/// `12,345.6` → `[(None, "12"), (Some(','), "345"), (Some('.'), "6")]`.
fn split_groups(token: &str) -> Vec<(Option<char>, &str)> {
    let mut groups = Vec::new();
    let mut separator = None;
    let mut start = 0;
    for (offset, character) in token.char_indices() {
        if !character.is_ascii_digit() {
            groups.push((separator, &token[start..offset]));
            separator = Some(character);
            start = offset + character.len_utf8();
        }
    }
    groups.push((separator, &token[start..]));
    groups
}

/// Digit runs in `text` (already in Western digits), with the byte range each covers.
fn digit_tokens(text: &str) -> Vec<(usize, usize)> {
    let characters: Vec<(usize, char)> = text.char_indices().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        if !characters[index].1.is_ascii_digit() {
            index += 1;
            continue;
        }
        let start = index;
        while index < characters.len() {
            let character = characters[index].1;
            let separator_inside = matches!(character, ',' | '.' | '،')
                && characters
                    .get(index + 1)
                    .is_some_and(|(_, next)| next.is_ascii_digit())
                && index > start;
            if character.is_ascii_digit() || separator_inside {
                index += 1;
            } else {
                break;
            }
        }
        let end = characters
            .get(index)
            .map_or(text.len(), |&(offset, _)| offset);
        tokens.push((characters[start].0, end));
    }
    tokens
}

/// The first word after byte `end` in `text`.
fn next_word(text: &str, end: usize) -> &str {
    text[end..]
        .split(|character: char| !(character.is_alphanumeric() || arabic_mark(character)))
        .find(|word| !word.is_empty())
        .unwrap_or("")
}

fn arabic_mark(character: char) -> bool {
    matches!(character, '\u{064B}'..='\u{065F}' | '\u{0640}')
}

/// Multiplier of an Arabic word after a number ("ألف", "ملايين"...), folded.
fn arabic_multiplier(folded: &str) -> Option<f64> {
    match folded {
        "الف" | "الاف" | "الفا" | "الفين" => Some(1e3),
        "مليون" | "ملايين" | "مليونا" => Some(1e6),
        "مليار" | "مليارات" | "مليارا" | "بليون" => Some(1e9),
        "تريليون" => Some(1e12),
        _ => None,
    }
}

/// Multiplier of an English word after a number; `money` when the word is written onto an
/// amount of money ("£125m", "$3bn", "€40k": "m" is a million there, a metre elsewhere).
fn english_multiplier(word: &str, money: bool) -> Option<f64> {
    match (word.to_lowercase().as_str(), money) {
        ("thousand" | "thousands", _) | ("k", true) => Some(1e3),
        ("million" | "millions" | "mln" | "mn", _) | ("m", true) => Some(1e6),
        ("billion" | "billions" | "bln" | "bn", _) => Some(1e9),
        ("trillion" | "tn", _) => Some(1e12),
        _ => None,
    }
}

/// Whether the digits at `start..end` of `text` are an amount with its suffix written onto it:
/// a currency sign before them and a letter straight after.
fn money_suffix(text: &str, start: usize, end: usize) -> bool {
    let sign = text[..start]
        .chars()
        .next_back()
        .is_some_and(|c| matches!(c, '£' | '$' | '€' | '¥'));
    sign && text[end..].chars().next().is_some_and(char::is_alphabetic)
}

/// Minutes of a clock time ("04:00", "19:30"): digits right after "H:" or "HH:".
fn minutes_of_clock(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev();
    before.next() == Some(':') && before.next().is_some_and(|c| c.is_ascii_digit())
}

/// Numbers written in digits, each with a multiplier word that follows it, by `multiplier`
/// (given the word and whether it is written onto an amount of money). The minutes of a clock
/// time are no number of their own when they are ":00" ("04:00" is the Arabic's "الساعة 4").
fn digit_numbers(text: &str, multiplier: impl Fn(&str, bool) -> Option<f64>) -> Vec<Number> {
    let text = western_digits(text);
    let mut numbers = Vec::new();
    for (start, end) in digit_tokens(&text) {
        let token = &text[start..end];
        if token == "00" && minutes_of_clock(&text, start) {
            continue;
        }
        let Some(mut value) = parse_digits(token) else {
            continue;
        };
        let mut written = token.to_string();
        let word = next_word(&text, end);
        if let Some(factor) = multiplier(word, money_suffix(&text, start, end)) {
            value *= factor;
            written = format!("{token} {word}");
        }
        let other_clock = other_clock_hour(&text, end, value);
        numbers.push(Number {
            value,
            written,
            digits: true,
        });
        // The hour on the other clock counts as said, but need not be said itself.
        if let Some(hour) = other_clock {
            numbers.push(Number {
                value: hour,
                written: token.to_string(),
                digits: false,
            });
        }
    }
    numbers
}

/// The same hour on the other clock, for the hour of a clock time: "14:00" is 2 p.m. and
/// "2:00 PM" or "2 pm" is 14:00, so that the Arabic's 14:00 and the English's 2:00 PM match.
fn other_clock_hour(text: &str, end: usize, value: f64) -> Option<f64> {
    let rest = &text[end..];
    let minutes = rest
        .strip_prefix(':')
        .filter(|after| after.len() >= 2 && after.as_bytes()[..2].iter().all(u8::is_ascii_digit));
    if minutes.is_some() && (13.0..=23.0).contains(&value) && value.fract() == 0.0 {
        return Some(value - 12.0);
    }
    let after_minutes = minutes.map_or(rest, |after| &after[2..]);
    let marker = after_minutes.trim_start().to_ascii_lowercase();
    let afternoon = marker.starts_with("pm") || marker.starts_with("p.m.");
    (afternoon && (1.0..=11.0).contains(&value) && value.fract() == 0.0).then_some(value + 12.0)
}

/// Numbers in Arabic text: digits (with multiplier words) and number words.
pub fn arabic_numbers(text: &str) -> Vec<Number> {
    let mut numbers = digit_numbers(text, |word, _| arabic_multiplier(&arabic::fold(word)));
    numbers.extend(arabic_word_numbers(text));
    numbers
}

/// Numbers in English text: digits (with multiplier words and ordinal endings) and number words.
pub fn english_numbers(text: &str) -> Vec<Number> {
    let mut numbers: Vec<Number> = digit_numbers(text, english_multiplier)
        .into_iter()
        .filter(|number| !is_decade(text, &number.written))
        .collect();
    numbers.extend(english_word_numbers(text));
    numbers
}

/// "1990s": a decade, which Arabic writes as a word (التسعينيات), not a number to match.
fn is_decade(text: &str, written: &str) -> bool {
    text.contains(&format!("{written}s")) && written.ends_with('0') && written.len() == 4
}

/// Arabic cardinal number words, folded.
const WORDS: [(&str, f64); 46] = [
    ("واحد", 1.0),
    ("واحده", 1.0),
    ("اثنان", 2.0),
    ("اثنين", 2.0),
    ("اثنتان", 2.0),
    ("اثنتين", 2.0),
    ("اثنا", 2.0),
    ("اثني", 2.0),
    ("ثلاث", 3.0),
    ("ثلاثه", 3.0),
    ("اربع", 4.0),
    ("اربعه", 4.0),
    ("خمس", 5.0),
    ("خمسه", 5.0),
    ("ست", 6.0),
    ("سته", 6.0),
    ("سبع", 7.0),
    ("سبعه", 7.0),
    ("ثماني", 8.0),
    ("ثمانيه", 8.0),
    ("ثمان", 8.0),
    ("تسع", 9.0),
    ("تسعه", 9.0),
    ("عشر", 10.0),
    ("عشره", 10.0),
    ("عشرون", 20.0),
    ("عشرين", 20.0),
    ("ثلاثون", 30.0),
    ("ثلاثين", 30.0),
    ("اربعون", 40.0),
    ("اربعين", 40.0),
    ("خمسون", 50.0),
    ("خمسين", 50.0),
    ("ستون", 60.0),
    ("ستين", 60.0),
    ("سبعون", 70.0),
    ("سبعين", 70.0),
    ("ثمانون", 80.0),
    ("ثمانين", 80.0),
    ("تسعون", 90.0),
    ("تسعين", 90.0),
    ("ميه", 100.0),
    ("مايه", 100.0),
    ("ميتان", 200.0),
    ("ميتين", 200.0),
    ("ميتي", 200.0),
];
/// Ordinals, which English writes in digits ("القرن التاسع عشر" is the 19th century, "الأولى"
/// No. 1); "الاول" of "كانون الاول" is a month, but a number word only ever accepts.
const ORDINALS: [(&str, f64); 22] = [
    ("اول", 1.0),
    ("اولى", 1.0),
    ("اولي", 1.0),
    ("ثاني", 2.0),
    ("ثانيه", 2.0),
    ("ثالث", 3.0),
    ("ثالثه", 3.0),
    ("رابع", 4.0),
    ("رابعه", 4.0),
    ("خامس", 5.0),
    ("خامسه", 5.0),
    ("سادس", 6.0),
    ("سادسه", 6.0),
    ("سابع", 7.0),
    ("سابعه", 7.0),
    ("ثامن", 8.0),
    ("ثامنه", 8.0),
    ("تاسع", 9.0),
    ("تاسعه", 9.0),
    ("عاشر", 10.0),
    ("عاشره", 10.0),
    ("حادي", 1.0),
];
/// Two hundred, and the multipliers.
const MORE: [(&str, f64); 8] = [
    ("مايتين", 200.0),
    ("مايتي", 200.0),
    ("الف", 1e3),
    ("الفين", 2e3),
    ("الفان", 2e3),
    ("مليون", 1e6),
    ("مليونين", 2e6),
    ("مليار", 1e9),
];
/// The value of an Arabic number word (folded, without its prefixes), when it is one.
pub(super) fn arabic_word_value(folded: &str) -> Option<f64> {
    WORDS
        .iter()
        .chain(MORE.iter())
        .chain(ORDINALS.iter())
        .find(|(word, _)| *word == folded)
        .map(|&(_, value)| value)
        .or_else(|| {
            let hundreds = folded
                .strip_suffix("ميه")
                .or_else(|| folded.strip_suffix("مايه"))?;
            let unit = arabic_word_value(hundreds.trim_end_matches('ا'))?;
            (unit < 10.0).then_some(unit * 100.0)
        })
}

/// Arabic number words: a unit, ten or hundred word, times a multiplier word after it
/// ("سبعة آلاف" = 7,000), and "X و Y" sums of them are each taken on their own.
fn arabic_word_numbers(text: &str) -> Vec<Number> {
    let words = arabic::folded_words(text);
    let mut numbers = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let bare = ["وال", "ال", "و", "ب", "ل"]
            .iter()
            .find_map(|prefix| {
                word.strip_prefix(prefix)
                    .filter(|rest| rest.chars().count() >= 3)
            })
            .unwrap_or(word);
        let Some(value) = arabic_word_value(word).or_else(|| arabic_word_value(bare)) else {
            continue;
        };
        // "30 ألف": the word multiplies the digits before it and is no number of its own.
        if index > 0 && is_digits(&words[index - 1]) {
            continue;
        }
        let next = words.get(index + 1);
        // "تسعة عشر", "التاسع عشر", "اثنا عشر": a unit and "ten" are one number, 11 to 19.
        let teen =
            value < 10.0 && next.is_some_and(|next| matches!(strip_article(next), "عشر" | "عشره"));
        let factor = next
            .and_then(|next| arabic_multiplier(next))
            .filter(|_| value < 1e3)
            .unwrap_or(1.0);
        numbers.push(Number {
            value: if teen { value + 10.0 } else { value * factor },
            written: word.clone(),
            digits: false,
        });
    }
    numbers
}

fn strip_article(word: &str) -> &str {
    word.strip_prefix("ال")
        .filter(|rest| rest.chars().count() >= 3)
        .unwrap_or(word)
}

fn is_digits(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|character| character.is_numeric())
}

/// The value of an English number word.
fn english_word_value(word: &str) -> Option<f64> {
    const WORDS: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let lower = word.to_lowercase();
    if let Some(index) = WORDS.iter().position(|w| *w == lower) {
        return Some(index as f64);
    }
    if let Some(index) = TENS.iter().position(|w| *w == lower) {
        return Some((index as f64 + 2.0) * 10.0);
    }
    match lower.as_str() {
        "hundred" => Some(100.0),
        "dozen" => Some(12.0),
        _ => english_multiplier(&lower, false),
    }
}

/// English number words, read as phrases: "seven thousand", "two hundred", "twenty-five".
fn english_word_numbers(text: &str) -> Vec<Number> {
    let words: Vec<&str> = text
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    let mut numbers = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let Some(first) = english_word_value(words[index]) else {
            index += 1;
            continue;
        };
        if index > 0 && is_digits(words[index - 1]) && first >= 1e3 {
            index += 1;
            continue;
        }
        let (mut total, mut current) = (0.0, first);
        let start = index;
        index += 1;
        while let Some(value) = words.get(index).and_then(|word| english_word_value(word)) {
            if value >= 1e3 {
                total += current.max(1.0) * value;
                current = 0.0;
            } else if value == 100.0 {
                current = current.max(1.0) * 100.0;
            } else {
                current += value;
            }
            index += 1;
        }
        numbers.push(Number {
            value: total + current,
            written: words[start..index].join(" "),
            digits: false,
        });
    }
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(numbers: &[Number]) -> Vec<f64> {
        numbers.iter().map(|number| number.value).collect()
    }

    #[test]
    fn arabic_digits_separators_and_multipliers() {
        assert_eq!(
            values(&arabic_numbers("قُتل ما يصل إلى 30 ألف شخص")),
            [30_000.0]
        );
        assert_eq!(values(&arabic_numbers("نحو ٦٥٠٠ شخص")), [6500.0]);
        assert_eq!(values(&arabic_numbers("بنسبة ٦٫٥ بالمئة")), [6.5]);
        assert_eq!(values(&arabic_numbers("30،000 نازح")), [30_000.0]);
        // "الأول" of the month is also read as the word "first", which only ever accepts.
        let digits: Vec<Number> = arabic_numbers("في 10 ديسمبر/كانون الأول 1991،")
            .into_iter()
            .filter(|number| number.digits)
            .collect();
        assert_eq!(values(&digits), [10.0, 1991.0]);
        assert_eq!(values(&arabic_numbers("1.5 مليون دولار")), [1_500_000.0]);
    }

    #[test]
    fn arabic_number_words() {
        assert!(values(&arabic_numbers("إجلاء نحو سبعة آلاف شخص")).contains(&7000.0));
        assert!(values(&arabic_numbers("وأكثر من مئتي جريح")).contains(&200.0));
        assert!(values(&arabic_numbers("في القرن العشرين")).contains(&20.0));
    }

    #[test]
    fn english_digits_words_and_decades() {
        assert_eq!(values(&english_numbers("up to 30,000 people")), [30_000.0]);
        assert_eq!(values(&english_numbers("30 thousand people")), [30_000.0]);
        assert_eq!(
            values(&english_numbers("about seven thousand people")),
            [7000.0]
        );
        assert_eq!(values(&english_numbers("6.5%")), [6.5]);
        assert_eq!(values(&english_numbers("on September 2nd")), [2.0]);
        assert!(english_numbers("in the 1990s").is_empty());
        assert_eq!(values(&english_numbers("two hundred wounded")), [200.0]);
    }

    // False alarms on human translations (NTREX lines 60, 71, 173, 379, 471), and their limits.
    #[test]
    fn suffixed_amounts_clock_times_and_ordinals() {
        assert_eq!(
            values(&english_numbers("the UK's £2.8bn beauty market")),
            [2.8e9]
        );
        assert_eq!(
            values(&english_numbers("for £125m, three years ago")),
            [125e6, 3.0]
        );
        assert_eq!(values(&english_numbers("a 300m bridge")), [300.0]);
        assert_eq!(values(&english_numbers("at about 04:00 BST")), [4.0]);
        assert_eq!(values(&english_numbers("at 19:30")), [19.0, 7.0, 30.0]);
        // Sample 003: "حتى الساعة 14:00 بالتوقيت المحلي" rendered "until 2:00 PM local time".
        assert_eq!(
            values(&arabic_numbers("حتى الساعة 14:00 بالتوقيت المحلي")),
            [14.0, 2.0]
        );
        assert_eq!(
            values(&english_numbers("until 2:00 PM local time")),
            [2.0, 14.0]
        );
        assert_eq!(values(&english_numbers("at 3 p.m. on Monday")), [3.0, 15.0]);
        assert_eq!(values(&english_numbers("2:00 am")), [2.0]);
        assert!(crate::fidelity::check_numbers(
            "وأضاف المسؤولون في أرمينيا أنه حتى الساعة 14:00 بالتوقيت المحلين 10:00 بتوقيت جرينتش",
            "And the officials in Armenia said that until 2:00 PM local time (10:00 GMT)",
        )
        .is_empty());
        // The other clock is no licence for another hour.
        assert_eq!(
            crate::fidelity::check_numbers("حتى الساعة 14:00", "until 4:00 PM").len(),
            2
        );
        assert!(values(&arabic_numbers("رأي القرن التاسع عشر")).contains(&19.0));
        assert!(values(&arabic_numbers("في أواخر القرن تسعة عشر")).contains(&19.0));
        assert!(values(&arabic_numbers("أن تصبح الأولى في ابتكارات")).contains(&1.0));
    }
}
