//! The fidelity checks' false alarms on human translations: every line of a parallel set
//! (Arabic source, English reference) is checked as if the reference were tarjim's answer, and
//! the flags are counted by kind and printed. A correct translation should raise nothing, so
//! each flag here is a false alarm to read.
//!
//! ```sh
//! cargo run --no-default-features --example check_references -- \
//!     $NTREX/ntrex128.first513.ar.txt $NTREX/ntrex128.first513.en.txt
//! ```

use std::collections::BTreeMap;

use tarjim::fidelity::{self, glossary::Glossary};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let [source, reference] = paths.as_slice() else {
        return Err("usage: check_references SOURCE.ar.txt REFERENCE.en.txt".into());
    };
    let source = std::fs::read_to_string(source).map_err(|e| format!("{source}: {e}"))?;
    let reference = std::fs::read_to_string(reference).map_err(|e| format!("{reference}: {e}"))?;
    let glossary = Glossary::load("")?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut lines = 0;
    for (number, (arabic, english)) in source.lines().zip(reference.lines()).enumerate() {
        lines += 1;
        for flag in fidelity::check(arabic, english, &glossary) {
            *counts.entry(flag.kind.as_str()).or_default() += 1;
            println!(
                "line {}: {}: {}",
                number + 1,
                flag.kind.as_str(),
                flag.message
            );
        }
    }
    println!("{lines} lines; flags by kind: {counts:?}");
    Ok(())
}
