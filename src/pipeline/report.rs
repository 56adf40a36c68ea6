//! What the run says about itself: run.json, and the parts of it that come from the run's
//! shared state (how it ended, endpoints, cache, cost, batch) or from the brief.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;

use crate::brief;
use crate::fsutil;
use crate::record::{BriefReport, CacheCounts, Ending, RunReport};
use crate::render;
use crate::stage::{Halt, Shared};

/// `run.json`: the run's report.
pub(super) fn write_run_json(out: &Path, report: &RunReport) -> Result<(), fsutil::WriteError> {
    fsutil::write_atomic(&out.join("run.json"), &render::json::pretty(report))
}

/// Why the brief is partial, when the run stopped early: a brief of half the night must not go
/// over last night's.
pub(super) fn partial(shared: &Shared) -> Option<String> {
    let awaiting_batch = (shared.collector.as_ref()).is_some_and(|collector| !collector.is_empty());
    if shared.cancel.is_cancelled() {
        Some("the run was interrupted".to_string())
    } else if awaiting_batch {
        Some("a batch job's answers were awaited".to_string())
    } else {
        shared.halted().map(|why| why.to_string())
    }
}

/// Each used backend's endpoints and their shares of the run.
pub(super) fn endpoint_shares(
    shared: &Shared,
) -> BTreeMap<String, Vec<crate::backend::dispatch::EndpointShare>> {
    let dispatchers = shared
        .dispatchers
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    dispatchers
        .iter()
        .map(|(name, dispatcher)| (name.clone(), dispatcher.endpoint_shares()))
        .collect()
}

pub(super) fn cache_counts(shared: &Shared) -> CacheCounts {
    CacheCounts {
        path: shared.cache.path().to_path_buf(),
        hits: shared.cache_hits.load(Ordering::Relaxed),
        misses: shared.cache_misses.load(Ordering::Relaxed),
    }
}

pub(super) fn ending(shared: &Shared) -> Ending {
    if shared.cancel.is_cancelled() {
        return Ending::Interrupted;
    }
    match shared.halted() {
        Some(Halt::QuotaExhausted) => Ending::QuotaExhausted,
        Some(Halt::EndpointsDown) => Ending::EndpointsDown,
        Some(Halt::DeadlinePassed) => Ending::DeadlinePassed,
        Some(Halt::CostCapReached) => Ending::CostCapReached,
        None => Ending::Complete,
    }
}

/// What run.json says of the brief.
pub(super) fn brief_report(brief: &brief::Brief, files: Vec<String>) -> BriefReport {
    BriefReport {
        method: brief.method.clone(),
        stories: brief.stories.len(),
        more_stories: brief.more_stories.len(),
        single_reports: brief.single_report_count(),
        largest_story: brief
            .stories
            .iter()
            .map(|story| story.articles.len())
            .chain(brief.more_stories.iter().map(|line| line.articles.len()))
            .max()
            .unwrap_or(0),
        articles: brief.articles.len(),
        wire_copy_groups: brief.wire_copy.len(),
        dropped_citations: brief.dropped_citations.len(),
        files,
        notes: brief.notes.clone(),
        causes: brief.causes.clone(),
    }
}

/// Batch mode: what this pass left for a batch job, and the job answers it took.
pub(super) fn batch_report(shared: &Shared) -> Option<crate::record::BatchReport> {
    let collector = shared.collector.as_ref()?;
    let collected = collector.counts();
    Some(crate::record::BatchReport {
        collected,
        answers_taken: collector.used(),
        ..Default::default()
    })
}

/// The process's peak resident memory so far, in MiB: `VmHWM` of `/proc/self/status` (Linux).
pub(super) fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
