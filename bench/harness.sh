#!/usr/bin/env bash
# The sync benchmark in one command: builds the release preset (ergond and the harness), then
# runs bench/sync_harness against a real ergond on loopback. Arguments go to the harness
# (--quick, --directorates D, --proposals P, --edits E, --seed S); figures go to
# bench/results.json and the table to stdout. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target sync_harness ergond
nproc_note="$(nproc) cores, $(uname -m)"
echo "== sync harness on $nproc_note"
build/release/bench/sync_harness --out bench/results.json "$@"
