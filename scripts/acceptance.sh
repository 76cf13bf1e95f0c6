#!/usr/bin/env bash
# The detection acceptance run: `standard` over several seeds, detect, evaluate against the bars.
#   scripts/acceptance.sh [SEEDS...]      (default: 1 2 3)
# Uses ./.corpus (scripts/fetch-corpus.sh) when present. Exits non-zero if any bar fails on any seed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
moat="${MOAT_BIN:-.build/release/moat}"
[ -n "${MOAT_BIN:-}" ] || swift build -c release >/dev/null
seeds=("$@"); [ ${#seeds[@]} -eq 0 ] && seeds=(1 2 3)
status=0
for seed in "${seeds[@]}"; do
  dir="out/standard-$seed"
  [ -f "$dir/exchanges.jsonl" ] || $moat simulate --scenario standard --seed "$seed" --out "$dir"
  $moat detect "$dir/exchanges.jsonl" --accounts "$dir/accounts.jsonl" --out "$dir/report.json" --quiet
  echo "== seed $seed"
  $moat evaluate --labels "$dir/labels.jsonl" --report "$dir/report.json" --bars || status=1
done
exit $status
