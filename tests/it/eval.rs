//! `tarjim eval` end to end: the real binary scores a small parallel set translated by a mock
//! on loopback, in both modes, writes eval.json, and a second evaluation is served from the cache.

use crate::support::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use wiremock::{Request, Respond, ResponseTemplate};

/// Arabic lines, their references, and what the mock answers (right for the first three; the
/// fourth has a wrong number, which the checks flag).
const SET: [(&str, &str, &str, &str); 4] = [
    (
        "d1",
        "قالت الحكومة إن الاقتصاد ينمو.",
        "The government said the economy is growing.",
        "The government said the economy is growing.",
    ),
    (
        "d1",
        "وافتتح الوزير مستشفى جديدا.",
        "The minister opened a new hospital.",
        "The minister opened a new hospital.",
    ),
    (
        "d2",
        "هطلت أمطار غزيرة على القاهرة.",
        "Heavy rain fell on Cairo.",
        "Heavy rain fell on Cairo.",
    ),
    (
        "d2",
        "قتل 30 شخصا في الفيضانات.",
        "30 people were killed in the floods.",
        "13 people were killed in the floods.",
    ),
];

#[derive(Clone, Default)]
struct SetModel {
    calls: Arc<AtomicUsize>,
    plain_prompts: Arc<AtomicUsize>,
}

impl Respond for SetModel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let user = user_prompt(request);
        if !user.contains("<source>") {
            self.plain_prompts.fetch_add(1, Ordering::SeqCst);
        }
        let answer = SET
            .iter()
            .find(|(_, arabic, _, _)| user.contains(arabic))
            .map(|(_, _, _, answer)| answer.to_string())
            .unwrap_or_default();
        chat_answer(&answer)
    }
}

fn write_set(workspace: &Workspace) {
    let column =
        |pick: fn(&(&'static str, &'static str, &'static str, &'static str)) -> &'static str| {
            SET.iter().map(pick).collect::<Vec<_>>().join("\n") + "\n"
        };
    std::fs::write(workspace.path().join("ar.txt"), column(|l| l.1)).unwrap();
    std::fs::write(workspace.path().join("en.txt"), column(|l| l.2)).unwrap();
    std::fs::write(workspace.path().join("ids.txt"), column(|l| l.0)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn eval_scores_both_modes_and_reuses_the_cache() {
    let model = SetModel::default();
    let server = mock_server(model.clone()).await;
    let workspace = Workspace::new(&server.uri());
    write_set(&workspace);
    let args = |mode: &str, out: &str| {
        vec![
            "eval",
            "--source",
            "ar.txt",
            "--reference",
            "en.txt",
            "--doc-ids",
            "ids.txt",
            "--mode",
            mode,
            "--out",
            out,
            "--json",
            "--quiet",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = workspace.tarjim(&refs);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };

    let pipeline = run(args("pipeline", "out"));
    assert_eq!(pipeline["lines"], 4);
    assert_eq!(pipeline["documents"], 2);
    assert_eq!(pipeline["flagged_lines"], 1, "{pipeline:#}");
    assert_eq!(
        pipeline["flags"]["number"], 2,
        "30 missing, 13 added: {pipeline:#}"
    );
    let chrf = pipeline["chrf"].as_f64().unwrap();
    assert!(chrf > 85.0 && chrf < 100.0, "{chrf}");
    assert!(pipeline["bleu"].as_f64().unwrap() > 50.0);
    assert_eq!(model.plain_prompts.load(Ordering::SeqCst), 0);
    let written = workspace.read_json("eval.json");
    assert_eq!(
        written["lines"][3]["hypothesis"],
        "13 people were killed in the floods."
    );
    assert_eq!(written["lines"][3]["flags"][0]["kind"], "number");
    let hypotheses = workspace.read_text("hypotheses.txt");
    assert_eq!(hypotheses.lines().count(), 4);

    let plain = run(args("plain", "out-plain"));
    assert_eq!(plain["mode"], "plain");
    assert_eq!(
        model.plain_prompts.load(Ordering::SeqCst),
        4,
        "the plain prompt has no fence"
    );
    assert_eq!(plain["chrf"], pipeline["chrf"]);

    let calls = model.calls.load(Ordering::SeqCst);
    let again = run(args("pipeline", "out"));
    assert_eq!(
        model.calls.load(Ordering::SeqCst),
        calls,
        "a second evaluation is cached"
    );
    assert_eq!(again["requests"], 0);
    assert_eq!(again["chrf"], pipeline["chrf"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_that_is_not_parallel_names_both_files() {
    let server = mock_server(SetModel::default()).await;
    let workspace = Workspace::new(&server.uri());
    write_set(&workspace);
    std::fs::write(workspace.path().join("short.txt"), "one line\n").unwrap();
    let output = workspace.tarjim(&["eval", "--source", "ar.txt", "--reference", "short.txt"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("ar.txt has 4 lines"), "{message}");
    assert!(message.contains("short.txt has 1"), "{message}");
    let output = workspace.tarjim(&["eval", "--source", "missing.txt", "--reference", "en.txt"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("missing.txt"));
}
