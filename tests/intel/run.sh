#!/usr/bin/env bash
# Intelligence sharing end to end, with the real PyPI tools:
#
#   1. simulates two smoke scenarios (`moat simulate`), detects (`moat detect`) and exports a STIX 2.1
#      bundle at every TLP level (`moat intel export`), with and without the exchange log;
#   2. starts `moat intel serve` (generated config: three peers, three collections, free loopback port,
#      fresh store) and
#   3. runs pytest: test_stix.py validates every bundle with stix2-validator in --strict mode and scans
#      it for the simulator's raw identifiers; test_taxii.py runs taxii2-client's whole cycle against
#      the server (discovery, collections, add objects, poll status, page through objects, manifest,
#      versions, filters, TLP refusals, 401/406/415) and `moat intel push`, `pull` and `match`;
#      test_two_lab.py runs scripts/two-lab.sh (two labs, a TAXII exchange, `moat detect --intel`).
#
#   tests/intel/run.sh [pytest args...]
#
# Env: MOAT_PYTHON (a python; stix2-validator, taxii2-client and pytest are installed into it when
# missing; default: the venv in .build/sdk-venv), MOAT_BIN (a prebuilt moat; default: swift build).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

if [[ -n "${MOAT_PYTHON:-}" ]]; then
    python="$MOAT_PYTHON"
else
    venv="$PWD/.build/sdk-venv"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    python="$venv/bin/python"
fi
if ! "$python" -c 'import stix2validator, taxii2client, pytest' 2>/dev/null; then
    "$python" -m pip install --quiet --disable-pip-version-check stix2-validator taxii2-client pytest </dev/null
fi
"$python" - <<'PY'
import sys, importlib.metadata as m
print("python", sys.version.split()[0], *(f"{p} {m.version(p)}" for p in ("stix2-validator", "taxii2-client", "pytest")))
PY

if [[ -n "${MOAT_BIN:-}" ]]; then
    moat="$MOAT_BIN"
else
    swift build --product moat >&2
    moat="$(swift build --show-bin-path)/moat"
fi
[[ -x "$moat" ]] || { echo "no moat executable at $moat" >&2; exit 1; }

work="$(mktemp -d -t moat-intel.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Scenarios, reports, bundles. The key is the trust group's; tokens are the peers'.
secret() { "$python" -c 'import secrets; print(secrets.token_hex(32))'; }
export MOAT_TEST_GROUP_KEY="$("$moat" intel key generate)"
export MOAT_TEST_LAB_B_TOKEN="lab-b-$(secret)"
export MOAT_TEST_LAB_C_PASSWORD="lab-c-$(secret)"
export MOAT_TEST_PUBLISHER_TOKEN="publisher-$(secret)"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$work/intel.yaml" <<EOF
organisation: {name: Moat CI Lab, contact: security@ci.example}
trust_groups:
  - {id: frontier, key_id: frontier-ci, key_env: MOAT_TEST_GROUP_KEY, members: [lab-b, lab-c]}
peers:
  - {id: lab-b, auth: bearer, token_env: MOAT_TEST_LAB_B_TOKEN}
  - {id: lab-c, auth: basic, username: lab-c, password_env: MOAT_TEST_LAB_C_PASSWORD}
  - {id: publisher, auth: bearer, token_env: MOAT_TEST_PUBLISHER_TOKEN}
collections:
  - {id: 5d0c6a4e-9f0b-4f7e-8c1d-2b6f0a9e7c31, title: Frontier labs (AMBER), read: [frontier, publisher], write: [publisher], tlp_max: amber}
  - {id: 0b8f2c56-3d1e-4a9b-9e7f-6c5d4b3a2f10, title: For lab B only (RED), read: [lab-b], write: [publisher], tlp_max: red}
  - {id: 9e1d7c4b-2a3f-4b6c-8d9e-0f1a2b3c4d5e, title: Public (CLEAR), read: [everyone, publisher], write: [publisher], tlp_max: clear}
server: {host: 127.0.0.1, port: $port, store: $work/intel.sqlite, api_root: api1, default_page_size: 50, title: Moat CI TAXII}
EOF

t0=$SECONDS
for seed in 1 2; do
    sim="$work/sim-$seed"
    "$moat" simulate --scenario smoke --seed "$seed" --out "$sim" --builtin-corpus >/dev/null
    "$moat" detect "$sim/exchanges.jsonl" --accounts "$sim/accounts.jsonl" --out "$sim/report.json" --quiet
    common=(--config "$work/intel.yaml" --report "$sim/report.json" --exchanges "$sim/exchanges.jsonl" --accounts "$sim/accounts.jsonl")
    # Every level with ATLAS as references (the default, strict-clean; scenario 2: AMBER only), and AMBER
    # with ATLAS's attack-pattern objects too.
    levels=(clear green amber amber+strict red)
    [[ "$seed" == 1 ]] || levels=(amber)
    for tlp in "${levels[@]}"; do
        "$moat" intel export "${common[@]}" --tlp "$tlp" --atlas references --out "$work/bundle-$seed-$tlp-refs.json" >/dev/null
    done
    "$moat" intel export "${common[@]}" --tlp amber --atlas objects --out "$work/bundle-$seed-amber.json" --json >"$work/summary-$seed-amber.json"
    # From the report alone (no log, no accounts), and TLP:RED with identifiers in clear.
    "$moat" intel export --config "$work/intel.yaml" --report "$sim/report.json" --tlp green --atlas references \
        --out "$work/bundle-$seed-report-only.json" >/dev/null
    if [[ "$seed" == 1 ]]; then
        "$moat" intel export "${common[@]}" --tlp red --raw-identifiers --atlas references --out "$work/rawred-$seed.json" >/dev/null
    fi
done
echo "scenarios, reports and $(ls "$work"/bundle-*.json | wc -l) bundles in $((SECONDS - t0)) s"
cat "$work/summary-1-amber.json"

# 2. The TAXII server.
log="$work/serve.log"
"$moat" intel serve --config "$work/intel.yaml" >"$log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port"
ready=""
for _ in $(seq 1 150); do
    code="$("$python" - "$url" <<'PY' 2>/dev/null || true
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1] + "/taxii2/", headers={"Accept": "application/taxii+json;version=2.1"})
try:
    print(urllib.request.urlopen(req, timeout=1).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
)"
    if [[ "$code" == "401" || "$code" == "200" ]]; then ready=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$ready" ]]; then
    echo "moat intel serve did not come up:" >&2
    cat "$log" >&2
    exit 1
fi
echo "moat intel serve on $url"

# 3. pytest.
status=0
MOAT_INTEL_WORK="$work" MOAT_TAXII_URL="$url" MOAT_BIN="$moat" \
    "$python" -m pytest -q -p no:cacheprovider "$here" "$@" || status=$?
if [[ "$status" -ne 0 ]]; then
    echo "--- server log" >&2
    tail -n 40 "$log" >&2
fi
exit "$status"
