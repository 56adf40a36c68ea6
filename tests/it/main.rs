//! The integration tests, as one binary (one link of the engine instead of one per file): each
//! module is one area, every test runs the real `tarjim` binary or the real engine, and every
//! helper lives in `support`.
//!
//! Tests that need the real default model (`default_model`, the embedded engine's, and the
//! model-written brief's) have `default_model` in their path (`cargo test default_model` runs
//! only them, `cargo test -- --skip default_model` all others) and fail, never skip, when the
//! model is missing: CI fetches it first.

mod support;

mod bad_input;
mod batch;
mod brief;
mod cost;
mod crash;
mod default_model;
mod eval;
mod faults;
mod fidelity;
mod injection;
mod mt_apis;
mod replicas;
mod run_pipeline;
mod secrets;
mod servers;
