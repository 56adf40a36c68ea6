//! One file's text as articles, by format: plain text (title on the first line), Markdown,
//! HTML (the article element, scripts and navigation dropped), JSON objects and JSON Lines.

use scraper::{ElementRef, Html, Node, Selector};
use serde_json::{Map, Value};

use crate::normalize::ends_with_sentence_punctuation;

use super::*;

/// Longest first line (in characters) still taken as the title of a `.txt` article.
pub(super) const MAX_TITLE_CHARS: usize = 120;

/// Fields that may hold a JSON article's body, in order of preference.
pub(super) const TEXT_FIELDS: [&str; 3] = ["text", "body", "content"];

/// HTML elements that never hold article text.
pub(super) const DROPPED_ELEMENTS: [&str; 17] = [
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "noscript",
    "iframe",
    "template",
    "svg",
    "button",
    "select",
    "textarea",
    "object",
    "embed",
    "figcaption",
];

/// HTML elements that start a new paragraph.
pub(super) const BLOCK_ELEMENTS: [&str; 30] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "figure",
    "hr",
    "address",
    "details",
    "summary",
    "center",
    "body",
];

/// Text is blank when it holds nothing but whitespace and invisible characters.
pub(super) fn is_blank(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
    })
}

/// A plain-text article: the first line is the title when it is short, has no final sentence
/// punctuation and more text follows it.
pub(super) fn with_text_title(mut draft: Draft, text: &str) -> Result<Draft, (String, String)> {
    let lines = without_leading_blank_lines(text);
    if let Some((first, rest)) = lines.split_first() {
        let first = first.trim();
        let rest = rest.join("\n");
        let looks_like_title = first.chars().count() <= MAX_TITLE_CHARS
            && !ends_with_sentence_punctuation(first)
            && !is_blank(&rest);
        if looks_like_title {
            draft.title = Some(first.to_string());
            draft.text = body_text(&rest);
            return Ok(draft);
        }
    }
    draft.text = body_text(text);
    Ok(draft)
}

/// Lines of `text` from the first non-blank one on.
pub(super) fn without_leading_blank_lines(text: &str) -> Vec<&str> {
    text.lines().skip_while(|line| is_blank(line)).collect()
}

/// Body text without leading blank lines or trailing whitespace.
pub(super) fn body_text(text: &str) -> String {
    without_leading_blank_lines(text)
        .join("\n")
        .trim_end()
        .to_string()
}

/// A Markdown article, read with a CommonMark parser: a leading level-1 heading is the title,
/// markup goes and the text stays as written (`5 * 3 يساوي 15` keeps its `*`). Each block is a
/// paragraph and line breaks inside one are kept, as in plain-text articles; table rows become
/// one line with their cells between ` | `. Images, raw HTML and code blocks are not article
/// prose and are left out.
pub(super) fn parse_markdown(mut draft: Draft, text: &str) -> Result<Draft, (String, String)> {
    use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut blocks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut title: Option<String> = None;
    let mut in_title = false;
    let mut skipped_depth = 0usize;
    let mut seen_block = false;
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(Tag::Image { .. } | Tag::CodeBlock(_) | Tag::HtmlBlock) => {
                skipped_depth += 1
            }
            Event::End(TagEnd::Image | TagEnd::CodeBlock | TagEnd::HtmlBlock) => {
                skipped_depth = skipped_depth.saturating_sub(1)
            }
            _ if skipped_depth > 0 => {}
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) if !seen_block && title.is_none() => in_title = true,
            Event::End(TagEnd::Heading(_)) if in_title => {
                in_title = false;
                seen_block = true;
                let heading = collapse_blank(&std::mem::take(&mut current));
                if !heading.is_empty() {
                    title = Some(heading);
                }
            }
            Event::Text(piece) | Event::Code(piece) => current.push_str(&piece),
            Event::SoftBreak | Event::HardBreak => current.push('\n'),
            Event::End(TagEnd::TableCell) => current.push_str(" | "),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) => {
                seen_block = true;
                let block = current.trim().trim_end_matches('|').trim_end().to_string();
                current.clear();
                if !block.is_empty() {
                    blocks.push(block);
                }
            }
            Event::Start(Tag::Item) if !current.trim().is_empty() => {
                blocks.push(current.trim().to_string());
                current.clear();
            }
            _ => {}
        }
    }
    if !current.trim().is_empty() {
        blocks.push(current.trim().to_string());
    }
    draft.title = title;
    draft.text = body_text(&blocks.join("\n\n"));
    Ok(draft)
}

/// A heading's text on one line.
pub(super) fn collapse_blank(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An HTML page: the main text only, with block elements as paragraph breaks.
pub(super) fn parse_html(mut draft: Draft, text: &str) -> Result<Draft, (String, String)> {
    let document = Html::parse_document(text);
    let root = first_match(&document, "article")
        .or_else(|| first_match(&document, "main"))
        .or_else(|| first_match(&document, "body"))
        .unwrap_or_else(|| document.root_element());
    let heading = first_match_in(root, "h1").filter(|h1| !element_text(*h1).is_empty());
    let title = heading
        .or_else(|| first_match(&document, "h1"))
        .map(element_text)
        .filter(|title| !title.is_empty())
        .or_else(|| first_match(&document, "title").map(element_text))
        .filter(|title| !title.is_empty());
    draft.title = title;
    draft.text = body_text(&html_block_text(root, heading));
    if is_blank(&draft.text) {
        return Err((
            draft.origin,
            "no article text found in the HTML".to_string(),
        ));
    }
    Ok(draft)
}

pub(super) fn first_match<'d>(document: &'d Html, selector: &str) -> Option<ElementRef<'d>> {
    let selector = Selector::parse(selector).ok()?;
    document.select(&selector).next()
}

pub(super) fn first_match_in<'d>(
    element: ElementRef<'d>,
    selector: &str,
) -> Option<ElementRef<'d>> {
    let selector = Selector::parse(selector).ok()?;
    element.select(&selector).next()
}

/// An element's text with whitespace collapsed.
pub(super) fn element_text(element: ElementRef<'_>) -> String {
    let text: String = element.text().collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A step of the HTML walk: visit a node, or close a block opened earlier.
pub(super) enum Step<N> {
    Visit(N),
    CloseBlock,
}

/// The text under `root`, skipping non-content elements and `skip` (the title heading), with
/// block elements separated by blank lines. Walks with an explicit stack, so deeply nested
/// markup cannot overflow the call stack.
pub(super) fn html_block_text(root: ElementRef<'_>, skip: Option<ElementRef<'_>>) -> String {
    let skip_id = skip.map(|element| element.id());
    let mut output = String::new();
    let mut stack = vec![Step::Visit(*root)];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::CloseBlock => {
                output.push_str("\n\n");
                continue;
            }
            Step::Visit(node) => node,
        };
        match node.value() {
            Node::Text(text) => {
                output.extend(
                    text.chars()
                        .map(|c| if c.is_whitespace() { ' ' } else { c }),
                );
            }
            Node::Element(element) => {
                let name = element.name();
                if DROPPED_ELEMENTS.contains(&name) || Some(node.id()) == skip_id {
                    continue;
                }
                if name == "br" {
                    output.push('\n');
                    continue;
                }
                if BLOCK_ELEMENTS.contains(&name) {
                    output.push_str("\n\n");
                    stack.push(Step::CloseBlock);
                }
                stack.extend(node.children().rev().map(Step::Visit));
            }
            Node::Document | Node::Fragment => {
                stack.extend(node.children().rev().map(Step::Visit));
            }
            _ => {}
        }
    }
    paragraphs_from_lines(&output)
}

/// Lines trimmed and whitespace-collapsed, runs of blank lines reduced to one.
pub(super) fn paragraphs_from_lines(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let previous_blank = lines.last().is_none_or(|last| last.is_empty());
        if collapsed.is_empty() && previous_blank {
            continue;
        }
        lines.push(collapsed);
    }
    lines.join("\n").trim().to_string()
}

/// A draft from a JSON article object, or (origin, message) when it has no usable text.
pub(super) fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

pub(super) fn article_from_object(
    mut draft: Draft,
    object: &Map<String, Value>,
) -> Result<Draft, (String, String)> {
    let mut found_field = false;
    for field in TEXT_FIELDS {
        match object.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => {
                found_field = true;
                if !is_blank(text) {
                    draft.text = body_text(&normalize_newlines(text));
                    break;
                }
            }
            Some(other) => {
                let message = format!(
                    "field \"{field}\" must be a string, found {}",
                    json_kind(other)
                );
                return Err((draft.origin, message));
            }
        }
    }
    if !found_field {
        let message = "no text field; hint: put the article body in \"text\" (or \"body\" or \
                       \"content\")";
        return Err((draft.origin, message.to_string()));
    }
    draft.title = json_string(object, "title");
    draft.source = json_string(object, "source");
    draft.url = json_string(object, "url");
    draft.published = json_string(object, "published");
    Ok(draft)
}

/// An optional metadata field as text: strings trimmed, numbers and booleans written out.
pub(super) fn json_string(object: &Map<String, Value>, field: &str) -> Option<String> {
    let text = match object.get(field)? {
        Value::String(text) => text.split_whitespace().collect::<Vec<_>>().join(" "),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn malformed_json_message(error: &serde_json::Error) -> String {
    format!(
        "malformed JSON at line {}, column {}: {error}",
        error.line(),
        error.column()
    )
}
