// Over 600 lines only with its tests: the code is 492 lines, the tests check it against sacreBLEU's own values.
//! Corpus-level machine-translation metrics: BLEU, chrF and chrF++, with sacreBLEU 2.x defaults.
//!
//! Each function is a line-by-line port of sacreBLEU's default metric (checked against
//! sacreBLEU 2.6.0, `sacrebleu/metrics/{bleu,chrf,helpers}.py` and
//! `sacrebleu/tokenizers/tokenizer_13a.py`), with one reference per hypothesis:
//!
//! - [`bleu`]: `sacrebleu.corpus_bleu` — tokenizer `13a`, case-sensitive, n-grams up to 4,
//!   `exp` smoothing, brevity penalty, statistics summed over the corpus.
//! - [`chrf`]: `sacrebleu.corpus_chrf` — character n-grams up to 6 with whitespace removed,
//!   beta 2, case-sensitive, effective-order averaging (no epsilon smoothing).
//! - [`chrf_plus_plus`]: `CHRF(word_order=2)` — chrF plus word unigrams and bigrams, words
//!   split by sacreBLEU's punctuation rule (one leading or trailing ASCII punctuation mark).
//!
//! "Whitespace" follows Python's `str.split()` (Unicode whitespace plus U+001C..U+001F) so
//! token boundaries agree with sacreBLEU's. The unit tests compare against scores sacreBLEU
//! computed on `tests/fixtures/metrics/` (see `expected.py` and `expected.json` there).

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

/// Highest n-gram order counted by BLEU (sacreBLEU `MAX_NGRAM_ORDER`).
const BLEU_MAX_ORDER: usize = 4;

/// Highest character n-gram order of chrF (sacreBLEU `CHRF.CHAR_ORDER`).
const CHRF_CHAR_ORDER: usize = 6;

/// Word n-gram order of chrF++ (sacreBLEU `CHRF(word_order=2)`).
const CHRF_PLUS_PLUS_WORD_ORDER: usize = 2;

/// Recall weight of chrF (sacreBLEU `CHRF.BETA`).
const CHRF_BETA: f64 = 2.0;

/// Floor for `log(0)` in the BLEU geometric mean (sacreBLEU `utils.my_log`).
const LOG_OF_ZERO: f64 = -9_999_999_999.0;

/// Corpus BLEU with its components, as sacreBLEU's `BLEUScore` reports them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Bleu {
    /// BLEU score, 0 to 100.
    pub score: f64,
    /// Modified n-gram precisions for orders 1 to 4, each 0 to 100 (after `exp` smoothing).
    pub precisions: [f64; BLEU_MAX_ORDER],
    /// Brevity penalty, 0 to 1.
    pub bp: f64,
    /// Number of 13a tokens in all hypotheses.
    pub sys_len: usize,
    /// Number of 13a tokens in all references.
    pub ref_len: usize,
}

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsError {
    /// Hypotheses and references must pair up one to one.
    LengthMismatch {
        /// Number of hypothesis sentences given.
        hypotheses: usize,
        /// Number of reference sentences given.
        references: usize,
    },
}

impl fmt::Display for MetricsError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch {
                hypotheses,
                references,
            } => write!(
                formatter,
                "metric needs one reference per hypothesis, got {hypotheses} hypotheses \
                 and {references} references"
            ),
        }
    }
}

impl std::error::Error for MetricsError {}

/// Corpus BLEU exactly as `sacrebleu.corpus_bleu(hypotheses, [references])` computes it.
///
/// An empty corpus gives a score of 0.
pub fn bleu<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
) -> Result<Bleu, MetricsError> {
    check_lengths(hypotheses.len(), references.len())?;
    let mut corpus = BleuStats::default();
    for (hypothesis, reference) in hypotheses.iter().zip(references) {
        corpus.add(&bleu_segment_stats(hypothesis.as_ref(), reference.as_ref()));
    }
    Ok(compute_bleu(&corpus))
}

/// Corpus chrF (chrF2) exactly as `sacrebleu.corpus_chrf(hypotheses, [references])` computes
/// it, 0 to 100.
///
/// An empty corpus gives 0.
pub fn chrf<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
) -> Result<f64, MetricsError> {
    corpus_chrf(hypotheses, references, 0)
}

/// Corpus chrF++ exactly as `sacrebleu.metrics.CHRF(word_order=2).corpus_score(hypotheses,
/// [references])` computes it, 0 to 100.
///
/// An empty corpus gives 0.
pub fn chrf_plus_plus<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
) -> Result<f64, MetricsError> {
    corpus_chrf(hypotheses, references, CHRF_PLUS_PLUS_WORD_ORDER)
}

/// The `13a` tokenization of one line (sacreBLEU `Tokenizer13a`, equivalent to mteval-v13a).
///
/// Drops `<skipped>`, joins `-\n` line breaks, turns other newlines into spaces, unescapes
/// `&quot;` `&amp;` `&lt;` `&gt;`, then splits off punctuation: symbols always, periods and
/// commas unless between digits, dashes only after a digit. Tokens are joined by one space.
pub fn tokenize_13a(line: &str) -> String {
    let mut text = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if text.contains('&') {
        text = text
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let padded: Vec<char> = format!(" {text} ").chars().collect();
    let symbols_split = pad_symbols(&padded);
    // `([^0-9])([\.,])` -> `\1 \2 `: period or comma not preceded by a digit.
    let after_non_digit = substitute_pairs(
        &symbols_split,
        |a| !is_digit(a),
        is_period_or_comma,
        |a, b| [a, ' ', b, ' '],
    );
    // `([\.,])([^0-9])` -> ` \1 \2`: period or comma not followed by a digit.
    let before_non_digit = substitute_pairs(
        &after_non_digit,
        is_period_or_comma,
        |b| !is_digit(b),
        |a, b| [' ', a, ' ', b],
    );
    // `([0-9])(-)` -> `\1 \2 `: dash preceded by a digit.
    let dashes_split = substitute_pairs(
        &before_non_digit,
        is_digit,
        |b| b == '-',
        |a, b| [a, ' ', b, ' '],
    );
    let tokenized: String = dashes_split.into_iter().collect();
    python_split(&tokenized).collect::<Vec<_>>().join(" ")
}

/// Errors unless there is exactly one reference per hypothesis.
fn check_lengths(hypotheses: usize, references: usize) -> Result<(), MetricsError> {
    if hypotheses == references {
        Ok(())
    } else {
        Err(MetricsError::LengthMismatch {
            hypotheses,
            references,
        })
    }
}

/// Whether Python's `str.isspace()` holds: Rust's Unicode whitespace plus U+001C..U+001F.
fn is_python_whitespace(character: char) -> bool {
    character.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&character)
}

/// Python's `text.split()`: the non-empty runs between whitespace.
fn python_split(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_python_whitespace)
        .filter(|token| !token.is_empty())
}

/// An ASCII digit, the `[0-9]` of the 13a regexes.
fn is_digit(character: char) -> bool {
    character.is_ascii_digit()
}

/// The `[\.,]` of the 13a regexes.
fn is_period_or_comma(character: char) -> bool {
    character == '.' || character == ','
}

/// The 13a symbol class `[\{-\~\[-\` -\&\(-\+\:-\@\/]`, split off unconditionally.
fn is_13a_symbol(character: char) -> bool {
    ('{'..='~').contains(&character)
        || ('['..='`').contains(&character)
        || (' '..='&').contains(&character)
        || ('('..='+').contains(&character)
        || (':'..='@').contains(&character)
        || character == '/'
}

/// The first 13a rule: every symbol becomes ` symbol `.
fn pad_symbols(text: &[char]) -> Vec<char> {
    let mut output = Vec::with_capacity(text.len() * 2);
    for &character in text {
        if is_13a_symbol(character) {
            output.extend([' ', character, ' ']);
        } else {
            output.push(character);
        }
    }
    output
}

/// Python's `re.sub` for a two-character pattern `(first)(second)`: scans left to right and
/// replaces each non-overlapping match with the four characters `replace` gives.
fn substitute_pairs(
    text: &[char],
    first: impl Fn(char) -> bool,
    second: impl Fn(char) -> bool,
    replace: impl Fn(char, char) -> [char; 4],
) -> Vec<char> {
    let mut output = Vec::with_capacity(text.len() * 2);
    let mut index = 0;
    while index < text.len() {
        let current = text[index];
        match text.get(index + 1) {
            Some(&next) if first(current) && second(next) => {
                output.extend(replace(current, next));
                index += 2;
            }
            _ => {
                output.push(current);
                index += 1;
            }
        }
    }
    output
}

/// Counts of every contiguous `order`-long window of `items` (sacreBLEU's `Counter` of n-grams).
fn count_ngrams<T: Eq + Hash>(items: &[T], order: usize) -> HashMap<&[T], usize> {
    let mut counts = HashMap::new();
    if order == 0 {
        return counts;
    }
    for window in items.windows(order) {
        *counts.entry(window).or_insert(0) += 1;
    }
    counts
}

/// Total number of n-grams in a count table.
fn total_count<K>(counts: &HashMap<K, usize>) -> usize {
    counts.values().sum()
}

/// Hypothesis n-grams also in the reference, each clipped to its reference count.
fn clipped_matches<K: Eq + Hash>(
    hypothesis: &HashMap<K, usize>,
    reference: &HashMap<K, usize>,
) -> usize {
    hypothesis
        .iter()
        .filter_map(|(ngram, &count)| reference.get(ngram).map(|&limit| count.min(limit)))
        .sum()
}

/// BLEU sufficient statistics (sacreBLEU's `[hyp_len, ref_len] + correct + total`).
#[derive(Debug, Clone, Default, PartialEq)]
struct BleuStats {
    sys_len: usize,
    ref_len: usize,
    correct: [usize; BLEU_MAX_ORDER],
    total: [usize; BLEU_MAX_ORDER],
}

impl BleuStats {
    /// Adds one segment's statistics (sacreBLEU `sum_of_lists`).
    fn add(&mut self, other: &BleuStats) {
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
        for (sum, value) in self.correct.iter_mut().zip(&other.correct) {
            *sum += value;
        }
        for (sum, value) in self.total.iter_mut().zip(&other.total) {
            *sum += value;
        }
    }
}

/// One segment's BLEU statistics; both sides are right-stripped then 13a-tokenized.
fn bleu_segment_stats(hypothesis: &str, reference: &str) -> BleuStats {
    let hypothesis_text = tokenize_13a(hypothesis.trim_end_matches(is_python_whitespace));
    let reference_text = tokenize_13a(reference.trim_end_matches(is_python_whitespace));
    let hypothesis_tokens: Vec<&str> = python_split(&hypothesis_text).collect();
    let reference_tokens: Vec<&str> = python_split(&reference_text).collect();
    let mut stats = BleuStats {
        sys_len: hypothesis_tokens.len(),
        ref_len: reference_tokens.len(),
        ..BleuStats::default()
    };
    for order in 1..=BLEU_MAX_ORDER {
        let hypothesis_ngrams = count_ngrams(&hypothesis_tokens, order);
        let reference_ngrams = count_ngrams(&reference_tokens, order);
        stats.total[order - 1] = total_count(&hypothesis_ngrams);
        stats.correct[order - 1] = clipped_matches(&hypothesis_ngrams, &reference_ngrams);
    }
    stats
}

/// sacreBLEU's brevity penalty: `exp(1 - ref_len / sys_len)` for short output, else 1.
fn brevity_penalty(sys_len: usize, ref_len: usize) -> f64 {
    if sys_len >= ref_len {
        1.0
    } else if sys_len == 0 {
        0.0
    } else {
        (1.0 - ref_len as f64 / sys_len as f64).exp()
    }
}

/// n-gram precisions with `exp` smoothing; orders after the first with no n-grams stay 0.
fn smoothed_precisions(stats: &BleuStats) -> [f64; BLEU_MAX_ORDER] {
    let mut precisions = [0.0; BLEU_MAX_ORDER];
    let mut smooth_mteval = 1.0;
    let counts = stats.correct.iter().zip(&stats.total);
    for (precision, (&correct, &total)) in precisions.iter_mut().zip(counts) {
        if total == 0 {
            break;
        }
        *precision = if correct == 0 {
            smooth_mteval *= 2.0;
            100.0 / (smooth_mteval * total as f64)
        } else {
            100.0 * correct as f64 / total as f64
        };
    }
    precisions
}

/// `log` floored at [`LOG_OF_ZERO`] for zero (sacreBLEU `my_log`).
fn floored_log(value: f64) -> f64 {
    if value == 0.0 {
        LOG_OF_ZERO
    } else {
        value.ln()
    }
}

/// BLEU from corpus statistics (sacreBLEU `BLEU.compute_bleu`, `exp` smoothing, no
/// effective order).
fn compute_bleu(stats: &BleuStats) -> Bleu {
    let bp = brevity_penalty(stats.sys_len, stats.ref_len);
    let mut result = Bleu {
        score: 0.0,
        precisions: [0.0; BLEU_MAX_ORDER],
        bp,
        sys_len: stats.sys_len,
        ref_len: stats.ref_len,
    };
    if stats.correct.iter().all(|&correct| correct == 0) {
        return result;
    }
    result.precisions = smoothed_precisions(stats);
    let log_sum: f64 = result.precisions.iter().map(|&p| floored_log(p)).sum();
    result.score = bp * (log_sum / BLEU_MAX_ORDER as f64).exp();
    result
}

/// chrF with `word_order` word n-gram orders after the character orders, summed over the
/// corpus, then one F-score.
fn corpus_chrf<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
    word_order: usize,
) -> Result<f64, MetricsError> {
    check_lengths(hypotheses.len(), references.len())?;
    let mut corpus = vec![[0_usize; 3]; CHRF_CHAR_ORDER + word_order];
    for (hypothesis, reference) in hypotheses.iter().zip(references) {
        let segment = chrf_segment_stats(hypothesis.as_ref(), reference.as_ref(), word_order);
        for (total, part) in corpus.iter_mut().zip(&segment) {
            for (sum, value) in total.iter_mut().zip(part) {
                *sum += value;
            }
        }
    }
    Ok(chrf_f_score(&corpus))
}

/// `[hypothesis n-grams, reference n-grams, matches]` for one order (sacreBLEU
/// `CHRF._get_match_statistics`): hypothesis n-grams count 0 when the reference has none.
fn chrf_match_statistics<K: Eq + Hash>(
    hypothesis: &HashMap<K, usize>,
    reference: &HashMap<K, usize>,
) -> [usize; 3] {
    let hypothesis_count = if reference.is_empty() {
        0
    } else {
        total_count(hypothesis)
    };
    [
        hypothesis_count,
        total_count(reference),
        clipped_matches(hypothesis, reference),
    ]
}

/// One segment's chrF statistics: character orders 1..=6, then word orders 1..=`word_order`.
fn chrf_segment_stats(hypothesis: &str, reference: &str, word_order: usize) -> Vec<[usize; 3]> {
    let hypothesis_chars = characters_without_whitespace(hypothesis);
    let reference_chars = characters_without_whitespace(reference);
    let mut stats = Vec::with_capacity(CHRF_CHAR_ORDER + word_order);
    for order in 1..=CHRF_CHAR_ORDER {
        stats.push(chrf_match_statistics(
            &count_ngrams(&hypothesis_chars, order),
            &count_ngrams(&reference_chars, order),
        ));
    }
    let hypothesis_words = chrf_words(hypothesis);
    let reference_words = chrf_words(reference);
    for order in 1..=word_order {
        stats.push(chrf_match_statistics(
            &count_ngrams(&hypothesis_words, order),
            &count_ngrams(&reference_words, order),
        ));
    }
    stats
}

/// The characters of `text` with all whitespace removed (sacreBLEU `''.join(line.split())`).
fn characters_without_whitespace(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&character| !is_python_whitespace(character))
        .collect()
}

/// chrF++ words (sacreBLEU `CHRF._remove_punctuation`): each whitespace-separated word longer
/// than one character loses one trailing ASCII punctuation mark, or failing that one leading
/// mark, as a separate token (so `(hi)` gives `(hi` and `)`).
fn chrf_words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for word in python_split(text) {
        let mut characters = word.chars();
        let first = characters.next();
        let last = characters.next_back();
        match (first, last) {
            (_, Some(mark)) if mark.is_ascii_punctuation() => {
                let (body, tail) = word.split_at(word.len() - mark.len_utf8());
                words.extend([body, tail]);
            }
            (Some(mark), Some(_)) if mark.is_ascii_punctuation() => {
                let (head, body) = word.split_at(mark.len_utf8());
                words.extend([head, body]);
            }
            _ => words.push(word),
        }
    }
    words
}

/// The chrF score of summed statistics (sacreBLEU `CHRF._compute_f_score` with
/// `eps_smoothing=False`): precision and recall averaged over the orders where both sides
/// have n-grams, then one F-beta score, 0 to 100.
fn chrf_f_score(stats: &[[usize; 3]]) -> f64 {
    let factor = CHRF_BETA * CHRF_BETA;
    let (mut average_precision, mut average_recall) = (0.0, 0.0);
    let mut effective_order = 0_usize;
    for &[hypothesis_count, reference_count, matches] in stats {
        if hypothesis_count > 0 && reference_count > 0 {
            average_precision += matches as f64 / hypothesis_count as f64;
            average_recall += matches as f64 / reference_count as f64;
            effective_order += 1;
        }
    }
    if effective_order == 0 {
        return 0.0;
    }
    average_precision /= effective_order as f64;
    average_recall /= effective_order as f64;
    if average_precision + average_recall == 0.0 {
        return 0.0;
    }
    let score = (1.0 + factor) * average_precision * average_recall
        / (factor * average_precision + average_recall);
    100.0 * score
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPOTHESES: &str = include_str!("../../tests/fixtures/metrics/hyp.txt");
    const REFERENCES: &str = include_str!("../../tests/fixtures/metrics/ref.txt");

    /// The fixture's lines, split the way `expected.py` splits them.
    fn fixture_lines(text: &str) -> Vec<String> {
        let body = text.strip_suffix('\n').unwrap_or(text);
        body.split('\n').map(String::from).collect()
    }

    fn assert_close(actual: f64, expected: f64, what: &str) {
        assert!(
            (actual - expected).abs() < 0.01,
            "{what}: got {actual}, sacreBLEU gives {expected}"
        );
    }

    #[test]
    fn fixture_has_thirty_pairs() {
        assert_eq!(fixture_lines(HYPOTHESES).len(), 30);
        assert_eq!(fixture_lines(REFERENCES).len(), 30);
    }

    #[test]
    fn bleu_matches_sacrebleu_on_fixture() {
        // sacreBLEU 2.6.0 values, from tests/fixtures/metrics/expected.json.
        let result = bleu(&fixture_lines(HYPOTHESES), &fixture_lines(REFERENCES))
            .expect("fixture has one reference per hypothesis");
        assert_close(result.score, 38.76249826224767, "BLEU");
        let expected_precisions = [
            74.28571428571429,
            49.438202247191015,
            33.333333333333336,
            24.161073825503355,
        ];
        for (actual, expected) in result.precisions.iter().zip(expected_precisions) {
            assert_close(*actual, expected, "BLEU precision");
        }
        assert_close(result.bp, 0.934697372806072, "brevity penalty");
        assert_eq!((result.sys_len, result.ref_len), (385, 411));
    }

    #[test]
    fn chrf_matches_sacrebleu_on_fixture() {
        // sacreBLEU 2.6.0 value, from tests/fixtures/metrics/expected.json.
        let score = chrf(&fixture_lines(HYPOTHESES), &fixture_lines(REFERENCES))
            .expect("fixture has one reference per hypothesis");
        assert_close(score, 66.79112607530186, "chrF");
    }

    #[test]
    fn chrf_plus_plus_matches_sacrebleu_on_fixture() {
        // sacreBLEU 2.6.0 value, from tests/fixtures/metrics/expected.json.
        let score = chrf_plus_plus(&fixture_lines(HYPOTHESES), &fixture_lines(REFERENCES))
            .expect("fixture has one reference per hypothesis");
        assert_close(score, 64.36402369563126, "chrF++");
    }

    #[test]
    fn identical_corpus_scores_one_hundred() {
        let references = fixture_lines(REFERENCES);
        let bleu_result = bleu(&references, &references).expect("same length");
        assert_close(bleu_result.score, 100.0, "BLEU");
        assert_close(bleu_result.bp, 1.0, "brevity penalty");
        assert_close(
            chrf(&references, &references).expect("same length"),
            100.0,
            "chrF",
        );
        let plus_plus = chrf_plus_plus(&references, &references).expect("same length");
        assert_close(plus_plus, 100.0, "chrF++");
    }

    #[test]
    fn disjoint_corpus_scores_zero() {
        let hypotheses = ["xyz qqq vvv www", "jjj kkk"];
        let references = ["abc def ghi lmn", "opr stu"];
        assert_close(
            bleu(&hypotheses, &references).expect("same length").score,
            0.0,
            "BLEU",
        );
        assert_close(
            chrf(&hypotheses, &references).expect("same length"),
            0.0,
            "chrF",
        );
        let plus_plus = chrf_plus_plus(&hypotheses, &references).expect("same length");
        assert_close(plus_plus, 0.0, "chrF++");
    }

    #[test]
    fn empty_corpus_scores_zero() {
        let empty: Vec<String> = Vec::new();
        let bleu_result = bleu(&empty, &empty).expect("empty lengths match");
        assert_eq!(bleu_result.score, 0.0);
        assert_eq!((bleu_result.sys_len, bleu_result.ref_len), (0, 0));
        assert_eq!(chrf(&empty, &empty), Ok(0.0));
        assert_eq!(chrf_plus_plus(&empty, &empty), Ok(0.0));
    }

    #[test]
    fn empty_lines_score_zero() {
        let blank = [""];
        assert_eq!(bleu(&blank, &blank).map(|result| result.score), Ok(0.0));
        assert_eq!(chrf(&blank, &blank), Ok(0.0));
        assert_eq!(chrf_plus_plus(&blank, &blank), Ok(0.0));
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let hypotheses = ["one", "two", "three"];
        let references = ["one", "two"];
        let expected = MetricsError::LengthMismatch {
            hypotheses: 3,
            references: 2,
        };
        assert_eq!(bleu(&hypotheses, &references), Err(expected.clone()));
        assert_eq!(chrf(&hypotheses, &references), Err(expected.clone()));
        assert_eq!(
            chrf_plus_plus(&hypotheses, &references),
            Err(expected.clone())
        );
        let message = expected.to_string();
        assert!(message.contains("3 hypotheses") && message.contains("2 references"));
    }

    #[test]
    fn tokenize_13a_matches_sacrebleu() {
        // Outputs of sacreBLEU 2.6.0 `Tokenizer13a()(case)`; the first ten are in expected.json.
        let cases = [
            ("Hello, world.", "Hello , world ."),
            ("6.5 and 30,000", "6.5 and 30,000"),
            ("state-of-the-art", "state-of-the-art"),
            (
                "voted 5-2 on 2019-05-01.",
                "voted 5 - 2 on 2019 - 05 - 01 .",
            ),
            (
                "Costs rose (by $6.5m) [again] & fell.",
                "Costs rose ( by $ 6.5m ) [ again ] & fell .",
            ),
            (
                "He said: \"no...\" U.S.A., 1.5, .5 and 5.",
                "He said : \" no . . . \" U . S . A . , 1.5 , . 5 and 5 .",
            ),
            ("&amp;lt;b&gt; &quot;x&quot;", "< b > \" x \""),
            (
                "drop <skipped>this and line-\nbreak\nend",
                "drop this and linebreak end",
            ),
            ("  tabs\tand   spaces  ", "tabs and spaces"),
            (
                "it's 12%; a/b {c} ~d_e^f|g`h",
                "it's 12 % ; a / b { c } ~ d _ e ^ f | g ` h",
            ),
            ("a\u{1c}b\u{a0}c.", "a b c ."),
            ("<skip<skipped>ped>", "< skipped >"),
            ("a..,b", "a . . , b"),
            ("x-\n-\ny", "xy"),
        ];
        for (input, expected) in cases {
            assert_eq!(tokenize_13a(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn chrf_words_split_one_punctuation_mark() {
        assert_eq!(
            chrf_words("(hi) a, .x ok"),
            ["(hi", ")", "a", ",", ".", "x", "ok"]
        );
        assert_eq!(chrf_words("« é. ..."), ["«", "é", ".", "..", "."]);
    }
}
