//! `brief.md` and `brief.html`: the brief's two pages, from one view.
//!
//! [`BriefView`] computes once what both pages show beyond the brief's own fields (each
//! article's number `S3`, its title and why the title is in doubt, which articles are written
//! in full, the links); the templates in `src/render/templates/` lay it out, in the same section
//! order. Escaping is the templates' default, chosen by the file's extension in `askama.toml`:
//! every `{{ … }}` in `brief.md` goes through [`markdown::Inline`], every one in `brief.html`
//! through [`html::Html`], so article and model text cannot become markup unless a template
//! says otherwise (only `|block` and `|cell`, themselves escapers for a Markdown paragraph and
//! table cell).

use std::collections::{HashMap, HashSet};

use askama::Template;

use crate::brief::citations::Citation;
use crate::brief::wire::WireGroup;
use crate::brief::{anchor, paragraph_anchor, Brief, BriefArticle, Source, Story};
use crate::fidelity::{self, Flag};
use crate::render::html;

/// The Markdown brief.
pub fn markdown(brief: &Brief) -> String {
    let view = BriefView::new(brief);
    // Rendering into a String fails only when a value's Display does, which none here does.
    MarkdownPage { v: &view }.render().unwrap_or_default()
}

/// The HTML brief: one self-contained page (inline CSS, no scripts, fonts or images).
pub fn html(brief: &Brief) -> String {
    let view = BriefView::new(brief);
    HtmlPage { v: &view }.render().unwrap_or_default()
}

#[derive(Template)]
#[template(path = "brief.md")]
struct MarkdownPage<'a> {
    v: &'a BriefView<'a>,
}

#[derive(Template)]
#[template(path = "brief.html")]
struct HtmlPage<'a> {
    v: &'a BriefView<'a>,
}

/// The brief with what its pages compute from it.
pub struct BriefView<'a> {
    pub brief: &'a Brief,
    numbers: HashMap<&'a str, usize>,
    /// The articles of the stories written in full: only these have a section in the HTML
    /// page, so the page stays light on a night of thousands of articles.
    inlined: HashSet<&'a str>,
    titles: HashMap<&'a str, &'a str>,
    doubts: HashMap<&'a str, String>,
}

impl<'a> BriefView<'a> {
    fn new(brief: &'a Brief) -> BriefView<'a> {
        BriefView {
            brief,
            numbers: brief
                .articles
                .iter()
                .enumerate()
                .map(|(index, article)| (article.id.as_str(), index + 1))
                .collect(),
            inlined: brief.written_articles(),
            titles: brief.titles(),
            doubts: brief.title_doubts(),
        }
    }

    /// How the pages name an article: `S3`, or its id when it has no number.
    pub fn label(&self, article: &str) -> String {
        self.numbers
            .get(article)
            .map_or_else(|| article.to_string(), |n| format!("S{n}"))
    }

    /// The HTML link to an article or one of its paragraphs: its section on the page when the
    /// article is written in full, else its own page.
    pub fn href(&self, article: &str, paragraph: Option<usize>) -> String {
        match (self.inlined.contains(article), paragraph) {
            (true, Some(paragraph)) => format!("#{}", paragraph_anchor(article, paragraph)),
            (true, None) => format!("#{}", anchor(article)),
            (false, _) => format!("articles/{article}.en.md"),
        }
    }

    /// The article's title as the brief shows it (English when translated).
    pub fn title(&self, article: &'a str) -> &'a str {
        self.titles.get(article).copied().unwrap_or(article)
    }

    /// Why the article's English title is in doubt, when the checks flagged it.
    pub fn title_doubt(&self, article: &str) -> Option<&str> {
        self.doubts.get(article).map(String::as_str)
    }

    /// The sources whose articles are written in full, with their numbers.
    pub fn written_sources(&self) -> Vec<(usize, &'a Source)> {
        let brief: &'a Brief = self.brief;
        brief
            .sources
            .iter()
            .enumerate()
            .filter(|(_, source)| self.inlined.contains(source.id.as_str()))
            .map(|(index, source)| (index + 1, source))
            .collect()
    }

    /// The articles written in full, with their numbers, in run order.
    pub fn written_articles(&self) -> Vec<(usize, &'a BriefArticle)> {
        let brief: &'a Brief = self.brief;
        brief
            .articles
            .iter()
            .enumerate()
            .filter(|(_, article)| self.inlined.contains(article.id.as_str()))
            .map(|(index, article)| (index + 1, article))
            .collect()
    }

    /// The wire-copy groups with a paragraph in an article written in full (the HTML page
    /// shows only these).
    pub fn shown_wire_groups(&self) -> Vec<&'a WireGroup> {
        let brief: &'a Brief = self.brief;
        brief
            .wire_copy
            .iter()
            .filter(|group| {
                group
                    .paragraphs
                    .iter()
                    .any(|p| self.inlined.contains(p.article.as_str()))
            })
            .collect()
    }

    /// "translation confidence medium (0.78); 3 of 5 articles have flagged paragraphs".
    pub fn story_confidence(&self, story: &Story) -> String {
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

    /// One citation per paragraph of a wire-copy group.
    pub fn wire_citations(&self, group: &WireGroup) -> Vec<Citation> {
        group
            .paragraphs
            .iter()
            .map(|r| Citation {
                article: r.article.clone(),
                paragraphs: vec![r.paragraph],
            })
            .collect()
    }

    /// " ¶1,3" for a citation's paragraphs, "" for none.
    pub fn paragraph_list(&self, paragraphs: &[usize]) -> String {
        if paragraphs.is_empty() {
            return String::new();
        }
        let list: Vec<String> = paragraphs.iter().map(usize::to_string).collect();
        format!(" ¶{}", list.join(","))
    }

    /// An article's paragraphs: number (1-based), English, Arabic and the checks' flags.
    pub fn paragraphs<'b>(
        &self,
        article: &'b BriefArticle,
    ) -> Vec<(usize, &'b str, &'b str, &'b [Flag])> {
        article
            .english
            .iter()
            .enumerate()
            .map(|(index, english)| {
                let arabic = article.arabic.get(index).map(String::as_str).unwrap_or("");
                let flags = article
                    .paragraph_flags
                    .get(index)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                (index + 1, english.as_str(), arabic, flags)
            })
            .collect()
    }

    /// The URL when it may be a link (http or https), else `None`: it is shown as text.
    pub fn safe_url<'u>(&self, url: &'u str) -> Option<&'u str> {
        html::safe_url(url)
    }

    /// The id of an article's section in the HTML page.
    pub fn anchor(&self, article: &str) -> String {
        anchor(article)
    }

    /// The id of one of its paragraphs.
    pub fn paragraph_anchor(&self, article: &str, paragraph: usize) -> String {
        paragraph_anchor(article, paragraph)
    }
}

/// The filters the templates use beyond askama's own.
mod filters {
    use askama::filters::Safe;
    use askama::{Result, Values};

    use crate::render::markdown;

    /// A Markdown paragraph: escaped, and a leading character that would start a block
    /// (heading, list, quote) made literal.
    #[askama::filter_fn]
    pub fn block(text: impl AsRef<str>, _: &dyn Values) -> Result<Safe<String>> {
        Ok(Safe(markdown::block(text.as_ref())))
    }

    /// A Markdown table cell: escaped for a line, with its `|` made literal.
    #[askama::filter_fn]
    pub fn cell(text: impl AsRef<str>, _: &dyn Values) -> Result<Safe<String>> {
        Ok(Safe(markdown::inline(text.as_ref()).replace('|', "\\|")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::Fact;

    /// Two articles in one written story, one with a `javascript:` URL and markup in its
    /// title, one with an https URL.
    fn hostile_brief() -> Brief {
        let article = |id: &str, title: &str, url: &str| BriefArticle {
            id: id.to_string(),
            origin: format!("{id}.txt"),
            title_en: Some(title.to_string()),
            url: Some(url.to_string()),
            english: vec!["# <b>heading</b> & more".to_string()],
            arabic: vec!["نص".to_string()],
            paragraph_flags: vec![Vec::new()],
            ..BriefArticle::default()
        };
        let articles = vec![
            article(
                "a",
                "<script>alert(1)</script> | pipe",
                "javascript:alert(1)",
            ),
            article("b", "Plain title", "https://example.com/a?b=1&c=2"),
        ];
        let story = Story {
            id: "story-1".to_string(),
            method: "composed".to_string(),
            headline: "<img src=x onerror=alert(1)>".to_string(),
            synthesis: "- not a list item".to_string(),
            articles: vec!["a".to_string(), "b".to_string()],
            key_facts: vec![Fact {
                text: "A fact <i>".to_string(),
                citations: vec![Citation {
                    article: "b".to_string(),
                    paragraphs: vec![1],
                }],
                flagged_citations: Some(crate::brief::FlaggedShare {
                    flagged: 1,
                    cited: 3,
                }),
                ..Fact::default()
            }],
            ..Story::default()
        };
        let ranked = vec![crate::brief::rank::Ranked {
            members: vec![0, 1],
            independent_sources: 2,
            outlets: Vec::new(),
            latest: None,
        }];
        Brief {
            schema_version: crate::brief::SCHEMA_VERSION,
            generated_at: "2026-01-01T00:00:00Z".to_string(),
            method: "composed".to_string(),
            notes: vec!["<note>".to_string()],
            stories: vec![story],
            more_stories: Vec::new(),
            single_reports: Vec::new(),
            wire_copy: Vec::new(),
            sources: crate::brief::sources(&articles, &ranked),
            dropped_citations: Vec::new(),
            causes: Vec::new(),
            articles,
        }
    }

    #[test]
    fn both_pages_escape_text_and_link_only_http_urls() {
        let brief = hostile_brief();
        let page = html(&brief);
        assert!(!page.contains("<script>") && !page.contains("<img") && !page.contains("<i>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; | pipe"));
        assert!(!page.contains("href=\"javascript:"), "{page}");
        assert!(page.contains("<span class=\"meta\">javascript:alert(1)</span>"));
        assert!(page.contains(
            "<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer\">original</a>"
        ));
        assert!(
            page.contains("<a class=\"cite\" href=\"#article-b-p1\""),
            "{page}"
        );
        assert!(page.ends_with("</html>\n"));

        let markdown = markdown(&brief);
        assert!(!markdown.contains("<script>") && !markdown.contains("<img"));
        assert!(markdown.contains("| &lt;script&gt;alert(1)&lt;/script&gt; \\| pipe |"));
        assert!(markdown.contains("\n\\- not a list item\n"), "{markdown}");
        assert!(markdown.contains(" · javascript:alert(1) |"));
        assert!(markdown.contains(" · [original](<https://example.com/a?b=1&c=2>) |"));
        assert!(markdown.contains(
            "- A fact &lt;i&gt; [\\[S2 ¶1\\]](articles/b.en.md) **(1 of 3 cited paragraphs flagged)**\n"
        ));
        assert!(page.contains("<span class=\"badge warn\">1 of 3 cited paragraphs flagged</span>"));
        assert!(markdown.contains("> **Note:** &lt;note&gt;\n"));
    }
}
