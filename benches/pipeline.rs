//! Pipeline benchmarks against a local mock OpenAI-compatible server (loopback only).
//!
//! Run with `cargo bench --bench pipeline`. It measures, with the real `tarjim` binary:
//! 1. throughput: 2,000 one-chunk articles at concurrency 16 against a mock with a fixed 50 ms
//!    latency (ideal: 16 / 0.05 s = 320 requests/s);
//! 2. a fully cached rerun of 1,000 articles (wall time of the whole process);
//! 3. peak RSS of a run over 10,000 synthetic articles (instant mock);
//! 4. `night`, when `TARJIM_BENCH_NIGHT` names a JSONL of a real night (see
//!    `scripts/saudinewsnet-night.py`): the whole night through an instant mock (wall time, peak
//!    RSS, brief sizes), then the same night against a dead endpoint (time to fail). Run it
//!    alone (`cargo bench --bench pipeline -- night`) so the peak RSS is this run's.
//! 5. `scale`: a synthetic night of `TARJIM_BENCH_SCALE` articles (default 100,000) built from
//!    the paragraphs of `TARJIM_BENCH_NIGHT` (or of `samples/`): stories of 20 articles from 11
//!    outlets, two wire paragraphs shared word for word within a story, every other paragraph
//!    made unique; through the instant mock (translations only, no repairs), then a fully
//!    cached rerun: wall time, phase times and peak RSS of each. Run it alone.
//!
//! Figures go to stdout; BENCHMARKS.md records them with this command.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

struct Echo {
    delay: Duration,
}

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let prompt = body
            .pointer("/messages/1/content")
            .and_then(Value::as_str)
            .unwrap_or("");
        ResponseTemplate::new(200)
            .set_delay(self.delay)
            .set_body_json(json!({
                "choices": [{"message": {"content": format!("EN {}", prompt.len())}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 40},
            }))
    }
}

const SENTENCE: &str = "أعلنت وزارة الدفاع في بيان اليوم أن العمليات مستمرة في المنطقة";

fn write_articles(path: &Path, count: usize, paragraphs: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for index in 0..count {
        let text: Vec<String> = (0..paragraphs)
            .map(|p| format!("{SENTENCE} رقم {index} فقرة {p}."))
            .collect();
        writeln!(
            file,
            "{}",
            json!({"text": text.join("\n\n"), "source": "bench"})
        )
        .unwrap();
    }
}

fn config(dir: &Path, base_url: &str, concurrency: usize) {
    let text = format!(
        "[stages]\ntranslate = [\"mock\"]\nsummarize = []\nbrief = []\n[cache]\npath = \"{}\"\n[backends.mock]\nkind = \"openai\"\n\
         base_url = \"{base_url}/v1\"\nmodel = \"bench\"\nconcurrency = {concurrency}\nmax_tokens = 256\n",
        dir.join("cache.sqlite").display()
    );
    std::fs::write(dir.join("tarjim.toml"), text).unwrap();
}

/// Run tarjim in `dir`; returns wall time and the run report.
fn tarjim(dir: &Path, input: &str, out: &str) -> (Duration, Value) {
    let started = Instant::now();
    // block_in_place: the mock server shares this runtime and must keep its worker threads.
    let status = tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_tarjim"))
            .args(["run", input, "--out", out, "--quiet"])
            .current_dir(dir)
            .status()
            .unwrap()
    });
    let wall = started.elapsed();
    assert!(status.success(), "tarjim failed in {}", dir.display());
    let report =
        serde_json::from_str(&std::fs::read_to_string(dir.join(out).join("run.json")).unwrap())
            .unwrap();
    (wall, report)
}

/// The run's own peak resident memory (run.json `peak_rss_mib`, the process's `VmHWM`). Not
/// `getrusage(RUSAGE_CHILDREN)`: Linux carries the spawning process's peak into the child's
/// at `exec`, so that figure was this bench's own memory whenever it was the larger.
fn peak_rss_mib(report: &Value) -> f64 {
    report["peak_rss_mib"].as_f64().unwrap_or(f64::NAN)
}

async fn mock(delay: Duration) -> MockServer {
    // Not recording requests: at a night's scale the copies would take gigabytes.
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(method("POST"))
        .respond_with(Echo { delay })
        .mount(&server)
        .await;
    server
}

/// Whether the section `name` was asked for (`cargo bench --bench pipeline -- throughput`);
/// with no names, every section runs.
fn wanted(name: &str) -> bool {
    let names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    names.is_empty() || names.iter().any(|wanted| wanted == name)
}

#[tokio::main]
async fn main() {
    let slow = mock(Duration::from_millis(50)).await;
    let instant = mock(Duration::ZERO).await;
    if wanted("throughput") {
        throughput(&slow).await;
    }
    if wanted("cached") {
        cached_rerun(&instant).await;
    }
    if wanted("memory") {
        memory(&instant).await;
    }
    if wanted("night") {
        night(&instant).await;
    }
    if std::env::args().any(|arg| arg == "scale") {
        scale(&instant).await;
    }
}

/// Paragraphs of real articles to build a synthetic night from: the night's JSONL, or the
/// samples.
fn paragraph_pool() -> Vec<Vec<String>> {
    let split = |text: &str| -> Vec<String> {
        text.split('\n')
            .map(str::trim)
            .filter(|line| line.chars().count() > 40)
            .map(str::to_string)
            .collect()
    };
    let mut articles = Vec::new();
    if let Some(night) = std::env::var_os("TARJIM_BENCH_NIGHT") {
        for line in std::fs::read_to_string(night).unwrap().lines() {
            let value: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            let paragraphs = split(value["text"].as_str().unwrap_or(""));
            if paragraphs.len() >= 2 {
                articles.push(paragraphs);
            }
        }
    } else {
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        for entry in std::fs::read_dir(samples).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            articles.push(split(&text));
        }
    }
    articles
}

/// Write a synthetic night of `count` articles into the folder `path`, a JSONL file per 1,000
/// (a feed's hourly dumps; one file may hold at most 20 MB): story `s` (20 articles) retells
/// pool article `s`, each outlet's copy with the story's two wire paragraphs word for word and
/// every other paragraph made its own (a number of its own in it), so cache keys differ as
/// real copies do.
fn write_synthetic_night(path: &Path, count: usize) -> usize {
    let pool = paragraph_pool();
    std::fs::create_dir_all(path).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path.join("0.jsonl")).unwrap());
    let mut bytes = 0;
    for index in 0..count {
        if index > 0 && index % 1000 == 0 {
            let name = format!("{}.jsonl", index / 1000);
            file = std::io::BufWriter::new(std::fs::File::create(path.join(name)).unwrap());
        }
        let story = index / 20;
        let base = &pool[(story * 7919) % pool.len()];
        let wire = &pool[(story * 7 + 3) % pool.len()];
        let mut paragraphs: Vec<String> = base
            .iter()
            .enumerate()
            .map(|(number, paragraph)| format!("{paragraph} ({} - {number})", index + 1))
            .collect();
        paragraphs.insert(1.min(paragraphs.len()), wire[0].clone());
        paragraphs.push(wire[wire.len() - 1].clone());
        let text = paragraphs.join("\n\n");
        bytes += text.len();
        let line = json!({
            "title": format!("{} {}", base[0].chars().take(60).collect::<String>(), story),
            "text": text,
            "source": format!("outlet-{}", index % 11),
            "url": format!("https://example.com/{index}"),
            "published": format!("2026-12-0{}T0{}:00:00Z", 1 + story % 5, index % 10),
        });
        writeln!(file, "{line}").unwrap();
    }
    bytes
}

/// A synthetic night at scale through the instant mock, then its fully cached rerun.
async fn scale(instant: &MockServer) {
    let count: usize = std::env::var("TARJIM_BENCH_SCALE")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("night");
    let bytes = write_synthetic_night(&input, count);
    config(dir.path(), &instant.uri(), 16);
    let mut settings = std::fs::read_to_string(dir.path().join("tarjim.toml")).unwrap();
    settings.push_str("[fidelity]\nrepair = false\n");
    std::fs::write(dir.path().join("tarjim.toml"), settings).unwrap();
    for (label, out) in [("first run", "out1"), ("cached rerun", "out2")] {
        let (wall, report) = tarjim_any(dir.path(), input.to_str().unwrap(), out);
        let seconds = |name: &str| report["timings"][name].as_f64().unwrap_or(0.0) / 1000.0;
        println!(
            "scale, {label}: {count} articles ({:.0} MB of text), {} chunks, {} requests, {} \
             cache hits, in {:.1} s wall (prepare {:.1} s, articles {:.1} s, brief {:.1} s); \
             ending {}; {} stories written, {} listed; peak RSS {:.0} MiB",
            bytes as f64 / 1e6,
            report["chunks"]["total"],
            report["requests"],
            report["cache"]["hits"],
            wall.as_secs_f64(),
            seconds("prepare_ms"),
            seconds("articles_ms"),
            seconds("brief_ms"),
            report["ending"],
            report["brief"]["stories"],
            report["brief"]["more_stories"],
            peak_rss_mib(&report),
        );
    }
}

/// A real night through the instant mock, then against a dead endpoint.
async fn night(instant: &MockServer) {
    let Some(night) = std::env::var_os("TARJIM_BENCH_NIGHT") else {
        println!("night: skipped (set TARJIM_BENCH_NIGHT to a night's JSONL)");
        return;
    };
    let night = std::path::PathBuf::from(night);
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), &instant.uri(), 16);
    let (wall, report) = tarjim_any(dir.path(), night.to_str().unwrap(), "out");
    let size = |name: &str| {
        std::fs::metadata(dir.path().join("out").join(name))
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0)
    };
    println!(
        "night: {} articles ({} read, {} skipped, {} unreadable), {} chunks, {} requests in {:.1} s \
         wall (articles {:.1} s, brief {:.1} s); peak RSS {:.0} MiB; {} stories written, {} listed, \
         {} single reports, largest {}; brief.html {:.1} MB, brief.md {:.1} MB, brief.json {:.1} MB",
        report["articles"]["total"],
        report["input_counts"]["articles"],
        report["input_counts"]["skipped"],
        report["input_counts"]["unreadable"],
        report["chunks"]["total"],
        report["requests"],
        wall.as_secs_f64(),
        report["timings"]["articles_ms"].as_f64().unwrap_or(0.0) / 1000.0,
        report["timings"]["brief_ms"].as_f64().unwrap_or(0.0) / 1000.0,
        peak_rss_mib(&report),
        report["brief"]["stories"],
        report["brief"]["more_stories"],
        report["brief"]["single_reports"],
        report["brief"]["largest_story"],
        size("brief.html"),
        size("brief.md"),
        size("brief.json"),
    );
    let refused_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dead = tempfile::tempdir().unwrap();
    config(dead.path(), &format!("http://127.0.0.1:{refused_port}"), 16);
    let (wall, report) = tarjim_any(dead.path(), night.to_str().unwrap(), "out");
    println!(
        "night, dead endpoint (connection refused, default retries): ended {} after {:.1} s wall, \
         {} requests sent, {} articles failed",
        report["ending"],
        wall.as_secs_f64(),
        report["requests"],
        report["articles"]["failed"],
    );
}

/// Run tarjim in `dir` whatever its exit code; returns wall time and the run report.
fn tarjim_any(dir: &Path, input: &str, out: &str) -> (Duration, Value) {
    let started = Instant::now();
    tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_tarjim"))
            .args(["run", input, "--out", out, "--quiet"])
            .current_dir(dir)
            .status()
            .unwrap()
    });
    let wall = started.elapsed();
    let report =
        serde_json::from_str(&std::fs::read_to_string(dir.join(out).join("run.json")).unwrap())
            .unwrap();
    (wall, report)
}

async fn throughput(slow: &MockServer) {
    let dir = tempfile::tempdir().unwrap();
    write_articles(&dir.path().join("a.jsonl"), 2000, 1);
    config(dir.path(), &slow.uri(), 16);
    let (wall, report) = tarjim(dir.path(), "a.jsonl", "out");
    let requests = report["requests"].as_f64().unwrap();
    let run_seconds = report["timings"]["articles_ms"].as_f64().unwrap() / 1000.0;
    println!(
        "throughput: {requests} requests, concurrency 16, 50 ms latency: {:.1} req/s over the translate stage \
         ({:.1}% of ideal 320), {:.1} req/s over the whole process ({:.2} s wall)",
        requests / run_seconds,
        requests / run_seconds / 320.0 * 100.0,
        requests / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
}

async fn cached_rerun(instant: &MockServer) {
    let dir = tempfile::tempdir().unwrap();
    write_articles(&dir.path().join("a.jsonl"), 1000, 3);
    config(dir.path(), &instant.uri(), 16);
    let (first, report) = tarjim(dir.path(), "a.jsonl", "out1");
    let (rerun, rerun_report) = tarjim(dir.path(), "a.jsonl", "out2");
    assert_eq!(rerun_report["requests"], 0);
    println!(
        "cached rerun: 1000 articles, {} chunks: first run {:.2} s, cached rerun {:.2} s wall ({} cache hits)",
        report["chunks"]["total"],
        first.as_secs_f64(),
        rerun.as_secs_f64(),
        rerun_report["cache"]["hits"]
    );
}

async fn memory(instant: &MockServer) {
    let dir = tempfile::tempdir().unwrap();
    write_articles(&dir.path().join("a.jsonl"), 10_000, 3);
    config(dir.path(), &instant.uri(), 16);
    let (wall, report) = tarjim(dir.path(), "a.jsonl", "out");
    println!(
        "memory: 10000 articles, {} chunks in {:.1} s: peak RSS {:.0} MiB",
        report["chunks"]["total"],
        wall.as_secs_f64(),
        peak_rss_mib(&report)
    );
}
