//! One article through the run: cleaned and chunked (`prepare`), its title and chunks
//! translated and checked within the article's time ceiling (`translate_article`), summarized,
//! and its files written the moment it is done. A failed summary never fails its article: the
//! extractive fallback is used and the error is kept in the article's JSON.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::Context;
use crate::article::Article;
use crate::brief::night::{Preparer, Ready};
use crate::chunk::{self, Chunk, Sentence, TokenCounter};
use crate::fidelity::{self};
use crate::fsutil;
use crate::normalize::{self, Cleaned};
use crate::progress::Progress;
use crate::record::{ArticleRecord, ChunkRecord, Counts};
use crate::render;
use crate::settings::Settings;
use crate::translate::{Checked, Preceding, TranslateError};

/// How many chunks each article will be translated in (for the progress bar), and how many
/// characters of cleaned Arabic the night has, without keeping what preparing them made: at a
/// night's scale the prepared articles would not fit in memory together, so each is prepared
/// again when its turn comes.
pub(super) fn chunk_counts(
    settings: &Settings,
    counter: &TokenCounter,
    articles: &[Article],
) -> (Vec<usize>, usize) {
    let mut characters = 0;
    let counts = articles
        .iter()
        .map(|article| {
            let Ok(text) = article.body() else {
                return 0;
            };
            let cleaned = normalize::clean(&text, &settings.normalize);
            characters += cleaned
                .paragraphs
                .iter()
                .map(|p| p.chars().count())
                .sum::<usize>();
            let (_, chunks) =
                chunk::chunk_article(&cleaned.paragraphs, settings.chunk.max_tokens, counter);
            chunks.len().min(settings.chunk.max_per_article)
        })
        .collect();
    (counts, characters)
}

/// An article cleaned and chunked, ready to translate.
pub(super) struct Prepared {
    pub(super) article: Article,
    pub(super) cleaned: Cleaned,
    pub(super) sentences: Vec<Sentence>,
    pub(super) chunks: Vec<Chunk>,
    pub(super) flags: Vec<String>,
    pub(super) error: Option<String>,
}

pub(super) fn prepare(
    settings: &Settings,
    counter: &TokenCounter,
    mut article: Article,
) -> Prepared {
    let (cleaned, unreadable) = match article.body() {
        Ok(text) => (normalize::clean(&text, &settings.normalize), None),
        Err(error) => (Cleaned::default(), Some(error)),
    };
    // The cleaned paragraphs carry the text from here on.
    article.text = String::new();
    article.spilled = None;
    let (sentences, mut chunks) =
        chunk::chunk_article(&cleaned.paragraphs, settings.chunk.max_tokens, counter);
    let mut flags = Vec::new();
    let ceiling = settings.chunk.max_per_article;
    if chunks.len() > ceiling {
        let translated_paragraphs = chunks[ceiling - 1].paragraph + 1;
        flags.push(format!(
            "too long: only the first {ceiling} of {} chunks (up to paragraph {translated_paragraphs} \
             of {}) are translated (chunk.max_per_article); the rest of the article is not",
            chunks.len(),
            cleaned.paragraphs.len()
        ));
        chunks.truncate(ceiling);
    }
    let letters = cleaned
        .paragraphs
        .iter()
        .flat_map(|paragraph| paragraph.chars())
        .filter(|c| c.is_alphabetic());
    let (arabic, all) = letters.fold((0usize, 0usize), |(arabic, all), c| {
        (
            arabic + usize::from(('\u{0600}'..='\u{06FF}').contains(&c)),
            all + 1,
        )
    });
    if all > 0 && arabic * 5 < all {
        flags.push(format!(
            "little Arabic text: {}% of letters are Arabic; the input may not be an Arabic article",
            arabic * 100 / all
        ));
    }
    if let Some(share) = persian_share(&cleaned.paragraphs) {
        flags.push(format!(
            "the text looks Persian or Urdu, not Arabic: letters Arabic does not use (پ چ ژ گ ک ی \
             ٹ ڈ ے) make {share}% of it; the translation and its checks assume Arabic"
        ));
    }
    let error = unreadable.or_else(|| {
        chunks.is_empty().then(|| {
            format!(
                "{}: no text left to translate after cleaning ({} lines dropped as boilerplate)",
                article.origin,
                cleaned.dropped.len()
            )
        })
    });
    Prepared {
        article,
        cleaned,
        sentences,
        chunks,
        flags,
        error,
    }
}

/// Letters of the Persian and Urdu alphabets that Arabic does not use.
const NON_ARABIC_LETTERS: [char; 9] = ['پ', 'چ', 'ژ', 'گ', 'ک', 'ی', 'ٹ', 'ڈ', 'ے'];

/// The share (percent) of Persian or Urdu letters among the Arabic-script letters, when it is
/// large enough (2% or more, over at least 50 letters) to say the text is not Arabic. An Arabic
/// article quoting a Persian name stays well under it.
pub(super) fn persian_share(paragraphs: &[String]) -> Option<usize> {
    let (other, script) = paragraphs
        .iter()
        .flat_map(|paragraph| paragraph.chars())
        .filter(|c| ('\u{0600}'..='\u{06FF}').contains(c) && c.is_alphabetic())
        .fold((0usize, 0usize), |(other, script), c| {
            (
                other + usize::from(NON_ARABIC_LETTERS.contains(&c)),
                script + 1,
            )
        });
    (script >= 50 && other * 50 >= script).then(|| other * 100 / script)
}

pub(super) async fn translate_article(context: &Context, prepared: Prepared) -> ArticleRecord {
    let started = Instant::now();
    let Prepared {
        article,
        cleaned,
        sentences,
        chunks,
        flags,
        error,
    } = prepared;
    let title = article
        .title
        .clone()
        .map(|title| normalize::normalize_text(&title, &context.settings.normalize));
    let work = ArticleWork::new(context, started);
    let title_future = async {
        match &title {
            Some(title) if !title.is_empty() && error.is_none() => work
                .translate(title.clone(), None)
                .await
                .map(|done| Some((done.answer.text, done.flags))),
            _ => Ok(None),
        }
    };
    let chunks_done = work.chunks(chunks);
    let (title_en, chunk_records) = tokio::join!(title_future, chunks_done);
    // A title that failed to translate fails the article like a chunk would: the page would
    // otherwise go out with an Arabic heading and no one told. A rerun asks for it again.
    let (title_en, title_flags, title_error) = match title_en {
        Ok(Some((title_en, flags))) => (Some(title_en), flags, None),
        Ok(None) => (None, Vec::new(), None),
        Err(title_error) => (None, Vec::new(), Some(format!("title: {title_error}"))),
    };

    let error = error.or(title_error).or_else(|| {
        chunk_records.iter().find_map(|record| {
            record
                .error
                .as_ref()
                .map(|error| format!("chunk {}: {error}", record.chunk.index))
        })
    });
    article_record(Translation {
        article,
        title,
        title_en,
        title_flags,
        error,
        flags,
        cleaned,
        sentences,
        chunk_records,
        started,
    })
}

/// Why a chunk or a title got no English.
#[derive(Debug, thiserror::Error)]
pub(super) enum ChunkError {
    #[error(transparent)]
    Translate(#[from] TranslateError),
    #[error(
        "not done: the article's time ceiling (run.article_timeout_s = {0}) passed; what was \
         done is cached, and a rerun continues"
    )]
    Ceiling(u64),
}

/// Translating one article's title and chunks, each bounded by the article's time ceiling
/// (`run.article_timeout_s`).
pub(super) struct ArticleWork<'a> {
    context: &'a Context,
    deadline: Option<tokio::time::Instant>,
}

impl<'a> ArticleWork<'a> {
    fn new(context: &'a Context, started: Instant) -> ArticleWork<'a> {
        let ceiling = context.settings.run.article_timeout_s;
        let deadline = (ceiling > 0).then(|| {
            tokio::time::Instant::from_std(started) + std::time::Duration::from_secs(ceiling)
        });
        ArticleWork { context, deadline }
    }

    /// One translation, bounded by the article's time ceiling.
    async fn translate(
        &self,
        text: String,
        preceding: Option<Preceding>,
    ) -> Result<Checked, ChunkError> {
        let translating = self.context.translator.translate(&text, preceding.as_ref());
        let Some(deadline) = self.deadline else {
            return Ok(translating.await?);
        };
        match tokio::time::timeout_at(deadline, translating).await {
            Ok(translated) => Ok(translated?),
            Err(_) => Err(ChunkError::Ceiling(
                self.context.settings.run.article_timeout_s,
            )),
        }
    }

    async fn chunk(&self, chunk: Chunk, preceding: Option<Preceding>) -> ChunkRecord {
        let chunk_started = Instant::now();
        let outcome = self.translate(chunk.text.clone(), preceding).await;
        self.context.progress.chunk_done(
            chunk.tokens,
            matches!(&outcome, Ok(done) if done.answer.cached),
        );
        chunk_record(chunk, outcome, chunk_started)
    }

    /// With context from the chunk before (chunk.context_chars), an article's chunks go in
    /// order, each after the one it follows; without, all at once.
    async fn chunks(&self, chunks: Vec<Chunk>) -> Vec<ChunkRecord> {
        let context_chars = self.context.settings.chunk.context_chars;
        if context_chars == 0 {
            return futures::future::join_all(chunks.into_iter().map(|c| self.chunk(c, None)))
                .await;
        }
        let mut records: Vec<ChunkRecord> = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let preceding = records.last().and_then(|before| {
                before
                    .translation
                    .as_deref()
                    .map(|english| Preceding::new(&before.chunk.text, english, context_chars))
            });
            records.push(self.chunk(chunk, preceding).await);
        }
        records
    }
}

/// One chunk's record from what translating it gave.
pub(super) fn chunk_record(
    chunk: Chunk,
    outcome: Result<Checked, ChunkError>,
    started: Instant,
) -> ChunkRecord {
    let mut record = ChunkRecord {
        chunk,
        translation: None,
        backend: None,
        cached: false,
        duration_ms: 0,
        error: None,
        flags: Vec::new(),
        attempts: Vec::new(),
        kept: None,
    };
    match outcome {
        Ok(done) => {
            record.translation = Some(done.answer.text);
            record.backend = Some(done.answer.backend);
            record.cached = done.answer.cached;
            record.flags = done.flags;
            record.kept = (!done.attempts.is_empty()).then_some(done.kept);
            record.attempts = done.attempts;
        }
        Err(error) => record.error = Some(error.to_string()),
    }
    record.duration_ms = started.elapsed().as_millis();
    record
}

/// An article as translated, before its record is written.
pub(super) struct Translation {
    article: Article,
    title: Option<String>,
    title_en: Option<String>,
    title_flags: Vec<fidelity::Flag>,
    /// The first error (the article's own, its title's, or a chunk's); none when it succeeded.
    error: Option<String>,
    flags: Vec<String>,
    cleaned: Cleaned,
    sentences: Vec<Sentence>,
    chunk_records: Vec<ChunkRecord>,
    started: Instant,
}

/// The article's record: its English (when every part translated), confidence and counts.
pub(super) fn article_record(done: Translation) -> ArticleRecord {
    let chunk_records = done.chunk_records;
    let translation = if done.error.is_none() {
        assemble(&done.cleaned, &chunk_records)
    } else {
        Vec::new()
    };
    let confidence = fidelity::confidence(
        chunk_records
            .iter()
            .map(|record| (record.chunk.tokens, record.flags.as_slice())),
    );
    let flagged_chunks = chunk_records
        .iter()
        .filter(|record| !record.flags.is_empty())
        .count();
    let flag_count = done.title_flags.len()
        + chunk_records
            .iter()
            .map(|record| record.flags.len())
            .sum::<usize>();
    let cache_hits = chunk_records.iter().filter(|record| record.cached).count() as u64;
    let requests = chunk_records
        .iter()
        .filter(|record| record.translation.is_some() && !record.cached)
        .count() as u64;
    let article = done.article;
    ArticleRecord {
        id: article.id,
        origin: article.origin,
        title: done.title,
        title_en: done.title_en,
        source: article.source,
        url: article.url,
        published: article.published,
        encoding: article.encoding,
        status: if done.error.is_none() { "ok" } else { "failed" },
        error: done.error,
        confidence,
        confidence_label: fidelity::confidence_label(confidence),
        flagged_chunks,
        flag_count,
        title_flags: done.title_flags,
        flags: done.flags,
        cleaned: done.cleaned,
        sentences: done.sentences,
        chunks: chunk_records,
        translation,
        summary: None,
        summary_error: None,
        cache_hits,
        requests,
        usage: Default::default(),
        duration_ms: done.started.elapsed().as_millis(),
    }
}

/// English paragraphs in source order: each paragraph's chunks joined with a space.
pub(super) fn assemble(cleaned: &Cleaned, chunks: &[ChunkRecord]) -> Vec<String> {
    let mut paragraphs = vec![String::new(); cleaned.paragraphs.len()];
    for record in chunks {
        if let (Some(text), Some(paragraph)) = (
            &record.translation,
            paragraphs.get_mut(record.chunk.paragraph),
        ) {
            if !paragraph.is_empty() {
                paragraph.push(' ');
            }
            paragraph.push_str(text.trim());
        }
    }
    paragraphs.retain(|paragraph| !paragraph.is_empty());
    paragraphs
}

/// Off the runtime (it is the costly part of finishing an article): write the article's files
/// when there is an output folder, and make it ready for the brief unless it failed.
pub(super) async fn finish_off_runtime(
    out: Option<PathBuf>,
    record: ArticleRecord,
    preparer: Preparer,
) -> (ArticleRecord, Result<(), fsutil::WriteError>, Option<Ready>) {
    let finishing = tokio::task::spawn_blocking(move || {
        let written = match &out {
            Some(out) => write_article(out, &record),
            None => Ok(()),
        };
        let ready = record
            .error
            .is_none()
            .then(|| preparer.ready(super::brief_article(&record)));
        (record, written, ready)
    });
    match finishing.await {
        Ok(done) => done,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Write `articles/<id>.json` always, and `articles/<id>.en.md` when the article succeeded.
pub(super) fn write_article(out: &Path, record: &ArticleRecord) -> Result<(), fsutil::WriteError> {
    let folder = out.join("articles");
    let json_path = fsutil::join_inside(&folder, &format!("{}.json", record.id))?;
    fsutil::write_atomic(&json_path, &render::json::pretty(record))?;
    let md_path = fsutil::join_inside(&folder, &format!("{}.en.md", record.id))?;
    if record.error.is_none() {
        fsutil::write_atomic(&md_path, render::markdown::article(record).as_bytes())?;
    } else if md_path.exists() {
        // A stale translation from an earlier run must not pass for this run's output.
        let _ = std::fs::remove_file(&md_path);
    }
    Ok(())
}

/// Summarize a translated article in place; a failed article is left without a summary.
pub(super) async fn summarize_record(context: &Context, record: &mut ArticleRecord) {
    if record.error.is_some() || record.translation.is_empty() {
        return;
    }
    let (summary, error) = context
        .summarizer
        .summarize(&record.id, &record.translation)
        .await;
    record.summary = Some(summary);
    record.summary_error = error;
}

pub(super) fn note_summary(record: &ArticleRecord, counts: &mut Counts, progress: &dyn Progress) {
    if record.summary.is_none() {
        return;
    }
    counts.total += 1;
    match &record.summary_error {
        None => counts.succeeded += 1,
        Some(error) => {
            counts.failed += 1;
            progress.note(&format!("warning: {error}; an extractive summary was used"));
        }
    }
}
