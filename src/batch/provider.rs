//! An OpenAI-compatible provider's batch API: upload the JSONL (`POST /files`), create the job
//! (`POST /batches`), poll it (`GET /batches/{id}`), and download its output and error files
//! (`GET /files/{id}/content`). Errors are the live backends' [`BackendError`]s, naming the URL,
//! never the key.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::backend::http::{self, HttpSettings};
use crate::backend::BackendError;

/// What the provider says of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub output_file_id: Option<String>,
    #[serde(default)]
    pub error_file_id: Option<String>,
    #[serde(default)]
    pub request_counts: Option<serde_json::Value>,
}

impl Job {
    /// The job will not change any more (done, failed, expired or cancelled).
    pub fn is_over(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "failed" | "expired" | "cancelled"
        )
    }
}

/// One provider endpoint (a backend's `base_url` and key).
pub struct Provider {
    settings: HttpSettings,
    client: reqwest::Client,
}

impl Provider {
    pub fn new(settings: &HttpSettings) -> Provider {
        Provider {
            client: http::client(settings),
            settings: settings.clone(),
        }
    }

    fn authorized(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.settings.api_key() {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    fn parsed<T: serde::de::DeserializeOwned>(url: &str, body: &str) -> Result<T, BackendError> {
        serde_json::from_str(body).map_err(|error| BackendError::InvalidResponse {
            url: http::redact_url(url),
            detail: format!("not the expected JSON ({error})"),
        })
    }

    /// Upload a batch file; its file id.
    pub async fn upload(&self, name: &str, jsonl: String) -> Result<String, BackendError> {
        #[derive(Deserialize)]
        struct Uploaded {
            id: String,
        }
        let url = self.settings.endpoint("files");
        let part = reqwest::multipart::Part::text(jsonl)
            .file_name(name.to_string())
            .mime_str("application/jsonl")
            .map_err(|error| BackendError::InvalidResponse {
                url: http::redact_url(&url),
                detail: error.to_string(),
            })?;
        let form = reqwest::multipart::Form::new()
            .text("purpose", "batch")
            .part("file", part);
        let builder = self.authorized(self.client.post(&url).multipart(form));
        let body = http::send(&self.settings, &url, builder).await?;
        Ok(Self::parsed::<Uploaded>(&url, &body)?.id)
    }

    /// Start a job on an uploaded file.
    pub async fn create(&self, input_file_id: &str) -> Result<Job, BackendError> {
        let url = self.settings.endpoint("batches");
        let builder = self.authorized(self.client.post(&url).json(&json!({
            "input_file_id": input_file_id,
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        })));
        let body = http::send(&self.settings, &url, builder).await?;
        Self::parsed(&url, &body)
    }

    /// The job as it is now.
    pub async fn job(&self, id: &str) -> Result<Job, BackendError> {
        let url = self.settings.endpoint(&format!("batches/{id}"));
        let builder = self.authorized(self.client.get(&url));
        let body = http::send(&self.settings, &url, builder).await?;
        Self::parsed(&url, &body)
    }

    /// Save a file's content (a job's output or errors) to `path`.
    pub async fn download(&self, file_id: &str, path: &Path) -> Result<u64, BackendError> {
        let url = self.settings.endpoint(&format!("files/{file_id}/content"));
        let builder = self.authorized(self.client.get(&url));
        http::download(&self.settings, &url, builder, path).await
    }
}
