#!/usr/bin/env bash
# The two-lab test (issue 12, part 5), end to end with real processes and a real TAXII exchange:
#
#   Lab A  simulates a scenario with the `phoenix` campaign and keeps its traffic up to the moment the
#          operator's second wave would start (Lab A only ever sees the first wave: `p-…` accounts);
#          detects it (`moat detect`), exports a STIX 2.1 bundle at TLP:AMBER (`moat intel export`, keyed
#          hashes under the trust group's key) and publishes it to its own TAXII collection
#          (`moat intel serve` + `moat intel push`).
#   Lab B  is another Moat with its own store and its own customers: a simulation with another seed, cut to
#          start after its own first wave went silent, so all it sees of the operator is the returning
#          wave (`phoenix-return`, fresh `q-…` account ids, new proxy exits, cards and e-mail domains; the
#          same client stack, system-prompt family and request shapes). Lab B pulls Lab A's collection
#          over TAXII (`moat intel pull` into its own store) and detects twice: without the shared
#          indicators, and with them (`moat detect --intel STORE --intel-config …`).
#
# It prints Lab B's time to detect the returning wave and the wave's leakage (share of its exchanges
# served before its accounts were flagged) from `moat evaluate`, with and without sharing, plus the benign
# false-positive rate, and exits 1 unless sharing lowers both time to detect and leakage without raising
# the false-positive rate.
#
#   scripts/two-lab.sh [--scenario smoke|standard] [--scale X] [--seed-a N] [--seed-b M] [--keep DIR] [--json FILE]
#
# Env: MOAT_BIN (a prebuilt moat; default: swift build), PYTHON (default python3; only the standard library).
set -euo pipefail

scenario="smoke"
scale=""
seed_a=11
seed_b=12
keep=""
json_out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scenario) scenario="$2"; shift 2 ;;
        --scale) scale="$2"; shift 2 ;;
        --seed-a) seed_a="$2"; shift 2 ;;
        --seed-b) seed_b="$2"; shift 2 ;;
        --keep) keep="$2"; shift 2 ;;
        --json) json_out="$2"; shift 2 ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) echo "two-lab.sh: unknown argument $1" >&2; exit 64 ;;
    esac
done
[[ "$seed_a" != "$seed_b" ]] || { echo "two-lab.sh: the labs need different seeds" >&2; exit 64; }

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if [[ -n "${MOAT_BIN:-}" ]]; then
    moat="$MOAT_BIN"
else
    swift build --product moat >&2
    moat="$(swift build --show-bin-path)/moat"
fi
[[ -x "$moat" ]] || { echo "no moat executable at $moat" >&2; exit 1; }

if [[ -n "$keep" ]]; then
    work="$keep"
    rm -rf "$work"
    mkdir -p "$work"
else
    work="$(mktemp -d -t moat-two-lab.XXXXXX)"
fi
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    [[ -n "$keep" ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
started=$SECONDS
step() { echo "== $* ($((SECONDS - started)) s)" >&2; }

# Secrets: the trust group's key (both labs hold it: that is what a trust group agrees on), the tokens of
# Lab A's publisher and of Lab B as Lab A's peer.
export TWO_LAB_GROUP_KEY="$("$moat" intel key generate)"
export TWO_LAB_PUBLISHER_TOKEN="publisher-$("$python" -c 'import secrets; print(secrets.token_hex(24))')"
export TWO_LAB_B_TOKEN="lab-b-$("$python" -c 'import secrets; print(secrets.token_hex(24))')"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
collection="3a7c1e52-8b0d-4f6e-9a21-5c4d3b2a1f00"
cat >"$work/lab-a.yaml" <<EOF
organisation: {name: Lab A, contact: threat-intel@lab-a.example}
trust_groups:
  - {id: frontier, key_id: frontier-2026, key_env: TWO_LAB_GROUP_KEY, members: [lab-b]}
peers:
  - {id: lab-b, auth: bearer, token_env: TWO_LAB_B_TOKEN}
  - {id: lab-a-analyst, auth: bearer, token_env: TWO_LAB_PUBLISHER_TOKEN}
collections:
  - {id: $collection, title: Frontier labs (AMBER), read: [frontier, lab-a-analyst], write: [lab-a-analyst], tlp_max: amber}
server: {host: 127.0.0.1, port: $port, store: $work/lab-a-taxii.sqlite, api_root: api1, title: Lab A TAXII}
EOF
cat >"$work/lab-b.yaml" <<EOF
organisation: {name: Lab B, contact: threat-intel@lab-b.example}
trust_groups:
  - {id: frontier, key_id: frontier-2026, key_env: TWO_LAB_GROUP_KEY, members: [lab-a]}
peers: []
collections: []
EOF

sim_args=(--scenario "$scenario" --campaigns phoenix --builtin-corpus)
[[ -z "$scale" ]] || sim_args+=(--scale "$scale")

# --- Lab A -------------------------------------------------------------------------------------------
step "Lab A: simulate $scenario (seed $seed_a), keep its traffic until the first wave's takedown"
"$moat" simulate "${sim_args[@]}" --seed "$seed_a" --out "$work/sim-a" >/dev/null
mkdir -p "$work/lab-a"
"$python" - "$work/sim-a" "$work/lab-a" A <<'PY'
import json, sys
from datetime import datetime

sim, out, lab = sys.argv[1:4]
def ts(text): return datetime.fromisoformat(text.replace("Z", "+00:00"))
labels = {}
for line in open(f"{sim}/labels.jsonl"):
    r = json.loads(line)
    labels[r["account_id"]] = r.get("campaign")
# Lab A publishes once the first wave is taken down: its log ends with the wave's last exchange.
last_first_wave = None
for line in open(f"{sim}/exchanges.jsonl"):
    e = json.loads(line)
    if labels.get(e["account_id"]) == "phoenix":
        t = ts(e["ts"])
        last_first_wave = t if last_first_wave is None or t > last_first_wave else last_first_wave
assert last_first_wave is not None, "the simulation has no phoenix wave"
kept = set()
with open(f"{out}/exchanges.jsonl", "w") as w:
    for line in open(f"{sim}/exchanges.jsonl"):
        e = json.loads(line)
        if ts(e["ts"]) <= last_first_wave:
            w.write(line)
            kept.add(e["account_id"])
assert not any(labels.get(a) == "phoenix-return" for a in kept)
with open(f"{out}/accounts.jsonl", "w") as w:
    for line in open(f"{sim}/accounts.jsonl"):
        if json.loads(line)["account_id"] in kept: w.write(line)
with open(f"{out}/labels.jsonl", "w") as w:
    for line in open(f"{sim}/labels.jsonl"):
        if json.loads(line)["account_id"] in kept: w.write(line)
with open(f"{out}/published_at", "w") as w: w.write(last_first_wave.isoformat())
print(f"Lab A: {len(kept)} accounts, log until {last_first_wave.isoformat()} (the first wave's takedown)", file=sys.stderr)
PY
step "Lab A: detect, export (TLP:AMBER), publish to its TAXII collection"
"$moat" detect "$work/lab-a/exchanges.jsonl" --accounts "$work/lab-a/accounts.jsonl" --out "$work/lab-a/report.json" --quiet
"$moat" intel export --config "$work/lab-a.yaml" --report "$work/lab-a/report.json" --exchanges "$work/lab-a/exchanges.jsonl" \
    --accounts "$work/lab-a/accounts.jsonl" --tlp amber --out "$work/lab-a/bundle.json" >"$work/lab-a/export.txt"
"$moat" intel serve --config "$work/lab-a.yaml" >"$work/lab-a/serve.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port/taxii2/"
for _ in $(seq 1 150); do
    if "$python" - "$url" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], headers={"Accept": "application/taxii+json;version=2.1"}), timeout=1)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 401 else 1)
PY
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/lab-a/serve.log" >&2; exit 1; }
    sleep 0.1
done
"$moat" intel push "$work/lab-a/bundle.json" --to "$url" --collection "$collection" --token-env TWO_LAB_PUBLISHER_TOKEN >&2

# --- Lab B -------------------------------------------------------------------------------------------
step "Lab B: simulate $scenario (seed $seed_b), from after its own first wave went silent"
"$moat" simulate "${sim_args[@]}" --seed "$seed_b" --out "$work/sim-b" >/dev/null
mkdir -p "$work/lab-b"
as_of="$("$python" - "$work/sim-b" "$work/lab-b" "$work/lab-a/published_at" <<'PY'
import json, sys
from datetime import datetime, timedelta

sim, out, published = sys.argv[1:4]
def ts(text): return datetime.fromisoformat(text.replace("Z", "+00:00"))
labels = {}
for line in open(f"{sim}/labels.jsonl"):
    r = json.loads(line)
    labels[r["account_id"]] = r.get("campaign")
last_first_wave = None
for line in open(f"{sim}/exchanges.jsonl"):
    e = json.loads(line)
    if labels.get(e["account_id"]) == "phoenix":
        t = ts(e["ts"])
        last_first_wave = t if last_first_wave is None or t > last_first_wave else last_first_wave
# Lab B's log starts once its own first wave is silent and Lab A has published: nothing Lab B sees of the
# operator predates the shared indicators, and nothing of the first wave is left for Lab B to find alone.
start = max(last_first_wave, datetime.fromisoformat(open(published).read())) + timedelta(milliseconds=1)
kept = set()
with open(f"{out}/exchanges.jsonl", "w") as w:
    for line in open(f"{sim}/exchanges.jsonl"):
        e = json.loads(line)
        if ts(e["ts"]) >= start:
            w.write(line)
            kept.add(e["account_id"])
assert not any(labels.get(a) == "phoenix" for a in kept)
# Lab B's customers are every account of its simulation; its ground truth leaves out the first wave, which
# Lab B never saw.
with open(f"{out}/accounts.jsonl", "w") as w:
    for line in open(f"{sim}/accounts.jsonl"):
        if labels.get(json.loads(line)["account_id"]) != "phoenix": w.write(line)
with open(f"{out}/labels.jsonl", "w") as w:
    for line in open(f"{sim}/labels.jsonl"):
        if labels.get(json.loads(line)["account_id"]) != "phoenix": w.write(line)
print(f"Lab B: {len(kept)} accounts, log from {start.isoformat()}", file=sys.stderr)
print(start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}Z")
PY
)"
step "Lab B: pull Lab A's collection into its own store (as of $as_of, Lab B's clock)"
"$moat" intel pull --from "$url" --collection "$collection" --token-env TWO_LAB_B_TOKEN --store "$work/lab-b/store.sqlite" \
    --as-of "$as_of" >&2
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

step "Lab B: detect without and with the shared indicators"
"$moat" detect "$work/lab-b/exchanges.jsonl" --accounts "$work/lab-b/accounts.jsonl" --out "$work/lab-b/report-alone.json" --quiet
"$moat" detect "$work/lab-b/exchanges.jsonl" --accounts "$work/lab-b/accounts.jsonl" --out "$work/lab-b/report-shared.json" --quiet \
    --intel "$work/lab-b/store.sqlite" --intel-config "$work/lab-b.yaml"
"$moat" evaluate --labels "$work/lab-b/labels.jsonl" --report "$work/lab-b/report-alone.json" --exchanges "$work/lab-b/exchanges.jsonl" \
    --json >"$work/lab-b/eval-alone.json"
"$moat" evaluate --labels "$work/lab-b/labels.jsonl" --report "$work/lab-b/report-shared.json" --exchanges "$work/lab-b/exchanges.jsonl" \
    --json >"$work/lab-b/eval-shared.json"
"$moat" evaluate --labels "$work/lab-a/labels.jsonl" --report "$work/lab-a/report.json" --exchanges "$work/lab-a/exchanges.jsonl" \
    --json >"$work/lab-a/eval.json"

step "figures"
"$python" - "$work" "$scenario" "$seed_a" "$seed_b" "${json_out:-}" <<'PY'
import json, sys

work, scenario, seed_a, seed_b, json_out = sys.argv[1:6]
def load(p): return json.load(open(p))
def campaign(ev, name):
    for c in ev["campaigns"]:
        if c["campaign"] == name: return c
    raise SystemExit(f"no campaign {name} in the evaluation")
bundle = load(f"{work}/lab-a/bundle.json")
kinds = {}
for o in bundle["objects"]:
    if o["type"] == "indicator":
        k = o.get("name", "").split(":")[0]
        kinds[k] = kinds.get(k, 0) + 1
a = campaign(load(f"{work}/lab-a/eval.json"), "phoenix")
rows = {}
for mode in ("alone", "shared"):
    ev = load(f"{work}/lab-b/eval-{mode}.json")
    c = campaign(ev, "phoenix-return")
    o = ev["overall"]
    rows[mode] = {
        "time_to_detect_hours": c["time_to_detect_hours"], "leakage": c["leakage"], "recall": c["recall"],
        "flagged": c["flagged"], "accounts": c["accounts"], "exchanges": c["exchanges"], "leaked_exchanges": c["leaked_exchanges"],
        "benign_false_positive_rate": o.get("benign_false_positive_rate"), "account_precision": o.get("account_precision"),
    }
out = {"scenario": scenario, "seed_a": int(seed_a), "seed_b": int(seed_b),
       "lab_a": {"campaign": "phoenix", "accounts": a["accounts"], "recall": a["recall"], "time_to_detect_hours": a["time_to_detect_hours"],
                 "indicators_shared": sum(kinds.values())},
       "lab_b": rows}
def f(v, d=2): return "never" if v is None else f"{v:.{d}f}"
print(f"Lab A ({scenario}, seed {seed_a}): phoenix, {a['accounts']} accounts, recall {f(a['recall'])}, "
      f"time to detect {f(a['time_to_detect_hours'])} h; {sum(kinds.values())} indicators shared at TLP:AMBER")
print(f"Lab B ({scenario}, seed {seed_b}): phoenix-return, {rows['alone']['accounts']} fresh accounts, {rows['alone']['exchanges']} exchanges")
print("")
print("Lab B                   time to detect (h)   leakage   leaked exchanges   recall   benign FPR")
for mode, label in (("alone", "without shared intel"), ("shared", "with Lab A's intel")):
    r = rows[mode]
    print(f"{label:<24}{f(r['time_to_detect_hours']):>18}{f(r['leakage'], 4):>10}{r['leaked_exchanges']:>19}"
          f"{f(r['recall']):>9}{f(r['benign_false_positive_rate'], 5):>13}")
if json_out:
    with open(json_out, "w") as w: json.dump(out, w, indent=2)
alone, shared = rows["alone"], rows["shared"]
def lower(x, y):  # x lower than y; never detected is the highest
    if x is None: return False
    return y is None or x < y
ok = lower(shared["time_to_detect_hours"], alone["time_to_detect_hours"]) and shared["leakage"] < alone["leakage"]
fpr_ok = (shared["benign_false_positive_rate"] or 0) <= (alone["benign_false_positive_rate"] or 0)
print("")
print(("PASS" if ok else "FAIL") + ": sharing lowers Lab B's time to detect and leakage")
print(("PASS" if fpr_ok else "FAIL") + ": sharing does not raise Lab B's benign false-positive rate")
sys.exit(0 if ok and fpr_ok else 1)
PY
echo "two-lab run in $((SECONDS - started)) s" >&2
