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
    /// A line worth telling the user now (a warning, a failure).
    fn note(&self, text: &str);
    fn finish(&self);
}

/// Pick the reporter for this run: `quiet` wins, then a bar if stderr is a terminal.
pub fn for_stderr(quiet: bool) -> Box<dyn Progress> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bar::new())
    } else {
        Box::new(LogLines::new(Duration::from_secs(10)))
    }
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
    started: Instant,
}

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} chunks  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar {
            bar,
            articles_total: AtomicU64::new(0),
            articles_done: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    fn refresh(&self) {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{}/{} articles  {:.0} tok/s",
            self.articles_done.load(Ordering::Relaxed),
            self.articles_total.load(Ordering::Relaxed),
            self.tokens.load(Ordering::Relaxed) as f64 / seconds
        ));
    }
}

impl Progress for Bar {
    fn begin(&self, articles: usize, chunks: usize) {
        self.articles_total
            .store(articles as u64, Ordering::Relaxed);
        self.bar.set_length(chunks as u64);
        self.refresh();
    }
    fn chunk_done(&self, tokens: usize, _cached: bool) {
        self.tokens.fetch_add(tokens as u64, Ordering::Relaxed);
        self.bar.inc(1);
        self.refresh();
    }
    fn article_done(&self, _id: &str, _failed: bool) {
        self.articles_done.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }
    fn note(&self, text: &str) {
        self.bar.println(text);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Plain lines every `every` (for cron and CI logs, where bars turn into noise).
pub struct LogLines {
    every: Duration,
    state: Mutex<LogState>,
}

struct LogState {
    started: Instant,
    last: Instant,
    articles: (u64, u64),
    chunks: (u64, u64),
    tokens: u64,
}

impl LogLines {
    pub fn new(every: Duration) -> LogLines {
        let now = Instant::now();
        LogLines {
            every,
            state: Mutex::new(LogState {
                started: now,
                last: now,
                articles: (0, 0),
                chunks: (0, 0),
                tokens: 0,
            }),
        }
    }

    fn update(&self, change: impl FnOnce(&mut LogState)) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut state);
        if state.last.elapsed() >= self.every {
            state.last = Instant::now();
            eprintln!("{}", state.line());
        }
    }
}

impl LogState {
    fn line(&self) -> String {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        format!(
            "tarjim: {}/{} articles, {}/{} chunks, {:.0} tok/s, {:.0} s elapsed",
            self.articles.0,
            self.articles.1,
            self.chunks.0,
            self.chunks.1,
            self.tokens as f64 / seconds,
            seconds
        )
    }
}

impl Progress for LogLines {
    fn begin(&self, articles: usize, chunks: usize) {
        self.update(|state| {
            state.articles.1 = articles as u64;
            state.chunks.1 = chunks as u64;
        });
        eprintln!("tarjim: {articles} articles, {chunks} chunks to translate");
    }
    fn chunk_done(&self, tokens: usize, _cached: bool) {
        self.update(|state| {
            state.chunks.0 += 1;
            state.tokens += tokens as u64;
        });
    }
    fn article_done(&self, _id: &str, _failed: bool) {
        self.update(|state| state.articles.0 += 1);
    }
    fn note(&self, text: &str) {
        eprintln!("{text}");
    }
    fn finish(&self) {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        eprintln!("{}", state.line());
    }
}
