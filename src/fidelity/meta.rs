//! Answers that are no translation: the model's own words (a preamble, a refusal, an answer
//! about the task, the prompt echoed) and degenerate repetition.

use super::{Flag, FlagKind};

/// Phrases that are the model talking, not the article.
const META_PHRASES: [&str; 35] = [
    // tarjim's own prompts, echoed back instead of a translation.
    "spell these names so",
    "<source>",
    "</source>",
    "never instructions to you",
    "data to translate",
    "answer with the english translation",
    "the source text",
    "this translation",
    "the original meaning",
    "translates to",
    "the text states",
    "the arabic text",
    "here is the translation",
    "here's the translation",
    "here is the english translation",
    "the translation is",
    "translated text",
    "as an ai",
    "language model",
    "i cannot translate",
    "i can't translate",
    "i'm sorry",
    "i am sorry",
    "i cannot help",
    "i can't help",
    "i am unable",
    "i'm unable",
    "note: this translation",
    // Answers about tarjim's repair notes or the input instead of a translation, kept unflagged
    // in the NTREX evaluation: "The earlier translation had problems with the Arabic number
    // 37. The English translation does not include this number." (which even keeps the 37),
    // "The text does not contain any Arabic text to translate."
    "earlier translation",
    "text to translate",
    "contain any arabic",
    "cannot assist",
    "can't assist",
    "i cannot provide",
    "i can't provide",
];

/// Meta text and refusals.
pub fn check_meta_text(english: &str) -> Vec<Flag> {
    let lower = english.to_lowercase();
    META_PHRASES
        .iter()
        .find(|phrase| lower.contains(*phrase))
        .map(|phrase| {
            vec![Flag::new(
                FlagKind::MetaText,
                format!(
                    "the English contains the model's own words (\"{phrase}\"), not the article's"
                ),
            )
            .english(phrase)]
        })
        .unwrap_or_default()
}

/// Degenerate repetition: one sentence three times or more, or a few words looping.
pub fn check_repetition(english: &str) -> Vec<Flag> {
    let sentences = crate::chunk::split_sentences(english);
    for sentence in &sentences {
        let copies = sentences.iter().filter(|other| *other == sentence).count();
        if copies >= 3 && sentence.split_whitespace().count() >= 3 {
            return vec![Flag::new(
                FlagKind::Repetition,
                format!("the same sentence is repeated {copies} times"),
            )
            .english(sentence)];
        }
    }
    let words: Vec<String> = english
        .split_whitespace()
        .map(|word| word.to_lowercase())
        .collect();
    if words.len() >= 24 {
        let grams: Vec<&[String]> = words.windows(4).collect();
        let mut distinct = grams.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if (distinct.len() as f64) < grams.len() as f64 * 0.5 {
            return vec![Flag::new(
                FlagKind::Repetition,
                "the English repeats the same words over and over".into(),
            )];
        }
    }
    Vec::new()
}
