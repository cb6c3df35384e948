#!/usr/bin/env bash
# Trains tiny configs under a GC storm (bench/GcStormHook) N times each and compares the test metrics with a quiet run.
#   bash bench/gc-storm.sh [runs per config, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build bench/GcStormHook -c Release -o "$work/hook" >/dev/null
dotnet build src/RecCluster.Cli -c Release >/dev/null
# A copy of the build, so that rebuilding the tree meanwhile does not change the program under test (the large native
# libraries are hard-linked: builds replace our own assemblies, never those).
mkdir "$work/cli"
for f in src/RecCluster.Cli/bin/Release/net10.0/*; do
  case "$f" in *.so*) ln "$f" "$work/cli/" ;; *) cp -a "$f" "$work/cli/" ;; esac
done
cli=$work/cli/reccluster
common='data: {synthetic: {users: 300, items: 60, clusters: 4, min_length: 5, max_length: 15, markov_weight: 0.6, seed: 3}}
objective: {metric: ndcg@10, mode: max}'
model='hidden_size: 16, inner_size: 32, max_seq_length: 15, batch_size: 16, n_epochs: 6, early_stopping_step: 0, device: cpu'
printf '%s\nevaluation: {protocol: full, cutoffs: [10], metrics: [hr, ndcg]}\nmodels: {sasrec: {%s, loss_type: CE}}\n' \
  "$common" "$model" > "$work/ce-full.yaml"
printf '%s\nevaluation: {protocol: sampled, sampled_negatives: 20, cutoffs: [10], metrics: [hr, ndcg]}\nmodels: {sasrec: {%s, loss_type: BCE}}\n' \
  "$common" "$model" > "$work/bce-sampled.yaml"
for config in ce-full bce-sampled; do
  quiet=$("$cli" train "$work/$config.yaml" --json 2>/dev/null | tail -1 | grep -o '"test":{[^}]*}')
  same=0; failed=0
  for i in $(seq "$runs"); do
    if out=$(DOTNET_STARTUP_HOOKS="$work/hook/GcStormHook.dll" "$cli" train "$work/$config.yaml" --json 2>"$work/err"); then
      [ "$(echo "$out" | tail -1 | grep -o '"test":{[^}]*}')" = "$quiet" ] && same=$((same + 1))
    else
      failed=$((failed + 1)); tail -2 "$work/err"
    fi
  done
  echo "$config: $runs runs under the GC storm, $failed failed, $same with the quiet run's test metrics $quiet"
done
