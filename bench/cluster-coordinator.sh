#!/usr/bin/env bash
# The coordinator over real remoting: 1 coordinator + WORKERS worker processes x SLOTS simulated slots on 127.0.0.1,
# a random-search sweep of TRIALS simulated trials x EPOCHS epochs submitted through the HTTP API and polled until it
# finishes (after a warm-up sweep of WARMUP one-epoch trials on the same nodes). One markdown row per run, then the medians per epoch duration.
#
#   bash bench/cluster-coordinator.sh [EPOCH_MS ...]        (default: 200 50 10)
#   RUNS=3 WARMUP=64 WORKERS=4 SLOTS=16 TRIALS=1000 EPOCHS=10 SWEEP_TIMEOUT=900 bash bench/cluster-coordinator.sh 50
#
# Workers run with --simulate-epoch-ms: nothing is trained, each trial reports one epoch every EPOCH_MS ms with a
# validation result that the coordinator's leaderboard stores, then its result. Needs a Release build of src/RecCluster.Cli
# (built here when missing). KEEP=1 keeps the nodes' logs. Every process and temporary folder is removed on exit, failure and Ctrl+C included.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DLL="$ROOT/src/RecCluster.Cli/bin/Release/net10.0/reccluster.dll"
RUNS=${RUNS:-3} WORKERS=${WORKERS:-4} SLOTS=${SLOTS:-16} TRIALS=${TRIALS:-1000} EPOCHS=${EPOCHS:-10}
SWEEP_TIMEOUT=${SWEEP_TIMEOUT:-900} WARMUP=${WARMUP:-64} START_TIMEOUT=${START_TIMEOUT:-180} POLL=${POLL:-0.2}
DURATIONS=("$@")
[ ${#DURATIONS[@]} -gt 0 ] || DURATIONS=(200 50 10)

[ -f "$DLL" ] || dotnet build "$ROOT/src/RecCluster.Cli" -c Release -v quiet >&2

TMP=$(mktemp -d "${TMPDIR:-/tmp}/reccluster-cluster-bench-XXXXXX")
PIDS=()

# Stops every node this script started: SIGTERM, up to 15 s to leave the cluster, then SIGKILL; reaps them.
stop_nodes() {
  local pid deadline=$((SECONDS + 15))
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true   # dead by now: this wait returns at once
  done
  PIDS=()
}
cleanup() { stop_nodes; if [ -n "${KEEP:-}" ]; then echo "logs kept in $TMP" >&2; else rm -rf "$TMP"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE PATTERN WHAT: polls FILE for PATTERN for up to START_TIMEOUT s; prints the first matching line.
wait_for() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until grep -m1 -- "$2" "$1" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "error: no $3 within ${START_TIMEOUT} s; logs in $TMP:" >&2
      tail -n 20 "$TMP"/*.err >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

# CPU seconds (user + system) a process has used so far, from /proc.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# sweep_yaml NAME TRIALS EPOCHS
sweep_yaml() {
  cat <<EOF
name: $1
data: {synthetic: {users: 10, items: 20, min_length: 5, max_length: 8}}
evaluation: {cutoffs: [10], metrics: [ndcg]}
objective: {metric: ndcg@10, mode: max}
models:
  sasrec:
    learning_rate: {loguniform: [0.0001, 0.1]}
    hidden_size: [16, 32, 64]
    n_epochs: $3
search: {algorithm: random, num_trials: $2, seed: 1}
scheduler: fifo
resources: {cpus_per_trial: 1}
EOF
}

# submit API NAME TRIALS EPOCHS: prints the sweep's id.
submit() {
  local id
  id=$(sweep_yaml "$2" "$3" "$4" | curl -sf --max-time 60 -H 'Content-Type: application/yaml' --data-binary @- "$1/api/sweeps" | jq -r .sweep_id)
  [ -n "$id" ] && [ "$id" != null ] || { echo "error: sweep $2 was not accepted" >&2; exit 1; }
  echo "$id"
}

# finish API ID: polls every POLL s, for up to SWEEP_TIMEOUT s, until the sweep has ended; prints its last view.
finish() {
  local deadline=$((SECONDS + SWEEP_TIMEOUT)) view state
  while :; do
    view=$(curl -sf --max-time 30 "$1/api/sweeps/$2" || echo '{}')
    state=$(jq -r '.state // "?"' <<<"$view")
    [ "$state" = finished ] || [ "$state" = cancelled ] && break
    [ $SECONDS -lt $deadline ] || { echo "error: sweep $2 not finished within $SWEEP_TIMEOUT s: $view" >&2; exit 1; }
    sleep "$POLL"
  done
  echo "$view"
}

# run EPOCH_MS RUN: one cluster, one sweep; appends "ms makespan ideal util reports_per_s coord_cpu workers_cpu" to $TMP/results.
run() {
  local ms=$1 n=$2 dir="$TMP/run-$1-$2" i
  mkdir -p "$dir/storage"
  dotnet "$DLL" node coordinator --state "$dir/state" --host 127.0.0.1 --port 0 --http 127.0.0.1:0 \
    >"$dir/coordinator.out" 2>"$dir/coordinator.err" &
  local coordinator=$!
  PIDS+=("$coordinator")
  local api seed
  api=$(wait_for "$dir/coordinator.err" "HTTP API at " "coordinator API" | sed 's/.*HTTP API at //' | tr -d '\r ')
  api=${api%/}
  seed=$(wait_for "$dir/coordinator.out" '"event":"up"' "coordinator up" | jq -r .address)
  local workers=()
  for i in $(seq 1 "$WORKERS"); do
    dotnet "$DLL" node worker --seeds "$seed" --host 127.0.0.1 --port 0 --slots "$SLOTS" --gpus 0 \
      --storage "$dir/storage" --simulate-epoch-ms "$ms" >"$dir/worker$i.out" 2>"$dir/worker$i.err" &
    workers+=($!)
    PIDS+=($!)
  done
  for i in $(seq 1 "$WORKERS"); do wait_for "$dir/worker$i.out" '"event":"up"' "worker $i up" >/dev/null; done
  local deadline=$((SECONDS + START_TIMEOUT)) total=0
  until [ "$total" -eq $((WORKERS * SLOTS)) ]; do
    [ $SECONDS -lt $deadline ] || { echo "error: the coordinator saw $total slots, not $((WORKERS * SLOTS))" >&2; exit 1; }
    sleep 0.2
    total=$(curl -sf --max-time 10 "$api/api/cluster" | jq -r '.slots_total // 0' || echo 0)
  done

  # Warm-up (JIT, SQLite, the first sweep's set-up) on the same nodes, not measured.
  finish "$api" "$(submit "$api" cluster-bench-warmup "$WARMUP" 1)" >/dev/null

  local cpu0_c cpu0_w=0 load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  cpu0_c=$(cpu_seconds "$coordinator")
  for i in "${workers[@]}"; do cpu0_w=$(echo "$cpu0_w + $(cpu_seconds "$i")" | bc -l); done
  local start end view state
  start=$(date +%s.%N)
  view=$(finish "$api" "$(submit "$api" cluster-bench "$TRIALS" "$EPOCHS")")
  end=$(date +%s.%N)
  state=$(jq -r .state <<<"$view")
  local cpu1_c cpu1_w=0
  cpu1_c=$(cpu_seconds "$coordinator")
  for i in "${workers[@]}"; do cpu1_w=$(echo "$cpu1_w + $(cpu_seconds "$i")" | bc -l); done
  read -r epochs ended completed <<<"$(jq -r '"\(.total_epochs) \(.completed + .pruned + .failed + .interrupted) \(.completed)"' <<<"$view")"
  python3 - "$ms" "$n" "$start" "$end" "$epochs" "$ended" "$completed" "$((WORKERS * SLOTS))" \
    "$cpu0_c" "$cpu1_c" "$cpu0_w" "$cpu1_w" "$load" "$state" <<'EOF' | tee -a "$TMP/results" >&2
import sys
ms, n, start, end, epochs, ended, completed, slots = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
c0, c1, w0, w1 = map(float, sys.argv[9:13])
load, state = sys.argv[13], sys.argv[14]
makespan = end - start
work = epochs * ms / 1000
ideal = work / slots
print(f"{ms} {makespan:.2f} {ideal:.2f} {ideal / makespan:.3f} {(epochs + ended) / makespan:.0f} {c1 - c0:.1f} {w1 - w0:.1f} "
      f"run={n} state={state} trials_ended={ended} completed={completed} epochs={epochs} load_before={load.replace(' ', '/')}")
EOF
  stop_nodes
  [ -n "${KEEP:-}" ] || rm -rf "$dir"
}

echo "# $WORKERS workers x $SLOTS slots, $TRIALS trials x $EPOCHS epochs, FIFO; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "# epoch_ms makespan_s ideal_s utilisation reports_per_s coordinator_cpu_s workers_cpu_s ..." >&2
for ms in "${DURATIONS[@]}"; do
  for n in $(seq 1 "$RUNS"); do run "$ms" "$n"; done
done

echo
echo "| epoch | trials × epochs | slots | makespan (s) | ideal = work ÷ slots (s) | slot utilisation | reports/s | coordinator CPU (s) | workers' CPU (s) |"
echo "|---|---|---|---|---|---|---|---|---|"
python3 - "$TRIALS" "$EPOCHS" "$((WORKERS * SLOTS))" "$RUNS" "${DURATIONS[@]}" <<EOF
import sys, statistics
trials, epochs, slots, runs, durations = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
rows = [line.split() for line in open("$TMP/results")]
for ms in durations:
    mine = [r for r in rows if r[0] == ms]
    med = lambda k: statistics.median(float(r[k]) for r in mine)
    spread = lambda k: f"{min(float(r[k]) for r in mine):g}–{max(float(r[k]) for r in mine):g}"
    print(f"| {ms} ms | {trials} × {epochs} | {slots} | {med(1):.2f} ({spread(1)}) | {med(2):.2f} | {med(3):.2f} ({spread(3)}) | "
          f"{med(4):.0f} ({spread(4)}) | {med(5):.1f} | {med(6):.1f} |")
print(f"\nmedians (min–max) of {runs} run(s) each")
EOF
