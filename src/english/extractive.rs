//! TextRank: the extractive summarizer used when no LLM is configured (or its answers are
//! unusable).
//!
//! Sentences are nodes; edges are the cosine similarity of their content-word counts; PageRank
//! over that graph scores how central each sentence is. The top sentences, put back in their
//! original order, are the summary, and each one cites the paragraph it comes from. Everything
//! is deterministic: ties go to the earlier sentence.

use std::collections::HashMap;

use crate::english::text::{self, Located};

/// Most sentences that compete in one ranking. The similarity graph is dense (n x n), so an
/// article of 50,000 sentences would need tens of gigabytes; the sentences after these score 0.
/// News puts what matters first, and 1,200 sentences is a long story already (its table is
/// 11 MB).
pub const MAX_RANKED_SENTENCES: usize = 1_200;

const DAMPING: f64 = 0.85;
const ITERATIONS: usize = 60;
const TOLERANCE: f64 = 1e-9;

/// Content-word counts of a sentence.
pub fn bag(sentence: &str) -> HashMap<String, f64> {
    let mut counts = HashMap::new();
    for word in text::content_words(sentence) {
        *counts.entry(word).or_insert(0.0) += 1.0;
    }
    counts
}

/// Cosine similarity of two word-weight maps (0 when either is empty).
pub fn cosine(first: &HashMap<String, f64>, second: &HashMap<String, f64>) -> f64 {
    let dot: f64 = first
        .iter()
        .filter_map(|(word, weight)| second.get(word).map(|other| weight * other))
        .sum();
    let norm = |bag: &HashMap<String, f64>| bag.values().map(|w| w * w).sum::<f64>().sqrt();
    let denominator = norm(first) * norm(second);
    if denominator > 0.0 {
        dot / denominator
    } else {
        0.0
    }
}

/// PageRank scores of the sentences over their similarity graph (weights sum to 1 over the
/// first [`MAX_RANKED_SENTENCES`]; later sentences score 0).
pub fn textrank(sentences: &[String]) -> Vec<f64> {
    let mut scores = ranked_scores(&sentences[..sentences.len().min(MAX_RANKED_SENTENCES)]);
    scores.resize(sentences.len(), 0.0);
    scores
}

fn ranked_scores(sentences: &[String]) -> Vec<f64> {
    let count = sentences.len();
    if count == 0 {
        return Vec::new();
    }
    let bags: Vec<_> = sentences.iter().map(|sentence| bag(sentence)).collect();
    let mut weights = vec![vec![0.0; count]; count];
    for i in 0..count {
        for j in (i + 1)..count {
            let similarity = cosine(&bags[i], &bags[j]);
            weights[i][j] = similarity;
            weights[j][i] = similarity;
        }
    }
    let out_sums: Vec<f64> = weights.iter().map(|row| row.iter().sum()).collect();
    let base = 1.0 / count as f64;
    let mut scores = vec![base; count];
    for _ in 0..ITERATIONS {
        let dangling: f64 = (0..count)
            .filter(|&j| out_sums[j] == 0.0)
            .map(|j| scores[j])
            .sum();
        let next: Vec<f64> = (0..count)
            .map(|i| {
                let incoming: f64 = (0..count)
                    .filter(|&j| out_sums[j] > 0.0)
                    .map(|j| weights[j][i] / out_sums[j] * scores[j])
                    .sum();
                (1.0 - DAMPING) * base + DAMPING * (incoming + dangling * base)
            })
            .collect();
        let change: f64 = next.iter().zip(&scores).map(|(a, b)| (a - b).abs()).sum();
        scores = next;
        if change < TOLERANCE {
            break;
        }
    }
    scores
}

/// Indices of the `count` best sentences, best first (ties: earlier first).
pub fn ranking(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
}

/// The `count` most central sentences of `located`, in their original order.
pub fn top_in_order(located: &[Located], count: usize) -> Vec<Located> {
    let texts: Vec<String> = located.iter().map(|s| s.text.clone()).collect();
    let mut chosen: Vec<usize> = ranking(&textrank(&texts)).into_iter().take(count).collect();
    chosen.sort_unstable();
    chosen
        .into_iter()
        .filter_map(|index| located.get(index).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_article_is_ranked_in_bounded_memory() {
        // Hostile night, harm 5: a 10 MB article built a dense n x n table (7 GB) and never
        // finished. 40,000 sentences now rank over the first 1,200 only.
        let sentences: Vec<String> = (0..40_000)
            .map(|index| {
                format!(
                    "The ministry said {} people attended meeting {index}.",
                    index % 7
                )
            })
            .collect();
        let scores = textrank(&sentences);
        assert_eq!(scores.len(), sentences.len());
        assert!(scores[MAX_RANKED_SENTENCES..]
            .iter()
            .all(|&score| score == 0.0));
        let total: f64 = scores.iter().sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }

    #[test]
    fn the_central_sentence_wins() {
        let sentences = [
            "Azerbaijan launched a military operation in Karabakh.".to_string(),
            "The military operation in Karabakh continued for a second day.".to_string(),
            "Weather in Baku was sunny.".to_string(),
            "Armenia condemned the operation in Karabakh.".to_string(),
        ];
        let scores = textrank(&sentences);
        assert_eq!(scores.len(), 4);
        assert!((scores.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        let order = ranking(&scores);
        assert_eq!(
            *order.last().unwrap(),
            2,
            "the unrelated sentence ranks last"
        );
        assert!(textrank(&[]).is_empty());
        assert_eq!(textrank(&["Alone.".to_string()]), vec![1.0]);
    }

    #[test]
    fn top_sentences_come_back_in_original_order() {
        let located = text::sentences(&[
            "Azerbaijan launched an operation in Karabakh. It rained.".to_string(),
            "The operation in Karabakh stopped after Armenian forces in Karabakh agreed."
                .to_string(),
        ]);
        let top = top_in_order(&located, 2);
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].paragraph, 0);
        assert_eq!(top[1].paragraph, 1);
        assert!(top_in_order(&[], 3).is_empty());
    }
}
