#!/usr/bin/env bash
# Sets everything up and runs the main job: a server, directorate clients editing offline,
# sync over TLS, real conflicts settled by planning and by a directorate, decisions, envelopes
# with an over-committed source and its flag acknowledged, the stages, the programme report, the
# next year, a nightly backup, a directorate that syncs by USB stick, and a restore that loses
# nobody's work. Run from anywhere, as root on a
# fresh Debian 12 (installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh
echo "== building (release preset)"
cmake --preset release >/dev/null
cmake --build --preset release

ergon="$root/build/release/client/cli/ergon"
ergond="$root/build/release/server/admin/ergond"
work=$(mktemp -d /tmp/ergon-demo.XXXXXX)
mkdir -p "$work/usb"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
# A command the demo expects to be refused: its message and exit code are part of the show.
refused() { printf '$ %s\n' "$*"; set +e; "$@"; echo "exit code: $?"; set -e; }
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; true' EXIT

step "The IT department creates the server store (TLS key included) and enrols four devices"
show "$ergond" init --data "$work/server" --year 2024 --municipality 'Δήμος Ηρακλείου'
fingerprint=$("$ergond" fingerprint --data "$work/server")
planning_token=$("$ergond" enrol --data "$work/server" --role planning --name 'Τμήμα Προγραμματισμού')
dte_token=$("$ergond" enrol --data "$work/server" --role directorate --directorate DTE --name 'Τεχνικά Έργα, laptop')
dpol_token=$("$ergond" enrol --data "$work/server" --role directorate --directorate DPOL --name 'Πολεοδομία, laptop')
budget_token=$("$ergond" enrol --data "$work/server" --role budget --name 'Τμήμα Προϋπολογισμού')
"$ergond" serve --data "$work/server" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 50); do grep -q 'listening on' "$work/serve.out" && break; sleep 0.1; done
address=$(sed -n 's/^listening on //p' "$work/serve.out")
echo "ergond is listening on $address (TLS, key $fingerprint)"

planning=(--home "$work/planning")
dte=(--home "$work/dte")
dpol=(--home "$work/dpol")
budget=(--home "$work/budget")
first_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])'; }

step "Planning imports the directorates' spreadsheet (20 proposals) and syncs"
show "$ergon" "${planning[@]}" init --user 'Ελένη Μαρκάκη' --year 2024 --server "$address" --token "$planning_token" --fingerprint "$fingerprint"
show "$ergon" "${planning[@]}" import data/sample-programme-2024.csv --year 2024
show "$ergon" "${planning[@]}" sync

step "Two directorate laptops join, pinning the server's key, and receive the programme"
show "$ergon" "${dte[@]}" init --user 'Μαρία Παπαδάκη' --server "$address" --token "$dte_token" --fingerprint "$fingerprint"
show "$ergon" "${dte[@]}" sync
show "$ergon" "${dpol[@]}" init --user 'Νίκος Δασκαλάκης' --server "$address" --token "$dpol_token" --fingerprint "$fingerprint"
show "$ergon" "${dpol[@]}" sync

step "Offline: Technical Works searches (no accents, any case) and edits a square's money"
show "$ergon" "${dte[@]}" list --search 'ΠΛΑΤΕΙΑΣ ελευθεριας'
square=$("$ergon" "${dte[@]}" list --search 'πλατειας ελευθεριας' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
show "$ergon" "${dte[@]}" edit "$square" allocation=1.300.000,00 funding='0518=1.000.000,00|1099=300.000,00'
show "$ergon" "${dte[@]}" add title='Ανάπλαση πλατείας Αγίου Τίτου' category=work ka_code=30-7323.050 \
  area=HER-CITY total_budget=1.500.000,00 allocation=800.000,00 \
  funding='1099=300.000,00|0518=500.000,00' new_or_continuing=new status=maturing priority=A

step "An invalid edit is refused on the laptop itself, with what to fix (exit code 3)"
set +e
"$ergon" "${dte[@]}" edit "$square" allocation=5.000.000,00
echo "exit code: $?"
set -e

step "Offline: Town Planning edits its study; Planning raises the same square's money"
study=$("$ergon" "${dpol[@]}" list --directorate DPOL --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
show "$ergon" "${dpol[@]}" edit "$study" remarks='Σε συνεργασία με την Περιφέρεια' priority=A
show "$ergon" "${planning[@]}" edit "$square" allocation=1.500.000,00 funding='0518=1.000.000,00|1099=500.000,00'
show "$ergon" "${planning[@]}" edit "$study" priority=B
show "$ergon" "${dte[@]}" status

step "Everyone syncs: planning first, so Technical Works' money edit meets a concurrent one"
show "$ergon" "${planning[@]}" sync
show "$ergon" "${dte[@]}" sync
show "$ergon" "${dpol[@]}" sync
show "$ergon" "${planning[@]}" sync

step "The conflicts are parked, never lost: everyone sees them"
show "$ergon" "${planning[@]}" conflicts
show "$ergon" "${dte[@]}" status

step "Planning settles the money conflict, taking Technical Works' value"
money_conflict=$("$ergon" "${planning[@]}" conflicts --json | python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin) if c["group"] == "money"][0])')
show "$ergon" "${planning[@]}" resolve "$money_conflict" --take incoming
show "$ergon" "${planning[@]}" sync

step "Town Planning settles the conflict on its own study with a new value"
show "$ergon" "${dpol[@]}" sync
priority_conflict=$("$ergon" "${dpol[@]}" conflicts --json | python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin) if c["group"] == "priority"][0])')
show "$ergon" "${dpol[@]}" resolve "$priority_conflict" --value priority=A
show "$ergon" "${dpol[@]}" sync

step "A Town Planning field laptop, set up offline for 2025 by mistake, records a study; the server rejects it and nothing is lost"
field=(--home "$work/field")
field_token=$("$ergond" enrol --data "$work/server" --role directorate --directorate DPOL --name 'Πολεοδομία, φορητός πεδίου')
show "$ergon" "${field[@]}" init --directorate DPOL --user 'Κώστας Αλεξάκης' --year 2025
field_study=$("$ergon" "${field[@]}" add title='Μελέτη κυκλοφοριακής αναβάθμισης Αγίας Τριάδας' category=study \
  area=HER-CITY total_budget=90.000,00 allocation=90.000,00 funding='1099=90.000,00' \
  new_or_continuing=new status=maturing priority=B)
show "$ergon" "${field[@]}" init --server "$address" --token "$field_token" --fingerprint "$fingerprint"
refused "$ergon" "${field[@]}" sync
show "$ergon" "${field[@]}" list --directorate DPOL
show "$ergon" "${field[@]}" resend "${field_study:0:8}" year=2024
show "$ergon" "${field[@]}" sync

step "Planning decides: five proposals included, one deferred with a reason"
show "$ergon" "${planning[@]}" sync
mapfile -t ids < <("$ergon" "${planning[@]}" list --directorate DTE --json | python3 -c 'import json,sys; [print(p["id"][:8]) for p in json.load(sys.stdin)[:6]]')
show "$ergon" "${planning[@]}" decide "$square" "${ids[0]}" "${ids[1]}" "${ids[2]}" "$study" included
show "$ergon" "${planning[@]}" decide "${ids[5]}" deferred --reason 'Ώριμο για το 2025'
show "$ergon" "${planning[@]}" sync

step "Budget sets the envelopes; source 1099 is over-committed and raises a flag"
show "$ergon" "${budget[@]}" init --user 'Γιώργος Σταυράκης' --server "$address" --token "$budget_token" --fingerprint "$fingerprint"
show "$ergon" "${budget[@]}" sync
echo "Budget moves money on a work it has seen included: accepted, no conflict"
show "$ergon" "${budget[@]}" edit "$square" allocation=1.400.000,00 funding='0518=1.000.000,00|1099=400.000,00'
show "$ergon" "${budget[@]}" sync
show "$ergon" "${budget[@]}" envelope set 1099 300.000,00 --year 2024
show "$ergon" "${budget[@]}" envelope set 0518 5.000.000,00 --year 2024
show "$ergon" "${budget[@]}" sync
show "$ergon" "${planning[@]}" sync
show "$ergon" "${planning[@]}" envelopes --year 2024
show "$ergon" "${planning[@]}" flags --year 2024
show "$ergon" "${planning[@]}" flag ack envelope:2024:1099 --reason 'Συμπληρωματική χρηματοδότηση από το ΠΔΕ'
show "$ergon" "${planning[@]}" sync

step "On Technical Works' laptop: the decisions, the settled money and the acknowledged flag"
show "$ergon" "${dte[@]}" sync
show "$ergon" "${dte[@]}" list --state included
show "$ergon" "${dte[@]}" flags --year 2024
show "$ergon" "${dte[@]}" status

step "The draft is frozen only once every proposal is decided: the refusal names the undecided"
refused "$ergon" "${planning[@]}" stage advance draft --date 2024-01-15
mapfile -t rest < <("$ergon" "${planning[@]}" list --year 2024 --json | python3 -c 'import json,sys; [print(p["id"][:8]) for p in json.load(sys.stdin) if p["state"] in ("draft", "submitted")]')
show "$ergon" "${planning[@]}" decide "${rest[@]:0:2}" deferred --reason 'Δεν ωρίμασε ακόμη: στο πρόγραμμα του 2025'
show "$ergon" "${planning[@]}" decide "${rest[@]:2}" included
show "$ergon" "${planning[@]}" sync
show "$ergon" "${planning[@]}" sync
# The inclusions move the envelopes' use: planning acknowledges each flag it raises, with a reason.
for flag in $("$ergon" "${planning[@]}" flags --year 2024 --json | python3 -c 'import json,sys; [print(f["id"]) for f in json.load(sys.stdin) if not f["acknowledged"]]'); do
  show "$ergon" "${planning[@]}" flag ack "$flag" --reason 'Εξετάστηκε από τον Προγραμματισμό: καλύπτεται με αναμόρφωση'
done
show "$ergon" "${planning[@]}" sync

step "The programme's stages: the draft is frozen and goes to consultation"
show "$ergon" "${planning[@]}" stage advance draft --date 2024-01-15
show "$ergon" "${planning[@]}" stage advance consultation --date 2024-01-22
show "$ergon" "${planning[@]}" edit "$square" remarks='Μετά τη διαβούλευση: φωτισμός LED'
show "$ergon" "${planning[@]}" sync

step "The Municipal Committee and the Council decide; each stage is frozen with its checkpoint"
echo "A clerk types the ΑΔΑ without its hyphen and the date in the future: both are refused, with the forms"
refused "$ergon" "${planning[@]}" stage advance committee --decision 45/2024 --date 20/02/2024 --ada 'ΨΩ1ΓΩΗΓ7ΑΒ'
refused "$ergon" "${planning[@]}" stage advance committee --decision 45/2024 --date 20/02/2099 --ada 'ΨΩ1ΓΩΗΓ-7ΑΒ'
show "$ergon" "${planning[@]}" stage advance committee --decision 45/2024 --date 20/02/2024 --ada 'ΨΩ1ΓΩΗΓ-7ΑΒ'
show "$ergon" "${planning[@]}" stage advance approved --decision 101/2024 --date 2024-03-01 --ada '6ΞΥ4ΩΗΓ-1ΑΒ'

step "After approval the programme is locked: a directorate's new proposal is refused on its own laptop"
show "$ergon" "${dte[@]}" sync
refused "$ergon" "${dte[@]}" add title='Νέα πρόταση μετά την έγκριση' category=study area=HER-CITY \
  total_budget=50.000,00 allocation=50.000,00 funding=1099 new_or_continuing=new status=maturing priority=C

step "An amendment: planning opens it, moves money, and the Council closes it"
show "$ergon" "${planning[@]}" stage advance amendment --decision 250/2024 --date 10/06/2024
show "$ergon" "${planning[@]}" sync
show "$ergon" "${planning[@]}" edit "${ids[0]}" allocation=250.000,00 funding=0518
show "$ergon" "${planning[@]}" sync
show "$ergon" "${planning[@]}" stage close amendment-1 --decision 312/2024 --date 2024-06-28
show "$ergon" "${planning[@]}" stages

step "What changed between the draft and the approved programme, and in the amendment"
show "$ergon" "${planning[@]}" diff draft approved
show "$ergon" "${planning[@]}" diff approved amendment-1
show "$ergon" "${planning[@]}" show "$square" --as-of draft

step "Every client converged: the same state digest as the server"
for home in planning dte dpol budget field; do
  digest=$("$ergon" --home "$work/$home" sync --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
  printf '%-9s %s\n' "$home" "$digest"
done

step "The audit: the square's history as the server logged it, and the chain verified end to end"
show "$ergon" "${dte[@]}" history "$square"
show "$ergon" "${dte[@]}" audit verify
show "$ergond" audit verify --data "$work/server" --head "$("$ergon" "${dpol[@]}" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["chain_head"])')"

step "Amendment 2, prepared in a spreadsheet: export, an edit in the app, the old sheet comes back stale"
show "$ergon" "${planning[@]}" stage advance amendment --decision 380/2024 --date 15/09/2024
show "$ergon" "${planning[@]}" sync
show "$ergon" "${planning[@]}" export "$work/programme-2024.csv"
show "$ergon" "${planning[@]}" export "$work/programme-2024.xlsx"
# A planner edits the remarks of the sheet's first two rows; meanwhile, in the app, a colleague
# edits the first of them.
first_row=$(python3 - "$work/programme-2024.csv" "$work/programme-2024-edited.csv" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8-sig").read().splitlines()
header = text[0].split(";")
remarks = header.index("remarks")
rows = [line.split(";") for line in text[1:]]
for row in rows[:2]:
    row[remarks] = "Σημείωση από το φύλλο"
open(sys.argv[2], "w", encoding="utf-8-sig").write(
    "\r\n".join([text[0]] + [";".join(r) for r in rows]) + "\r\n")
print(rows[0][0][:8])
PY
)
show "$ergon" "${planning[@]}" edit "$first_row" remarks="Αλλαγή στην εφαρμογή μετά την εξαγωγή"
show "$ergon" "${planning[@]}" import "$work/programme-2024-edited.csv" --dry-run
show "$ergon" "${planning[@]}" import "$work/programme-2024-edited.csv"
show "$ergon" "${planning[@]}" sync
show "$ergon" "${planning[@]}" stage close amendment-2 --decision 401/2024 --date 2024-09-30

step "The official table of the approved programme: terminal, PDF for the council, Excel"
show "$ergon" "${planning[@]}" report --year 2024 --as-of approved --all
show "$ergon" "${planning[@]}" report --year 2024 --as-of approved --format pdf --out "$work/programme-2024-approved.pdf"
show "$ergon" "${planning[@]}" report --year 2024 --as-of amendment-2 --format xlsx --out "$work/programme-2024-amendment-2.xlsx"
show "$ergon" "${planning[@]}" report --year 2024 --format html --out "$work/programme-2024.html"

step "The next year: planning opens 2025 beside 2024 and carries the continuing works over"
show "$ergon" "${planning[@]}" year start 2025
show "$ergon" "${planning[@]}" sync
show "$ergon" "${planning[@]}" list --year 2025
show "$ergon" "${planning[@]}" stages

step "The nightly backup, taken while the server serves; the health check monitoring reads"
show "$ergond" backup --data "$work/server" --into "$work/backups" --keep 14
show "$ergond" status --data "$work/server"

step "Environment & Green Spaces has no network for weeks: it syncs by carrying a file"
dper_token=$("$ergond" enrol --data "$work/server" --role directorate --directorate DPER --name 'Περιβάλλον, γραφείο χωρίς δίκτυο')
dper=(--home "$work/dper")
show "$ergon" "${dper[@]}" init --directorate DPER --user 'Γιώργος Σπανάκης' --year 2025 --token "$dper_token" --fingerprint "$fingerprint"
show "$ergon" "${dper[@]}" add ka_code=35-7323.010 title='Φύτευση δέντρων στη Λεωφόρο Κνωσού' category=work \
  area=HER-CITY total_budget=120.000,00 allocation=60.000,00 funding=1099 new_or_continuing=new status=maturing priority=B
show "$ergon" "${dper[@]}" bundle export "$work/usb/dper-1.bundle"
show "$ergond" bundle apply --data "$work/server" "$work/usb/dper-1.bundle" "$work/usb/dper-1.answer"
show "$ergon" "${dper[@]}" bundle import "$work/usb/dper-1.answer"
show "$ergon" "${dper[@]}" list --year 2025 --directorate DPER

step "A disk fails: the server is restored from last night's backup; nobody's work is lost"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
show "$ergond" restore --data "$work/server" --from "$(ls "$work"/backups/ergond-*.backup | tail -n 1)"
"$ergond" serve --data "$work/server" --listen "$address" >"$work/serve.out" 2>>"$work/serve.log" &
server_pid=$!
for _ in $(seq 50); do grep -q 'listening on' "$work/serve.out" && break; sleep 0.1; done
show "$ergon" "${planning[@]}" sync
show "$ergon" "${dper[@]}" bundle export "$work/usb/dper-2.bundle"
show "$ergond" bundle apply --data "$work/server" "$work/usb/dper-2.bundle" "$work/usb/dper-2.answer"
show "$ergon" "${dper[@]}" bundle import "$work/usb/dper-2.answer"
show "$ergon" "${dper[@]}" bundle export "$work/usb/dper-3.bundle"
show "$ergond" bundle apply --data "$work/server" "$work/usb/dper-3.bundle" "$work/usb/dper-3.answer"
show "$ergon" "${dper[@]}" bundle import "$work/usb/dper-3.answer"
show "$ergon" "${planning[@]}" sync
show "$ergon" "${planning[@]}" list --year 2025 --directorate DPER
show "$ergond" audit verify --data "$work/server"

echo
echo "demo files are in $work (server log: $work/serve.log)"
