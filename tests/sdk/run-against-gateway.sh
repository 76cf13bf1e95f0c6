#!/usr/bin/env bash
# Runs the official-SDK tests through `moat serve`: the generic conformance tests (test_sdk.py) and the
# gateway's own cases (test_gateway.py: 401, 429 with native headers, 403 and withheld reasoning by
# admin override, every served exchange in `moat export`).
#
#   tests/sdk/run-against-gateway.sh [pytest args...]
#
# It starts `moat mock-upstream` and `moat serve` (generated config, free loopback ports, a fresh store
# in a temporary directory, an admin token) in front of it, creates keys with `moat keys create`,
# waits for /health on both listeners, runs pytest and always stops both servers. Exits with pytest's
# status.
#
# Env: MOAT_PYTHON (a python with openai, anthropic and pytest; default: a venv in .build/sdk-venv,
# created and filled from PyPI on first use), MOAT_BIN (a prebuilt moat; default: swift build).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

# shellcheck source=prologue.sh
source "$here/prologue.sh"

work="$(mktemp -d -t moat-sdk-gateway.XXXXXX)"
upstream_pid=""
gateway_pid=""
stop() {
    local pid="$1"
    [[ -n "$pid" ]] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop "$gateway_pid"
    stop "$upstream_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_ports() { # prints N distinct free loopback ports
    "$python" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# Waits for GET $1 to answer 200 while process $2 lives; returns 1 if it died or timed out.
wait_health() {
    local url="$1" pid="$2"
    for _ in $(seq 1 150); do
        if "$python" -c "import urllib.request; urllib.request.urlopen('$url', timeout=1)" 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

store="$work/moat.sqlite"
admin_token="admin-$("$python" -c 'import secrets; print(secrets.token_hex(16))')"
# The fingerprint countermeasure's master key: only in the environment of moat serve and of the tests.
fingerprint_key="$("$python" -c 'import secrets; print(secrets.token_hex(32))')"

# Accounts the gateway knows at startup: one in a tight tier (2 requests per minute), by program.
cat >"$work/accounts.jsonl" <<'EOF'
{"account_id":"acct-sdk","org_id":"org-sdk","verification":"card","program":"standard"}
{"account_id":"acct-tight","verification":"email","program":"sdk-tight"}
EOF
"$moat" accounts import "$work/accounts.jsonl" --store "$store" >/dev/null
key_json="$("$moat" keys create --account acct-sdk --org org-sdk --name sdk-tests --store "$store" --json)"
tight_json="$("$moat" keys create --account acct-tight --name sdk-tight --store "$store" --json)"
json_field() { "$python" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
api_key="$(json_field "$key_json" secret)"
tight_key="$(json_field "$tight_json" secret)"

# Start both servers; a port taken between picking and binding gets a fresh try.
started=""
for attempt in 1 2 3; do
    read -r upstream_port proxy_port admin_port <<<"$(free_ports 3)"
    "$moat" mock-upstream --host 127.0.0.1 --port "$upstream_port" >"$work/upstream.log" 2>&1 &
    upstream_pid=$!
    cat >"$work/moat.yaml" <<EOF
listen: {host: 127.0.0.1, port: $proxy_port}
admin: {host: 127.0.0.1, port: $admin_port, token: "$admin_token"}
store: "$store"
upstreams:
  openai: {url: "http://127.0.0.1:$upstream_port"}
  anthropic: {url: "http://127.0.0.1:$upstream_port"}
forward_headers: [x-mock-error, x-mock-latency-ms]
limits:
  default_tier: standard
  tiers:
    standard: {account: {requests_per_minute: 100000}}
    tight: {account: {requests_per_minute: 2}}
    throttled: {account: {requests_per_minute: 5}}
  assign:
    - {program: sdk-tight, tier: tight}
policy: {campaign: block, suspicious: withhold_reasoning, throttle_tier: throttled}
EOF
    MOAT_FINGERPRINT_KEY="$fingerprint_key" "$moat" serve --config "$work/moat.yaml" >"$work/gateway.log" 2>&1 &
    gateway_pid=$!
    if wait_health "http://127.0.0.1:$upstream_port/health" "$upstream_pid" &&
       wait_health "http://127.0.0.1:$proxy_port/health" "$gateway_pid" &&
       wait_health "http://127.0.0.1:$admin_port/health" "$gateway_pid"; then
        started=1
        break
    fi
    echo "attempt $attempt: the servers did not come up; logs:" >&2
    cat "$work/upstream.log" "$work/gateway.log" >&2
    stop "$gateway_pid"; gateway_pid=""
    stop "$upstream_pid"; upstream_pid=""
done
[[ -n "$started" ]] || { echo "could not start moat mock-upstream and moat serve" >&2; exit 1; }
echo "moat mock-upstream on http://127.0.0.1:$upstream_port; moat serve on http://127.0.0.1:$proxy_port (admin $admin_port)"

status=0
MOAT_BASE_URL="http://127.0.0.1:$proxy_port" \
MOAT_API_KEY="$api_key" \
MOAT_ACCOUNT="acct-sdk" \
MOAT_TIGHT_KEY="$tight_key" \
MOAT_ADMIN_URL="http://127.0.0.1:$admin_port" \
MOAT_ADMIN_TOKEN="$admin_token" \
MOAT_BIN="$moat" \
MOAT_STORE="$store" \
MOAT_UPSTREAM_IS_MOCK=1 \
MOAT_FINGERPRINT_KEY="$fingerprint_key" \
    "$python" -m pytest -q -p no:cacheprovider "$here/test_sdk.py" "$here/test_gateway.py" "$@" || status=$?

if [[ "$status" -ne 0 ]]; then
    echo "--- moat serve log (last 40 lines)" >&2
    tail -n 40 "$work/gateway.log" >&2 || true
fi
if ! kill -0 "$gateway_pid" 2>/dev/null; then
    echo "moat serve died during the tests" >&2
    [[ "$status" -ne 0 ]] || status=1
fi
exit "$status"
