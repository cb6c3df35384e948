#!/usr/bin/env bash
# Seconds per training epoch of the paper-settings SASRec on ml-100k, for several commits, measured in one run:
#   bash bench/epoch-seconds.sh EPOCHS ROUNDS REV...        e.g. bash bench/epoch-seconds.sh 6 4 baf005a HEAD
# Each revision is built in a temporary worktree. Then, ROUNDS times, every revision trains EPOCHS epochs in turn (2 torch
# threads), so that a slow spell of the machine hits all of them alike; the median over all rounds' epochs 2..EPOCHS of
# each revision is printed (epoch 1 includes warm-up).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=$1 rounds=$2; shift 2
revs=("$@")
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
    "$work/$rev/src/RecCluster.Cli/bin/Release/net10.0/reccluster" train "$work/config.yaml" --out "$work/out-$rev-$round" \
      --threads 2 --json >/dev/null 2>&1
  done
done
for rev in "${revs[@]}"; do
  python3 - "$rev" "$work"/out-"$rev"-*/history.jsonl <<'PY'
import json, statistics, sys
seconds = [json.loads(line)["seconds"] for path in sys.argv[2:] for line in list(open(path))[1:]]
print(f"{sys.argv[1]}: median {statistics.median(seconds):.2f} s/epoch over {len(seconds)} epochs "
      f"(quartiles {statistics.quantiles(seconds, n=4)[0]:.2f}-{statistics.quantiles(seconds, n=4)[2]:.2f})")
PY
done
