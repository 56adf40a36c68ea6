//! Dedicated machine-translation APIs: LibreTranslate, DeepL, Google Cloud Translation (v2,
//! Basic) and Azure AI Translator (v3).
//!
//! These take the bare source text (`Request::input`), not a prompt, so prompt templates do not
//! apply to them and they cannot run the summary stages. They report no token counts; tarjim
//! counts characters of the input instead, which is what they bill by. Keys go in headers, never
//! in the URL, so no log line or error can carry one.

use serde_json::{json, Value};

use super::http::{self, HttpSettings};
use super::{BackendError, Completion, Request};

/// Which MT API a [`MtBackend`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtApi {
    LibreTranslate,
    DeepL,
    /// `POST {base_url}/language/translate/v2`, key in `X-Goog-Api-Key`.
    Google,
    /// `POST {base_url}/translate?api-version=3.0`, key in `Ocp-Apim-Subscription-Key`.
    Azure,
}

#[derive(Clone)]
pub struct MtBackend {
    api: MtApi,
    settings: HttpSettings,
    client: reqwest::Client,
}

impl MtBackend {
    pub fn new(api: MtApi, settings: HttpSettings) -> Self {
        let client = http::client(&settings);
        MtBackend {
            api,
            settings,
            client,
        }
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    pub async fn complete(&self, request: &Request) -> Result<Completion, BackendError> {
        let key = self.settings.api_key();
        let (url, builder) = match self.api {
            MtApi::LibreTranslate => {
                let url = self.settings.endpoint("translate");
                let mut body =
                    json!({"q": request.input, "source": "ar", "target": "en", "format": "text"});
                if let Some(key) = key {
                    body["api_key"] = json!(key);
                }
                let builder = self.client.post(&url).json(&body);
                (url, builder)
            }
            MtApi::DeepL => {
                let url = self.settings.endpoint("v2/translate");
                let mut body =
                    json!({"text": [request.input], "source_lang": "AR", "target_lang": "EN-US"});
                if !self.settings.model.is_empty() {
                    body["model_type"] = json!(self.settings.model);
                }
                let mut builder = self.client.post(&url).json(&body);
                if let Some(key) = key {
                    builder = builder.header("Authorization", format!("DeepL-Auth-Key {key}"));
                }
                (url, builder)
            }
            MtApi::Google => {
                let url = self.settings.endpoint("language/translate/v2");
                let mut body =
                    json!({"q": [request.input], "source": "ar", "target": "en", "format": "text"});
                if !self.settings.model.is_empty() {
                    body["model"] = json!(self.settings.model);
                }
                let mut builder = self.client.post(&url).json(&body);
                if let Some(key) = key {
                    builder = builder.header("X-Goog-Api-Key", key);
                }
                (url, builder)
            }
            MtApi::Azure => {
                let url = self.settings.endpoint("translate");
                let mut query = vec![
                    ("api-version", "3.0"),
                    ("from", "ar"),
                    ("to", "en"),
                    ("textType", "plain"),
                ];
                if !self.settings.model.is_empty() {
                    query.push(("category", &self.settings.model));
                }
                let mut builder = self
                    .client
                    .post(&url)
                    .query(&query)
                    .json(&json!([{"Text": request.input}]));
                if let Some(key) = key {
                    builder = builder.header("Ocp-Apim-Subscription-Key", key);
                }
                if !self.settings.region.is_empty() {
                    builder = builder.header("Ocp-Apim-Subscription-Region", &self.settings.region);
                }
                (url, builder)
            }
        };
        let body = http::send(&self.settings, &url, builder).await?;
        let text = self.translated_text(&http::redact_url(&url), &body)?;
        Ok(Completion {
            text,
            prompt_tokens: request.input.chars().count() as u64,
            prompt_tokens_reused: 0,
            completion_tokens: 0,
        })
    }

    fn translated_text(&self, url: &str, body: &str) -> Result<String, BackendError> {
        let invalid = |detail: &str| BackendError::InvalidResponse {
            url: url.to_string(),
            detail: detail.to_string(),
        };
        let value: Value = serde_json::from_str(body).map_err(|_| invalid("not JSON"))?;
        let pointer = match self.api {
            MtApi::LibreTranslate => "/translatedText",
            MtApi::DeepL => "/translations/0/text",
            MtApi::Google => "/data/translations/0/translatedText",
            MtApi::Azure => "/0/translations/0/text",
        };
        let text = value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default();
        if text.trim().is_empty() {
            if let Some(error) = value.get("error").or_else(|| value.get("message")) {
                return Err(invalid(&format!("error in a 200 answer: {error}")));
            }
            return Err(invalid("empty translation"));
        }
        Ok(text.to_string())
    }
}
