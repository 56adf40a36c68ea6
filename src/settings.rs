//! One typed [`Settings`], layered with the `config` crate.
//!
//! Precedence, lowest first: the built-in `config/default.toml` (compiled in) < `./tarjim.toml`
//! or `--config FILE` < `TARJIM_*` environment variables (`__` between nested keys) < command-line
//! overrides. Every struct denies unknown fields, so a typo is an error that names the key instead
//! of a setting silently ignored. Settings never hold secrets: HTTP backends name the environment
//! variable that holds their key, and the key is read only when a request is built.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::backend::BackendSettings;
use crate::fidelity::FidelitySettings;
use crate::normalize::NormalizeSettings;

/// The built-in defaults, also shipped as `config/default.toml` for reading.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Keys whose values are lists; on the command line and in the environment they are written
/// comma-separated (`--set stages.translate=vllm,openai`).
const LIST_KEYS: &[&str] = &[
    "stages.translate",
    "stages.summarize",
    "stages.brief",
    "stages.names",
    "normalize.boilerplate_lines",
    "normalize.boilerplate_prefixes",
];

/// File read from the working folder when `--config` is not given.
pub const LOCAL_CONFIG: &str = "tarjim.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub normalize: NormalizeSettings,
    pub chunk: ChunkSettings,
    pub cache: CacheSettings,
    pub prompts: PromptSettings,
    pub output: OutputSettings,
    pub run: RunSettings,
    pub stages: StageSettings,
    pub brief: BriefSettings,
    pub fidelity: FidelitySettings,
    pub backends: BTreeMap<String, BackendSettings>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkSettings {
    pub max_tokens: usize,
    pub encoding: String,
    /// Most chunks translated per article; the rest of a longer one is left untranslated and
    /// the article is flagged (a 10 MB "article" is a scraper accident, not a night's work).
    pub max_per_article: usize,
    /// Characters of the chunk before (its Arabic and its English, each) shown with a chunk, so
    /// names and terms carry across the boundary; 0: none. With context an article's chunks
    /// are translated in order, one after the other.
    #[serde(default)]
    pub context_chars: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptSettings {
    pub dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSettings {
    pub dir: String,
    /// Seconds between progress lines when stderr is not a terminal (cron, CI).
    pub progress_interval_s: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    /// Longest a run may send requests ("6h", "90m"); empty means no deadline. When it passes,
    /// the run stops sending, writes what it has and exits 1 (`ending: deadline-passed`).
    pub deadline: String,
    /// Longest one article may take, in seconds (0: no ceiling). Its chunks not done by then
    /// fail with a message saying so; what was done is cached, and a rerun continues.
    pub article_timeout_s: u64,
    /// Batch mode (`run --batch`): seconds between two looks at a submitted job.
    pub batch_poll_s: u64,
    /// Batch mode: the most requests in one job (OpenAI's batch API takes 50,000); a stage
    /// with more goes out as several jobs at once.
    pub batch_max_requests: usize,
}

impl RunSettings {
    /// The deadline as a duration, if one is set.
    pub fn deadline(&self) -> Result<Option<std::time::Duration>, String> {
        if self.deadline.trim().is_empty() {
            return Ok(None);
        }
        match humantime::parse_duration(self.deadline.trim()) {
            Ok(duration) if duration.is_zero() => {
                Err("run.deadline must be longer than 0".to_string())
            }
            Ok(duration) => Ok(Some(duration)),
            Err(error) => Err(format!(
                "run.deadline = \"{}\" is not a duration ({error}); hint: e.g. \"6h\" or \"90m\"",
                self.deadline
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSettings {
    /// Backend names for translation, first to last resort.
    pub translate: Vec<String>,
    /// Backends for per-article summaries; empty means the extractive summarizer.
    pub summarize: Vec<String>,
    /// Backends for the combined brief; empty means an extractive brief.
    pub brief: Vec<String>,
    /// Backends that list each article's names with their English spelling, before it is
    /// translated; empty (or only MT APIs) means no name extraction.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BriefSettings {
    /// Two stories merge while their articles' average similarity (TF-IDF over the Arabic
    /// title, lead and glossary names) reaches this.
    pub story_threshold: f64,
    /// The most articles in one story.
    pub max_story_articles: usize,
    /// Articles published more than this many days apart are never one story.
    pub window_days: i64,
    /// How many stories are written in full; the rest are listed.
    pub top_stories: usize,
    /// How the brief stage's model writes a story.
    #[serde(default)]
    pub mode: BriefMode,
}

/// How a story of the brief is written when the brief stage has an LLM. Every way falls back
/// to the next one down when the model's answer is unusable: single, composed, extractive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BriefMode {
    /// `single` when the brief stage's first backend may answer at least
    /// [`SINGLE_BRIEF_MIN_TOKENS`] tokens, else `composed`.
    #[default]
    Auto,
    /// One request per story, from the articles' full English: headline, synthesis, facts,
    /// agreements, differences, entities and timeline in one answer.
    Single,
    /// One small request per story, from the articles' key points: the model writes the
    /// headline and synthesis and picks the key facts; agreements, differences, entities and
    /// the timeline are taken from the translations.
    Composed,
}

/// The answer a single-request brief needs room for: the default 1.5B model's answers for the
/// five samples ran past 1,024 tokens.
pub const SINGLE_BRIEF_MIN_TOKENS: u32 = 2048;

/// A configuration problem; always exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration file {path} does not exist")]
    MissingFile { path: PathBuf },
    #[error("invalid configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("invalid configuration: {0}")]
    Check(String),
}

/// Where the settings come from, besides the built-in defaults and the environment.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `--config FILE`; when absent, `./tarjim.toml` is read if it exists.
    pub config_file: Option<PathBuf>,
    /// `key = value` overrides from command-line flags, applied last.
    pub overrides: Vec<(String, String)>,
}

impl Settings {
    /// Load the layered settings and check that they hang together.
    pub fn load(sources: &Sources) -> Result<Settings, SettingsError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        match &sources.config_file {
            Some(path) if !path.exists() => {
                return Err(SettingsError::MissingFile { path: path.clone() })
            }
            Some(path) => builder = builder.add_source(config::File::from(path.as_path())),
            None if Path::new(LOCAL_CONFIG).exists() => {
                builder = builder.add_source(config::File::with_name(LOCAL_CONFIG))
            }
            None => {}
        }
        // Only TARJIM_* variables with a `__` are settings (TARJIM_CHUNK__MAX_TOKENS); others,
        // such as an API key in TARJIM_API_KEY, are left alone.
        let variables: std::collections::HashMap<String, String> = std::env::vars()
            .filter(|(name, _)| {
                name.strip_prefix("TARJIM_")
                    .is_some_and(|rest| rest.contains("__"))
            })
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("TARJIM")
                .source(Some(variables))
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("stages.translate")
                .with_list_parse_key("stages.summarize")
                .with_list_parse_key("stages.brief")
                .with_list_parse_key("stages.names")
                .with_list_parse_key("normalize.boilerplate_lines")
                .with_list_parse_key("normalize.boilerplate_prefixes"),
        );
        for (key, value) in &sources.overrides {
            builder = if LIST_KEYS.contains(&key.as_str()) {
                let items: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(String::from)
                    .collect();
                builder.set_override(key.as_str(), items)?
            } else {
                builder.set_override(key.as_str(), typed(value))?
            };
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), SettingsError> {
        if self.output.progress_interval_s == 0 {
            return Err(SettingsError::Check(
                "output.progress_interval_s must be at least 1".into(),
            ));
        }
        if self.chunk.max_per_article == 0 {
            return Err(SettingsError::Check(
                "chunk.max_per_article must be at least 1".into(),
            ));
        }
        if self.run.batch_max_requests == 0 {
            return Err(SettingsError::Check(
                "run.batch_max_requests must be at least 1".into(),
            ));
        }
        if self.chunk.max_tokens == 0 {
            return Err(SettingsError::Check(
                "chunk.max_tokens must be at least 1".into(),
            ));
        }
        if self.stages.translate.is_empty() {
            return Err(SettingsError::Check(
                "stages.translate names no backend".into(),
            ));
        }
        let stages = [
            ("translate", &self.stages.translate),
            ("summarize", &self.stages.summarize),
            ("brief", &self.stages.brief),
            ("names", &self.stages.names),
        ];
        for (stage, names) in stages {
            for name in names {
                if !self.backends.contains_key(name) {
                    let known: Vec<&str> = self.backends.keys().map(String::as_str).collect();
                    return Err(SettingsError::Check(format!(
                        "stages.{stage} names backend `{name}`, which is not configured (configured: {})",
                        known.join(", ")
                    )));
                }
            }
        }
        self.run.deadline().map_err(SettingsError::Check)?;
        if !(self.brief.story_threshold > 0.0 && self.brief.story_threshold <= 1.0) {
            return Err(SettingsError::Check(format!(
                "brief.story_threshold = {} must be above 0 and at most 1 (a similarity)",
                self.brief.story_threshold
            )));
        }
        if self.brief.max_story_articles == 0 || self.brief.window_days < 0 {
            return Err(SettingsError::Check(format!(
                "brief.max_story_articles = {} must be at least 1 and brief.window_days = {} at least 0",
                self.brief.max_story_articles, self.brief.window_days
            )));
        }
        for (name, backend) in &self.backends {
            backend.check(name).map_err(SettingsError::Check)?;
        }
        Ok(())
    }

    /// What only a run needs: every environment variable that a backend of a stage names
    /// for its key is set. (`config show` or `cache stats` work without the keys.)
    pub fn check_for_run(&self) -> Result<(), SettingsError> {
        let stages = [
            &self.stages.translate,
            &self.stages.summarize,
            &self.stages.brief,
            &self.stages.names,
        ];
        for name in stages.into_iter().flatten() {
            let Some(http) = self.backend(name).and_then(BackendSettings::http) else {
                continue;
            };
            if !http.api_key_env.is_empty() && http.api_key().is_none() {
                return Err(SettingsError::Check(format!(
                    "backends.{name}.api_key_env names the environment variable {}, which is not \
                     set (or empty); hint: export it, or set api_key_env = \"\" for an endpoint \
                     that needs no key",
                    http.api_key_env
                )));
            }
        }
        Ok(())
    }

    /// The backend configured under `name`.
    pub fn backend(&self, name: &str) -> Option<&BackendSettings> {
        self.backends.get(name)
    }

    /// The cache database path, defaulting to the user cache folder.
    pub fn cache_path(&self) -> PathBuf {
        if self.cache.path.is_empty() {
            user_cache_dir().join("cache.sqlite")
        } else {
            PathBuf::from(&self.cache.path)
        }
    }

    /// The effective settings as TOML, with URL credentials redacted.
    pub fn to_redacted_toml(&self) -> String {
        let mut redacted = self.clone();
        for backend in redacted.backends.values_mut() {
            backend.redact();
        }
        toml::to_string_pretty(&redacted).unwrap_or_else(|error| format!("# {error}\n"))
    }

    /// The effective settings as JSON (for run.json), with URL credentials redacted.
    pub fn to_redacted_json(&self) -> serde_json::Value {
        toml::from_str::<toml::Value>(&self.to_redacted_toml())
            .ok()
            .and_then(|value| serde_json::to_value(value).ok())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// A command-line value as the type it reads as: integer, float, boolean, else string. Values
/// inside `[backends.<name>]` go through a tagged enum, where serde does not turn "4" into 4.
fn typed(value: &str) -> config::Value {
    if let Ok(integer) = value.parse::<i64>() {
        integer.into()
    } else if let Ok(float) = value.parse::<f64>() {
        float.into()
    } else if let Ok(boolean) = value.parse::<bool>() {
        boolean.into()
    } else {
        value.into()
    }
}

/// `<user cache folder>/tarjim`, or `.tarjim-cache` when the platform has none.
pub fn user_cache_dir() -> PathBuf {
    dirs::cache_dir()
        .map(|dir| dir.join("tarjim"))
        .unwrap_or_else(|| PathBuf::from(".tarjim-cache"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_use_the_embedded_backend() {
        let settings = Settings::load(&Sources::default()).unwrap();
        assert_eq!(settings.stages.translate, vec!["embedded".to_string()]);
        assert_eq!(settings.chunk.encoding, "o200k_base");
        assert!(matches!(
            settings.backend("embedded"),
            Some(BackendSettings::Embedded(_))
        ));
    }

    /// Regression: `--set backends.embedded.context=32768` and `run --concurrency 8` failed
    /// with "invalid type: string, expected u32".
    #[test]
    fn numeric_overrides_inside_a_backend_are_numbers() {
        let sources = Sources {
            config_file: None,
            overrides: vec![
                ("backends.embedded.context".into(), "32768".into()),
                ("backends.embedded.temperature".into(), "0.5".into()),
            ],
        };
        let settings = Settings::load(&sources).unwrap();
        let Some(BackendSettings::Embedded(embedded)) = settings.backend("embedded") else {
            panic!("embedded backend");
        };
        let embedded = serde_json::to_value(embedded).unwrap();
        assert_eq!(embedded["context"], 32768);
        assert_eq!(embedded["temperature"], 0.5);
    }

    #[test]
    fn list_overrides_are_comma_separated() {
        let sources = Sources {
            config_file: None,
            overrides: vec![
                ("backends.other.kind".into(), "openai".into()),
                (
                    "backends.other.base_url".into(),
                    "http://127.0.0.1:1/v1".into(),
                ),
                ("stages.translate".into(), "other, embedded".into()),
                ("stages.summarize".into(), "".into()),
            ],
        };
        let settings = Settings::load(&sources).unwrap();
        assert_eq!(
            settings.stages.translate,
            vec!["other".to_string(), "embedded".to_string()]
        );
        assert!(settings.stages.summarize.is_empty());
    }

    #[test]
    fn overrides_win_and_unknown_keys_are_named() {
        let sources = Sources {
            config_file: None,
            overrides: vec![("chunk.max_tokens".into(), "77".into())],
        };
        assert_eq!(Settings::load(&sources).unwrap().chunk.max_tokens, 77);

        let sources = Sources {
            config_file: None,
            overrides: vec![("chunk.max_tokenz".into(), "77".into())],
        };
        let error = Settings::load(&sources).unwrap_err().to_string();
        assert!(error.contains("max_tokenz"), "{error}");
    }
}
