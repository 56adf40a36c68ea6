//! What each article's requests take: answers, tokens and cost, counted where the answer
//! arrives (in [`super::StageRunner`]) for the article whose work is running ([`metered`]).

use std::sync::atomic::Ordering;

use super::{Halt, Shared};
use crate::backend::dispatch::{from_nanos, nanos};
use crate::backend::Completion;

/// What one article's requests took (kept in `articles/<id>.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Usage {
    /// Answers received (not cached ones).
    pub requests: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// At the backends' prices (0 without prices).
    pub cost: f64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.requests += other.requests;
        self.tokens_in += other.tokens_in;
        self.tokens_out += other.tokens_out;
        self.cost += other.cost;
    }
}

tokio::task_local! {
    static USAGE: std::cell::RefCell<Usage>;
}

/// Run `work` and count what the requests it makes take (through any [`super::StageRunner`]).
pub async fn metered<F: std::future::Future>(work: F) -> (F::Output, Usage) {
    USAGE
        .scope(std::cell::RefCell::new(Usage::default()), async {
            let output = work.await;
            (output, USAGE.with(|usage| *usage.borrow()))
        })
        .await
}

/// Count one answer for the article being worked on, if any.
fn count_usage(completion: &Completion, cost: f64) {
    let _ = USAGE.try_with(|usage| {
        usage.borrow_mut().add(&Usage {
            requests: 1,
            tokens_in: completion.prompt_tokens,
            tokens_out: completion.completion_tokens,
            cost,
        })
    });
}

impl Shared {
    /// What the run's answers have cost so far.
    pub fn spent(&self) -> f64 {
        from_nanos(self.spent_nanos.load(Ordering::Relaxed))
    }

    /// Count an answer received and its cost, for the run and the article it is for.
    pub(super) fn paid(&self, completion: &Completion, cost: f64) {
        count_usage(completion, cost);
        self.spend(cost);
    }

    /// Count `cost`; once the total reaches `--max-cost`, stop sending.
    fn spend(&self, cost: f64) {
        let nanos = nanos(cost);
        let total = self.spent_nanos.fetch_add(nanos, Ordering::Relaxed) + nanos;
        if let Some(cap) = self.max_cost {
            let spent = from_nanos(total);
            if spent >= cap {
                self.halt(
                    Halt::CostCapReached,
                    &format!(
                        "error: the run's answers have cost {spent:.4}, reaching --max-cost \
                         {cap}; no new requests will be sent, finishing what is in flight"
                    ),
                );
            }
        }
    }
}
