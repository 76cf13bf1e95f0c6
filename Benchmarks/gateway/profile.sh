#!/usr/bin/env bash
# Where `moat serve` spends its CPU: perf on the gateway under a wrk load, against the mock upstream,
# with the same layout as scripts/bench-gateway.sh (wrk on CPU 0, mock and moat on the last CPU).
#
#   Benchmarks/gateway/profile.sh [MOAT_BINARY]      (default .build-bench/release/moat)
#
# Prints CPU per request (from /proc), perf's share by thread, by shared object, the top symbols of the
# request thread (NIO-ELT), and the inclusive share of Moat's own request-path functions.
# Env: DURATION=15 CONNECTIONS=32 STREAM=0 (1: streamed answers) OUT=DIR (keep perf.data there)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
moat=${1:-$root/.build-bench/release/moat}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
STREAM=${STREAM:-0}
command -v perf >/dev/null && command -v wrk >/dev/null || { echo "needs perf and wrk" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moat-profile.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${OUT:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT
last=$(( $(nproc) - 1 ))
read -r mock_port moat_port admin_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
NIO_SINGLETON_GROUP_LOOP_COUNT=1 taskset -c "$last" "$moat" mock-upstream --port "$mock_port" --log-level warning >"$tmp/mock.log" 2>&1 &
pids+=($!)
store=$tmp/moat.sqlite
secret=$("$moat" keys create --account profile --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
sed -e "s|@PORT@|$moat_port|; s|@ADMIN_PORT@|$admin_port|; s|@STORE@|$store|; s|@UPSTREAM@|127.0.0.1:$mock_port|g" \
  Benchmarks/gateway/moat.yaml.in >"$tmp/moat.yaml"
NIO_SINGLETON_GROUP_LOOP_COUNT=1 taskset -c "$last" "$moat" serve --config "$tmp/moat.yaml" --log-level warning >"$tmp/moat.log" 2>&1 &
moat_pid=$!
pids+=($moat_pid)
for _ in $(seq 200); do curl -fsS -o /dev/null "http://127.0.0.1:$moat_port/health" 2>/dev/null && break; sleep 0.05; done
body='{"model":"atlas-2-flash","messages":[{"role":"user","content":"Say hello to the benchmark in a few words."}],"max_tokens":64}'
[ "$STREAM" = 1 ] && body='{"model":"atlas-2-flash","messages":[{"role":"user","content":"Stream a short hello to the benchmark."}],"max_tokens":64,"stream":true}'
export BENCH_BODY=$body BENCH_AUTH="Bearer $secret" BENCH_EXTRA=""
taskset -c 0 wrk -t2 -c"$CONNECTIONS" -d3s -s Benchmarks/gateway/post.lua "http://127.0.0.1:$moat_port/v1/chat/completions" >/dev/null
ticks() { awk '{sub(/^.*\) /,""); print $12 + $13}' "/proc/$1/stat"; }
t0=$(ticks "$moat_pid")
perf record -F 2000 ${CALLGRAPH:--g} -o "$tmp/perf.data" -p "$moat_pid" -- sleep "$DURATION" >"$tmp/perf.log" 2>&1 &
perf_pid=$!
taskset -c 0 wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s Benchmarks/gateway/post.lua "http://127.0.0.1:$moat_port/v1/chat/completions" >"$tmp/wrk.txt"
wait "$perf_pid" || true
t1=$(ticks "$moat_pid")
requests=$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")
echo "moat: $(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.txt") req/s, CPU $(( (t1 - t0) * 10000 / requests )) us per request ($requests requests)"
if [ -n "${OUT:-}" ]; then mkdir -p "$OUT"; cp "$tmp/perf.data" "$OUT/"; echo "perf.data in $OUT"; fi
demangle() { if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi; }
rep() { perf report -i "$tmp/perf.data" --stdio -g none "$@" 2>/dev/null | grep '%' | grep -v '^#' || true; }
# The request thread: NIO's event loop (the busiest NIO-* thread).
loop=$(rep --no-children --sort comm | awk '$2 ~ /^NIO-/ {print $2; exit}')
echo "== share by thread"; rep --no-children --sort comm | head -10
echo "== share by shared object"; rep --no-children --sort dso | head -12
echo "== top symbols of the request thread $loop (self)"; rep --no-children --comm "$loop" --sort symbol | head -40 | demangle | cut -c1-160 || true
echo "== top symbols of the other threads (self)"; rep --no-children --sort comm,symbol | grep -v " $loop " | head -25 | demangle | cut -c1-160 || true
echo "== Moat's request path, inclusive"; rep --children --comm "$loop" --sort symbol | grep -E 'Proxy|Upstream|Journal|Relay|AnswerInfo|RequestInfo|Limiter|KeyCache|Gateway|LoopContext|Exchange' | head -40 | demangle | cut -c1-160 || true
