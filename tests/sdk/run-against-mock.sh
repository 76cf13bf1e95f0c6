#!/usr/bin/env bash
# Runs the official-SDK conformance tests (test_sdk.py) against `moat mock-upstream`.
#
#   tests/sdk/run-against-mock.sh [pytest args...]
#
# Env: MOAT_PYTHON (a python with openai, anthropic and pytest; default: a venv in .build/sdk-venv,
# created and filled from PyPI on first use), MOAT_BIN (a prebuilt moat; default: swift build).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

# shellcheck source=prologue.sh
source "$here/prologue.sh"

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp -t moat-mock-upstream.XXXXXX.log)"
"$moat" mock-upstream --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    if "$python" -c "import urllib.request, sys; urllib.request.urlopen('$url/health', timeout=1)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        echo "moat mock-upstream exited early:" >&2; cat "$log" >&2; exit 1
    fi
    sleep 0.1
done
echo "moat mock-upstream on $url"

status=0
MOAT_BASE_URL="$url" MOAT_API_KEY="${MOAT_API_KEY:-mock-key}" \
    "$python" -m pytest -q -p no:cacheprovider "$here/test_sdk.py" "$@" || status=$?
exit "$status"
