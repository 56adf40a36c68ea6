//! Titles: the English must not give someone an office the Arabic does not name. The default
//! model calls Aliyev (الرئيس الأذربيجاني) "Prime Minister", Pashinyan (رئيس الوزراء) "President",
//! Blinken (وزير الخارجية) "Secretary-General" and the ministry's spokeswoman Zakharova (المتحدثة
//! باسم وزارة الخارجية) "Foreign Minister": each is a name the glossary accepts with a title that
//! turns the statement into another one.
//!
//! A title in the English (from a short list of the offices news names most) needs one of its
//! Arabic forms somewhere in the chunk; matching is on folded Arabic, so spelling variants and
//! attached prefixes (والمتحدث) count. "President" needs a رئيس that is not the head of a
//! government (رئيس الوزراء, رئيس الحكومة).

use super::arabic;

/// An office, as the English writes it and as the Arabic may.
struct Title {
    english: &'static [&'static str],
    arabic: &'static [&'static str],
}

const TITLES: [Title; 7] = [
    Title {
        // Not "premier": the Premier League.
        english: &["prime minister"],
        arabic: &[
            "رئيس الوزراء",
            "رئيس وزراء",
            "رئيس الحكومة",
            "رئيسة الوزراء",
            "رئيسة وزراء",
            "رئيسة الحكومة",
        ],
    },
    Title {
        english: &[
            "foreign minister",
            "minister of foreign affairs",
            "secretary of state",
        ],
        arabic: &[
            "وزير الخارجية",
            "وزيرة الخارجية",
            "وزير خارجية",
            "وزيرة خارجية",
        ],
    },
    Title {
        english: &[
            "defense minister",
            "defence minister",
            "minister of defense",
            "minister of defence",
            "secretary of defense",
        ],
        arabic: &["وزير الدفاع", "وزيرة الدفاع", "وزير دفاع", "وزيرة دفاع"],
    },
    Title {
        english: &["spokesman", "spokeswoman", "spokesperson"],
        arabic: &["متحدث", "متحدثة", "ناطق", "ناطقة"],
    },
    Title {
        english: &["secretary-general", "secretary general"],
        arabic: &["الأمين العام", "أمين عام", "الأمينة العامة"],
    },
    Title {
        english: &["crown prince"],
        arabic: &["ولي العهد"],
    },
    Title {
        english: &["president"],
        arabic: &[],
    },
];

/// Arabic that makes رئيس a head of government, not a president.
const HEAD_OF_GOVERNMENT: [&str; 4] = ["الوزراء", "وزراء", "الحكومة", "حكومة"];

/// The titles the English gives that the Arabic does not: each as written in the English, and
/// the Arabic it would need (for the flag message).
pub fn missing(source: &str, english: &str) -> Vec<(String, &'static str)> {
    let words = arabic::folded_words(source);
    let folded = format!(" {} ", words.join(" "));
    let lower = english.to_lowercase();
    let mut found = Vec::new();
    for title in &TITLES {
        let Some(written) = title
            .english
            .iter()
            .find_map(|phrase| whole_phrase(&lower, english, phrase))
        else {
            continue;
        };
        let in_arabic = match title.arabic.first() {
            Some(_) => title.arabic.iter().any(|form| has_form(&folded, form)),
            None => has_president(&words),
        };
        if !in_arabic {
            found.push((written, title.arabic.first().copied().unwrap_or("رئيس")));
        }
    }
    found
}

/// Whether the folded text (words joined by spaces, a space at each end) has `form`, a word
/// sequence whose first word may carry a prefix (و ف ب ل, ال).
fn has_form(folded: &str, form: &str) -> bool {
    let form = arabic::folded_words(form).join(" ");
    // The last word may go on (متحدث, المتحدثون): a lenient match flags less.
    folded.match_indices(&form).any(|(at, _)| {
        let before = folded[..at].rsplit(' ').next().unwrap_or("");
        ["", "و", "ف", "ب", "ل", "ال", "وال", "بال", "لل"].contains(&before)
    })
}

/// A رئيس or رئيسة (with or without prefixes) that does not head a government.
fn has_president(words: &[String]) -> bool {
    let heads: Vec<String> = HEAD_OF_GOVERNMENT.iter().map(|w| arabic::fold(w)).collect();
    words.iter().enumerate().any(|(index, word)| {
        let bare = [
            "وبال", "وال", "بال", "فال", "لل", "ال", "وك", "و", "ف", "ب", "ل", "ك",
        ]
        .iter()
        .find_map(|prefix| {
            word.strip_prefix(prefix)
                .filter(|rest| rest.starts_with("رييس"))
        })
        .unwrap_or(word);
        // رئيس, رئيسة, رئيسهم ("their president"); not رئيسي ("main").
        let is_head = ["", "ه", "ها", "هم", "هما", "نا", "كم"]
            .iter()
            .any(|suffix| bare.strip_prefix("رييس") == Some(suffix));
        let of_government = words
            .get(index + 1)
            .is_some_and(|next| heads.contains(next));
        is_head && !of_government
    })
}

/// `phrase` (lowercase) as whole words in `lower`, returned as `original` writes it.
fn whole_phrase(lower: &str, original: &str, phrase: &str) -> Option<String> {
    lower.match_indices(phrase).find_map(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let after = lower[at + phrase.len()..].chars().next();
        let bounded = !before.is_some_and(char::is_alphanumeric)
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '-');
        // Lowercasing keeps byte offsets for the ASCII phrases matched here.
        (bounded && original.is_char_boundary(at) && original.is_char_boundary(at + phrase.len()))
            .then(|| original[at..at + phrase.len()].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(source: &str, english: &str) -> Vec<String> {
        missing(source, english)
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn wrong_offices_from_the_default_model_are_found() {
        let zakharova =
            "وقالت المتحدثة باسم وزارة الخارجية الروسية ماريا زاخاروفا إن موسكو تتابع الوضع.";
        assert_eq!(
            titles(
                zakharova,
                "Russian Foreign Minister Maria Zakharova said Moscow was following the situation."
            ),
            ["Foreign Minister"]
        );
        let right = "Russian Foreign Ministry spokeswoman Maria Zakharova said Moscow was following the situation.";
        assert!(titles(zakharova, right).is_empty());

        let aliyev = "أعلن الرئيس الأذربيجاني إلهام علييف أن العملية ستتوقف.";
        assert_eq!(
            titles(
                aliyev,
                "Prime Minister Ilham Aliyev said the operation would stop."
            ),
            ["Prime Minister"]
        );
        assert!(titles(
            aliyev,
            "President Ilham Aliyev said the operation would stop."
        )
        .is_empty());

        let pashinyan = "وقال رئيس الوزراء الأرميني نيكول باشينيان إن بلاده لن تتدخل.";
        assert_eq!(
            titles(
                pashinyan,
                "Armenian President Nikol Pashinyan said his country would not intervene."
            ),
            ["President"]
        );
        assert!(titles(
            pashinyan,
            "Armenian Prime Minister Nikol Pashinyan said his country would not intervene."
        )
        .is_empty());

        let blinken = "دعا وزير الخارجية الأمريكي أنتوني بلينكن إلى وقف العمليات.";
        assert_eq!(
            titles(
                blinken,
                "US Secretary-General Antony Blinken called for a halt."
            ),
            ["Secretary-General"]
        );
        assert!(titles(
            blinken,
            "US Secretary of State Antony Blinken called for a halt."
        )
        .is_empty());
    }

    #[test]
    fn words_that_only_look_like_titles_raise_nothing() {
        let source = "أعلنت الرئاسة الأذربيجانية أن الانتخابات الرئاسية ستجري في موعدها.";
        assert!(titles(
            source,
            "The Azerbaijani presidency said the presidential election would go ahead."
        )
        .is_empty());
        let visit = "إنه اليوم الأخير من الزيارة المثيرة للجدل للرئيس أردوغان لألمانيا.";
        assert!(titles(
            visit,
            "It's the last day of President Erdogan's visit to Germany."
        )
        .is_empty());
        let football = "أنقذ دانييل ستوريدج ليفربول من خسارة الدوري الإنجليزي.";
        assert!(titles(
            football,
            "Sturridge saved Liverpool from a Premier League loss."
        )
        .is_empty());
        let speaker = "وقال رئيس مجلس النواب إن الجلسة ستعقد غدا.";
        assert!(titles(
            speaker,
            "The president of the parliament said the session would be held tomorrow."
        )
        .is_empty());
    }
}
