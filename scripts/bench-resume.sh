#!/usr/bin/env bash
# How long detection takes to resume when `moat serve` starts on a store with a logged history: fills a fresh
# store's exchange log with the first N exchanges of EXCHANGES (scripts/fill-log.py), starts the gateway on
# it, and reads the resume figures from the admin /health (replayed exchanges, wall and CPU seconds). The
# anchor, measured in the same run: `moat detect` on the same N exchanges.
#   scripts/bench-resume.sh EXCHANGES ACCOUNTS [N]      (default N: 200000; $MOAT_BIN, default .build/release/moat)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exchanges="$1"; accounts="$2"; n="${3:-200000}"
moat="${MOAT_BIN:-.build/release/moat}"
dir=$(mktemp -d)
trap 'kill $serve_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
"$moat" accounts import "$accounts" --store "$dir/moat.sqlite" >/dev/null
t0=$(date +%s.%N)
echo "log filled with $(python3 scripts/fill-log.py "$exchanges" "$dir/moat.sqlite" "$n") exchanges in $(echo "$(date +%s.%N) - $t0" | bc) s"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
proxy=$(port); admin=$(port)
printf 'listen: {host: 127.0.0.1, port: %s}\nadmin: {host: 127.0.0.1, port: %s, token: bench}\nstore: %s\n' "$proxy" "$admin" "$dir/moat.sqlite" > "$dir/moat.yaml"
"$moat" serve --config "$dir/moat.yaml" --log-level warning > "$dir/serve.log" 2>&1 & serve_pid=$!
for _ in $(seq 600); do
  h=$(curl -sf "http://127.0.0.1:$admin/health" || true)
  if echo "$h" | tr -d ' \n' | grep -q '"resumed":true'; then break; fi
  sleep 0.5
done
echo "== moat serve: detection resumed"
echo "$h" | python3 -c 'import json,sys; d=json.load(sys.stdin)["detection"]; r=d["replayed_exchanges"]; w=d["resume_seconds"]; c=d["resume_cpu_seconds"]; print("replayed %d exchanges: %.1f s wall, %.1f s CPU (%.0f exchanges per CPU second)" % (r, w, c, r / max(c, 1e-9)))'
kill $serve_pid; wait $serve_pid 2>/dev/null || true
echo "== anchor: moat detect on the same exchanges"
head -n "$n" "$exchanges" > "$dir/head.jsonl"
/usr/bin/time -f "%e s wall, %U s user CPU, %M KB peak" "$moat" detect "$dir/head.jsonl" --accounts "$accounts" --out "$dir/report.json" --quiet
