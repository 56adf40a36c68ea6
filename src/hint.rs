//! Advice on what to do about an error, carried along its chain.
//!
//! Every hint in tarjim is written one way: `message; hint: advice`, on the error's own line,
//! so that it stays whole wherever that line goes (an article's JSON, the run report, a log).
//! Errors put it in their message ([`hinted`], or `; hint: ` in a `#[error]` string);
//! [`Hinted`] adds one to an error from elsewhere. At the terminal, `tarjim` takes the advice
//! off every line of the error chain ([`split`]) and prints it after the error as `hint:` lines.
//! Where an error must become one line of text (a record, a backend's message), [`one_line`]
//! keeps its causes, so a file error keeps both the file (fs-err) and the system's reason.

use std::fmt::Display;

/// What separates a message from its advice.
pub const MARK: &str = "; hint: ";

/// `message; hint: advice`.
pub fn hinted(message: impl Display, advice: impl Display) -> String {
    format!("{message}{MARK}{advice}")
}

/// An error's text as its message and the advice it carries: each line of the text loses its
/// `; hint: …` tail, and the advice is listed once however many lines give it.
pub fn split(text: &str) -> (String, Vec<&str>) {
    let mut advice: Vec<&str> = Vec::new();
    let lines: Vec<&str> = text
        .lines()
        .map(|line| {
            let mut parts = line.split(MARK);
            let message = parts.next().unwrap_or_default();
            for given in parts.filter(|given| !given.is_empty()) {
                if !advice.contains(&given) {
                    advice.push(given);
                }
            }
            message
        })
        .collect();
    (lines.join("\n"), advice)
}

/// The error and its causes on one line: `failed to open file `x`: No such file or directory`.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        line.push_str(": ");
        line.push_str(&next.to_string());
        cause = next.source();
    }
    line
}

/// An error with advice added: shown as `error; hint: advice`, its causes kept.
#[derive(Debug)]
pub struct Hinted<E> {
    error: E,
    advice: &'static str,
}

impl<E> Hinted<E> {
    pub fn new(error: E, advice: &'static str) -> Hinted<E> {
        Hinted { error, advice }
    }
}

impl<E: Display> Display for Hinted<E> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}{MARK}{}", self.error, self.advice)
    }
}

impl<E: std::error::Error> std::error::Error for Hinted<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_comes_off_the_line_it_was_written_on() {
        let line = hinted("folder has no articles", "article files end in .txt");
        assert_eq!(
            line,
            "folder has no articles; hint: article files end in .txt"
        );
        assert_eq!(
            split(&line),
            (
                "folder has no articles".to_string(),
                vec!["article files end in .txt"]
            )
        );
        assert_eq!(
            split("no advice here"),
            ("no advice here".to_string(), vec![])
        );
    }

    #[test]
    fn each_line_of_a_long_error_gives_its_advice_once() {
        let text = "no articles to translate\n  a/: folder has no articles; hint: files end in \
                    .txt\n  b/: folder has no articles; hint: files end in .txt";
        assert_eq!(
            split(text),
            (
                "no articles to translate\n  a/: folder has no articles\n  b/: folder has no \
                 articles"
                    .to_string(),
                vec!["files end in .txt"]
            )
        );
    }

    #[test]
    fn a_file_error_on_one_line_names_the_file_and_the_reason() {
        let error = fs_err::read_to_string("/nonexistent/tarjim/glossary.toml").unwrap_err();
        let line = one_line(&error);
        assert!(line.contains("/nonexistent/tarjim/glossary.toml"), "{line}");
        assert!(line.contains("No such file or directory"), "{line}");
    }

    #[test]
    fn an_added_hint_follows_the_errors_own() {
        let inner = std::io::Error::other(hinted("run.deadline is not a duration", "e.g. \"6h\""));
        let line =
            Hinted::new(inner, "`tarjim config show` prints the settings in effect").to_string();
        assert_eq!(
            split(&line),
            (
                "run.deadline is not a duration".to_string(),
                vec![
                    "e.g. \"6h\"",
                    "`tarjim config show` prints the settings in effect"
                ]
            )
        );
    }
}
