#!/usr/bin/env bash
# Benchmark `moat report` (HTML campaign report from a detection report and its exchange log) against
# DuckDB's plain aggregation of the same log, in the same run; also the PDF through headless Chromium.
#   scripts/bench-report.sh [DIR] [REPEATS]
# DIR holds a `moat simulate` output (default: out/standard-1, generated if missing) and its
# report.json (made with `moat detect` if missing). Prints seconds, exchanges/s, the ratio, moat's peak
# RSS, and the HTML and PDF sizes. Needs python3 (pip installs duckdb) and, for the PDF, chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="${1:-out/standard-1}"
repeats="${2:-3}"
moat="${MOAT_BIN:-.build/release/moat}"
[ -n "${MOAT_BIN:-}" ] || swift build -c release >/dev/null
if [ ! -f "$dir/exchanges.jsonl" ]; then
  $moat simulate --scenario standard --seed 1 --out "$dir"
fi
if [ ! -f "$dir/report.json" ]; then
  echo "no $dir/report.json: running moat detect first"
  $moat detect "$dir/exchanges.jsonl" --accounts "$dir/accounts.jsonl" --out "$dir/report.json" --quiet
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

report_run() {
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$dir/.report-rss" $moat report --report "$dir/report.json" --exchanges "$dir/exchanges.jsonl" \
    --accounts "$dir/accounts.jsonl" --out "$dir/campaign.html" >/dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

duck_times=(); report_times=(); rss=0
for i in $(seq "$repeats"); do   # alternate, so both see the same machine state
  duck_times+=("$(duck "$dir/exchanges.jsonl")")
  report_times+=("$(report_run)")
  r=$(cat "$dir/.report-rss"); [ "$r" -gt "$rss" ] && rss=$r
done
d=$(printf '%s\n' "${duck_times[@]}" | median)
m=$(printf '%s\n' "${report_times[@]}" | median)
html=$(stat -c %s "$dir/campaign.html")

pdf_line="PDF: skipped (no chromium on PATH and no MOAT_CHROMIUM)"
if [ -n "${MOAT_CHROMIUM:-}" ] || command -v chromium >/dev/null; then
  t0=$(date +%s.%N)
  $moat report --report "$dir/report.json" --exchanges "$dir/exchanges.jsonl" --accounts "$dir/accounts.jsonl" \
    --out "$dir/campaign.html" --pdf "$dir/campaign.pdf" >/dev/null
  t1=$(date +%s.%N)
  pages=$(python3 -c "import re,sys; print(len(re.findall(rb'/Type\s*/Page[^s]', open(sys.argv[1],'rb').read())))" "$dir/campaign.pdf")
  pdf_line=$(printf 'HTML + PDF: %.2f s; PDF %.2f MB, %s pages' "$(echo "$t1 - $t0" | bc -l)" \
    "$(echo "$(stat -c %s "$dir/campaign.pdf")/1000000" | bc -l)" "$pages")
fi

printf '\nfile: %s (%s exchanges, %.2f GB)\n' "$dir/exchanges.jsonl" "$lines" "$(echo "$bytes/1000000000" | bc -l)"
printf '%-36s %10s %14s\n' "" "seconds" "exchanges/s"
printf '%-36s %10.2f %14.0f\n' "DuckDB read_json + GROUP BY" "$d" "$(echo "$lines/$d" | bc -l)"
printf '%-36s %10.2f %14.0f\n' "moat report (HTML)" "$m" "$(echo "$lines/$m" | bc -l)"
printf 'moat report / DuckDB throughput ratio: %.2f   (median of %s runs each; runs: duckdb %s; moat %s)\n' \
  "$(echo "$d/$m" | bc -l)" "$repeats" "${duck_times[*]}" "${report_times[*]}"
printf 'moat report peak RSS: %.0f MB; HTML %.2f MB\n' "$(echo "$rss/1024" | bc -l)" "$(echo "$html/1000000" | bc -l)"
echo "$pdf_line"
