//! Batch jobs: a stage's requests sent as one job instead of one by one.
//!
//! In batch mode (and for estimates) the run does not send what the cache cannot answer: each
//! such request is handed to the [`Collector`] (see `stage::StageRunner`), keyed by its cache
//! key. At the end of a pass the earliest stage's collected requests become an OpenAI batch
//! JSONL file ([`jsonl`]), one line per request with the cache key as its `custom_id`, so an
//! answer can never be paid for twice. The job's output, from a provider's batch API
//! ([`provider`]) or from any engine that reads the format (vLLM's `run-batch`), is read back
//! into the collector, and the next pass takes each answer where the request is made again:
//! it is checked and cached like a live answer. Requests that depend on answers (repairs,
//! summaries, the brief) are collected in later passes, so stages go in order.

pub mod jsonl;
pub mod provider;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::backend::{Completion, Request, Stage};

/// A request collected instead of sent.
#[derive(Debug, Clone)]
pub struct Pending {
    pub stage: Stage,
    /// Its cache key: the batch line's `custom_id`.
    pub key: String,
    /// The backend it would have gone to.
    pub backend: String,
    pub request: Request,
}

/// Requests collected in one pass, and answers from batch jobs waiting to be taken.
#[derive(Debug, Default)]
pub struct Collector {
    /// Collect what has no answer here (batch jobs, estimates); otherwise it is sent live
    /// (folding a batch output in, then finishing the run).
    pub collecting: bool,
    pending: Mutex<BTreeMap<String, Pending>>,
    answers: Mutex<HashMap<String, Completion>>,
    used: AtomicU64,
}

/// The order stages run in: a batch holds the earliest stage's requests only, since later
/// stages' requests are made from the earlier ones' answers.
pub fn stage_order(stage: Stage) -> u8 {
    match stage {
        Stage::Names => 0,
        Stage::Translate => 1,
        Stage::Summarize => 2,
        Stage::BriefStory => 3,
        Stage::Brief => 4,
    }
}

impl Collector {
    /// A collector that collects what it has no answer for (`collecting`), or lets it be
    /// sent.
    pub fn new(collecting: bool) -> Collector {
        Collector {
            collecting,
            ..Collector::default()
        }
    }

    /// Collect a request (once per cache key).
    pub fn defer(&self, pending: Pending) {
        lock(&self.pending)
            .entry(pending.key.clone())
            .or_insert(pending);
    }

    /// The batch job's answer to the request with this cache key, if one came back.
    pub fn take_answer(&self, key: &str) -> Option<Completion> {
        let answer = lock(&self.answers).remove(key);
        if answer.is_some() {
            self.used.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// Whether a batch job answered the request with this cache key.
    pub fn has_answer(&self, key: &str) -> bool {
        lock(&self.answers).contains_key(key)
    }

    /// Answers of a batch job, by cache key, for the next pass to take.
    pub fn add_answers(&self, answers: HashMap<String, Completion>) {
        lock(&self.answers).extend(answers);
    }

    /// Answers taken by the run so far.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Answers not taken (their requests were not made again: settings or inputs changed).
    pub fn unused(&self) -> usize {
        lock(&self.answers).len()
    }

    /// Everything collected, in cache-key order, and the collector emptied for the next pass.
    pub fn take_pending(&self) -> Vec<Pending> {
        std::mem::take(&mut *lock(&self.pending))
            .into_values()
            .collect()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        lock(&self.pending).is_empty()
    }

    /// How many requests were collected, by stage.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        let mut counts = BTreeMap::new();
        for pending in lock(&self.pending).values() {
            *counts.entry(pending.stage.as_str()).or_default() += 1;
        }
        counts
    }
}

/// The requests of the earliest stage among `pending`: one batch's worth.
pub fn next_batch(pending: Vec<Pending>) -> Vec<Pending> {
    let Some(first) = pending.iter().map(|p| stage_order(p.stage)).min() else {
        return Vec::new();
    };
    pending
        .into_iter()
        .filter(|p| stage_order(p.stage) == first)
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(stage: Stage, key: &str) -> Pending {
        Pending {
            stage,
            key: key.to_string(),
            backend: "api".into(),
            request: Request {
                stage,
                input: key.to_string(),
                system: String::new(),
                user: key.to_string(),
                json_schema: None,
            },
        }
    }

    #[test]
    fn a_batch_holds_the_earliest_stage_only_once_per_key() {
        let collector = Collector::new(true);
        collector.defer(pending(Stage::Summarize, "s1"));
        collector.defer(pending(Stage::Translate, "t2"));
        collector.defer(pending(Stage::Translate, "t1"));
        collector.defer(pending(Stage::Translate, "t1"));
        let batch = next_batch(collector.take_pending());
        let keys: Vec<&str> = batch.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["t1", "t2"]);
        assert!(collector.is_empty());
    }

    #[test]
    fn an_answer_is_taken_once() {
        let collector = Collector::new(true);
        let completion = Completion {
            text: "x".into(),
            prompt_tokens: 1,
            prompt_tokens_reused: 0,
            completion_tokens: 1,
        };
        collector.add_answers(HashMap::from([("k".to_string(), completion)]));
        assert!(collector.take_answer("k").is_some());
        assert!(collector.take_answer("k").is_none());
        assert_eq!((collector.used(), collector.unused()), (1, 0));
    }
}
