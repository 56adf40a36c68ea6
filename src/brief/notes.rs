//! What the brief says about how it was made: which way it was written, and what about the
//! run the analyst should know (articles left out, citations removed, wire copy, flagged
//! English).

use std::collections::BTreeSet;

use crate::brief::citations::DroppedCitation;
use crate::brief::wire::WireGroup;
use crate::brief::{BriefArticle, BriefInput, Story, NO_LLM_NOTE};

/// What the brief says about the run as a whole: articles left out, citations removed, wire
/// copy, flagged English.
pub(super) fn run_notes(
    articles: &[BriefArticle],
    input: &BriefInput<'_>,
    dropped: &[DroppedCitation],
    wire_groups: &[WireGroup],
) -> Vec<String> {
    let mut notes = Vec::new();
    for (article, error) in &input.left_out {
        notes.push(format!("article {article} is not in the brief: {error}"));
    }
    if !dropped.is_empty() {
        notes.push(format!(
            "{} citation(s) given by the model named articles or paragraphs that do not exist; they were removed (see dropped_citations)",
            dropped.len()
        ));
    }
    if !wire_groups.is_empty() {
        notes.push(format!(
            "{} group(s) of paragraphs appear in several articles (wire copy); each group counts as one source",
            wire_groups.len()
        ));
    }
    let flagged = articles
        .iter()
        .filter(|article| !article.flagged_paragraphs().is_empty())
        .count();
    if flagged > 0 {
        notes.push(format!(
            "{flagged} of {} articles have paragraphs whose English the checks flagged (a number, date or name that does not match the Arabic, or missing text); facts resting only on them are marked, and each article's page says what was found",
            articles.len()
        ));
    }
    notes
}

pub(super) fn method_notes(brief_llm: bool, summaries_llm: bool) -> Vec<String> {
    match (brief_llm, summaries_llm) {
        (false, false) => vec![NO_LLM_NOTE.to_string()],
        (false, true) => vec!["extractive: no LLM configured for the brief".to_string()],
        (true, false) => vec!["extractive summaries: no LLM configured for summaries".to_string()],
        (true, true) => Vec::new(),
    }
}

pub(super) fn brief_method(stories: &[Story]) -> String {
    let methods: BTreeSet<&str> = stories.iter().map(|story| story.method.as_str()).collect();
    match methods.len() {
        0 => "extractive".into(),
        1 => methods
            .into_iter()
            .next()
            .unwrap_or("extractive")
            .to_string(),
        _ => "mixed".into(),
    }
}
