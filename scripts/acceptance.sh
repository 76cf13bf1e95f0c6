#!/usr/bin/env bash
# The detection acceptance run: `standard` over several seeds and phrase banks, detect, evaluate against the bars.
#   scripts/acceptance.sh [SEED[:BANK]...]      (default: 1:formal 2:casual 3:terse)
# The engine's settings were developed on seed 1 with the `formal` bank; the other seeds and banks are held out.
# Uses ./.corpus (scripts/fetch-corpus.sh) when present. Exits non-zero if any bar fails on any run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
moat="${MOAT_BIN:-.build/release/moat}"
[ -n "${MOAT_BIN:-}" ] || swift build -c release --product moat >/dev/null
runs=("$@"); [ ${#runs[@]} -eq 0 ] && runs=(1:formal 2:casual 3:terse)
status=0
for run in "${runs[@]}"; do
  seed="${run%%:*}"; bank="formal"; [[ "$run" == *:* ]] && bank="${run#*:}"
  dir="out/standard-$seed-$bank"
  [ -f "$dir/exchanges.jsonl" ] || "$moat" simulate --scenario standard --seed "$seed" --phrase-bank "$bank" --out "$dir"
  "$moat" detect "$dir/exchanges.jsonl" --accounts "$dir/accounts.jsonl" --out "$dir/report.json" --quiet
  echo "== seed $seed, phrase bank $bank"
  "$moat" evaluate --labels "$dir/labels.jsonl" --report "$dir/report.json" --bars || status=1
done
exit $status
