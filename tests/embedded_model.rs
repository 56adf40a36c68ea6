//! End-to-end checks of the embedded engine against the REAL default model.
//!
//! These tests need `~/.cache/tarjim/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf` (or
//! `$TARJIM_TEST_MODELS_DIR`); when it is missing they fail with a message saying to run
//! `tarjim model pull`, rather than passing silently, because CI fetches the model first and a
//! skipped engine test would hide a broken engine. One engine (one model load) is shared by all
//! tests in this file; it runs `parallel = 4` so the concurrency test really batches.

#![cfg(feature = "embedded")]

use std::sync::OnceLock;

use tarjim::backend::embedded::{EmbeddedBackend, EmbeddedSettings};
use tarjim::backend::{Completion, Request, Stage};

const SYSTEM: &str = "Translate the Arabic text to English. Reply with the translation only.";

fn settings() -> EmbeddedSettings {
    EmbeddedSettings {
        models_dir: std::env::var("TARJIM_TEST_MODELS_DIR").unwrap_or_default(),
        context: 4096,
        parallel: 4,
        max_tokens: 256,
        ..EmbeddedSettings::default()
    }
}

fn backend() -> &'static EmbeddedBackend {
    static BACKEND: OnceLock<EmbeddedBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        let settings = settings();
        let location = settings.location();
        if let Err(err) = tarjim::model::check_quick(&location) {
            panic!("the embedded-model tests need the default model: {err}");
        }
        match EmbeddedBackend::start(&settings) {
            Ok(backend) => backend,
            Err(err) => panic!("cannot start the embedded engine: {err}"),
        }
    })
}

fn request(user: &str) -> Request {
    Request {
        stage: Stage::Translate,
        input: user.to_string(),
        system: SYSTEM.to_string(),
        user: user.to_string(),
        json_schema: None,
    }
}

async fn complete(req: &Request) -> Completion {
    match backend().complete(req).await {
        Ok(c) => c,
        Err(err) => panic!("completion failed: {err}"),
    }
}

#[tokio::test]
async fn translates_arabic_sentence() {
    let answer = complete(&request("أعلنت أذربيجان وأرمينيا وقف إطلاق النار.")).await;
    eprintln!("{answer:?}");
    assert!(answer.text.contains("Azerbaijan"), "{answer:?}");
    assert!(answer.text.contains("Armenia"), "{answer:?}");
    assert!(
        answer.prompt_tokens > 0 && answer.completion_tokens > 0,
        "{answer:?}"
    );
    assert!(backend()
        .identity()
        .starts_with("llama.cpp:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf:sha256:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_answers_equal_solo_answers() {
    let inputs = [
        "قال الرئيس إن الاقتصاد ينمو بسرعة.",
        "هطلت أمطار غزيرة على القاهرة يوم الثلاثاء.",
        "افتتحت الحكومة مستشفى جديدا في عمان.",
        "فاز المنتخب المغربي بالمباراة أمس.",
    ];
    let requests: Vec<Request> = inputs.iter().map(|s| request(s)).collect();
    let mut solo = Vec::new();
    for req in &requests {
        solo.push(complete(req).await);
    }
    let batched = futures::future::join_all(requests.iter().map(complete)).await;
    for (i, (a, b)) in solo.iter().zip(&batched).enumerate() {
        eprintln!("{i}: solo={:?}\n   batched={:?}", a.text, b.text);
    }
    assert_eq!(solo, batched, "batched decoding changed greedy output");
}

#[tokio::test]
async fn json_schema_constrains_output() {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "translation": {"type": "string"},
            "countries": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["translation", "countries"],
    });
    let mut req = request(
        "Translate to English and list the countries named, as JSON with keys `translation` \
         and `countries`:\n\nأعلنت أذربيجان وأرمينيا وقف إطلاق النار.",
    );
    req.json_schema = Some(schema);
    let answer = complete(&req).await;
    eprintln!("{answer:?}");
    let value: serde_json::Value = match serde_json::from_str(&answer.text) {
        Ok(v) => v,
        Err(err) => panic!("not JSON ({err}): {:?}", answer.text),
    };
    assert!(value["translation"].is_string(), "{value}");
    assert!(value["countries"].is_array(), "{value}");
}

#[tokio::test]
async fn oversized_prompt_is_a_context_error() {
    let long = "كلمة ".repeat(3000);
    let err = backend().complete(&request(&long)).await.err();
    assert!(
        matches!(
            err,
            Some(tarjim::backend::BackendError::ContextLength { .. })
        ),
        "{err:?}"
    );
}
