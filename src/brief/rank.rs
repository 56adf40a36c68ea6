//! The night's stories in the order an analyst reads them, and which ones are written in full.
//!
//! A story ranks by how many *independent* sources carry it, then by its article count, then by
//! its latest article. Independent sources are outlets, except that outlets running the same
//! wire copy (paragraphs `wire` found in several articles) count once: three papers printing
//! one agency's dispatch are one source. The top `brief.top_stories` stories are written in
//! full; the rest of the stories of several articles are listed compactly (headline, outlets,
//! articles), and the stories of one article are listed by outlet. This keeps the brief's model
//! work and its size bounded whatever the night's size.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::brief::wire::{find, union, WireGroup};
use crate::brief::BriefArticle;

/// One story's members and what it ranks by.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Article indices, in input order.
    pub members: Vec<usize>,
    pub independent_sources: usize,
    /// Outlets, in order of first appearance in the story.
    pub outlets: Vec<String>,
    /// The latest publication date among its articles, as written (ISO dates sort as text).
    pub latest: Option<String>,
}

/// A story past the top ones: listed, not written.
#[derive(Debug, Clone, Serialize)]
pub struct StoryLine {
    pub id: String,
    /// The English title of its most central titled article.
    pub headline: String,
    /// What the checks found wrong in that title, when anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_doubt: Option<String>,
    pub independent_sources: usize,
    pub outlets: Vec<String>,
    pub articles: Vec<String>,
    /// The mean confidence of its articles' English, 0..1.
    pub confidence: f64,
}

/// The single-article stories of one outlet, past the top ones.
#[derive(Debug, Clone, Serialize)]
pub struct OutletReports {
    pub outlet: String,
    pub articles: Vec<String>,
}

/// `groups` ranked: most independent sources first, then most articles, then the latest
/// article, then input order.
pub fn rank(
    groups: Vec<Vec<usize>>,
    articles: &[BriefArticle],
    wire_groups: &[WireGroup],
) -> Vec<Ranked> {
    let index: HashMap<&str, usize> = articles
        .iter()
        .enumerate()
        .map(|(position, article)| (article.id.as_str(), position))
        .collect();
    let copies: Vec<Vec<usize>> = wire_groups
        .iter()
        .map(|group| {
            let members: BTreeSet<usize> = group
                .paragraphs
                .iter()
                .filter_map(|paragraph| index.get(paragraph.article.as_str()).copied())
                .collect();
            members.into_iter().collect()
        })
        .collect();
    let mut ranked: Vec<Ranked> = groups
        .into_iter()
        .map(|members| {
            let mut outlets: Vec<String> = Vec::new();
            for &member in &members {
                let outlet = articles[member].outlet();
                if !outlets.iter().any(|o| o == outlet) {
                    outlets.push(outlet.to_string());
                }
            }
            let latest = members
                .iter()
                .filter_map(|&member| articles[member].published.clone())
                .max();
            Ranked {
                independent_sources: independent_sources(&members, articles, &copies),
                members,
                outlets,
                latest,
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.independent_sources
            .cmp(&a.independent_sources)
            .then(b.members.len().cmp(&a.members.len()))
            .then(b.latest.cmp(&a.latest))
            .then(a.members.first().cmp(&b.members.first()))
    });
    ranked
}

/// Groups of the story's articles that are one source: same outlet, or sharing wire copy.
fn independent_sources(
    members: &[usize],
    articles: &[BriefArticle],
    copies: &[Vec<usize>],
) -> usize {
    let slot: HashMap<usize, usize> = members
        .iter()
        .enumerate()
        .map(|(position, &member)| (member, position))
        .collect();
    let mut parent: Vec<usize> = (0..members.len()).collect();
    let mut by_outlet: HashMap<&str, usize> = HashMap::new();
    for (position, &member) in members.iter().enumerate() {
        let first = *by_outlet
            .entry(articles[member].outlet())
            .or_insert(position);
        union(&mut parent, first, position);
    }
    for group in copies {
        let inside: Vec<usize> = group.iter().filter_map(|m| slot.get(m).copied()).collect();
        for pair in inside.windows(2) {
            union(&mut parent, pair[0], pair[1]);
        }
    }
    (0..members.len())
        .filter(|&position| find(&mut parent, position) == position)
        .count()
}

/// Single-article stories grouped by outlet (outlets and articles in input order).
pub fn by_outlet(singles: &[(usize, &BriefArticle)]) -> Vec<OutletReports> {
    let mut reports: Vec<OutletReports> = Vec::new();
    let mut ordered: Vec<&(usize, &BriefArticle)> = singles.iter().collect();
    ordered.sort_by_key(|(position, _)| *position);
    for (_, article) in ordered {
        let outlet = article.outlet();
        match reports.iter_mut().find(|r| r.outlet == outlet) {
            Some(report) => report.articles.push(article.id.clone()),
            None => reports.push(OutletReports {
                outlet: outlet.to_string(),
                articles: vec![article.id.clone()],
            }),
        }
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::wire::ParagraphRef;

    fn article(id: &str, outlet: &str, published: &str) -> BriefArticle {
        BriefArticle {
            id: id.into(),
            origin: format!("{id}.txt"),
            title: None,
            title_en: None,
            source: Some(outlet.into()),
            url: None,
            published: Some(published.into()),
            arabic: Vec::new(),
            english: Vec::new(),
            summary: None,
            confidence: 1.0,
            paragraph_flags: Vec::new(),
            title_flags: Vec::new(),
            features: None,
            stowed: None,
        }
    }

    fn wire(articles: &[&str]) -> WireGroup {
        WireGroup {
            id: "wire-1".into(),
            paragraphs: articles
                .iter()
                .map(|a| ParagraphRef {
                    article: a.to_string(),
                    paragraph: 1,
                })
                .collect(),
            exact: true,
            similarity: 1.0,
            arabic: String::new(),
            english: String::new(),
        }
    }

    /// Three outlets printing one agency dispatch are one source; a story told by three
    /// outlets in their own words outranks it, and a bigger story of one outlet ranks below
    /// both.
    #[test]
    fn stories_rank_by_independent_sources_with_wire_copy_counted_once() {
        let articles = vec![
            article("a1", "okaz", "2015-07-21"),
            article("a2", "sabq", "2015-07-21"),
            article("a3", "alyaum", "2015-07-21"),
            article("b1", "okaz", "2015-07-21"),
            article("b2", "aawsat", "2015-07-21"),
            article("b3", "alriyadh", "2015-07-20"),
            article("c1", "sabq", "2015-07-21"),
            article("c2", "sabq", "2015-07-21"),
            article("c3", "sabq", "2015-07-21"),
            article("c4", "sabq", "2015-07-21"),
            article("d1", "okaz", "2015-07-21"),
        ];
        let groups = vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8, 9], vec![10]];
        let ranked = rank(groups, &articles, &[wire(&["a1", "a2", "a3"])]);
        let order: Vec<(usize, usize)> = ranked
            .iter()
            .map(|r| (r.members[0], r.independent_sources))
            .collect();
        assert_eq!(order, vec![(3, 3), (6, 1), (0, 1), (10, 1)]);
        assert_eq!(ranked[0].outlets, vec!["okaz", "aawsat", "alriyadh"]);
        assert_eq!(ranked[0].latest.as_deref(), Some("2015-07-21"));
        let singles = [(10, &articles[10]), (6, &articles[6]), (3, &articles[3])];
        let reports = by_outlet(&singles);
        let outlets: Vec<(&str, usize)> = reports
            .iter()
            .map(|r| (r.outlet.as_str(), r.articles.len()))
            .collect();
        assert_eq!(outlets, vec![("okaz", 2), ("sabq", 1)]);
    }
}
