#!/usr/bin/env bash
# Benchmark the inline gateway against nginx, in one run, on loopback, against `moat mock-upstream`:
#   (a) direct to the mock, (b) through `moat serve`, (c) through nginx `proxy_pass`.
# Every configuration sends the same bytes: a small non-streaming OpenAI chat completion with a real Moat
# key in `Authorization` (the mock and nginx ignore it). The key's tier has limits far above the load.
#
#   scripts/bench-gateway.sh            # build (release, .build-bench), run, print a table and one JSON line
#
# Two measurements per configuration:
#   1. max throughput: `wrk -t$THREADS -c$CONNECTIONS -d$DURATION` (closed loop), requests/s, moat/nginx ratio;
#   2. latency at a fixed $RATE requests/s for $LAT_DURATION s: Debian has no wrk2, so an open-loop Python
#      generator (asyncio + uvloop, $LAT_CONNECTIONS keep-alive connections) sends on a fixed schedule and
#      records each request's latency; p50/p99 per configuration and the latency moat and nginx ADD over
#      direct. "service" latency is from the write of the request to the last byte of the answer;
#      "corrected" is from the scheduled send time (includes client timer lateness and connection queueing).
#
# CPU layout (PIN=split, the default, needs >= 2 CPUs): the load generator (wrk or Python) runs on CPU 0,
# the mock and the proxy under test share the last CPU. Each configuration gets the same budget: one core
# for the client, one for the server side (for "direct" the mock has that core alone). Moat and the mock
# are told to use that many NIO event loops (NIO_SINGLETON_GROUP_LOOP_COUNT; NIO reads the cgroup, not the
# affinity mask), nginx that many workers. PIN=none runs everything unpinned on all CPUs.
#
# Settings (environment): DURATION=15 THREADS=2 CONNECTIONS=32 RATE=1000 LAT_DURATION=15 LAT_CONNECTIONS=64
#   WARMUP=3 PIN=split|none MOCK_LATENCY_MS= (unset: the mock answers at once; N sends x-mock-latency-ms: N)
#   SKIP_BUILD=1 (use the existing .build-bench binary) MOAT_BIN=PATH (use this moat binary)
#   PROFILE=1 (perf record -g on moat during an extra wrk run; report in .build-bench/bench-gateway-profile.txt)
#   STORE_DIR=DIR (moat's SQLite store; default the temp dir on disk; /dev/shm takes fsync and write-back
#   out of the picture) KEEP_TMP=1 (keep the temp dir with configs, logs and raw outputs)
# In the split layout the latency generator busy-polls its own CPU for send-time precision (~5 us).
# Moat's policy is set to allow so a verdict cannot change the measured path mid-run.
# Needs: nginx and wrk (apt-get installed if missing, as root), python3 (pip installs uvloop if it can).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
RATE=${RATE:-1000}
LAT_DURATION=${LAT_DURATION:-15}
LAT_CONNECTIONS=${LAT_CONNECTIONS:-64}
WARMUP=${WARMUP:-3}
PIN=${PIN:-split}
MOCK_LATENCY_MS=${MOCK_LATENCY_MS:-}
PROFILE=${PROFILE:-0}

log() { printf '%s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------------------
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  log "installing nginx and wrk (Debian)"
  if [ "$(id -u)" -ne 0 ]; then log "need nginx and wrk: run as root or install them"; exit 1; fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk >/dev/null
fi
python3 -c "import uvloop" 2>/dev/null || python3 -m pip install --quiet uvloop >/dev/null 2>&1 \
  || log "uvloop unavailable: the latency generator falls back to asyncio (more client jitter)"
if [ "$PROFILE" = 1 ] && ! command -v perf >/dev/null; then log "PROFILE=1 needs perf"; exit 1; fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building moat (release, --scratch-path .build-bench)"
  swift build -c release --scratch-path .build-bench >/dev/null
fi
moat=${MOAT_BIN:-$root/.build-bench/release/moat}
[ -x "$moat" ] || { log "no $moat: build first"; exit 1; }

# --- processes and cleanup ---------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moat-bench.XXXXXX")
pids=()
child=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
  if [ -n "${store_dir:-}" ] && [ "$store_dir" != "$tmp" ]; then rm -rf "$store_dir"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ncpu=$(nproc)
if [ "$PIN" = split ] && [ "$ncpu" -ge 2 ]; then
  client_cpus=0
  server_cpus=$((ncpu - 1))
  server_n=1
  client=(taskset -c "$client_cpus")
  server=(taskset -c "$server_cpus")
else
  PIN=none
  client_cpus=all; server_cpus=all; server_n=$ncpu
  client=(); server=()
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(free_port); moat_port=$(free_port); admin_port=$(free_port); nginx_port=$(free_port)
while [ "$moat_port" = "$mock_port" ]; do moat_port=$(free_port); done
while [ "$nginx_port" = "$mock_port" ] || [ "$nginx_port" = "$moat_port" ]; do nginx_port=$(free_port); done
while [ "$admin_port" = "$mock_port" ] || [ "$admin_port" = "$moat_port" ] || [ "$admin_port" = "$nginx_port" ]; do admin_port=$(free_port); done

wait_http() { # url name pid
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { log "$2 exited; its log:"; cat "$tmp/$2.log" >&2 || true; exit 1; }
    sleep 0.05
  done
  log "$2 did not come up at $1"; exit 1
}

# The mock upstream.
NIO_SINGLETON_GROUP_LOOP_COUNT=$server_n "${server[@]}" "$moat" mock-upstream --port "$mock_port" --log-level warning \
  >"$tmp/mock.log" 2>&1 &
mock_pid=$!; pids+=("$mock_pid")

# Moat: a store with one key, a tier whose limits nothing reaches, policy that never changes the path.
store_dir=${STORE_DIR:-$tmp}
[ "$store_dir" = "$tmp" ] || store_dir=$(mktemp -d "$STORE_DIR/moat-bench-store.XXXXXX")
store=$store_dir/moat.sqlite
secret=$("$moat" keys create --account bench-account --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
cat >"$tmp/moat.yaml" <<EOF
listen: {host: 127.0.0.1, port: $moat_port}
admin: {host: 127.0.0.1, port: $admin_port, token: bench-admin-token}
store: $store
upstreams:
  openai: {url: "http://127.0.0.1:$mock_port"}
  anthropic: {url: "http://127.0.0.1:$mock_port"}
limits:
  default_tier: bench
  tiers:
    bench:
      account:
        requests_per_minute: 1000000000
        input_tokens_per_minute: 1000000000000
        output_tokens_per_minute: 1000000000000
        tokens_per_day: 1000000000000000
policy: {campaign: allow, suspicious: allow, throttle_tier: bench}
EOF
NIO_SINGLETON_GROUP_LOOP_COUNT=$server_n "${server[@]}" "$moat" serve --config "$tmp/moat.yaml" --log-level warning \
  >"$tmp/moat.log" 2>&1 &
moat_pid=$!; pids+=("$moat_pid")

# nginx in the foreground, with upstream keepalive and no response buffering.
mkdir -p "$tmp/nginx/logs" "$tmp/nginx/tmp"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes $server_n;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/tmp/body;
  proxy_temp_path $tmp/nginx/tmp/proxy;
  fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
  uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
  scgi_temp_path $tmp/nginx/tmp/scgi;
  keepalive_requests 1000000;
  upstream mock {
    server 127.0.0.1:$mock_port;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
"${server[@]}" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" >"$tmp/nginx.log" 2>&1 &
nginx_pid=$!; pids+=("$nginx_pid")

wait_http "http://127.0.0.1:$mock_port/health" mock "$mock_pid"
wait_http "http://127.0.0.1:$moat_port/health" moat "$moat_pid"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.05; done

body='{"model":"atlas-2-flash","messages":[{"role":"user","content":"Say hello to the benchmark in a few words."}],"max_tokens":64}'
hdrs=(-H "Authorization: Bearer $secret")
gen_hdrs=(--header "Authorization: Bearer $secret")
lat_note="unset"
if [ -n "$MOCK_LATENCY_MS" ]; then
  hdrs+=(-H "x-mock-latency-ms: $MOCK_LATENCY_MS"); gen_hdrs+=(--header "x-mock-latency-ms: $MOCK_LATENCY_MS")
  lat_note="${MOCK_LATENCY_MS} ms"
fi

declare -A port=([direct]=$mock_port [moat]=$moat_port [nginx]=$nginx_port)
configs=(direct moat nginx)

# Every configuration must answer 200 with the mock's body before anything is measured.
for c in "${configs[@]}"; do
  code=$(curl -s -o "$tmp/check-$c.json" -w '%{http_code}' -X POST "http://127.0.0.1:${port[$c]}/v1/chat/completions" \
    -H 'Content-Type: application/json' "${hdrs[@]}" --data "$body")
  if [ "$code" != 200 ] || ! grep -q '"chat.completion"' "$tmp/check-$c.json"; then
    log "$c answered $code:"; cat "$tmp/check-$c.json" >&2; log ""; exit 1
  fi
done

# wrk's request: the same bytes as above.
python3 - "$tmp/post.lua" "$body" "$secret" "$MOCK_LATENCY_MS" <<'PY'
import json, sys
path, body, secret, latency = sys.argv[1:]
lua = ['wrk.method = "POST"', f'wrk.body = {json.dumps(body)}', 'wrk.headers["Content-Type"] = "application/json"',
       f'wrk.headers["Authorization"] = {json.dumps("Bearer " + secret)}']
if latency:
    lua.append(f'wrk.headers["x-mock-latency-ms"] = {json.dumps(latency)}')
open(path, "w").write("\n".join(lua) + "\n")
PY

# The fixed-rate open-loop load generator (Debian has no wrk2).
cat >"$tmp/loadgen.py" <<'PY'
import argparse, asyncio, gc, json, socket, sys, time
from collections import deque

try:
    import uvloop
except ImportError:
    uvloop = None

clock = time.perf_counter


def parse_response(buf):
    """(status, bytes consumed) for the first complete HTTP/1.1 response in buf, or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).lower()
    status = int(head[9:12])
    body_start = end + 4
    i = head.find(b"\r\ncontent-length:")
    if i >= 0:
        j = head.find(b"\r\n", i + 2)
        n = int(head[i + 17:j if j >= 0 else len(head)].strip())
        return (status, body_start + n) if len(buf) >= body_start + n else None
    if b"\r\ntransfer-encoding: chunked" in head:
        pos = body_start
        while True:
            k = buf.find(b"\r\n", pos)
            if k < 0:
                return None
            size = int(bytes(buf[pos:k]).split(b";")[0], 16)
            if size == 0:
                return (status, k + 4) if len(buf) >= k + 4 else None
            pos = k + 2 + size + 2
            if pos > len(buf):
                return None
    return (status, body_start)  # no body


class Conn(asyncio.Protocol):
    def __init__(self, gen):
        self.gen, self.buf, self.transport = gen, bytearray(), None
        self.busy, self.sent, self.intended = False, 0.0, 0.0

    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, intended):
        self.busy, self.intended = True, intended
        self.sent = clock()
        self.transport.write(self.gen.request)

    def data_received(self, data):
        now = clock()
        self.buf += data
        while self.busy:
            r = parse_response(self.buf)
            if r is None:
                return
            del self.buf[:r[1]]
            self.busy = False
            self.gen.done(self, r[0], now)

    def connection_lost(self, exc):
        self.gen.lost(self)


class Gen:
    def __init__(self, a):
        self.a = a
        headers = "".join(f"{h}\r\n" for h in a.header)
        body = a.body.encode()
        self.request = (f"POST {a.path} HTTP/1.1\r\nHost: {a.host}:{a.port}\r\nContent-Type: application/json\r\n"
                        f"{headers}Content-Length: {len(body)}\r\n\r\n").encode() + body
        self.idle, self.waiting = [], deque()
        self.service, self.total, self.lateness = [], [], []
        self.statuses, self.errors, self.queued, self.outstanding = {}, 0, 0, 0
        self.measure_from = float("inf")
        self.last_done = 0.0

    def dispatch(self, intended):
        self.outstanding += 1
        if self.idle:
            c = self.idle.pop()
            c.send(intended)
            if intended >= self.measure_from:
                self.lateness.append(c.sent - intended)
        else:
            self.waiting.append(intended)
            if intended >= self.measure_from:
                self.queued += 1

    def done(self, c, status, now):
        self.outstanding -= 1
        if c.intended >= self.measure_from:
            self.service.append(now - c.sent)
            self.total.append(now - c.intended)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.last_done = now
        if self.waiting:
            c.send(self.waiting.popleft())
        else:
            self.idle.append(c)

    def lost(self, c):
        if c in self.idle:
            self.idle.remove(c)
        if c.busy:
            self.outstanding -= 1
            self.errors += 1
        asyncio.get_running_loop().create_task(self.connect())

    async def connect(self):
        loop = asyncio.get_running_loop()
        _, c = await loop.create_connection(lambda: Conn(self), self.a.host, self.a.port)
        if self.waiting:
            c.send(self.waiting.popleft())
        else:
            self.idle.append(c)


def pct(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summary(values):
    v = sorted(values)
    ms = lambda x: None if x is None else round(x * 1000, 3)
    return {"p50_ms": ms(pct(v, 50)), "p90_ms": ms(pct(v, 90)), "p99_ms": ms(pct(v, 99)),
            "p999_ms": ms(pct(v, 99.9)), "max_ms": ms(v[-1] if v else None),
            "mean_ms": ms(sum(v) / len(v) if v else None)}


async def main(a):
    gen = Gen(a)
    for _ in range(a.connections):
        await gen.connect()
    interval = 1.0 / a.rate
    count = int(a.rate * (a.warmup + a.duration))
    t0 = clock() + 0.05
    gen.measure_from = t0 + a.warmup
    i = 0
    while i < count:
        now = clock()
        due = t0 + i * interval
        if due > now:
            # Sleep when the next send is far; closer than 2 ms, busy-poll the loop (sleep(0) runs one
            # I/O poll with zero timeout) so sends go out on time: the timer resolution is ~1 ms.
            await asyncio.sleep(0 if a.spin and due - now < 0.002 else max(0.0, due - now - (0.002 if a.spin else 0)))
            continue
        while i < count and t0 + i * interval <= now:
            gen.dispatch(t0 + i * interval)
            i += 1
    sent_end = clock()
    deadline = sent_end + 10
    while gen.outstanding > 0 and clock() < deadline:
        await asyncio.sleep(0.01)
    n = len(gen.service)
    out = {"rate_target": a.rate, "duration_s": a.duration, "connections": a.connections, "completed": n,
           "achieved_rps": round(n / max(a.duration, gen.last_done - gen.measure_from), 1), "statuses": {str(k): v for k, v in gen.statuses.items()},
           "errors": gen.errors, "unfinished": gen.outstanding, "queued_for_connection": gen.queued,
           "event_loop": "uvloop" if uvloop else "asyncio", "spin": a.spin,
           "service": summary(gen.service), "corrected": summary(gen.total), "send_lateness": summary(gen.lateness)}
    print(json.dumps(out))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="Open-loop fixed-rate HTTP/1.1 POST load generator over keep-alive connections.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/v1/chat/completions")
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--duration", type=float, default=15)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--body", required=True)
    p.add_argument("--spin", action="store_true", help="busy-poll near send times (only when the generator has a CPU of its own)")
    a = p.parse_args()
    gc.disable()  # no collector pauses inside the measurement
    if uvloop:
        uvloop.run(main(a))
    else:
        asyncio.run(main(a))
PY

# CPU ticks (utime+stime) of a process and its children threads; for nginx, of its workers.
cpu_ticks() {
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{sub(/^.*\) /,""); print $12 + $13}' "/proc/$p/stat")))
  done
  echo "$total"
}
nginx_workers() { pgrep -P "$nginx_pid" 2>/dev/null | tr '\n' ' '; }
procs_of() {
  case $1 in
    direct) echo "$mock_pid" ;;
    moat) echo "$moat_pid" ;;
    nginx) echo "$(nginx_workers)" ;;
  esac
}
# Background work (moat's detection, log flushes) must not spill into the next measurement.
wait_idle() { # pid...
  local a b
  for _ in $(seq 100); do
    a=$(cpu_ticks "$@"); sleep 0.3; b=$(cpu_ticks "$@")
    [ $((b - a)) -le 1 ] && return 0
  done
  log "warning: $* still busy after 30 s"
}

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else if (v ~ /s$/) printf "%.3f", v*1000; else print "null" }'; }

# Runs a measurement in the background and waits, so a signal's trap runs at once.
run_child() { "$@" & child=$!; local rc=0; wait "$child" || rc=$?; child=""; return $rc; }

run_wrk() { # config duration out
  run_child "${client[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency -s "$tmp/post.lua" \
    "http://127.0.0.1:${port[$1]}/v1/chat/completions" >"$3" 2>&1
}

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
log "layout: PIN=$PIN client CPUs $client_cpus, mock+proxy CPUs $server_cpus; mock latency $lat_note"
log "warm-up: ${WARMUP}s of wrk per configuration"
for c in "${configs[@]}"; do run_wrk "$c" "${WARMUP}s" "$tmp/warm-$c.txt"; wait_idle "$mock_pid" "$moat_pid"; done

# 1. Max throughput.
for c in "${configs[@]}"; do
  log "throughput: $c (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
  procs=$(procs_of "$c")
  # shellcheck disable=SC2086
  t0=$(cpu_ticks $procs); m0=$(cpu_ticks "$mock_pid")
  run_wrk "$c" "${DURATION}s" "$tmp/wrk-$c.txt"
  # shellcheck disable=SC2086
  t1=$(cpu_ticks $procs); m1=$(cpu_ticks "$mock_pid")
  f=$tmp/wrk-$c.txt
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  [ -n "$rps" ] || { log "wrk failed for $c:"; cat "$f" >&2; exit 1; }
  total=$(awk '/requests in/ {print $1}' "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f")
  sockerr=$(awk '/Socket errors:/ {gsub(/,/,""); print $4+$6+$8+$10}' "$f")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$f")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$f")")
  # CPU time per request (clock ticks are 10 ms): the proxy's own (for direct, the mock's) and the mock's.
  printf '{"rps":%s,"requests":%s,"non_2xx":%s,"socket_errors":%s,"p50_ms":%s,"p99_ms":%s,"cpu_ticks":%s,"mock_cpu_ticks":%s}\n' \
    "$rps" "$total" "${non2xx:-0}" "${sockerr:-0}" "$p50" "$p99" $((t1 - t0)) $((m1 - m0)) >"$tmp/wrk-$c.json"
  wait_idle "$mock_pid" "$moat_pid"
done

# 2. Latency at a fixed rate. With a CPU of its own the generator busy-polls near send times.
spin=""; [ "$PIN" = split ] && spin="--spin"
for c in "${configs[@]}"; do
  log "latency: $c (${RATE} req/s for ${LAT_DURATION}s, open loop, $LAT_CONNECTIONS connections)"
  run_child "${client[@]}" python3 "$tmp/loadgen.py" $spin --port "${port[$c]}" --rate "$RATE" --duration "$LAT_DURATION" \
    --connections "$LAT_CONNECTIONS" --body "$body" "${gen_hdrs[@]}" >"$tmp/lat-$c.json" 2>"$tmp/lat-$c.err" \
    || { log "load generator failed for $c:"; cat "$tmp/lat-$c.err" >&2; exit 1; }
  wait_idle "$mock_pid" "$moat_pid"
done

# Optional: profile moat under a wrk run.
if [ "$PROFILE" = 1 ]; then
  log "profile: perf record -g on moat during a ${DURATION}s wrk run"
  perf record -g -o "$tmp/perf.data" -p "$moat_pid" -- sleep "$DURATION" >"$tmp/perf.log" 2>&1 &
  perf_pid=$!
  run_wrk moat "${DURATION}s" "$tmp/wrk-profile.txt"
  wait "$perf_pid" || true
  {
    echo "== self time by symbol (perf report --no-children --sort symbol)"
    perf report -i "$tmp/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep '%' | grep -v '^#' | head -40
    echo "== self time by shared object"
    perf report -i "$tmp/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | grep -v '^#' | head -15
    echo "== inclusive time of Moat's own functions (perf report --children, frame-pointer call graphs)"
    perf report -i "$tmp/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep '%' | grep -v '^#' \
      | grep -E 'Moat|Gateway' | head -25
  } | { if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi; } \
    >"$root/.build-bench/bench-gateway-profile.txt" || true
  log "profile written to .build-bench/bench-gateway-profile.txt"
fi

# Peak memory.
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
moat_hwm=$(hwm_kb "$moat_pid")
mock_hwm=$(hwm_kb "$mock_pid")
nginx_hwm=0
for w in $(nginx_workers) "$nginx_pid"; do nginx_hwm=$((nginx_hwm + $(hwm_kb "$w"))); done

# --- report --------------------------------------------------------------------------------------------
python3 - "$tmp" "$PIN" "$client_cpus" "$server_cpus" "$lat_note" "$DURATION" "$THREADS" "$CONNECTIONS" "$RATE" \
  "$LAT_DURATION" "$LAT_CONNECTIONS" "$moat_hwm" "$mock_hwm" "$nginx_hwm" "$loadavg" "$(date -u +%FT%TZ)" <<'PY'
import json, sys
(tmp, pin, ccpu, scpu, mocklat, dur, thr, conns, rate, latdur, latconns, moat_hwm, mock_hwm, nginx_hwm, loadavg, when) = sys.argv[1:]
cfgs = ["direct", "moat", "nginx"]
w = {c: json.load(open(f"{tmp}/wrk-{c}.json")) for c in cfgs}
lat = {c: json.load(open(f"{tmp}/lat-{c}.json")) for c in cfgs}
rps = {c: w[c]["rps"] for c in cfgs}
non2xx = {c: w[c]["non_2xx"] for c in cfgs}
sockerr = {c: w[c]["socket_errors"] for c in cfgs}
wp = {c: (w[c]["p50_ms"], w[c]["p99_ms"]) for c in cfgs}
cpu = {c: round(w[c]["cpu_ticks"] * 10000 / w[c]["requests"], 1) for c in cfgs}
mcpu = {c: round(w[c]["mock_cpu_ticks"] * 10000 / w[c]["requests"], 1) for c in cfgs}

def r(x, n=2): return None if x is None else round(x, n)
def ratio(a, b): return None if not b else round(a / b, 3)
def added_ratio(a, b): return None if b is None or b < 0.05 else round(a / b, 2)  # noise-level denominators say nothing
def added(c, kind, p): return r(lat[c][kind][p] - lat["direct"][kind][p], 3)

print()
print(f"moat gateway benchmark: loopback, mock upstream (x-mock-latency-ms {mocklat}), PIN={pin} "
      f"(client CPUs {ccpu}, mock+proxy CPUs {scpu}); load average before the run: {loadavg}")
print()
print(f"1. max throughput: wrk -t{thr} -c{conns} -d{dur}s, non-streaming OpenAI chat completion")
print(f"   {'':8} {'req/s':>10} {'vs direct':>10} {'p50 ms':>8} {'p99 ms':>8} {'proxy CPU us/req':>17} {'mock CPU us/req':>16} {'non-2xx':>8} {'sock err':>8}")
for c in cfgs:
    own = "-" if c == "direct" else f"{cpu[c]:.1f}"
    print(f"   {c:8} {rps[c]:10.0f} {rps[c]/rps['direct']:10.2f} {wp[c][0]:8.3f} {wp[c][1]:8.3f} {own:>17} {mcpu[c]:16.1f} {non2xx[c]:8d} {sockerr[c]:8d}")
print(f"   moat / nginx throughput: {rps['moat']/rps['nginx']:.2f}   (goal >= 0.70)")
print()
print(f"2. latency at {rate} req/s for {latdur}s (open loop, {latconns} keep-alive connections)")
print(f"   service = request written -> last byte read; corrected = from the scheduled send time (wrk2-style)")
print(f"   {'':8} {'achieved':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'+p50 ms':>8} {'+p99 ms':>8} {'corr p50':>9} {'corr p99':>9} {'+corr p99':>10} {'errors':>7}")
def f3(x): return "-" if x is None else f"{x:+.3f}"
for c in cfgs:
    s, k = lat[c]["service"], lat[c]["corrected"]
    bad = lat[c]["errors"] + lat[c]["unfinished"] + sum(v for st, v in lat[c]["statuses"].items() if st != "200")
    d = c == "direct"
    print(f"   {c:8} {lat[c]['achieved_rps']:9.0f} {s['p50_ms']:8.3f} {s['p99_ms']:8.3f} {s['p999_ms']:9.3f} "
          f"{'-' if d else f3(added(c, 'service', 'p50_ms')):>8} {'-' if d else f3(added(c, 'service', 'p99_ms')):>8} "
          f"{k['p50_ms']:9.3f} {k['p99_ms']:9.3f} {'-' if d else f3(added(c, 'corrected', 'p99_ms')):>10} {bad:7d}")
am50, am99 = added("moat", "service", "p50_ms"), added("moat", "service", "p99_ms")
an50, an99 = added("nginx", "service", "p50_ms"), added("nginx", "service", "p99_ms")
print(f"   added latency moat : p50 {am50:+.3f} ms, p99 {am99:+.3f} ms (service)   (goal: p99 added <= 1 ms)")
print(f"   added latency nginx: p50 {an50:+.3f} ms, p99 {an99:+.3f} ms (service)")
print(f"   moat / nginx added: p50 {added_ratio(am50, an50)}x, p99 {added_ratio(am99, an99)}x   (None: nginx adds < 0.05 ms, the noise floor)")
print(f"   client send lateness p99 (same client for all): " + ", ".join(f"{c} {lat[c]['send_lateness']['p99_ms'] or '-'} ms" for c in cfgs)
      + "; requests that waited for a free connection: " + ", ".join(f"{c} {lat[c]['queued_for_connection']}" for c in cfgs))
print()
print(f"3. peak RSS (VmHWM): moat {int(moat_hwm)/1024:.1f} MB, mock {int(mock_hwm)/1024:.1f} MB, nginx (master+workers) {int(nginx_hwm)/1024:.1f} MB")
print()
out = {
    "bench": "gateway", "time": when, "loadavg_before": loadavg, "pin": pin, "client_cpus": ccpu, "server_cpus": scpu, "mock_latency_ms": None if mocklat == "unset" else mocklat,
    "throughput": {"wrk": f"-t{thr} -c{conns} -d{dur}s", "rps": {c: r(rps[c], 1) for c in cfgs},
                   "moat_over_nginx": ratio(rps["moat"], rps["nginx"]), "moat_over_direct": ratio(rps["moat"], rps["direct"]),
                   "nginx_over_direct": ratio(rps["nginx"], rps["direct"]),
                   "wrk_p50_ms": {c: wp[c][0] for c in cfgs}, "wrk_p99_ms": {c: wp[c][1] for c in cfgs},
                   "proxy_cpu_us_per_req": {c: cpu[c] for c in cfgs}, "mock_cpu_us_per_req": mcpu,
                   "non_2xx": non2xx, "socket_errors": sockerr},
    "latency": {"rate": float(rate), "duration_s": float(latdur), "connections": int(latconns),
                "service": {c: lat[c]["service"] for c in cfgs}, "corrected": {c: lat[c]["corrected"] for c in cfgs},
                "achieved_rps": {c: lat[c]["achieved_rps"] for c in cfgs},
                "statuses": {c: lat[c]["statuses"] for c in cfgs}, "errors": {c: lat[c]["errors"] for c in cfgs},
                "added_ms": {"moat": {"p50": am50, "p99": am99}, "nginx": {"p50": an50, "p99": an99}},
                "added_corrected_ms": {c: {"p50": added(c, "corrected", "p50_ms"), "p99": added(c, "corrected", "p99_ms")} for c in ["moat", "nginx"]},
                "moat_over_nginx_added": {"p50": added_ratio(am50, an50), "p99": added_ratio(am99, an99)},
                "event_loop": lat["direct"]["event_loop"]},
    "peak_rss_kb": {"moat": int(moat_hwm), "mock": int(mock_hwm), "nginx": int(nginx_hwm)},
}
print(json.dumps(out, separators=(",", ":")))
PY
