//! Rate-limit storm: how close to ideal tarjim stays when the server keeps saying "wait".
//!
//! Run with `cargo bench --no-default-features --bench storm`. 5,000 one-chunk articles (JSONL)
//! go through a loopback mock with a fixed latency where 30% of first attempts (chosen by a hash
//! of the text, so the same ones every time) answer 429 with `retry-after-ms: 200`; the client
//! runs at a fixed concurrency. Every request holds one of the `concurrency` slots for its
//! latency, and a rate-limited one also for the mandated wait and its second attempt, so
//!
//!   ideal = (Σ latency of every attempt + Σ mandated waits) / concurrency
//!
//! is the shortest possible translate phase for a client that honours the waits exactly and
//! never lets a slot idle. The figure reported is actual / ideal, with actual = the run's own
//! `duration_ms` (and the whole process's wall time beside it); the goal is at most 1.5.
//! Settings can be changed with STORM_ARTICLES, STORM_CONCURRENCY, STORM_LATENCY_MS and
//! STORM_LIMITED_PERCENT.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const WAIT_MS: u64 = 200;

/// Answers after a fixed latency; `limited_percent` of first attempts are told to come back
/// in 200 ms.
#[derive(Clone)]
struct Storm {
    latency: Duration,
    limited_percent: u64,
    attempts: Arc<Mutex<HashMap<String, u32>>>,
    limited: Arc<Mutex<u64>>,
}

impl Respond for Storm {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let prompt = body
            .pointer("/messages/1/content")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let count = attempts.entry(prompt.clone()).or_insert(0);
            *count += 1;
            *count
        };
        if attempt == 1 && fnv(&prompt) % 100 < self.limited_percent {
            *self.limited.lock().unwrap() += 1;
            return ResponseTemplate::new(429)
                .set_delay(self.latency)
                .insert_header("retry-after-ms", WAIT_MS.to_string().as_str())
                .set_body_string("rate limited");
        }
        ResponseTemplate::new(200)
            .set_delay(self.latency)
            .set_body_json(json!({
                "choices": [{"message": {"content": format!("EN {}", prompt.len())}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 40},
            }))
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

const SENTENCE: &str = "أعلنت وزارة الدفاع في بيان اليوم أن العمليات مستمرة في المنطقة";

fn write_articles(path: &Path, count: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for index in 0..count {
        let text = format!("{SENTENCE} رقم {index}.");
        writeln!(file, "{}", json!({"text": text, "source": "storm"})).unwrap();
    }
}

fn config(dir: &Path, base_url: &str, concurrency: usize) {
    let text = format!(
        "[stages]\ntranslate = [\"mock\"]\n[cache]\npath = \"{}\"\n[backends.mock]\nkind = \"openai\"\n\
         base_url = \"{base_url}/v1\"\nmodel = \"storm\"\nconcurrency = {concurrency}\nmax_tokens = 256\n\
         max_attempts = 3\nbackoff_base_ms = 50\nbackoff_cap_ms = 1000\n",
        dir.join("cache.sqlite").display()
    );
    std::fs::write(dir.join("tarjim.toml"), text).unwrap();
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let articles = setting("STORM_ARTICLES", 5000) as usize;
    let concurrency = setting("STORM_CONCURRENCY", 32) as usize;
    let latency = Duration::from_millis(setting("STORM_LATENCY_MS", 20));
    let storm = Storm {
        latency,
        limited_percent: setting("STORM_LIMITED_PERCENT", 30),
        attempts: Default::default(),
        limited: Default::default(),
    };
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(storm.clone())
        .mount(&server)
        .await;

    let dir = tempfile::tempdir().unwrap();
    write_articles(&dir.path().join("storm.jsonl"), articles);
    config(dir.path(), &server.uri(), concurrency);
    let started = Instant::now();
    // block_in_place: the mock server shares this runtime and must keep its worker threads.
    let status = tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_tarjim"))
            .args(["run", "storm.jsonl", "--out", "out", "--quiet"])
            .current_dir(dir.path())
            .status()
            .unwrap()
    });
    let wall = started.elapsed().as_secs_f64();
    assert!(status.success(), "tarjim failed");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/run.json")).unwrap())
            .unwrap();
    assert_eq!(report["failures"], json!([]), "nothing may be lost");

    let attempts = report["attempts"].as_u64().unwrap();
    let requests = report["requests"].as_u64().unwrap();
    let limited = *storm.limited.lock().unwrap();
    assert_eq!(attempts, requests + limited, "one retry per rate limit");
    let slot_seconds =
        attempts as f64 * latency.as_secs_f64() + limited as f64 * WAIT_MS as f64 / 1000.0;
    let ideal = slot_seconds / concurrency as f64;
    let actual = report["duration_ms"].as_f64().unwrap() / 1000.0;
    println!(
        "storm: {articles} one-chunk articles, concurrency {concurrency}, latency {} ms, \
         {limited} of {requests} first attempts answered 429 retry-after-ms {WAIT_MS} \
         ({attempts} attempts)",
        latency.as_millis()
    );
    println!(
        "storm: ideal = ({attempts} x {} ms + {limited} x {WAIT_MS} ms) / {concurrency} = {ideal:.2} s; \
         actual run {actual:.2} s (process wall {wall:.2} s); actual/ideal = {:.2} (goal <= 1.5)",
        latency.as_millis(),
        actual / ideal
    );
}
