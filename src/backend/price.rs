//! What a backend's answers cost (`[backends.<name>.price]`), for estimates, `--max-cost` and
//! the usage in run.json.

use serde::{Deserialize, Serialize};

/// What a backend charges, in one currency of your choice (the provider's price list):
/// per million prompt and answer tokens (chat endpoints), or per million characters of source
/// text (MT APIs, which bill characters).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    #[serde(default)]
    pub input_per_million: f64,
    #[serde(default)]
    pub output_per_million: f64,
    #[serde(default)]
    pub characters_per_million: f64,
    /// What a batch job's answers cost relative to live ones (providers' batch APIs charge
    /// half).
    #[serde(default = "default_batch_factor")]
    pub batch_factor: f64,
}

impl Default for Price {
    fn default() -> Price {
        Price {
            input_per_million: 0.0,
            output_per_million: 0.0,
            characters_per_million: 0.0,
            batch_factor: default_batch_factor(),
        }
    }
}

fn default_batch_factor() -> f64 {
    0.5
}

impl Price {
    pub fn is_free(&self) -> bool {
        self.input_per_million == 0.0
            && self.output_per_million == 0.0
            && self.characters_per_million == 0.0
    }

    /// The cost of `prompt_tokens` in, `answer_tokens` out and `characters` of source text.
    pub fn cost(&self, prompt_tokens: u64, answer_tokens: u64, characters: u64) -> f64 {
        (prompt_tokens as f64 * self.input_per_million
            + answer_tokens as f64 * self.output_per_million
            + characters as f64 * self.characters_per_million)
            / 1e6
    }
}
