//! Showing progress: a bar on a terminal, periodic log lines otherwise, nothing when quiet.
//!
//! The pipeline only knows the [`Progress`] trait; this file is the one place that uses
//! indicatif. Everything goes to stderr, so stdout stays clean for data.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the pipeline reports as it goes.
pub trait Progress: Send + Sync {
    fn begin(&self, articles: usize, chunks: usize);
    fn chunk_done(&self, tokens: usize, cached: bool);
    fn article_done(&self, id: &str, failed: bool);
    /// A later stage starts with `total` steps: "summaries" (articles), "brief" (stories).
    fn stage_begin(&self, _stage: &'static str, _total: usize) {}
    /// One step of `stage` is done.
    fn stage_step(&self, _stage: &'static str) {}
    /// A line worth telling the user now (a warning, a failure).
    fn note(&self, text: &str);
    /// Every stage is done.
    fn finish(&self);
}

/// Pick the reporter for this run: `quiet` wins, then a bar if stderr is a terminal, else a
/// line every `every` (cron, CI).
pub fn for_stderr(quiet: bool, every: Duration) -> Box<dyn Progress> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bar::new())
    } else {
        Box::new(LogLines::new(every))
    }
}

/// Steps done and to do of one later stage, and when it started.
#[derive(Debug, Clone, Copy)]
struct StageCount {
    name: &'static str,
    done: u64,
    total: u64,
    started: Instant,
}

impl StageCount {
    fn text(&self) -> String {
        format!("{} {}/{}", self.name, self.done, self.total)
    }

    /// Seconds left at this stage's pace so far.
    fn eta(&self) -> Option<f64> {
        let left = self.total.saturating_sub(self.done);
        (self.done > 0 && left > 0)
            .then(|| self.started.elapsed().as_secs_f64() / self.done as f64 * left as f64)
    }
}

/// Seconds left to translate at the pace of the chunks sent so far. Cache hits are not that
/// pace: a resumed run answers its first hundreds of chunks from the cache in seconds, and
/// counting them would promise the rest in seconds too. None until a chunk was sent.
fn translation_eta(started: Instant, sent: u64, done: u64, total: u64) -> Option<f64> {
    (sent > 0 && done < total)
        .then(|| started.elapsed().as_secs_f64() / sent as f64 * (total - done) as f64)
}

/// Record a step in the stage list (the stage is created if `stage_begin` was missed).
fn step(stages: &mut Vec<StageCount>, name: &'static str) {
    match stages.iter_mut().find(|stage| stage.name == name) {
        Some(stage) => stage.done += 1,
        None => stages.push(StageCount {
            name,
            done: 1,
            total: 1,
            started: Instant::now(),
        }),
    }
}

fn begin_stage(stages: &mut Vec<StageCount>, name: &'static str, total: usize) {
    stages.retain(|stage| stage.name != name);
    stages.push(StageCount {
        name,
        done: 0,
        total: total as u64,
        started: Instant::now(),
    });
}

pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: usize, _: usize) {}
    fn chunk_done(&self, _: usize, _: bool) {}
    fn article_done(&self, _: &str, _: bool) {}
    fn note(&self, _: &str) {}
    fn finish(&self) {}
}

/// An indicatif bar over chunks, with articles done and tokens per second in the message.
pub struct Bar {
    bar: ProgressBar,
    articles_total: AtomicU64,
    articles_done: AtomicU64,
    tokens: AtomicU64,
    /// Chunks answered by a model, not the cache (for the ETA).
    sent: AtomicU64,
    started: Instant,
    stages: Mutex<Vec<StageCount>>,
}

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} chunks  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar {
            bar,
            articles_total: AtomicU64::new(0),
            articles_done: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            started: Instant::now(),
            stages: Mutex::default(),
        }
    }

    fn refresh(&self) {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let stages: Vec<String> = self
            .stages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|stage| match stage.eta() {
                Some(eta) => format!("{} (ETA {eta:.0} s)", stage.text()),
                None => stage.text(),
            })
            .collect();
        let mut message = format!(
            "{}/{} articles  {:.0} tok/s",
            self.articles_done.load(Ordering::Relaxed),
            self.articles_total.load(Ordering::Relaxed),
            self.tokens.load(Ordering::Relaxed) as f64 / seconds
        );
        for stage in stages {
            message.push_str("  ");
            message.push_str(&stage);
        }
        let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
        let sent = self.sent.load(Ordering::Relaxed);
        if let Some(eta) = translation_eta(self.started, sent, done, total) {
            message.push_str(&format!("  ETA {eta:.0} s"));
        }
        self.bar.set_message(message);
    }

    fn stages(&self) -> std::sync::MutexGuard<'_, Vec<StageCount>> {
        self.stages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Progress for Bar {
    fn begin(&self, articles: usize, chunks: usize) {
        self.articles_total
            .store(articles as u64, Ordering::Relaxed);
        self.bar.set_length(chunks as u64);
        self.refresh();
    }
    fn chunk_done(&self, tokens: usize, cached: bool) {
        // Tokens per second measure translation: cache hits are not work done.
        if !cached {
            self.tokens.fetch_add(tokens as u64, Ordering::Relaxed);
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
        self.bar.inc(1);
        self.refresh();
    }
    fn article_done(&self, _id: &str, _failed: bool) {
        self.articles_done.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }
    fn stage_begin(&self, stage: &'static str, total: usize) {
        begin_stage(&mut self.stages(), stage, total);
        self.refresh();
    }
    fn stage_step(&self, stage: &'static str) {
        step(&mut self.stages(), stage);
        self.refresh();
    }
    fn note(&self, text: &str) {
        self.bar.println(text);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Plain lines every `every` (for cron and CI logs, where bars turn into noise). A ticker
/// thread writes the line on time even when nothing finishes (a long brief request), so no
/// stage goes `every` without a line; it stops at [`Progress::finish`] or when dropped.
pub struct LogLines {
    state: std::sync::Arc<Mutex<LogState>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

struct LogState {
    started: Instant,
    articles: (u64, u64),
    chunks: (u64, u64),
    /// Chunks answered by a model, not the cache (for the ETA).
    sent: u64,
    tokens: u64,
    stages: Vec<StageCount>,
    /// When the chunk count last moved, for its ETA.
    chunks_started: Instant,
}

impl LogLines {
    pub fn new(every: Duration) -> LogLines {
        let now = Instant::now();
        let state = std::sync::Arc::new(Mutex::new(LogState {
            started: now,
            articles: (0, 0),
            chunks: (0, 0),
            sent: 0,
            tokens: 0,
            stages: Vec::new(),
            chunks_started: now,
        }));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (ticker_state, ticker_stop) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            let tick = Duration::from_millis(100).min(every);
            let mut last = Instant::now();
            while !ticker_stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                if last.elapsed() >= every && !ticker_stop.load(Ordering::Relaxed) {
                    last = Instant::now();
                    let line = lock(&ticker_state).line();
                    eprintln!("{line}");
                }
            }
        });
        LogLines { state, stop }
    }

    fn update(&self, change: impl FnOnce(&mut LogState)) {
        change(&mut lock(&self.state));
    }
}

fn lock(state: &Mutex<LogState>) -> std::sync::MutexGuard<'_, LogState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Drop for LogLines {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl LogState {
    fn line(&self) -> String {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let mut line = format!(
            "tarjim: {}/{} articles, {}/{} chunks",
            self.articles.0, self.articles.1, self.chunks.0, self.chunks.1,
        );
        for stage in &self.stages {
            line.push_str(", ");
            line.push_str(&stage.text());
        }
        line.push_str(&format!(
            ", {:.0} tok/s, {:.0} s elapsed",
            self.tokens as f64 / seconds,
            seconds
        ));
        if let Some(eta) = self.eta() {
            line.push_str(&format!(", ETA {eta:.0} s for this stage"));
        }
        line
    }

    /// The ETA of the stage at work: translation while chunks are left, else the last stage
    /// begun.
    fn eta(&self) -> Option<f64> {
        let (done, total) = self.chunks;
        if done < total {
            return translation_eta(self.chunks_started, self.sent, done, total);
        }
        self.stages.last().and_then(StageCount::eta)
    }
}

impl Progress for LogLines {
    fn begin(&self, articles: usize, chunks: usize) {
        self.update(|state| {
            state.articles.1 = articles as u64;
            state.chunks.1 = chunks as u64;
            state.chunks_started = Instant::now();
        });
        eprintln!("tarjim: {articles} articles, {chunks} chunks to translate");
    }
    fn chunk_done(&self, tokens: usize, cached: bool) {
        self.update(|state| {
            state.chunks.0 += 1;
            if !cached {
                state.sent += 1;
                state.tokens += tokens as u64;
            }
        });
    }
    fn article_done(&self, _id: &str, _failed: bool) {
        self.update(|state| state.articles.0 += 1);
    }
    fn stage_begin(&self, stage: &'static str, total: usize) {
        self.update(|state| begin_stage(&mut state.stages, stage, total));
        eprintln!("tarjim: {stage}: {total} to do");
    }
    fn stage_step(&self, stage: &'static str) {
        self.update(|state| step(&mut state.stages, stage));
    }
    fn note(&self, text: &str) {
        eprintln!("{text}");
    }
    fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
        eprintln!("{}", lock(&self.state).line());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resumed run: 350 of 513 chunks came from the cache at once, then 2 were translated in
    /// 20 s. The ETA is the 161 chunks left at 10 s each, not at the pace of the cache.
    #[test]
    fn cache_hits_do_not_shorten_the_eta() {
        let started = Instant::now() - Duration::from_secs(20);
        let eta = translation_eta(started, 2, 352, 513).expect("an ETA");
        assert!((1600.0..1700.0).contains(&eta), "{eta}");
        assert_eq!(translation_eta(started, 0, 350, 513), None);
        assert_eq!(translation_eta(started, 2, 513, 513), None);
    }
}
