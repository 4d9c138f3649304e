#!/usr/bin/env bash
# Sets everything up and runs every test: the formatting check, the ASan+UBSan build with all
# test binaries (unit, scenario, property, client crash tests, real-process integration tests),
# then a bounded libFuzzer run of the wire and text parsers. Run from anywhere, as root on a
# fresh Debian 12 (installs what is missing). ERGON_FUZZ_SECONDS sets the fuzz time per target.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== formatting (clang-format-14 --dry-run --Werror)"
git ls-files '*.cpp' '*.h' | xargs clang-format-14 --dry-run --Werror

echo "== coroutine lint (capturing coroutine lambdas, temporaries to coroutine reference parameters)"
python3 scripts/lint_coroutines.py --self-test
python3 scripts/lint_coroutines.py

echo "== size lint (no file over 500 lines, no function over 60, tests aside)"
python3 scripts/lint_sizes.py --self-test
python3 scripts/lint_sizes.py .

echo "== asan workflow: configure, build, test"
cmake --workflow --preset asan

echo "== sync harness, quick mode (a real ergond and clients; checks every figure is produced)"
build/asan/bench/sync_harness --quick --out build/asan/bench-quick.json

echo "== clang-tidy (.clang-tidy's checks over shared/, client/, server/)"
bash scripts/tidy.sh build/asan

echo "== fuzz: libFuzzer on the frame decoder, the text parsers and the request router"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
seconds=${ERGON_FUZZ_SECONDS:-45}
for target in wire_fuzz text_fuzz router_fuzz; do
  corpus=$(mktemp -d)
  cp -r "tests/fuzz/corpus/${target%_fuzz}/." "$corpus/" 2>/dev/null || true
  echo "-- $target for ${seconds}s"
  "build/fuzz/tests/fuzz/$target" -max_total_time="$seconds" -max_len=65536 "$corpus" 2>&1 | tail -n 2
  rm -rf "$corpus"
done
echo "== all tests passed"
