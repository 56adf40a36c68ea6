//! Secrets: the API key planted in the environment (`TARJIM_TEST_API_KEY`) must appear in no
//! output file, not in the cache database (or its WAL), not on stdout or stderr, even with
//! `-vv` trace logging, on a rejected key (401), and when a server echoes the key back in an
//! error or an answer.

use crate::support::*;
use std::path::Path;
use std::process::Output;

use crate::support::PLANTED_KEY;

/// Fail if the planted key is in `output` or in any file under `root`.
fn assert_key_absent(root: &Path, output: &Output, context: &str) {
    for (name, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        assert!(
            !String::from_utf8_lossy(bytes).contains(PLANTED_KEY),
            "{context}: key in {name}"
        );
    }
    let files = files_under(root);
    assert!(
        files.iter().any(|file| file.ends_with("cache.sqlite")),
        "{context}: the cache was created"
    );
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let found = bytes
            .windows(PLANTED_KEY.len())
            .any(|window| window == PLANTED_KEY.as_bytes());
        assert!(!found, "{context}: key in {}", file.display());
    }
}

async fn run_against(schedule: &Schedule, verbosity: &str, context: &str) -> Output {
    let server = wiremock_server(schedule).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &["mock"],
        &[BackendConfig {
            name: "mock",
            base_url: &server.uri(),
            extra: "max_attempts = 2\nbackoff_base_ms = 5\nbackoff_cap_ms = 20",
        }],
    );
    let samples = samples_arg();
    let output = run_tarjim(dir.path(), &[verbosity, "run", &samples, "--out", "out"]);
    checked_stderr(&output);
    assert!(
        dir.path().join("out/run.json").exists(),
        "{context}: run.json"
    );
    assert_key_absent(dir.path(), &output, context);
    output
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_leaks_nowhere_with_trace_logging() {
    let output = run_against(&Schedule::clean(), "-vv", "clean run, -vv").await;
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.len() > 1000,
        "trace logging was on and wrote plenty"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_leaks_nowhere_when_it_is_rejected() {
    let schedule = Schedule::new(|_, _| Fault::status(401, "invalid api key"));
    let output = run_against(&schedule, "-vv", "401, -vv").await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains(crate::support::TEST_KEY_ENV));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_leaks_nowhere_when_a_server_echoes_it() {
    let echo = format!("Incorrect API key provided: {PLANTED_KEY}");
    let schedule = Schedule::new(move |text, attempt| {
        match attempt {
        1 => Fault::status(500, &echo),
        _ if text.len() % 2 == 0 => Fault::Status {
            status: 200,
            body: serde_json::json!({"choices": [{"message": {"content": format!("EN({text}) {PLANTED_KEY}")}, "finish_reason": "stop"}]}).to_string(),
            headers: Vec::new(),
        },
        _ => Fault::Answer,
    }
    });
    let output = run_against(&schedule, "-vv", "echoing server, -vv").await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
