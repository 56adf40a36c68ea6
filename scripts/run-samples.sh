#!/usr/bin/env bash
# The newcomer's first command: set up, build, fetch the default model if missing, and translate
# the sample articles with the embedded engine into output/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked
target/release/tarjim model pull
target/release/tarjim run samples/ --out output "$@"
echo "done: open output/ (articles/*.en.md, run.json)" >&2
