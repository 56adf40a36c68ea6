#!/usr/bin/env bash
# The project's test command (CI runs exactly this): set up, check formatting and lints, fetch
# the default model if missing (kept in the user cache folder, outside the clone), run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo build --locked
target/debug/tarjim model pull
cargo test --locked "$@"
