//! What a run costs (issue: past one machine): `tarjim estimate` and `run --dry-run` before any
//! request, `--max-cost` refusing to start over the estimate and stopping dispatch when the
//! answers reach it, and usage per article, stage and endpoint.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::*;
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

fn samples_arg() -> String {
    samples().display().to_string()
}

/// Translates like [`MockTranslator`] but reports `prompt_tokens` of usage per answer.
#[derive(Clone)]
struct Billed {
    calls: Arc<AtomicUsize>,
    prompt_tokens: u64,
}

impl Respond for Billed {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"content": mock_answer(&body)}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": 5},
        }))
    }
}

/// A mock billing `prompt_tokens` per answer, and a workspace whose mock backend has a price:
/// 1 per million tokens in, 2 per million out.
async fn priced(prompt_tokens: u64) -> (Billed, wiremock::MockServer, Workspace) {
    let mock = Billed {
        calls: Arc::default(),
        prompt_tokens,
    };
    let server = mock_server(mock.clone()).await;
    let workspace = Workspace::new(&server.uri());
    workspace.set_stages("[\"mock\"]", "[]");
    workspace.append_config(
        "[backends.mock.price]\ninput_per_million = 1.0\noutput_per_million = 2.0\n",
    );
    (mock, server, workspace)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_estimate_counts_what_is_not_cached_and_sends_nothing() {
    let (mock, _server, workspace) = priced(10).await;

    // No API key is needed to estimate: nothing is sent.
    let samples = samples_arg();
    let args = ["estimate", samples.as_str(), "--json"];
    let child = (workspace.command(&args))
        .env_remove(TEST_KEY_ENV)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_with_timeout(child, WORKSPACE_RUN_TIMEOUT, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let estimate: Value = serde_json::from_slice(&output.stdout).expect("estimate JSON");
    assert_eq!(
        mock.calls.load(Ordering::SeqCst),
        0,
        "an estimate sends nothing"
    );
    assert!(!workspace.out().exists(), "an estimate writes nothing");
    let chunks = estimate["chunks"].as_u64().unwrap();
    let translate = &estimate["stages"][0];
    assert_eq!(translate["stage"], "translate", "{estimate}");
    // Every chunk (titles go with them): nothing is cached yet.
    assert_eq!(
        translate["requests"].as_u64().unwrap(),
        chunks,
        "{estimate}"
    );
    assert!(translate["tokens_in"].as_u64().unwrap() > 0);
    let summaries = &estimate["stages"][1];
    assert_eq!(summaries["stage"], "summarize");
    assert_eq!(
        summaries["requests"], 5,
        "one per article, projected: {estimate}"
    );
    assert_eq!(summaries["exact"], false);
    let cost = estimate["cost"].as_f64().unwrap();
    let tokens_in = estimate["tokens_in"].as_f64().unwrap();
    let tokens_out = estimate["tokens_out"].as_f64().unwrap();
    assert!(
        (cost - (tokens_in + 2.0 * tokens_out) / 1e6).abs() < 1e-9,
        "{estimate}"
    );
    assert!(estimate["cost_with_repairs"].as_f64().unwrap() > cost);

    // --dry-run is the same table, for a person.
    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out", "--dry-run"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("translate") && table.contains("summarize*"),
        "{table}"
    );
    assert_eq!(mock.calls.load(Ordering::SeqCst), 0);

    // After a run, the same inputs cost nothing: cached work counts 0.
    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out", "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = workspace.tarjim(&["estimate", &samples_arg(), "--json"]);
    let estimate: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(estimate["requests"], 0, "{estimate}");
    assert_eq!(estimate["cost"], 0.0);
    assert!(estimate["cached"].as_u64().unwrap() >= chunks + 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_and_cost_are_reported_per_article_stage_and_endpoint() {
    let (mock, _server, workspace) = priced(100_000).await;
    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out", "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let answers = mock.calls.load(Ordering::SeqCst) as f64;
    // Each answer: 100,000 tokens in at 1 per million, 5 out at 2 per million.
    let each = 0.1 + 10.0 / 1e6;
    let run = workspace.read_json("run.json");
    let close = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() < 1e-6;
    assert!(close(&run["cost"], answers * each), "{}", run["cost"]);
    let stage_costs: f64 = ["translate", "summarize"]
        .iter()
        .map(|stage| run["stages"][stage][0]["cost"].as_f64().unwrap())
        .sum();
    assert!(
        (stage_costs - answers * each).abs() < 1e-6,
        "{}",
        run["stages"]
    );
    assert!(close(&run["endpoints"]["mock"][0]["cost"], answers * each));
    let mut article_costs = 0.0;
    for entry in std::fs::read_dir(workspace.out().join("articles")).unwrap() {
        let path = entry.unwrap().path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let usage = &record["usage"];
            assert!(
                usage["requests"].as_u64().unwrap() >= 2,
                "title, chunks, summary: {usage}"
            );
            assert_eq!(
                usage["tokens_in"].as_u64().unwrap(),
                usage["requests"].as_u64().unwrap() * 100_000
            );
            article_costs += usage["cost"].as_f64().unwrap();
        }
    }
    assert!(
        (article_costs - answers * each).abs() < 1e-6,
        "every answer is some article's"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn max_cost_refuses_to_start_over_the_estimate_and_stops_dispatch_when_reached() {
    let (mock, _server, workspace) = priced(1_000_000).await;

    // Over the estimate: nothing is sent.
    let output = workspace.tarjim(&[
        "run",
        &samples_arg(),
        "--out",
        "out",
        "--max-cost",
        "0.000001",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("over --max-cost"),
        "{}",
        stderr(&output)
    );
    assert_eq!(mock.calls.load(Ordering::SeqCst), 0);

    // Under the estimate (a few thousand tokens) but each answer bills a million tokens (1.0):
    // the cap of 3.5 is reached at the fourth answer, what is in flight finishes, nothing more
    // is sent, and what was not done is said.
    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out", "--max-cost", "3.5"]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("--max-cost"), "{text}");
    let calls = mock.calls.load(Ordering::SeqCst);
    let concurrency = 4;
    assert!(
        (4..4 + concurrency).contains(&calls),
        "{calls} answers: {text}"
    );
    let run = workspace.read_json("run.json");
    assert_eq!(run["ending"], "cost-cap-reached", "{run}");
    assert!(run["cost"].as_f64().unwrap() >= 3.5);
    let failures = run["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    assert!(
        failures
            .iter()
            .any(|failure| failure["error"].as_str().unwrap().contains("cost cap")),
        "{failures:?}"
    );
}
