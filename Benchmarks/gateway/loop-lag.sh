#!/usr/bin/env bash
# Event-loop stalls of `moat serve` under a fixed-rate load, independent of the client's view: the
# gateway's own loop-lag probe (`moat_event_loop_lag_seconds`, a task due every 5 ms on each request
# event loop, recording how late it ran) and the time its loops spent writing the journal
# (`moat_journal_write_seconds`), read from `/metrics` after the run. Same layout as
# scripts/bench-gateway.sh (the load generator on CPU 0, the mock and moat on the last CPU).
#
#   Benchmarks/gateway/loop-lag.sh [MOAT_BINARY]      (default .build-bench/release/moat)
#
# With SCHED=1 also `perf sched record -g` on moat during the run, then `perf sched timehist` of the
# request thread: its longest scheduling delays (runnable while another thread had the CPU) and its
# longest times off the CPU other than idle in epoll_wait (preempted, or blocked in a syscall), with
# the kernel call chain where it left the CPU. Run it in a session of high priority on a shared machine
# (`setsid bash -c 'echo -20 >/proc/self/autogroup; ...'`), as bench-gateway.sh PRIORITY=-20 does.
# Env: RATE=1000 DURATION=20 CONNECTIONS=64 STREAM=0 SCHED=0 NO_EVENT_LOOP_TASKS=0 (1: moat serve
# --no-event-loop-tasks) OUT=DIR (keep logs and perf data there)
# moat serve inherits the environment: MOAT_JOURNAL_ON_LOOP=1 (journal written on the event loops, no
# writer thread) and MOAT_BACKGROUND_POLICY=idle (ingester and detection in SCHED_IDLE instead of nice 10)
# compare the designs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
moat=${1:-$root/.build-bench/release/moat}
RATE=${RATE:-1000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
STREAM=${STREAM:-0}
SCHED=${SCHED:-0}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moat-lag.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${OUT:-}" ]; then mkdir -p "$OUT"; cp -r "$tmp"/. "$OUT/"; fi
  rm -rf "$tmp"
}
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
secret=$("$moat" keys create --account lag --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
sed -e "s|@PORT@|$moat_port|; s|@ADMIN_PORT@|$admin_port|; s|@STORE@|$store|; s|@UPSTREAM@|127.0.0.1:$mock_port|g" \
  Benchmarks/gateway/moat.yaml.in >"$tmp/moat.yaml"
flags=()
[ "${NO_EVENT_LOOP_TASKS:-0}" = 1 ] && flags+=(--no-event-loop-tasks)
NIO_SINGLETON_GROUP_LOOP_COUNT=1 taskset -c "$last" "$moat" serve --config "$tmp/moat.yaml" --log-level warning "${flags[@]}" \
  >"$tmp/moat.log" 2>&1 &
moat_pid=$!
pids+=($moat_pid)
for _ in $(seq 200); do curl -fsS -o /dev/null "http://127.0.0.1:$moat_port/health" 2>/dev/null && break; sleep 0.05; done
body='{"model":"atlas-2-flash","messages":[{"role":"user","content":"Say hello to the benchmark in a few words."}],"max_tokens":64}'
hdrs=(--header "Authorization: Bearer $secret")
if [ "$STREAM" = 1 ]; then
  body='{"model":"atlas-2-flash","messages":[{"role":"user","content":"Stream a short hello to the benchmark."}],"max_tokens":64,"stream":true}'
  hdrs+=(--header "x-mock-chunk-delay-ms: 1" --header "x-mock-words: 24" --stream)
fi
metric() { curl -fsS "http://127.0.0.1:$admin_port/metrics" | grep -E "^moat_(event_loop_lag|journal_write)" || true; }
# Warm-up, then the probe's histogram before and after the measured run.
taskset -c 0 python3 Benchmarks/gateway/loadgen.py --port "$moat_port" --rate "$RATE" --duration 3 \
  --connections "$CONNECTIONS" --body "$body" "${hdrs[@]}" >/dev/null
metric >"$tmp/metrics-before.txt"
if [ "$SCHED" = 1 ]; then
  perf sched record -g -o "$tmp/sched.data" -p "$moat_pid" -- sleep "$DURATION" >"$tmp/perf.log" 2>&1 &
  perf_pid=$!
fi
load0=$(cut -d' ' -f1-3 /proc/loadavg)
taskset -c 0 python3 Benchmarks/gateway/loadgen.py --spin --port "$moat_port" --rate "$RATE" --duration "$DURATION" \
  --connections "$CONNECTIONS" --body "$body" "${hdrs[@]}" >"$tmp/loadgen.json"
load1=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$SCHED" = 1 ] && { wait "$perf_pid" || true; }
metric >"$tmp/metrics-after.txt"
echo "load average before/after: $load0 / $load1"
python3 - "$tmp/metrics-before.txt" "$tmp/metrics-after.txt" "$tmp/loadgen.json" <<'EOF'
import json, re, sys
def read(p):
    out = {}
    for line in open(p):
        m = re.match(r'(\w+?)(?:\{(.*)\})?\s+(\S+)$', line.strip())
        if m: out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out
a, b = read(sys.argv[1]), read(sys.argv[2])
for name in ("moat_event_loop_lag_seconds", "moat_journal_write_seconds"):
    buckets = sorted(((float(re.search(r'le="([^"]+)"', k[1]).group(1)), b[k] - a.get(k, 0))
                      for k in b if k[0] == name + "_bucket"), key=lambda x: x[0])
    total = b.get((name + "_count", ""), 0) - a.get((name + "_count", ""), 0)
    if not total: continue
    print(f"{name}: {int(total)} samples during the run")
    prev = 0
    for le, cum in buckets:
        if le == float("inf"): continue
        print(f"  > {le * 1000:g} ms: {int(total - cum)} ({(total - cum) / total * 100:.3f}%)")
mx = b.get(("moat_event_loop_lag_max_seconds", ""))
if mx is not None: print(f"largest loop lag since start: {mx * 1000:.2f} ms")
g = json.load(open(sys.argv[3]))
print("client:", json.dumps({k: g[k] for k in g if k in ("service", "first_byte", "completed", "errors")}))
EOF
if [ "$SCHED" = 1 ]; then
  perf sched timehist -g -i "$tmp/sched.data" 2>/dev/null >"$tmp/timehist.txt" || true
  # The request thread: the NIO thread switched most often (NIO-SGLTN-* in `moat serve`).
  loop=$(awk 'NR > 3 && $3 ~ /^NIO-/ {print $3}' "$tmp/timehist.txt" | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}' || true)
  echo "== perf sched timehist of the request thread $loop (ms)"
  echo "-- longest scheduling delays (runnable, another thread had the CPU)"
  awk -v t="$loop" '$3 == t {print $5, $0}' "$tmp/timehist.txt" | sort -rn | head -10 | cut -d' ' -f2- | cut -c1-220 || true
  echo "-- longest times off the CPU other than idle in epoll_wait (preempted, or blocked in a syscall)"
  awk -v t="$loop" '$3 == t && $0 !~ /epoll_wait/ {print $4, $0}' "$tmp/timehist.txt" | sort -rn | head -10 | cut -d' ' -f2- | cut -c1-220 || true
fi
