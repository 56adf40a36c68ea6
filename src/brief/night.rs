//! What the brief holds of a night's articles between translating them and building it.
//!
//! A night can hold 100,000 articles, and their Arabic and English several gigabytes. The
//! brief needs the texts of only the articles it writes about (the top stories' members and
//! each wire group's first copy); grouping and wire-copy detection need only numbers. So each
//! article is kept as its metadata, summary and [`Features`] (its terms for grouping, its
//! paragraphs' sketches for wire copy), and its texts are stowed in an unnamed temporary file
//! in the output folder (the system removes it when the run ends, however it ends) and read
//! back for the articles written. Without an output folder (an estimate), or when the file
//! cannot be written, the texts stay in memory.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::brief::group::{Profile, Terms, Vocabulary};
use crate::brief::wire::{self, Sketch};
use crate::brief::BriefArticle;
use crate::fidelity::glossary::Glossary;
use crate::fidelity::Flag;
use crate::fsutil::{Span, Spill};
use crate::summarize::Summary;

/// What grouping and wire-copy detection read of an article's Arabic, computed when the
/// article is added so that its texts need not be kept.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub terms: Terms,
    pub sketches: Vec<Sketch>,
}

/// Where a stowed article's texts are, and what the brief needs to know of them meanwhile.
#[derive(Debug, Clone)]
pub struct Stowed {
    span: Span,
    pub paragraphs: usize,
    /// English paragraphs (from 1) with at least one fidelity flag.
    pub flagged: Vec<usize>,
}

/// An article's texts (and summary) as stowed.
#[derive(Deserialize)]
struct Texts {
    arabic: Vec<String>,
    english: Vec<String>,
    paragraph_flags: Vec<Vec<Flag>>,
    summary: Option<Summary>,
}

/// The most problems keeping texts that are reported (the rest are the same problem).
const MAX_PROBLEMS: usize = 10;

/// The night's articles as the brief keeps them while they are translated.
pub struct Night {
    articles: Vec<BriefArticle>,
    vocabulary: Vocabulary,
    rate: u32,
    spill: Option<Spill>,
    problems: Vec<String>,
}

impl Night {
    /// A night of about `characters` of Arabic whose texts are stowed in `folder` (kept in
    /// memory when `None`, or when no file can be made there).
    pub fn new(folder: Option<&Path>, characters: usize) -> Night {
        let mut problems = Vec::new();
        let spill = folder.and_then(|folder| match Spill::new_in(folder) {
            Ok(spill) => Some(spill),
            Err(error) => {
                problems.push(format!(
                    "could not make a temporary file in {} ({error}); the articles' texts were \
                     kept in memory",
                    folder.display()
                ));
                None
            }
        });
        Night {
            articles: Vec::new(),
            vocabulary: Vocabulary::default(),
            rate: wire::sampling_rate(characters),
            spill,
            problems,
        }
    }

    /// What makes articles ready to keep, to be used off the runtime (it is the costly part).
    pub fn preparer(&self, glossary: Arc<Glossary>) -> Preparer {
        Preparer {
            rate: self.rate,
            stow: self.spill.is_some(),
            glossary,
        }
    }

    /// Keep `article`: its features computed, its texts stowed when there is a file.
    #[cfg(test)]
    pub fn add(&mut self, article: BriefArticle, glossary: &Glossary) {
        let ready = ready(article, glossary, self.rate, self.spill.is_some());
        self.keep(ready);
    }

    /// Keep an article made ready by [`Preparer::ready`].
    pub fn keep(&mut self, ready: Ready) {
        let Ready {
            mut article,
            profile,
            sketches,
            texts,
        } = ready;
        article.features = Some(Features {
            terms: self.vocabulary.terms(&profile),
            sketches,
        });
        if let (Some(spill), Some(texts)) = (self.spill.as_ref(), texts) {
            let put = texts.map_err(std::io::Error::other);
            match put.and_then(|bytes| spill.put(&bytes)) {
                Ok(span) => {
                    article.stowed = Some(Stowed {
                        span,
                        paragraphs: article.english.len(),
                        flagged: flagged(&article.paragraph_flags),
                    });
                    article.arabic = Vec::new();
                    article.english = Vec::new();
                    article.paragraph_flags = Vec::new();
                    article.summary = None;
                }
                // A full disk would say so once per article: the first few say it.
                Err(error) if self.problems.len() < MAX_PROBLEMS => {
                    self.problems.push(format!(
                        "could not stow article {}'s text ({error}); it was kept in memory",
                        article.id
                    ));
                }
                Err(_) => {}
            }
        }
        self.articles.push(article);
    }

    /// The articles, where their texts are, and what went wrong keeping them.
    pub fn into_parts(self) -> (Vec<BriefArticle>, Stowage, Vec<String>) {
        let stowage = Stowage { spill: self.spill };
        (self.articles, stowage, self.problems)
    }
}

/// Makes articles ready to keep: what grouping and wire-copy detection read of the Arabic, and
/// the texts serialized for stowing. Cheap to clone, and `Send`, for a blocking task.
#[derive(Clone)]
pub struct Preparer {
    rate: u32,
    stow: bool,
    glossary: Arc<Glossary>,
}

/// An article ready to be kept (see [`Night::keep`]).
pub struct Ready {
    article: BriefArticle,
    profile: Profile,
    sketches: Vec<Sketch>,
    /// The texts as they will be stowed (when they will be).
    texts: Option<serde_json::Result<Vec<u8>>>,
}

impl Preparer {
    pub fn ready(&self, article: BriefArticle) -> Ready {
        ready(article, &self.glossary, self.rate, self.stow)
    }
}

/// `article` made ready: its profile, its paragraphs' sketches at `rate`, and its texts
/// serialized when they are to be stowed.
fn ready(article: BriefArticle, glossary: &Glossary, rate: u32, stow: bool) -> Ready {
    let profile = Profile::from_arabic(
        article.title.as_deref(),
        &article.arabic,
        glossary,
        article.published.as_deref(),
    );
    let sketches = wire::sketch(&article.arabic, rate);
    let texts = stow.then(|| {
        let texts = TextsRef {
            arabic: &article.arabic,
            english: &article.english,
            paragraph_flags: &article.paragraph_flags,
            summary: &article.summary,
        };
        serde_json::to_vec(&texts)
    });
    Ready {
        article,
        profile,
        sketches,
        texts,
    }
}

/// [`Texts`] borrowed, for writing.
#[derive(Serialize)]
struct TextsRef<'a> {
    arabic: &'a [String],
    english: &'a [String],
    paragraph_flags: &'a [Vec<Flag>],
    summary: &'a Option<Summary>,
}

/// Paragraphs (from 1) with at least one flag.
pub(super) fn flagged(paragraph_flags: &[Vec<Flag>]) -> Vec<usize> {
    paragraph_flags
        .iter()
        .enumerate()
        .filter(|(_, flags)| !flags.is_empty())
        .map(|(index, _)| index + 1)
        .collect()
}

/// An article's stowed texts that could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("could not read back article {article}'s text: {error}")]
pub struct LoadError {
    article: String,
    error: std::io::Error,
}

/// The stowed texts, read back on demand.
pub struct Stowage {
    spill: Option<Spill>,
}

impl Stowage {
    /// Nothing stowed.
    #[cfg(test)]
    pub fn none() -> Stowage {
        Stowage { spill: None }
    }

    /// `article` with its texts: itself when they are in memory, else read back.
    pub fn load(&self, article: &BriefArticle) -> Result<BriefArticle, LoadError> {
        let Some(stowed) = &article.stowed else {
            return Ok(article.clone());
        };
        let read = || -> std::io::Result<Texts> {
            let spill = self
                .spill
                .as_ref()
                .ok_or_else(|| std::io::Error::other("no file holds the stowed texts"))?;
            let bytes = spill.get(stowed.span)?;
            serde_json::from_slice(&bytes).map_err(std::io::Error::other)
        };
        let texts = read().map_err(|error| LoadError {
            article: article.id.clone(),
            error,
        })?;
        let mut loaded = article.clone();
        loaded.arabic = texts.arabic;
        loaded.english = texts.english;
        loaded.paragraph_flags = texts.paragraph_flags;
        loaded.summary = texts.summary;
        loaded.stowed = None;
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(id: &str, flagged: bool) -> BriefArticle {
        let flag = Flag {
            kind: crate::fidelity::FlagKind::Number,
            message: "a number".into(),
            arabic: None,
            english: None,
        };
        BriefArticle {
            id: id.into(),
            origin: format!("{id}.txt"),
            title: Some("عنوان".into()),
            arabic: vec![
                "وكانت أذربيجان قد أعلنت صباح الثلاثاء بدء عمليات عسكرية في إقليم قره باغ".into(),
                "فقرة ثانية".into(),
            ],
            english: vec![format!("{id} first"), format!("{id} second")],
            paragraph_flags: vec![if flagged { vec![flag] } else { Vec::new() }, Vec::new()],
            ..BriefArticle::default()
        }
    }

    #[test]
    fn stowed_texts_come_back_whole_and_the_article_stays_countable() {
        let folder = tempfile::tempdir().unwrap();
        let mut night = Night::new(Some(folder.path()), 1_000);
        let glossary = Glossary::default();
        night.add(article("a", true), &glossary);
        night.add(article("b", false), &glossary);
        let (articles, stowage, problems) = night.into_parts();
        assert!(problems.is_empty(), "{problems:?}");
        for (kept, original) in articles
            .iter()
            .zip([article("a", true), article("b", false)])
        {
            // Held lean: no texts, but its paragraph count, flags and features.
            assert!(kept.english.is_empty() && kept.arabic.is_empty());
            assert_eq!(kept.paragraph_count(), 2);
            assert_eq!(kept.flagged_paragraphs(), original.flagged_paragraphs());
            let features = kept.features.as_ref().unwrap();
            assert_eq!(
                features.sketches.len(),
                1,
                "the short paragraph is no wire copy"
            );
            let loaded = stowage.load(kept).unwrap();
            assert_eq!(loaded.arabic, original.arabic);
            assert_eq!(loaded.english, original.english);
            assert_eq!(loaded.paragraph_flags, original.paragraph_flags);
            assert!(loaded.stowed.is_none());
        }
        // Nothing is left in the folder: the file has no name.
        assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
    }

    #[test]
    fn without_a_file_the_texts_stay_and_a_missing_one_is_an_error_not_a_panic() {
        let night = Night::new(Some(Path::new("/nonexistent/folder")), 0);
        let (_, _, problems) = night.into_parts();
        assert!(problems[0].contains("/nonexistent/folder"), "{problems:?}");

        let mut night = Night::new(None, 0);
        night.add(article("a", false), &Glossary::default());
        let (articles, stowage, _) = night.into_parts();
        assert_eq!(articles[0].english.len(), 2);
        assert_eq!(stowage.load(&articles[0]).unwrap().english.len(), 2);

        let mut lost = articles[0].clone();
        let elsewhere = Spill::new_in(&std::env::temp_dir()).unwrap();
        lost.stowed = Some(Stowed {
            span: elsewhere.put(b"0123456789").unwrap(),
            paragraphs: 2,
            flagged: Vec::new(),
        });
        let error = Stowage::none().load(&lost).unwrap_err().to_string();
        assert!(error.contains("article a"), "{error}");
    }
}
