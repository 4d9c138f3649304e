#!/usr/bin/env bash
# Sets everything up and runs every test: the ASan+UBSan build (configure, build, ctest) and the
# formatting check. Run from anywhere, as root on a fresh Debian 12 (installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== formatting (clang-format-14 --dry-run --Werror)"
git ls-files '*.cpp' '*.h' | xargs clang-format-14 --dry-run --Werror

echo "== asan workflow: configure, build, test"
cmake --workflow --preset asan
