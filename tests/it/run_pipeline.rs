//! End-to-end: the real binary on the five sample articles against a mock OpenAI-compatible
//! server on loopback.

use crate::support::*;
use std::sync::atomic::Ordering;

use serde_json::Value;

fn samples_arg() -> String {
    samples().display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn samples_are_translated_cached_and_reported() {
    let translator = MockTranslator::default();
    let server = mock_server(translator.clone()).await;
    let workspace = Workspace::new(&server.uri());

    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let first_calls = translator.calls.load(Ordering::SeqCst);

    let run = workspace.read_json("run.json");
    assert_eq!(run["ending"], "complete");
    assert_eq!(run["articles"]["total"], 5);
    assert_eq!(run["articles"]["succeeded"], 5);
    assert_eq!(run["failures"].as_array().unwrap().len(), 0);
    assert_eq!(run["requests"].as_u64().unwrap() as usize, first_calls);
    // Samples 000 and 004 share three paragraphs word for word: each is requested once.
    assert_eq!(run["cache"]["hits"], 3);
    assert_eq!(
        run["cache"]["misses"].as_u64().unwrap() as usize,
        first_calls
    );
    assert_eq!(run["stages"]["translate"][0]["model"], "mock-model");
    assert_eq!(
        run["tokens_in"].as_u64().unwrap() as usize,
        10 * first_calls
    );
    // The server reported 4 of every 10 prompt tokens as cached: 6 evaluated, per stage too.
    assert_eq!(
        run["tokens_in_evaluated"].as_u64().unwrap() as usize,
        6 * first_calls
    );
    let translate = &run["stages"]["translate"][0];
    assert_eq!(
        translate["tokens_in_evaluated"].as_u64().unwrap(),
        6 * translate["requests"].as_u64().unwrap()
    );
    assert_eq!(
        translate["tokens_out"].as_u64().unwrap(),
        5 * translate["requests"].as_u64().unwrap()
    );

    let mut chunk_total = 0;
    let mut dropped_total = 0;
    let ids: Vec<String> = std::fs::read_dir(workspace.out().join("articles"))
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    for id in &ids {
        let record = workspace.read_json(&format!("articles/{id}.json"));
        assert_eq!(record["status"], "ok", "{id}");
        let paragraphs: Vec<&str> = record["cleaned"]["paragraphs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let translation: Vec<&str> = record["translation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(
            translation.len(),
            paragraphs.len(),
            "{id}: one English paragraph per source paragraph"
        );
        chunk_total += record["chunks"].as_array().unwrap().len();
        for chunk in record["chunks"].as_array().unwrap() {
            assert_eq!(
                chunk["translation"].as_str().unwrap(),
                mock_translation(chunk["text"].as_str().unwrap())
            );
            assert!(chunk["tokens"].as_u64().unwrap() > 0);
        }
        // The Markdown page holds every English paragraph, in source order.
        let page =
            std::fs::read_to_string(workspace.out().join(format!("articles/{id}.en.md"))).unwrap();
        let mut position = 0;
        for paragraph in &translation {
            let found = page[position..]
                .find(paragraph)
                .unwrap_or_else(|| panic!("{id}: paragraph missing or out of order"));
            position += found + paragraph.len();
        }
        // Every line cleaning left out is listed on the page with its reason.
        for dropped in record["cleaned"]["dropped"].as_array().unwrap() {
            dropped_total += 1;
            let line = format!(
                "- *{}*: {}",
                dropped["reason"].as_str().unwrap(),
                dropped["text"].as_str().unwrap()
            );
            assert!(page.contains(&line), "{id}: {line} not listed");
        }
    }
    // Samples 001 and 004 carry a caption repetition, a logo and a discussion link.
    assert!(dropped_total >= 3, "{dropped_total}");
    let counted: u64 = run["dropped_lines"]
        .as_object()
        .unwrap()
        .values()
        .map(|count| count.as_u64().unwrap())
        .sum();
    assert_eq!(counted as usize, dropped_total);
    assert_eq!(
        run["chunks"]["total"].as_u64().unwrap() as usize,
        chunk_total
    );
    assert_eq!(
        run["chunks"]["succeeded"].as_u64().unwrap() as usize,
        chunk_total
    );

    // A second run with the same inputs and configuration sends nothing.
    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out2", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(translator.calls.load(Ordering::SeqCst), first_calls);
    let rerun: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace.path().join("out2/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rerun["requests"], 0);
    assert_eq!(
        rerun["cache"]["hits"].as_u64().unwrap() as usize,
        first_calls + 3
    );
    for id in &ids {
        let name = format!("articles/{id}.en.md");
        assert_eq!(
            std::fs::read_to_string(workspace.out().join(&name)).unwrap(),
            std::fs::read_to_string(workspace.path().join("out2").join(&name)).unwrap(),
            "a cached rerun writes the same page"
        );
    }

    // Another model misses the cache.
    let output = workspace.tarjim(&[
        "run",
        &samples_arg(),
        "--out",
        "out3",
        "--quiet",
        "--model",
        "other-model",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(translator.calls.load(Ordering::SeqCst), 2 * first_calls);

    // So does an edited prompt template.
    let prompts = workspace.path().join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    std::fs::copy(
        original.join("translate.system.md"),
        prompts.join("translate.system.md"),
    )
    .unwrap();
    let user = std::fs::read_to_string(original.join("translate.user.md")).unwrap();
    std::fs::write(
        prompts.join("translate.user.md"),
        format!("Be terse.\n{user}"),
    )
    .unwrap();
    let translations_before = translator.translations.load(Ordering::SeqCst);
    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out4", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Every translation is requested again; summaries of unchanged translations are not.
    assert_eq!(
        translator.translations.load(Ordering::SeqCst) - translations_before,
        translations_before / 2
    );

    // The planted API key appears in no output and no cache.
    assert_no_planted_key(workspace.path());
}

use std::path::Path;

fn assert_no_planted_key(root: &Path) {
    for entry in walk(root) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(PLANTED_KEY),
            "API key leaked into {}",
            entry.display()
        );
    }
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_key_fails_clearly_and_names_the_endpoint() {
    let server = mock_server(wiremock::ResponseTemplate::new(401).set_body_string("bad key")).await;
    let workspace = Workspace::new(&server.uri());
    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr(&output);
    assert!(
        stderr.contains(&format!("{}/v1/chat/completions", server.uri())),
        "{stderr}"
    );
    assert!(stderr.contains(TEST_KEY_ENV), "{stderr}");
    assert!(!stderr.contains(PLANTED_KEY));
    // Not retried: one request per chunk and title, no more.
    let run = workspace.read_json("run.json");
    assert_eq!(run["attempts"], run["requests"]);
    assert_eq!(run["articles"]["failed"], 5);
    assert_no_planted_key(workspace.path());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let workspace = Workspace::new(&url);
    let sample = samples().join("000_d24ed62e350e2f11.txt");
    let output = workspace.tarjim(&["run", sample.to_str().unwrap(), "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr(&output);
    assert!(
        stderr.contains(&format!("cannot connect to {url}/v1/chat/completions")),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2_and_name_the_problem() {
    let workspace = Workspace::new("http://127.0.0.1:9");
    std::fs::write(
        workspace.path().join("bad.toml"),
        "[chunk]\nmax_tokenz = 3\n",
    )
    .unwrap();
    let output = workspace.tarjim(&["--config", "bad.toml", "config", "show"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("max_tokenz"),
        "{}",
        stderr(&output)
    );

    std::fs::write(
        workspace.path().join("wrong.toml"),
        "[chunk]\nmax_tokens = \"many\"\n",
    )
    .unwrap();
    let output = workspace.tarjim(&["--config", "wrong.toml", "config", "show"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("max_tokens"),
        "{}",
        stderr(&output)
    );

    // Nothing to read is a usage error that touches nothing (it used to exit 1 and write an
    // empty brief over the last one).
    let output = workspace.tarjim(&["run", "no-such-file.txt", "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no-such-file.txt"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_show_prints_layers_and_redacts() {
    let workspace = Workspace::new("http://user:secret@127.0.0.1:9");
    let output = workspace.tarjim(&["config", "show", "--set", "chunk.max_tokens=123"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("max_tokens = 123"), "{shown}");
    assert!(shown.contains("mock-model"), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
}

#[test]
fn environment_overrides_the_config_file_and_flags_override_the_environment() {
    let workspace = Workspace::new("http://127.0.0.1:9");
    let show = |env: &[(&str, &str)], args: &[&str]| {
        let mut arguments = vec!["config", "show"];
        arguments.extend_from_slice(args);
        let mut command = workspace.command(&arguments);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start tarjim");
        let output = wait_with_timeout(child, WORKSPACE_RUN_TIMEOUT, &arguments);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let from_env = show(&[("TARJIM_CHUNK__MAX_TOKENS", "111")], &[]);
    assert!(from_env.contains("max_tokens = 111"), "{from_env}");
    let from_flag = show(
        &[("TARJIM_CHUNK__MAX_TOKENS", "111")],
        &["--set", "chunk.max_tokens=222"],
    );
    assert!(from_flag.contains("max_tokens = 222"), "{from_flag}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cache_stats_and_clear_report_what_the_run_stored() {
    let translator = MockTranslator::default();
    let server = mock_server(translator.clone()).await;
    let workspace = Workspace::new(&server.uri());
    let sample = samples().join("003_2cfdabd13fab4b50.txt");
    let output = workspace.tarjim(&["run", sample.to_str().unwrap(), "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let calls = translator.calls.load(Ordering::SeqCst);
    let translations = translator.translations.load(Ordering::SeqCst);

    let stats = workspace.tarjim(&["cache", "stats"]);
    let text = String::from_utf8_lossy(&stats.stdout);
    assert!(text.contains(&format!("entries: {calls}")), "{text}");
    assert!(
        text.contains(&format!("translate: {translations}")),
        "{text}"
    );
    assert!(text.contains("summarize: 1"), "{text}");

    let cleared = workspace.tarjim(&["cache", "clear"]);
    assert!(String::from_utf8_lossy(&cleared.stdout).contains(&format!("removed {calls} entries")));
    let stats = workspace.tarjim(&["cache", "stats"]);
    assert!(String::from_utf8_lossy(&stats.stdout).contains("entries: 0"));

    // With the cache emptied, the same run asks again.
    let output = workspace.tarjim(&["run", sample.to_str().unwrap(), "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(translator.calls.load(Ordering::SeqCst), 2 * calls);
}

#[tokio::test(flavor = "multi_thread")]
async fn stdin_is_an_article() {
    let translator = MockTranslator::default();
    let server = mock_server(translator.clone()).await;
    let workspace = Workspace::new(&server.uri());
    let mut child = workspace
        .command(&["run", "-", "--out", "out", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all("أعلنت أذربيجان وقف العمليات.\n".as_bytes())
        .unwrap();
    let output = wait_with_timeout(child, WORKSPACE_RUN_TIMEOUT, &["run", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let run = workspace.read_json("run.json");
    assert_eq!(run["articles"]["succeeded"], 1);
    assert_eq!(translator.translations.load(Ordering::SeqCst), 1);
}

/// Regression: a title that failed to translate was dropped silently and the article counted
/// as done, with an Arabic heading on its English page.
#[tokio::test(flavor = "multi_thread")]
async fn a_title_that_fails_to_translate_fails_its_article() {
    struct FailTitle(MockTranslator);
    impl wiremock::Respond for FailTitle {
        fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
            if source_text(request).contains("سننهي عملية كاراباخ") {
                return wiremock::ResponseTemplate::new(422).set_body_string("unprocessable");
            }
            self.0.respond(request)
        }
    }
    let server = mock_server(FailTitle(MockTranslator::default())).await;
    let workspace = Workspace::new(&server.uri());
    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let run = workspace.read_json("run.json");
    assert_eq!(run["articles"]["failed"], 1);
    assert_eq!(run["articles"]["succeeded"], 4);
    let failure = &run["failures"][0];
    assert!(
        failure["article"].as_str().unwrap().starts_with("001_"),
        "{failure}"
    );
    assert!(
        failure["error"].as_str().unwrap().starts_with("title: "),
        "{failure}"
    );
}

/// Harm 8 of the hostile night: empty feed items and duplicates made every night exit 1, so cron
/// could not tell a real failure. Noise is now a warning with counts; `--strict` makes it fatal.
#[tokio::test(flavor = "multi_thread")]
async fn feed_noise_is_a_warning_unless_strict() {
    let translator = MockTranslator::default();
    let server = mock_server(translator.clone()).await;
    let workspace = Workspace::new(&server.uri());
    let inbox = workspace.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let sample = samples().join("000_d24ed62e350e2f11.txt");
    std::fs::copy(&sample, inbox.join("a.txt")).unwrap();
    std::fs::copy(&sample, inbox.join("a_again.txt")).unwrap();
    std::fs::write(inbox.join("empty.txt"), "").unwrap();
    let inbox = inbox.display().to_string();

    let output = workspace.tarjim(&["run", &inbox, "--out", "out"]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("inputs: 0 unreadable, 2 skipped as empty or duplicate"),
        "{text}"
    );
    assert!(text.contains("skipped (2):"), "{text}");
    let run = workspace.read_json("run.json");
    assert_eq!(run["failures"].as_array().unwrap().len(), 0);
    assert_eq!(run["warnings"].as_array().unwrap().len(), 2);
    assert_eq!(run["input_counts"]["articles"], 1);
    assert_eq!(run["articles"]["succeeded"], 1);

    let output = workspace.tarjim(&["run", &inbox, "--out", "out", "--strict"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

/// Hostile night, weak item: a corrupt cache could not be cleared with `tarjim cache clear`.
#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_cache_can_be_cleared() {
    let translator = MockTranslator::default();
    let server = mock_server(translator.clone()).await;
    let workspace = Workspace::new(&server.uri());
    let cache = workspace.path().join("cache.sqlite");
    std::fs::write(
        &cache,
        "this is not a database, and it is long enough to be read as a header",
    )
    .unwrap();
    let output = workspace.tarjim(&["cache", "stats"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cache.sqlite"),
        "{}",
        stderr(&output)
    );
    let output = workspace.tarjim(&["cache", "clear"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("removed it"));
    assert!(!cache.exists());
    let output = workspace.tarjim(&["cache", "stats"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// Hostile night: any single article has a ceiling on chunks, reported when it is hit.
#[tokio::test(flavor = "multi_thread")]
async fn an_article_over_the_chunk_ceiling_is_cut_and_flagged() {
    let translator = MockTranslator::default();
    let server = mock_server(translator.clone()).await;
    let workspace = Workspace::new(&server.uri());
    workspace.edit_config(&[("[cache]", "[chunk]\nmax_per_article = 3\n\n[cache]")]);
    let sample = samples().join("000_d24ed62e350e2f11.txt");
    let output = workspace.tarjim(&["run", sample.to_str().unwrap(), "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let run = workspace.read_json("run.json");
    assert_eq!(run["chunks"]["total"], 3);
    let id = std::fs::read_dir(workspace.out().join("articles"))
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().into_string().ok())
        .find_map(|name| name.strip_suffix(".json").map(str::to_string))
        .unwrap();
    let record = workspace.read_json(&format!("articles/{id}.json"));
    assert_eq!(record["chunks"].as_array().unwrap().len(), 3);
    let flags = record["flags"].to_string();
    assert!(flags.contains("too long: only the first 3 of"), "{flags}");
    assert_eq!(translator.translations.load(Ordering::SeqCst), 3);
}
