#!/usr/bin/env bash
# Costs of intelligence sharing on a simulated scenario, with `moat detect` on the same log as the anchor:
# `moat intel export` (two passes over the log), `import` of the bundle into a fresh store, and
# `moat intel match` of the whole log and accounts file against it; wall and CPU time, peak RSS, the
# bundle's size, and how many campaign and ordinary accounts the (self-)match weighs.
#
#   scripts/bench-intel.sh [SCENARIO] [SEED]      # default: smoke 1
#
# Env: MOAT_BIN (default: a release build, made with `swift build -c release` when missing).
set -euo pipefail

scenario="${1:-smoke}"
seed="${2:-1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [[ -n "${MOAT_BIN:-}" ]]; then
    moat="$MOAT_BIN"
else
    swift build -c release --product moat >&2
    moat="$(swift build -c release --show-bin-path)/moat"
fi
work="$(mktemp -d -t moat-bench-intel.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# Runs a command under /usr/bin/time and prints "name wall_s cpu_s peak_MB".
measure() {
    local name="$1"; shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
        cat "$work/$name.err" >&2; exit 1; }
    read -r wall user sys rss <"$work/time"
    printf "%-8s %8.1f %8.1f %9.0f\n" "$name" "$wall" "$(echo "$user + $sys" | bc)" "$((rss / 1024))"
    echo "$wall $(echo "$user + $sys" | bc)" >"$work/$name.t"
}

"$moat" simulate --scenario "$scenario" --seed "$seed" --out "$work/sim" --builtin-corpus >/dev/null
"$moat" intel key generate >"$work/key.hex"
cat >"$work/intel.yaml" <<EOF
organisation: {name: Bench Lab}
trust_groups: [{id: bench, key_id: bench-1, key_file: $work/key.hex}]
EOF
log="$work/sim/exchanges.jsonl"
echo "scenario $scenario seed $seed: $(wc -l <"$log") exchanges, $(du -h "$log" | cut -f1) log, $(wc -l <"$work/sim/accounts.jsonl") accounts"
printf "%-8s %8s %8s %9s\n" step wall_s cpu_s peak_MB
measure detect "$moat" detect "$log" --accounts "$work/sim/accounts.jsonl" --out "$work/report.json" --quiet
as_of="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['summary']['last_ts'])" "$work/report.json")"
measure export "$moat" intel export --config "$work/intel.yaml" --report "$work/report.json" --exchanges "$log" \
    --accounts "$work/sim/accounts.jsonl" --tlp amber --out "$work/bundle.json"
measure import "$moat" intel import "$work/bundle.json" --source bench --store "$work/peer.sqlite" --as-of "$as_of"
measure match "$moat" intel match --store "$work/peer.sqlite" --config "$work/intel.yaml" --accounts "$work/sim/accounts.jsonl" \
    --exchanges "$log" --as-of "$as_of" --json
read -r dw dc <"$work/detect.t"
for step in export match; do
    read -r w c <"$work/$step.t"
    echo "$step / detect: wall $(echo "scale=2; $w / $dw" | bc)x, cpu $(echo "scale=2; $c / $dc" | bc)x"
done
python3 - "$work" <<'PY'
import collections, json, os, sys
work = sys.argv[1]
bundle = json.load(open(os.path.join(work, "bundle.json")))
types = collections.Counter(o["type"] for o in bundle["objects"])
print(f"bundle: {len(bundle['objects'])} objects, {os.path.getsize(os.path.join(work, 'bundle.json')) / 1e6:.1f} MB:",
      ", ".join(f"{t} {n}" for t, n in sorted(types.items())))
labels = {json.loads(l)["account_id"] for l in open(os.path.join(work, "sim", "labels.jsonl"))}
weighed, broad = collections.defaultdict(set), 0
for line in open(os.path.join(work, "match.out")):
    m = json.loads(line)
    if m["too_broad"]:
        broad += 1
    else:
        weighed[m["account_id"]].add(m["kind"])
campaign = sum(a in labels for a in weighed)
print(f"self-match: {len(weighed)} accounts weighed: {campaign} of {len(labels)} campaign accounts, "
      f"{len(weighed) - campaign} others; {broad} too-broad matches")
PY
