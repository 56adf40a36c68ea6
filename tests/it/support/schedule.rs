//! Helpers for the reliability suites (faults, crashes, bad inputs, injection, secrets): a
//! deterministic fault schedule, a wiremock responder and a raw TCP server that both follow it,
//! a runner for the real binary with a hard timeout (a hang fails the test instead of blocking
//! CI), a config writer for several backends, and comparison of two runs' outputs.
//!
//! The fault schedule is decided per request from a hash of the source text and the attempt
//! number for that text, never from arrival order, so a run with articles in parallel still sees
//! exactly the same faults every time and the tests can assert exact attempt counts.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::{Request, Respond, ResponseTemplate};

use super::{fenced_text, wait_with_timeout, PLANTED_KEY, TEST_KEY_ENV};

/// Longest any single run of the binary may take before the test calls it a hang.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// What the mock does with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// A good answer: `EN(<source>)`.
    Answer,
    /// A status with a body and extra headers.
    Status {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// A good answer sent after this long.
    Slow(Duration),
    /// Read the request, close the socket without a byte of answer (raw server only).
    Drop,
    /// Headers promise more body than is sent, then the socket closes (raw server only).
    CutOff,
    /// A 200 whose JSON body stops half way (Content-Length matches what is sent).
    TruncatedJson,
    /// A 200 whose body is an error object.
    ErrorIn200,
    /// A 200 with `finish_reason: "length"`.
    Length,
    /// A 200 whose answer is this many bytes of repeated words.
    Flood(usize),
}

impl Fault {
    pub fn status(status: u16, body: &str) -> Fault {
        Fault::Status {
            status,
            body: body.to_string(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(status: u16, body: &str, name: &str, value: &str) -> Fault {
        Fault::Status {
            status,
            body: body.to_string(),
            headers: vec![(name.to_string(), value.to_string())],
        }
    }
}

/// Decides the fault for `(source text, attempt number from 1)`.
pub type Plan = dyn Fn(&str, u32) -> Fault + Send + Sync;

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub text: String,
    /// The whole user prompt.
    pub user: String,
    pub attempt: u32,
    pub fault: Fault,
    pub arrived: Instant,
    /// When the answer was fully written (raw server only; `None` when it never was).
    pub answered: Option<Instant>,
}

/// The shared fault schedule and the log of every request, for both mock servers.
#[derive(Clone)]
pub struct Schedule {
    plan: Arc<Plan>,
    attempts: Arc<Mutex<HashMap<String, u32>>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Schedule {
    pub fn new(plan: impl Fn(&str, u32) -> Fault + Send + Sync + 'static) -> Schedule {
        Schedule {
            plan: Arc::new(plan),
            attempts: Default::default(),
            seen: Default::default(),
        }
    }

    /// A schedule that always answers.
    pub fn clean() -> Schedule {
        Schedule::new(|_, _| Fault::Answer)
    }

    /// Record a request for `body` and return its index in the log and its fault.
    fn admit(&self, body: &[u8]) -> (usize, Fault, String) {
        let user = user_prompt(body);
        let text = fenced_text(&user);
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let count = attempts.entry(text.clone()).or_insert(0);
            *count += 1;
            *count
        };
        let fault = (self.plan)(&text, attempt);
        let mut seen = self.seen.lock().unwrap();
        seen.push(Seen {
            text: text.clone(),
            user,
            attempt,
            fault: fault.clone(),
            arrived: Instant::now(),
            answered: None,
        });
        (seen.len() - 1, fault, text)
    }

    fn mark_answered(&self, index: usize) {
        self.seen.lock().unwrap()[index].answered = Some(Instant::now());
    }

    pub fn log(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Distinct source texts seen so far.
    pub fn texts(&self) -> Vec<String> {
        let mut texts: Vec<String> = self.attempts.lock().unwrap().keys().cloned().collect();
        texts.sort();
        texts
    }

    /// Attempts the plan needs for `text` to get its first good answer, at most `limit`.
    pub fn attempts_needed(&self, text: &str, limit: u32) -> u32 {
        (1..=limit)
            .find(|attempt| is_success(&(self.plan)(text, *attempt)))
            .unwrap_or(limit)
    }
}

/// Whether a fault still ends in a good answer. `Slow` is used only beyond the client's
/// timeout, so it counts as a failure.
pub fn is_success(fault: &Fault) -> bool {
    matches!(fault, Fault::Answer)
}

/// A stable 64-bit hash (FNV-1a) of `text` and `salt`, for fault plans.
pub fn stable_hash(text: &str, salt: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.wrapping_mul(0x1000_0000_01b3);
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^ (hash >> 29)
}

/// Percent bucket (0..100) of `text` for `attempt`, from a seeded hash.
pub fn bucket(text: &str, attempt: u32, seed: u64) -> u64 {
    stable_hash(text, seed.wrapping_add(u64::from(attempt) * 7919)) % 100
}

fn user_prompt(body: &[u8]) -> String {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    body.pointer("/messages/1/content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn answer_body(text: &str, finish_reason: &str) -> String {
    json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": super::mock_translation(text)}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    })
    .to_string()
}

/// The status, headers and body a fault answers with, when it answers at all.
fn reply_parts(fault: &Fault, text: &str) -> (u16, Vec<(String, String)>, String) {
    match fault {
        Fault::Answer | Fault::Slow(_) | Fault::Drop | Fault::CutOff => {
            (200, Vec::new(), answer_body(text, "stop"))
        }
        Fault::Status {
            status,
            body,
            headers,
        } => (*status, headers.clone(), body.clone()),
        Fault::TruncatedJson => {
            let full = answer_body(text, "stop");
            let cut: String = full.chars().take(full.chars().count() / 2).collect();
            (200, Vec::new(), cut)
        }
        Fault::ErrorIn200 => (
            200,
            Vec::new(),
            json!({"error": {"message": "The server had an error while processing your request", "type": "server_error"}}).to_string(),
        ),
        Fault::Length => (200, Vec::new(), answer_body(text, "length")),
        Fault::Flood(bytes) => {
            let flood = "war ".repeat(bytes / 4);
            let body = json!({
                "choices": [{"index": 0, "message": {"role": "assistant", "content": flood}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5},
            });
            (200, Vec::new(), body.to_string())
        }
    }
}

/// A wiremock responder that follows a [`Schedule`]. Drops and cut-offs need the raw server.
#[derive(Clone)]
pub struct FaultResponder(pub Schedule);

impl Respond for FaultResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (index, fault, text) = self.0.admit(&request.body);
        assert!(
            !matches!(fault, Fault::Drop | Fault::CutOff),
            "wiremock cannot drop connections; use RawServer"
        );
        let (status, headers, body) = reply_parts(&fault, &text);
        self.0.mark_answered(index);
        let mut template =
            ResponseTemplate::new(status).set_body_raw(body.into_bytes(), "application/json");
        for (name, value) in headers {
            template = template.insert_header(name.as_str(), value.as_str());
        }
        if let Fault::Slow(delay) = fault {
            template = template.set_delay(delay);
        }
        template
    }
}

/// A wiremock server on loopback answering `/v1/chat/completions` from `schedule`.
pub async fn wiremock_server(schedule: &Schedule) -> wiremock::MockServer {
    super::mock_server(FaultResponder(schedule.clone())).await
}

/// A minimal HTTP/1.1 server on loopback that follows a [`Schedule`], including faults that need
/// control of the socket: closing without an answer, or promising more body than it sends.
/// Every answer says `Connection: close`, so no connection is reused and the client never
/// retries on its own.
pub struct RawServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    /// Start serving; `latency` is added before every answer.
    pub async fn start(schedule: &Schedule, latency: Duration) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let schedule = schedule.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let schedule = schedule.clone();
                tokio::spawn(async move {
                    let _ = serve_connection(socket, &schedule, latency).await;
                });
            }
        });
        RawServer { url, task }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_connection(
    mut socket: TcpStream,
    schedule: &Schedule,
    latency: Duration,
) -> std::io::Result<()> {
    let Some(body) = read_request(&mut socket).await? else {
        return Ok(());
    };
    let (index, fault, text) = schedule.admit(&body);
    tokio::time::sleep(latency).await;
    if let Fault::Slow(delay) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let (status, headers, answer) = reply_parts(&fault, &text);
    match fault {
        Fault::Drop => return socket.shutdown().await,
        Fault::CutOff => {
            let head = head(status, &headers, answer.len() + 100);
            let half = &answer.as_bytes()[..answer.len() / 2];
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(half).await?;
            socket.flush().await?;
            return socket.shutdown().await;
        }
        _ => {}
    }
    socket
        .write_all(head(status, &headers, answer.len()).as_bytes())
        .await?;
    socket.write_all(answer.as_bytes()).await?;
    socket.flush().await?;
    schedule.mark_answered(index);
    socket.shutdown().await
}

fn head(status: u16, headers: &[(String, String)], length: usize) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Read one request and return its body; `None` when the client went away first.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end + 4;
        }
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let headers = String::from_utf8_lossy(&buffer[..header_end]).to_lowercase();
    let length: usize = headers
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Ok(Some(buffer[header_end..header_end + length].to_vec()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// One `[backends.<name>]` table for an OpenAI-compatible mock.
pub struct BackendConfig<'a> {
    pub name: &'a str,
    pub base_url: &'a str,
    /// Extra `key = value` lines (attempts, timeouts...).
    pub extra: &'a str,
}

/// Write `tarjim.toml` in `dir`: the translate chain, a private cache, the given backends.
/// Summaries and the brief are extractive here: these tests are about the translate path, and
/// the fault mock answers every request as a translation (the brief has its own tests).
pub fn write_config(dir: &Path, translate: &[&str], backends: &[BackendConfig]) {
    let chain = translate
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut config = format!(
        "[stages]\ntranslate = [{chain}]\nsummarize = []\nbrief = []\nnames = []\n\n[cache]\npath = \"{}\"\n\n# The mock's EN(...) answers are flagged by the fidelity checks; these tests count\n# requests on the transport path, so flagged chunks are not asked again here.\n[fidelity]\nrepair = false\n",
        dir.join("cache.sqlite").display()
    );
    for backend in backends {
        config.push_str(&format!(
            "\n[backends.{name}]\nkind = \"openai\"\nbase_url = \"{url}/v1\"\nmodel = \"mock-model\"\napi_key_env = \"{TEST_KEY_ENV}\"\n{extra}\n",
            name = backend.name,
            url = backend.base_url,
            extra = backend.extra,
        ));
    }
    std::fs::write(dir.join("tarjim.toml"), config).expect("write config");
}

/// Configure one OpenAI-compatible backend `mock` at `base_url` for the translate stage, with
/// `extra` lines in its table.
pub fn write_mock_config(dir: &Path, base_url: &str, extra: &str) {
    write_config(
        dir,
        &["mock"],
        &[BackendConfig {
            name: "mock",
            base_url,
            extra,
        }],
    );
}

/// `tarjim <args>` in `dir` with the planted key and no inherited `TARJIM_*` settings.
pub fn tarjim_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tarjim"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TARJIM_") {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .current_dir(dir)
        .env(TEST_KEY_ENV, PLANTED_KEY)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Wait for `condition`, at most [`RUN_TIMEOUT`]: a run that never gets there fails the test
/// instead of hanging it.
pub fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + RUN_TIMEOUT;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "waited {RUN_TIMEOUT:?} for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Run `tarjim <args>` in `dir`; a run longer than [`RUN_TIMEOUT`] is killed and fails the test.
pub fn run_tarjim(dir: &Path, args: &[&str]) -> Output {
    let child = tarjim_command(dir, args).spawn().expect("start tarjim");
    wait_with_timeout(child, RUN_TIMEOUT, args)
}

/// stderr as text, after checking that nothing panicked.
pub fn checked_stderr(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!text.contains("panicked"), "tarjim panicked:\n{text}");
    text
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every article's Markdown page and `translation` array, by file stem.
pub fn article_outputs(out: &Path) -> BTreeMap<String, (Option<Vec<u8>>, Value)> {
    let folder = out.join("articles");
    let mut outputs = BTreeMap::new();
    for entry in std::fs::read_dir(&folder).expect("articles folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".json") else {
            continue;
        };
        let page = std::fs::read(folder.join(format!("{id}.en.md"))).ok();
        let record = read_json(&path);
        outputs.insert(id.to_string(), (page, record["translation"].clone()));
    }
    outputs
}

/// Assert `out` holds the same articles, byte for byte, as the clean run in `clean_out`.
pub fn assert_same_outputs(clean_out: &Path, out: &Path) {
    let clean = article_outputs(clean_out);
    let other = article_outputs(out);
    assert_eq!(
        clean.keys().collect::<Vec<_>>(),
        other.keys().collect::<Vec<_>>(),
        "same articles"
    );
    for (id, (page, translation)) in &clean {
        let (other_page, other_translation) = &other[id];
        assert!(page.is_some(), "{id}: the clean run has a page");
        assert_eq!(page, other_page, "{id}.en.md differs from the clean run");
        assert_eq!(
            translation, other_translation,
            "{id}: translation differs from the clean run"
        );
    }
}

/// Assert run.json in `out` reports a complete run with no failures and every article ok.
pub fn assert_nothing_lost(out: &Path) -> Value {
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["ending"], "complete", "{run:#}");
    assert_eq!(run["failures"], json!([]), "{:#}", run["failures"]);
    assert_eq!(run["articles"]["failed"], 0);
    assert_eq!(run["articles"]["succeeded"], run["articles"]["total"]);
    assert_eq!(run["chunks"]["failed"], 0);
    for (id, _) in article_outputs(out) {
        let record = read_json(&out.join("articles").join(format!("{id}.json")));
        assert_eq!(record["status"], "ok", "{id}");
    }
    run
}

/// The five sample articles, as a command-line argument.
pub fn samples_arg() -> String {
    super::samples().display().to_string()
}

/// Every file under `root`, recursively.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A small deterministic random number generator (xorshift64*) for kill points and plans.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[low, high)`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low).max(1)
    }
}

/// Write `bytes` to `path`, creating folders.
pub fn write_file(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("folder");
    }
    let mut file = std::fs::File::create(path).expect("create");
    file.write_all(bytes).expect("write");
}
