#!/usr/bin/env bash
# Seconds per training epoch of the paper-settings SASRec on ml-100k, for several commits, measured in one run:
#   bash bench/epoch-seconds.sh EPOCHS REV...          e.g. bash bench/epoch-seconds.sh 10 baf005a HEAD
# Each revision is built in a temporary worktree, then the revisions train one after another with 2 torch threads,
# and the median over epochs 2..EPOCHS of each revision is printed (epoch 1 includes warm-up).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=$1; shift
work=$(mktemp -d)
trap 'for rev in "${revs[@]}"; do git worktree remove --force "$work/$rev" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
revs=("$@")
data=$(cd ../shared/data && pwd)/ml-100k.inter
for rev in "${revs[@]}"; do
  git worktree add --detach "$work/$rev" "$rev" >/dev/null
  dotnet build "$work/$rev/src/RecCluster.Cli" -c Release >/dev/null
  sed -e "s/n_epochs: 200/n_epochs: $epochs/" -e "s/eval_step: 20/eval_step: $epochs/" -e "s#path: .*#path: $data#" \
    experiments/sasrec-paper-ml100k.yaml > "$work/$rev.yaml"
done
for rev in "${revs[@]}"; do
  "$work/$rev/src/RecCluster.Cli/bin/Release/net10.0/reccluster" train "$work/$rev.yaml" --out "$work/out-$rev" --threads 2 --json \
    >/dev/null 2>&1
  python3 -c "import json,statistics,sys; s=[json.loads(l)['seconds'] for l in open(sys.argv[1])][1:]; \
print(f'{sys.argv[2]}: median {statistics.median(s):.2f} s/epoch over epochs 2..{len(s)+1} (min {min(s):.2f}, max {max(s):.2f})')" \
    "$work/out-$rev/history.jsonl" "$rev"
done
