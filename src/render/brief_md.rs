//! `brief.md`: the brief as Markdown, for reading in a terminal, an editor or a Git host.
//!
//! Same content and order as the HTML page. Article and model text goes through the escaping
//! helpers of `render::markdown`, so it cannot become markup, headings or links; citations are
//! links to the articles' own pages (`articles/<id>.en.md`), and an outside URL becomes a link
//! only when it is http(s).

use std::collections::HashMap;
use std::fmt::Write;

use crate::brief::citations::Citation;
use crate::brief::{Brief, Fact, Story};
use crate::render::html::safe_url;
use crate::render::markdown::{block, inline};

/// What a fact or a dated event says when every paragraph it cites was flagged.
const IN_DOUBT: &str = " **(in doubt: rests only on paragraphs the checks flagged)**";

/// The Markdown brief.
pub fn brief(brief: &Brief) -> String {
    let numbers: HashMap<&str, usize> = brief
        .sources
        .iter()
        .enumerate()
        .map(|(index, source)| (source.id.as_str(), index + 1))
        .collect();
    let mut page = String::new();
    let _ = writeln!(
        page,
        "# Brief\n\n*Generated {} · method: {} · {} stories from {} articles*\n",
        inline(&brief.generated_at),
        inline(&brief.method),
        brief.story_count(),
        brief.sources.len()
    );
    for note in &brief.notes {
        let _ = writeln!(page, "> **Note:** {}\n", inline(note));
    }
    for (index, story) in brief.stories.iter().enumerate() {
        story_section(&mut page, index + 1, story, &numbers);
    }
    more_section(&mut page, brief, &numbers);
    wire_section(&mut page, brief, &numbers);
    sources_section(&mut page, brief);
    if !brief.dropped_citations.is_empty() {
        page.push_str("## Citations removed\n\nThe model cited these, but they do not exist:\n\n");
        for dropped in &brief.dropped_citations {
            let paragraph = dropped
                .paragraph
                .map(|p| format!(" paragraph {p}"))
                .unwrap_or_default();
            let _ = writeln!(
                page,
                "- {}: `{}`{} — {}",
                inline(&dropped.location),
                inline(&dropped.article).replace('`', "'"),
                paragraph,
                inline(&dropped.reason)
            );
        }
        page.push('\n');
    }
    page
}

/// The stories past the top ones, one line each, then the single reports by outlet; every
/// article is a link to its page.
fn more_section(page: &mut String, brief: &Brief, numbers: &HashMap<&str, usize>) {
    let titles = brief.titles();
    let doubts = brief.title_doubts();
    let link = |article: &str| {
        let label = numbers
            .get(article)
            .map_or_else(|| inline(article), |n| format!("S{n}"));
        format!("[{label}](articles/{article}.en.md)")
    };
    if !brief.more_stories.is_empty() {
        page.push_str("## More stories\n\n*Ranked like the stories above; listed, not written. Headlines are article titles.*\n\n");
        for (index, line) in brief.more_stories.iter().enumerate() {
            let links: Vec<String> = line.articles.iter().map(|a| link(a)).collect();
            let _ = writeln!(
                page,
                "{}. **{}**{} · {} · {} articles · {} independent sources · {} · confidence {:.2} · {}",
                brief.stories.len() + index + 1,
                inline(&line.headline),
                line.title_doubt
                    .as_deref()
                    .map(|doubt| format!(" **(title in doubt: {})**", inline(doubt)))
                    .unwrap_or_default(),
                line.id,
                line.articles.len(),
                line.independent_sources,
                inline(&line.outlets.join(", ")),
                line.confidence,
                links.join(" ")
            );
        }
        page.push('\n');
    }
    if !brief.single_reports.is_empty() {
        page.push_str("## Single reports, by outlet\n\n");
        for report in &brief.single_reports {
            let _ = writeln!(page, "### {}\n", inline(&report.outlet));
            for article in &report.articles {
                let title = titles.get(article.as_str()).copied().unwrap_or(article);
                let doubt = doubts
                    .get(article.as_str())
                    .map(|doubt| format!(" **(title in doubt: {})**", inline(doubt)))
                    .unwrap_or_default();
                let _ = writeln!(page, "- {}{doubt} {}", inline(title), link(article));
            }
            page.push('\n');
        }
    }
}

fn story_section(page: &mut String, number: usize, story: &Story, numbers: &HashMap<&str, usize>) {
    let _ = writeln!(
        page,
        "## {number}. {}\n\n*{} · {} · {} articles · {}*\n\n{}\n",
        inline(&story.headline),
        story.id,
        inline(&story.method),
        story.articles.len(),
        crate::render::html::story_confidence(story),
        block(&story.synthesis)
    );
    if let Some(sections) = story.sections_text() {
        let _ = writeln!(page, "*Written: {}*\n", inline(&sections));
    }
    fact_list(page, "Key facts", &story.key_facts, numbers);
    fact_list(page, "Where the sources agree", &story.agreements, numbers);
    if !story.differences.is_empty() {
        page.push_str("### Where the sources differ\n\n");
        for difference in &story.differences {
            let _ = writeln!(page, "- **{}**", inline(&difference.topic));
            for position in &difference.positions {
                let _ = writeln!(page, "  - {}", fact_line(position, numbers));
            }
        }
        page.push('\n');
    }
    if !story.entities.is_empty() {
        page.push_str("### Named entities\n\n| Name | Kind | Other spellings |\n|---|---|---|\n");
        for entity in &story.entities {
            let _ = writeln!(
                page,
                "| {}{} | {} | {} |",
                cell(&entity.name),
                if entity.on_flagged_paragraphs {
                    " **(in doubt: named only in paragraphs the checks flagged)**"
                } else {
                    ""
                },
                cell(&entity.kind),
                cell(&entity.variants.join(", "))
            );
        }
        page.push('\n');
    }
    if !story.timeline.is_empty() {
        page.push_str("### Timeline\n\n");
        for entry in &story.timeline {
            let _ = writeln!(
                page,
                "- **{}** {}{}{}",
                inline(&entry.date),
                inline(&entry.event),
                citations(&entry.citations, numbers),
                if entry.on_flagged_paragraphs {
                    IN_DOUBT
                } else {
                    ""
                }
            );
        }
        page.push('\n');
    }
    for note in &story.notes {
        let _ = writeln!(page, "> {}\n", inline(note));
    }
}

fn fact_list(page: &mut String, title: &str, facts: &[Fact], numbers: &HashMap<&str, usize>) {
    if facts.is_empty() {
        return;
    }
    let _ = writeln!(page, "### {title}\n");
    for fact in facts {
        let _ = writeln!(page, "- {}", fact_line(fact, numbers));
    }
    page.push('\n');
}

fn fact_line(fact: &Fact, numbers: &HashMap<&str, usize>) -> String {
    let mut line = format!(
        "{}{}",
        inline(&fact.text),
        citations(&fact.citations, numbers)
    );
    if fact.unsupported {
        line.push_str(" **(unsupported: invented citations removed)**");
    }
    if fact.on_flagged_paragraphs {
        line.push_str(IN_DOUBT);
    }
    if !fact.wire_copy.is_empty() {
        let _ = write!(
            line,
            " *(wire copy {}: {} independent source(s))*",
            fact.wire_copy.join(", "),
            fact.independent_sources
        );
    }
    line
}

fn citations(citations: &[Citation], numbers: &HashMap<&str, usize>) -> String {
    citations
        .iter()
        .map(|citation| {
            let label = numbers
                .get(citation.article.as_str())
                .map(|n| format!("S{n}"))
                .unwrap_or_else(|| inline(&citation.article));
            let paragraphs = if citation.paragraphs.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = citation.paragraphs.iter().map(usize::to_string).collect();
                format!(" ¶{}", list.join(","))
            };
            format!(
                " [\\[{label}{paragraphs}\\]](articles/{}.en.md)",
                citation.article
            )
        })
        .collect()
}

fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

fn wire_section(page: &mut String, brief: &Brief, numbers: &HashMap<&str, usize>) {
    if brief.wire_copy.is_empty() {
        return;
    }
    page.push_str("## Wire copy\n\nParagraphs carried by several outlets; each group counts as one source.\n\n");
    for group in &brief.wire_copy {
        let cited: Vec<Citation> = group
            .paragraphs
            .iter()
            .map(|r| Citation {
                article: r.article.clone(),
                paragraphs: vec![r.paragraph],
            })
            .collect();
        let _ = writeln!(
            page,
            "- **{}** ({}, similarity {:.2}): {}{}",
            group.id,
            if group.exact {
                "exact"
            } else {
                "near-duplicate"
            },
            group.similarity,
            inline(&group.english),
            citations(&cited, numbers)
        );
    }
    page.push('\n');
}

fn sources_section(page: &mut String, brief: &Brief) {
    page.push_str("## Sources\n\n| | Title | Arabic title | Outlet / file | Published | Confidence | Links |\n|---|---|---|---|---|---|---|\n");
    let written = brief.written_articles();
    for (index, source) in brief.sources.iter().enumerate() {
        // Articles of listed stories and single reports are linked from their lists.
        if !written.contains(source.id.as_str()) {
            continue;
        }
        let url = match source.url.as_deref() {
            Some(url) => match safe_url(url) {
                Some(safe) => format!(" · [original](<{}>)", safe.replace('>', "%3E")),
                None => format!(" · {}", cell(url)),
            },
            None => String::new(),
        };
        let _ = writeln!(
            page,
            "| S{} | {} | {} | {} | {} | {} | [page]({}){} |",
            index + 1,
            cell(source.title_en.as_deref().unwrap_or(&source.id)),
            source
                .title
                .as_deref()
                .map(|t| format!("<span dir=\"rtl\">{}</span>", cell(t)))
                .unwrap_or_default(),
            cell(source.source.as_deref().unwrap_or(&source.origin)),
            cell(source.published.as_deref().unwrap_or("")),
            cell(&source.confidence_text()),
            source.page,
            url
        );
    }
    page.push('\n');
}
