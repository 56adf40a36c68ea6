//! tarjim's entry point: parse the command line, set up logging, run the command, print the
//! error chain, and pick the exit code (0 all articles done, 1 some failed, 2 usage or
//! configuration error, 130 interrupted).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tarjim::cli::{
    CacheCommand, Cli, Command, ConfigCommand, EvalArgs, GlossaryCommand, ModelCommand, RunArgs,
};
use tarjim::hint::{self, Hinted};
use tarjim::settings::{Settings, Sources};
use tokio_util::sync::CancellationToken;

#[path = "main/run.rs"]
mod run_command;

use run_command::{estimate, run};

const USAGE_ERROR: u8 = 2;
/// Another run holds the cache or the output folder (EX_TEMPFAIL: try again later).
const ANOTHER_RUN: u8 = 75;

fn main() -> ExitCode {
    tarjim::memory::tune();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            return fail(
                &anyhow::Error::new(error).context("cannot start the async runtime"),
                1,
            )
        }
    };
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> ExitCode {
    let mut sources = Sources {
        config_file: cli.config.clone(),
        overrides: cli.overrides.clone(),
    };
    if let Command::Run(args) = &cli.command {
        match run_overrides(&sources, args) {
            Ok(extra) => sources.overrides.extend(extra),
            Err(error) => return fail(&error, USAGE_ERROR),
        }
    }
    let settings = match Settings::load(&sources) {
        Ok(settings) => settings,
        Err(error) => {
            let advice = "`tarjim config show` prints the settings in effect";
            return fail(&anyhow::Error::new(Hinted::new(error, advice)), USAGE_ERROR);
        }
    };
    match cli.command {
        Command::Run(args) => run(settings, args, cli.quiet).await,
        Command::Eval(args) => eval(settings, args, cli.quiet).await,
        Command::Estimate(args) => estimate(settings, args).await,
        Command::Config {
            command: ConfigCommand::Show,
        } => {
            print!("{}", settings.to_redacted_toml());
            ExitCode::SUCCESS
        }
        Command::Cache { command } => cache(&settings, command),
        Command::Glossary { command } => glossary(&settings, command),
        Command::Model { command, backend } => model(&settings, command, backend.as_deref()).await,
    }
}

/// Turn `run`'s convenience flags into settings overrides. `--model` and `--concurrency` apply
/// to the first translate backend, which is only known once the other layers are read.
fn run_overrides(sources: &Sources, args: &RunArgs) -> anyhow::Result<Vec<(String, String)>> {
    let mut overrides = Vec::new();
    if let Some(backend) = &args.backend {
        for stage in ["translate", "summarize", "brief", "names"] {
            overrides.push((format!("stages.{stage}"), backend.clone()));
        }
    }
    if let Some(cache) = &args.cache {
        overrides.push(("cache.path".to_string(), cache.display().to_string()));
    }
    if let Some(deadline) = &args.deadline {
        overrides.push(("run.deadline".to_string(), deadline.clone()));
    }
    if args.model.is_some() || args.concurrency.is_some() {
        let mut layered = sources.clone();
        layered.overrides.extend(overrides.clone());
        let settings = Settings::load(&layered)?;
        let name = settings
            .stages
            .translate
            .first()
            .cloned()
            .unwrap_or_default();
        if let Some(model) = &args.model {
            overrides.push((format!("backends.{name}.model"), model.clone()));
        }
        if let Some(concurrency) = args.concurrency {
            overrides.push((
                format!("backends.{name}.concurrency"),
                concurrency.to_string(),
            ));
        }
    }
    Ok(overrides)
}

async fn eval(settings: Settings, args: EvalArgs, quiet: bool) -> ExitCode {
    let progress: Arc<dyn tarjim::progress::Progress> = Arc::from(tarjim::progress::for_stderr(
        quiet,
        std::time::Duration::from_secs(settings.output.progress_interval_s),
    ));
    let cancel = CancellationToken::new();
    tokio::spawn(interrupt_handler(cancel.clone(), quiet));
    let request = tarjim::eval::EvalRequest {
        source: args.source,
        reference: args.reference,
        doc_ids: args.doc_ids,
        mode: args.mode,
        limit: args.limit,
        out: args.out,
    };
    match tarjim::eval::run(&settings, &request, progress, cancel.clone()).await {
        Ok((report, _)) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", tarjim::eval::summary_text(&report));
            }
            if cancel.is_cancelled() {
                stopped_exit_code()
            } else if report.failed_lines > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => fail(&anyhow::Error::new(error), USAGE_ERROR),
    }
}

/// The signal that stopped the run (its number), 0 while none has.
static STOPPED_BY: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// First SIGINT (Ctrl-C), SIGTERM (systemd, `kill`) or SIGHUP (a closed terminal): stop
/// sending, write what is done. A second one: leave at once.
async fn interrupt_handler(cancel: CancellationToken, quiet: bool) {
    let Some(mut signals) = StopSignals::listen() else {
        return;
    };
    let (name, number) = signals.next().await;
    STOPPED_BY.store(number, std::sync::atomic::Ordering::SeqCst);
    if !quiet {
        eprintln!("\n{name}: finishing up (Ctrl-C again to quit at once)");
    }
    cancel.cancel();
    let (_, number) = signals.next().await;
    std::process::exit(128 + number);
}

/// The signals that ask a run to stop.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> Option<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind| match signal(kind) {
            Ok(stream) => Some(stream),
            Err(error) => {
                eprintln!("warning: cannot listen for stop signals: {error}");
                None
            }
        };
        Some(StopSignals {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
            hangup: listen(SignalKind::hangup())?,
        })
    }

    /// The next stop signal: its name and number.
    async fn next(&mut self) -> (&'static str, i32) {
        tokio::select! {
            _ = self.interrupt.recv() => ("interrupt", libc_number::SIGINT),
            _ = self.terminate.recv() => ("SIGTERM", libc_number::SIGTERM),
            _ = self.hangup.recv() => ("SIGHUP", libc_number::SIGHUP),
        }
    }
}

/// Exit code of a run stopped by a signal: 128 + its number, as shells report it.
fn stopped_exit_code() -> ExitCode {
    let number = STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst);
    let number = if number == 0 {
        libc_number::SIGINT
    } else {
        number
    };
    ExitCode::from((128 + number) as u8)
}

/// Signal numbers (the same on every Unix tarjim builds for).
mod libc_number {
    pub const SIGHUP: i32 = 1;
    pub const SIGINT: i32 = 2;
    pub const SIGTERM: i32 = 15;
}

/// `tarjim glossary list`: the name table as JSON, or one tab-separated line per name.
fn list_names(names: &[tarjim::cache::StoredName], json: bool, path: &std::path::Path) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(names).unwrap_or_default()
        );
    } else if names.is_empty() {
        println!("the name table in {} is empty", path.display());
    } else {
        println!("status\truns\tarabic\tenglish\tkind");
        for name in names {
            let status = if name.accepted {
                "reviewed"
            } else {
                "proposed"
            };
            println!(
                "{status}\t{}\t{}\t{}\t{}",
                name.runs, name.arabic, name.english, name.kind
            );
        }
    }
}

fn glossary(settings: &Settings, command: GlossaryCommand) -> ExitCode {
    let cache = match tarjim::cache::Cache::open(&settings.cache_path()) {
        Ok(cache) => cache,
        Err(error) => return fail(&anyhow::Error::new(error), 1),
    };
    let names = match cache.names() {
        Ok(names) => names,
        Err(error) => return fail(&anyhow::Error::new(error), 1),
    };
    match command {
        GlossaryCommand::List { json } => {
            list_names(&names, json, cache.path());
            ExitCode::SUCCESS
        }
        GlossaryCommand::Accept {
            arabic,
            english,
            kind,
        } => {
            let key = tarjim::fidelity::arabic::Form::new(&arabic)
                .map(|form| form.text())
                .unwrap_or_else(|| arabic.clone());
            let accepted = cache
                .accept_name(&key, english.as_deref(), kind.as_deref())
                .and_then(|found| {
                    if found {
                        Ok(true)
                    } else {
                        cache.accept_name(&arabic, english.as_deref(), kind.as_deref())
                    }
                });
            match accepted {
                Ok(true) => {
                    println!("reviewed: {arabic}");
                    ExitCode::SUCCESS
                }
                Ok(false) => fail(
                    &anyhow::anyhow!(
                        "no name `{arabic}` in the name table {} (`tarjim glossary list` shows them)",
                        cache.path().display()
                    ),
                    USAGE_ERROR,
                ),
                Err(error) => fail(&anyhow::Error::new(error), 1),
            }
        }
        GlossaryCommand::Export { out, all } => {
            let text = tarjim::names::export(&names, all);
            match out {
                None => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Some(path) => match tarjim::fsutil::write_atomic(&path, text.as_bytes()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(error) => fail(&anyhow::Error::new(error), 1),
                },
            }
        }
    }
}

fn cache(settings: &Settings, command: CacheCommand) -> ExitCode {
    let path = settings.cache_path();
    let cache = match tarjim::cache::Cache::open(&path) {
        Ok(cache) => cache,
        // A cache that cannot be opened (corrupt, not a database) can still be cleared: the
        // files go, and the next run starts an empty one.
        Err(error) if matches!(command, CacheCommand::Clear) && path.exists() => {
            return remove_broken_cache(&path, &error)
        }
        Err(error) => return fail(&anyhow::Error::new(error), 1),
    };
    match command {
        CacheCommand::Stats => match cache.stats() {
            Ok(stats) => {
                println!("path: {}", stats.path.display());
                println!("entries: {}", stats.entries);
                println!("bytes: {}", stats.bytes);
                for (stage, count) in stats.by_stage {
                    println!("  {stage}: {count}");
                }
                ExitCode::SUCCESS
            }
            Err(error) => fail(&anyhow::Error::new(error), 1),
        },
        CacheCommand::Clear => match cache.clear() {
            Ok(removed) => {
                println!("removed {removed} entries from {}", cache.path().display());
                ExitCode::SUCCESS
            }
            Err(error) => fail(&anyhow::Error::new(error), 1),
        },
    }
}

/// Delete a cache database that cannot be opened, with its WAL and shared-memory files.
fn remove_broken_cache(path: &std::path::Path, error: &tarjim::cache::CacheError) -> ExitCode {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = std::path::PathBuf::from(name);
        if let Err(remove_error) = std::fs::remove_file(&file) {
            if remove_error.kind() != std::io::ErrorKind::NotFound {
                return fail(
                    &anyhow::anyhow!("{}: cannot remove it: {remove_error}", file.display()),
                    1,
                );
            }
        }
    }
    println!(
        "{} could not be opened ({error}); removed it, the next run starts an empty cache",
        path.display()
    );
    ExitCode::SUCCESS
}

#[cfg(feature = "embedded")]
async fn model(settings: &Settings, command: ModelCommand, backend: Option<&str>) -> ExitCode {
    use tarjim::backend::BackendSettings;
    use tarjim::model::{self, ModelSource};

    let stage_backends = settings
        .stages
        .translate
        .iter()
        .chain(&settings.stages.summarize)
        .chain(&settings.stages.names)
        .chain(&settings.stages.brief);
    let name = backend.map(str::to_string).or_else(|| {
        stage_backends
            .chain(settings.backends.keys())
            .find(|name| matches!(settings.backend(name), Some(BackendSettings::Embedded(_))))
            .cloned()
    });
    let embedded = match name.as_deref().and_then(|name| settings.backend(name)) {
        Some(BackendSettings::Embedded(embedded)) => embedded,
        _ => {
            let error = anyhow::anyhow!(
                "no embedded backend named `{}` is configured",
                name.unwrap_or_else(|| "embedded".into())
            );
            return fail(&error, USAGE_ERROR);
        }
    };
    match command {
        ModelCommand::Path => {
            println!("{}", model::describe_location(&embedded.location()));
            ExitCode::SUCCESS
        }
        ModelCommand::Pull => {
            let location = embedded.location();
            let pulled = match &location.source {
                ModelSource::Default => {
                    let dir = location.models_dir.clone();
                    tokio::task::spawn_blocking(move || model::pull_default(&dir))
                        .await
                        .map_err(|error| anyhow::anyhow!("model download panicked: {error}"))
                        .and_then(|result| result.map_err(anyhow::Error::new))
                }
                ModelSource::HuggingFace(_) => {
                    let hub = std::env::var("HF_ENDPOINT")
                        .unwrap_or_else(|_| "https://huggingface.co".into());
                    model::pull_hf(&embedded.model, &location.models_dir, &hub)
                        .await
                        .map_err(anyhow::Error::new)
                }
                _ => model::verify(&location)
                    .map(|_| location.path.clone())
                    .map_err(anyhow::Error::new),
            };
            match pulled {
                Ok(path) => {
                    println!("{}", path.display());
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error, 1),
            }
        }
    }
}

#[cfg(not(feature = "embedded"))]
async fn model(_settings: &Settings, _command: ModelCommand, _backend: Option<&str>) -> ExitCode {
    let error = anyhow::anyhow!(
        "this tarjim was built without the `embedded` feature, which runs local models"
    );
    fail(&error, USAGE_ERROR)
}

/// Print `error:` and its causes, then the advice any of them carries as `hint:` lines.
fn fail(error: &anyhow::Error, code: u8) -> ExitCode {
    let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
    let mut hints: Vec<&str> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for line in &chain {
        let (message, advice) = hint::split(line);
        lines.push(message);
        for given in advice {
            if !hints.contains(&given) {
                hints.push(given);
            }
        }
    }
    if let Some((first, causes)) = lines.split_first() {
        eprintln!("error: {first}");
        for cause in causes {
            eprintln!("  Caused by: {cause}");
        }
    }
    for hint in hints {
        eprintln!("hint: {hint}");
    }
    ExitCode::from(code)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "tarjim=debug,warn",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only on a terminal (and never with NO_COLOR): a log redirected to a file by cron
    // must not fill with escape codes.
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
}
