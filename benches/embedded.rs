//! Throughput of the embedded engine, measured the way `llama-bench -p 128 -n 64` measures
//! llama.cpp, so the two can be compared (see BENCHMARKS-embedded.md).
//!
//! It goes through the public `EmbeddedBackend` API (chat template, slot scheduler, sampling,
//! detokenization all included) rather than calling llama.cpp directly, because the point is
//! the overhead of our engine. `ignore_eos` makes every request generate exactly `max_tokens`
//! tokens, like llama-bench. Prompt processing is timed as a request with `max_tokens = 1`
//! (prefill plus one sampled token); generation as the extra time of `max_tokens = 1 + 64`
//! over that, so prefill is subtracted out. The aggregate figure runs 4 such requests at once
//! (one batch of 4 sequences per decode) and subtracts the 4-way prefill the same way.
//! Run: `cargo bench --bench embedded` (env `TARJIM_BENCH_THREADS`, default 2; `TARJIM_BENCH_REPS`,
//! default 3, the median is reported; `TARJIM_BENCH_FLASH_ATTENTION=1` turns flash attention on).

use std::time::{Duration, Instant};

use tarjim::backend::embedded::{EmbeddedBackend, EmbeddedSettings};
use tarjim::backend::{Request, Stage};

const GEN: u32 = 64;

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn engine(max_tokens: u32, threads: u32) -> Result<EmbeddedBackend, String> {
    let settings = EmbeddedSettings {
        context: 4096,
        parallel: 4,
        threads,
        max_tokens,
        ignore_eos: true,
        // Every request is evaluated whole, like llama-bench's.
        prefix_cache: false,
        flash_attention: env_u32("TARJIM_BENCH_FLASH_ATTENTION", 0) == 1,
        ..EmbeddedSettings::default()
    };
    EmbeddedBackend::start(&settings).map_err(|e| e.to_string())
}

/// A prompt that the Qwen chat template turns into ~128 tokens (the exact count is printed).
fn request(variant: usize) -> Request {
    let words = [
        "الاقتصاد",
        "الحكومة",
        "الانتخابات",
        "المدينة",
        "الطقس",
        "المدرسة",
        "الطريق",
        "السوق",
    ];
    let mut user = format!("تقرير رقم {variant}: ");
    for i in 0..74 {
        user.push_str(words[(i * 3 + variant) % words.len()]);
        user.push(' ');
    }
    Request {
        stage: Stage::Translate,
        input: user.clone(),
        system: "Translate the Arabic text to English.".into(),
        user,
        json_schema: None,
    }
}

/// Wall time of running `requests` concurrently; returns (elapsed, prompt tokens of the first,
/// completion tokens summed).
async fn run(
    backend: &EmbeddedBackend,
    requests: &[Request],
) -> Result<(Duration, u64, u64), String> {
    let start = Instant::now();
    let answers = futures::future::join_all(requests.iter().map(|r| backend.complete(r))).await;
    let elapsed = start.elapsed();
    let mut prompt = 0;
    let mut completion = 0;
    for (i, a) in answers.into_iter().enumerate() {
        let a = a.map_err(|e| e.to_string())?;
        if i == 0 {
            prompt = a.prompt_tokens;
        }
        completion += a.completion_tokens;
    }
    Ok((elapsed, prompt, completion))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn bench() -> Result<(), String> {
    let threads = env_u32("TARJIM_BENCH_THREADS", 2);
    let reps = env_u32("TARJIM_BENCH_REPS", 3).max(1) as usize;
    let one = engine(1, threads)?;
    let full = engine(1 + GEN, threads)?;
    let solo = vec![request(0)];
    let four: Vec<Request> = (0..4).map(request).collect();

    // Warm-up (page in the mmapped weights, let OpenMP spin up).
    run(&full, &solo).await?;

    let (mut pp, mut tg, mut agg) = (Vec::new(), Vec::new(), Vec::new());
    let mut n_prompt = 0;
    for _ in 0..reps {
        let (t1, p, _) = run(&one, &solo).await?;
        let (tn, _, c) = run(&full, &solo).await?;
        n_prompt = p;
        assert_eq!(c, u64::from(1 + GEN));
        pp.push(p as f64 / t1.as_secs_f64());
        tg.push(f64::from(GEN) / (tn - t1).as_secs_f64());

        let (t1x4, _, _) = run(&one, &four).await?;
        let (tnx4, _, c4) = run(&full, &four).await?;
        assert_eq!(c4, 4 * u64::from(1 + GEN));
        agg.push(f64::from(4 * GEN) / (tnx4 - t1x4).as_secs_f64());
    }
    let (pp, tg, agg) = (median(pp), median(tg), median(agg));
    println!("threads={threads} reps={reps} prompt_tokens={n_prompt} gen={GEN}");
    println!("pp{n_prompt}: {pp:.2} tok/s");
    println!("tg{GEN} (1 sequence): {tg:.2} tok/s");
    println!(
        "tg{GEN} x4 batched (aggregate): {agg:.2} tok/s ({:.2}x single)",
        agg / tg
    );
    Ok(())
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    if let Err(err) = runtime.block_on(bench()) {
        eprintln!("benchmark failed: {err}");
        std::process::exit(1);
    }
}
