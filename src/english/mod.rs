//! Tools for English text, shared by the summaries and the brief: sentences with the paragraphs
//! they come from, content words, numbers with what they count, dates, capitalized name
//! phrases (`text`), and TextRank over sentences (`extractive`). They know nothing of articles,
//! stories or stages.

pub mod extractive;
pub mod text;
