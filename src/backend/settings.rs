//! `[backends.<name>]`: which kind of backend, with its settings, and what follows from them
//! alone: whether it reads prompts, its identity in cache keys, the model name to report, how
//! many requests it takes at once, and the checks run when the configuration loads. Adding a
//! backend is one variant here and one file beside this one.

use serde::{Deserialize, Serialize};

use super::http::{self, HttpSettings};
use super::EmbeddedSettings;

/// One configured backend: `[backends.<name>]` with a `kind`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum BackendSettings {
    /// Any OpenAI-compatible chat-completions endpoint.
    Openai(HttpSettings),
    /// A LibreTranslate server.
    Libretranslate(HttpSettings),
    /// The DeepL API.
    Deepl(HttpSettings),
    /// Google Cloud Translation, v2 (Basic).
    Google(HttpSettings),
    /// Azure AI Translator, v3.
    Azure(HttpSettings),
    /// The in-process llama.cpp engine.
    Embedded(EmbeddedSettings),
}

/// Ranges and URLs of one HTTP backend, each problem named by its key.
fn check_http(name: &str, http: &HttpSettings) -> Result<(), String> {
    let key = |field: &str| format!("backends.{name}.{field}");
    check_url(&key("base_url"), &http.base_url)?;
    for (index, replica) in http.replicas.iter().enumerate() {
        if !replica.base_url.is_empty() {
            check_url(
                &key(&format!("replicas[{index}].base_url")),
                &replica.base_url,
            )?;
        }
    }
    let at_least_one = [
        ("concurrency", http.concurrency as u64),
        ("connect_timeout_s", http.connect_timeout_s),
        ("request_timeout_s", http.request_timeout_s),
        ("max_attempts", u64::from(http.max_attempts)),
        ("max_tokens", u64::from(http.max_tokens)),
    ];
    for (field, value) in at_least_one {
        if value == 0 {
            return Err(format!("{} = 0: it must be at least 1", key(field)));
        }
    }
    let price = &http.price;
    for (field, value) in [
        ("price.input_per_million", price.input_per_million),
        ("price.output_per_million", price.output_per_million),
        ("price.characters_per_million", price.characters_per_million),
        ("price.batch_factor", price.batch_factor),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(format!("{} = {value}: it must be 0 or more", key(field)));
        }
    }
    if !matches!(
        http.max_tokens_field.as_str(),
        "max_tokens" | "max_completion_tokens"
    ) {
        return Err(format!(
            "{} = \"{}\" must be \"max_tokens\" or \"max_completion_tokens\"",
            key("max_tokens_field"),
            http.max_tokens_field
        ));
    }
    if http.backoff_cap_ms < http.backoff_base_ms {
        return Err(format!(
            "{} = {} is below {} = {}",
            key("backoff_cap_ms"),
            http.backoff_cap_ms,
            key("backoff_base_ms"),
            http.backoff_base_ms
        ));
    }
    Ok(())
}

/// An endpoint root: an http:// or https:// URL with a host.
fn check_url(key: &str, url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(()),
        Ok(parsed) => Err(format!(
            "{key} = \"{url}\" must be an http:// or https:// URL with a host (not {}:)",
            parsed.scheme()
        )),
        Err(error) => Err(format!(
            "{key} = \"{url}\" is not a URL ({error}); hint: e.g. \"http://127.0.0.1:8080/v1\""
        )),
    }
}

impl BackendSettings {
    /// The HTTP settings of an HTTP backend.
    pub fn http(&self) -> Option<&HttpSettings> {
        match self {
            BackendSettings::Openai(http)
            | BackendSettings::Libretranslate(http)
            | BackendSettings::Deepl(http)
            | BackendSettings::Google(http)
            | BackendSettings::Azure(http) => Some(http),
            BackendSettings::Embedded(_) => None,
        }
    }

    /// One backend's settings per endpoint it sends to: itself, then its replicas.
    pub fn endpoints(&self) -> Vec<BackendSettings> {
        fn each(
            http: &HttpSettings,
            variant: fn(HttpSettings) -> BackendSettings,
        ) -> Vec<BackendSettings> {
            http.endpoints().into_iter().map(variant).collect()
        }
        match self {
            BackendSettings::Openai(http) => each(http, BackendSettings::Openai),
            BackendSettings::Libretranslate(http) => each(http, BackendSettings::Libretranslate),
            BackendSettings::Deepl(http) => each(http, BackendSettings::Deepl),
            BackendSettings::Google(http) => each(http, BackendSettings::Google),
            BackendSettings::Azure(http) => each(http, BackendSettings::Azure),
            BackendSettings::Embedded(_) => vec![self.clone()],
        }
    }

    /// What run.json calls the endpoint these settings send to.
    pub fn endpoint_label(&self) -> String {
        match self.http() {
            Some(http) => http.endpoint_label(),
            None => "in-process".to_string(),
        }
    }

    /// What its answers cost; the embedded engine is free.
    pub fn price(&self) -> super::http::Price {
        match self.http() {
            Some(http) => http.price,
            None => super::http::Price {
                batch_factor: 1.0,
                ..Default::default()
            },
        }
    }

    /// Most tokens one answer may have.
    pub fn max_tokens(&self) -> u32 {
        match self {
            BackendSettings::Openai(http)
            | BackendSettings::Libretranslate(http)
            | BackendSettings::Deepl(http)
            | BackendSettings::Google(http)
            | BackendSettings::Azure(http) => http.max_tokens,
            BackendSettings::Embedded(embedded) => embedded.max_tokens,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            BackendSettings::Openai(_) => "openai",
            BackendSettings::Libretranslate(_) => "libretranslate",
            BackendSettings::Deepl(_) => "deepl",
            BackendSettings::Google(_) => "google",
            BackendSettings::Azure(_) => "azure",
            BackendSettings::Embedded(_) => "embedded",
        }
    }

    /// Whether it reads prompts (LLM) or bare text (MT API).
    pub fn reads_prompts(&self) -> bool {
        !matches!(
            self,
            BackendSettings::Libretranslate(_)
                | BackendSettings::Deepl(_)
                | BackendSettings::Google(_)
                | BackendSettings::Azure(_)
        )
    }

    /// Requests it takes in flight at once.
    pub fn concurrency(&self) -> usize {
        match self {
            BackendSettings::Openai(http)
            | BackendSettings::Libretranslate(http)
            | BackendSettings::Deepl(http)
            | BackendSettings::Google(http)
            | BackendSettings::Azure(http) => http.concurrency,
            BackendSettings::Embedded(embedded) => embedded.concurrency,
        }
        .max(1)
    }

    /// The model name to show in run.json and article metadata.
    pub fn model_name(&self) -> String {
        match self {
            BackendSettings::Openai(http)
            | BackendSettings::Libretranslate(http)
            | BackendSettings::Deepl(http)
            | BackendSettings::Google(http)
            | BackendSettings::Azure(http) => http.model.clone(),
            BackendSettings::Embedded(embedded) => embedded.model.clone(),
        }
    }

    /// Everything that changes its answers, for cache keys: kind, endpoint, model and
    /// generation parameters. Derived from settings alone, so a fully cached run never has to
    /// start a backend (or load a model).
    pub fn identity(&self) -> serde_json::Value {
        match self {
            BackendSettings::Openai(http)
            | BackendSettings::Libretranslate(http)
            | BackendSettings::Deepl(http)
            | BackendSettings::Google(http)
            | BackendSettings::Azure(http) => serde_json::json!({
                "kind": self.kind(),
                "endpoint": http::redact_url(&http.base_url),
                "model": http.model,
                "temperature": http.temperature,
                "max_tokens": http.max_tokens,
            }),
            BackendSettings::Embedded(embedded) => {
                let location = embedded.location();
                serde_json::json!({
                    "kind": "embedded",
                    "model": embedded.model,
                    "file": location.path.file_name().map(|name| name.to_string_lossy().into_owned()),
                    "model_bytes": std::fs::metadata(&location.path).map(|meta| meta.len()).ok(),
                    "temperature": embedded.temperature,
                    "max_tokens": embedded.max_tokens,
                })
            }
        }
    }

    /// Ranges and URLs, each problem named by its key (`backends.<name>.<field>`).
    pub fn check(&self, name: &str) -> Result<(), String> {
        match self.http() {
            Some(http) => check_http(name, http),
            None => Ok(()),
        }
    }

    /// Credentials in its URL replaced, for showing the settings.
    pub fn redact(&mut self) {
        if let BackendSettings::Openai(http)
        | BackendSettings::Libretranslate(http)
        | BackendSettings::Deepl(http)
        | BackendSettings::Google(http)
        | BackendSettings::Azure(http) = self
        {
            http.base_url = http::redact_url(&http.base_url);
        }
    }
}
