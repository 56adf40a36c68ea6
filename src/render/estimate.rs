//! `tarjim estimate` as a table for a person.

use std::fmt::Write;

use crate::record::Estimate;

/// The estimate as text: one line per stage and backend, then the totals and what they assume.
pub fn text(estimate: &Estimate) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} articles, {} chunks; {} requests already cached (cost 0)",
        estimate.articles, estimate.chunks, estimate.cached
    );
    let _ = writeln!(
        out,
        "{:<12} {:<14} {:>9} {:>11} {:>11} {:>11} {:>11}",
        "stage", "backend", "requests", "tokens in", "tokens out", "characters", "cost"
    );
    for row in &estimate.stages {
        let stage = if row.exact {
            row.stage.to_string()
        } else {
            format!("{}*", row.stage)
        };
        let _ = writeln!(
            out,
            "{:<12} {:<14} {:>9} {:>11} {:>11} {:>11} {:>11.4}",
            stage,
            row.backend,
            row.requests,
            row.tokens_in,
            row.tokens_out,
            row.characters,
            row.cost
        );
    }
    let _ = writeln!(
        out,
        "{:<27} {:>9} {:>11} {:>11} {:>11} {:>11.4}",
        "total",
        estimate.requests,
        estimate.tokens_in,
        estimate.tokens_out,
        estimate.characters,
        estimate.cost
    );
    let _ = writeln!(
        out,
        "cost with repairs of flagged chunks: {:.4}",
        estimate.cost_with_repairs
    );
    match estimate.seconds {
        Some(seconds) => {
            let _ = writeln!(out, "time: about {}", minutes(seconds));
        }
        None => {
            let _ = writeln!(
                out,
                "time: unknown (set requests_per_minute or tokens_per_minute on the HTTP backends)"
            );
        }
    }
    if estimate.stages.iter().any(|row| !row.exact) {
        let _ = writeln!(
            out,
            "* projected: their requests are made from answers that do not exist yet"
        );
    }
    for note in &estimate.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

fn minutes(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}
