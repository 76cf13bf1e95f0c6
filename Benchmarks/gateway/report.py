#!/usr/bin/env python3
"""The gateway benchmark's report: a table for people and one JSON line for machines.

  python3 Benchmarks/gateway/report.py RESULTS_DIR

RESULTS_DIR (written by scripts/bench-gateway.sh) holds meta.json and, per configuration C in direct,
moat, moat-fp (moat for an account whose action is `fingerprint`; optional), nginx: wrk-C.json (max throughput), lat-C.json (fixed-rate latency, complete answers) and
stream-C.json (fixed-rate latency of streamed answers, with time to first byte). Every figure for moat
and nginx is also given as what it adds over direct, measured in the same run.
"""
import json
import os
import sys

CFGS = ["direct", "moat", "nginx"]


def load(d, name):
    path = os.path.join(d, name)
    return json.load(open(path)) if os.path.exists(path) else None


def r(x, n=3):
    return None if x is None else round(x, n)


def main(d):
    global CFGS
    if os.path.exists(os.path.join(d, "wrk-moat-fp.json")):
        CFGS = ["direct", "moat", "moat-fp", "nginx"]
    meta = json.load(open(os.path.join(d, "meta.json")))
    w = {c: load(d, f"wrk-{c}.json") for c in CFGS}
    lat = {c: load(d, f"lat-{c}.json") for c in CFGS}
    st = {c: load(d, f"stream-{c}.json") for c in CFGS}
    rps = {c: w[c]["rps"] for c in CFGS}
    cpu = {c: round(w[c]["cpu_ticks"] * 10000 / max(w[c]["requests"], 1), 1) for c in CFGS}
    mcpu = {c: round(w[c]["mock_cpu_ticks"] * 10000 / max(w[c]["requests"], 1), 1) for c in CFGS}

    def added(src, c, kind, p):
        if src[c] is None or src["direct"] is None:
            return None
        a, b = src[c][kind][p], src["direct"][kind][p]
        return None if a is None or b is None else r(a - b)

    def f3(x):
        return "-" if x is None else f"{x:+.3f}"

    print()
    print(f"moat gateway benchmark: loopback, mock upstream (x-mock-latency-ms {meta['mock_latency']}), PIN={meta['pin']} "
          f"(client CPUs {meta['client_cpus']}, mock+proxy CPUs {meta['server_cpus']}); load average before the run: {meta['loadavg']}")
    print()
    print(f"1. max throughput: wrk -t{meta['threads']} -c{meta['connections']} -d{meta['duration']}s, non-streaming OpenAI chat completion")
    print(f"   {'':8} {'req/s':>10} {'vs direct':>10} {'p50 ms':>8} {'p99 ms':>8} {'proxy CPU us/req':>17} {'mock CPU us/req':>16} {'non-2xx':>8} {'sock err':>8}")
    for c in CFGS:
        own = "-" if c == "direct" else f"{cpu[c]:.1f}"
        print(f"   {c:8} {rps[c]:10.0f} {rps[c] / rps['direct']:10.2f} {w[c]['p50_ms']:8.3f} {w[c]['p99_ms']:8.3f} {own:>17} "
              f"{mcpu[c]:16.1f} {w[c]['non_2xx']:8d} {w[c]['socket_errors']:8d}")
    ratio = rps["moat"] / rps["nginx"]
    print(f"   moat / nginx throughput: {ratio:.2f}   (goal >= 0.70: {'met' if ratio >= 0.7 else 'MISSED'})")
    print()
    print(f"2. latency at {meta['rate']} req/s for {meta['lat_duration']}s (open loop, {meta['lat_connections']} keep-alive connections), complete answers")
    print("   service = request written -> last byte read; corrected = from the scheduled send time (wrk2-style)")
    print(f"   {'':8} {'achieved':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'+p50 ms':>8} {'+p99 ms':>8} {'corr p99':>9} {'+corr p99':>10} {'errors':>7}")
    for c in CFGS:
        s, k = lat[c]["service"], lat[c]["corrected"]
        bad = lat[c]["errors"] + lat[c]["unfinished"] + sum(v for code, v in lat[c]["statuses"].items() if code != "200")
        d = c == "direct"
        print(f"   {c:8} {lat[c]['achieved_rps']:9.0f} {s['p50_ms']:8.3f} {s['p99_ms']:8.3f} {s['p999_ms']:9.3f} "
              f"{'-' if d else f3(added(lat, c, 'service', 'p50_ms')):>8} {'-' if d else f3(added(lat, c, 'service', 'p99_ms')):>8} "
              f"{k['p99_ms']:9.3f} {'-' if d else f3(added(lat, c, 'corrected', 'p99_ms')):>10} {bad:7d}")
    am99 = added(lat, "moat", "service", "p99_ms")
    print(f"   added p99 moat: {f3(am99)} ms, nginx: {f3(added(lat, 'nginx', 'service', 'p99_ms'))} ms   "
          f"(goal: moat <= 1 ms: {'met' if am99 is not None and am99 <= 1 else 'MISSED'})")
    print(f"   client send lateness p99: " + ", ".join(f"{c} {lat[c]['send_lateness']['p99_ms'] or '-'} ms" for c in CFGS))
    print()
    if all(st[c] for c in CFGS):
        print(f"3. streams at {meta['stream_rate']} req/s for {meta['lat_duration']}s ({meta['stream_note']}): "
              "time to first byte (first event) and to last byte")
        print(f"   {'':8} {'TTFB p50':>9} {'TTFB p99':>9} {'+TTFB p50':>10} {'+TTFB p99':>10} {'last p50':>9} {'last p99':>9} {'+last p50':>10} {'+last p99':>10} {'errors':>7}")
        for c in CFGS:
            f, s = st[c]["first_byte"], st[c]["service"]
            bad = st[c]["errors"] + st[c]["unfinished"] + sum(v for code, v in st[c]["statuses"].items() if code != "200")
            d = c == "direct"
            print(f"   {c:8} {f['p50_ms']:9.3f} {f['p99_ms']:9.3f} {'-' if d else f3(added(st, c, 'first_byte', 'p50_ms')):>10} "
                  f"{'-' if d else f3(added(st, c, 'first_byte', 'p99_ms')):>10} {s['p50_ms']:9.3f} {s['p99_ms']:9.3f} "
                  f"{'-' if d else f3(added(st, c, 'service', 'p50_ms')):>10} {'-' if d else f3(added(st, c, 'service', 'p99_ms')):>10} {bad:7d}")
        at50 = added(st, "moat", "first_byte", "p50_ms")
        print(f"   added TTFB p50 moat: {f3(at50)} ms   (goal <= 0.2 ms: {'met' if at50 is not None and at50 <= 0.2 else 'MISSED'})")
        if "moat-fp" in CFGS:
            fp50 = added(st, "moat-fp", "first_byte", "p50_ms")
            fp99 = added(st, "moat-fp", "first_byte", "p99_ms")
            print(f"   added TTFB p50 moat with fingerprint: {f3(fp50)} ms (p99 {f3(fp99)} ms); the fingerprint's own share "
                  f"(moat-fp - moat): p50 {f3(None if fp50 is None or at50 is None else r(fp50 - at50))} ms")
        print()
    hwm = meta["peak_rss_kb"]
    print(f"4. peak RSS (VmHWM): moat {hwm['moat'] / 1024:.1f} MB, mock {hwm['mock'] / 1024:.1f} MB, nginx (master+workers) {hwm['nginx'] / 1024:.1f} MB")
    print()
    out = {
        "bench": "gateway", "time": meta["time"], "loadavg_before": meta["loadavg"], "pin": meta["pin"],
        "throughput": {"wrk": f"-t{meta['threads']} -c{meta['connections']} -d{meta['duration']}s", "rps": {c: r(rps[c], 1) for c in CFGS},
                       "moat_over_nginx": r(rps["moat"] / rps["nginx"]), "proxy_cpu_us_per_req": cpu, "mock_cpu_us_per_req": mcpu,
                       "non_2xx": {c: w[c]["non_2xx"] for c in CFGS}, "socket_errors": {c: w[c]["socket_errors"] for c in CFGS}},
        "latency": {"rate": meta["rate"], "service": {c: lat[c]["service"] for c in CFGS},
                    "added_ms": {c: {"p50": added(lat, c, "service", "p50_ms"), "p99": added(lat, c, "service", "p99_ms")} for c in CFGS[1:]}},
        "streams": None if not all(st[c] for c in CFGS) else {
            "rate": meta["stream_rate"], "first_byte": {c: st[c]["first_byte"] for c in CFGS}, "last_byte": {c: st[c]["service"] for c in CFGS},
            "added_first_byte_ms": {c: {"p50": added(st, c, "first_byte", "p50_ms"), "p99": added(st, c, "first_byte", "p99_ms")} for c in CFGS[1:]},
            "added_last_byte_ms": {c: {"p50": added(st, c, "service", "p50_ms"), "p99": added(st, c, "service", "p99_ms")} for c in CFGS[1:]}},
        "peak_rss_kb": hwm,
    }
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS_DIR")
    main(sys.argv[1])
