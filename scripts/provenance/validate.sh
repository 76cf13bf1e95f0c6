#!/usr/bin/env bash
# Reproduces the provenance figures in the README: null calibration, radioactivity (n-gram and neural
# students trained here), attacks and quality, and the streaming benchmark. Needs the real corpus
# (scripts/fetch-corpus.sh), python3 with numpy, and a release build (built here if missing).
# Results: out/provenance/*.json and the tables printed below. Takes 2-3 hours on 2 shared cores (each
# neural student about 20 minutes; run fractions in parallel with radioactivity.py --fractions F --tag=-F).
#
# usage: scripts/provenance/validate.sh [calibrate] [radioactivity] [probe] [attacks] [bench]   (default: all)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
[ -x .build/release/moat ] || swift build -c release
export MOAT_BIN="${MOAT_BIN:-$PWD/.build/release/moat}"
mkdir -p out/provenance
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(calibrate radioactivity probe attacks bench)
for step in "${steps[@]}"; do
  started=$SECONDS
  echo "== $step"
  case "$step" in
    calibrate) python3 scripts/provenance/calibrate.py --keys 1000 --texts 2000 --per-text 2000 | tee out/provenance/calibration.md ;;
    radioactivity)
      # Held out: choices were made on the tune half (seed 1); the figures are on the report half with a fresh key.
      python3 scripts/provenance/radioactivity.py --split report --seed 2 --students ngram --tag=-report-ngram | tee out/provenance/radioactivity.md
      for f in 1 0.2; do
        python3 scripts/provenance/radioactivity.py --split report --seed 2 --students neural --fractions "$f" --tag="-report-neural-$f" \
          >"out/provenance/report-neural-$f.md" &
      done
      wait
      python3 scripts/provenance/radioactivity_table.py out/provenance/radioactivity-report-ngram.json out/provenance/radioactivity-report-neural-*.json ;;
    probe) python3 scripts/provenance/probe_demo.py | tee out/provenance/probe_demo.md ;;
    attacks) python3 scripts/provenance/attacks.py | tee out/provenance/attacks.md ;;
    bench)
      python3 scripts/provenance/answers.py out/provenance/bench-answers.jsonl --limit 2000 --seed 4
      for d in 8 32; do "$MOAT_BIN" provenance bench out/provenance/bench-answers.jsonl --delta-bytes "$d" --rounds 3; done | tee out/provenance/bench.md ;;
    *) echo "unknown step $step"; exit 2 ;;
  esac
  echo "-- $step took $((SECONDS - started)) s"
done
