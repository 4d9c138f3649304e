#!/usr/bin/env bash
# Load test under attack: HONEST directorate clients sync (first sync, an edit, a second sync,
# then a final sync that must reach the planning client's digest) while HOSTILE connections
# (bench/hostile_peers.py: idle TCP, idle TLS, slow, oversized, garbage) are held open against
# the same ergond. Real processes over TLS on loopback, release build.
#
#   bash bench/hostile_load.sh [--quick] [HONEST [HOSTILE]]
#
#   HONEST   honest clients (default 500), run at most PARALLEL (default 50) processes at a time
#   HOSTILE  hostile connections (default 1000), open for the whole honest phase
#   --quick  20 honest, 50 hostile: a smoke check
#   env: PARALLEL=50  KEEP=1 (keep the temp folder)  HOSTILE_KINDS=idle_tcp,idle_tls,slow,...
#        RECONNECT_DELAY=1.0 (seconds before a closed hostile connection comes back)
#        HOSTILE_SOURCE=127.0.0.2 (the address the attack comes from: ergond lets one address
#        hold 256 connections logging in, so an attack from the honest clients' own address
#        would shut them out too, as it would behind one NAT)
#        HOT_FLOOD=1 (0 leaves it out: one device floods one proposal's remarks with edits, HOT_EDITS
#        (default 200) a sync, while another device of its directorate edits the same proposal
#        offline and pushes with a horizon the flood left behind; both through the honest phase)
#        LOADGEN_NICE=0 (run the honest clients and the hostile peers under `nice -n N`, so that
#        ergond gets a larger share of the CPU it shares with ~50 load-generating processes)
#
# Builds the release preset first when needed. Passes (exit 0) when every honest sync exits 0
# with nothing rejected, every honest client ends with the planning client's digest,
# `ergond verify` passes, the server is still running after the honest phase, and the server's
# peak RSS stays under 300 MB. Prints one table; files stay in the temp folder on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

honest=500 hostile=1000
if [ "${1:-}" = "--quick" ]; then honest=20 hostile=50; shift; fi
honest=${1:-$honest}
hostile=${2:-$hostile}
parallel=${PARALLEL:-50}
loadgen=(nice -n "${LOADGEN_NICE:-0}")
rss_limit_kb=$(( 300 * 1000 * 1000 / 1024 ))  # 300 MB (10^6 bytes)

ergon=$root/build/release/client/cli/ergon
ergond=$root/build/release/server/admin/ergond
work=$(mktemp -d /tmp/ergon-hostile.XXXXXX)
server= peers= sampler= ok=0
cleanup() {
  for pid in $sampler $peers $server; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$ok" = 1 ] && [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "files kept in $work"; fi
}
trap cleanup EXIT

if [ ! -f build/release/build.ninja ]; then nice cmake --preset release >"$work/build.log" 2>&1 ||
  { tail -20 "$work/build.log"; exit 1; }; fi
nice cmake --build --preset release >"$work/build.log" 2>&1 ||
  { echo "the release build failed:"; grep -m5 -A3 error "$work/build.log"; exit 1; }
now_ms() { local t=${EPOCHREALTIME//[^0-9]/}; echo $(( 10#$t / 1000 )); }
say() { printf '%s  %s\n' "$(date +%T)" "$*" >&2; }

# --- the server, and the programme seeded by a planning client ------------------------------
"$ergond" init --data "$work/server" --year 2024 >/dev/null
fp=$("$ergond" fingerprint --data "$work/server")
"$ergond" serve --data "$work/server" --listen 127.0.0.1:0 --max-connections 4096 \
  >"$work/serve.out" 2>"$work/ergond.log" &
server=$!
for _ in $(seq 100); do grep -q '^listening on' "$work/serve.out" && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$addr" ] || { echo "ergond did not start:"; cat "$work/ergond.log"; exit 1; }
say "ergond pid $server listening on $addr"

token=$("$ergond" enrol --data "$work/server" --role planning --name 'Προγραμματισμός')
planning=(--home "$work/planning")
"$ergon" "${planning[@]}" init --user 'Ελένη Μαρκάκη' --year 2024 --server "$addr" --token "$token" \
  --fingerprint "$fp" >/dev/null
"$ergon" "${planning[@]}" sync >/dev/null
"$ergon" "${planning[@]}" import data/sample-programme-2024.csv --year 2024 >/dev/null
"$ergon" "${planning[@]}" sync >/dev/null

# --- honest devices: enrolled and initialised before the attack (not timed) ------------------
mapfile -t codes < <(tail -n +2 data/directorates.csv | cut -d';' -f1)
mkdir -p "$work/clients"
for i in $(seq "$honest"); do
  code=${codes[$(( (i - 1) % ${#codes[@]} ))]}
  t=$("$ergond" enrol --data "$work/server" --role directorate --directorate "$code" \
        --name "φόρτος $i")
  printf '%s %s %s\n' "$i" "$code" "$t"
done >"$work/clients/tokens"
init_one() {  # i code token
  "$ergon" --home "$work/clients/$1" init --directorate "$2" --user "Χρήστης $1" --year 2024 \
    --server "$addr" --token "$3" --fingerprint "$fp" >/dev/null
}
export -f init_one
export ergon work addr fp
xargs -P "$parallel" -L 1 bash -c 'init_one "$@"' _ <"$work/clients/tokens"
say "$honest directorate devices enrolled and initialised"

# --- sampling the server every 0.5 s: RSS (KiB), open descriptors, CPU (user+sys ticks),
# connections the kernel has completed but ergond has not accepted yet (the listener's Recv-Q),
# and how long its main (network) thread was runnable but waiting for a CPU (ns, schedstat) ---
(
  while kill -0 "$server" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null || echo 0)
    fds=$(find "/proc/$server/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    cpu=$(awk '{print $14 + $15}' "/proc/$server/stat" 2>/dev/null || echo 0)
    backlog=$(ss -Hltn "sport = :${addr##*:}" 2>/dev/null | awk '{print $2; exit}')
    waited=$(awk '{print $2}' "/proc/$server/task/$server/schedstat" 2>/dev/null || echo 0)
    echo "$(now_ms) ${rss:-0} $fds ${cpu:-0} ${backlog:-0} ${waited:-0}"
    sleep 0.5
  done
) >"$work/samples" &
sampler=$!

# --- the attack ------------------------------------------------------------------------------
"${loadgen[@]}" python3 bench/hostile_peers.py "${addr%:*}" "${addr##*:}" --count "$hostile" \
  --kinds "${HOSTILE_KINDS:-idle_tcp,idle_tls,slow,oversized,garbage}" \
  --reconnect-delay "${RECONNECT_DELAY:-1.0}" --ready-file "$work/hostile.ready" \
  --source "${HOSTILE_SOURCE:-127.0.0.2}" \
  >"$work/hostile.json" 2>"$work/hostile.err" &
peers=$!
for _ in $(seq 1200); do [ -f "$work/hostile.ready" ] && break; sleep 0.1; done
[ -f "$work/hostile.ready" ] || { echo "hostile peers never got ready"; cat "$work/hostile.err"; exit 1; }
sleep 2
say "$hostile hostile connections open: $(cat "$work/hostile.err")"

# --- the hot proposal: a flood of edits of one proposal beside the honest clients -------------
hot=${HOT_FLOOD:-1}
flood_one() {  # home: edit the hot proposal HOT_EDITS times offline, sync; until flood.stop
  local home=$1 round=0 k rc
  while [ ! -f "$work/flood.stop" ]; do
    round=$((round + 1))
    for k in $(seq "${HOT_EDITS:-200}"); do
      "$ergon" --home "$home" edit "$hot_id" remarks="κύμα $round.$k" >/dev/null \
        2>>"$home.flood.err" || echo "$round.$k" >>"$home.flood.failed"
    done
    rc=0; "$ergon" --home "$home" sync --json >"$home.flood.json" 2>>"$home.flood.err" || rc=$?
    echo "$round $rc $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("sent",0), r.get("conflicts",0), r.get("rejected",0))' "$home.flood.json" 2>/dev/null || echo '0 0 0')" >>"$home.flood.rounds"
  done
}
flooders=()
if [ "$hot" = 1 ]; then
  for who in hot stale; do
    t=$("$ergond" enrol --data "$work/server" --role directorate --directorate DTE --name "κύμα $who")
    "$ergon" --home "$work/$who" init --directorate DTE --user "Κύμα $who" --year 2024 \
      --server "$addr" --token "$t" --fingerprint "$fp" >/dev/null
  done
  hot_id=$("$ergon" --home "$work/hot" add title="Το έργο του κύματος" category=work area=ALL \
    total_budget=100.000,00 allocation=50.000,00 funding=1099 new_or_continuing=new \
    status=maturing priority=C)
  "$ergon" --home "$work/hot" sync >/dev/null
  "$ergon" --home "$work/stale" sync >/dev/null
  export hot_id
  export -f flood_one
  for who in hot stale; do "${loadgen[@]}" bash -c 'flood_one "$1"' _ "$work/$who" & flooders+=($!); done
  say "hot proposal ${hot_id:0:8}: two devices flooding it, ${HOT_EDITS:-200} edits a sync"
fi

# --- the honest phase: first sync, an edit, second sync; PARALLEL processes at a time ---------
honest_one() {  # i: one line "i rc1 ms1 rc_edit rc2 ms2" in clients/i.result
  local i=$1 home=$work/clients/$1 t rc1 rc2 rce=0 ms1 ms2 id
  t=$(now_ms)
  rc1=0; timeout 300 "$ergon" --home "$home" sync --json >"$home.sync1" 2>"$home.err1" || rc1=$?
  ms1=$(( $(now_ms) - t ))
  id=$("$ergon" --home "$home" add title="Έργο φόρτου αρ. $i" category=work area=ALL \
         total_budget=1.500.000,00 allocation=800.000,00 funding='1099=300.000,00|0518=500.000,00' \
         new_or_continuing=new status=maturing priority=B 2>"$home.erre") || rce=$?
  [ "$rce" = 0 ] && { "$ergon" --home "$home" edit "$id" remarks="δεύτερη εκδοχή $i" \
                        >/dev/null 2>>"$home.erre" || rce=$?; }
  t=$(now_ms)
  rc2=0; timeout 300 "$ergon" --home "$home" sync --json >"$home.sync2" 2>"$home.err2" || rc2=$?
  ms2=$(( $(now_ms) - t ))
  echo "$i $rc1 $ms1 $rce $rc2 $ms2" >"$home.result"
}
final_one() {  # i: a last sync, its digest in clients/i.final
  local home=$work/clients/$1 t rc=0 ms
  t=$(now_ms)
  timeout 300 "$ergon" --home "$home" sync --json >"$home.sync3" 2>"$home.err3" || rc=$?
  ms=$(( $(now_ms) - t ))
  echo "$1 $rc $ms" >"$home.final"
}
export -f honest_one final_one now_ms

say "honest phase: $honest clients, $parallel at a time"
phase_start=$(now_ms)
seq "$honest" | "${loadgen[@]}" xargs -P "$parallel" -I{} bash -c 'honest_one {}'
phase_ms=$(( $(now_ms) - phase_start ))
touch "$work/flood.stop"
for pid in "${flooders[@]}"; do wait "$pid" || true; done
say "honest phase done in $phase_ms ms; converging"

"$ergon" "${planning[@]}" sync --json >"$work/planning.json" 2>"$work/planning.err" || true
final_start=$(now_ms)
seq "$honest" | "${loadgen[@]}" xargs -P "$parallel" -I{} bash -c 'final_one {}'
final_ms=$(( $(now_ms) - final_start ))
phase_end=$(now_ms)
"$ergon" "${planning[@]}" sync --json >"$work/planning2.json" 2>>"$work/planning.err" || true

server_alive=0; kill -0 "$server" 2>/dev/null && server_alive=1
kill -TERM "$peers"; wait "$peers" || true; peers=
kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=
verify_rc=0; "$ergond" verify --data "$work/server" >"$work/verify.out" 2>&1 || verify_rc=$?
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$server/status" 2>/dev/null || echo 0)

# --- the table and the checks ----------------------------------------------------------------
set +e
python3 - "$work" "$honest" "$hostile" "$parallel" "$phase_start" "$phase_ms" "$final_ms" \
  "$phase_end" "$server_alive" "$verify_rc" "${hwm:-0}" "$rss_limit_kb" "$(getconf CLK_TCK)" \
  "$hot" <<'PY'
import json, os, sys
(work, honest, hostile, parallel, phase_start, phase_ms, final_ms, phase_end, alive, verify_rc,
 hwm, limit, tck, hot) = sys.argv[1:]
honest, hostile, parallel = int(honest), int(hostile), int(parallel)
phase_start, phase_ms, final_ms, phase_end = int(phase_start), int(phase_ms), int(final_ms), int(phase_end)
hwm, limit = int(hwm), int(limit)
c = os.path.join(work, "clients")

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

problems = []
lat, final_lat = [], []
sync_errors = edit_errors = rejected = conflicts = 0
for i in range(1, honest + 1):
    try:
        _, rc1, ms1, rce, rc2, ms2 = open(f"{c}/{i}.result").read().split()
    except (OSError, ValueError):
        problems.append(f"client {i}: no result"); sync_errors += 2; continue
    lat += [int(ms1), int(ms2)]
    for n, rc in ((1, rc1), (2, rc2)):
        if rc != "0":
            sync_errors += 1
            err = open(f"{c}/{i}.err{n}").read().strip()
            problems.append(f"client {i}: sync {n} exit {rc}: {err[:200]}")
    if rce != "0":
        edit_errors += 1
        problems.append(f"client {i}: add/edit exit {rce}: {open(f'{c}/{i}.erre').read().strip()[:200]}")
    for n in (1, 2):
        r = load(f"{c}/{i}.sync{n}") or {}
        rejected += r.get("rejected", 0); conflicts += r.get("conflicts", 0)

planning = load(f"{work}/planning.json") or {}
planning2 = load(f"{work}/planning2.json") or {}
digest = planning.get("digest")
diverged = final_errors = 0
for i in range(1, honest + 1):
    try:
        _, rc, ms = open(f"{c}/{i}.final").read().split()
    except (OSError, ValueError):
        final_errors += 1; problems.append(f"client {i}: no final sync"); continue
    final_lat.append(int(ms))
    if rc != "0":
        final_errors += 1
        problems.append(f"client {i}: final sync exit {rc}: {open(f'{c}/{i}.err3').read().strip()[:200]}")
    final_digest = (load(f"{c}/{i}.sync3") or {}).get("digest")
    if final_digest is None or final_digest != digest:
        diverged += 1
if digest is None:
    problems.append("the planning client's sync failed: " + (open(f"{work}/planning.err").read().strip().splitlines() or [""])[0][:200])
if planning2.get("digest") != digest:
    problems.append("the planning client's digest moved during the final syncs")
if rejected:
    problems.append(f"{rejected} honest changes rejected")

samples = []
for line in open(f"{work}/samples"):
    parts = line.split()
    if len(parts) == 6:
        samples.append(tuple(int(x) for x in parts))
peak_rss = max((s[1] for s in samples), default=0)
during = [s for s in samples if phase_start <= s[0] <= phase_end]  # honest phase + final syncs
fds = [s[2] for s in during]
backlog = [s[4] for s in during]
cpu_s = (during[-1][3] - during[0][3]) / int(tck) if len(during) > 1 else 0
span_s = (during[-1][0] - during[0][0]) / 1000 if len(during) > 1 else 1
waited_s = (during[-1][5] - during[0][5]) / 1e9 if len(during) > 1 else 0
hos = load(f"{work}/hostile.json") or {"kinds": {}, "open_at_once": {}}

def pct(values, p):
    if not values: return 0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

def flood_rows():
    if hot != "1":
        return [("hot proposal", "no flood (HOT_FLOOD=0)")]
    out = []
    for who in ("hot", "stale"):
        rounds = [l.split() for l in open(f"{work}/{who}.flood.rounds")] if os.path.exists(f"{work}/{who}.flood.rounds") else []
        failed = sum(1 for _ in open(f"{work}/{who}.flood.failed")) if os.path.exists(f"{work}/{who}.flood.failed") else 0
        bad = sum(1 for r in rounds if r[1] != "0")
        pushed = sum(int(r[2]) for r in rounds); conf = sum(int(r[3]) for r in rounds); rej = sum(int(r[4]) for r in rounds)
        out.append((f"hot proposal, {who} device", f"{len(rounds)} syncs, {pushed} edits pushed ({conf} conflicts, "
                    f"{rej} rejected); failed edits {failed}, failed syncs {bad}"))
    return out

mb = lambda kb: f"{kb * 1024 / 1e6:.0f} MB ({kb / 1024:.0f} MiB)"
rows = [
    ("honest clients", f"{honest} ({min(parallel, honest)} at a time); each: sync, add + edit, sync"),
    ("hostile connections", f"{hostile}; open at once min/mean/max "
     f"{hos['open_at_once'].get('min', '?')}/{hos['open_at_once'].get('mean', '?')}/{hos['open_at_once'].get('max', '?')}"),
]
for kind, k in hos["kinds"].items():
    rows.append((f"  {kind}", f"{k['connections']} conns: opened {k['opened']}, closed by server "
                 f"{k['closed_by_server']}, mean open {k['mean_open_s']} s (max {k['max_open_s']} s), "
                 f"connect failed {k['connect_failed']}"))
rows += [
    ("server descriptors", f"min/mean/max {min(fds, default=0)}/{sum(fds) // max(len(fds), 1)}/"
     f"{max(fds, default=0)} while honest clients ran ({len(fds)} samples)"),
    ("accept queue", f"min/mean/max {min(backlog, default=0)}/{sum(backlog) // max(len(backlog), 1)}/"
     f"{max(backlog, default=0)} connections not yet accepted by ergond"),
    ("server CPU", f"{cpu_s:.1f} s user+sys in {span_s:.1f} s of honest and final syncs "
     f"({100 * cpu_s / max(span_s, 0.001):.0f} % of one core; the machine has {os.cpu_count()}); "
     f"its network thread waited {waited_s:.1f} s for a CPU"),
    ("wall time, honest phase", f"{phase_ms / 1000:.1f} s ({2 * honest} syncs)"),
    ("syncs/s", f"{2 * honest * 1000 / max(phase_ms, 1):.1f}"),
    ("per-sync latency", f"p50 {pct(lat, 50)} ms, p99 {pct(lat, 99)} ms, max {max(lat, default=0)} ms"),
    ("final syncs (convergence)", f"{honest} in {final_ms / 1000:.1f} s; p50 {pct(final_lat, 50)} ms, "
     f"p99 {pct(final_lat, 99)} ms, max {max(final_lat, default=0)} ms"),
    *flood_rows(),
    ("errors", f"sync {sync_errors}, add/edit {edit_errors}, final sync {final_errors}, "
     f"rejected {rejected}, conflicts {conflicts}"),
    ("converged", f"{honest - diverged}/{honest} at digest {str(digest)[:16]}"),
    ("ergond verify", "passed" if verify_rc == "0" else f"FAILED (exit {verify_rc})"),
    ("server still running", "yes" if alive == "1" else "NO"),
    ("peak server RSS", f"{mb(peak_rss)} sampled every 0.5 s; VmHWM {mb(hwm)}; limit 300 MB"),
]
width = max(len(r[0]) for r in rows)
print(f"\n| {'what'.ljust(width)} | result |\n| {'-' * width} | --- |")
for name, value in rows:
    print(f"| {name.ljust(width)} | {value} |")

checks = {
    "every honest sync exited 0": sync_errors == 0 and final_errors == 0 and edit_errors == 0,
    "nothing rejected": rejected == 0,
    "every client converged": diverged == 0 and digest is not None and not any("digest moved" in p for p in problems),
    "ergond verify passed": verify_rc == "0",
    "server still running": alive == "1",
    "peak RSS under 300 MB": peak_rss < limit and hwm < limit,
}
print()
for name, good in checks.items():
    print(f"{'ok  ' if good else 'FAIL'} {name}")
for p in problems[:10]:
    print("  " + p)
if len(problems) > 10:
    print(f"  … and {len(problems) - 10} more")
messages = {}
for p in problems:
    m = p.split(": ", 1)[-1]
    m = m.split(": ", 1)[-1] if m.startswith(("sync", "final sync", "add/edit")) else m
    messages[m] = messages.get(m, 0) + 1
if messages:
    print("problems by message:")
    for m, n in sorted(messages.items(), key=lambda x: -x[1]):
        print(f"  {n:6d}  {m}")
sys.exit(0 if all(checks.values()) else 1)
PY
rc=$?
set -e
log=$work/ergond.log
echo
echo "ergond log: $(grep -c 'session of device' "$log") honest sessions, $(grep -c 'refused' "$log") refusals;" \
     "most common endings and refusals:"
sed -E 's/^ergond: [0-9.:]+: //; s/session of device .*ended: /session ended: /; s/[0-9]+ s$/N s/' "$log" \
  | sort | uniq -c | sort -rn | head -8 || true  # head closing the pipe early is not a failure
[ "$rc" = 0 ] && ok=1
exit "$rc"
