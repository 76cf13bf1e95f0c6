#!/usr/bin/env python3
"""The gateway benchmark's report: a table for people and one JSON line for machines.

  python3 Benchmarks/gateway/report.py RESULTS_DIR

RESULTS_DIR (written by scripts/bench-gateway.sh) holds meta.json and, per configuration C in direct,
moat-base (a baseline moat binary; optional), moat, moat-fp (moat for an account whose action is
`fingerprint`; optional), nginx: wrk-C.json (max throughput), and per round R lat-C-rR.json (fixed-rate
latency, complete answers) and stream-C-rR.json (fixed-rate latency of streamed answers, with time to
first byte), each with a .samples.json of every request's times. Percentiles pool the rounds' samples;
every figure for the proxies is also given as what it adds over direct, measured in the same run.
"""
import json
import os
import sys

from loadgen import pct  # the same nearest-rank percentile as the load generator's own summary

CFGS = ["direct", "moat", "nginx"]


def load(d, name):
    path = os.path.join(d, name)
    return json.load(open(path)) if os.path.exists(path) else None


def r(x, n=3):
    return None if x is None else round(x, n)


def summary(values):
    v = sorted(values)
    return {"p50_ms": r(pct(v, 50)), "p90_ms": r(pct(v, 90)), "p99_ms": r(pct(v, 99)), "p999_ms": r(pct(v, 99.9)),
            "max_ms": r(v[-1] if v else None), "mean_ms": r(sum(v) / len(v) if v else None)}


def pooled(d, kind, c, rounds):
    """The rounds of one measurement of configuration c, pooled: their counts summed, percentiles over
    every request of every round; `rounds` keeps each round's own summary. None if it was not run."""
    runs = [load(d, f"{kind}-{c}-r{i}.json") for i in range(1, rounds + 1)]
    if not all(runs):
        return load(d, f"{kind}-{c}.json")  # a results directory from before rounds
    samples = [load(d, f"{kind}-{c}-r{i}.samples.json") for i in range(1, rounds + 1)]
    out = dict(runs[0])
    out["achieved_rps"] = r(sum(x["achieved_rps"] for x in runs) / len(runs), 1)
    for k in ("errors", "unfinished", "completed", "queued_for_connection"):
        out[k] = sum(x[k] for x in runs)
    statuses = {}
    for x in runs:
        for code, v in x["statuses"].items():
            statuses[code] = statuses.get(code, 0) + v
    out["statuses"] = statuses
    out["send_lateness"] = max((x["send_lateness"] for x in runs), key=lambda s: s["p99_ms"] or 0)
    out["service"] = summary([v for s in samples for v in s["service_ms"]])
    if out.get("stream"):
        out["first_byte"] = summary([v for s in samples for v in s["first_byte_ms"]])
    out["rounds"] = runs
    return out


def main(d):
    global CFGS
    meta = json.load(open(os.path.join(d, "meta.json")))
    if "configs" in meta:
        CFGS = meta["configs"].split()
    elif os.path.exists(os.path.join(d, "wrk-moat-fp.json")):
        CFGS = ["direct", "moat", "moat-fp", "nginx"]
    rounds = meta.get("rounds", 1)
    w = {c: load(d, f"wrk-{c}.json") for c in CFGS}
    lat = {c: pooled(d, "lat", c, rounds) for c in CFGS}
    st = {c: pooled(d, "stream", c, rounds) for c in CFGS}
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

    def per_round(src, c, kind, p):
        """What c added over direct at percentile p, round by round (each round against its own direct)."""
        if "rounds" not in (src[c] or {}) or "rounds" not in (src["direct"] or {}):
            return ""
        return " ".join(f3(r(a[kind][p] - b[kind][p])) for a, b in zip(src[c]["rounds"], src["direct"]["rounds"]))

    print()
    print(f"moat gateway benchmark: loopback, mock upstream (x-mock-latency-ms {meta['mock_latency']}), PIN={meta['pin']} "
          f"(client CPUs {meta['client_cpus']}, mock+proxy CPUs {meta['server_cpus']}); load average before the run: {meta['loadavg']}"
          + (f"; benchmark session at autogroup nice {meta['priority']}" if meta.get("priority") else ""))
    print()
    print(f"1. max throughput: wrk -t{meta['threads']} -c{meta['connections']} -d{meta['duration']}s, non-streaming OpenAI chat completion")
    print(f"   {'':9} {'req/s':>10} {'vs direct':>10} {'p50 ms':>8} {'p99 ms':>8} {'proxy CPU us/req':>17} {'mock CPU us/req':>16} {'non-2xx':>8} {'sock err':>8}")
    for c in CFGS:
        own = "-" if c == "direct" else f"{cpu[c]:.1f}"
        print(f"   {c:9} {rps[c]:10.0f} {rps[c] / rps['direct']:10.2f} {w[c]['p50_ms']:8.3f} {w[c]['p99_ms']:8.3f} {own:>17} "
              f"{mcpu[c]:16.1f} {w[c]['non_2xx']:8d} {w[c]['socket_errors']:8d}")
    ratio = rps["moat"] / rps["nginx"]
    trounds = meta.get("throughput_rounds", 1)
    round_ratios = []
    for k in range(1, trounds + 1):
        a, b = os.path.join(d, f"wrk-moat-r{k}.json"), os.path.join(d, f"wrk-nginx-r{k}.json")
        if os.path.exists(a) and os.path.exists(b):
            round_ratios.append(round(json.load(open(a))["rps"] / json.load(open(b))["rps"], 3))
    by_round = f"; by round {' '.join(f'{x:.2f}' for x in round_ratios)}" if len(round_ratios) > 1 else ""
    print(f"   moat / nginx throughput: {ratio:.2f} (median round of {trounds} each{by_round})   "
          f"(goal >= 0.70: {'met' if ratio >= 0.7 else 'MISSED'})")
    print()
    print(f"2. latency at {meta['rate']} req/s for {meta['lat_duration']}s x {rounds} rounds (open loop, {meta['lat_connections']} keep-alive connections), complete answers")
    print("   service = request written -> last byte read; corrected = from the scheduled send time (wrk2-style)")
    print(f"   {'':9} {'achieved':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'+p50 ms':>8} {'+p99 ms':>8} {'corr p99':>9} {'+corr p99':>10} {'errors':>7}")
    for c in CFGS:
        s, k = lat[c]["service"], lat[c]["corrected"]
        bad = lat[c]["errors"] + lat[c]["unfinished"] + sum(v for code, v in lat[c]["statuses"].items() if code != "200")
        d = c == "direct"
        print(f"   {c:9} {lat[c]['achieved_rps']:9.0f} {s['p50_ms']:8.3f} {s['p99_ms']:8.3f} {s['p999_ms']:9.3f} "
              f"{'-' if d else f3(added(lat, c, 'service', 'p50_ms')):>8} {'-' if d else f3(added(lat, c, 'service', 'p99_ms')):>8} "
              f"{k['p99_ms']:9.3f} {'-' if d else f3(added(lat, c, 'corrected', 'p99_ms')):>10} {bad:7d}")
    for c in CFGS[1:]:
        if rounds > 1:
            print(f"   {c}: added p99 by round {per_round(lat, c, 'service', 'p99_ms')} ms; added p50 by round {per_round(lat, c, 'service', 'p50_ms')} ms")
    am99 = added(lat, "moat", "service", "p99_ms")
    print(f"   added p99 moat: {f3(am99)} ms, nginx: {f3(added(lat, 'nginx', 'service', 'p99_ms'))} ms   "
          f"(goal: moat <= 1 ms: {'met' if am99 is not None and am99 <= 1 else 'MISSED'})")
    print(f"   client send lateness p99: " + ", ".join(f"{c} {lat[c]['send_lateness']['p99_ms'] or '-'} ms" for c in CFGS))
    print()
    if all(st[c] for c in CFGS):
        print(f"3. streams at {meta['stream_rate']} req/s for {meta['lat_duration']}s x {rounds} rounds ({meta['stream_note']}): "
              "time to first byte (first event) and to last byte")
        print(f"   {'':9} {'TTFB p50':>9} {'TTFB p99':>9} {'+TTFB p50':>10} {'+TTFB p99':>10} {'last p50':>9} {'last p99':>9} {'+last p50':>10} {'+last p99':>10} {'errors':>7}")
        for c in CFGS:
            f, s = st[c]["first_byte"], st[c]["service"]
            bad = st[c]["errors"] + st[c]["unfinished"] + sum(v for code, v in st[c]["statuses"].items() if code != "200")
            d = c == "direct"
            print(f"   {c:9} {f['p50_ms']:9.3f} {f['p99_ms']:9.3f} {'-' if d else f3(added(st, c, 'first_byte', 'p50_ms')):>10} "
                  f"{'-' if d else f3(added(st, c, 'first_byte', 'p99_ms')):>10} {s['p50_ms']:9.3f} {s['p99_ms']:9.3f} "
                  f"{'-' if d else f3(added(st, c, 'service', 'p50_ms')):>10} {'-' if d else f3(added(st, c, 'service', 'p99_ms')):>10} {bad:7d}")
        for c in CFGS[1:]:
            if rounds > 1:
                print(f"   {c}: added TTFB p50 by round {per_round(st, c, 'first_byte', 'p50_ms')} ms")
        at50 = added(st, "moat", "first_byte", "p50_ms")
        print(f"   added TTFB p50 moat: {f3(at50)} ms   (goal <= 0.2 ms: {'met' if at50 is not None and at50 <= 0.2 else 'MISSED'})")
        if "moat-fp" in CFGS:
            fp50 = added(st, "moat-fp", "first_byte", "p50_ms")
            fp99 = added(st, "moat-fp", "first_byte", "p99_ms")
            print(f"   added TTFB p50 moat with fingerprint: {f3(fp50)} ms (p99 {f3(fp99)} ms); the fingerprint's own share "
                  f"(moat-fp - moat): p50 {f3(None if fp50 is None or at50 is None else r(fp50 - at50))} ms")
        print()
    hwm = meta["peak_rss_kb"]
    print(f"4. peak RSS (VmHWM): moat {hwm['moat'] / 1024:.1f} MB, mock {hwm['mock'] / 1024:.1f} MB, nginx (master+workers) {hwm['nginx'] / 1024:.1f} MB"
          + (f", moat-base {hwm['moat-base'] / 1024:.1f} MB" if "moat-base" in hwm else ""))
    print()
    out = {
        "bench": "gateway", "time": meta["time"], "loadavg_before": meta["loadavg"], "pin": meta["pin"], "rounds": rounds,
        "throughput": {"wrk": f"-t{meta['threads']} -c{meta['connections']} -d{meta['duration']}s", "rps": {c: r(rps[c], 1) for c in CFGS},
                       "moat_over_nginx_by_round": round_ratios, "moat_over_nginx": r(rps["moat"] / rps["nginx"]), "proxy_cpu_us_per_req": cpu, "mock_cpu_us_per_req": mcpu,
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
