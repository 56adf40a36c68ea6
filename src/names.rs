//! Names before translation: one English spelling per Arabic name across the whole run.
//!
//! A small model spells a name it does not know a different way in every chunk (بلينكن as
//! Blinken, Linben, Blinqen...). Before the articles are translated, the names stage asks once
//! per article for its people, places and organisations with their usual English spelling (one
//! small structured request). The proposals are reconciled across the run: a name the glossary
//! knows keeps the glossary's rendering; a name in the name table (kept in the cache database
//! across nights, reviewed with `tarjim glossary`) keeps the English stored there; otherwise the
//! spelling most articles proposed wins. The chosen names join the glossary for this run, so they
//! go into the prompts of the chunks that contain them and the checks flag a chunk that spells
//! them otherwise (they are never used to flag a name as not in the source: the model proposed
//! them).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;

use crate::cache::{Cache, CacheError, StoredName};
use crate::fidelity::arabic::{self, Form};
use crate::fidelity::glossary::{Entry, Glossary, Kind};
use crate::stage::StageRunner;
use crate::structured::{self, unfence, AskError};

/// Most names asked for per article.
const MAX_NAMES: usize = 30;
/// Longest Arabic text sent per article (characters); names of a longer article's tail are
/// left to the glossary.
const MAX_INPUT_CHARACTERS: usize = 6_000;
pub use crate::fidelity::glossary::RUN_SOURCE;

/// One name a model proposed for an article.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Proposal {
    pub arabic: String,
    pub english: String,
    pub kind: String,
}

#[derive(Debug, Deserialize)]
struct Answer {
    names: Vec<Proposal>,
}

/// The JSON schema of a names answer.
pub fn schema() -> serde_json::Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["names"],
        "properties": {
            "names": {
                "type": "array", "maxItems": MAX_NAMES,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["arabic", "english", "kind"],
                    "properties": {
                        "arabic": {"type": "string"},
                        "english": {"type": "string"},
                        "kind": {"type": "string", "enum": ["person", "place", "organisation", "other"]}
                    }
                }
            }
        }
    })
}

fn parse(answer: &str) -> Result<Vec<Proposal>, String> {
    serde_json::from_str::<Answer>(unfence(answer))
        .map(|answer| answer.names)
        .map_err(|error| format!("not the JSON asked for: {error}"))
}

/// Ask `runner` for the names of one article (its cleaned Arabic paragraphs).
pub async fn propose(
    runner: &StageRunner,
    paragraphs: &[String],
) -> Result<Vec<Proposal>, AskError> {
    let text: String = paragraphs
        .join("\n")
        .chars()
        .take(MAX_INPUT_CHARACTERS)
        .collect();
    let validate = |answer: &str| parse(answer).map(|_| ());
    let structured =
        structured::ask_json(runner, &[("text", &text)], &text, &schema(), &validate).await?;
    parse(&structured.answer.text).map_err(AskError::Unreadable)
}

/// A name chosen for the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub key: String,
    pub arabic: String,
    pub english: String,
    pub kind: Kind,
    /// `accepted` (reviewed in the name table), `stored` (chosen on an earlier night) or `run`.
    pub from: &'static str,
    /// Articles that proposed it, and the other spellings they proposed.
    pub articles: usize,
    pub other_spellings: Vec<String>,
}

/// A proposal worth keeping: a real name (capitalised English with no Arabic in it, Arabic of at
/// most five words) that the article really contains and the glossary does not already know.
fn usable(proposal: &Proposal, article_words: &[String], glossary: &Glossary) -> Option<Form> {
    let english = proposal.english.trim();
    let plausible = !english.is_empty()
        && english.chars().count() <= 60
        && english.chars().next().is_some_and(char::is_uppercase)
        && !english.chars().any(arabic::is_arabic_letter);
    let form = Form::new(&proposal.arabic).filter(|_| plausible)?;
    let short = proposal.arabic.split_whitespace().count() <= 5;
    let present = !form.find_in(article_words).is_empty();
    let known = !glossary.in_arabic(&proposal.arabic).is_empty();
    (short && present && !known && arabic::arabic_share(&proposal.arabic) > 0.9).then_some(form)
}

fn kind_of(text: &str) -> Kind {
    match text {
        "person" => Kind::Person,
        "place" => Kind::Place,
        "organisation" | "organization" => Kind::Organisation,
        _ => Kind::Other,
    }
}

/// One spelling per name: accepted > stored > most articles (ties: the first proposed).
/// `proposals` are per article, in run order, with each article's Arabic paragraphs.
pub fn reconcile(
    proposals: &[(Vec<Proposal>, &[String])],
    stored: &[StoredName],
    glossary: &Glossary,
) -> Vec<Chosen> {
    let mut order: Vec<String> = Vec::new();
    let mut votes: HashMap<String, Vec<(String, String, Kind)>> = HashMap::new();
    for (names, paragraphs) in proposals {
        let words = arabic::folded_words(&paragraphs.join("\n"));
        let mut seen_here: Vec<String> = Vec::new();
        for proposal in names {
            let Some(form) = usable(proposal, &words, glossary) else {
                continue;
            };
            let key = form.text();
            if seen_here.contains(&key) {
                continue;
            }
            seen_here.push(key.clone());
            if !votes.contains_key(&key) {
                order.push(key.clone());
            }
            votes.entry(key).or_default().push((
                proposal.arabic.trim().to_string(),
                proposal.english.trim().to_string(),
                kind_of(&proposal.kind),
            ));
        }
    }
    order
        .into_iter()
        .filter_map(|key| {
            let ballots = votes.remove(&key)?;
            Some(choose(key, ballots, stored))
        })
        .collect()
}

fn choose(key: String, ballots: Vec<(String, String, Kind)>, stored: &[StoredName]) -> Chosen {
    let mut tally: Vec<(String, usize)> = Vec::new();
    for (_, english, _) in &ballots {
        match tally.iter_mut().find(|(spelling, _)| spelling == english) {
            Some((_, count)) => *count += 1,
            None => tally.push((english.clone(), 1)),
        }
    }
    let most = tally
        .iter()
        .enumerate()
        .max_by(|(a_index, a), (b_index, b)| a.1.cmp(&b.1).then(b_index.cmp(a_index)))
        .map(|(_, (spelling, _))| spelling.clone())
        .unwrap_or_default();
    let (arabic, _, kind) = ballots[0].clone();
    let (english, kind, from) = match stored.iter().find(|name| name.key == key) {
        Some(name) => (
            name.english.clone(),
            kind_of(&name.kind),
            if name.accepted { "accepted" } else { "stored" },
        ),
        None => (most, kind, "run"),
    };
    let other_spellings = tally
        .into_iter()
        .map(|(spelling, _)| spelling)
        .filter(|spelling| *spelling != english)
        .collect();
    Chosen {
        key,
        arabic,
        english,
        kind,
        from,
        articles: ballots.len(),
        other_spellings,
    }
}

/// The chosen names as glossary entries for this run.
pub fn entries(chosen: &[Chosen]) -> Vec<Entry> {
    chosen
        .iter()
        .map(|name| Entry {
            en: name.english.clone(),
            kind: name.kind,
            ar: vec![name.arabic.clone()],
            en_variants: Vec::new(),
            source: Some(RUN_SOURCE.to_string()),
            ambiguous: false,
        })
        .collect()
}

/// Store this run's choices in the name table.
pub fn remember(cache: &Cache, chosen: &[Chosen]) -> Result<(), CacheError> {
    for name in chosen {
        cache.record_name(&name.key, &name.arabic, &name.english, name.kind.as_str())?;
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct ExportEntry<'a> {
    en: &'a str,
    kind: &'a str,
    ar: [&'a str; 1],
    source: &'a str,
}

/// The name table as a glossary file (`tarjim glossary export`), for `fidelity.glossary`.
pub fn export(names: &[StoredName], all: bool) -> String {
    let mut text = String::from(
        "# Names reviewed in tarjim's name table (tarjim glossary export).\n# Use with: fidelity.glossary = \"<this file>\"\n",
    );
    for name in names.iter().filter(|name| all || name.accepted) {
        let entry = ExportEntry {
            en: &name.english,
            kind: &name.kind,
            ar: [&name.arabic],
            source: "reviewed",
        };
        text.push_str("\n[[terms]]\n");
        text.push_str(&toml::to_string(&entry).unwrap_or_default());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(arabic: &str, english: &str) -> Proposal {
        Proposal {
            arabic: arabic.into(),
            english: english.into(),
            kind: "person".into(),
        }
    }

    #[test]
    fn one_spelling_per_name_across_the_run() {
        let first = ["قال المتحدث تشارلز ميشيل إن الاتحاد مستعد".to_string()];
        let second = ["وأكد ميشيل أن الاتحاد".to_string()];
        let third = ["وقال ميشيل".to_string()];
        let proposals = vec![
            (
                vec![
                    proposal("ميشيل", "Michel"),
                    proposal("غير موجود", "Nowhere"),
                ],
                &first[..],
            ),
            (vec![proposal("ميشيل", "Mishel")], &second[..]),
            (
                vec![proposal("ميشيل", "Michel"), proposal("وقال", "said")],
                &third[..],
            ),
        ];
        let chosen = reconcile(&proposals, &[], &Glossary::default());
        assert_eq!(chosen.len(), 1, "{chosen:?}");
        assert_eq!(chosen[0].english, "Michel");
        assert_eq!(chosen[0].articles, 3);
        assert_eq!(chosen[0].other_spellings, ["Mishel"]);
        assert_eq!(chosen[0].from, "run");
    }

    #[test]
    fn the_name_table_and_the_glossary_win() {
        let text = ["وقال ميشيل وبلينكن".to_string()];
        let stored = vec![StoredName {
            key: "ميشيل".into(),
            arabic: "ميشيل".into(),
            english: "Charles Michel".into(),
            kind: "person".into(),
            accepted: true,
            runs: 3,
            first_seen: String::new(),
            last_seen: String::new(),
        }];
        let glossary = Glossary::load("").unwrap();
        let proposals = vec![(
            vec![proposal("ميشيل", "Mishel"), proposal("بلينكن", "Linben")],
            &text[..],
        )];
        let chosen = reconcile(&proposals, &stored, &glossary);
        assert_eq!(chosen.len(), 1, "the glossary knows بلينكن: {chosen:?}");
        assert_eq!(chosen[0].english, "Charles Michel");
        assert_eq!(chosen[0].from, "accepted");
    }

    #[test]
    fn exported_names_load_as_a_glossary() {
        let stored = vec![StoredName {
            key: "ميشيل".into(),
            arabic: "ميشيل".into(),
            english: "Charles \"Michel\"".into(),
            kind: "person".into(),
            accepted: true,
            runs: 1,
            first_seen: String::new(),
            last_seen: String::new(),
        }];
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), export(&stored, false)).unwrap();
        let glossary = Glossary::load(file.path().to_str().unwrap()).unwrap();
        let found = glossary.in_arabic("وقال ميشيل");
        assert_eq!(glossary.entry(found[0].term).en, "Charles \"Michel\"");
    }
}
