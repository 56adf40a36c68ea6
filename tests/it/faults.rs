//! Fault injection: the real binary on the five samples against mock servers on loopback that
//! answer with rate limits, server errors, slow answers, dropped connections, cut-off bodies and
//! error objects inside 200s, on a schedule decided from each request's text and attempt number.
//!
//! Every transient scenario must end as if nothing had happened: no lost chunk, the same files as
//! a clean run, and exactly the number of attempts the schedule implies. The permanent ones
//! (client errors, an excessive Retry-After, exhausted quota) must fail fast and say why; a
//! too-long input must be split and succeed; a dead primary must hand over to the fallback; and
//! a failure must never be cached.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Retry settings roomy enough for every transient plan below (at most 3 faults in a row).
const PATIENT: &str = "max_attempts = 6\nbackoff_base_ms = 5\nbackoff_cap_ms = 20\nrequest_timeout_s = 5\nconcurrency = 4";

/// Output of one clean run of the samples against a fault-free mock, shared by the tests.
fn clean_out() -> &'static Path {
    static CLEAN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, out) = CLEAN.get_or_init(|| {
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async {
                let schedule = Schedule::clean();
                let server = wiremock_server(&schedule).await;
                let dir = tempfile::tempdir().expect("temp dir");
                let (output, out) = run_samples(dir.path(), &server.uri(), PATIENT);
                assert_eq!(output.status.code(), Some(0), "{}", checked_stderr(&output));
                (dir, out)
            })
        })
        .join()
        .expect("clean run")
    });
    out
}

/// Configure one backend `mock` at `url` with `extra` settings and translate the samples.
fn run_samples(dir: &Path, url: &str, extra: &str) -> (std::process::Output, PathBuf) {
    write_mock_config(dir, url, extra);
    let output = run_tarjim(dir, &["run", &samples_arg(), "--out", "out", "--quiet"]);
    (output, dir.join("out"))
}

/// Run the samples through a mock following `schedule` and check the run lost nothing, matches
/// the clean run and made exactly the attempts the schedule implies.
fn assert_recovers(schedule: &Schedule, url: &str, extra: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (output, out) = run_samples(dir.path(), url, extra);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let run = assert_nothing_lost(&out);
    assert_same_outputs(clean_out(), &out);

    let texts = schedule.texts();
    let expected_attempts: u32 = texts
        .iter()
        .map(|text| schedule.attempts_needed(text, 6))
        .sum();
    let faults = schedule
        .log()
        .iter()
        .filter(|seen| !is_success(&seen.fault))
        .count();
    assert!(faults > 0, "the plan injected no fault");
    assert_eq!(run["requests"].as_u64().unwrap() as usize, texts.len());
    assert_eq!(
        run["attempts"].as_u64().unwrap(),
        u64::from(expected_attempts)
    );
    assert_eq!(schedule.requests(), expected_attempts as usize);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_with_retry_after_are_waited_out() {
    let schedule = Schedule::new(|text, attempt| {
        let roll = bucket(text, attempt, 1);
        match roll {
            _ if attempt > 3 || roll >= 30 => Fault::Answer,
            _ if roll.is_multiple_of(2) => Fault::with_header(429, "slow down", "Retry-After", "0"),
            _ => Fault::with_header(429, "slow down", "retry-after-ms", "20"),
        }
    });
    let server = wiremock_server(&schedule).await;
    assert_recovers(&schedule, &server.uri(), PATIENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn bursts_of_server_errors_are_retried() {
    let schedule = Schedule::new(|text, attempt| {
        let burst = if bucket(text, 0, 2) < 40 {
            1 + (stable_hash(text, 3) % 3) as u32
        } else {
            0
        };
        match attempt {
            _ if attempt > burst => Fault::Answer,
            _ if attempt % 2 == 1 => Fault::status(503, "overloaded"),
            _ => Fault::status(500, "internal error"),
        }
    });
    let server = wiremock_server(&schedule).await;
    assert_recovers(&schedule, &server.uri(), PATIENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_slower_than_the_timeout_are_retried() {
    let schedule = Schedule::new(|text, attempt| {
        if attempt == 1 && bucket(text, attempt, 4) < 15 {
            Fault::Slow(Duration::from_millis(1500))
        } else {
            Fault::Answer
        }
    });
    let server = wiremock_server(&schedule).await;
    let extra = PATIENT.replace("request_timeout_s = 5", "request_timeout_s = 1");
    assert_recovers(&schedule, &server.uri(), &extra);
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_connections_are_retried() {
    let schedule = Schedule::new(|text, attempt| {
        if attempt <= 2 && bucket(text, attempt, 5) < 30 {
            Fault::Drop
        } else {
            Fault::Answer
        }
    });
    let server = RawServer::start(&schedule, Duration::ZERO).await;
    assert_recovers(&schedule, &server.url, PATIENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_bodies_are_retried() {
    let schedule = Schedule::new(|text, attempt| {
        let roll = bucket(text, attempt, 6);
        match attempt {
            1 if roll < 30 => Fault::CutOff,
            2 if roll < 30 => Fault::TruncatedJson,
            _ => Fault::Answer,
        }
    });
    let server = RawServer::start(&schedule, Duration::ZERO).await;
    assert_recovers(&schedule, &server.url, PATIENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn error_objects_inside_200_answers_are_retried() {
    let schedule = Schedule::new(|text, attempt| {
        if attempt <= 2 && bucket(text, attempt, 7) < 30 {
            Fault::ErrorIn200
        } else {
            Fault::Answer
        }
    });
    let server = wiremock_server(&schedule).await;
    assert_recovers(&schedule, &server.uri(), PATIENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_transient_fault_at_once_is_survived() {
    let schedule = Schedule::new(|text, attempt| {
        if attempt > 3 {
            return Fault::Answer;
        }
        match bucket(text, attempt, 8) {
            0..=9 => Fault::with_header(429, "slow down", "retry-after-ms", "20"),
            10..=19 => Fault::status(503, "overloaded"),
            20..=27 => Fault::Drop,
            28..=35 => Fault::CutOff,
            36..=43 => Fault::TruncatedJson,
            44..=51 => Fault::ErrorIn200,
            _ => Fault::Answer,
        }
    });
    let server = RawServer::start(&schedule, Duration::ZERO).await;
    assert_recovers(&schedule, &server.url, PATIENT);
}

/// The first sample alone: enough for tests about single requests.
fn one_sample() -> String {
    crate::support::samples()
        .join("000_d24ed62e350e2f11.txt")
        .display()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn client_errors_are_never_retried() {
    for status in [400, 401, 403, 404, 422] {
        let schedule = Schedule::new(move |_, _| Fault::status(status, "{\"error\":\"no\"}"));
        let server = wiremock_server(&schedule).await;
        let dir = tempfile::tempdir().unwrap();
        write_mock_config(dir.path(), &server.uri(), PATIENT);
        let output = run_tarjim(dir.path(), &["run", &one_sample(), "--out", "out"]);
        let stderr = checked_stderr(&output);
        assert_eq!(output.status.code(), Some(1), "HTTP {status}: {stderr}");
        let run = read_json(&dir.path().join("out/run.json"));
        assert!(run["requests"].as_u64().unwrap() > 0);
        assert_eq!(
            run["attempts"], run["requests"],
            "HTTP {status} was retried"
        );
        assert_eq!(
            schedule.requests() as u64,
            run["requests"].as_u64().unwrap()
        );
        assert!(stderr.contains(&status.to_string()), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_answer_is_refused_and_never_cached() {
    // Harm 6 of the hostile night: a 50 MB answer to a 20-word chunk was accepted and cached,
    // and every rerun then hung counting its tokens. One answer is far over what its request
    // can need; the other is over what any answer may be and is not even read to the end.
    for (bytes, words) in [
        (1_000_000, "over the"),
        (9 * 1024 * 1024, "over the 8 MB limit"),
    ] {
        let schedule = Schedule::new(move |_, _| Fault::Flood(bytes));
        let server = wiremock_server(&schedule).await;
        let dir = tempfile::tempdir().unwrap();
        write_mock_config(dir.path(), &server.uri(), PATIENT);
        let output = run_tarjim(dir.path(), &["run", &one_sample(), "--out", "out"]);
        let stderr = checked_stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{bytes}: {stderr}");
        let run = read_json(&dir.path().join("out/run.json"));
        let failures = run["failures"].to_string();
        assert!(failures.contains(words), "{bytes}: {failures}");
        assert_eq!(run["attempts"], run["requests"], "{bytes}: retried");
        let first = schedule.requests();
        assert!(first > 0);
        let output = run_tarjim(dir.path(), &["run", &one_sample(), "--out", "out"]);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(
            schedule.requests(),
            2 * first,
            "{bytes}: nothing of it was cached"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_beyond_the_cap_fails_fast_and_names_both() {
    let schedule =
        Schedule::new(|_, _| Fault::with_header(429, "come back tomorrow", "Retry-After", "9999"));
    let server = wiremock_server(&schedule).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{PATIENT}\nmax_retry_after_s = 30");
    write_mock_config(dir.path(), &server.uri(), &extra);
    let output = run_tarjim(dir.path(), &["run", &one_sample(), "--out", "out"]);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let run = read_json(&dir.path().join("out/run.json"));
    // Not slept on, not retried: one attempt per request.
    assert_eq!(run["attempts"], run["requests"]);
    let failure = run["failures"][0]["error"].as_str().unwrap().to_string();
    for text in [&stderr, &failure] {
        assert!(text.contains("9999s"), "names the wait: {text}");
        assert!(text.contains("30s"), "names the cap: {text}");
        assert!(
            text.contains("max_retry_after_s"),
            "names the setting: {text}"
        );
    }
}

/// The longest chunk text of the clean run, in characters.
fn longest_clean_chunk() -> usize {
    chunk_texts(clean_out())
        .iter()
        .map(|text| text.chars().count())
        .max()
        .unwrap()
}

fn chunk_texts(out: &Path) -> Vec<String> {
    let mut texts = Vec::new();
    for id in article_outputs(out).keys() {
        let record = read_json(&out.join("articles").join(format!("{id}.json")));
        for chunk in record["chunks"].as_array().unwrap() {
            texts.push(chunk["text"].as_str().unwrap().to_string());
        }
    }
    texts
}

/// Run the samples with a mock that refuses texts over `limit` characters with `refusal`, and
/// check that every refused chunk was split and translated piece by piece.
async fn assert_split_on(refusal: Fault, limit: usize) {
    let schedule = Schedule::new(move |text, _| {
        if text.chars().count() > limit {
            refusal.clone()
        } else {
            Fault::Answer
        }
    });
    let server = wiremock_server(&schedule).await;
    let dir = tempfile::tempdir().unwrap();
    let (output, out) = run_samples(dir.path(), &server.uri(), PATIENT);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_nothing_lost(&out);
    let log = schedule.log();
    let refused: Vec<&Seen> = log
        .iter()
        .filter(|seen| seen.text.chars().count() > limit)
        .collect();
    assert!(!refused.is_empty(), "some chunk was over the limit");
    let mut split_chunks = 0;
    for id in article_outputs(&out).keys() {
        let record = read_json(&out.join("articles").join(format!("{id}.json")));
        for chunk in record["chunks"].as_array().unwrap() {
            let text = chunk["text"].as_str().unwrap();
            let translation = chunk["translation"].as_str().unwrap();
            let pieces = mock_pieces(translation);
            if text.chars().count() > limit {
                split_chunks += 1;
                assert!(pieces.len() >= 2, "{translation}");
            }
            assert_eq!(words(&pieces.join(" ")), words(text), "{id}");
        }
    }
    assert!(split_chunks > 0);
}

/// The texts inside each `EN(...)` of a translation made of mock answers.
fn mock_pieces(translation: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = translation;
    while let Some(start) = rest.find("EN(") {
        let after = &rest[start + 3..];
        let end = after.find(") EN(").unwrap_or(after.len() - 1);
        pieces.push(after[..end].to_string());
        rest = &after[end..];
    }
    pieces
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_context_length_error_splits_the_chunk() {
    let limit = longest_clean_chunk() * 2 / 3;
    let refusal = Fault::status(
        400,
        r#"{"error":{"message":"This model's maximum context length is 4096 tokens","code":"context_length_exceeded"}}"#,
    );
    assert_split_on(refusal, limit).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_cut_off_at_max_tokens_splits_the_chunk() {
    let limit = longest_clean_chunk() * 2 / 3;
    assert_split_on(Fault::Length, limit).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exhausted_quota_stops_requests_queued_for_a_slot() {
    let schedule = Schedule::new(|_, _| {
        Fault::status(
            429,
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota"}}"#,
        )
    });
    let server = wiremock_server(&schedule).await;
    let dir = tempfile::tempdir().unwrap();
    let (output, out) = run_samples(dir.path(), &server.uri(), PATIENT);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["ending"], "quota-exhausted");
    assert!(stderr.contains("quota"), "{stderr}");
    let chunks = run["chunks"]["total"].as_u64().unwrap() as usize;
    // Only the requests already in flight (concurrency 4) may reach the server.
    assert!(
        schedule.requests() <= 4,
        "{} requests for {chunks} chunks after the quota ran out",
        schedule.requests()
    );
    assert!(chunks >= 20, "enough chunks to tell: {chunks}");
    assert_eq!(run["attempts"], run["requests"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_primary_hands_everything_to_the_fallback() {
    let primary_schedule = Schedule::new(|_, _| Fault::status(503, "down"));
    let backup_schedule = Schedule::clean();
    let primary = wiremock_server(&primary_schedule).await;
    let backup = wiremock_server(&backup_schedule).await;
    let dir = tempfile::tempdir().unwrap();
    let primary_extra = PATIENT.replace("max_attempts = 6", "max_attempts = 2");
    write_config(
        dir.path(),
        &["primary", "backup"],
        &[
            BackendConfig {
                name: "primary",
                base_url: &primary.uri(),
                extra: &primary_extra,
            },
            BackendConfig {
                name: "backup",
                base_url: &backup.uri(),
                extra: PATIENT,
            },
        ],
    );
    let out = dir.path().join("out");
    let output = run_tarjim(dir.path(), &["run", &samples_arg(), "--out", "out"]);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let run = assert_nothing_lost(&out);
    let clean = article_outputs(clean_out());
    for (id, (_, translation)) in article_outputs(&out) {
        assert_eq!(translation, clean[&id].1, "{id}");
        let record = read_json(&out.join("articles").join(format!("{id}.json")));
        for chunk in record["chunks"].as_array().unwrap() {
            assert_eq!(chunk["backend"], "backup", "{id}");
        }
    }
    let stages = &run["stages"]["translate"];
    assert_eq!(stages[0]["backend"], "primary");
    // Two attempts per request, except retries the opened breaker refused.
    let (attempts, requests) = (
        stages[0]["attempts"].as_u64().unwrap(),
        stages[0]["requests"].as_u64().unwrap(),
    );
    assert!(
        (requests..=2 * requests).contains(&attempts),
        "{attempts} attempts for {requests} requests"
    );
    assert_eq!(
        primary_schedule.requests() as u64,
        stages[0]["attempts"].as_u64().unwrap()
    );
    // The primary's circuit breaker opens after 5 failed requests (plus the few already in
    // flight, concurrency 4): the rest of the night goes straight to the backup.
    let primary_requests = stages[0]["requests"].as_u64().unwrap();
    assert!(
        (5..=5 + 4).contains(&primary_requests),
        "{primary_requests} requests to the dead primary"
    );
    let backup_texts = backup_schedule.texts();
    assert!(backup_texts.len() > primary_requests as usize);
    for text in primary_schedule.texts() {
        assert!(backup_texts.contains(&text), "{text}");
    }
}

/// Harm 1 of the hostile night: against a refusing or hung endpoint every chunk paid its whole
/// retry schedule, and a night took hours to fail. The circuit breaker opens after 5 failed
/// requests, every route of the stage is then down, and the run stops sending, writes what it
/// has and says why.
#[tokio::test(flavor = "multi_thread")]
async fn a_dead_or_hung_endpoint_stops_the_night_after_a_few_requests() {
    let refused_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // Accepts connections and never answers; keeps them open.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_port = hung.local_addr().unwrap().port();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hung.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let quick = "max_attempts = 2\nbackoff_base_ms = 5\nbackoff_cap_ms = 20\nconcurrency = 4";
    let cases = [
        (refused_port, format!("{quick}\nrequest_timeout_s = 5")),
        (hung_port, format!("{quick}\nrequest_timeout_s = 1")),
    ];
    for (port, extra) in cases {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("http://127.0.0.1:{port}");
        // Last night's brief, which a run that stops early must leave alone.
        let last_night = "# Brief\n\nlast night's stories\n";
        std::fs::create_dir_all(dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("out/brief.md"), last_night).unwrap();
        let (output, out) = run_samples(dir.path(), &url, &extra);
        let stderr = checked_stderr(&output);
        assert_eq!(output.status.code(), Some(1), "port {port}: {stderr}");
        assert!(
            stderr.contains("stopped early: every backend of a stage was down"),
            "{stderr}"
        );
        let run = read_json(&out.join("run.json"));
        assert_eq!(run["ending"], "endpoints-down");
        let requests = run["requests"].as_u64().unwrap();
        assert!(
            (5..=5 + 4).contains(&requests),
            "port {port}: {requests} requests"
        );
        assert_eq!(run["articles"]["succeeded"], 0);
        assert_eq!(
            run["articles"]["failed"], 5,
            "every article is accounted for"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("brief.md")).unwrap(),
            last_night,
            "a partial night does not replace the last brief"
        );
        let partial = std::fs::read_to_string(out.join("brief.partial.md")).unwrap();
        assert!(
            partial.contains("Partial brief: every backend of a stage is down"),
            "{partial}"
        );
        assert!(out.join("brief.partial.html").exists());
    }
    assert!(accepted.load(Ordering::SeqCst) <= 2 * (5 + 4));
}

/// Hostile night: any single article has a ceiling on time, reported when hit.
#[tokio::test(flavor = "multi_thread")]
async fn an_article_over_its_time_ceiling_fails_and_says_so() {
    let schedule = Schedule::new(|_, _| Fault::Slow(Duration::from_secs(3)));
    let server = wiremock_server(&schedule).await;
    let dir = tempfile::tempdir().unwrap();
    write_mock_config(dir.path(), &server.uri(), PATIENT);
    let config = dir.path().join("tarjim.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[run]\narticle_timeout_s = 1\n");
    std::fs::write(&config, text).unwrap();
    let output = run_tarjim(dir.path(), &["run", &one_sample(), "--out", "out"]);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let run = read_json(&dir.path().join("out/run.json"));
    assert_eq!(run["articles"]["failed"], 1);
    assert!(
        run["failures"].to_string().contains("time ceiling"),
        "{:#}",
        run["failures"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_never_cached() {
    // One server for both runs (the endpoint is part of the cache key), broken for the first.
    let broken = Arc::new(AtomicBool::new(true));
    let failing = |text: &str| bucket(text, 0, 9) < 30;
    let switch = broken.clone();
    let schedule = Schedule::new(move |text, _| {
        if switch.load(Ordering::SeqCst) && failing(text) {
            Fault::status(500, "broken")
        } else {
            Fault::Answer
        }
    });
    let server = wiremock_server(&schedule).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = PATIENT.replace("max_attempts = 6", "max_attempts = 2");
    let (output, out) = run_samples(dir.path(), &server.uri(), &extra);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let run = read_json(&out.join("run.json"));
    assert!(!run["failures"].as_array().unwrap().is_empty());
    let first_run = schedule.requests();
    let failed: Vec<String> = schedule
        .texts()
        .into_iter()
        .filter(|text| failing(text))
        .collect();
    assert!(!failed.is_empty());

    broken.store(false, Ordering::SeqCst);
    let (output, out) = run_samples(dir.path(), &server.uri(), &extra);
    assert_eq!(output.status.code(), Some(0), "{}", checked_stderr(&output));
    let mut asked_again: Vec<String> = schedule.log()[first_run..]
        .iter()
        .map(|seen| seen.text.clone())
        .collect();
    asked_again.sort();
    assert!(
        asked_again == failed,
        "exactly the failed texts are asked again, once each: {} asked, {} failed",
        asked_again.len(),
        failed.len()
    );
    assert_nothing_lost(&out);
    assert_same_outputs(clean_out(), &out);
}
