#!/usr/bin/env python3
"""Null calibration of `moat provenance score` on clean real text (ShareGPT answers) with random keys.

The reported p-value is twice the smaller of two exact tests (all units; units in the rarer wording), so it
is conservative; each test's own p-values should be uniform. The weighted sign test computed beside them
(JSON weighted_*) is checked too. Three nulls, all with keys that never marked the texts tested:
  corpus:   all N clean answers (with their prompts) scored under each of K random master keys;
  per-text: each of M clean answers scored alone under a fresh random key (what a check of single
            answers does);
  marked:   the same N answers marked with one campaign key (as served), scored under K other keys.
For each: the Kolmogorov-Smirnov distance to the uniform distribution and its p-value, and the
false-positive rate at alpha = 0.01 and 0.001 with exact 95% intervals. Per-text p-values come from few
units each, so they are discrete and conservative (P(p <= a) <= a); the KS test of the null model itself
uses the randomized p-value, which is exactly uniform under the null.

usage: scripts/provenance/calibrate.py [--keys 1000] [--texts 2000] [--per-text 2000] [--seed 1] [--context-words N]
"""
import argparse
import json
import math
import os
import random
import tempfile

import numpy as np

from common import mark, OUT, load_sharegpt_answers, log, random_key, run_moat, score_file, write_jsonl


def ks_uniform(p):
    """KS distance of a sample to U(0, 1) and its asymptotic p-value."""
    x = np.sort(np.asarray(p, dtype=float))
    n = len(x)
    i = np.arange(1, n + 1)
    d = max(np.max(i / n - x), np.max(x - (i - 1) / n))
    t = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    pv = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * t * t) for k in range(1, 101))
    return float(d), float(min(1.0, max(0.0, pv)))


def binom_logpmf(k, n, p):
    if p <= 0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1:
        return 0.0 if k == n else -math.inf
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)


def binom_cdf(k, n, p):
    return sum(math.exp(binom_logpmf(j, n, p)) for j in range(0, k + 1))


def clopper_pearson(k, n, conf=0.95):
    a = (1 - conf) / 2

    def solve(f):
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        return (lo + hi) / 2

    # P(X >= k | p) grows with p: the lower bound is where it equals a; P(X <= k | p) falls with p.
    low = 0.0 if k == 0 else solve(lambda p: (1 - binom_cdf(k - 1, n, p)) - a)
    high = 1.0 if k == n else solve(lambda p: a - binom_cdf(k, n, p))
    return low, high


def randomized_p(green, units, rng):
    """P(X > g) + U * P(X = g) for X ~ Bin(units, 1/2): exactly uniform under the null."""
    if units == 0:
        return rng.random()
    above = sum(math.exp(binom_logpmf(j, units, 0.5)) for j in range(green + 1, units + 1))
    return above + rng.random() * math.exp(binom_logpmf(green, units, 0.5))


def summarize(name, results, rng):
    # The reported rule (what `p_value` is): twice the smaller of the two binomial tests.
    p = [min(1.0, 2 * min(r["all_units_p_value"], r["marked_form_p_value"])) for r in results]
    p1 = [r["all_units_p_value"] for r in results]
    p2 = [r["marked_form_p_value"] for r in results]
    pw = [r.get("weighted_p_value", r["p_value"]) for r in results]
    rw = [r["weighted_p_value_above"] + rng.random() * (w - r["weighted_p_value_above"]) for r, w in zip(results, pw)]
    r1 = [randomized_p(r["green"], r["units"], rng) for r in results]
    r2 = [randomized_p(r["marked_form_green"], r["marked_form_units"], rng) for r in results]
    n = len(p)
    out = {"null": name, "runs": n, "mean_units": float(np.mean([r["units"] for r in results])),
           "mean_marked_units": float(np.mean([r["marked_form_units"] for r in results])), "mean_p": float(np.mean(p)),
           "mean_weighted_units": float(np.mean([r["weighted_units"] for r in results]))}
    out["ks_weighted"] = ks_uniform(pw)
    out["ks_weighted_randomized"] = ks_uniform(rw)
    out["ks_all_units"] = ks_uniform(p1)
    out["ks_marked_form"] = ks_uniform(p2)
    out["ks_all_units_randomized"] = ks_uniform(r1)
    out["ks_marked_form_randomized"] = ks_uniform(r2)
    for alpha in (0.01, 0.001):
        for label, values in (("", p), ("all_units_", p1), ("marked_form_", p2), ("weighted_", pw)):
            k = sum(x <= alpha for x in values)
            out[f"{label}fpr_{alpha}"] = k / n
            out[f"{label}rejections_{alpha}"] = k
            out[f"{label}fpr_{alpha}_ci95"] = list(clopper_pearson(k, n))
    return out


EXTRA = []


def null_scores(tmp, path, keys, each=False):
    kpath = os.path.join(tmp, "keys.txt")
    with open(kpath, "w") as f:
        f.write("\n".join(keys) + "\n")
    p = run_moat(["provenance", "null", "--keys-file", kpath, "--campaign", "null", path] + (["--each"] if each else []) + EXTRA)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1000, help="random keys for the corpus null")
    ap.add_argument("--texts", type=int, default=2000, help="clean answers in the corpus null")
    ap.add_argument("--per-text", type=int, default=2000, help="answers scored alone, one random key each")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--context-words", type=int, default=None, help="scheme parameter (experiments only)")
    args = ap.parse_args()
    if args.context_words is not None:
        EXTRA.extend(["--context-words", str(args.context_words)])
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(args.seed)

    answers = load_sharegpt_answers(seed=1000 + args.seed)
    corpus = answers[: args.texts]
    singles = answers[args.texts: args.texts + args.per_text]
    log(f"{len(corpus)} clean answers for the corpus null, {len(singles)} for the per-text null")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "clean.jsonl")
        write_jsonl(path, corpus)
        keys = [random_key(rng) for _ in range(args.keys)]
        # All keys in one process (`moat provenance null` scans the texts once; each key's result is what
        # `moat provenance score --json` prints for it), cross-checked against `score` for a few keys.
        corpus_results = null_scores(tmp, path, keys)
        for k, r in list(zip(keys, corpus_results))[:3]:
            direct = score_file(path, k, campaign="null", extra=EXTRA)
            assert (direct["key_id"], direct["units"], direct["green"], direct["p_value"]) == \
                (r["key_id"], r["units"], r["green"], r["p_value"]), (direct, r)
        log(f"corpus null: {len(corpus_results)} keys, {corpus_results[0]['units']} units each (first key)")

        spath = os.path.join(tmp, "singles.jsonl")
        write_jsonl(spath, singles)
        skeys = [random_key(rng) for _ in singles]
        single_results = null_scores(tmp, spath, skeys, each=True)
        for i in range(3):
            one = os.path.join(tmp, "one.jsonl")
            write_jsonl(one, [singles[i]])
            direct = score_file(one, skeys[i], campaign="null", extra=EXTRA)
            assert (direct["units"], direct["green"], direct["p_value"]) == \
                (single_results[i]["units"], single_results[i]["green"], single_results[i]["p_value"])
        log(f"per-text null: {len(single_results)} texts")

        # Marked text, wrong keys: the same answers marked with one campaign key (as `moat serve` serves
        # them), tested against other random keys that never marked anything.
        marked_texts, _ = mark(corpus, random_key(rng), campaign="served")
        mpath = os.path.join(tmp, "marked.jsonl")
        write_jsonl(mpath, [{"text": t, "prompt": a["prompt"]} for t, a in zip(marked_texts, corpus)])
        wrong_keys = [random_key(rng) for _ in range(args.keys)]
        marked_results = null_scores(tmp, mpath, wrong_keys)
        log(f"marked-text null: {len(marked_results)} wrong keys, {marked_results[0]['units']} units each (first key)")

    summary = [summarize("corpus (all answers, one key per run)", corpus_results, rng),
               summarize("per text (one answer, one key)", single_results, rng),
               summarize("marked answers, wrong keys (all answers, one key per run)", marked_results, rng)]
    with open(os.path.join(OUT, "calibration.json"), "w") as f:
        json.dump(summary, f, indent=2)
    def fpr(s, a, label=""):
        lo, hi = s[f"{label}fpr_{a}_ci95"]
        return f"{s[f'{label}fpr_{a}']:.4f} ({s[f'{label}rejections_{a}']}/{s['runs']}) [{lo:.4f}, {hi:.4f}]"

    def ks(s, k):
        d, pv = s[k]
        return f"{d:.4f} ({pv:.2f})"
    print("| null | runs | mean units (rare wording) | KS D (p): all units / rare wording | KS D randomized (p): all units / rare wording "
          "| FPR α=0.01 [95% CI] | FPR α=0.001 [95% CI] |")
    print("|---|---|---|---|---|---|---|")
    for s in summary:
        print(f"| {s['null']} | {s['runs']} | {s['mean_units']:.1f} ({s['mean_marked_units']:.1f}) | {ks(s, 'ks_all_units')} / {ks(s, 'ks_marked_form')} | "
              f"{ks(s, 'ks_all_units_randomized')} / {ks(s, 'ks_marked_form_randomized')} | {fpr(s, 0.01)} | {fpr(s, 0.001)} |")
    print("\nFalse-positive rates of each test alone (α = 0.01, 0.001):")
    for s in summary:
        print(f"- {s['null']}: all units {s['all_units_fpr_0.01']:.4f}, {s['all_units_fpr_0.001']:.4f}; "
              f"rare wording {s['marked_form_fpr_0.01']:.4f}, {s['marked_form_fpr_0.001']:.4f}; "
              f"weighted sign test {s['weighted_fpr_0.01']:.4f}, {s['weighted_fpr_0.001']:.4f} "
              f"(KS D {ks(s, 'ks_weighted')}, randomized {ks(s, 'ks_weighted_randomized')}; mean units {s['mean_weighted_units']:.1f})")


if __name__ == "__main__":
    main()
