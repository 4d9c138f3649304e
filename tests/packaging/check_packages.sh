#!/usr/bin/env bash
# Builds the two .deb packages from an already built tree and checks them: the files each one
# must carry, the maintainer scripts, the declared dependencies, and the systemd units as
# systemd itself parses them. Registered in ctest as packages_build_and_verify.
#
# Usage: check_packages.sh BUILD_DIR [CPACK]
#   BUILD_DIR  a configured build folder in which ergon and ergond are built (build/asan)
#   CPACK      the cpack of the CMake that configured it (ctest passes ${CMAKE_CPACK_COMMAND})
#
# cpack is run directly, not `cmake --build --target package`: the package target first builds
# everything (every test binary included), while cpack only installs what is already built into
# a staging folder. So it neither rebuilds nor recurses into ctest. Its output and staging go to
# a temporary folder, never into BUILD_DIR.
set -euo pipefail

build=${1:?usage: check_packages.sh BUILD_DIR [CPACK]}
cpack=${2:-cpack}
build=$(cd "$build" && pwd)

failures=0
fail() {  # a failed check: reported, counted, and the other checks still run
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
die() {  # nothing further can be checked
  echo "FAIL: $*" >&2
  exit 1
}

for tool in "$cpack" dpkg-deb systemd-analyze systemd-sysusers systemd-tmpfiles; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/setup.sh installs it)"
done
[ -f "$build/CPackConfig.cmake" ] || die "no CPackConfig.cmake in $build (configure it first)"
for bin in client/cli/ergon server/admin/ergond; do
  [ -x "$build/$bin" ] || die "$build/$bin is not built (cmake --build $build --target ${bin##*/})"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- Build the packages ---------------------------------------------------------------------
# The packages as configured, nothing overridden. On the ASan build this takes about 25 s, nearly
# all of it dpkg-shlibdeps reading the 130 MB (stripped) ASan binaries; release: 4 s.
if ! "$cpack" --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" \
    >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  die "cpack"
fi

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
declare -A deb
for pkg in ergon ergond; do
  found=("$work/out/${pkg}_"*.deb)
  if [ ${#found[@]} -ne 1 ] || [ ! -f "${found[0]}" ]; then
    die "expected one ${pkg}_*.deb, found: ${found[*]}"
  fi
  deb[$pkg]=${found[0]}
done
echo "built: $(basename "${deb[ergon]}") $(basename "${deb[ergond]}")"

# --- Contents --------------------------------------------------------------------------------
data_of() {  # the reference files a package carries, in its own folder
  local d=./usr/share/$1/data
  echo "$d/directorates.csv $d/areas.csv $d/funding-sources.csv $d/years.csv"
}
expect_ergon="./usr/bin/ergon ./usr/share/doc/ergon/README.md $(data_of ergon)"
expect_ergond="./usr/bin/ergond ./usr/share/doc/ergond/README.md $(data_of ergond)
  ./usr/lib/systemd/system/ergond.service ./usr/lib/systemd/system/ergond-backup.service
  ./usr/lib/systemd/system/ergond-backup.timer ./usr/lib/sysusers.d/ergond.conf
  ./usr/lib/tmpfiles.d/ergond.conf"

# Permissions and path of each entry of `dpkg-deb -c` (permissions owner size date time path).
contents() { dpkg-deb -c "$1" | awk '{ print $1, $6 }'; }

check_contents() {  # package, expected paths, paths (files or folders) it must not carry
  local pkg=$1 listing paths path outside
  listing=$(contents "${deb[$pkg]}")
  paths=$(awk '{ print $2 }' <<<"$listing")
  for path in $2; do
    grep -qxF -- "$path" <<<"$paths" || fail "$pkg lacks $path"
  done
  for path in $3; do
    if grep -qxF -- "$path" <<<"$paths" || grep -qF -- "$path/" <<<"$paths"; then
      fail "$pkg carries $path"
    fi
  done
  # The binary executable by all; nothing outside /usr (units, sysusers, tmpfiles included).
  grep -qx -- "-rwxr-xr-x ./usr/bin/$pkg" <<<"$listing" || fail "$pkg: /usr/bin/$pkg not 0755"
  outside=$(grep -vE '^\./(usr/.*)?$' <<<"$paths" || true)
  [ -z "$outside" ] || fail "$pkg installs outside /usr: $(tr '\n' ' ' <<<"$outside")"
}
check_contents ergon "$expect_ergon" "./usr/bin/ergond ./usr/lib/systemd"
check_contents ergond "$expect_ergond" "./usr/bin/ergon"

# --- Control fields --------------------------------------------------------------------------
field() { dpkg-deb -f "${deb[$1]}" "$2"; }
depends_on() {  # package, a Debian package its Depends must name (any version, any alternative)
  grep -qE "(^|[,|] )${2//+/\\+}( |,|$)" <<<"$(field "$1" Depends)" ||
    fail "$1: Depends lacks $2 ($(field "$1" Depends))"
}
libs="libc6 libstdc++6 libsqlite3-0 libssl3 libprotobuf32 libzstd1 libutf8proc2"
for pkg in ergon ergond; do
  [ "$(field $pkg Package)" = "$pkg" ] || fail "$pkg: Package is '$(field $pkg Package)'"
  [ "$(field $pkg Version)" = "$version-1" ] ||
    fail "$pkg: Version '$(field $pkg Version)', not $version-1"
  for f in Maintainer Section Architecture; do
    [ -n "$(field $pkg $f)" ] || fail "$pkg: no $f"
  done
  grep -q "Technical Programme" <<<"$(field $pkg Description)" ||
    fail "$pkg: Description lacks 'Technical Programme'"
  for lib in $libs; do
    depends_on $pkg "$lib"
  done
done
depends_on ergon libxlsxwriter4
depends_on ergond adduser
grep -q chromium <<<"$(field ergon Recommends)" || fail "ergon: Recommends lacks chromium"

# --- Maintainer scripts ----------------------------------------------------------------------
dpkg-deb -e "${deb[ergond]}" "$work/control"
for script in postinst prerm postrm; do
  file="$work/control/$script"
  if [ ! -x "$file" ]; then fail "ergond: no executable $script"; continue; fi
  read -r first <"$file"
  [ "$first" = '#!/bin/sh' ] || fail "ergond $script: not a /bin/sh script"
  sh -n "$file" || fail "ergond $script: sh syntax error"
  # Data in /var/lib/ergon is the municipality's record: no script may delete it, purge included.
  code=$(grep -v '^[[:space:]]*#' "$file" || true)
  if grep -qE 'rm[[:space:]].*/var/lib/ergon' <<<"$code"; then
    fail "ergond $script deletes /var/lib/ergon"
  fi
done

# --- systemd units ---------------------------------------------------------------------------
# There is no running systemd here (a container), so verify runs offline on the extracted
# package as a root folder. --root makes verify resolve the units and the ExecStart binary
# inside that folder, so it checks /usr/bin/ergond as the package installs it rather than
# needing a host-wide install. --recursive-errors=no: the root holds only this package, not
# systemd's own units, and the default (yes) fails on the missing sysinit.target that every
# service implicitly follows; with 'no' the units' own errors (unknown or malformed settings,
# a missing or non-executable binary) still fail the verify. Any output counts as a problem:
# systemd reports bad settings as warnings ("Unknown key ..., ignoring") but still exits 0.
root="$work/root"
dpkg-deb -x "${deb[ergond]}" "$root"
units="/usr/lib/systemd/system/ergond.service /usr/lib/systemd/system/ergond-backup.service
  /usr/lib/systemd/system/ergond-backup.timer"
# shellcheck disable=SC2086  # word splitting of $units is intended
if ! systemd-analyze --root="$root" --recursive-errors=no verify $units >"$work/verify.log" 2>&1 ||
    [ -s "$work/verify.log" ]; then
  cat "$work/verify.log" >&2
  fail "systemd-analyze verify reported problems"
fi
unit="$root/usr/lib/systemd/system/ergond.service"
grep -qx 'ExecStart=/usr/bin/ergond serve --data /var/lib/ergon --listen 0.0.0.0:7400' "$unit" ||
  fail "ergond.service: unexpected ExecStart"
grep -qx 'ConditionPathExists=/var/lib/ergon/ergond.db' "$unit" ||
  fail "ergond.service: no ConditionPathExists"
# What the README promises of the service: its user, the read-only system, no new privileges,
# a system-call filter, a restart after a crash; and the nightly backup's bounded copies.
for setting in 'User=ergon' 'ProtectSystem=strict' 'NoNewPrivileges=true' \
    'SystemCallFilter=@system-service' 'Restart=on-failure'; do
  grep -qx "$setting" "$unit" || fail "ergond.service: no $setting"
done
grep -qx 'ExecStart=/usr/bin/ergond backup --data /var/lib/ergon --into /var/lib/ergon/backups --keep 14' \
    "$root/usr/lib/systemd/system/ergond-backup.service" ||
  fail "ergond-backup.service: unexpected ExecStart"

# The user and folders postinst makes, applied to an empty root folder as systemd-sysusers and
# systemd-tmpfiles would at install: both parse their file (a bad line exits non-zero) and the
# folders come out 0700 and owned by the new user.
sys="$work/sysroot"
mkdir -p "$sys/etc"
if systemd-sysusers --root="$sys" "$root/usr/lib/sysusers.d/ergond.conf" \
      >"$work/sysusers.log" 2>&1 &&
    systemd-tmpfiles --root="$sys" --create "$root/usr/lib/tmpfiles.d/ergond.conf" \
      >"$work/tmpfiles.log" 2>&1; then
  uid=$(awk -F: '$1 == "ergon" { print $3 }' "$sys/etc/passwd")
  for dir in var/lib/ergon var/lib/ergon/backups; do
    [ "$(stat -c '%a %u' "$sys/$dir" 2>/dev/null)" = "700 $uid" ] ||
      fail "tmpfiles: /$dir is not 0700 and owned by ergon ($uid)"
  done
else
  cat "$work/sysusers.log" "$work/tmpfiles.log" >&2 2>/dev/null || true
  fail "ergond's sysusers.d or tmpfiles.d file"
fi

# The installed binaries still run after CPack stripped them.
[ "$("$root/usr/bin/ergond" --version)" = "ergond $version" ] || fail "extracted ergond --version"
dpkg-deb -x "${deb[ergon]}" "$work/client"
[ "$("$work/client/usr/bin/ergon" --version)" = "ergon $version" ] ||
  fail "extracted ergon --version"

if [ "$failures" -ne 0 ]; then
  echo "$failures packaging check(s) failed" >&2
  exit 1
fi
echo "packages OK: ergon and ergond $version-1"
