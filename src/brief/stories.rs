//! From the night's articles to ranked stories: wire copy found on the paragraphs' sketches
//! (its first copy's text read back), articles grouped into stories on their terms, and the
//! stories ranked by independent sources.

use std::collections::HashMap;

use crate::brief::wire::{self, WireGroup};
use crate::brief::{group, linkage, night, rank, BriefArticle};

/// Each article's features, taken out of it (they are used once, then dropped).
pub(super) fn take_features(articles: &mut [BriefArticle]) -> Vec<night::Features> {
    articles
        .iter_mut()
        .map(|article| article.features.take().unwrap_or_default())
        .collect()
}

/// The wire-copy groups among the articles' paragraphs, each with its first copy's text read
/// back; and the texts that could not be.
pub(super) fn wire_copy(
    articles: &[BriefArticle],
    features: &[night::Features],
    stowage: &night::Stowage,
) -> (Vec<WireGroup>, Vec<String>) {
    let sketches: Vec<wire::ArticleSketches<'_>> = articles
        .iter()
        .zip(features)
        .map(|(article, features)| wire::ArticleSketches {
            id: &article.id,
            paragraphs: &features.sketches,
        })
        .collect();
    let mut groups = wire::detect(&sketches);
    let position: HashMap<&str, usize> = articles
        .iter()
        .enumerate()
        .map(|(index, article)| (article.id.as_str(), index))
        .collect();
    let mut problems = Vec::new();
    for group in &mut groups {
        let Some(first) = group.paragraphs.first() else {
            continue;
        };
        let Some(&index) = position.get(first.article.as_str()) else {
            continue;
        };
        match stowage.load(&articles[index]) {
            Ok(article) => {
                let at = first.paragraph - 1;
                group.arabic = article.arabic.get(at).cloned().unwrap_or_default();
                group.english = article.english.get(at).cloned().unwrap_or_default();
            }
            Err(error) => problems.push(error.to_string()),
        }
    }
    (groups, problems)
}

/// The articles grouped into stories on their Arabic, and the stories ranked; with each
/// article's neighbours (for choosing a story's central article).
pub(super) fn group_and_rank(
    articles: &[BriefArticle],
    features: Vec<night::Features>,
    wire_groups: &[WireGroup],
    grouping: linkage::Limits,
) -> (Vec<Vec<group::Neighbour>>, Vec<rank::Ranked>) {
    let terms: Vec<group::Terms> = features.into_iter().map(|f| f.terms).collect();
    let mut scored = group::score_terms(terms);
    let groups = linkage::stories_taking_vectors(&mut scored, grouping);
    let ranked = rank::rank(groups, articles, wire_groups);
    (scored.neighbours, ranked)
}
