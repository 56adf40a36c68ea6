//! Crashes and interrupts: the real binary is killed with SIGKILL at seeded random points, or
//! sent SIGINT mid-run, against a mock with some latency; then the same command is run again.
//!
//! What must hold: an answer that had arrived before the kill is never asked for again (answers
//! are committed to the cache as they arrive), the SQLite cache still opens, and the resumed run
//! writes exactly what an uninterrupted run writes. After SIGINT the run exits 130 with a
//! run.json saying "interrupted", sends nothing new, and a rerun completes the rest.

use crate::support::*;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Time an answer may take to get from the mock's socket into the cache. A text answered longer
/// than this before the kill must never be requested again.
const COMMIT_GRACE: Duration = Duration::from_millis(250);

const SETTINGS: &str =
    "max_attempts = 3\nbackoff_base_ms = 5\nbackoff_cap_ms = 20\nrequest_timeout_s = 10\nconcurrency = 4";

/// `tarjim run <samples> --out out`.
fn run_args(samples: &str) -> [&str; 4] {
    ["run", samples, "--out", "out"]
}

/// A clean run against a fresh mock with `latency`: its workspace and how long it took.
async fn clean_run(latency: Duration, extra: &str) -> (tempfile::TempDir, Duration) {
    let schedule = Schedule::clean();
    let server = RawServer::start(&schedule, latency).await;
    let dir = tempfile::tempdir().unwrap();
    write_mock_config(dir.path(), &server.url, extra);
    let samples = samples_arg();
    let started = Instant::now();
    let output = run_tarjim(dir.path(), &run_args(&samples));
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", checked_stderr(&output));
    (dir, took)
}

/// Requests per text, and how many of them were still open `grace` before `moment`.
fn open_at(log: &[Seen], moment: Instant, grace: Duration) -> HashMap<String, usize> {
    let mut open = HashMap::new();
    for seen in log {
        let started_before = seen.arrived < moment;
        let settled = seen
            .answered
            .is_some_and(|answered| answered + grace < moment);
        if started_before && !settled {
            *open.entry(seen.text.clone()).or_insert(0) += 1;
        }
    }
    open
}

/// Every text was requested at most once more than it was open at the interruption, and every
/// text got a good answer in the end.
fn assert_no_repeated_work(log: &[Seen], open: &HashMap<String, usize>, context: &str) {
    let mut requested: HashMap<&str, usize> = HashMap::new();
    let mut answered: HashMap<&str, usize> = HashMap::new();
    for seen in log {
        *requested.entry(&seen.text).or_insert(0) += 1;
        if seen.answered.is_some() {
            *answered.entry(&seen.text).or_insert(0) += 1;
        }
    }
    for (text, count) in &requested {
        let allowed = 1 + open.get(*text).copied().unwrap_or(0);
        assert!(
            *count <= allowed,
            "{context}: text requested {count} times, allowed {allowed}: {text}"
        );
        assert!(
            answered.contains_key(text),
            "{context}: never answered: {text}"
        );
    }
}

fn assert_cache_opens(dir: &Path, context: &str) {
    let output = run_tarjim(dir, &["cache", "stats"]);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{context}: {stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("entries:"),
        "{context}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_runs_resume_without_repeating_finished_work() {
    let latency = Duration::from_millis(30);
    let (clean, clean_took) = clean_run(latency, SETTINGS).await;
    let samples = samples_arg();
    let mut rng = Rng::seeded(0x7a12_51e0);
    let mut killed_mid_run = 0;
    for iteration in 0..10 {
        let schedule = Schedule::clean();
        let server = RawServer::start(&schedule, latency).await;
        let dir = tempfile::tempdir().unwrap();
        write_mock_config(dir.path(), &server.url, SETTINGS);
        let kill_after = Duration::from_millis(rng.between(0, clean_took.as_millis() as u64));
        let context = format!("iteration {iteration}, kill after {kill_after:?}");

        let mut child = tarjim_command(dir.path(), &run_args(&samples))
            .spawn()
            .unwrap();
        std::thread::sleep(kill_after);
        let still_running = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        let _ = child.wait();
        let killed_at = Instant::now();
        killed_mid_run += usize::from(still_running);
        let open = open_at(&schedule.log(), killed_at, COMMIT_GRACE);
        assert_cache_opens(dir.path(), &context);

        let output = run_tarjim(dir.path(), &run_args(&samples));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{context}: {}",
            checked_stderr(&output)
        );
        assert_no_repeated_work(&schedule.log(), &open, &context);
        assert_cache_opens(dir.path(), &context);
        assert_nothing_lost(&dir.path().join("out"));
        assert_same_outputs(&clean.path().join("out"), &dir.path().join("out"));
    }
    assert!(
        killed_mid_run >= 5,
        "most kills should land mid-run: {killed_mid_run}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_sending_writes_run_json_and_a_rerun_finishes() {
    stop_signal_stops_sending_and_a_rerun_finishes("INT", 130).await;
}

/// Harm 9 of the hostile night: SIGTERM (systemd's stop, `kill`) killed the run with no message
/// and no run.json. It now stops like Ctrl-C; exit code 128 + 15.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_like_ctrl_c() {
    stop_signal_stops_sending_and_a_rerun_finishes("TERM", 143).await;
}

/// SIGHUP (the terminal of a hand-started run closed) stops like Ctrl-C too.
#[tokio::test(flavor = "multi_thread")]
async fn sighup_stops_like_ctrl_c() {
    stop_signal_stops_sending_and_a_rerun_finishes("HUP", 129).await;
}

/// Harm 9: two runs on the same cache and output folder sent every request twice. The second
/// run now exits 75 at once, naming the first run's pid, and sends nothing; an estimate, which
/// sends nothing and writes nothing, still answers.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_on_the_same_cache_and_output_exits_naming_the_first() {
    let schedule = Schedule::clean();
    let server = RawServer::start(&schedule, Duration::from_millis(150)).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = SETTINGS.replace("concurrency = 4", "concurrency = 1");
    write_mock_config(dir.path(), &server.url, &settings);
    let samples = samples_arg();
    let first = tarjim_command(dir.path(), &run_args(&samples))
        .spawn()
        .unwrap();
    let pid = first.id();
    wait_until("the first run's first request", || schedule.requests() >= 1);
    // The second run talks to a server of its own, so that its requests can be counted.
    let second_schedule = Schedule::clean();
    let second_server = RawServer::start(&second_schedule, Duration::ZERO).await;
    let quick = |args: &[&str], what: &str| {
        let child = tarjim_command(dir.path(), args)
            .env(
                "TARJIM_BACKENDS__MOCK__BASE_URL",
                format!("{}/v1", second_server.url),
            )
            .spawn()
            .unwrap();
        wait_with_timeout(child, RUN_TIMEOUT, &[what])
    };
    let second = quick(&["run", &samples, "--out", "other"], "second run");
    let stderr = checked_stderr(&second);
    assert_eq!(second.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains(&format!("pid {pid}")), "{stderr}");
    assert!(stderr.contains("cache.sqlite.lock"), "{stderr}");
    assert_eq!(second_schedule.requests(), 0, "the second run sent nothing");
    // An estimate only reads the cache: it answers while the run holds the lock.
    let estimate = tarjim_command(dir.path(), &["estimate", &samples])
        .spawn()
        .unwrap();
    let estimate = wait_with_timeout(estimate, RUN_TIMEOUT, &["estimate"]);
    let stderr = checked_stderr(&estimate);
    assert_eq!(estimate.status.code(), Some(0), "{stderr}");
    assert!(
        String::from_utf8_lossy(&estimate.stdout).contains("requests"),
        "{stderr}"
    );
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let output = wait_with_timeout(first, RUN_TIMEOUT, &["run (terminated)"]);
    assert_eq!(
        output.status.code(),
        Some(143),
        "{}",
        checked_stderr(&output)
    );
    // With the first run gone, its locks are gone too (the rerun asks the quick server).
    let output = quick(&run_args(&samples), "run after the first");
    assert_eq!(output.status.code(), Some(0), "{}", checked_stderr(&output));
}

async fn stop_signal_stops_sending_and_a_rerun_finishes(signal: &str, code: i32) {
    let latency = Duration::from_millis(80);
    let settings = SETTINGS.replace("concurrency = 4", "concurrency = 2");
    let (clean, _) = clean_run(Duration::ZERO, &settings).await;
    let schedule = Schedule::clean();
    let server = RawServer::start(&schedule, latency).await;
    let dir = tempfile::tempdir().unwrap();
    write_mock_config(dir.path(), &server.url, &settings);
    let samples = samples_arg();

    let child = tarjim_command(dir.path(), &run_args(&samples))
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_until("four requests", || schedule.requests() >= 4);
    let signalled_at = Instant::now();
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = wait_with_timeout(child, RUN_TIMEOUT, &["run (interrupted)"]);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(code), "SIG{signal}: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");

    let out = dir.path().join("out");
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["ending"], "interrupted");
    assert!(out.join("brief.partial.md").exists(), "the partial brief");
    assert!(!out.join("brief.md").exists(), "no brief of half a night");
    let texts = clean_texts(clean.path());
    let log = schedule.log();
    let after_signal = log
        .iter()
        .filter(|seen| seen.arrived > signalled_at)
        .count();
    // At most the two requests that were already on their way (concurrency 2).
    assert!(
        after_signal <= 2,
        "{after_signal} requests reached the server after SIG{signal}"
    );
    assert!(
        log.len() < texts,
        "the run was interrupted before it finished ({} of {texts})",
        log.len()
    );

    let open = open_at(&log, signalled_at, COMMIT_GRACE);
    let output = run_tarjim(dir.path(), &run_args(&samples));
    assert_eq!(output.status.code(), Some(0), "{}", checked_stderr(&output));
    assert_no_repeated_work(&schedule.log(), &open, "rerun after Ctrl-C");
    assert!(out.join("brief.md").exists());
    assert!(
        !out.join("brief.partial.md").exists(),
        "a complete run clears it"
    );
    assert_nothing_lost(&out);
    assert_same_outputs(&clean.path().join("out"), &out);
}

/// How many distinct texts a clean run in `dir` requested.
fn clean_texts(dir: &Path) -> usize {
    read_json(&dir.join("out/run.json"))["requests"]
        .as_u64()
        .unwrap() as usize
}
