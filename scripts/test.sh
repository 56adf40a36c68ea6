#!/usr/bin/env bash
# The project's test command (CI runs exactly this): set up, check formatting, build, fetch the
# default model if missing (kept in the user cache folder, outside the clone) while clippy
# checks the code, then run every test. llama.cpp is compiled once, by the build; clippy and the
# test build reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo build --locked
# The pull is mostly download: it overlaps the checks and the test build, and is waited for
# before the tests that need the model.
target/debug/tarjim model pull &
pull=$!
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --no-run
wait "$pull"
cargo test --locked "$@"
