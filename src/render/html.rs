//! HTML escaping for `brief.html` (its template is `templates/brief.html`, its view
//! `render::brief`).
//!
//! Every piece of article or model text goes through [`escape`] (the template's escaper,
//! [`Html`]), so nothing an article says can become markup; links to the outside are made only
//! from `http`/`https` URLs ([`safe_url`]), anything else (a `javascript:` URL) is shown as
//! plain text.

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

/// The escaper of askama templates ending in `.html` (see `askama.toml`): [`escape`].
#[derive(Debug, Clone, Copy)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, text: &str) -> std::fmt::Result {
        dest.write_str(&escape(text))
    }
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
    }
}
