//! tarjim: a batch pipeline that turns a night's Arabic news into English briefings.
//!
//! The modules are listed in the order the data flows through them: configuration, reading
//! articles, cleaning, chunking, translating through a backend (with a persistent cache), and
//! rendering the outputs. `main.rs` is a thin shell around [`pipeline::run`].

pub mod cli;
pub mod settings;

pub mod article;
pub mod chunk;
pub mod decode;
pub mod normalize;

pub mod backend;
pub mod cache;
pub mod prompt;
pub mod stage;
pub mod structured;

pub mod fidelity;
pub mod names;
pub mod translate;

pub mod brief;
pub mod pipeline;
pub mod progress;
pub mod summarize;

pub mod eval;

pub mod fsutil;
pub mod lock;
pub mod model;
pub mod render;
