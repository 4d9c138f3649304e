#!/usr/bin/env bash
# clang-tidy 14 with the repository's .clang-tidy over the product's own sources (shared/,
# client/, server/), from the asan build's compile database, in parallel, every warning an
# error. The tests are left out to keep the run near three minutes on 2 cores. Usage:
#   bash scripts/tidy.sh [BUILD_DIR]      (default build/asan; configure it first)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/asan}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy: no $build/compile_commands.json; run 'cmake --preset asan' first" >&2
  exit 2
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
git ls-files 'shared/*.cpp' 'client/*.cpp' 'server/*.cpp' |
  xargs -P "$(nproc)" -n 4 clang-tidy-14 -p "$build" --quiet --warnings-as-errors='*' \
    >"$report" 2>&1 || status=$?
grep -E "warning:|error:" "$report" | sort -u || true
echo
if [ "$status" -ne 0 ]; then
  echo "tidy: findings above (fix them, or say in .clang-tidy why a check is left out)" >&2
  exit 1
fi
echo "tidy: no findings"
