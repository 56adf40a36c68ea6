// Over 600 lines only with its tests: the code is 587 lines, one page's sections in the order they appear.
//! `brief.html`: the brief as one self-contained page an analyst opens on a laptop.
//!
//! Self-contained means no network: the CSS is inline and there are no fonts, images or
//! scripts. Every piece of article or model text goes through [`escape`], so nothing an article
//! says can become markup; links to the outside are made only from `http`/`https` URLs
//! ([`safe_url`]), anything else (a `javascript:` URL) is shown as plain text. Citations link to
//! paragraph anchors in the article sections at the end of the same page, and each article has
//! a bilingual view (English beside the right-to-left Arabic) in a `<details>` element.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use crate::brief::citations::Citation;
use crate::brief::{anchor, paragraph_anchor, Brief, BriefArticle, Fact, Story};
use crate::fidelity::{self, Flag};

const STYLE: &str = "
body{font:16px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d232a;background:#f6f7f9;margin:0}
main{max-width:1100px;margin:0 auto;padding:1.5rem 2rem 4rem}
h1{font-size:1.9rem;margin:.2rem 0}h2{font-size:1.45rem;margin:2rem 0 .5rem}h3{font-size:1.1rem;margin:1.2rem 0 .4rem}
.meta{color:#5b6673;font-size:.9rem}.flagged{background:#fff4f4;border-left:3px solid #d64545;padding-left:.4rem}.flags{font-size:.9rem;color:#8a1f1f;margin:.3rem 0}.notes{background:#fff8e1;border-left:4px solid #f0b429;padding:.6rem 1rem .6rem 2rem}
.story,.article,.panel{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:1rem 1.5rem;margin:1.2rem 0}
.story h2{margin-top:.3rem}.synthesis{font-size:1.05rem}
a{color:#0b5cad}a.cite{font-size:.8rem;text-decoration:none;background:#e8f0fb;border-radius:4px;padding:0 .3rem;margin-left:.2rem;white-space:nowrap}
.badge{font-size:.75rem;background:#eee;border-radius:4px;padding:0 .35rem;margin-left:.3rem;color:#444}
.warn{background:#fde2e1;color:#8a1c1c}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e4e8ee;padding:.35rem .5rem;vertical-align:top;text-align:left}
[dir=rtl]{text-align:right;font-family:'Noto Naskh Arabic','Amiri','Geeza Pro',serif;font-size:1.08rem}
.bilingual td{width:50%}.bilingual td.num{width:2.5rem;color:#7a8591}
ol.paragraphs li{margin:.35rem 0}ol.paragraphs li:target{background:#fff3bf}
details summary{cursor:pointer;color:#0b5cad;margin:.6rem 0}
nav ul{padding-left:1.2rem}
";

/// Escape text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `url` when it is a plain http(s) URL that is safe to put in an href, else `None`.
pub fn safe_url(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
    let clean = !url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`'));
    (scheme_ok && clean && url.len() > "https://".len()).then_some(url)
}

/// How the page names and links an article: its number in the run (`S3`), and whether its
/// section is on this page. Only the articles of the stories written in full are; the others
/// (listed stories, single reports) link to their own pages, so the page stays light on a night
/// of thousands of articles.
struct Refs<'a> {
    numbers: HashMap<&'a str, usize>,
    inlined: HashSet<&'a str>,
}

impl<'a> Refs<'a> {
    fn new(brief: &'a Brief) -> Refs<'a> {
        Refs {
            numbers: brief
                .articles
                .iter()
                .enumerate()
                .map(|(index, article)| (article.id.as_str(), index + 1))
                .collect(),
            inlined: brief.written_articles(),
        }
    }

    fn label(&self, article: &str) -> String {
        self.numbers
            .get(article)
            .map_or_else(|| article.to_string(), |n| format!("S{n}"))
    }

    /// The link to an article (or one of its paragraphs): its section here, else its page.
    fn href(&self, article: &str, paragraph: Option<usize>) -> String {
        match (self.inlined.contains(article), paragraph) {
            (true, Some(paragraph)) => format!("#{}", paragraph_anchor(article, paragraph)),
            (true, None) => format!("#{}", anchor(article)),
            (false, _) => format!("articles/{article}.en.md"),
        }
    }
}

/// What a fact or a dated event says when every paragraph it cites was flagged.
const IN_DOUBT: &str =
    "<span class=\"badge warn\">in doubt: rests only on paragraphs the checks flagged</span>";

/// The whole page.
pub fn page(brief: &Brief) -> String {
    let numbers = Refs::new(brief);
    let mut html = String::new();
    html.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str("<title>tarjim brief</title>\n<style>");
    html.push_str(STYLE);
    html.push_str("</style>\n</head>\n<body>\n<main>\n");
    header(&mut html, brief);
    for story in &brief.stories {
        story_section(&mut html, story, &numbers);
    }
    more_section(&mut html, brief, &numbers);
    wire_section(&mut html, brief, &numbers);
    sources_section(&mut html, brief, &numbers);
    dropped_section(&mut html, brief);
    html.push_str("<h2 id=\"articles\">Articles</h2>\n");
    for (index, article) in brief.articles.iter().enumerate() {
        if numbers.inlined.contains(article.id.as_str()) {
            article_section(&mut html, article, index + 1);
        }
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// The stories past the top ones, one line each, then the single reports by outlet.
fn more_section(html: &mut String, brief: &Brief, numbers: &Refs<'_>) {
    let titles = brief.titles();
    let doubts = brief.title_doubts();
    let link = |html: &mut String, article: &str| {
        let _ = write!(
            html,
            " <a class=\"cite\" href=\"{}\" title=\"{}\">{}</a>",
            escape(&numbers.href(article, None)),
            escape(titles.get(article).copied().unwrap_or(article)),
            escape(&numbers.label(article))
        );
    };
    if !brief.more_stories.is_empty() {
        html.push_str("<section class=\"panel\" id=\"more-stories\">\n<h2>More stories</h2>\n<p class=\"meta\">Ranked like the stories above; listed, not written. Headlines are article titles.</p>\n<ol>\n");
        for line in &brief.more_stories {
            let _ = write!(
                html,
                "<li id=\"{}\"><strong>{}</strong>{} <span class=\"meta\">{} · {} articles · {} independent sources · {} · confidence {:.2}</span>",
                escape(&line.id),
                escape(&line.headline),
                line.title_doubt
                    .as_deref()
                    .map(|doubt| format!(" <span class=\"flagged\">(title in doubt: {})</span>", escape(doubt)))
                    .unwrap_or_default(),
                escape(&line.id),
                line.articles.len(),
                line.independent_sources,
                escape(&line.outlets.join(", ")),
                line.confidence
            );
            for article in &line.articles {
                link(html, article);
            }
            html.push_str("</li>\n");
        }
        html.push_str("</ol>\n</section>\n");
    }
    if !brief.single_reports.is_empty() {
        html.push_str(
            "<section class=\"panel\" id=\"single-reports\">\n<h2>Single reports, by outlet</h2>\n",
        );
        for report in &brief.single_reports {
            let _ = writeln!(html, "<h3>{}</h3>\n<ul>", escape(&report.outlet));
            for article in &report.articles {
                let _ = write!(
                    html,
                    "<li>{}",
                    escape(titles.get(article.as_str()).copied().unwrap_or(article))
                );
                if let Some(doubt) = doubts.get(article.as_str()) {
                    let _ = write!(
                        html,
                        " <span class=\"flagged\">(title in doubt: {})</span>",
                        escape(doubt)
                    );
                }
                link(html, article);
                html.push_str("</li>\n");
            }
            html.push_str("</ul>\n");
        }
        html.push_str("</section>\n");
    }
}

fn header(html: &mut String, brief: &Brief) {
    let _ = write!(
        html,
        "<header>\n<h1>Brief</h1>\n<p class=\"meta\">Generated {} · method: {} · {} stories from {} articles</p>\n",
        escape(&brief.generated_at),
        escape(&brief.method),
        brief.story_count(),
        brief.articles.len()
    );
    if !brief.notes.is_empty() {
        html.push_str("<ul class=\"notes\">\n");
        for note in &brief.notes {
            let _ = writeln!(html, "<li>{}</li>", escape(note));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("<nav><ul>\n");
    for story in &brief.stories {
        let _ = writeln!(
            html,
            "<li><a href=\"#{}\">{}</a> <span class=\"meta\">({} articles)</span></li>",
            escape(&story.id),
            escape(&story.headline),
            story.articles.len()
        );
    }
    if !brief.more_stories.is_empty() {
        let _ = writeln!(
            html,
            "<li><a href=\"#more-stories\">More stories</a> <span class=\"meta\">({})</span></li>",
            brief.more_stories.len()
        );
    }
    if !brief.single_reports.is_empty() {
        html.push_str("<li><a href=\"#single-reports\">Single reports, by outlet</a></li>\n");
    }
    html.push_str("<li><a href=\"#sources\">Sources</a></li><li><a href=\"#articles\">Articles</a></li>\n</ul></nav>\n</header>\n");
}

/// The story's named entities, each marked when only flagged paragraphs name it.
fn entity_table(html: &mut String, story: &Story) {
    if story.entities.is_empty() {
        return;
    }
    html.push_str("<h3>Named entities</h3>\n<table>\n<tr><th>Name</th><th>Kind</th><th>Other spellings</th></tr>\n");
    for entity in &story.entities {
        let doubt = if entity.on_flagged_paragraphs {
            " <span class=\"badge warn\">in doubt: named only in paragraphs the checks flagged</span>"
        } else {
            ""
        };
        let _ = writeln!(
            html,
            "<tr><td>{}{doubt}</td><td>{}</td><td>{}</td></tr>",
            escape(&entity.name),
            escape(&entity.kind),
            escape(&entity.variants.join(", "))
        );
    }
    html.push_str("</table>\n");
}

fn story_section(html: &mut String, story: &Story, numbers: &Refs<'_>) {
    let _ = write!(
        html,
        "<section class=\"story\" id=\"{}\">\n<h2>{}</h2>\n<p class=\"meta\">{} · {} · {} articles · {}</p>\n<p class=\"synthesis\">{}</p>\n",
        escape(&story.id),
        escape(&story.headline),
        escape(&story.id),
        escape(&story.method),
        story.articles.len(),
        escape(&story_confidence(story)),
        escape(&story.synthesis)
    );
    if let Some(sections) = story.sections_text() {
        let _ = writeln!(
            html,
            "<p class=\"meta written\">Written: {}</p>",
            escape(&sections)
        );
    }
    fact_list(html, "Key facts", &story.key_facts, numbers);
    fact_list(html, "Where the sources agree", &story.agreements, numbers);
    if !story.differences.is_empty() {
        html.push_str("<h3>Where the sources differ</h3>\n<ul>\n");
        for difference in &story.differences {
            let _ = write!(
                html,
                "<li><strong>{}</strong><ul>",
                escape(&difference.topic)
            );
            for position in &difference.positions {
                html.push_str("<li>");
                fact_item(html, position, numbers);
                html.push_str("</li>");
            }
            html.push_str("</ul></li>\n");
        }
        html.push_str("</ul>\n");
    }
    entity_table(html, story);
    if !story.timeline.is_empty() {
        html.push_str("<h3>Timeline</h3>\n<table>\n");
        for entry in &story.timeline {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}",
                escape(&entry.date),
                escape(&entry.event)
            );
            citations(html, &entry.citations, numbers);
            if entry.on_flagged_paragraphs {
                html.push_str(IN_DOUBT);
            }
            html.push_str("</td></tr>\n");
        }
        html.push_str("</table>\n");
    }
    if !story.notes.is_empty() {
        html.push_str("<ul class=\"notes\">\n");
        for note in &story.notes {
            let _ = writeln!(html, "<li>{}</li>", escape(note));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</section>\n");
}

/// "translation confidence medium (0.78); 3 of 5 articles have flagged paragraphs".
pub fn story_confidence(story: &Story) -> String {
    let mut text = format!(
        "translation confidence {} ({:.2})",
        fidelity::confidence_label(story.confidence),
        story.confidence
    );
    if story.flagged_articles > 0 {
        text.push_str(&format!(
            "; {} of {} articles have flagged paragraphs",
            story.flagged_articles,
            story.articles.len()
        ));
    }
    text
}

fn fact_list(html: &mut String, title: &str, facts: &[Fact], numbers: &Refs<'_>) {
    if facts.is_empty() {
        return;
    }
    let _ = writeln!(html, "<h3>{}</h3>\n<ul>", escape(title));
    for fact in facts {
        html.push_str("<li>");
        fact_item(html, fact, numbers);
        html.push_str("</li>\n");
    }
    html.push_str("</ul>\n");
}

fn fact_item(html: &mut String, fact: &Fact, numbers: &Refs<'_>) {
    html.push_str(&escape(&fact.text));
    citations(html, &fact.citations, numbers);
    if fact.unsupported {
        html.push_str("<span class=\"badge warn\">unsupported: invented citations removed</span>");
    }
    if fact.on_flagged_paragraphs {
        html.push_str(IN_DOUBT);
    }
    if !fact.wire_copy.is_empty() {
        let _ = write!(
            html,
            "<span class=\"badge\">wire copy {}: {} independent source(s)</span>",
            escape(&fact.wire_copy.join(", ")),
            fact.independent_sources
        );
    }
}

fn citations(html: &mut String, citations: &[Citation], numbers: &Refs<'_>) {
    for citation in citations {
        let label = numbers.label(&citation.article);
        if citation.paragraphs.is_empty() {
            let _ = write!(
                html,
                "<a class=\"cite\" href=\"{}\" title=\"{}\">{}</a>",
                escape(&numbers.href(&citation.article, None)),
                escape(&citation.article),
                escape(&label)
            );
        }
        for paragraph in &citation.paragraphs {
            let _ = write!(
                html,
                "<a class=\"cite\" href=\"{}\" title=\"{} paragraph {paragraph}\">{} ¶{paragraph}</a>",
                escape(&numbers.href(&citation.article, Some(*paragraph))),
                escape(&citation.article),
                escape(&label)
            );
        }
    }
}

fn wire_section(html: &mut String, brief: &Brief, numbers: &Refs<'_>) {
    if brief.wire_copy.is_empty() {
        return;
    }
    html.push_str("<section class=\"panel\" id=\"wire-copy\">\n<h2>Wire copy</h2>\n<p class=\"meta\">Paragraphs carried by several outlets; each group counts as one source.</p>\n<ul>\n");
    let shown = |group: &&crate::brief::wire::WireGroup| {
        group
            .paragraphs
            .iter()
            .any(|p| numbers.inlined.contains(p.article.as_str()))
    };
    let hidden = brief.wire_copy.len() - brief.wire_copy.iter().filter(shown).count();
    if hidden > 0 {
        let _ = writeln!(
            html,
            "<li class=\"meta\">{hidden} more group(s) in the listed stories: see brief.json</li>"
        );
    }
    for group in brief.wire_copy.iter().filter(shown) {
        let _ = write!(
            html,
            "<li id=\"{}\"><strong>{}</strong> ({}, similarity {:.2}): {}",
            escape(&group.id),
            escape(&group.id),
            if group.exact {
                "exact"
            } else {
                "near-duplicate"
            },
            group.similarity,
            escape(&group.english)
        );
        let cited: Vec<Citation> = group
            .paragraphs
            .iter()
            .map(|r| Citation {
                article: r.article.clone(),
                paragraphs: vec![r.paragraph],
            })
            .collect();
        citations(html, &cited, numbers);
        html.push_str("</li>\n");
    }
    html.push_str("</ul>\n</section>\n");
}

fn sources_section(html: &mut String, brief: &Brief, numbers: &Refs<'_>) {
    html.push_str("<section class=\"panel\" id=\"sources\">\n<h2>Sources</h2>\n<table>\n<tr><th></th><th>Title</th><th>Outlet / file</th><th>Published</th><th>Confidence</th><th>Links</th></tr>\n");
    for (index, source) in brief.sources.iter().enumerate() {
        if !numbers.inlined.contains(source.id.as_str()) {
            continue;
        }
        let title_en = source.title_en.as_deref().unwrap_or(&source.id);
        let _ = write!(
            html,
            "<tr><td>S{}</td><td><a href=\"#{}\">{}</a>",
            index + 1,
            escape(&source.anchor),
            escape(title_en)
        );
        if let Some(title) = &source.title {
            let _ = write!(html, "<div dir=\"rtl\" lang=\"ar\">{}</div>", escape(title));
        }
        let _ = writeln!(
            html,
            "<div class=\"meta\">{}</div></td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">page</a> {}</td></tr>",
            escape(&source.id),
            escape(source.source.as_deref().unwrap_or(&source.origin)),
            escape(source.published.as_deref().unwrap_or("")),
            escape(&source.confidence_text()),
            escape(&source.page),
            original_link(source.url.as_deref())
        );
    }
    html.push_str("</table>\n</section>\n");
}

fn original_link(url: Option<&str>) -> String {
    match url {
        None => String::new(),
        Some(url) => match safe_url(url) {
            Some(safe) => format!(
                "<a href=\"{}\" rel=\"noopener noreferrer\">original</a>",
                escape(safe)
            ),
            None => format!("<span class=\"meta\">{}</span>", escape(url)),
        },
    }
}

fn dropped_section(html: &mut String, brief: &Brief) {
    if brief.dropped_citations.is_empty() {
        return;
    }
    html.push_str("<section class=\"panel\" id=\"dropped-citations\">\n<h2>Citations removed</h2>\n<p class=\"meta\">The model cited these, but they do not exist; they are not shown as sources.</p>\n<ul>\n");
    for dropped in &brief.dropped_citations {
        let paragraph = dropped
            .paragraph
            .map(|p| format!(" paragraph {p}"))
            .unwrap_or_default();
        let _ = writeln!(
            html,
            "<li>{}: {}{} — {}</li>",
            escape(&dropped.location),
            escape(&dropped.article),
            escape(&paragraph),
            escape(&dropped.reason)
        );
    }
    html.push_str("</ul>\n</section>\n");
}

fn article_section(html: &mut String, article: &BriefArticle, number: usize) {
    let _ = write!(
        html,
        "<article class=\"article\" id=\"{}\">\n<h3>S{number}. {}</h3>\n",
        escape(&anchor(&article.id)),
        escape(article.display_title())
    );
    if let Some(title) = &article.title {
        let _ = writeln!(html, "<p dir=\"rtl\" lang=\"ar\">{}</p>", escape(title));
    }
    let _ = writeln!(
        html,
        "<p class=\"meta\">{} · {} · {} · <a href=\"articles/{}.en.md\">page</a> {}</p>",
        escape(&article.id),
        escape(article.outlet()),
        escape(article.published.as_deref().unwrap_or("date unknown")),
        escape(&article.id),
        original_link(article.url.as_deref())
    );
    if let Some(summary) = &article.summary {
        let _ = writeln!(
            html,
            "<p><strong>Summary ({}):</strong> {}</p>\n<ul>",
            escape(&summary.method),
            escape(&summary.summary)
        );
        for point in &summary.key_points {
            let _ = write!(html, "<li>{}", escape(&point.text));
            for paragraph in &point.paragraphs {
                let _ = write!(
                    html,
                    "<a class=\"cite\" href=\"#{}\">¶{paragraph}</a>",
                    escape(&paragraph_anchor(&article.id, *paragraph))
                );
            }
            html.push_str("</li>\n");
        }
        html.push_str("</ul>\n");
    }
    html.push_str("<ol class=\"paragraphs\">\n");
    for (index, paragraph) in article.english.iter().enumerate() {
        let flags = article
            .paragraph_flags
            .get(index)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let _ = write!(
            html,
            "<li id=\"{}\"{}>{}",
            escape(&paragraph_anchor(&article.id, index + 1)),
            if flags.is_empty() {
                ""
            } else {
                " class=\"flagged\""
            },
            escape(paragraph)
        );
        flag_list(html, flags);
        html.push_str("</li>\n");
    }
    html.push_str("</ol>\n<details><summary>Bilingual view (English | العربية)</summary>\n<table class=\"bilingual\">\n");
    for (index, english) in article.english.iter().enumerate() {
        let arabic = article.arabic.get(index).map(String::as_str).unwrap_or("");
        let _ = writeln!(
            html,
            "<tr><td class=\"num\">{}</td><td>{}</td><td dir=\"rtl\" lang=\"ar\">{}</td></tr>",
            index + 1,
            escape(english),
            escape(arabic)
        );
    }
    html.push_str("</table>\n</details>\n</article>\n");
}

/// The checks' doubts about one paragraph, under it.
fn flag_list(html: &mut String, flags: &[Flag]) {
    if flags.is_empty() {
        return;
    }
    html.push_str("<ul class=\"flags\">");
    for flag in flags {
        let _ = write!(
            html,
            "<li><strong>{}:</strong> {}",
            escape(flag.kind.as_str()),
            escape(&flag.message)
        );
        if let Some(arabic) = &flag.arabic {
            let _ = write!(
                html,
                " <span dir=\"rtl\" lang=\"ar\">{}</span>",
                escape(arabic)
            );
        }
        html.push_str("</li>");
    }
    html.push_str("</ul>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_only_http_urls_link() {
        assert_eq!(
            escape("<script>alert(1)</script> & \"x\" 'y'"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;"
        );
        assert_eq!(
            safe_url(" https://example.com/a?b=1 "),
            Some("https://example.com/a?b=1")
        );
        assert_eq!(safe_url("HTTP://x.y/"), Some("HTTP://x.y/"));
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "https://x.y/\" onmouseover=\"alert(1)",
            "https://",
            "//evil.example",
        ] {
            assert_eq!(safe_url(bad), None, "{bad}");
        }
        let inert = original_link(Some("javascript:alert(1)"));
        assert!(!inert.contains("href"), "{inert}");
        assert!(original_link(Some("https://a.b/c")).contains("href=\"https://a.b/c\""));
    }
}
