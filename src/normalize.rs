//! Arabic text cleanup: one canonical form for the text, and removal of scraped boilerplate.
//!
//! Everything downstream (sentence splitting, token counting, the translation cache keys) sees
//! the text produced here, so the cleanup must be deterministic and conservative. Text from the
//! web carries Arabic presentation forms, tatweel (kashida) stretching, invisible direction
//! marks and zero-width characters: they change nothing for a reader but change the bytes, so
//! [`normalize_text`] folds them away (NFKC, then explicit removals). Digits are kept as written.
//! Diacritics are removed only on request, since they can carry meaning.
//!
//! [`clean`] treats every non-empty line as a paragraph (scraped articles use single and double
//! newlines alike) and drops lines that are page furniture rather than article: configured
//! boilerplate ("اخترنا لك", "اقرأ أيضاً: ..."), bulleted image captions together with the line
//! that repeats them, and a lone Latin word such as an agency logo ("Sputnik") in an Arabic
//! article. Short unpunctuated Arabic lines are kept: in news articles they are subheadings.

use unicode_normalization::UnicodeNormalization;

/// What `normalize` may do, from settings `[normalize]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeSettings {
    /// Keep Arabic diacritics (harakat). Dropping them changes the cache key of every chunk.
    pub keep_diacritics: bool,
    /// Drop scraped boilerplate lines.
    pub drop_boilerplate: bool,
    /// Lines equal to one of these (after cleanup, ignoring final punctuation) are boilerplate.
    pub boilerplate_lines: Vec<String>,
    /// Lines starting with one of these are boilerplate ("اقرأ أيضاً: ...").
    pub boilerplate_prefixes: Vec<String>,
}

/// A line removed from the article, recorded in the article's JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dropped {
    pub text: String,
    /// Why: "boilerplate", "caption", "latin-line".
    pub reason: String,
}

/// The cleaned article body.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cleaned {
    /// Paragraphs in order, each non-empty, whitespace collapsed.
    pub paragraphs: Vec<String>,
    pub dropped: Vec<Dropped>,
}

/// Reason recorded for a configured boilerplate line or prefix.
pub const REASON_BOILERPLATE: &str = "boilerplate";
/// Reason recorded for a bulleted image caption and the line repeating it.
pub const REASON_CAPTION: &str = "caption";
/// Reason recorded for a lone Latin-script word line in an Arabic article.
pub const REASON_LATIN_LINE: &str = "latin-line";

const TATWEEL: char = '\u{0640}';

/// Bullets that start an image caption line in scraped pages.
const CAPTION_BULLETS: [char; 8] = ['•', '·', '▪', '●', '■', '◦', '-', '*'];

/// Longest line (in characters) still taken as the repetition of a caption.
const MAX_CAPTION_REPEAT_CHARS: usize = 120;

/// Longest bulleted line (in characters, bullet included) still taken as an image caption.
/// Captions in scraped Arabic news are a short phrase; a longer bulleted line is a list item of
/// the article and stays.
const MAX_CAPTION_CHARS: usize = 90;

/// Most words in a bulleted line still taken as an image caption.
const MAX_CAPTION_WORDS: usize = 14;

/// Most words in a line still taken as a lone Latin word (an outlet or agency name).
const MAX_LATIN_LINE_WORDS: usize = 3;

/// Normalize a single piece of text (Unicode, tatweel, invisible controls, whitespace, diacritics).
///
/// Line breaks are kept; spaces and tabs are collapsed within each line and every line is
/// trimmed, as is the whole text.
pub fn normalize_text(text: &str, settings: &NormalizeSettings) -> String {
    let folded: String = text
        .nfkc()
        .filter(|&character| !is_removed_character(character, settings.keep_diacritics))
        .collect();
    let lines: Vec<String> = folded.split('\n').map(collapse_spaces).collect();
    lines.join("\n").trim().to_string()
}

/// Clean a whole article body into paragraphs, dropping boilerplate lines.
pub fn clean(body: &str, settings: &NormalizeSettings) -> Cleaned {
    let matcher = BoilerplateMatcher::new(settings);
    let arabic_article = is_mostly_arabic(body);
    let mut cleaned = Cleaned {
        paragraphs: Vec::new(),
        dropped: Vec::new(),
    };
    // Key of the caption dropped on the line just before, to catch its repetition.
    let mut previous_caption: Option<String> = None;
    for raw_line in body.lines() {
        let line = normalize_text(raw_line, settings);
        if line.is_empty() {
            continue;
        }
        let reason = if settings.drop_boilerplate {
            drop_reason(&line, &matcher, previous_caption.as_deref(), arabic_article)
        } else {
            None
        };
        previous_caption = None;
        match reason {
            Some(reason) => {
                if reason == REASON_CAPTION {
                    previous_caption = Some(comparison_key(strip_bullet(&line)));
                }
                cleaned.dropped.push(Dropped {
                    text: line,
                    reason: reason.to_string(),
                });
            }
            None => cleaned.paragraphs.push(line),
        }
    }
    if cleaned.paragraphs.is_empty() {
        restore_captions(&mut cleaned);
    }
    cleaned
}

/// An article whose every line looked like a caption is a bulleted article, not furniture: its
/// caption lines come back as paragraphs, so that cleaning never empties an article by itself.
fn restore_captions(cleaned: &mut Cleaned) {
    let (captions, kept): (Vec<Dropped>, Vec<Dropped>) = std::mem::take(&mut cleaned.dropped)
        .into_iter()
        .partition(|dropped| dropped.reason == REASON_CAPTION);
    cleaned.dropped = kept;
    cleaned.paragraphs = captions.into_iter().map(|dropped| dropped.text).collect();
}

/// Why `line` should be dropped, if it should.
fn drop_reason(
    line: &str,
    matcher: &BoilerplateMatcher,
    previous_caption: Option<&str>,
    arabic_article: bool,
) -> Option<&'static str> {
    if matcher.matches(line) {
        return Some(REASON_BOILERPLATE);
    }
    if is_bulleted_caption(line) {
        return Some(REASON_CAPTION);
    }
    if previous_caption.is_some_and(|caption| repeats_caption(line, caption)) {
        return Some(REASON_CAPTION);
    }
    if arabic_article && is_lone_latin_line(line) {
        return Some(REASON_LATIN_LINE);
    }
    None
}

/// True for characters that normalization removes.
fn is_removed_character(character: char, keep_diacritics: bool) -> bool {
    character == TATWEEL
        || is_invisible_control(character)
        || (!keep_diacritics && is_arabic_diacritic(character))
}

/// Zero-width characters, bidi controls, the BOM, the Arabic letter mark and the soft hyphen.
fn is_invisible_control(character: char) -> bool {
    matches!(
        character,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{061C}'
            | '\u{00AD}'
    )
}

/// Arabic harakat, tanween, shadda, sukun, superscript alef and Quranic annotation marks.
fn is_arabic_diacritic(character: char) -> bool {
    matches!(
        character,
        '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}'
    )
}

/// One line with runs of whitespace collapsed to a single space and both ends trimmed.
fn collapse_spaces(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_arabic_letter(character: char) -> bool {
    character.is_alphabetic()
        && matches!(
            character,
            '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}'
        )
}

fn is_latin_letter(character: char) -> bool {
    character.is_ascii_alphabetic()
        || (character.is_alphabetic() && matches!(character, '\u{00C0}'..='\u{024F}'))
}

/// True when the text has more Arabic letters than Latin ones.
fn is_mostly_arabic(text: &str) -> bool {
    let arabic = text.chars().filter(|&c| is_arabic_letter(c)).count();
    let latin = text.chars().filter(|&c| is_latin_letter(c)).count();
    arabic > latin
}

/// True when a line ends a sentence or a clause (ignoring closing quotes and brackets).
pub(crate) fn ends_with_sentence_punctuation(line: &str) -> bool {
    let without_closers = line.trim_end_matches(|c: char| c.is_whitespace() || is_closer(c));
    without_closers.ends_with(['.', '؟', '?', '!', '؛', ':', '…'])
}

/// Closing quotes and brackets that may follow a sentence's final mark.
pub(crate) fn is_closer(character: char) -> bool {
    matches!(
        character,
        '"' | '\'' | '»' | '”' | '’' | '›' | ')' | ']' | '}'
    )
}

/// `line` without a leading caption bullet, or `line` itself.
fn strip_bullet(line: &str) -> &str {
    match bullet_rest(line) {
        Some(rest) => rest,
        None => line,
    }
}

/// The text after a leading bullet, when the line starts with one. ASCII bullets (`-`, `*`)
/// must be followed by a space, so that "-5" or "*" emphasis is not a bullet.
fn bullet_rest(line: &str) -> Option<&str> {
    let first = line.chars().next()?;
    if !CAPTION_BULLETS.contains(&first) {
        return None;
    }
    let rest = &line[first.len_utf8()..];
    let ascii_bullet = first == '-' || first == '*';
    if ascii_bullet && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    if rest.is_empty() {
        None
    } else {
        Some(rest)
    }
}

/// A short bulleted line without sentence punctuation: an image caption in a scraped page.
/// Long bulleted lines are list items of the article, never captions.
fn is_bulleted_caption(line: &str) -> bool {
    bullet_rest(line).is_some()
        && !ends_with_sentence_punctuation(line)
        && line.chars().count() <= MAX_CAPTION_CHARS
        && line.split_whitespace().count() <= MAX_CAPTION_WORDS
}

/// A short unpunctuated line saying the same as the caption dropped just before it.
fn repeats_caption(line: &str, caption_key: &str) -> bool {
    line.chars().count() <= MAX_CAPTION_REPEAT_CHARS
        && !ends_with_sentence_punctuation(line)
        && comparison_key(strip_bullet(line)) == caption_key
}

/// A line of one to three Latin-script words and no Arabic letter, such as "Sputnik".
fn is_lone_latin_line(line: &str) -> bool {
    let has_latin = line.chars().any(is_latin_letter);
    let has_arabic = line.chars().any(is_arabic_letter);
    let words = line.split_whitespace().count();
    has_latin && !has_arabic && words <= MAX_LATIN_LINE_WORDS
}

/// Loose form for comparisons: no diacritics or tatweel, lower case, punctuation replaced by
/// spaces, whitespace collapsed.
fn comparison_key(text: &str) -> String {
    let spaced: String = loose_form(text)
        .chars()
        .map(|c| if is_punctuation(c) { ' ' } else { c })
        .collect();
    collapse_spaces(&spaced)
}

/// Text without diacritics, tatweel or invisible controls, in lower case, whitespace collapsed.
fn loose_form(text: &str) -> String {
    let stripped: String = text
        .nfkc()
        .filter(|&c| !is_removed_character(c, false))
        .flat_map(char::to_lowercase)
        .collect();
    collapse_spaces(&stripped)
}

/// Neither a letter, a digit, a combining mark nor whitespace.
fn is_punctuation(character: char) -> bool {
    !character.is_alphanumeric() && !character.is_whitespace() && !is_arabic_diacritic(character)
}

/// Configured boilerplate, prepared once per article for loose comparison.
struct BoilerplateMatcher {
    /// Keys of whole boilerplate lines (trailing punctuation ignored).
    line_keys: Vec<String>,
    /// Loose forms of boilerplate prefixes (punctuation kept, space before a colon removed).
    prefixes: Vec<String>,
}

impl BoilerplateMatcher {
    fn new(settings: &NormalizeSettings) -> Self {
        let line_keys = settings
            .boilerplate_lines
            .iter()
            .map(|line| line_key(line))
            .filter(|key| !key.is_empty())
            .collect();
        let prefixes = settings
            .boilerplate_prefixes
            .iter()
            .map(|prefix| prefix_form(prefix))
            .filter(|prefix| !prefix.is_empty())
            .collect();
        BoilerplateMatcher {
            line_keys,
            prefixes,
        }
    }

    fn matches(&self, line: &str) -> bool {
        let key = line_key(line);
        if self.line_keys.contains(&key) {
            return true;
        }
        let form = prefix_form(line);
        self.prefixes
            .iter()
            .any(|prefix| starts_with_whole_word(&form, prefix))
    }
}

/// Loose form with trailing punctuation and spaces removed.
fn line_key(text: &str) -> String {
    loose_form(text)
        .trim_end_matches(|c: char| c.is_whitespace() || is_punctuation(c))
        .to_string()
}

/// Loose form with any space before a colon removed ("اقرأ أيضاً :" reads as "اقرأ أيضاً:").
fn prefix_form(text: &str) -> String {
    loose_form(text).replace(" :", ":")
}

/// `text` starts with `prefix`, and the prefix does not end inside a word of `text`.
fn starts_with_whole_word(text: &str, prefix: &str) -> bool {
    let Some(rest) = text.strip_prefix(prefix) else {
        return false;
    };
    let prefix_ends_word = prefix.chars().last().is_some_and(|c| !c.is_alphanumeric());
    let rest_starts_word = rest.chars().next().is_some_and(char::is_alphanumeric);
    prefix_ends_word || !rest_starts_word
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(keep_diacritics: bool) -> NormalizeSettings {
        NormalizeSettings {
            keep_diacritics,
            drop_boilerplate: true,
            boilerplate_lines: [
                "اخترنا لك",
                "مناقشة",
                "Sputnik",
                "شارك",
                "تابعونا",
                "إقرأ أيضا",
                "اقرأ أيضا",
                "اقرأ أيضاً",
            ]
            .map(String::from)
            .to_vec(),
            boilerplate_prefixes: ["اقرأ أيضاً:", "اقرأ أيضا:", "إقرأ أيضا:", "اخترنا لك:"]
                .map(String::from)
                .to_vec(),
        }
    }

    fn dropped(text: &str, reason: &str) -> Dropped {
        Dropped {
            text: text.to_string(),
            reason: reason.to_string(),
        }
    }

    fn sample(name: &str) -> String {
        let path = format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).expect("sample file is readable")
    }

    #[test]
    fn presentation_forms_fold_to_base_letters() {
        // U+FEE3 U+FEAE U+FE8E ... : "مرحبا" written with presentation forms.
        let text = "\u{FEE3}\u{FEAE}\u{FEA3}\u{FE92}\u{FE8E}";
        assert_eq!(normalize_text(text, &settings(true)), "مرحبا");
        assert_eq!(normalize_text("ﻣﺮﺣﺒﺎ", &settings(true)), "مرحبا");
        // Lam-alef ligature (U+FEFB) becomes two letters; U+FDF2 is the word "الله".
        assert_eq!(normalize_text("\u{FEFB}", &settings(true)), "لا");
        assert_eq!(normalize_text("\u{FDF2}", &settings(true)), "الله");
    }

    #[test]
    fn tatweel_is_removed() {
        assert_eq!(normalize_text("مـــرحبا", &settings(true)), "مرحبا");
    }

    #[test]
    fn zero_width_and_bidi_controls_are_removed() {
        let text =
            "\u{FEFF}\u{200F}مر\u{200B}حبا\u{202B} \u{2067}بكم\u{2069}\u{061C}\u{00AD}\u{200D}";
        assert_eq!(normalize_text(text, &settings(true)), "مرحبا بكم");
    }

    #[test]
    fn digits_are_kept_as_written() {
        let text = "عام ٢٠٢٣ و 2023 و ۲۰۲۳";
        assert_eq!(normalize_text(text, &settings(false)), text);
    }

    #[test]
    fn diacritics_are_kept_or_dropped_on_request() {
        let text = "عَبَّرَ بلينكن مجدداً عن قلقه، وأُعلِنَ ذلك";
        assert_eq!(normalize_text(text, &settings(true)), text);
        assert_eq!(
            normalize_text(text, &settings(false)),
            "عبر بلينكن مجددا عن قلقه، وأعلن ذلك"
        );
    }

    #[test]
    fn whitespace_is_collapsed_and_trimmed() {
        let text = "  وقال\t\t علييف \u{00A0} إن  \n  الجيش   ";
        assert_eq!(
            normalize_text(text, &settings(true)),
            "وقال علييف إن\nالجيش"
        );
    }

    #[test]
    fn sample_001_drops_caption_repetition_and_boilerplate() {
        let body = sample("001_e51f061674820845.txt");
        let cleaned = clean(&body, &settings(true));
        assert_eq!(
            cleaned.dropped,
            vec![
                dropped("• الرئيس الأذربيجاني، إلهام علييف", REASON_CAPTION),
                dropped("الرئيس الأذربيجاني إلهام علييف", REASON_CAPTION),
                dropped(
                    "اقرأ أيضاً: أذربيجان تعلن سيطرتها على 60 موقعاً في ناغورنو كاراباخ.. والأخير يتحدث عن وقوع قتلى",
                    REASON_BOILERPLATE
                ),
                dropped("اخترنا لك", REASON_BOILERPLATE),
            ]
        );
        assert_eq!(
            cleaned.paragraphs[0],
            "رئيس أذربيجان: سننهي عملية كاراباخ في حال سلّمت القوات الأرمنية أسلحتها"
        );
        assert!(cleaned.paragraphs[2].starts_with("أعلن الرئيس الأذربيجاني إلهام علييف أنّ"));
        assert_eq!(cleaned.paragraphs.len(), 20);
    }

    #[test]
    fn sample_004_drops_logo_and_discussion_link() {
        let body = sample("004_b6a035201fa0cd3b.txt");
        let cleaned = clean(&body, &settings(true));
        assert_eq!(
            cleaned.dropped,
            vec![
                dropped("Sputnik", REASON_BOILERPLATE),
                dropped("مناقشة", REASON_BOILERPLATE),
            ]
        );
        assert_eq!(cleaned.paragraphs.len(), 19);
    }

    #[test]
    fn lone_latin_line_is_dropped_without_configuration() {
        let mut bare = settings(true);
        bare.boilerplate_lines.clear();
        let body = "قالت الوزارة إن العملية مستمرة.\nSputnik\nوأضافت أن الوضع هادئ.";
        let cleaned = clean(body, &bare);
        assert_eq!(cleaned.dropped, vec![dropped("Sputnik", REASON_LATIN_LINE)]);
        assert_eq!(cleaned.paragraphs.len(), 2);
    }

    #[test]
    fn latin_lines_stay_in_a_latin_article() {
        let body = "The ministry said the operation goes on.\nReuters\nIt added that all is calm.";
        let cleaned = clean(body, &settings(true));
        assert!(cleaned.dropped.is_empty());
        assert_eq!(cleaned.paragraphs.len(), 3);
    }

    #[test]
    fn samples_keep_unpunctuated_subheadings() {
        let cleaned = clean(&sample("002_fa4c1d13aaf5ba4d.txt"), &settings(true));
        assert!(cleaned.dropped.is_empty());
        assert_eq!(cleaned.paragraphs[11], "الخلاف على قره باغ");
        let cleaned = clean(&sample("003_2cfdabd13fab4b50.txt"), &settings(true));
        assert!(cleaned.dropped.is_empty());
        assert_eq!(cleaned.paragraphs[5], "فرض حصار على ممر لاتشين");
        assert_eq!(cleaned.paragraphs[8], "ازدياد التوتر في جنوب القوقاز");
        assert_eq!(cleaned.paragraphs.len(), 19);
        let cleaned = clean(&sample("000_d24ed62e350e2f11.txt"), &settings(true));
        assert!(cleaned.dropped.is_empty());
        assert_eq!(cleaned.paragraphs.len(), 16);
    }

    #[test]
    fn boilerplate_matching_ignores_final_punctuation_and_diacritics() {
        let body =
            "نص الخبر.\nتابعونا:\nشارك!\nاقرأ أيضا : خبر آخر\nاقرأ أيضاً\nشاركت الوزارة في الاجتماع.";
        let cleaned = clean(body, &settings(true));
        let texts: Vec<&str> = cleaned.dropped.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(
            texts,
            vec!["تابعونا:", "شارك!", "اقرأ أيضا : خبر آخر", "اقرأ أيضاً"]
        );
        assert_eq!(
            cleaned.paragraphs,
            vec!["نص الخبر.", "شاركت الوزارة في الاجتماع."]
        );
    }

    #[test]
    fn caption_rule_keeps_long_bulleted_paragraphs() {
        // Harm 3 of the hostile night: a real paragraph written as a bulleted line without a
        // final full stop was dropped as an image caption.
        let paragraph = "- وأضاف المتحدث باسم الوزارة أن الاجتماع المقبل سيعقد في الرياض بحضور وزراء الخارجية العرب لبحث الأوضاع في المنطقة";
        let body = format!("نص الخبر.\n{paragraph}\n• صورة من الموقع");
        let cleaned = clean(&body, &settings(true));
        assert_eq!(cleaned.paragraphs, vec!["نص الخبر.", paragraph]);
        assert_eq!(
            cleaned.dropped,
            vec![dropped("• صورة من الموقع", REASON_CAPTION)]
        );
    }

    #[test]
    fn caption_rule_never_empties_an_article() {
        // A whole article of short bulleted lines was lost as captions.
        let body = "• ارتفاع أسعار النفط\n• تراجع الدولار\nاقرأ أيضا: خبر آخر";
        let cleaned = clean(body, &settings(true));
        assert_eq!(
            cleaned.paragraphs,
            vec!["• ارتفاع أسعار النفط", "• تراجع الدولار"]
        );
        assert_eq!(
            cleaned.dropped,
            vec![dropped("اقرأ أيضا: خبر آخر", REASON_BOILERPLATE)]
        );
    }

    #[test]
    fn punctuated_bullet_lines_are_content() {
        let body = "- قالت الوزارة إن العملية مستمرة.\n• صورة من الموقع\n-5 درجات";
        let cleaned = clean(body, &settings(true));
        assert_eq!(
            cleaned.dropped,
            vec![dropped("• صورة من الموقع", REASON_CAPTION)]
        );
        assert_eq!(
            cleaned.paragraphs,
            vec!["- قالت الوزارة إن العملية مستمرة.", "-5 درجات"]
        );
    }

    #[test]
    fn nothing_is_dropped_when_boilerplate_dropping_is_off() {
        let mut keep_all = settings(true);
        keep_all.drop_boilerplate = false;
        let cleaned = clean(&sample("004_b6a035201fa0cd3b.txt"), &keep_all);
        assert!(cleaned.dropped.is_empty());
        assert_eq!(cleaned.paragraphs.len(), 21);
    }

    #[test]
    fn invisible_only_lines_and_crlf_leave_no_empty_paragraphs() {
        let body = "سطر أول.\r\n\u{200B}\u{200F}\r\n\r\n  \t \r\nسطر ثان.\r\n";
        let cleaned = clean(body, &settings(true));
        assert_eq!(cleaned.paragraphs, vec!["سطر أول.", "سطر ثان."]);
    }
}
