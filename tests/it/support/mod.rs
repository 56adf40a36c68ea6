//! The one helper module of the integration tests: a mock OpenAI-compatible server on
//! loopback, a runner for the real `tarjim` binary in a temporary folder with its own cache and
//! configuration (always with a timeout and with no inherited `TARJIM_*` variables), scripted
//! model answers, and (in `schedule`) a deterministic fault schedule for the reliability tests.

#![allow(dead_code)]

mod schedule;

pub use schedule::*;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The folder of sample articles shipped with the project.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// The fenced source text of a chat request built from the translate template.
pub fn source_text(request: &Request) -> String {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let user = body
        .pointer("/messages/1/content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    fenced_text(user)
}

/// The text between `<source>\n` and `\n</source>` of a user prompt.
pub fn fenced_text(user: &str) -> String {
    let start = user
        .find("<source>\n")
        .map(|i| i + "<source>\n".len())
        .unwrap_or(0);
    let end = user[start..]
        .find("\n</source>")
        .map(|i| i + start)
        .unwrap_or(user.len());
    user[start..end].to_string()
}

/// What the mock "translates" `text` into: easy to find again in the outputs, in order.
pub fn mock_translation(text: &str) -> String {
    format!("EN({text})")
}

pub fn chat_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        // A server with prompt caching says how much of the prompt it reused.
        "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                  "prompt_tokens_details": {"cached_tokens": 4}},
    }))
}

/// Answers translate requests with `EN(<source text>)`, summarize and brief requests with valid
/// scripted JSON, and counts what it saw.
#[derive(Clone, Default)]
pub struct MockTranslator {
    pub calls: Arc<AtomicUsize>,
    /// Translate requests only.
    pub translations: Arc<AtomicUsize>,
}

impl Respond for MockTranslator {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match request_stage(request).as_str() {
            "summarize" => chat_answer(&scripted_summary(&source_text(request)).to_string()),
            "brief" => chat_answer(&scripted_brief(&source_text(request)).to_string()),
            _ => {
                self.translations.fetch_add(1, Ordering::SeqCst);
                chat_answer(&mock_translation(&source_text(request)))
            }
        }
    }
}

/// A mock server whose `/v1/chat/completions` is answered by `responder`.
pub async fn mock_server(responder: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(responder)
        .mount(&server)
        .await;
    server
}

/// Longest a run against a mock may take before the test calls it a hang.
pub const WORKSPACE_RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Wait for `child`, reading its output; kill it and panic after `timeout`.
pub fn wait_with_timeout(mut child: Child, timeout: Duration, what: &[&str]) -> Output {
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tarjim {what:?} hung: killed after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A temporary workspace: `tarjim.toml` pointing at `base_url`, a private cache, an `out/`.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

pub const TEST_KEY_ENV: &str = "TARJIM_TEST_API_KEY";

impl Workspace {
    pub fn new(base_url: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            r#"[stages]
translate = ["mock"]
summarize = ["mock"]
brief = ["mock"]
names = []

[cache]
path = "{cache}"

# The mock answers EN(<the Arabic>), which the fidelity checks flag (leftover Arabic); these
# tests count requests on the transport path, so flagged chunks are not asked again here.
# Repairs have their own tests (tests/fidelity.rs).
[fidelity]
repair = false

[backends.mock]
kind = "openai"
base_url = "{base_url}/v1"
model = "mock-model"
api_key_env = "{TEST_KEY_ENV}"
max_attempts = 2
backoff_base_ms = 10
backoff_cap_ms = 50
request_timeout_s = 5
"#,
            cache = dir.path().join("cache.sqlite").display(),
        );
        std::fs::write(dir.path().join("tarjim.toml"), config).expect("write config");
        Workspace { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// `tarjim <args>` run in the workspace, with a planted API key; a run longer than
    /// [`WORKSPACE_RUN_TIMEOUT`] is killed and fails the test.
    pub fn tarjim(&self, args: &[&str]) -> Output {
        self.tarjim_within(args, WORKSPACE_RUN_TIMEOUT)
    }

    /// [`Workspace::tarjim`] with its own time limit (runs on the real model take minutes).
    pub fn tarjim_within(&self, args: &[&str], timeout: Duration) -> Output {
        let child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tarjim");
        wait_with_timeout(child, timeout, args)
    }

    /// The command `tarjim <args>` in the workspace: a planted API key and no inherited
    /// `TARJIM_*` settings.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        tarjim_command(self.path(), args)
    }

    pub fn read_json(&self, relative: &str) -> Value {
        let text = std::fs::read_to_string(self.out().join(relative))
            .unwrap_or_else(|e| panic!("{relative}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }
}

/// A fake secret that must never show up in any output.
pub const PLANTED_KEY: &str = "sk-test-PLANTED-7f3a9c1e5b";

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The stage a chat request belongs to: the schema name when the request asks for JSON,
/// else the system prompt's wording.
pub fn request_stage(request: &Request) -> String {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    body_stage(&body)
}

/// [`request_stage`] of a chat request's JSON body.
pub fn body_stage(body: &Value) -> String {
    if let Some(name) = body
        .pointer("/response_format/json_schema/name")
        .and_then(Value::as_str)
    {
        return name.to_string();
    }
    let system = body
        .pointer("/messages/0/content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if system.contains("combined brief") {
        "brief".into()
    } else if system.contains("You summarize") {
        "summarize".into()
    } else {
        "translate".into()
    }
}

/// What [`MockTranslator`] answers to a chat request's JSON body (a batch job's line).
pub fn mock_answer(body: &Value) -> String {
    let user = body
        .pointer("/messages/1/content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let source = fenced_text(user);
    match body_stage(body).as_str() {
        "summarize" => scripted_summary(&source).to_string(),
        "brief" => scripted_brief(&source).to_string(),
        "brief-story" => scripted_story().to_string(),
        _ => mock_translation(&source),
    }
}

/// The whole user prompt of a chat request.
pub fn user_prompt(request: &Request) -> String {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    body.pointer("/messages/1/content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// How the scripted LLM answers brief requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BriefMode {
    Valid,
    /// The first brief request gets malformed JSON, later ones a valid answer.
    MalformedOnce,
    /// Every brief request gets malformed JSON (single and composed).
    AlwaysMalformed,
    /// Every single-request brief gets malformed JSON; composed stories are answered.
    SingleMalformed,
}

/// A mock LLM that translates like [`MockTranslator`], answers summarize requests with a valid
/// summary citing real paragraph numbers, and brief requests according to its [`BriefMode`]:
/// a valid brief that cites every article, plus one invented article (`ghost-123`) and one
/// invented paragraph (99 of the first article).
#[derive(Clone)]
pub struct ScriptedLlm {
    pub mode: BriefMode,
    pub brief_calls: Arc<AtomicUsize>,
    /// Composed-story requests (`brief-story`), answered by [`scripted_story`].
    pub story_calls: Arc<AtomicUsize>,
    pub summarize_calls: Arc<AtomicUsize>,
    pub brief_prompts: Arc<std::sync::Mutex<Vec<String>>>,
}

impl ScriptedLlm {
    pub fn new(mode: BriefMode) -> ScriptedLlm {
        ScriptedLlm {
            mode,
            brief_calls: Arc::default(),
            story_calls: Arc::default(),
            summarize_calls: Arc::default(),
            brief_prompts: Arc::default(),
        }
    }
}

/// Paragraph numbers `[n]` at the start of lines of a prompt's source text.
fn paragraph_numbers(text: &str) -> Vec<usize> {
    text.lines()
        .filter_map(|line| line.strip_prefix('['))
        .filter_map(|rest| rest.split(']').next())
        .filter_map(|number| number.parse().ok())
        .collect()
}

/// Article ids announced in a brief prompt (`Article <id> — ...`).
pub fn prompt_article_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("Article "))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_string)
        .collect()
}

pub const SCRIPTED_HEADLINE: &str = "Azerbaijan launches Karabakh offensive";

fn scripted_brief(source: &str) -> Value {
    let ids = prompt_article_ids(source);
    let first = ids.first().cloned().unwrap_or_default();
    let every: Vec<Value> = ids
        .iter()
        .map(|id| json!({"article": id, "paragraphs": [1]}))
        .collect();
    // Cite every copy of the first wire-copy paragraph the prompt marks: one source, not two.
    let mut wire_group = None;
    let mut wire_citations = Vec::new();
    let mut current_article = String::new();
    for line in source.lines() {
        if let Some(rest) = line.strip_prefix("Article ") {
            current_article = rest.split(' ').next().unwrap_or_default().to_string();
        }
        let Some(at) = line.find("(wire copy ") else {
            continue;
        };
        let group: String = line[at + "(wire copy ".len()..]
            .chars()
            .take_while(|c| *c != ':')
            .collect();
        if wire_group.get_or_insert_with(|| group.clone()) == &group {
            let number: usize = line
                .trim_start_matches('[')
                .split(']')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            wire_citations.push(json!({"article": current_article, "paragraphs": [number]}));
        }
    }
    json!({
        "headline": SCRIPTED_HEADLINE,
        "synthesis": "Azerbaijan began what it called a counter-terrorism operation in Karabakh.",
        "key_facts": [
            {"text": "Every outlet reports the operation.", "citations": every},
            {"text": "A fact with one real and two invented citations.", "citations": [
                {"article": first, "paragraphs": [1, 99]},
                {"article": "ghost-123", "paragraphs": [2]}
            ]},
            {"text": "A fact resting only on an invented article.", "citations": [
                {"article": "ghost-123", "paragraphs": [1]}
            ]},
            {"text": "Background carried as wire copy.", "citations": wire_citations}
        ],
        "agreements": [{"text": "The operation began on 19 September.", "citations": every}],
        "differences": [{"topic": "framing", "positions": [
            {"text": "\"counter-terrorism operation\"", "citations": [{"article": first, "paragraphs": [1]}]},
            {"text": "\"military offensive\"", "citations": [{"article": ids.last().cloned().unwrap_or_default(), "paragraphs": [1]}]}
        ]}],
        "entities": [{"name": "Ilham Aliyev", "kind": "person", "variants": ["Aliev"]}],
        "timeline": [{"date": "2023-09-19", "event": "Operation begins.", "citations": [{"article": first, "paragraphs": [1]}]}]
    })
}

pub const SCRIPTED_STORY_HEADLINE: &str = "Fighting in Karabakh, as five outlets report it";

/// A composed-story answer: key points 1 and 3 as key facts, 99 (which no prompt has), and a
/// synthesis with a number (6000) that no key point gives.
pub fn scripted_story() -> Value {
    json!({
        "headline": SCRIPTED_STORY_HEADLINE,
        "synthesis": "The outlets report fighting in Karabakh. One speaks of 6000 positions.",
        "key_facts": [1, 3, 99]
    })
}

fn scripted_summary(source: &str) -> Value {
    let numbers = paragraph_numbers(source);
    let last = numbers.last().copied().unwrap_or(1);
    let first = numbers.first().copied().unwrap_or(1);
    let excerpt: String = source.chars().take(120).collect();
    json!({
        "summary": format!("SUMMARY({excerpt})"),
        "key_points": [
            {"text": "The article makes its first point.", "paragraphs": [first]},
            {"text": "The article makes a second point.", "paragraphs": [first, last]},
            {"text": "The article makes its last point.", "paragraphs": [last]}
        ]
    })
}

impl Respond for ScriptedLlm {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let source = source_text(request);
        match request_stage(request).as_str() {
            "summarize" => {
                self.summarize_calls.fetch_add(1, Ordering::SeqCst);
                chat_answer(&scripted_summary(&source).to_string())
            }
            "brief" => {
                let call = self.brief_calls.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut prompts) = self.brief_prompts.lock() {
                    prompts.push(user_prompt(request));
                }
                let malformed = match self.mode {
                    BriefMode::Valid => false,
                    BriefMode::MalformedOnce => call == 0,
                    BriefMode::AlwaysMalformed | BriefMode::SingleMalformed => true,
                };
                if malformed {
                    chat_answer("{\"headline\": \"cut off")
                } else {
                    chat_answer(&scripted_brief(&source).to_string())
                }
            }
            "brief-story" => {
                self.story_calls.fetch_add(1, Ordering::SeqCst);
                if self.mode == BriefMode::AlwaysMalformed {
                    chat_answer("{\"headline\": \"cut off")
                } else {
                    chat_answer(&scripted_story().to_string())
                }
            }
            _ => chat_answer(&mock_translation(&source)),
        }
    }
}

impl Workspace {
    /// Rewrite the stage lists of the workspace configuration (e.g. `[]` for extractive).
    pub fn set_stages(&self, summarize: &str, brief: &str) {
        let path = self.path().join("tarjim.toml");
        let config = std::fs::read_to_string(&path).expect("read config");
        let config = config
            .replace(
                "summarize = [\"mock\"]",
                &format!("summarize = {summarize}"),
            )
            .replace("brief = [\"mock\"]", &format!("brief = {brief}"));
        std::fs::write(path, config).expect("write config");
    }

    /// Add `text` (TOML) at the end of `tarjim.toml`.
    pub fn append_config(&self, text: &str) {
        let path = self.path().join("tarjim.toml");
        let mut config = std::fs::read_to_string(&path).expect("read config");
        config.push_str(text);
        std::fs::write(path, config).expect("write config");
    }

    /// Rewrite `tarjim.toml` with each `(from, to)` replacement applied.
    pub fn edit_config(&self, replacements: &[(&str, &str)]) {
        let path = self.path().join("tarjim.toml");
        let mut config = std::fs::read_to_string(&path).expect("read config");
        for (from, to) in replacements {
            assert!(config.contains(from), "tarjim.toml has no `{from}`");
            config = config.replace(from, to);
        }
        std::fs::write(path, config).expect("write config");
    }

    pub fn read_text(&self, relative: &str) -> String {
        std::fs::read_to_string(self.out().join(relative))
            .unwrap_or_else(|e| panic!("{relative}: {e}"))
    }
}
