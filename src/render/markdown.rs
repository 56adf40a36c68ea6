//! `articles/<id>.en.md`: what an analyst opens to read one article in English.
//!
//! Text from articles and models is escaped so that a Markdown viewer shows it as text: HTML
//! tags become entities and a line cannot turn into a heading, list or link definition. The
//! summary comes first (its key points cite paragraph numbers: the order of the paragraphs
//! under Translation), then the full translation.

use crate::pipeline::ArticleRecord;
use crate::summarize::Summary;

/// The Markdown page of one translated article.
pub fn article(record: &ArticleRecord) -> String {
    let mut page = String::new();
    let heading = record
        .title_en
        .as_deref()
        .or(record.title.as_deref())
        .unwrap_or(&record.id);
    page.push_str(&format!("# {}\n\n", inline(heading)));
    if let (Some(_), Some(arabic)) = (&record.title_en, &record.title) {
        page.push_str(&format!("<div dir=\"rtl\">{}</div>\n\n", inline(arabic)));
    }
    let mut rows = vec![
        ("Article", format!("`{}`", record.id)),
        ("Input", inline(&record.origin)),
    ];
    for (label, value) in [
        ("Source", &record.source),
        ("Published", &record.published),
        ("URL", &record.url),
    ] {
        if let Some(value) = value {
            rows.push((label, inline(value)));
        }
    }
    let mut backends: Vec<&str> = record
        .chunks
        .iter()
        .filter_map(|chunk| chunk.backend.as_deref())
        .collect();
    backends.sort_unstable();
    backends.dedup();
    if !backends.is_empty() {
        rows.push(("Translated by", backends.join(", ")));
    }
    page.push_str("| | |\n|---|---|\n");
    for (label, value) in rows {
        page.push_str(&format!("| {label} | {} |\n", value.replace('|', "\\|")));
    }
    page.push('\n');
    for flag in &record.flags {
        page.push_str(&format!("> **Note:** {}\n\n", inline(flag)));
    }
    if let Some(summary) = &record.summary {
        page.push_str(&summary_section(summary));
    }
    page.push_str("## Translation\n\n");
    for paragraph in &record.translation {
        page.push_str(&block(paragraph));
        page.push_str("\n\n");
    }
    if !record.cleaned.dropped.is_empty() {
        page.push_str(&format!(
            "---\n\n*{} scraped line(s) dropped as boilerplate; see `{}.json`.*\n",
            record.cleaned.dropped.len(),
            record.id
        ));
    }
    page
}

/// The "Summary" section: the paragraph, then key points citing paragraph numbers.
fn summary_section(summary: &Summary) -> String {
    let mut section = format!(
        "## Summary\n\n*{}*\n\n{}\n\n",
        summary.method,
        block(&summary.summary)
    );
    for point in &summary.key_points {
        let cited: Vec<String> = point
            .paragraphs
            .iter()
            .map(|p| format!("\\[{p}\\]"))
            .collect();
        section.push_str(&format!("- {} {}\n", inline(&point.text), cited.join("")));
    }
    for note in &summary.notes {
        section.push_str(&format!("\n> {}\n", inline(note)));
    }
    section.push('\n');
    section
}

/// Escape text for use inside a line: no HTML, no line breaks.
pub fn inline(text: &str) -> String {
    escape_html(&text.replace(['\n', '\r'], " "))
}

/// Escape a paragraph: HTML entities, and a leading character that would start a Markdown block.
pub fn block(text: &str) -> String {
    let escaped = escape_html(text.trim());
    match escaped.chars().next() {
        Some('#' | '>' | '-' | '+' | '*' | '=' | '|' | '[') => format!("\\{escaped}"),
        Some(c) if c.is_ascii_digit() && escaped.contains(". ") => {
            escaped.replacen(". ", "\\. ", 1)
        }
        _ => escaped,
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_stays_text() {
        assert_eq!(
            inline("<script>alert(1)</script>\nx"),
            "&lt;script&gt;alert(1)&lt;/script&gt; x"
        );
        assert_eq!(block("# not a heading"), "\\# not a heading");
        assert_eq!(
            block("[x]: javascript:alert(1)"),
            "\\[x]: javascript:alert(1)"
        );
        assert_eq!(block("Plain prose."), "Plain prose.");
    }
}
