//! Dedicated MT APIs (issue: past one machine): LibreTranslate, DeepL, Google Cloud Translation
//! v2 and Azure Translator v3, each against a loopback mock that checks the request as the API
//! documents it (path, query, where the key goes, body shape) and answers in the API's own
//! response shape, then with the API's documented errors. The binary runs the first sample with
//! `translate = [<api>]`: the answers go through the same cache, checks and outputs as an LLM's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::*;
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[derive(Clone, Copy, Debug)]
enum Api {
    LibreTranslate,
    DeepL,
    Google,
    Azure,
}

const APIS: [Api; 4] = [Api::LibreTranslate, Api::DeepL, Api::Google, Api::Azure];

impl Api {
    fn kind(self) -> &'static str {
        match self {
            Api::LibreTranslate => "libretranslate",
            Api::DeepL => "deepl",
            Api::Google => "google",
            Api::Azure => "azure",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Api::LibreTranslate => "/translate",
            Api::DeepL => "/v2/translate",
            Api::Google => "/language/translate/v2",
            Api::Azure => "/translate",
        }
    }

    /// The source text of a request, or why the request is not what the API documents.
    fn source(self, request: &Request) -> Result<String, String> {
        let body: Value = serde_json::from_slice(&request.body).map_err(|e| e.to_string())?;
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let (text, key) = match self {
            Api::LibreTranslate => {
                if body["source"] != "ar" || body["target"] != "en" {
                    return Err(format!("languages: {body}"));
                }
                (
                    body["q"].as_str(),
                    body["api_key"].as_str().map(String::from),
                )
            }
            Api::DeepL => (
                body.pointer("/text/0").and_then(Value::as_str),
                header("authorization")
                    .strip_prefix("DeepL-Auth-Key ")
                    .map(String::from),
            ),
            Api::Google => {
                if body["source"] != "ar" || body["target"] != "en" || body["format"] != "text" {
                    return Err(format!("fields: {body}"));
                }
                (
                    body.pointer("/q/0").and_then(Value::as_str),
                    Some(header("x-goog-api-key")),
                )
            }
            Api::Azure => {
                let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
                for pair in [("api-version", "3.0"), ("from", "ar"), ("to", "en")] {
                    if !query.contains(&(pair.0.to_string(), pair.1.to_string())) {
                        return Err(format!("query lacks {pair:?}: {query:?}"));
                    }
                }
                (
                    body.pointer("/0/Text").and_then(Value::as_str),
                    Some(header("ocp-apim-subscription-key")),
                )
            }
        };
        if key.as_deref() != Some(PLANTED_KEY) {
            return Err(format!("key not where {self:?} documents it"));
        }
        text.map(String::from)
            .ok_or_else(|| format!("no text: {body}"))
    }

    /// The API's success answer for `translation`.
    fn answer(self, translation: &str) -> Value {
        match self {
            Api::LibreTranslate => json!({"translatedText": translation}),
            Api::DeepL => {
                json!({"translations": [{"detected_source_language": "AR", "text": translation}]})
            }
            Api::Google => json!({"data": {"translations": [{"translatedText": translation}]}}),
            Api::Azure => json!([{"translations": [{"text": translation, "to": "en"}]}]),
        }
    }
}

/// Answers as `api` does: `EN(<source>)` in the API's shape, or HTTP 400 with what was wrong;
/// the first `faults` requests get `fault` instead.
#[derive(Clone)]
struct MtMock {
    api: Api,
    requests: Arc<AtomicUsize>,
    fault: Option<(u16, String, u32)>,
}

impl MtMock {
    fn new(api: Api) -> MtMock {
        MtMock {
            api,
            requests: Arc::default(),
            fault: None,
        }
    }

    /// The first `times` requests answered with `status` and `body`.
    fn failing(api: Api, status: u16, body: &str, times: u32) -> MtMock {
        MtMock {
            fault: Some((status, body.to_string(), times)),
            ..MtMock::new(api)
        }
    }
}

impl Respond for MtMock {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let seen = self.requests.fetch_add(1, Ordering::SeqCst) as u32;
        if let Some((status, body, times)) = &self.fault {
            if seen < *times {
                return ResponseTemplate::new(*status)
                    .set_body_raw(body.clone(), "application/json");
            }
        }
        match self.api.source(request) {
            Ok(text) => {
                ResponseTemplate::new(200).set_body_json(self.api.answer(&mock_translation(&text)))
            }
            Err(why) => ResponseTemplate::new(400).set_body_string(why),
        }
    }
}

async fn server(mock: MtMock) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path(mock.api.path()))
        .respond_with(mock)
        .mount(&server)
        .await;
    server
}

/// A workspace translating with `api` at `base_url`; extractive summaries and brief, so every
/// request is the API's.
fn workspace(api: Api, base_url: &str) -> Workspace {
    let workspace = Workspace::new(base_url);
    workspace.edit_config(&[
        ("kind = \"openai\"", &format!("kind = \"{}\"", api.kind())),
        (&format!("{base_url}/v1"), base_url),
    ]);
    workspace.set_stages("[]", "[]");
    workspace
}

/// The id of the one article the run wrote.
fn article_id(workspace: &Workspace) -> String {
    let mut ids: Vec<String> = std::fs::read_dir(workspace.out().join("articles"))
        .expect("articles folder")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".en.md").map(String::from)
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids.remove(0)
}

fn one_sample() -> String {
    samples()
        .join("000_d24ed62e350e2f11.txt")
        .display()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_mt_api_translates_through_the_cache_and_the_checks() {
    for api in APIS {
        let mock = MtMock::new(api);
        let server = server(mock.clone()).await;
        let workspace = workspace(api, &server.uri());
        let output = workspace.tarjim(&["run", &one_sample(), "--out", "out", "--quiet"]);
        let first_stderr = stderr(&output);
        assert!(output.status.success(), "{api:?}: {first_stderr}");
        let run = workspace.read_json("run.json");
        let id = article_id(&workspace);
        let record = workspace.read_json(&format!("articles/{id}.json"));
        for chunk in record["chunks"].as_array().unwrap() {
            assert_eq!(
                chunk["translation"].as_str().unwrap(),
                mock_translation(chunk["text"].as_str().unwrap()),
                "{api:?}"
            );
            // The checks ran on the API's English as on an LLM's: EN(<Arabic>) leaves Arabic.
            let flags = chunk["flags"].to_string();
            assert!(flags.contains("leftover-arabic"), "{api:?}: {flags}");
        }
        let page = workspace.read_text(&format!("articles/{id}.en.md"));
        assert!(page.contains("EN("), "{api:?}: {page}");
        assert_eq!(run["stages"]["translate"][0]["kind"], api.kind(), "{run}");
        let asked = mock.requests.load(Ordering::SeqCst);
        assert!(asked > 0);

        // A rerun is free: every answer comes from the cache.
        let output = workspace.tarjim(&["run", &one_sample(), "--out", "out2", "--quiet"]);
        assert!(output.status.success(), "{api:?}: {}", stderr(&output));
        assert_eq!(mock.requests.load(Ordering::SeqCst), asked, "{api:?}");
        for text in [first_stderr, workspace.read_text("run.json")] {
            assert!(!text.contains(PLANTED_KEY), "{api:?}: the key leaked");
        }
    }
}

/// Each API's documented "not now" answer is waited out and retried; the run then succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_are_retried() {
    let cases = [
        (Api::DeepL, 429, r#"{"message":"Too many requests"}"#),
        (
            Api::Google,
            403,
            r#"{"error":{"code":403,"message":"User Rate Limit Exceeded","errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded"}]}}"#,
        ),
        (
            Api::Google,
            429,
            r#"{"error":{"code":429,"message":"Quota exceeded for quota metric 'v2 Default requests'","status":"RESOURCE_EXHAUSTED"}}"#,
        ),
        (
            Api::Azure,
            429,
            r#"{"error":{"code":429001,"message":"The server rejected the request because the client has exceeded request limits."}}"#,
        ),
    ];
    for (api, status, body) in cases {
        let mock = MtMock::failing(api, status, body, 1);
        let server = server(mock.clone()).await;
        let workspace = workspace(api, &server.uri());
        let output = workspace.tarjim(&["run", &one_sample(), "--out", "out", "--quiet"]);
        assert!(
            output.status.success(),
            "{api:?} {status}: {}",
            stderr(&output)
        );
        let run = workspace.read_json("run.json");
        assert!(
            run["attempts"].as_u64() > run["requests"].as_u64(),
            "{api:?} {status}: no retry in {run}"
        );
    }
}

/// A wrong key and a used-up quota are never retried: the run stops and says which, naming the
/// URL and (for the key) the variable to set, never the key itself.
#[tokio::test(flavor = "multi_thread")]
async fn auth_and_quota_errors_stop_the_run_and_say_why() {
    let cases = [
        (
            Api::DeepL,
            403,
            r#"{"message":"Wrong auth key"}"#,
            "refused",
        ),
        (Api::DeepL, 456, r#"{"message":"Quota exceeded"}"#, "quota"),
        (
            Api::Google,
            400,
            r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","errors":[{"domain":"global","reason":"badRequest"}],"status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#,
            "refused",
        ),
        (
            Api::Google,
            403,
            r#"{"error":{"code":403,"message":"Daily Limit Exceeded","errors":[{"domain":"usageLimits","reason":"dailyLimitExceeded"}]}}"#,
            "quota",
        ),
        (
            Api::Azure,
            401,
            r#"{"error":{"code":401000,"message":"The request is not authorized because credentials are missing or invalid."}}"#,
            "refused",
        ),
        (
            Api::Azure,
            403,
            r#"{"error":{"code":403001,"message":"The operation is not allowed because the subscription has exceeded its free quota."}}"#,
            "quota",
        ),
    ];
    for (api, status, body, says) in cases {
        let mock = MtMock::failing(api, status, body, u32::MAX);
        let server = server(mock.clone()).await;
        let workspace = workspace(api, &server.uri());
        let output = workspace.tarjim(&["run", &one_sample(), "--out", "out", "--quiet"]);
        let stderr = stderr(&output);
        assert!(!output.status.success(), "{api:?} {status}: {stderr}");
        assert!(stderr.contains(says), "{api:?} {status}: {stderr}");
        assert!(stderr.contains(&server.uri()), "{api:?} {status}: {stderr}");
        if says == "refused" {
            assert!(stderr.contains(TEST_KEY_ENV), "{api:?} {status}: {stderr}");
        }
        assert!(!stderr.contains(PLANTED_KEY), "{api:?}: the key leaked");
        let run = workspace.read_json("run.json");
        assert_eq!(
            run["attempts"], run["requests"],
            "{api:?} {status}: retried"
        );
    }
}
