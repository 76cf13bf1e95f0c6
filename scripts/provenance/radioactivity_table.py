#!/usr/bin/env python3
"""Prints the radioactivity table of one or more result files (out/provenance/radioactivity*.json), as in
the README: the reported p-value (twice the smaller of the all-units and marked-form binomial tests) at
each budget of generated tokens, the tokens needed for p < 1e-6, and the same for the weighted sign test.

usage: scripts/provenance/radioactivity_table.py out/provenance/radioactivity-report-ngram.json [...]
"""
import json
import sys


def classic(c):
    return c.get("classic_p_value", min(1.0, 2 * min(c["all_units_p_value"], c["marked_form_p_value"])))


def pfmt(p):
    return f"{p:.1g}" if p > 0 else "<1e-300"


def main(paths):
    rows, budgets = [], None
    for path in paths:
        r = json.load(open(path))
        for s in r["students"]:
            rows.append(s)
            budgets = budgets or [c["tokens"] for c in s["curve"]]
    print("| student | marked | " + " | ".join(f"{b / 1000:g}k tokens" for b in budgets)
          + " | tokens for p < 1e-6 | same, weighted sign test |")
    print("|---|---|" + "---|" * (len(budgets) + 2))
    for s in rows:
        cells = [f"{pfmt(classic(c))} [{c['green_share']:.2f} of {c['units']}; {c['marked_form_green']}/{c['marked_form_units']}]"
                 for c in s["curve"]]
        # Result files written while the weighted test was the reported one keep it under the old names.
        if "weighted_tokens_for_p_1e-6" in s:
            need, need_w = s["tokens_for_p_1e-6"], s["weighted_tokens_for_p_1e-6"]
        else:
            need, need_w = s.get("classic_tokens_for_p_1e-6"), s["tokens_for_p_1e-6"]
        limit = max(c["tokens"] for c in s["curve"])

        def text(n):
            return "—" if s["fraction"] == 0 else (f"{n:,}" if n else f"not within {limit:,}")
        print(f"| {s['student']} | {s['fraction']:.0%} | " + " | ".join(cells) + f" | {text(need)} | {text(need_w)} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
