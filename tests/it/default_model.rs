//! End-to-end checks of the embedded engine against the REAL default model.
//!
//! These tests need `~/.cache/tarjim/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf` (or
//! `$TARJIM_TEST_MODELS_DIR`); when it is missing they fail with a message saying to run
//! `tarjim model pull`, rather than passing silently, because CI fetches the model first and a
//! skipped engine test would hide a broken engine. One engine (one model load) is shared by all
//! tests in this file; it runs `parallel = 4` so the concurrency test really batches.

#![cfg(feature = "embedded")]

use std::sync::OnceLock;

use tarjim::backend::embedded::{EmbeddedBackend, EmbeddedSettings, MIN_EVALUATED};
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

/// The tests of this file take turns on the shared engine, so that what one keeps in its
/// sequences (prefix reuse) is not evicted by another's requests halfway through.
async fn take_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

async fn complete(req: &Request) -> Completion {
    match backend().complete(req).await {
        Ok(c) => c,
        Err(err) => panic!("completion failed: {err}"),
    }
}

#[tokio::test]
async fn translates_arabic_sentence() {
    let _turn = take_turn().await;
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
    let _turn = take_turn().await;
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
    let texts = |answers: &[Completion]| -> Vec<String> {
        answers.iter().map(|a| a.text.clone()).collect()
    };
    assert_eq!(
        texts(&solo),
        texts(&batched),
        "batched decoding changed greedy output"
    );
}

/// Prefix reuse must not change answers: the same prompts (the translate stage's system prompt
/// and three sample paragraphs of 150 to 260 characters, short enough to keep the test quick),
/// evaluated cold by an engine that keeps nothing, and by an engine that reuses the kept system
/// prompt and, for a repeated request, all of the prompt but its last token, alone and batched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_prefixes_give_the_answers_of_a_cold_evaluation() {
    let _turn = take_turn().await;
    let system = include_str!("../../prompts/translate.system.md");
    let sample =
        std::fs::read_to_string(crate::support::samples().join("002_fa4c1d13aaf5ba4d.txt"))
            .expect("sample");
    let requests: Vec<Request> = sample
        .lines()
        .filter(|paragraph| (150..=260).contains(&paragraph.chars().count()))
        .take(3)
        .map(|text| Request {
            system: system.to_string(),
            ..request(text)
        })
        .collect();
    assert_eq!(requests.len(), 3);
    let cold_engine = EmbeddedBackend::start(&EmbeddedSettings {
        parallel: 1,
        prefix_cache: false,
        ..settings()
    })
    .unwrap_or_else(|err| panic!("cannot start the cold engine: {err}"));
    let mut cold = Vec::new();
    for req in &requests {
        let answer = cold_engine.complete(req).await.expect("cold completion");
        assert_eq!(answer.prompt_tokens_reused, 0, "{answer:?}");
        cold.push(answer);
    }
    drop(cold_engine);

    let reuse_engine = EmbeddedBackend::start(&EmbeddedSettings {
        prefix_cache: true,
        ..settings()
    })
    .unwrap_or_else(|err| panic!("cannot start the reusing engine: {err}"));
    let reuse = |req: &Request| {
        let engine = &reuse_engine;
        let req = req.clone();
        async move { engine.complete(&req).await.expect("completion with reuse") }
    };
    let mut alone = Vec::new();
    for req in &requests {
        alone.push(reuse(req).await);
    }
    let batched = futures::future::join_all(requests.iter().map(reuse)).await;
    let again = reuse(&requests[0]).await;
    for (i, ((c, a), b)) in cold.iter().zip(&alone).zip(&batched).enumerate() {
        eprintln!("{i}: cold={c:?}\n   alone={a:?}\n   batched={b:?}");
        assert_eq!(c.text, a.text, "prefix reuse changed the answer (alone)");
        assert_eq!(c.text, b.text, "prefix reuse changed the answer (batched)");
        assert_eq!(c.prompt_tokens, a.prompt_tokens);
    }
    // After the first, each request alone finds a sequence holding at least the system prompt.
    for a in &alone[1..] {
        assert!(
            a.prompt_tokens_reused >= 40,
            "system prompt not reused: {a:?}"
        );
    }
    eprintln!("again={again:?}");
    assert_eq!(again.text, cold[0].text);
    assert_eq!(
        again.prompt_tokens_reused as usize,
        again.prompt_tokens as usize - MIN_EVALUATED,
        "a repeated prompt evaluates only its last {MIN_EVALUATED} tokens"
    );
}

#[tokio::test]
async fn json_schema_constrains_output() {
    let _turn = take_turn().await;
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
    let _turn = take_turn().await;
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
