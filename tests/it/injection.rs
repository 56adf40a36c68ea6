//! Prompt injection: the articles in `tests/injection/` try to leave the data section (fake
//! `</source>` closers in every spelling, fake `system:` turns, chat-template tokens such as
//! `<|im_start|>system`, template placeholders, instructions in Arabic and English). They are
//! run through the real binary and every prompt the mock receives must keep the fence: the
//! article text only between the single `<source>` … `</source>` pair, the task restated after
//! it exactly as the template says, and no fence or chat marker from the article left intact.

use crate::support::*;
use std::path::Path;

fn corpus() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/injection")
        .display()
        .to_string()
}

/// The translate user template around its `{{text}}` placeholder: what comes before it, the
/// fence's closing line right after it, and the restated task at the end (after the glossary and
/// repair-notes placeholders, which are filled per chunk).
fn template_around_text() -> (String, String, String) {
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/translate.user.md"),
    )
    .unwrap();
    let (before, after) = template.split_once("{{text}}").unwrap();
    // The context of the chunk before is empty here (chunk.context_chars = 0).
    let before = before.replace("{{context}}", "");
    let closer = after[..after.find("</source>").unwrap() + "</source>".len()].to_string();
    let (_, tail) = after.rsplit_once("}}").unwrap();
    (before.to_string(), closer, tail.to_string())
}

/// Positions of everything that could read as a `<source>` or `</source>` marker: `<`, then any
/// slashes, backslashes and spaces, then `source` in any case.
fn fence_markers(text: &str) -> Vec<usize> {
    let lower = text.to_lowercase();
    lower
        .match_indices('<')
        .filter(|(at, _)| {
            lower[at + 1..]
                .trim_start_matches(|c: char| c == '/' || c == '\\' || c.is_whitespace())
                .starts_with("source")
        })
        .map(|(at, _)| at)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_articles_never_leave_the_fence() {
    let schedule = Schedule::clean();
    let server = wiremock_server(&schedule).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &["mock"],
        &[BackendConfig {
            name: "mock",
            base_url: &server.uri(),
            extra: "",
        }],
    );
    let output = run_tarjim(dir.path(), &["run", &corpus(), "--out", "out"]);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let (before, closer, tail) = template_around_text();
    let log = schedule.log();
    assert!(log.len() >= 7, "every corpus article was sent");
    let mut seen_attacks = 0;
    for seen in &log {
        let user = &seen.user;
        assert!(user.starts_with(&before), "task before the fence: {user}");
        assert!(
            user.ends_with(&tail),
            "task restated after the fence: {user}"
        );
        let fence_end = user.rfind(&closer).expect("the fence is closed");
        let inside = &user[before.len()..fence_end];
        assert_eq!(inside, seen.text, "the article sits between the markers");
        assert_eq!(
            fence_markers(user).len(),
            2,
            "only the template's own markers: {user}"
        );
        assert!(fence_markers(inside).is_empty(), "{inside}");
        assert!(
            !inside.contains("<|"),
            "chat-template token survived: {inside}"
        );
        seen_attacks += usize::from(
            inside.contains("system")
                || inside.contains("تجاهل")
                || inside.contains("Ignore the instructions"),
        );
    }
    assert!(seen_attacks >= 3, "the attacks reached the model as data");

    // The placeholders an article contains reach the model as the article wrote them.
    let placeholder = log
        .iter()
        .find(|seen| seen.text.contains("المعرض الدولي للكتاب") && seen.text.contains("{{"))
        .expect("the placeholder article was sent");
    assert!(
        placeholder.text.contains("{{text}}"),
        "{}",
        placeholder.text
    );
    assert!(
        placeholder.text.contains("{{title}}"),
        "{}",
        placeholder.text
    );
}
