#!/usr/bin/env bash
# The two-lab test (issue 12, part 5), end to end with real processes and a real TAXII exchange:
#
#   Lab A  simulates a scenario (every campaign kind, seed A) and keeps its first half: its customers and
#          the campaigns' first half. It detects (`moat detect`), exports a STIX 2.1 bundle at TLP:AMBER
#          (`moat intel export`, identifiers as keyed hashes under the trust group's key) and publishes it
#          to its own TAXII collection (`moat intel serve` + `moat intel push`).
#   Lab B  is another Moat with its own store and its own customers (a simulation with seed B and no
#          campaigns), from the split on. The same operators move over: the campaigns' second half of
#          Lab A's simulation, with the same infrastructure, payment rails and tooling but fresh account
#          ids (`lb-…`, never seen by Lab A, so no account-id hash can match). Lab B pulls Lab A's
#          collection over TAXII (`moat intel pull` into its own store) and detects twice: without the
#          shared indicators, and with them (`moat detect --intel STORE --intel-config …`, with the key).
#
# It prints, from `moat evaluate`, Lab B's time to detect and leakage (share of a campaign's exchanges
# served before its accounts were flagged) per campaign and overall, with and without sharing, and the
# benign false-positive rate; it exits 1 unless sharing lowers the mean time to detect (over the campaigns
# detected at all) and the overall leakage, detects no campaign later, and raises no false positives.
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
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
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
peers:
  - {id: lab-a, auth: bearer, token_env: TWO_LAB_B_TOKEN}
collections: []
EOF

sim_args=(--scenario "$scenario" --builtin-corpus)
[[ -z "$scale" ]] || sim_args+=(--scale "$scale")

# --- Lab A -------------------------------------------------------------------------------------------
step "Lab A: simulate $scenario (seed $seed_a) and keep the first half of it"
"$moat" simulate "${sim_args[@]}" --seed "$seed_a" --out "$work/sim-a" >/dev/null
"$moat" simulate "${sim_args[@]}" --seed "$seed_b" --campaigns "" --out "$work/sim-b" >/dev/null
mkdir -p "$work/lab-a" "$work/lab-b"
as_of="$("$python" - "$work/sim-a" "$work/sim-b" "$work/lab-a" "$work/lab-b" <<'PY'
import json, sys
from datetime import datetime

sim_a, sim_b, lab_a, lab_b = sys.argv[1:5]
def ts(text): return datetime.fromisoformat(text.replace("Z", "+00:00"))
def lines(path):
    with open(path) as f:
        for line in f: yield line, json.loads(line)
labels = {r["account_id"]: r["campaign"] for _, r in lines(f"{sim_a}/labels.jsonl") if r.get("campaign")}
first = last = None
for _, e in lines(f"{sim_a}/exchanges.jsonl"):
    t = ts(e["ts"])
    first = t if first is None or t < first else first
    last = t if last is None or t > last else last
split = first + (last - first) / 2

# Lab A: everything before the split (its customers and the campaigns' first half).
seen = set()
with open(f"{lab_a}/exchanges.jsonl", "w") as w:
    for line, e in lines(f"{sim_a}/exchanges.jsonl"):
        if ts(e["ts"]) < split:
            w.write(line)
            seen.add(e["account_id"])
with open(f"{lab_a}/accounts.jsonl", "w") as w:
    for line, a in lines(f"{sim_a}/accounts.jsonl"):
        if a["account_id"] in seen: w.write(line)
with open(f"{lab_a}/labels.jsonl", "w") as w:
    for line, r in lines(f"{sim_a}/labels.jsonl"):
        if r["account_id"] in seen: w.write(line)

# Lab B: its own customers (another seed, no campaigns) after the split, and the same operators moving
# over: the campaigns' second half, same infrastructure, payment rails and tooling, under fresh account ids.
def fresh(account): return "lb-" + account
moved = {}
merged = []
for line, e in lines(f"{sim_b}/exchanges.jsonl"):
    t = ts(e["ts"])
    if t >= split: merged.append((t, line))
for line, e in lines(f"{sim_a}/exchanges.jsonl"):
    t = ts(e["ts"])
    if t >= split and e["account_id"] in labels:
        moved[e["account_id"]] = fresh(e["account_id"])
        e["account_id"] = moved[e["account_id"]]
        e["id"] = "lb-" + e["id"]
        e.pop("org_id", None)
        merged.append((t, json.dumps(e, separators=(",", ":")) + "\n"))
merged.sort(key=lambda x: x[0])
with open(f"{lab_b}/exchanges.jsonl", "w") as w:
    for _, line in merged: w.write(line)
with open(f"{lab_b}/accounts.jsonl", "w") as w:
    for line, a in lines(f"{sim_b}/accounts.jsonl"): w.write(line)
    for line, a in lines(f"{sim_a}/accounts.jsonl"):
        if a["account_id"] in moved:
            a["account_id"] = moved[a["account_id"]]
            a.pop("org_id", None)
            w.write(json.dumps(a, separators=(",", ":")) + "\n")
with open(f"{lab_b}/labels.jsonl", "w") as w:
    for account, new in sorted(moved.items()):
        w.write(json.dumps({"account_id": new, "campaign": labels[account]}) + "\n")
print(f"Lab A: {len(seen)} accounts until {split.isoformat()}; Lab B: {len(merged)} exchanges after it, "
      f"{len(moved)} of them the operators' fresh accounts", file=sys.stderr)
print(split.strftime("%Y-%m-%dT%H:%M:%S.") + f"{split.microsecond // 1000:03d}Z")
PY
)"
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
bundle = load(f"{work}/lab-a/bundle.json")
indicators = sum(1 for o in bundle["objects"] if o["type"] == "indicator")
ev_a = load(f"{work}/lab-a/eval.json")
evs = {mode: load(f"{work}/lab-b/eval-{mode}.json") for mode in ("alone", "shared")}
def never(v): return float("inf") if v is None else v
campaigns = {}
for mode, ev in evs.items():
    for c in ev["campaigns"]:
        campaigns.setdefault(c["campaign"], {})[mode] = {
            "accounts": c["accounts"], "exchanges": c["exchanges"], "time_to_detect_hours": c["time_to_detect_hours"],
            "leakage": c["leakage"], "leaked_exchanges": c["leaked_exchanges"], "recall": c["recall"]}
overall = {}
for mode, ev in evs.items():
    o = ev["overall"]
    # Time to detect over the campaigns detected at all (with or without sharing): one nobody detected
    # (Lab A included) has nothing to share and no time to compare.
    ttds = [campaigns[c][mode]["time_to_detect_hours"] for c in campaigns
            if any(campaigns[c][m]["time_to_detect_hours"] is not None for m in ("alone", "shared"))]
    overall[mode] = {
        "leakage": o["leakage"], "leaked_exchanges": o["leaked_exchanges"], "campaign_exchanges": o["campaign_exchanges"],
        "recall": o["account_recall"] if "account_recall" in o else o.get("recall"),
        "benign_false_positive_rate": o.get("benign_false_positive_rate"), "account_precision": o.get("account_precision"),
        "mean_time_to_detect_hours": None if any(t is None for t in ttds) else sum(ttds) / len(ttds),
        "worst_time_to_detect_hours": None if any(t is None for t in ttds) else max(ttds)}
out = {"scenario": scenario, "seed_a": int(seed_a), "seed_b": int(seed_b), "indicators_shared": indicators,
       "lab_a": {c["campaign"]: {"accounts": c["accounts"], "recall": c["recall"], "time_to_detect_hours": c["time_to_detect_hours"]}
                 for c in ev_a["campaigns"]},
       "lab_b": {"overall": overall, "campaigns": campaigns}}
def f(v, d=2): return "never" if v is None else f"{v:.{d}f}"
print(f"Lab A ({scenario}, seed {seed_a}, first half): detected "
      + ", ".join(f"{c['campaign']} in {f(c['time_to_detect_hours'], 1)} h" for c in ev_a["campaigns"])
      + f"; {indicators} indicators shared at TLP:AMBER")
print(f"Lab B (own customers: seed {seed_b}; second half): the same operators under fresh account ids")
print("")
print("Lab B, per campaign       time to detect (h)        leakage             leaked exchanges")
print("                          alone     shared         alone     shared     alone   shared")
for name, r in sorted(campaigns.items()):
    a, b = r["alone"], r["shared"]
    print(f"{name:<24}{f(a['time_to_detect_hours']):>8}{f(b['time_to_detect_hours']):>11}"
          f"{f(a['leakage'], 4):>14}{f(b['leakage'], 4):>11}{a['leaked_exchanges']:>10}{b['leaked_exchanges']:>9}")
a, b = overall["alone"], overall["shared"]
print(f"{'all (mean TTD detected)':<24}{f(a['mean_time_to_detect_hours']):>8}{f(b['mean_time_to_detect_hours']):>11}"
      f"{f(a['leakage'], 4):>14}{f(b['leakage'], 4):>11}{a['leaked_exchanges']:>10}{b['leaked_exchanges']:>9}")
print(f"benign false-positive rate: alone {f(a['benign_false_positive_rate'], 5)}, shared {f(b['benign_false_positive_rate'], 5)}; "
      f"account precision: alone {f(a['account_precision'], 4)}, shared {f(b['account_precision'], 4)}")
# Customers (not in the labels) flagged only with sharing, and how many of them carry the peer's evidence.
truth = {json.loads(l)["account_id"] for l in open(f"{work}/lab-b/labels.jsonl")}
def flagged(mode):
    return {a["account_id"]: a for a in load(f"{work}/lab-b/report-{mode}.json")["accounts"]
            if a["verdict"] != "clear" and a["account_id"] not in truth}
fa, fs = flagged("alone"), flagged("shared")
only_shared = sorted(set(fs) - set(fa))
with_peer = [a for a in only_shared if any("Lab A" in r for r in fs[a].get("reasons", []))]
out["lab_b"]["customers_flagged_only_with_sharing"] = {"accounts": only_shared, "with_peer_evidence": with_peer,
                                                        "flagged_only_alone": sorted(set(fa) - set(fs))}
print(f"customers flagged only with sharing: {len(only_shared)} ({len(with_peer)} with Lab A's evidence among their reasons); "
      f"flagged only alone: {len(set(fa) - set(fs))}")
if json_out:
    with open(json_out, "w") as w: json.dump(out, w, indent=2)
ttd_ok = never(b["mean_time_to_detect_hours"]) < never(a["mean_time_to_detect_hours"])
leak_ok = b["leakage"] < a["leakage"]
no_worse = all(never(r["shared"]["time_to_detect_hours"]) <= never(r["alone"]["time_to_detect_hours"])
               and r["shared"]["leakage"] <= r["alone"]["leakage"] for r in campaigns.values())
fpr_ok = (b["benign_false_positive_rate"] or 0) <= (a["benign_false_positive_rate"] or 0)
undetected = sorted(c for c, r in campaigns.items() if all(r[m]["time_to_detect_hours"] is None for m in ("alone", "shared")))
if undetected: print(f"never detected in either run (left out of the mean time to detect): {', '.join(undetected)}")
print("")
print(("PASS" if ttd_ok and leak_ok else "FAIL") + ": sharing lowers Lab B's time to detect (mean over the campaigns detected) and leakage")
print(("PASS" if no_worse else "FAIL") + ": no campaign is detected later or leaks more with sharing")
print(("PASS" if fpr_ok else "FAIL") + ": sharing does not raise Lab B's benign false-positive rate")
sys.exit(0 if ttd_ok and leak_ok and no_worse and fpr_ok else 1)
PY
echo "two-lab run in $((SECONDS - started)) s" >&2
