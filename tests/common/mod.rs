//! Shared test helpers: a mock OpenAI-compatible server on loopback and a runner for the real
//! `tarjim` binary in a temporary folder with its own cache and configuration.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }))
}

/// Answers every chat request with `EN(<source text>)` and counts what it saw.
#[derive(Clone, Default)]
pub struct MockTranslator {
    pub calls: Arc<AtomicUsize>,
}

impl Respond for MockTranslator {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        chat_answer(&mock_translation(&source_text(request)))
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

[cache]
path = "{cache}"

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

    /// `tarjim <args>` run in the workspace, with a planted API key.
    pub fn tarjim(&self, args: &[&str]) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tarjim"));
        for (key, _) in std::env::vars() {
            if key.starts_with("TARJIM_") {
                command.env_remove(key);
            }
        }
        command
            .args(args)
            .current_dir(self.path())
            .env(TEST_KEY_ENV, PLANTED_KEY)
            .env("NO_COLOR", "1")
            .output()
            .expect("run tarjim")
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
