//! Batch mode's side of asking: the batch job's answer when one came back, else the request
//! collected for the next job (see `crate::batch`).

use super::{Answer, Miss, Misses, StageError, StageRunner};
use crate::backend::dispatch::{DispatchStats, Dispatcher};
use crate::backend::Request;
use crate::batch::Collector;

impl StageRunner {
    /// Batch mode: the batch job's answer to `request` when one came back (checked and cached
    /// like a live one), else the request is collected for the next job.
    pub(super) fn answered_by_batch(
        &self,
        collector: &Collector,
        (request, key, dispatcher, stats): (&Request, &str, &Dispatcher, &DispatchStats),
        validate: &(dyn Fn(&str) -> Result<(), String> + Sync),
        mut errors: Vec<Miss>,
    ) -> Result<Answer, StageError> {
        let Some(completion) = collector.take_answer(key) else {
            collector.defer(crate::batch::Pending {
                stage: self.stage,
                key: key.to_string(),
                backend: dispatcher.name.clone(),
                request: request.clone(),
            });
            return Err(StageError::Deferred);
        };
        let cost = dispatcher.cost(request, &completion, true);
        stats.count_answer(&completion, cost);
        self.shared.paid(&completion, cost);
        match self.kept(request, key, dispatcher, stats, completion, validate)? {
            Ok(answer) => Ok(answer),
            Err(problem) => {
                errors.push(problem);
                Err(StageError::Failed(Misses(errors)))
            }
        }
    }
}
