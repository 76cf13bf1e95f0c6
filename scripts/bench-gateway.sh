#!/usr/bin/env bash
# Benchmark the inline gateway against nginx, in one run, on loopback, against `moat mock-upstream`:
#   (a) direct to the mock, (b) through `moat serve`, (c) through `moat serve` for an account whose action
#   is `fingerprint` (an operator override: every answer, complete or streamed, is rewritten with the
#   default campaign's key), (d) through nginx `proxy_pass`.
# Every configuration sends the same bytes with a real Moat key in `Authorization` (the mock and nginx
# ignore it); the key's tier has limits far above the load.
#
#   scripts/bench-gateway.sh            # build (release, .build-bench), run, print a table and one JSON line
#
# A fifth configuration, (e) moat-base, runs a second `moat serve` from another binary (MOAT_BASELINE_BIN,
# e.g. a build of main) in the same run and layout: before/after figures from the same machine state.
#
# Three measurements per configuration (the checked-in pieces are in Benchmarks/gateway/):
#   1. max throughput: `wrk -t$THREADS -c$CONNECTIONS -d$DURATION` (post.lua), small non-streamed chat completions;
#   2. latency at a fixed $RATE requests/s for $LAT_DURATION s (loadgen.py: open loop, $LAT_CONNECTIONS
#      keep-alive connections), p50/p99 and what moat and nginx ADD over direct;
#   3. streams at $STREAM_RATE requests/s (loadgen.py --stream): the mock streams $STREAM_WORDS words with
#      $STREAM_DELAY_MS ms between events; time to first byte (the first event) and to last byte, added over direct.
# Measurement 1 runs THROUGHPUT_ROUNDS times (default ROUNDS; the median round per configuration counts), 2 and 3
# ROUNDS times; each round goes through the configurations in a rotated order
# (round r starts at the r-th), so a drift in the machine's state (other work, thermal, page cache) falls
# on every configuration alike. Every request's times are kept, and the report pools the rounds (its
# percentiles are over all of them) and prints each round's added p99 next to them.
# Then report.py prints the table and the JSON line; peak RSS (VmHWM) of every process.
#
# CPU layout (PIN=split, the default, needs >= 2 CPUs): the load generator (wrk or Python) runs on CPU 0,
# the mock and the proxy under test share the last CPU. Each configuration gets the same budget: one core
# for the client, one for the server side (for "direct" the mock has that core alone). Moat and the mock
# are told to use that many NIO event loops (NIO_SINGLETON_GROUP_LOOP_COUNT; NIO reads the cgroup, not the
# affinity mask), nginx that many workers. PIN=none runs everything unpinned on all CPUs.
#
# Settings (environment): DURATION=15 THREADS=2 CONNECTIONS=32 RATE=1000 LAT_DURATION=15 LAT_CONNECTIONS=64
#   STREAM_RATE=200 STREAM_WORDS=24 STREAM_DELAY_MS=1 WARMUP=3 PIN=split|none ROUNDS=3 THROUGHPUT_ROUNDS=$ROUNDS
#   FP=1 (0: leave out moat-fp) MOAT_BASELINE_BIN=PATH (add moat-base, that binary, measured alike)
#   PRIORITY=N (run the benchmark's session at autogroup nice N, see below; same for every configuration)
#   MOCK_LATENCY_MS= (unset: the mock answers at once; N sends x-mock-latency-ms: N)
#   SKIP_BUILD=1 (use the existing .build-bench binary) MOAT_BIN=PATH (use this moat binary)
#   PROFILE=1 (perf record -g on moat during an extra wrk run; report in .build-bench/bench-gateway-profile.txt)
#   STORE_DIR=DIR (moat's store; default the temp dir on disk) KEEP_TMP=1 (keep configs, logs and raw outputs)
#   MOAT_STORE_URL=postgres://... (moat on a PostgreSQL store, as replicas run; see scripts/bench-gateway-pg.sh)
# Moat's policy is set to allow so a verdict cannot change the measured path mid-run.
# Needs: nginx and wrk (apt-get installed if missing, as root), python3 (pip installs uvloop if it can).
set -euo pipefail
# PRIORITY=N (e.g. -20, as root): the whole benchmark (generator, mock, nginx, moat: every configuration
# alike) runs in a session of its own whose autogroup has nice N, so that on a shared machine other
# sessions' work (builds) takes less of the measured CPUs. With autogroups (Linux's default) a nice value
# set on processes counts only within their own session; the session's autogroup nice is what other
# sessions see. Moat's background threads still lower themselves below its request threads.
if [ -n "${PRIORITY:-}" ] && [ -z "${BENCH_IN_SESSION:-}" ] && command -v setsid >/dev/null; then
  exec setsid env BENCH_IN_SESSION=1 "$0" "$@"
fi
if [ -n "${PRIORITY:-}" ]; then
  if [ -w /proc/self/autogroup ] && echo "$PRIORITY" >/proc/self/autogroup 2>/dev/null; then
    printf 'benchmark session: %s\n' "$(cat /proc/self/autogroup)" >&2
  else
    printf 'PRIORITY=%s: cannot set this session'"'"'s autogroup nice (needs root and autogroups); going on without\n' "$PRIORITY" >&2
  fi
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
bench=$root/Benchmarks/gateway

DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
RATE=${RATE:-1000}
LAT_DURATION=${LAT_DURATION:-15}
LAT_CONNECTIONS=${LAT_CONNECTIONS:-64}
STREAM_RATE=${STREAM_RATE:-200}
STREAM_WORDS=${STREAM_WORDS:-24}
STREAM_DELAY_MS=${STREAM_DELAY_MS:-1}
WARMUP=${WARMUP:-3}
PIN=${PIN:-split}
MOCK_LATENCY_MS=${MOCK_LATENCY_MS:-}
PROFILE=${PROFILE:-0}
ROUNDS=${ROUNDS:-3}
FP=${FP:-1}
MOAT_BASELINE_BIN=${MOAT_BASELINE_BIN:-}

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

if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${MOAT_BIN:-}" ]; then
  log "building moat (release, --scratch-path .build-bench)"
  swift build -c release --scratch-path .build-bench >/dev/null
fi
moat=${MOAT_BIN:-$root/.build-bench/release/moat}
[ -x "$moat" ] || { log "no $moat: build first"; exit 1; }
[ -z "$MOAT_BASELINE_BIN" ] || [ -x "$MOAT_BASELINE_BIN" ] || { log "no $MOAT_BASELINE_BIN"; exit 1; }

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

read -r mock_port moat_port admin_port nginx_port base_port base_admin_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(6)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

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

# Moat: a store with one key.
store_dir=${STORE_DIR:-$tmp}
[ "$store_dir" = "$tmp" ] || store_dir=$(mktemp -d "$STORE_DIR/moat-bench-store.XXXXXX")
store=${MOAT_STORE_URL:-$store_dir/moat.sqlite}
secret=$("$moat" keys create --account bench-account --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
fp_secret=$("$moat" keys create --account bench-fingerprinted --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
MOAT_FINGERPRINT_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export MOAT_FINGERPRINT_KEY
sed -e "s|@PORT@|$moat_port|; s|@ADMIN_PORT@|$admin_port|; s|@STORE@|$store|; s|@UPSTREAM@|127.0.0.1:$mock_port|g" \
  "$bench/moat.yaml.in" >"$tmp/moat.yaml"
# MOAT_STORE_URL=postgres://...: the store replicas share (scripts/bench-gateway-pg.sh); the replica's log in SQLite.
[ -z "${MOAT_STORE_URL:-}" ] || echo "local_store: $store_dir/replica.sqlite" >>"$tmp/moat.yaml"
NIO_SINGLETON_GROUP_LOOP_COUNT=$server_n "${server[@]}" "$moat" serve --config "$tmp/moat.yaml" --log-level warning \
  >"$tmp/moat.log" 2>&1 &
moat_pid=$!; pids+=("$moat_pid")

# moat-base: the baseline binary, on a store of its own with the same key, configured alike.
base_pid=""
if [ -n "$MOAT_BASELINE_BIN" ]; then
  mkdir -p "$store_dir/base"
  base_store=$store_dir/base/moat.sqlite
  base_secret=$("$MOAT_BASELINE_BIN" keys create --account bench-account --store "$base_store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  sed -e "s|@PORT@|$base_port|; s|@ADMIN_PORT@|$base_admin_port|; s|@STORE@|$base_store|; s|@UPSTREAM@|127.0.0.1:$mock_port|g" \
    "$bench/moat.yaml.in" >"$tmp/moat-base.yaml"
  NIO_SINGLETON_GROUP_LOOP_COUNT=$server_n "${server[@]}" "$MOAT_BASELINE_BIN" serve --config "$tmp/moat-base.yaml" --log-level warning \
    >"$tmp/moat-base.log" 2>&1 &
  base_pid=$!; pids+=("$base_pid")
fi

# nginx in the foreground.
mkdir -p "$tmp/nginx/logs" "$tmp/nginx/tmp"
sed -e "s|@DIR@|$tmp/nginx|g; s|@WORKERS@|$server_n|; s|@PORT@|$nginx_port|; s|@UPSTREAM@|127.0.0.1:$mock_port|" \
  "$bench/nginx.conf.in" >"$tmp/nginx/nginx.conf"
"${server[@]}" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" >"$tmp/nginx.log" 2>&1 &
nginx_pid=$!; pids+=("$nginx_pid")

wait_http "http://127.0.0.1:$mock_port/health" mock "$mock_pid"
wait_http "http://127.0.0.1:$moat_port/health" moat "$moat_pid"
[ -z "$base_pid" ] || wait_http "http://127.0.0.1:$base_port/health" moat-base "$base_pid"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.05; done

# The fingerprinted account: an operator override (audited like any other).
code=$(curl -s -o "$tmp/override.json" -w '%{http_code}' -X POST "http://127.0.0.1:$admin_port/admin/overrides" \
  -H 'Authorization: Bearer bench-admin-token' -H 'Content-Type: application/json' \
  --data '{"scope":"account","subject":"bench-fingerprinted","action":"fingerprint","reason":"gateway benchmark"}')
[ "$code" = 200 ] || [ "$code" = 201 ] || { log "override answered $code:"; cat "$tmp/override.json" >&2; exit 1; }

body='{"model":"atlas-2-flash","messages":[{"role":"user","content":"Say hello to the benchmark in a few words."}],"max_tokens":64}'
stream_body='{"model":"atlas-2-flash","messages":[{"role":"user","content":"Stream a short hello to the benchmark."}],"max_tokens":64,"stream":true}'
export BENCH_BODY=$body BENCH_AUTH="Bearer $secret" BENCH_EXTRA=""
gen_hdrs=(--header "Authorization: Bearer $secret")
lat_note="unset"
if [ -n "$MOCK_LATENCY_MS" ]; then
  BENCH_EXTRA="x-mock-latency-ms: $MOCK_LATENCY_MS"; gen_hdrs+=(--header "x-mock-latency-ms: $MOCK_LATENCY_MS")
  lat_note="${MOCK_LATENCY_MS} ms"
fi
stream_hdrs=("${gen_hdrs[@]}" --header "x-mock-chunk-delay-ms: $STREAM_DELAY_MS" --header "x-mock-words: $STREAM_WORDS")

declare -A port=([direct]=$mock_port [moat]=$moat_port [moat-fp]=$moat_port [nginx]=$nginx_port)
declare -A auth=([direct]=$secret [moat]=$secret [moat-fp]=$fp_secret [nginx]=$secret)
configs=(direct)
if [ -n "$base_pid" ]; then port[moat-base]=$base_port; auth[moat-base]=$base_secret; configs+=(moat-base); fi
configs+=(moat)
[ "$FP" = 1 ] && configs+=(moat-fp)
configs+=(nginx)

# Every configuration must answer 200 with the mock's body before anything is measured.
for c in "${configs[@]}"; do
  code=$(curl -s -o "$tmp/check-$c.json" -w '%{http_code}' -X POST "http://127.0.0.1:${port[$c]}/v1/chat/completions" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer ${auth[$c]}" --data "$body")
  if [ "$code" != 200 ] || ! grep -q '"chat.completion"' "$tmp/check-$c.json"; then
    log "$c answered $code:"; cat "$tmp/check-$c.json" >&2; log ""; exit 1
  fi
done

# CPU ticks (utime+stime) of processes; for nginx, of its workers.
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
    moat|moat-fp) echo "$moat_pid" ;;
    moat-base) echo "$base_pid" ;;
    nginx) echo "$(nginx_workers)" ;;
  esac
}
# Background work (moat's detection, log ingestion) must not spill into the next measurement.
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
  BENCH_AUTH="Bearer ${auth[$1]}" run_child "${client[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency -s "$bench/post.lua" \
    "http://127.0.0.1:${port[$1]}/v1/chat/completions" >"$3" 2>&1
}

idle_pids="$mock_pid $moat_pid $base_pid"
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
log "layout: PIN=$PIN client CPUs $client_cpus, mock+proxy CPUs $server_cpus; mock latency $lat_note"
log "warm-up: ${WARMUP}s of wrk per configuration"
for c in "${configs[@]}"; do run_wrk "$c" "${WARMUP}s" "$tmp/warm-$c.txt"; wait_idle $idle_pids; done

# 1. Max throughput: THROUGHPUT_ROUNDS rounds (default ROUNDS), each through the configurations in a rotated
# order; each configuration's round with the median req/s is its figure (wrk-C.json), every round is kept
# (wrk-C-rR.json) and the report prints the moat/nginx ratio of each round beside the ratio of the medians.
TROUNDS=${THROUGHPUT_ROUNDS:-$ROUNDS}
for ((tround = 1; tround <= TROUNDS; tround++)); do
torder=()
for ((k = 0; k < ${#configs[@]}; k++)); do torder+=("${configs[$(( (k + tround - 1) % ${#configs[@]} ))]}"); done
for c in "${torder[@]}"; do
  log "round $tround/$TROUNDS throughput: $c (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
  procs=$(procs_of "$c")
  # shellcheck disable=SC2086
  t0=$(cpu_ticks $procs); m0=$(cpu_ticks "$mock_pid")
  run_wrk "$c" "${DURATION}s" "$tmp/wrk-$c.txt"
  # CPU is read once the processes are idle again: moat's background work for these requests (log
  # ingestion, detection) counts, even what it did after the load stopped.
  wait_idle $idle_pids
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
  printf '{"rps":%s,"requests":%s,"non_2xx":%s,"socket_errors":%s,"p50_ms":%s,"p99_ms":%s,"cpu_ticks":%s,"mock_cpu_ticks":%s}\n' \
    "$rps" "$total" "${non2xx:-0}" "${sockerr:-0}" "$p50" "$p99" $((t1 - t0)) $((m1 - m0)) >"$tmp/wrk-$c-r$tround.json"
  cp "$f" "$tmp/wrk-$c-r$tround.txt"
done
done
for c in "${configs[@]}"; do
  python3 - "$tmp" "$c" "$TROUNDS" <<'PY'
import json, shutil, sys
d, c, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = sorted(range(1, n + 1), key=lambda r: json.load(open(f"{d}/wrk-{c}-r{r}.json"))["rps"])
shutil.copy(f"{d}/wrk-{c}-r{runs[(n - 1) // 2]}.json", f"{d}/wrk-{c}.json")
PY
done

# 2. Latency at a fixed rate, complete answers; 3. streams. With a CPU of its own the generator busy-polls.
# ROUNDS rounds, each through the configurations in a rotated order.
spin=""; [ "$PIN" = split ] && spin="--spin"
n=${#configs[@]}
for ((round = 1; round <= ROUNDS; round++)); do
  order=()
  for ((k = 0; k < n; k++)); do order+=("${configs[$(( (k + round - 1) % n ))]}"); done
  for c in "${order[@]}"; do
    log "round $round/$ROUNDS latency: $c (${RATE} req/s for ${LAT_DURATION}s, open loop, $LAT_CONNECTIONS connections)"
    run_child "${client[@]}" python3 "$bench/loadgen.py" $spin --port "${port[$c]}" --rate "$RATE" --duration "$LAT_DURATION" \
      --connections "$LAT_CONNECTIONS" --body "$body" "${gen_hdrs[@]/Bearer $secret/Bearer ${auth[$c]}}" \
      --samples "$tmp/lat-$c-r$round.samples.json" >"$tmp/lat-$c-r$round.json" 2>"$tmp/lat-$c.err" \
      || { log "load generator failed for $c:"; cat "$tmp/lat-$c.err" >&2; exit 1; }
    wait_idle $idle_pids
  done
  for c in "${order[@]}"; do
    log "round $round/$ROUNDS streams: $c (${STREAM_RATE} req/s for ${LAT_DURATION}s, $STREAM_WORDS words, ${STREAM_DELAY_MS} ms between events)"
    run_child "${client[@]}" python3 "$bench/loadgen.py" $spin --stream --port "${port[$c]}" --rate "$STREAM_RATE" \
      --duration "$LAT_DURATION" --connections "$LAT_CONNECTIONS" --body "$stream_body" "${stream_hdrs[@]/Bearer $secret/Bearer ${auth[$c]}}" \
      --samples "$tmp/stream-$c-r$round.samples.json" >"$tmp/stream-$c-r$round.json" 2>"$tmp/stream-$c.err" \
      || { log "load generator failed for $c streams:"; cat "$tmp/stream-$c.err" >&2; exit 1; }
    wait_idle $idle_pids
  done
done

# Optional: profile moat under a wrk run.
if [ "$PROFILE" = 1 ]; then
  log "profile: perf record -g on moat during a ${DURATION}s wrk run"
  perf record -g -o "$tmp/perf.data" -p "$moat_pid" -- sleep "$DURATION" >"$tmp/perf.log" 2>&1 &
  perf_pid=$!
  run_wrk moat "${DURATION}s" "$tmp/wrk-profile.txt"
  wait "$perf_pid" || true
  mkdir -p "$root/.build-bench"
  {
    echo "== self time by symbol (perf report --no-children --sort symbol)"
    perf report -i "$tmp/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep '%' | grep -v '^#' | head -50
    echo "== self time by shared object"
    perf report -i "$tmp/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | grep -v '^#' | head -15
    echo "== inclusive time of Moat's own functions (perf report --children)"
    perf report -i "$tmp/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep '%' | grep -v '^#' \
      | grep -E 'Moat|Gateway' | head -30
  } | { if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi; } \
    >"$root/.build-bench/bench-gateway-profile.txt" || true
  log "profile written to .build-bench/bench-gateway-profile.txt"
fi

# Peak memory.
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
nginx_hwm=0
for w in $(nginx_workers) "$nginx_pid"; do nginx_hwm=$((nginx_hwm + $(hwm_kb "$w"))); done
cat >"$tmp/meta.json" <<EOF
{"time": "$(date -u +%FT%TZ)", "loadavg": "$loadavg", "priority": "${PRIORITY:-}", "pin": "$PIN", "client_cpus": "$client_cpus", "server_cpus": "$server_cpus",
 "mock_latency": "$lat_note", "duration": $DURATION, "threads": $THREADS, "connections": $CONNECTIONS, "rate": $RATE,
 "lat_duration": $LAT_DURATION, "lat_connections": $LAT_CONNECTIONS, "stream_rate": $STREAM_RATE,
 "stream_note": "$STREAM_WORDS words, $STREAM_DELAY_MS ms between events",
 "rounds": $ROUNDS, "throughput_rounds": $TROUNDS, "configs": "${configs[*]}",
 "peak_rss_kb": {"moat": $(hwm_kb "$moat_pid"), "mock": $(hwm_kb "$mock_pid"), "nginx": $nginx_hwm$([ -z "$base_pid" ] || echo ", \"moat-base\": $(hwm_kb "$base_pid")")}}
EOF
python3 "$bench/report.py" "$tmp"
