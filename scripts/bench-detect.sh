#!/usr/bin/env bash
# Benchmark `moat detect` against DuckDB's plain aggregation of the same file, in the same run.
#   scripts/bench-detect.sh [DIR] [REPEATS]
# DIR holds a `moat simulate` output (default: out/standard-1, generated if missing).
# Prints exchanges/s for both, the ratio, and Moat's peak RSS. Needs python3 (pip installs duckdb).
# MOAT_BASELINE_BIN=PATH adds a second moat binary (say a build of the commit before a change), measured in
# the same run, alternated with the others: "did it get slower" is then answered on one machine state.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="${1:-out/standard-1}"
repeats="${2:-3}"
moat="${MOAT_BIN:-.build/release/moat}"
[ -n "${MOAT_BIN:-}" ] || swift build -c release >/dev/null
if [ ! -f "$dir/exchanges.jsonl" ]; then
  $moat simulate --scenario standard --seed 1 --out "$dir"
fi
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb
lines=$(wc -l < "$dir/exchanges.jsonl")
bytes=$(stat -c %s "$dir/exchanges.jsonl")

duck() {
  python3 - "$1" <<'PY'
import duckdb, sys, time
t = time.perf_counter()
rows = duckdb.connect().execute(
    "SELECT account_id, count(*) FROM read_json(?, format='newline_delimited') GROUP BY account_id",
    [sys.argv[1]]).fetchall()
print(f"{time.perf_counter() - t:.3f}")
PY
}

moat_run() {  # [binary [report]]
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$dir/.rss" "${1:-$moat}" detect "$dir/exchanges.jsonl" --accounts "$dir/accounts.jsonl" \
    --out "${2:-$dir/report.json}" --quiet
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

duck_times=(); moat_times=(); base_times=(); rss=0; base_rss=0
base="${MOAT_BASELINE_BIN:-}"
for i in $(seq "$repeats"); do   # alternate, so all see the same machine state
  duck_times+=("$(duck "$dir/exchanges.jsonl")")
  moat_times+=("$(moat_run)")
  r=$(cat "$dir/.rss"); [ "$r" -gt "$rss" ] && rss=$r
  if [ -n "$base" ]; then
    base_times+=("$(moat_run "$base" "$dir/report-baseline.json")")
    r=$(cat "$dir/.rss"); [ "$r" -gt "$base_rss" ] && base_rss=$r
  fi
done
d=$(printf '%s\n' "${duck_times[@]}" | median)
m=$(printf '%s\n' "${moat_times[@]}" | median)
printf '\nfile: %s (%s exchanges, %.2f GB)\n' "$dir/exchanges.jsonl" "$lines" "$(echo "$bytes/1000000000" | bc -l)"
printf '%-36s %10s %14s\n' "" "seconds" "exchanges/s"
printf '%-36s %10.2f %14.0f\n' "DuckDB read_json + GROUP BY" "$d" "$(echo "$lines/$d" | bc -l)"
printf '%-36s %10.2f %14.0f\n' "moat detect (full detection)" "$m" "$(echo "$lines/$m" | bc -l)"
printf 'moat / DuckDB throughput ratio: %.2f   (median of %s runs each; runs: duckdb %s; moat %s)\n' \
  "$(echo "$d/$m" | bc -l)" "$repeats" "${duck_times[*]}" "${moat_times[*]}"
printf 'moat peak RSS: %.0f MB\n' "$(echo "$rss/1024" | bc -l)"
if [ -n "$base" ]; then
  b=$(printf '%s\n' "${base_times[@]}" | median)
  printf '%-36s %10.2f %14.0f\n' "baseline: $(basename "$base")" "$b" "$(echo "$lines/$b" | bc -l)"
  printf 'baseline / DuckDB throughput ratio: %.2f   (runs: %s); baseline peak RSS: %.0f MB\n' \
    "$(echo "$d/$b" | bc -l)" "${base_times[*]}" "$(echo "$base_rss/1024" | bc -l)"
  printf 'moat over baseline (throughput): %.2f\n' "$(echo "$b/$m" | bc -l)"
fi
