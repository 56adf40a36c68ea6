//! `articles/<id>.en.md`: what an analyst opens to read one article in English.
//!
//! Text from articles and models is escaped so that a Markdown viewer shows it as text: HTML
//! tags become entities and a line cannot turn into a heading, list or link definition. The
//! summary comes first (its key points cite paragraph numbers: the order of the paragraphs
//! under Translation), then the full translation.

use crate::fidelity::Flag;
use crate::record::ArticleRecord;
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
    if record.encoding != "UTF-8" {
        rows.push(("Encoding", inline(&record.encoding)));
    }
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
    rows.push(("Confidence", confidence_line(record)));
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
    for flag in &record.title_flags {
        page.push_str(&format!("> **Check the title:** {}\n\n", flag_text(flag)));
    }
    page.push_str("## Translation\n\n");
    let flags = record.flags_by_paragraph();
    for (index, paragraph) in record.translation.iter().enumerate() {
        page.push_str(&format!("{} *\\[{}\\]*", block(paragraph), index + 1));
        page.push_str("\n\n");
        let paragraph_flags = flags.get(index).map(Vec::as_slice).unwrap_or_default();
        if !paragraph_flags.is_empty() {
            page.push_str("> **Check this paragraph against the Arabic:**\n");
            for flag in paragraph_flags {
                page.push_str(&format!(">\n> - {}\n", flag_text(flag)));
            }
            page.push('\n');
        }
    }
    dropped_section(&mut page, record);
    page
}

/// The source lines cleaning left out, each with its reason, so that a reader can see that
/// nothing of substance went missing.
fn dropped_section(page: &mut String, record: &ArticleRecord) {
    if record.cleaned.dropped.is_empty() {
        return;
    }
    page.push_str(&format!(
        "---\n\n## Left out of the translation\n\n{} line(s) of the source were taken for page \
         furniture (captions, \"read also\" links, logos) and not translated:\n\n",
        record.cleaned.dropped.len()
    ));
    for dropped in &record.cleaned.dropped {
        page.push_str(&format!(
            "- *{}*: {}\n",
            inline(&dropped.reason),
            inline(&dropped.text)
        ));
    }
}

/// "medium (0.82): 2 of 9 chunks flagged", or "high (1.00): no flags".
fn confidence_line(record: &ArticleRecord) -> String {
    let flagged = if record.flag_count == 0 {
        "the checks found nothing".to_string()
    } else {
        format!(
            "{} of {} chunks flagged, {} flag(s); see the notes under the paragraphs",
            record.flagged_chunks,
            record.chunks.len(),
            record.flag_count
        )
    };
    format!(
        "{} ({:.2}): {flagged}",
        record.confidence_label, record.confidence
    )
}

/// One flag as a line: its kind, the message, and the Arabic or English it concerns.
pub fn flag_text(flag: &Flag) -> String {
    let mut text = format!("*{}:* {}", flag.kind.as_str(), inline(&flag.message));
    if let Some(arabic) = &flag.arabic {
        text.push_str(&format!(
            " (Arabic: <span dir=\"rtl\">{}</span>)",
            inline(arabic)
        ));
    }
    text
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

/// Escape text for use inside a line: no HTML, no links, no line breaks.
pub fn inline(text: &str) -> String {
    escape_html(&text.replace(['\n', '\r'], " "))
}

/// Escape a paragraph: HTML entities, no links, and a leading character that would start a
/// Markdown block.
pub fn block(text: &str) -> String {
    let escaped = escape_html(text.trim());
    match escaped.chars().next() {
        Some('#' | '>' | '-' | '+' | '*' | '=' | '|') => format!("\\{escaped}"),
        Some(c) if c.is_ascii_digit() && escaped.contains(". ") => {
            escaped.replacen(". ", "\\. ", 1)
        }
        _ => escaped,
    }
}

/// The escaper of askama templates ending in `.md` (see `askama.toml`): [`inline`].
#[derive(Debug, Clone, Copy)]
pub struct Inline;

impl askama::filters::Escaper for Inline {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, text: &str) -> std::fmt::Result {
        dest.write_str(&inline(text))
    }
}

/// HTML made text, and square brackets made literal: an article or a model answer that carries
/// `[official statement](https://…)` or `![](…)` shows it as written instead of as a link
/// or image dressed in words the analyst would trust.
fn escape_html(text: &str) -> String {
    // A backslash first, so that one written before a bracket cannot undo the bracket's escape.
    text.replace('\\', "\\\\")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('[', "\\[")
        .replace(']', "\\]")
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
            "\\[x\\]: javascript:alert(1)"
        );
        assert_eq!(
            inline("See [the statement](https://evil.example) and ![](https://evil.example/p.png)"),
            "See \\[the statement\\](https://evil.example) and !\\[\\](https://evil.example/p.png)"
        );
        assert_eq!(
            inline("\\[x](https://e.example)"),
            "\\\\\\[x\\](https://e.example)"
        );
        assert_eq!(block("Plain prose."), "Plain prose.");
    }
}
