#!/usr/bin/env bash
# The gateway benchmark (scripts/bench-gateway.sh) twice, in one run: moat on its embedded SQLite store, then
# on a PostgreSQL store (`store: postgres://...`, as replicas run: keys looked up and limits leased there),
# against a throwaway PostgreSQL this script starts (initdb on a temporary directory, loopback port).
# Prints both tables, then the ratio of PostgreSQL mode to SQLite mode as one JSON line:
#   throughput (moat rps), and the latency moat adds over direct (p50, p99), at the same fixed rate.
#
#   scripts/bench-gateway-pg.sh     # settings as bench-gateway.sh (DURATION, RATE, ...); SKIP_BUILD=1, MOAT_BIN=...
# Needs PostgreSQL's server (Debian's postgresql; apt-get installed if missing, as root), and what bench-gateway.sh needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
log() { printf '%s\n' "$*" >&2; }

bin=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 || true)")" 2>/dev/null || true)
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
  [ "$(id -u)" -eq 0 ] || { log "need PostgreSQL's server (apt-get install postgresql)"; exit 1; }
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
fi

if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${MOAT_BIN:-}" ]; then
  log "building moat (release, --scratch-path .build-bench)"
  swift build -c release --scratch-path .build-bench --product moat >/dev/null
fi
export SKIP_BUILD=1

pgdir=$(mktemp -d /tmp/moat-bench-pg.XXXXXX)
as=()
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pgdir"; as=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  "${as[@]}" "$bin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap cleanup EXIT
"${as[@]}" "$bin/initdb" -D "$pgdir/data" -U moat --auth=trust -E UTF8 --no-sync >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
"$bin/createdb" -h 127.0.0.1 -p "$port" -U moat moat
url="postgres://moat@127.0.0.1:$port/moat"

log "== SQLite mode"
scripts/bench-gateway.sh | tee "$pgdir/sqlite.out"
log "== PostgreSQL mode ($url)"
MOAT_STORE_URL=$url scripts/bench-gateway.sh | tee "$pgdir/postgres.out"

python3 - "$pgdir/sqlite.out" "$pgdir/postgres.out" <<'PY'
import json, sys
def last_json(path):
    for line in reversed(open(path).read().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit(f"no JSON line in {path}")
s, p = last_json(sys.argv[1]), last_json(sys.argv[2])
def ratio(a, b):
    return None if a in (None, 0) or b is None else round(b / a, 3)
out = {
    "bench": "gateway-postgres-vs-sqlite",
    "rps": {"sqlite": s["throughput"]["rps"]["moat"], "postgres": p["throughput"]["rps"]["moat"],
            "postgres_over_sqlite": ratio(s["throughput"]["rps"]["moat"], p["throughput"]["rps"]["moat"])},
    "added_ms": {"sqlite": s["latency"]["added_ms"]["moat"], "postgres": p["latency"]["added_ms"]["moat"]},
    "service_p50_ms": {"sqlite": s["latency"]["service"]["moat"]["p50_ms"], "postgres": p["latency"]["service"]["moat"]["p50_ms"],
                       "postgres_over_sqlite": ratio(s["latency"]["service"]["moat"]["p50_ms"], p["latency"]["service"]["moat"]["p50_ms"])},
    "service_p99_ms": {"sqlite": s["latency"]["service"]["moat"]["p99_ms"], "postgres": p["latency"]["service"]["moat"]["p99_ms"],
                       "postgres_over_sqlite": ratio(s["latency"]["service"]["moat"]["p99_ms"], p["latency"]["service"]["moat"]["p99_ms"])},
    "non_2xx": {"sqlite": s["throughput"]["non_2xx"]["moat"], "postgres": p["throughput"]["non_2xx"]["moat"]},
}
print(f"PostgreSQL / SQLite: throughput {out['rps']['postgres_over_sqlite']}x, p50 {out['service_p50_ms']['postgres_over_sqlite']}x, "
      f"p99 {out['service_p99_ms']['postgres_over_sqlite']}x")
print(json.dumps(out, separators=(",", ":")))
PY
