#!/usr/bin/env bash
# Real clients against a real server over TLS on loopback: how long a directorate's first sync
# of N new proposals takes, how long a new client's bootstrap of the whole programme takes, and
# one incremental edit's round trip. Uses the release build:
#   cmake --preset release && cmake --build --preset release && bash bench/sync_bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
ergon=build/release/client/cli/ergon
ergond=build/release/server/admin/ergond
work=$(mktemp -d /tmp/ergon-bench.XXXXXX)
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
ms() { date +%s%3N; }

"$ergond" init --data "$work/server" --year 2024 >/dev/null
fp=$("$ergond" fingerprint --data "$work/server")
"$ergond" serve --data "$work/server" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" & server=$!
for _ in $(seq 50); do grep -q listening "$work/out" && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$work/out")

python3 - "$n" >"$work/programme.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("ka_code;title;category;new_or_continuing;directorate;area;total_budget;paid_to_date;allocation;funding;status;strategic_plans;priority;remarks")
for i in range(n):
    print(f"{10 + i % 80:02d}-7323.{1 + i // 80:03d};Έργο οδοποιίας αρ. {i};work;new;DTE;ALL;1.000.000,00;0,00;400.000,00;1099=100.000,00|0518=300.000,00;maturing;SVAA;A;Παρατήρηση {i}")
PY

t1=$("$ergond" enrol --data "$work/server" --role directorate --directorate DTE --name bench)
t2=$("$ergond" enrol --data "$work/server" --role auditor --name reader)
"$ergon" --home "$work/a" init --directorate DTE --year 2024 --server "$addr" --token "$t1" --fingerprint "$fp" >/dev/null
"$ergon" --home "$work/a" import "$work/programme.csv" >/dev/null 2>&1
start=$(ms); "$ergon" --home "$work/a" sync --json >"$work/push.json"; push=$(( $(ms) - start ))

"$ergon" --home "$work/b" init --server "$addr" --token "$t2" --fingerprint "$fp" >/dev/null
start=$(ms); "$ergon" --home "$work/b" sync --json >"$work/boot.json"; boot=$(( $(ms) - start ))

id=$("$ergon" --home "$work/a" list --search 'αρ. 42' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
edits=()
for i in $(seq 10); do
  "$ergon" --home "$work/a" edit "$id" remarks="γύρος $i" >/dev/null
  start=$(ms); "$ergon" --home "$work/a" sync >/dev/null; edits+=( $(( $(ms) - start )) )
done
median=$(printf '%s\n' "${edits[@]}" | sort -n | sed -n 5p)
rss=$(grep VmHWM /proc/$server/status | awk '{print $2}')

echo "proposals                                  $n"
echo "first sync, push $n creates (batches of 500)  ${push} ms ($(( n * 1000 / (push > 0 ? push : 1) )) changes/s)"
echo "bootstrap of a new client (snapshot)      ${boot} ms"
echo "one edit + sync round trip (median of 10)  ${median} ms (each a new TLS connection)"
echo "server peak RSS                            ${rss} KiB"
