#!/usr/bin/env bash
# Sets everything up and runs the main job: a directorate's offline year on the sample
# programme. Run from anywhere, as root on a fresh Debian 12 (installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh
echo "== building (release preset)"
cmake --preset release >/dev/null
cmake --build --preset release

ergon="$root/build/release/client/cli/ergon"
work=$(mktemp -d /tmp/ergon-demo.XXXXXX)
export ERGON_HOME="$work/dte"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "A laptop of the Directorate of Technical Works, with no network: set up its home"
show "$ergon" init --directorate DTE --user 'Μαρία Παπαδάκη' --year 2024

step "Import the directorate's spreadsheet (the sample programme, 20 rows)"
show "$ergon" import data/sample-programme-2024.csv --year 2024
step "Import it again: rows are matched without ids, so nothing changes"
show "$ergon" import data/sample-programme-2024.csv --year 2024

step "Search, ignoring case and accents"
show "$ergon" list --search 'ΠΛΑΤΕΙΑΣ ελευθεριας'
show "$ergon" list --search οδοποιια

step "Add a new proposal (prints only its id)"
id=$("$ergon" add title='Ανάπλαση πλατείας Αγίου Τίτου' category=work ka_code=30-7323.050 \
  area=HER-CITY total_budget=1.500.000,00 allocation=800.000,00 \
  funding='1099=300.000,00|0518=500.000,00' new_or_continuing=new status=maturing priority=A)
echo "$id"

step "Edit it: raise the allocation and its funding together"
show "$ergon" edit "${id:0:8}" allocation=900.000,00 funding='1099=400.000,00|0518=500.000,00'

step "An invalid edit is refused with a message that says how to fix it (exit code 3)"
set +e
"$ergon" edit "${id:0:8}" allocation=2.000.000,00
echo "exit code: $?"
set -e

step "Submit it to the Department of Programming"
show "$ergon" submit "${id:0:8}"
show "$ergon" show "${id:0:8}"

step "What waits to be synchronised"
show "$ergon" status

step "Export for the spreadsheet (round-trips through import)"
show "$ergon" export "$work/programme-2024.csv"
show "$ergon" import "$work/programme-2024.csv"

step "The programme table, with totals per directorate, category and funding source"
show "$ergon" report --year 2024

echo
echo "demo files are in $work"
