//! How many tokens the default model's own tokenizer makes of some files, beside tiktoken's
//! `o200k_base` count (the one `chunk.max_tokens` uses). `run.json` counts prompt tokens in the
//! model's tokens, so this is the denominator for "prompt tokens evaluated per source token".
//! Usage: `cargo run --release --example count_tokens -- FILE... [--model PATH]`.

use std::path::PathBuf;

use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use tarjim::chunk::TokenCounter;
use tarjim::model::{self, DEFAULT_MODEL_FILE};

fn main() {
    let mut files = Vec::new();
    let mut model_path = model::models_dir("").join(DEFAULT_MODEL_FILE);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.len()) {
            ("--model", 1..) => model_path = PathBuf::from(args.next().unwrap_or_default()),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        eprintln!("usage: count_tokens FILE... [--model PATH]");
        std::process::exit(2);
    }
    let fail = |what: String| -> ! {
        eprintln!("error: {what}");
        std::process::exit(1)
    };
    let backend = LlamaBackend::init().unwrap_or_else(|e| fail(format!("llama.cpp: {e}")));
    let params = LlamaModelParams::default().with_vocab_only(true);
    let model = LlamaModel::load_from_file(&backend, &model_path, &params)
        .unwrap_or_else(|e| fail(format!("{}: {e}", model_path.display())));
    let tiktoken = TokenCounter::new("o200k_base").unwrap_or_else(|e| fail(e));
    let (mut all_model, mut all_tiktoken) = (0, 0);
    println!("model tokens\to200k tokens\tfile");
    for file in &files {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| fail(format!("{}: {e}", file.display())));
        let model_tokens = model.vocab().tokenize(text.as_bytes(), false, false).len();
        let tiktoken_tokens = tiktoken.count(&text);
        println!("{model_tokens}\t{tiktoken_tokens}\t{}", file.display());
        all_model += model_tokens;
        all_tiktoken += tiktoken_tokens;
    }
    println!("{all_model}\t{all_tiktoken}\tall");
}
