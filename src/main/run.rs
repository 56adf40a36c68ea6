//! `tarjim run` and `tarjim estimate`: the pipeline, in passes when batched, and what the
//! command prints and exits with.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tarjim::cli::RunArgs;
use tarjim::pipeline::{self, RunRequest};
use tarjim::record::{Ending, RunReport};
use tarjim::settings::Settings;
use tokio_util::sync::CancellationToken;

use crate::{fail, interrupt_handler, stopped_exit_code, ANOTHER_RUN, USAGE_ERROR};

pub(crate) async fn run(settings: Settings, args: RunArgs, quiet: bool) -> ExitCode {
    let strict = args.strict;
    let out = (args.out.clone()).unwrap_or_else(|| settings.output.dir.clone().into());
    let progress: Arc<dyn tarjim::progress::Progress> = Arc::from(tarjim::progress::for_stderr(
        quiet,
        std::time::Duration::from_secs(settings.output.progress_interval_s),
    ));
    let cancel = CancellationToken::new();
    tokio::spawn(interrupt_handler(cancel.clone(), quiet));
    if args.dry_run || args.max_cost.is_some() {
        let batch_priced = args.batch || args.batch_export.is_some();
        let checked = preflight(&settings, &args, batch_priced, &progress, &cancel).await;
        if let Some(exit) = checked {
            return exit;
        }
    }
    let request = RunRequest {
        retry_invalid: args.retry_invalid,
        max_cost: args.max_cost,
        ..RunRequest::new(args.inputs, out.clone())
    };
    let mode = match (args.batch, args.batch_export) {
        (_, Some(folder)) => Some(pipeline::BatchMode::Export(folder)),
        (true, None) => Some(pipeline::BatchMode::Provider),
        (false, None) => None,
    };
    let ran = if mode.is_some() || !args.batch_import.is_empty() {
        pipeline::run_batched(
            settings,
            request,
            mode,
            &args.batch_import,
            progress,
            cancel,
        )
        .await
        .map(|(report, end)| (report, Some(end)))
    } else {
        pipeline::run(settings, request, progress, cancel)
            .await
            .map(|report| (report, None))
    };
    let (report, batch_end) = match ran {
        Ok(ran) => ran,
        Err(error) => return run_failed(error),
    };
    if let Some(exit) = batch_exit(batch_end.as_ref(), &out) {
        return exit;
    }
    print_report(&report, &out, quiet, strict);
    exit_code(&report, strict)
}

/// `--dry-run` prints the estimate and ends; `--max-cost` refuses a run whose estimate is
/// over it. `None`: go on.
async fn preflight(
    settings: &Settings,
    args: &RunArgs,
    batch_priced: bool,
    progress: &Arc<dyn tarjim::progress::Progress>,
    cancel: &CancellationToken,
) -> Option<ExitCode> {
    let estimating = pipeline::estimate(
        settings.clone(),
        args.inputs.clone(),
        batch_priced,
        progress.clone(),
        cancel.clone(),
    );
    let estimate = match estimating.await {
        Ok(estimate) => estimate,
        Err(error) => return Some(run_failed(error)),
    };
    if args.dry_run {
        print!("{}", tarjim::render::estimate::text(&estimate));
        return Some(ExitCode::SUCCESS);
    }
    let cap = args.max_cost.filter(|cap| estimate.cost > *cap)?;
    eprint!("{}", tarjim::render::estimate::text(&estimate));
    eprintln!(
        "error: the estimate ({:.4}, before any repair) is over --max-cost {cap}; nothing was \
         sent",
        estimate.cost
    );
    Some(ExitCode::from(USAGE_ERROR))
}

/// What a batch run that is not finished says; an exported batch ends the command here.
fn batch_exit(end: Option<&pipeline::BatchEnd>, out: &Path) -> Option<ExitCode> {
    if let Some(pipeline::BatchEnd::Exported {
        path,
        stage,
        requests,
    }) = end
    {
        eprintln!(
            "batch: {requests} requests of the {stage} stage written to {}; run them (e.g. \
             `vllm run-batch -i {} -o answers.jsonl --model <model>`), then run this command \
             again with `--batch-import answers.jsonl` (and --batch-export for the next stage)",
            path.display(),
            path.display()
        );
        return Some(ExitCode::SUCCESS);
    }
    if let Some(pipeline::BatchEnd::Stopped) = end {
        eprintln!(
            "batch: stopped before the job was done; run the same command again to resume it \
             (it is saved in {})",
            out.join("batch").join("state.json").display()
        );
    }
    None
}

/// The run's summary, failures and skipped inputs on stderr.
fn print_report(report: &RunReport, out: &Path, quiet: bool, strict: bool) {
    if !quiet {
        eprintln!(
            "tarjim: {} of {} articles translated ({} failed) into {}; inputs: {} unreadable, {} \
             skipped as empty or duplicate; {} requests, {} cache hits",
            report.articles.succeeded,
            report.articles.total,
            report.articles.failed,
            out.display(),
            report.input_counts.unreadable,
            report.input_counts.skipped,
            report.requests,
            report.cache.hits,
        );
    }
    if !report.failures.is_empty() {
        eprintln!("failures ({}):", report.failures.len());
        for failure in &report.failures {
            eprintln!("  {}: {}", failure.article, failure.error);
        }
    }
    if !report.warnings.is_empty() && (!quiet || strict) {
        eprintln!("skipped ({}):", report.warnings.len());
        for warning in &report.warnings {
            eprintln!("  {}: {}", warning.article, warning.error);
        }
    }
}

/// The exit code the report calls for, with a line on how the run stopped early.
fn exit_code(report: &RunReport, strict: bool) -> ExitCode {
    match report.ending {
        Ending::Interrupted => {
            eprintln!(
                "interrupted: results so far are cached and written; run the same command again \
                 to resume"
            );
            stopped_exit_code()
        }
        Ending::EndpointsDown => {
            eprintln!(
                "stopped early: every backend of a stage was down; what was done is written and \
                 cached; run the same command again when the endpoint is back"
            );
            ExitCode::from(1)
        }
        Ending::DeadlinePassed => {
            eprintln!(
                "stopped early: the deadline passed; what was done is written and cached; run \
                 the same command again to finish"
            );
            ExitCode::from(1)
        }
        Ending::CostCapReached => {
            eprintln!(
                "stopped early: the answers cost --max-cost ({:.4} spent); what was done is \
                 written and cached, what was not sent is listed above; run again with a higher \
                 cap to finish",
                report.cost
            );
            ExitCode::from(1)
        }
        _ if !report.failures.is_empty() || report.articles.total == 0 => ExitCode::from(1),
        _ if strict && !report.warnings.is_empty() => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

pub(crate) async fn estimate(settings: Settings, args: tarjim::cli::EstimateArgs) -> ExitCode {
    let progress: Arc<dyn tarjim::progress::Progress> = Arc::from(tarjim::progress::for_stderr(
        true,
        std::time::Duration::from_secs(settings.output.progress_interval_s),
    ));
    let cancel = CancellationToken::new();
    match pipeline::estimate(settings, args.inputs, args.batch, progress, cancel).await {
        Ok(estimate) if args.json => {
            println!(
                "{}",
                String::from_utf8_lossy(&tarjim::render::json::pretty(&estimate))
            );
            ExitCode::SUCCESS
        }
        Ok(estimate) => {
            print!("{}", tarjim::render::estimate::text(&estimate));
            ExitCode::SUCCESS
        }
        Err(error) => run_failed(error),
    }
}

/// The exit for a run that could not start or finish.
fn run_failed(error: pipeline::RunError) -> ExitCode {
    let code = match error {
        pipeline::RunError::Locked(_) => ANOTHER_RUN,
        _ => USAGE_ERROR,
    };
    fail(&anyhow::Error::new(error), code)
}
