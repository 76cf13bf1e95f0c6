#!/usr/bin/env bash
# The staged engine on Spark against `moat detect` on one machine (issue 14's figures), in one run:
#   - moat detect (the anchor): wall time and peak memory (/usr/bin/time);
#   - moat spark-detect in local[1] and local[2]: wall time per stage, Spark's task metrics (executor run time,
#     shuffle bytes, executors' peak JVM memory), stage 1 processes' CPU and peak memory, stage 3's;
#   - the reports compared byte for byte, and when they differ, which accounts and fields;
#   - the load average before and after each run (the machine may be shared).
#
#   scripts/bench-spark.sh [SCALE] [WORKDIR]      (default: industrial --scale 0.01 in .build/bench-spark)
#
# Env: MOAT_BIN (default: swift build -c release), MOAT_PYTHON (a python with pyspark 4.3.0 and pyarrow; default
# .build/sdk-venv/bin/python when it exists, as tests/spark/run.sh makes it, else python3), PARTITIONS (default 4),
# SEED (default 1), CORES (the local[k] runs, default "1 2"), SIM (an existing simulation directory with
# exchanges.jsonl and accounts.jsonl, read in place instead of simulating SCALE), DRIVER_MEMORY (default 4g; in
# local mode the executors live in the driver's JVM: industrial 0.25 needs PARTITIONS=64 DRIVER_MEMORY=10g),
# REUSE_DETECT=1 (keep WORKDIR's detect.json and its timing from an earlier run of the same binary on the same log),
# GZIP_LINES=N (for logs the disk cannot hold as plain JSON Lines: simulate writes through a pipe into gzip parts of
# N lines, DIR/parts/exchanges-NNNN.jsonl.gz; moat detect reads them in order from zcat, Spark reads the directory),
# COLLECT=1 (spark-detect --collect: stage 2's ordered lines stream to stage 3 through the driver instead of being
# written, gzip-compressed, to its work directory: 5.4 GB at industrial 0.75; at that scale --collect ran the
# driver's heap out),
# SPARK_CONF="key=value ..." (more Spark configuration for the spark-detect runs).
set -euo pipefail

scale="${1:-0.01}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${2:-$root/.build/bench-spark}"
if [[ -n "${MOAT_PYTHON:-}" ]]; then python="$MOAT_PYTHON"
elif [[ -x "$root/.build/sdk-venv/bin/python" ]]; then python="$root/.build/sdk-venv/bin/python"
else python=python3; fi
partitions="${PARTITIONS:-4}"
seed="${SEED:-1}"
cores_list="${CORES:-1 2}"
driver_memory="${DRIVER_MEMORY:-4g}"
"$python" -c 'import pyspark, pyarrow' 2>/dev/null || {
    echo "error: $python has no pyspark/pyarrow (set MOAT_PYTHON, or run tests/spark/run.sh once to make .build/sdk-venv)" >&2
    exit 1
}
if [[ -n "${MOAT_BIN:-}" ]]; then
    moat="$MOAT_BIN"
else
    (cd "$root" && swift build -c release --product moat >&2)
    moat="$(cd "$root" && swift build -c release --show-bin-path)/moat"
fi
mkdir -p "$work"
if [[ -n "${SIM:-}" ]]; then
    sim="$SIM"
else
    sim="$work/industrial-$scale-$seed"
    if [[ -n "${GZIP_LINES:-}" && ! -s "$sim/simulate.json" ]]; then
        echo "== simulate industrial --scale $scale into gzip parts of $GZIP_LINES lines"
        rm -rf "$sim" && mkdir -p "$sim/parts"
        mkfifo "$sim/exchanges.jsonl"
        split -d -a 4 -l "$GZIP_LINES" --additional-suffix=.jsonl --filter='gzip -1 >"$FILE.gz"' - "$sim/parts/exchanges-" \
            <"$sim/exchanges.jsonl" &
        splitter=$!
        "$moat" simulate --scenario industrial --scale "$scale" --seed "$seed" --out "$sim" --json >"$sim/simulate.tmp"
        wait "$splitter"
        rm "$sim/exchanges.jsonl"
        mv "$sim/simulate.tmp" "$sim/simulate.json"
    elif [[ -z "${GZIP_LINES:-}" && ! -s "$sim/exchanges.jsonl" ]]; then
        echo "== simulate industrial --scale $scale"
        "$moat" simulate --scenario industrial --scale "$scale" --seed "$seed" --out "$sim" --json >"$work/simulate.json"
    fi
fi
if [[ -d "$sim/parts" ]]; then
    # Gzip parts: the counts from simulate's summary (the plain log is never on the disk).
    read -r lines bytes < <("$python" -c 'import json, sys; s = json.load(open(sys.argv[1])); print(s["exchanges"], s["bytes"])' "$sim/simulate.json")
    input="$sim/parts"
    echo "parts: $(ls "$input" | wc -l) gzip files, $(( $(du -sb "$input" | cut -f1) / 1048576 )) MiB compressed"
else
    lines=$(wc -l <"$sim/exchanges.jsonl")
    bytes=$(stat -c %s "$sim/exchanges.jsonl")
    input="$sim/exchanges.jsonl"
fi
accounts=$(wc -l <"$sim/accounts.jsonl")
echo "log: $lines exchanges, $((bytes / 1048576)) MiB, $accounts accounts ($sim); $(nproc) cores"
echo "$lines $bytes $accounts" >"$work/log.size"

measure() {  # name, command...: wall seconds and peak RSS (KiB) of the command and its waited children, load around it
    local name="$1"; shift
    cut -d' ' -f1-3 /proc/loadavg >"$work/$name.load"
    /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@"
    cut -d' ' -f1-3 /proc/loadavg >>"$work/$name.load"
    read -r wall rss <"$work/$name.time"
    echo "$name: ${wall} s, peak RSS $((rss / 1024)) MiB, load $(tr '\n' ' ' <"$work/$name.load")"
}

compare() {  # report, report: identical, or which accounts and fields differ
    "$python" - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def by_id(r, key, field):
    return {x[field]: x for x in r.get(key, [])}
out = []
for key, field in (("accounts", "account_id"), ("campaigns", "id")):
    x, y = by_id(a, key, field), by_id(b, key, field)
    for k in sorted(set(x) | set(y)):
        if k not in y: out.append(f"{key} {k}: only in {sys.argv[1]}")
        elif k not in x: out.append(f"{key} {k}: only in {sys.argv[2]}")
        elif x[k] != y[k]:
            fields = sorted(f for f in set(x[k]) | set(y[k]) if x[k].get(f) != y[k].get(f))
            out.append(f"{key} {k}: " + "; ".join(f"{f}: {x[k].get(f)!r} vs {y[k].get(f)!r}"[:300] for f in fields))
for k in sorted(set(a) | set(b)):
    if k not in ("accounts", "campaigns") and a.get(k) != b.get(k):
        out.append(f"{k}: {json.dumps(a.get(k))[:300]} vs {json.dumps(b.get(k))[:300]}")
print("\n".join(out[:50]) if out else "byte-level difference only (same JSON values)")
print(f"{len(out)} differences")
PY
}

echo "== moat detect (one process)"
if [[ -n "${REUSE_DETECT:-}" && -s "$work/detect.json" && -s "$work/detect.time" ]]; then
    echo "detect: reused from an earlier run in $work (REUSE_DETECT; same binary and log assumed): $(cat "$work/detect.time")"
else
    if [[ -d "$input" ]]; then
        # The parts in order (their names sort as split wrote them), through one pipe.
        measure detect bash -c 'set -o pipefail; zcat "$1"/*.gz | "$2" detect - --accounts "$3" --out "$4" --quiet' _ \
            "$input" "$moat" "$sim/accounts.jsonl" "$work/detect.json"
    else
        measure detect "$moat" detect "$input" --accounts "$sim/accounts.jsonl" --out "$work/detect.json" --quiet
    fi
fi

status=0
for cores in $cores_list; do
    echo "== moat spark-detect local[$cores], $partitions partitions"
    measure "spark-$cores" "$moat" spark-detect "$input" --accounts "$sim/accounts.jsonl" ${COLLECT:+--collect} \
        --out "$work/spark-$cores.json" --master "local[$cores]" --partitions "$partitions" --python "$python" \
        --driver "$root/scripts/spark/moat_spark.py" --metrics "$work/metrics-$cores.json" \
        --conf "spark.driver.memory=$driver_memory" ${SPARK_CONF:+$(printf -- '--conf %s ' $SPARK_CONF)}
    if cmp -s "$work/detect.json" "$work/spark-$cores.json"; then
        echo "report: identical to moat detect (byte for byte)"
    else
        echo "report: DIFFERS from moat detect"; compare "$work/detect.json" "$work/spark-$cores.json"; status=1
    fi
done

"$python" - "$work" "$cores_list" <<'PY'
import json, sys
work, cores = sys.argv[1], [int(c) for c in sys.argv[2].split()]
n, size, accounts = (int(x) for x in open(f"{work}/log.size").read().split())
def t(name):
    wall, rss = open(f"{work}/{name}.time").read().split()
    return float(wall), int(rss)
def load(name):
    return " -> ".join(l.split()[0] for l in open(f"{work}/{name}.load").read().splitlines())
d_wall, d_rss = t("detect")
print(f"\nlog: {n:,} exchanges, {size/2**20:,.0f} MiB, {accounts:,} accounts")
print(f"moat detect: {d_wall:.1f} s, {d_rss/1024:.0f} MiB peak, {n/d_wall:,.0f} exchanges/s (load {load('detect')})")
m = {}
for c in cores:
    m[c] = json.load(open(f"{work}/metrics-{c}.json"))
    w, rss = t(f"spark-{c}")
    tot = m[c]["totals"]
    s1 = m[c]["stage1_processes"]
    s1cpu = sum(p["cpu_s"] for p in s1)
    s1rss = max(p["maxrss_kib"] for p in s1)
    ex = m[c]["executors"]
    heap = max((e.get("JVMHeapMemory") or 0) for e in ex)
    jvm_rss = max((e.get("ProcessTreeJVMRSSMemory") or 0) for e in ex)
    py_rss = max((e.get("ProcessTreePythonRSSMemory") or 0) for e in ex)
    s3 = m[c]["stage3_process"]
    print(f"spark local[{c}]: {w:.1f} s wall (stage 1 {m[c]['stage1_s']:.1f} s, stage 2 {m[c]['stage2_s']:.1f} s, "
          f"stage 3 {m[c]['stage3_s']:.1f} s; load {load(f'spark-{c}')}); executor run time {tot['executorRunTime']/1000:.1f} core-s "
          f"(CPU {tot['executorCpuTime']/1e9:.1f} s), {m[c]['exchanges_per_executor_core_second']:,.0f} exchanges per executor "
          f"core-second; shuffle write {tot['shuffleWriteBytes']/n:.0f} B/exchange, read {tot['shuffleReadBytes']/n:.0f} B/exchange, "
          f"spilled to disk {tot['diskBytesSpilled']/2**20:.0f} MiB; executor peak JVM heap {heap/2**20:.0f} MiB, JVM RSS "
          f"{jvm_rss/2**20:.0f} MiB, Python workers' RSS {py_rss/2**20:.0f} MiB; stage 1 Swift: {s1cpu:.1f} CPU-s, peak "
          f"{s1rss/1024:.0f} MiB per process; stage 3: {s3['cpu_s']:.1f} CPU-s, peak {s3['maxrss_kib']/1024:.0f} MiB "
          f"({s3['maxrss_kib']*1024/accounts:,.0f} B per account; peaks by {s3.get('maxrss_source', 'rusage')}); "
          f"largest waited process of spark-detect {rss/1024:.0f} MiB (the JVM is not among them: see its RSS)")
if 1 in m and 2 in m:
    t1, t2 = m[1]["stage1_s"] + m[1]["stage2_s"], m[2]["stage1_s"] + m[2]["stage2_s"]
    print(f"scaling of stages 1+2, T(1)/(2*T(2)) = {t1/(2*t2):.2f} ({t1:.1f} s vs {t2:.1f} s); "
          f"whole pipeline {t('spark-1')[0]/(2*t('spark-2')[0]):.2f}")
PY
exit $status
