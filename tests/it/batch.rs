//! Batch jobs (issue: past one machine): each stage's requests as one OpenAI batch job, on a
//! provider's files and batches endpoints or exported for another engine as JSONL, answers
//! folded back in; a stopped run resumes its job instead of submitting again, and a partial
//! result resubmits only what got no answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::*;
use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn samples_arg() -> String {
    samples().display().to_string()
}

/// An OpenAI-style batch API on loopback: `/files` uploads, `/batches` jobs that stay
/// `in_progress` until `finish` is set, outputs answered like [`MockTranslator`] would, except
/// for the `custom_id`s in `fail_once` (an error line the first time). Live chat requests are
/// counted and refused.
#[derive(Clone, Default)]
struct BatchApi {
    finish: Arc<AtomicBool>,
    live_calls: Arc<AtomicUsize>,
    /// Every job created: the lines of its input file.
    jobs: Arc<Mutex<Vec<Vec<Value>>>>,
    files: Arc<Mutex<HashMap<String, String>>>,
    uploads: Arc<AtomicUsize>,
    fail_once: Arc<Mutex<Vec<String>>>,
}

impl BatchApi {
    fn output(&self, lines: &[Value]) -> String {
        let mut fail_once = self.fail_once.lock().unwrap();
        let mut text = String::new();
        for line in lines {
            let id = line["custom_id"].as_str().unwrap().to_string();
            let answer = if let Some(at) = fail_once.iter().position(|failing| *failing == id) {
                fail_once.remove(at);
                json!({"custom_id": id, "response": {"status_code": 500, "body": {"error": "boom"}}})
            } else {
                json!({"custom_id": id, "error": null, "response": {"status_code": 200, "body": {
                    "choices": [{"message": {"content": mock_answer(&line["body"])},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5}}}})
            };
            text.push_str(&answer.to_string());
            text.push('\n');
        }
        text
    }
}

impl Respond for BatchApi {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_string();
        let method = request.method.as_str().to_string();
        match (method.as_str(), path.as_str()) {
            ("POST", "/v1/chat/completions") => {
                self.live_calls.fetch_add(1, Ordering::SeqCst);
                ResponseTemplate::new(500).set_body_string("batch tests send nothing live")
            }
            ("POST", "/v1/files") => {
                let number = self.uploads.fetch_add(1, Ordering::SeqCst);
                let body = String::from_utf8_lossy(&request.body).into_owned();
                assert!(body.contains("name=\"purpose\"") && body.contains("batch"));
                let jsonl: String = body
                    .lines()
                    .filter(|line| line.starts_with('{') && line.contains("\"custom_id\""))
                    .map(|line| format!("{line}\n"))
                    .collect();
                let id = format!("file-in-{number}");
                self.files.lock().unwrap().insert(id.clone(), jsonl);
                ResponseTemplate::new(200).set_body_json(json!({"id": id, "object": "file"}))
            }
            ("POST", "/v1/batches") => {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                assert_eq!(body["endpoint"], "/v1/chat/completions");
                let file = body["input_file_id"].as_str().unwrap();
                let text = self.files.lock().unwrap()[file].clone();
                let lines: Vec<Value> = text
                    .lines()
                    .map(|line| serde_json::from_str(line).unwrap())
                    .collect();
                let mut jobs = self.jobs.lock().unwrap();
                jobs.push(lines);
                let id = format!("batch-{}", jobs.len() - 1);
                ResponseTemplate::new(200).set_body_json(json!({"id": id, "status": "validating"}))
            }
            ("GET", path) if path.starts_with("/v1/batches/batch-") => {
                let number: usize = path.rsplit('-').next().unwrap().parse().unwrap();
                let id = format!("batch-{number}");
                if !self.finish.load(Ordering::SeqCst) {
                    return ResponseTemplate::new(200)
                        .set_body_json(json!({"id": id, "status": "in_progress"}));
                }
                let out = format!("file-out-{number}");
                if !self.files.lock().unwrap().contains_key(&out) {
                    let lines = self.jobs.lock().unwrap()[number].clone();
                    let text = self.output(&lines);
                    self.files.lock().unwrap().insert(out.clone(), text);
                }
                ResponseTemplate::new(200).set_body_json(json!({
                    "id": id, "status": "completed", "output_file_id": out,
                    "request_counts": {"total": 1}}))
            }
            ("GET", path) if path.starts_with("/v1/files/") && path.ends_with("/content") => {
                let id = path
                    .trim_start_matches("/v1/files/")
                    .trim_end_matches("/content");
                match self.files.lock().unwrap().get(id) {
                    Some(text) => ResponseTemplate::new(200).set_body_string(text.clone()),
                    None => ResponseTemplate::new(404),
                }
            }
            _ => ResponseTemplate::new(404).set_body_string(format!("no route {method} {path}")),
        }
    }
}

async fn batch_server(api: BatchApi) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(api)
        .mount(&server)
        .await;
    server
}

/// `tarjim run --batch` on the samples into `out`, polling every second, with `extra` flags.
fn batch_run(workspace: &Workspace, extra: &[&str]) -> std::process::Output {
    let samples = samples_arg();
    let mut args = vec!["run", "--batch", "--set", "run.batch_poll_s=1"];
    args.extend_from_slice(&[samples.as_str(), "--out", "out"]);
    args.extend_from_slice(extra);
    workspace.tarjim(&args)
}

fn stages_of(job: &[Value]) -> Vec<String> {
    let mut stages: Vec<String> = job.iter().map(|line| body_stage(&line["body"])).collect();
    stages.dedup();
    stages
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_jobs_go_stage_by_stage_and_a_stopped_run_resumes_its_job() {
    let api = BatchApi::default();
    let server = batch_server(api.clone()).await;
    let workspace = Workspace::new(&server.uri());
    workspace.set_stages("[\"mock\"]", "[]");
    workspace.append_config("[backends.mock.price]\ninput_per_million = 1000000.0\n");
    let run = |extra: &[&str]| batch_run(&workspace, extra);

    // The job never finishes before the deadline: the run stops, the job stays saved.
    let output = run(&["--deadline", "3s"]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("resume"), "{text}");
    assert_eq!(api.jobs.lock().unwrap().len(), 1, "{text}");
    let state = workspace.read_json("batch/state.json");
    assert_eq!(state[0]["batch_id"], "batch-0");
    let first_job = api.jobs.lock().unwrap()[0].clone();
    assert_eq!(
        stages_of(&first_job),
        ["translate"],
        "a batch holds one stage"
    );

    // Again, with the job done, and its answer to one request an error line.
    let failing = first_job[0]["custom_id"].as_str().unwrap().to_string();
    api.fail_once.lock().unwrap().push(failing.clone());
    api.finish.store(true, Ordering::SeqCst);
    let output = run(&[]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("resuming job batch-0"), "{text}");

    let jobs = api.jobs.lock().unwrap().clone();
    assert_eq!(
        jobs.len(),
        3,
        "translate, its one unanswered request, summaries: {text}"
    );
    assert_eq!(
        api.uploads.load(Ordering::SeqCst),
        3,
        "no second submission of the first job"
    );
    let resubmitted: Vec<&str> = jobs[1]
        .iter()
        .map(|line| line["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        resubmitted,
        [failing.as_str()],
        "only what got no answer goes again"
    );
    assert_eq!(stages_of(&jobs[2]), ["summarize"]);
    assert_eq!(jobs[2].len(), 5);
    assert_eq!(
        api.live_calls.load(Ordering::SeqCst),
        0,
        "nothing sent live"
    );

    let report = workspace.read_json("run.json");
    assert_eq!(report["ending"], "complete", "{report}");
    assert_eq!(report["articles"]["failed"], 0, "{report}");
    assert_eq!(report["summaries"]["failed"], 0, "{report}");
    let english: String = std::fs::read_dir(workspace.out().join("articles"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".en.md"))
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    let chunks = report["chunks"]["total"].as_u64().unwrap();
    assert!(
        english.matches("EN(").count() as u64 >= chunks,
        "the batch's English"
    );
    // Batch answers cost the batch price: half of 10 tokens at 1 per token.
    let taken = report["batch"]["answers_taken"].as_f64().unwrap();
    assert!(taken > 0.0, "{report}");
    assert_eq!(report["cost"].as_f64().unwrap(), taken * 5.0, "{report}");
    // Each pass counts what it took; run.json holds every pass's counts, not the last's.
    let requests = |stage: &str| report["stages"][stage][0]["requests"].as_u64().unwrap();
    assert_eq!(
        requests("translate"),
        first_job.len() as u64,
        "every translation taken, over two jobs: {report}"
    );
    assert_eq!(requests("summarize"), 5, "{report}");
    assert_eq!(report["requests"].as_f64().unwrap(), taken, "{report}");
    let stage_cost: f64 = ["translate", "summarize"]
        .iter()
        .map(|stage| report["stages"][stage][0]["cost"].as_f64().unwrap())
        .sum();
    assert_eq!(stage_cost, report["cost"].as_f64().unwrap(), "{report}");
}

/// A stage over `run.batch_max_requests` goes out as several jobs at once; a run stopped while
/// they run resumes every one of them, submitting none again.
#[tokio::test(flavor = "multi_thread")]
async fn a_stage_over_the_job_limit_goes_out_as_several_jobs_and_resumes_them_all() {
    let api = BatchApi::default();
    let server = batch_server(api.clone()).await;
    let workspace = Workspace::new(&server.uri());
    workspace.set_stages("[\"mock\"]", "[]");
    let run = |extra: &[&str]| {
        batch_run(
            &workspace,
            &[&["--set", "run.batch_max_requests=40"], extra].concat(),
        )
    };

    let output = run(&["--deadline", "3s"]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("as 3 jobs"), "{text}");
    let sizes: Vec<usize> = api.jobs.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(sizes, [40, 40, 9], "89 translate requests, 40 a job");
    let state = workspace.read_json("batch/state.json");
    let saved: Vec<&str> = (0..3)
        .map(|i| state[i]["batch_id"].as_str().unwrap())
        .collect();
    assert_eq!(saved, ["batch-0", "batch-1", "batch-2"], "{state}");

    api.finish.store(true, Ordering::SeqCst);
    let output = run(&[]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    for id in ["batch-0", "batch-1", "batch-2"] {
        assert!(text.contains(&format!("resuming job {id}")), "{text}");
    }
    assert_eq!(
        api.uploads.load(Ordering::SeqCst),
        4,
        "three translate jobs uploaded once each, then the summaries: {text}"
    );
    let report = workspace.read_json("run.json");
    let jobs: Vec<(&str, u64)> = report["batch"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| {
            let stage = job["stage"].as_str().unwrap();
            (stage, job["answered"].as_u64().unwrap())
        })
        .collect();
    let expected = [("translate", 40), ("translate", 40), ("translate", 9)];
    assert_eq!(jobs, [&expected[..], &[("summarize", 5)]].concat());
    assert_eq!(report["chunks"]["succeeded"], 89, "{report}");
    assert_eq!(api.live_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_jsonl_is_exported_for_another_engine_and_its_output_imported() {
    let translator = MockTranslator::default();
    let server = mock_server(translator.clone()).await;
    let workspace = Workspace::new(&server.uri());
    workspace.set_stages("[\"mock\"]", "[]");
    let samples = samples_arg();
    let export = workspace.path().join("jobs");

    let output = workspace.tarjim(&[
        "run",
        &samples,
        "--out",
        "out",
        "--batch-export",
        export.to_str().unwrap(),
    ]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("--batch-import"),
        "says what to do next: {text}"
    );
    assert_eq!(translator.calls.load(Ordering::SeqCst), 0, "nothing sent");
    let files: Vec<_> = std::fs::read_dir(&export)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("translate-"));
    let lines: Vec<Value> = std::fs::read_to_string(&files[0])
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let chunks = workspace.read_json("run.json")["chunks"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(
        lines.len() as u64,
        chunks,
        "every chunk once (titles go with them)"
    );
    for line in &lines {
        assert_eq!(line["method"], "POST");
        assert_eq!(line["url"], "/v1/chat/completions");
        assert_eq!(line["body"]["model"], "mock-model");
        assert_eq!(
            line["custom_id"].as_str().unwrap().len(),
            64,
            "the cache key"
        );
    }

    // The other engine's output, as vLLM's run-batch writes it.
    let answers: String = lines
        .iter()
        .map(|line| {
            json!({"id": "x", "custom_id": line["custom_id"], "error": null,
                   "response": {"status_code": 200, "request_id": "r", "body": {
                       "choices": [{"message": {"content": mock_answer(&line["body"])},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 10, "completion_tokens": 5}}}})
            .to_string()
                + "\n"
        })
        .collect();
    let answers_path = workspace.path().join("answers.jsonl");
    std::fs::write(&answers_path, answers).unwrap();

    // Folded in, the rest (summaries) sent live: no translation is asked for again.
    let output = workspace.tarjim(&[
        "run",
        &samples,
        "--out",
        "out",
        "--quiet",
        "--batch-import",
        answers_path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(translator.translations.load(Ordering::SeqCst), 0);
    assert_eq!(
        translator.calls.load(Ordering::SeqCst),
        5,
        "the five summaries"
    );
    let report = workspace.read_json("run.json");
    assert_eq!(report["ending"], "complete");
    assert_eq!(report["articles"]["failed"], 0, "{report}");
    assert_eq!(report["batch"]["answers_taken"].as_u64().unwrap(), chunks);
}
