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
#   SKIP_BUILD=1 (use the existing .build-bench binary) PROFILE=1 (perf record moat during an extra wrk run)
#   KEEP_TMP=1 (keep the temp dir with configs and logs)
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
moat=$root/.build-bench/release/moat
[ -x "$moat" ] || { log "no $moat: build first"; exit 1; }

# --- processes and cleanup ---------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moat-bench.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
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
store=$tmp/moat.sqlite
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
policy: {campaign: allow, suspicious: allow}
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

run_wrk() { # config duration out
  "${client[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency -s "$tmp/post.lua" \
    "http://127.0.0.1:${port[$1]}/v1/chat/completions" >"$3" 2>&1
}

log "layout: PIN=$PIN client CPUs $client_cpus, mock+proxy CPUs $server_cpus; mock latency $lat_note"
log "warm-up: ${WARMUP}s of wrk per configuration"
for c in "${configs[@]}"; do run_wrk "$c" "${WARMUP}s" "$tmp/warm-$c.txt"; wait_idle "$mock_pid" "$moat_pid"; done

# 1. Max throughput.
declare -A rps non2xx sockerr wp50 wp99 cpu_us mock_cpu_us
for c in "${configs[@]}"; do
  log "throughput: $c (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
  procs=$(procs_of "$c")
  # shellcheck disable=SC2086
  t0=$(cpu_ticks $procs); m0=$(cpu_ticks "$mock_pid")
  run_wrk "$c" "${DURATION}s" "$tmp/wrk-$c.txt"
  # shellcheck disable=SC2086
  t1=$(cpu_ticks $procs); m1=$(cpu_ticks "$mock_pid")
  f=$tmp/wrk-$c.txt
  rps[$c]=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  total=$(awk '/requests in/ {print $1}' "$f")
  non2xx[$c]=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f"); non2xx[$c]=${non2xx[$c]:-0}
  sockerr[$c]=$(awk '/Socket errors:/ {gsub(/,/,""); print $4+$6+$8+$10}' "$f"); sockerr[$c]=${sockerr[$c]:-0}
  to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else if (v ~ /s$/) printf "%.3f", v*1000; else print "null" }'; }
  wp50[$c]=$(to_ms "$(awk '$1=="50%" {print $2}' "$f")")
  wp99[$c]=$(to_ms "$(awk '$1=="99%" {print $2}' "$f")")
  # CPU µs per request (clock ticks are 10 ms): the proxy's own (for direct, the mock's), and the mock's.
  cpu_us[$c]=$(awk -v d=$((t1 - t0)) -v n="$total" 'BEGIN { printf "%.1f", d * 10000 / n }')
  mock_cpu_us[$c]=$(awk -v d=$((m1 - m0)) -v n="$total" 'BEGIN { printf "%.1f", d * 10000 / n }')
  [ -n "${rps[$c]}" ] || { log "wrk failed for $c:"; cat "$f" >&2; exit 1; }
  wait_idle "$mock_pid" "$moat_pid"
done

# 2. Latency at a fixed rate.
declare -A lat
for c in "${configs[@]}"; do
  log "latency: $c (${RATE} req/s for ${LAT_DURATION}s, open loop, $LAT_CONNECTIONS connections)"
  "${client[@]}" python3 "$tmp/loadgen.py" --port "${port[$c]}" --rate "$RATE" --duration "$LAT_DURATION" \
    --connections "$LAT_CONNECTIONS" --body "$body" "${gen_hdrs[@]}" >"$tmp/lat-$c.json" 2>"$tmp/lat-$c.err" \
    || { log "load generator failed for $c:"; cat "$tmp/lat-$c.err" >&2; exit 1; }
  lat[$c]=$(cat "$tmp/lat-$c.json")
  wait_idle "$mock_pid" "$moat_pid"
done

# Optional: profile moat under a wrk run.
if [ "$PROFILE" = 1 ]; then
  log "profile: perf record -g on moat during a ${DURATION}s wrk run"
  perf record -g -o "$tmp/perf.data" -p "$moat_pid" -- sleep "$DURATION" >"$tmp/perf.log" 2>&1 &
  perf_pid=$!
  run_wrk moat "${DURATION}s" "$tmp/wrk-profile.txt"
  wait "$perf_pid" || true
  perf report -i "$tmp/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' \
    | grep '%' | head -40 >"$root/.build-bench/bench-gateway-profile.txt" || true
  log "profile written to .build-bench/bench-gateway-profile.txt"
fi

# Peak memory.
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
moat_hwm=$(hwm_kb "$moat_pid")
mock_hwm=$(hwm_kb "$mock_pid")
nginx_hwm=0
for w in $(nginx_workers) "$nginx_pid"; do nginx_hwm=$((nginx_hwm + $(hwm_kb "$w"))); done

# --- report --------------------------------------------------------------------------------------------
python3 - "$PIN" "$client_cpus" "$server_cpus" "$lat_note" "$DURATION" "$THREADS" "$CONNECTIONS" "$RATE" \
  "$LAT_DURATION" "$LAT_CONNECTIONS" "$moat_hwm" "$mock_hwm" "$nginx_hwm" <<PY
import json, sys
(pin, ccpu, scpu, mocklat, dur, thr, conns, rate, latdur, latconns, moat_hwm, mock_hwm, nginx_hwm) = sys.argv[1:]
cfgs = ["direct", "moat", "nginx"]
rps = {"direct": float("${rps[direct]}"), "moat": float("${rps[moat]}"), "nginx": float("${rps[nginx]}")}
non2xx = {"direct": int("${non2xx[direct]}"), "moat": int("${non2xx[moat]}"), "nginx": int("${non2xx[nginx]}")}
sockerr = {"direct": int("${sockerr[direct]}"), "moat": int("${sockerr[moat]}"), "nginx": int("${sockerr[nginx]}")}
wp = {c: (p50, p99) for c, p50, p99 in [("direct", "${wp50[direct]}", "${wp99[direct]}"), ("moat", "${wp50[moat]}", "${wp99[moat]}"),
                                         ("nginx", "${wp50[nginx]}", "${wp99[nginx]}")]}
cpu = {"direct": float("${cpu_us[direct]}"), "moat": float("${cpu_us[moat]}"), "nginx": float("${cpu_us[nginx]}")}
mcpu = {"direct": float("${mock_cpu_us[direct]}"), "moat": float("${mock_cpu_us[moat]}"), "nginx": float("${mock_cpu_us[nginx]}")}
lat = {"direct": json.loads('''${lat[direct]}'''), "moat": json.loads('''${lat[moat]}'''), "nginx": json.loads('''${lat[nginx]}''')}

def r(x, n=2): return None if x is None else round(x, n)
def ratio(a, b): return None if not b else round(a / b, 3)
def added(c, kind, p): return r(lat[c][kind][p] - lat["direct"][kind][p], 3)

print()
print(f"moat gateway benchmark: loopback, mock upstream (x-mock-latency-ms {mocklat}), PIN={pin} "
      f"(client CPUs {ccpu}, mock+proxy CPUs {scpu})")
print()
print(f"1. max throughput: wrk -t{thr} -c{conns} -d{dur}s, non-streaming OpenAI chat completion")
print(f"   {'':8} {'req/s':>10} {'vs direct':>10} {'p50 ms':>8} {'p99 ms':>8} {'proxy CPU us/req':>17} {'mock CPU us/req':>16} {'non-2xx':>8} {'sock err':>8}")
for c in cfgs:
    own = "-" if c == "direct" else f"{cpu[c]:.1f}"
    print(f"   {c:8} {rps[c]:10.0f} {rps[c]/rps['direct']:10.2f} {wp[c][0]:>8} {wp[c][1]:>8} {own:>17} {mcpu[c]:16.1f} {non2xx[c]:8d} {sockerr[c]:8d}")
print(f"   moat / nginx throughput: {rps['moat']/rps['nginx']:.2f}   (goal >= 0.70)")
print()
print(f"2. latency at {rate} req/s for {latdur}s (open loop, {latconns} keep-alive connections; service time: write -> last byte)")
print(f"   {'':8} {'achieved':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'+p50 ms':>8} {'+p99 ms':>8} {'corr p99':>9} {'errors':>7}")
for c in cfgs:
    s = lat[c]["service"]; bad = lat[c]["errors"] + sum(v for k, v in lat[c]["statuses"].items() if k != "200")
    a50 = "-" if c == "direct" else f"{added(c, 'service', 'p50_ms'):+.3f}"
    a99 = "-" if c == "direct" else f"{added(c, 'service', 'p99_ms'):+.3f}"
    print(f"   {c:8} {lat[c]['achieved_rps']:9.0f} {s['p50_ms']:8.3f} {s['p90_ms']:8.3f} {s['p99_ms']:8.3f} {s['p999_ms']:9.3f} {a50:>8} {a99:>8} {lat[c]['corrected']['p99_ms']:9.3f} {bad:7d}")
am50, am99 = added("moat", "service", "p50_ms"), added("moat", "service", "p99_ms")
an50, an99 = added("nginx", "service", "p50_ms"), added("nginx", "service", "p99_ms")
print(f"   added latency moat : p50 {am50:+.3f} ms, p99 {am99:+.3f} ms   (goal: p99 added <= 1 ms)")
print(f"   added latency nginx: p50 {an50:+.3f} ms, p99 {an99:+.3f} ms")
print(f"   moat / nginx added: p50 {ratio(am50, an50)}x, p99 {ratio(am99, an99)}x")
print(f"   client send lateness p99 (same client for all): " + ", ".join(f"{c} {lat[c]['send_lateness']['p99_ms']:.3f} ms" for c in cfgs))
print()
print(f"3. peak RSS (VmHWM): moat {int(moat_hwm)/1024:.1f} MB, mock {int(mock_hwm)/1024:.1f} MB, nginx (master+workers) {int(nginx_hwm)/1024:.1f} MB")
print()
out = {
    "bench": "gateway", "pin": pin, "client_cpus": ccpu, "server_cpus": scpu, "mock_latency_ms": None if mocklat == "unset" else mocklat,
    "throughput": {"wrk": f"-t{thr} -c{conns} -d{dur}s", "rps": {c: r(rps[c], 1) for c in cfgs},
                   "moat_over_nginx": ratio(rps["moat"], rps["nginx"]), "moat_over_direct": ratio(rps["moat"], rps["direct"]),
                   "nginx_over_direct": ratio(rps["nginx"], rps["direct"]),
                   "wrk_p50_ms": {c: float(wp[c][0]) for c in cfgs}, "wrk_p99_ms": {c: float(wp[c][1]) for c in cfgs},
                   "proxy_cpu_us_per_req": {c: cpu[c] for c in cfgs}, "mock_cpu_us_per_req": mcpu,
                   "non_2xx": non2xx, "socket_errors": sockerr},
    "latency": {"rate": float(rate), "duration_s": float(latdur), "connections": int(latconns),
                "service": {c: lat[c]["service"] for c in cfgs}, "corrected": {c: lat[c]["corrected"] for c in cfgs},
                "achieved_rps": {c: lat[c]["achieved_rps"] for c in cfgs},
                "statuses": {c: lat[c]["statuses"] for c in cfgs}, "errors": {c: lat[c]["errors"] for c in cfgs},
                "added_ms": {"moat": {"p50": am50, "p99": am99}, "nginx": {"p50": an50, "p99": an99}},
                "added_corrected_ms": {c: {"p50": added(c, "corrected", "p50_ms"), "p99": added(c, "corrected", "p99_ms")} for c in ["moat", "nginx"]},
                "moat_over_nginx_added": {"p50": ratio(am50, an50), "p99": ratio(am99, an99)},
                "event_loop": lat["direct"]["event_loop"]},
    "peak_rss_kb": {"moat": int(moat_hwm), "mock": int(mock_hwm), "nginx": int(nginx_hwm)},
}
print(json.dumps(out, separators=(",", ":")))
PY
