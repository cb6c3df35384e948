#!/usr/bin/env bash
# Seconds per training epoch of the paper-settings SASRec on ml-100k, for several commits, measured in one run:
#   bash bench/epoch-seconds.sh EPOCHS ROUNDS REV...        e.g. bash bench/epoch-seconds.sh 6 4 baf005a HEAD
# Each revision is built in a temporary worktree. Then, ROUNDS times, every revision trains EPOCHS epochs in turn
# (THREADS torch threads, default 2), so that a slow spell of the machine hits all of them alike. For each epoch,
# bench/epoch-times.py records the wall time and the process's CPU time (user + system) between the epoch lines the
# CLI prints. Epoch 1 (warm-up) and the last epoch (it also validates) are left out; each revision's medians over the
# other epochs of all rounds are printed, with quartiles, and as a ratio to the first revision.
# On a shared machine prefer THREADS=1 and the CPU column: it moves far less with other processes' load than wall time.
# The environment passes through, e.g. GLIBC_TUNABLES=... applies to every revision alike.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=$1 rounds=$2; shift 2
revs=("$@")
threads=${THREADS:-2}
(( epochs >= 3 )) || { echo "EPOCHS must be at least 3 (the first and last epochs are not counted)" >&2; exit 2; }
work=$(mktemp -d)
trap 'for rev in "${revs[@]}"; do git worktree remove --force "$work/$rev" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
data=$(cd ../shared/data && pwd)/ml-100k.inter
sed -e "s/n_epochs: 200/n_epochs: $epochs/" -e "s/eval_step: 20/eval_step: $epochs/" -e "s#path: .*#path: $data#" \
  experiments/sasrec-paper-ml100k.yaml > "$work/config.yaml"
for rev in "${revs[@]}"; do
  git worktree add --detach "$work/$rev" "$rev" >/dev/null 2>&1
  dotnet build "$work/$rev/src/RecCluster.Cli" -c Release >/dev/null
done
for round in $(seq "$rounds"); do
  for rev in "${revs[@]}"; do
    python3 bench/epoch-times.py "$work/times-$rev-$round.jsonl" -- \
      "$work/$rev/src/RecCluster.Cli/bin/Release/net10.0/reccluster" train "$work/config.yaml" --out "$work/out-$rev-$round" \
      --threads "$threads" --json
  done
done
echo "$epochs epochs x $rounds rounds, $threads torch thread(s); epochs 2..$((epochs - 1)) of each round counted"
python3 - "$work" "${revs[@]}" <<'PY'
import glob, json, statistics, sys
work, revs = sys.argv[1], sys.argv[2:]
first = {}
for rev in revs:
    rows = [json.loads(line) for path in sorted(glob.glob(f"{work}/times-{rev}-*.jsonl")) for line in open(path)]
    rows = [r for r in rows if 1 < r["epoch"] < max(x["epoch"] for x in rows)]
    cells = []
    for key in ("wall", "cpu"):
        values = [r[key] for r in rows]
        q = statistics.quantiles(values, n=4)
        median = statistics.median(values)
        first.setdefault(key, median)
        cells.append(f"{key} {median:.2f} s ({q[0]:.2f}-{q[2]:.2f}) {median / first[key]:.2f}x")
    print(f"{rev}: " + "   ".join(cells) + f"   over {len(rows)} epochs")
PY
