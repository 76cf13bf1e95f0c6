#!/usr/bin/env bash
# The staged engine on Spark against `moat detect` on one machine (issue 14's figures), in one run:
#   - moat detect (the anchor): wall time and peak memory (/usr/bin/time);
#   - moat spark-detect in local[1] and local[2]: wall time per stage, Spark's task metrics (executor run time,
#     shuffle bytes, executors' peak JVM memory), stage 1 processes' CPU and peak memory, stage 3's;
#   - the reports compared byte for byte.
#
#   scripts/bench-spark.sh [SCALE] [WORKDIR]      (default: industrial --scale 0.01 in .build/bench-spark)
#
# Env: MOAT_BIN (default: swift build -c release), MOAT_PYTHON (a python with pyspark 4.3.0 and pyarrow),
# PARTITIONS (default 4), SEED (default 1).
set -euo pipefail

scale="${1:-0.01}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${2:-$root/.build/bench-spark}"
python="${MOAT_PYTHON:-python3}"
partitions="${PARTITIONS:-4}"
seed="${SEED:-1}"
if [[ -n "${MOAT_BIN:-}" ]]; then
    moat="$MOAT_BIN"
else
    (cd "$root" && swift build -c release --product moat >&2)
    moat="$(cd "$root" && swift build -c release --show-bin-path)/moat"
fi
mkdir -p "$work"
sim="$work/industrial-$scale-$seed"
if [[ ! -s "$sim/exchanges.jsonl" ]]; then
    echo "== simulate industrial --scale $scale"
    "$moat" simulate --scenario industrial --scale "$scale" --seed "$seed" --out "$sim" --json >"$work/simulate.json"
fi
lines=$(wc -l <"$sim/exchanges.jsonl")
bytes=$(stat -c %s "$sim/exchanges.jsonl")
echo "log: $lines exchanges, $((bytes / 1048576)) MiB ($sim)"

measure() {  # name, command...: wall seconds and peak RSS (KiB) of the command and its waited children
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@"
    read -r wall rss <"$work/$name.time"
    echo "$name: ${wall} s, peak RSS $((rss / 1024)) MiB"
}

echo "== moat detect (one process)"
measure detect "$moat" detect "$sim/exchanges.jsonl" --accounts "$sim/accounts.jsonl" --out "$work/detect.json" --quiet

for cores in 1 2; do
    echo "== moat spark-detect local[$cores], $partitions partitions"
    measure "spark-$cores" "$moat" spark-detect "$sim/exchanges.jsonl" --accounts "$sim/accounts.jsonl" \
        --out "$work/spark-$cores.json" --master "local[$cores]" --partitions "$partitions" --python "$python" \
        --driver "$root/scripts/spark/moat_spark.py" --metrics "$work/metrics-$cores.json" \
        --conf spark.driver.memory=4g
    if cmp -s "$work/detect.json" "$work/spark-$cores.json"; then echo "report: identical to moat detect"; else echo "report: DIFFERS"; exit 1; fi
done

"$python" - "$work" "$lines" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
def t(name):
    wall, rss = open(f"{work}/{name}.time").read().split()
    return float(wall), int(rss)
d_wall, d_rss = t("detect")
print(f"\nmoat detect: {d_wall:.1f} s, {d_rss/1024:.0f} MiB peak, {n/d_wall:,.0f} exchanges/s")
m = {}
for c in (1, 2):
    m[c] = json.load(open(f"{work}/metrics-{c}.json"))
    w, rss = t(f"spark-{c}")
    tot = m[c]["totals"]
    s1 = m[c]["stage1_processes"]
    s1cpu = sum(p["cpu_s"] for p in s1)
    s1rss = max(p["maxrss_kib"] for p in s1)
    ex = m[c]["executors"]
    heap = max((e.get("JVMHeapMemory") or 0) for e in ex)
    print(f"spark local[{c}]: {w:.1f} s wall (stage 1 {m[c]['stage1_s']:.1f} s, stage 2 {m[c]['stage2_s']:.1f} s, "
          f"stage 3 {m[c]['stage3_s']:.1f} s); executor run time {tot['executorRunTime']/1000:.1f} core-s, "
          f"{m[c]['exchanges_per_executor_core_second']:,.0f} exchanges per executor core-second; "
          f"shuffle write {tot['shuffleWriteBytes']/n:.0f} B/exchange; executor peak JVM heap {heap/1048576:.0f} MiB; "
          f"stage 1 Swift: {s1cpu:.1f} CPU-s, peak {s1rss/1024:.0f} MiB per process; "
          f"stage 3: {m[c]['stage3_process']['cpu_s']:.1f} CPU-s, peak {m[c]['stage3_process']['maxrss_kib']/1024:.0f} MiB; "
          f"largest process RSS {rss/1024:.0f} MiB")
t1, t2 = m[1]["stage1_s"] + m[1]["stage2_s"], m[2]["stage1_s"] + m[2]["stage2_s"]
print(f"scaling of stages 1+2, T(1)/(2*T(2)) = {t1/(2*t2):.2f} ({t1:.1f} s vs {t2:.1f} s); "
      f"whole pipeline {t('spark-1')[0]/(2*t('spark-2')[0]):.2f}")
PY
