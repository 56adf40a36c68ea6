//! Real servers differ in what they accept (issue: past one machine). A mock answers as
//! llama-cpp-python does to a `json_schema` response format (HTTP 500 naming it), as a server
//! with no `response_format` does, and as OpenAI does to a parameter its newer models refuse;
//! the bodies are in `tests/fixtures/servers/`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::*;
use serde_json::Value;
use wiremock::{Request, Respond, ResponseTemplate};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/servers/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A server that refuses some `response_format` types with a fixture body and otherwise
/// answers as the scripted model does; it keeps every request body.
#[derive(Clone)]
struct Picky {
    refuse: Vec<&'static str>,
    status: u16,
    body: String,
    inner: ScriptedLlm,
    refused: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Picky {
    fn new(refuse: &[&'static str], status: u16, fixture_name: &str) -> Picky {
        Picky {
            refuse: refuse.to_vec(),
            status,
            body: fixture(fixture_name),
            inner: ScriptedLlm::new(BriefMode::Valid),
            refused: Arc::default(),
            bodies: Arc::default(),
        }
    }

    fn formats(&self) -> Vec<String> {
        let bodies = self.bodies.lock().unwrap();
        bodies
            .iter()
            .map(|body| {
                body.pointer("/response_format/type")
                    .and_then(Value::as_str)
                    .unwrap_or("none")
                    .to_string()
            })
            .collect()
    }
}

impl Respond for Picky {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let format = body
            .pointer("/response_format/type")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.bodies.lock().unwrap().push(body);
        if format.is_some_and(|format| self.refuse.contains(&format.as_str())) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return ResponseTemplate::new(self.status)
                .set_body_raw(self.body.clone(), "application/json");
        }
        self.inner.respond(request)
    }
}

fn one_article(workspace: &Workspace) -> String {
    let path = workspace.path().join("article.txt");
    std::fs::write(
        &path,
        "أذربيجان تعلن عملية في قره باغ\nأعلنت وزارة الدفاع الأذربيجانية بدء عملية عسكرية في إقليم قره باغ.\n\nوقالت الوزارة إن العملية تستهدف مواقع عسكرية فقط.\n",
    )
    .unwrap();
    path.display().to_string()
}

/// llama-cpp-python refuses `json_schema` with HTTP 500: tarjim steps down to `json_object`
/// with the schema once, remembers it for the run, says so in run.json, and the summary and
/// brief are written by the model, not extractively.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_refuses_json_schema_is_asked_for_a_json_object() {
    let server_model = Picky::new(&["json_schema"], 500, "llama-cpp-python-json-schema.json");
    let server = mock_server(server_model.clone()).await;
    let workspace = Workspace::new(&server.uri());
    let article = one_article(&workspace);
    let output = workspace.tarjim(&["run", &article, "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    assert_eq!(
        server_model.refused.load(Ordering::SeqCst),
        1,
        "{:?}",
        server_model.formats()
    );
    let formats = server_model.formats();
    assert!(formats.contains(&"json_object".to_string()), "{formats:?}");
    let bodies = server_model.bodies.lock().unwrap().clone();
    let object = bodies
        .iter()
        .find(|b| b.pointer("/response_format/type") == Some(&Value::from("json_object")))
        .unwrap();
    assert!(
        object
            .pointer("/response_format/schema/properties")
            .is_some(),
        "{object}"
    );
    let run = workspace.read_json("run.json");
    assert_eq!(
        run["stages"]["summarize"][0]["structured"], "json_object",
        "{:#}",
        run["stages"]
    );
    assert_eq!(run["summaries"]["failed"], 0, "{:#}", run["summaries"]);
    let brief = workspace.read_json("brief.json");
    assert_ne!(
        brief["stories"][0]["method"], "extractive",
        "{:#}",
        brief["stories"][0]
    );
}

/// A server that takes no `response_format` at all: after `json_object` is refused too, the
/// schema goes in the prompt and no `response_format` is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_response_format_gets_the_schema_in_the_prompt() {
    let server_model = Picky::new(
        &["json_schema", "json_object"],
        400,
        "no-response-format.json",
    );
    let server = mock_server(server_model.clone()).await;
    let workspace = Workspace::new(&server.uri());
    let article = one_article(&workspace);
    let output = workspace.tarjim(&["run", &article, "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        server_model.refused.load(Ordering::SeqCst),
        2,
        "{:?}",
        server_model.formats()
    );
    let bodies = server_model.bodies.lock().unwrap().clone();
    let prompted = bodies
        .iter()
        .filter(|b| b.get("response_format").is_none())
        .filter_map(|b| b.pointer("/messages/0/content").and_then(Value::as_str))
        .any(|system| system.contains("follows this JSON schema"));
    assert!(prompted);
    let run = workspace.read_json("run.json");
    assert_eq!(run["stages"]["summarize"][0]["structured"], "prompt");
    assert_eq!(run["summaries"]["failed"], 0, "{:#}", run["summaries"]);
}

/// A model that refuses `max_tokens` (or its temperature) fails the request at once, with
/// what to change, instead of retrying it; `max_tokens_field` sends the name it wants.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_parameter_is_a_setting_to_change_not_a_retry() {
    for (fixture_name, hint) in [
        (
            "openai-max-tokens.json",
            "max_tokens_field = \"max_completion_tokens\"",
        ),
        ("openai-temperature.json", "temperature = 1"),
    ] {
        let (text, run, requests) = translate_against_400(fixture_name).await;
        assert!(text.contains(hint), "{fixture_name}: {text}");
        let translate = &run["stages"]["translate"][0];
        assert_eq!(
            translate["attempts"], translate["requests"],
            "{translate:#}"
        );
        assert_eq!(
            requests.load(Ordering::SeqCst) as u64,
            translate["requests"].as_u64().unwrap()
        );
    }

    let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = bodies.clone();
    let server = mock_server(move |request: &Request| {
        seen.lock()
            .unwrap()
            .push(serde_json::from_slice(&request.body).unwrap());
        chat_answer(&mock_translation(&source_text(request)))
    })
    .await;
    let workspace = Workspace::new(&server.uri());
    workspace.set_stages("[]", "[]");
    workspace.edit_config(&[(
        "[backends.mock]",
        "[backends.mock]\nmax_tokens_field = \"max_completion_tokens\"",
    )]);
    let article = one_article(&workspace);
    let output = workspace.tarjim(&["run", &article, "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bodies = bodies.lock().unwrap();
    assert!(!bodies.is_empty());
    for body in bodies.iter() {
        assert!(body.get("max_tokens").is_none(), "{body}");
        assert!(body["max_completion_tokens"].as_u64().is_some(), "{body}");
    }
}

/// A run against a real llama.cpp server (`llama-server` built from llama.cpp's own sources,
/// the default GGUF, `-c 8192 -np 2`, the brief `composed`), recorded through a proxy: every
/// request tarjim sent and the server's answer, in
/// `tests/fixtures/servers/llama-server-session.jsonl`. Replayed, the same run asks exactly
/// those requests, reads the server's answers (with the fields it adds, `timings` and the
/// rest), keeps `json_schema` for the structured stages, and has the model write the summary
/// and the story, as the real run did.
#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_llama_server_run_replays_request_for_request() {
    let recorded: Vec<Value> = fixture("llama-server-session.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|pair: &Value| pair["path"] == "/v1/chat/completions")
        .collect();
    assert!(
        recorded.len() >= 3,
        "translate, summarize and brief answers"
    );
    let misses = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let (missed, asked) = (misses.clone(), answered.clone());
    let server = mock_server(move |request: &Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let same = |pair: &&Value| {
            pair["request"]["messages"] == body["messages"]
                && pair["request"]["response_format"] == body["response_format"]
        };
        match recorded.iter().find(same) {
            Some(pair) => {
                asked.fetch_add(1, Ordering::SeqCst);
                let status = pair["status"].as_u64().unwrap() as u16;
                ResponseTemplate::new(status).set_body_json(pair["response"].clone())
            }
            None => {
                missed.fetch_add(1, Ordering::SeqCst);
                ResponseTemplate::new(418).set_body_string("not in the recording")
            }
        }
    })
    .await;
    let workspace = Workspace::new(&server.uri());
    workspace.append_config("\n[brief]\nmode = \"composed\"\n");
    // The brief's prompt names each article's input as given: relative, as when recorded.
    one_article(&workspace);
    let output = workspace.tarjim(&["run", "article.txt", "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        misses.load(Ordering::SeqCst),
        0,
        "a request the real run did not send"
    );
    let run = workspace.read_json("run.json");
    assert_eq!(run["requests"], answered.load(Ordering::SeqCst) as u64);
    assert_eq!(run["stages"]["summarize"][0]["structured"], "json_schema");
    assert_eq!(run["summaries"]["failed"], 0, "{:#}", run["summaries"]);
    assert!(
        run["tokens_in"].as_u64().unwrap() > 0,
        "usage read from the answers"
    );
    let brief = workspace.read_json("brief.json");
    assert_eq!(
        brief["stories"][0]["method"], "composed",
        "{:#}",
        brief["stories"][0]
    );
}

/// llama.cpp's server answers a prompt longer than a slot's context with HTTP 400
/// `exceed_context_size_error` (the body recorded from a real one): that is the input being too
/// long for the model, said so, and not asked again.
#[tokio::test(flavor = "multi_thread")]
async fn llama_server_context_overflow_is_named_as_such() {
    let (text, run, _) = translate_against_400("llama-server-context-overflow.json").await;
    assert!(
        text.contains("input too long for the model's context"),
        "{text}"
    );
    let translate = &run["stages"]["translate"][0];
    assert_eq!(
        translate["attempts"], translate["requests"],
        "{translate:#}"
    );
}

/// A run of one article, translation only, against a server answering every request with HTTP
/// 400 and the fixture `name`: its stderr (it must exit 1), run.json, and the requests the
/// server saw.
async fn translate_against_400(name: &str) -> (String, Value, Arc<AtomicUsize>) {
    let body = fixture(name);
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let server = mock_server(move |_: &Request| {
        counter.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(400).set_body_raw(body.clone(), "application/json")
    })
    .await;
    let workspace = Workspace::new(&server.uri());
    workspace.set_stages("[]", "[]");
    let article = one_article(&workspace);
    let output = workspace.tarjim(&["run", &article, "--out", "out"]);
    assert_eq!(output.status.code(), Some(1), "{name}: {}", stderr(&output));
    (stderr(&output), workspace.read_json("run.json"), requests)
}
