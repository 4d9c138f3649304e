#!/usr/bin/env bash
# Installs the Debian 12 packages Ergon needs (the one list, from DESIGN.md) when missing.
# Run as root on a fresh Debian 12. Never installs the unversioned libboost-dev (1.74).
set -euo pipefail

packages=(
  libboost1.81-dev libsqlite3-dev libprotobuf-dev protobuf-compiler libcereal-dev
  nlohmann-json3-dev catch2 libssl-dev libcli11-dev libutf8proc-dev libfmt-dev
  libexpected-dev libzstd-dev
  cmake ninja-build g++ clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14
  chromium fonts-dejavu-core poppler-utils libxlsxwriter-dev python3-openpyxl
  python3 tzdata systemd dpkg-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
