//! Sentence-aware, token-bounded chunking.
//!
//! INTERFACE STUB: the text-processing helper owns this file.

/// Token counter over a tiktoken encoding; cheap to clone and share across threads.
#[derive(Clone)]
pub struct TokenCounter {
    _private: (),
}

impl TokenCounter {
    /// Load an encoding by name: `o200k_base`, `cl100k_base`, `p50k_base`, `r50k_base`.
    pub fn new(_encoding: &str) -> Result<Self, String> {
        unimplemented!("text helper")
    }
    pub fn count(&self, _text: &str) -> usize {
        unimplemented!("text helper")
    }
}

/// A sentence of the cleaned article.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sentence {
    /// Index of the paragraph that holds it.
    pub paragraph: usize,
    pub text: String,
}

/// Whole sentences of one paragraph, at most `max_tokens` tokens (unless one piece cannot be
/// split further).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Chunk {
    /// Position in the article, from 0.
    pub index: usize,
    /// The paragraph it belongs to; chunks never span paragraphs.
    pub paragraph: usize,
    /// Indexes into the article's sentence list (half-open). A sentence split because it was
    /// too long appears in several consecutive chunks.
    pub sentences: std::ops::Range<usize>,
    pub text: String,
    pub tokens: usize,
}

/// Split one paragraph into sentences.
pub fn split_sentences(_paragraph: &str) -> Vec<String> {
    unimplemented!("text helper")
}

/// Segment every paragraph and pack whole sentences into chunks of at most `max_tokens`.
pub fn chunk_article(
    _paragraphs: &[String],
    _max_tokens: usize,
    _counter: &TokenCounter,
) -> (Vec<Sentence>, Vec<Chunk>) {
    unimplemented!("text helper")
}
