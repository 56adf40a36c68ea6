//! Bad inputs: the committed corpus in `tests/bad_inputs/` plus the ones generated here because
//! they are large or depend on the machine (a 50 MB file, a 5,000-word sentence, an unreadable
//! file, an empty folder, broken configuration files).
//!
//! Each must end in a clear error that names the file, on stderr and in run.json, or in a flag
//! on the article; never in a panic, a hang (every run has a hard timeout) or lost work: the good
//! articles of the same run are still translated and the exit code is 1.

use crate::support::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs")
}

const SENTENCE_WORDS: [&str; 10] = [
    "وقال",
    "المتحدث",
    "إن",
    "الحكومة",
    "ستواصل",
    "العمل",
    "على",
    "المشاريع",
    "في",
    "المنطقة",
];

/// Copy the corpus into `inputs/` and add the generated bad inputs and one good article.
fn build_inputs(root: &Path) -> PathBuf {
    let inputs = root.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, inputs.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        crate::support::samples().join("001_e51f061674820845.txt"),
        inputs.join("good.txt"),
    )
    .unwrap();
    let huge = std::fs::File::create(inputs.join("huge.txt")).unwrap();
    huge.set_len(50 * 1024 * 1024).unwrap();
    let words: Vec<&str> = (0..5000)
        .map(|index| SENTENCE_WORDS[index % SENTENCE_WORDS.len()])
        .collect();
    write_file(
        &inputs.join("long_sentence.txt"),
        format!("جملة طويلة\n\n{}\n", words.join(" ")).as_bytes(),
    );
    write_file(
        &inputs.join("unreadable.txt"),
        "خبر\n\nنص لا يمكن قراءته.\n".as_bytes(),
    );
    set_mode(&inputs.join("unreadable.txt"), 0o000);
    make_fifo(&inputs.join("feed.txt"));
    inputs
}

/// A named pipe with no writer: opening it for reading would wait forever.
fn make_fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Whether this process can read a file whatever its permissions (root, or CAP_DAC_OVERRIDE).
fn permissions_do_not_bite(path: &Path) -> bool {
    std::fs::read(path).is_ok()
}

/// The failures of run.json, by the file name their `article` field names.
fn failures_by_file(run: &Value) -> HashMap<String, Vec<String>> {
    problems_by_file(&run["failures"])
}

/// A run.json list of failures or warnings, by the file name their `article` field names.
fn problems_by_file(list: &Value) -> HashMap<String, Vec<String>> {
    let mut failures: HashMap<String, Vec<String>> = HashMap::new();
    for failure in list.as_array().unwrap() {
        let article = failure["article"].as_str().unwrap();
        let file = Path::new(article.split(':').next().unwrap())
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| article.to_string());
        failures
            .entry(file)
            .or_default()
            .push(failure["error"].as_str().unwrap().to_string());
    }
    failures
}

/// The article records in `out`, by the file name of their origin.
fn records_by_file(out: &Path) -> HashMap<String, Vec<Value>> {
    let mut records: HashMap<String, Vec<Value>> = HashMap::new();
    for id in article_outputs(out).keys() {
        let record = read_json(&out.join("articles").join(format!("{id}.json")));
        let origin = record["origin"].as_str().unwrap();
        let file = Path::new(origin.split(':').next().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        records.entry(file).or_default().push(record);
    }
    records
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_input_is_named_and_good_articles_still_translate() {
    let schedule = Schedule::clean();
    let server = wiremock_server(&schedule).await;
    let dir = tempfile::tempdir().unwrap();
    write_mock_config(
        dir.path(),
        &server.uri(),
        "max_attempts = 2\nbackoff_base_ms = 5\nbackoff_cap_ms = 20",
    );
    let inputs = build_inputs(dir.path());
    let root_reads_anything = permissions_do_not_bite(&inputs.join("unreadable.txt"));
    let output = run_tarjim(
        dir.path(),
        &["run", inputs.to_str().unwrap(), "--out", "out"],
    );
    set_mode(&inputs.join("unreadable.txt"), 0o644);
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let out = dir.path().join("out");
    let run = read_json(&out.join("run.json"));
    let failures = failures_by_file(&run);
    let records = records_by_file(&out);

    // Feed noise is a warning, not a failure (harm 8 of the hostile night): skipped, listed
    // and counted, and alone it would not make the night exit 1.
    let warnings = problems_by_file(&run["warnings"]);
    let noise = [
        ("empty.txt", "empty"),
        ("whitespace.txt", "empty"),
        ("duplicate_b.txt", "duplicate of duplicate_a"),
    ];
    for (file, words) in noise {
        assert!(
            warnings
                .get(file)
                .is_some_and(|messages| messages.iter().any(|m| m.contains(words))),
            "{file}: {:#}",
            run["warnings"]
        );
        assert!(!failures.contains_key(file), "{file} is not a failure");
    }
    assert_eq!(warnings.len(), noise.len(), "{:#}", run["warnings"]);
    assert_eq!(run["input_counts"]["skipped"], noise.len());
    let mut expected = vec![
        ("binary.txt", "binary"),
        (
            "invalid_utf8.txt",
            "not valid UTF-8: invalid byte at offset",
        ),
        ("huge.txt", "over the 20 MB limit"),
        ("no_text.json", "\"text\""),
        ("malformed.json", "JSON"),
        ("one_bad_line.jsonl", "JSON"),
        ("feed.txt", "not a regular file"),
    ];
    if !root_reads_anything {
        expected.push(("unreadable.txt", "permission denied"));
    }
    for (file, words) in &expected {
        let errors = failures
            .get(*file)
            .unwrap_or_else(|| panic!("no failure names {file}: {:#}", run["failures"]));
        assert!(
            errors
                .iter()
                .any(|error| error.to_lowercase().contains(&words.to_lowercase())),
            "{file}: {errors:?}"
        );
        assert!(stderr.contains(file), "stderr names {file}: {stderr}");
        if *file != "one_bad_line.jsonl" {
            assert!(!records.contains_key(*file), "{file} produced an article");
        }
    }
    assert_eq!(
        failures.len(),
        expected.len(),
        "only the bad inputs fail: {failures:#?}"
    );
    // The JSONL failure names the bad line, and the good lines around it are translated.
    assert!(run["failures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|failure| failure["article"]
            .as_str()
            .unwrap()
            .ends_with("one_bad_line.jsonl:3")));

    let mut good = vec![
        ("good.txt", 1),
        ("one_bad_line.jsonl", 3),
        ("duplicate_a.txt", 1),
        ("english_only.txt", 1),
        ("mixed.txt", 1),
        ("scripts.html", 1),
        ("long_sentence.txt", 1),
        ("angle_bracket.txt", 1),
        ("persian.txt", 1),
    ];
    // Running as root (as in many containers) the mode 000 file is readable anyway: then it
    // must simply be translated like any other article.
    if root_reads_anything {
        good.push(("unreadable.txt", 1));
    }
    for (file, count) in &good {
        let found = records.get(*file).map(Vec::len).unwrap_or(0);
        assert_eq!(found, *count, "{file}: articles translated");
        for record in &records[*file] {
            assert_eq!(record["status"], "ok", "{file}: {record:#}");
            assert!(!record["translation"].as_array().unwrap().is_empty());
        }
    }
    assert_eq!(
        run["articles"]["succeeded"].as_u64().unwrap() as usize,
        good.iter().map(|(_, count)| count).sum::<usize>()
    );

    // Hostile night, weak item: Persian input was not flagged.
    let persian = &records["persian.txt"][0];
    assert!(
        persian["flags"]
            .to_string()
            .contains("looks Persian or Urdu"),
        "{:#}",
        persian["flags"]
    );
    assert!(
        !records["good.txt"][0]["flags"]
            .to_string()
            .contains("Persian"),
        "an Arabic sample is not Persian"
    );
    let english = &records["english_only.txt"][0];
    assert!(
        english["flags"][0]
            .as_str()
            .unwrap_or_default()
            .contains("little Arabic text"),
        "{:#}",
        english["flags"]
    );
    assert_eq!(records["good.txt"][0]["flags"], serde_json::json!([]));

    let html = serde_json::to_string(&records["scripts.html"][0]["chunks"]).unwrap();
    assert!(
        !html.contains("SCRIPT_MARKER"),
        "script text leaked: {html}"
    );
    assert!(!html.contains("document"), "script text leaked: {html}");

    let long = &records["long_sentence.txt"][0];
    let chunks = long["chunks"].as_array().unwrap();
    assert!(chunks.len() > 1, "the sentence was split");
    let words: usize = chunks
        .iter()
        .map(|chunk| chunk["text"].as_str().unwrap().split_whitespace().count())
        .sum();
    assert_eq!(words, 5000, "no word lost in the split");
    for chunk in chunks {
        assert!(chunk["tokens"].as_u64().unwrap() <= 300, "{chunk:#}");
    }
}

#[test]
fn a_folder_without_articles_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_mock_config(dir.path(), "http://127.0.0.1:9", "");
    let empty = dir.path().join("nothing here");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.docx"), "not an article").unwrap();
    let output = run_tarjim(
        dir.path(),
        &["run", empty.to_str().unwrap(), "--out", "out"],
    );
    let stderr = checked_stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing here"), "{stderr}");
    assert!(stderr.contains("no articles"), "{stderr}");
    // The advice comes after the error, on its own line, once.
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("error: "), "{stderr}");
    let hints: Vec<&&str> = lines.iter().filter(|l| l.starts_with("hint: ")).collect();
    assert_eq!(hints.len(), 1, "{stderr}");
    assert!(hints[0].contains("article files end in"), "{stderr}");
    assert!(!stderr.contains("; hint:"), "{stderr}");
    assert!(
        !dir.path().join("out").exists(),
        "a run with no articles writes nothing"
    );
}

/// Harm 7 of the hostile night: a FIFO named on the command line, or matched by a glob, hung
/// the run forever.
#[test]
fn a_fifo_named_or_globbed_is_skipped_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    write_mock_config(dir.path(), "http://127.0.0.1:9", "");
    make_fifo(&dir.path().join("pipe"));
    make_fifo(&dir.path().join("pipe.txt"));
    for input in ["pipe", "pipe*.txt"] {
        let output = run_tarjim(dir.path(), &["run", input, "--out", "out"]);
        let stderr = checked_stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{input}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{input}: {stderr}");
    }
}

/// Regression: a wrong path, an empty folder, a glob that matches nothing or empty stdin used to
/// exit 1 and rewrite brief.* as "0 stories from 0 articles" beside last night's pages.
#[test]
fn an_empty_inbox_leaves_last_nights_brief_alone() {
    let dir = tempfile::tempdir().unwrap();
    write_mock_config(dir.path(), "http://127.0.0.1:9", "");
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("articles")).unwrap();
    for name in ["brief.md", "brief.json", "brief.html", "run.json"] {
        std::fs::write(out.join(name), format!("last night's {name}")).unwrap();
    }
    let empty = dir.path().join("inbox");
    std::fs::create_dir_all(&empty).unwrap();
    let cases: [&[&str]; 3] = [
        &["run", "inbox", "--out", "out"],
        &["run", "no-such-folder", "--out", "out"],
        &["run", "inbox/*.txt", "--out", "out"],
    ];
    for args in cases {
        let output = run_tarjim(dir.path(), args);
        let stderr = checked_stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("nothing was written"), "{stderr}");
        assert!(stderr.contains("left as they were"), "{stderr}");
        for name in ["brief.md", "brief.json", "brief.html", "run.json"] {
            assert_eq!(
                std::fs::read_to_string(out.join(name)).unwrap(),
                format!("last night's {name}"),
                "{args:?} replaced {name}"
            );
        }
    }
}

#[test]
fn broken_configuration_files_are_named_with_the_key() {
    let cases = [
        (
            "[backends.mock]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmax_attempts = \"five\"\n",
            // The backend tables are a tagged enum, which hides the field name from serde:
            // the message names the table and the bad value instead.
            "backends.mock",
        ),
        ("[chunk]\nmax_tokenz = 300\n", "max_tokenz"),
        ("[stages]\ntranslate = 7\n", "translate"),
        ("[chunk\nmax_tokens = 300\n", "tarjim.toml"),
        // Hostile night, harm 1 and weak items: nonsense values used to be accepted.
        (
            "[backends.mock]\nkind = \"openai\"\nbase_url = \"not a url\"\n",
            "backends.mock.base_url = \"not a url\" is not a URL",
        ),
        (
            "[backends.mock]\nkind = \"openai\"\nbase_url = \"ftp://127.0.0.1/v1\"\n",
            "must be an http:// or https:// URL",
        ),
        (
            "[backends.mock]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nconcurrency = 0\n",
            "backends.mock.concurrency = 0: it must be at least 1",
        ),
        (
            "[backends.mock]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nrequest_timeout_s = 0\n",
            "backends.mock.request_timeout_s = 0",
        ),
        ("[brief]\nstory_threshold = 2\n", "brief.story_threshold = 2"),
        ("[run]\ndeadline = \"soon\"\n", "run.deadline = \"soon\" is not a duration"),
        (
            "[stages]\ntranslate = [\"mock\"]\n[backends.mock]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\napi_key_env = \"TARJIM_TEST_UNSET_KEY\"\n",
            "backends.mock.api_key_env names the environment variable TARJIM_TEST_UNSET_KEY, which is not set",
        ),
    ];
    for (config, key) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tarjim.toml"), config).unwrap();
        let sample = crate::support::samples().join("000_d24ed62e350e2f11.txt");
        let output = run_tarjim(
            dir.path(),
            &["run", sample.to_str().unwrap(), "--out", "out"],
        );
        let stderr = checked_stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{config}: {stderr}");
        assert!(stderr.contains(key), "{config}: {stderr}");
        assert!(!dir.path().join("out/run.json").exists());
    }
}
