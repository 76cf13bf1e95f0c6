#!/usr/bin/env python3
"""Radioactivity: do students trained on partly marked answers carry the mark?

1. Take N real ShareGPT answers (first turns, English) and mark all of them with a campaign key through
   `moat provenance mark` (the prompts go along, so prompt classes stay untouched, as in `moat serve`).
2. For each marked share f (default 1, 0.2, 0.05, 0.01, and 0 as the control), build the training set:
   a random f of the answers in their marked form, the rest clean.
3. Train students from scratch on it: an interpolated Witten-Bell 4-gram model over words and
   punctuation, and a small neural LM (a fixed-window MLP, numpy).
4. Generate from each student (unconditioned documents of up to 400 tokens) and score growing prefixes
   of the generations with `moat provenance score`, reporting the p-value against generated tokens and
   the first budget (1,000-token steps) at which p < 1e-6.

usage: scripts/provenance/radioactivity.py [--answers 20000] [--fractions 1,0.2,0.05,0.01,0]
           [--students ngram,neural] [--tokens 200000] [--seed 1] [--split all|tune|report]

Held out: --split tune uses one half of the answers (a fixed shuffle, whatever --seed is), --split report
the other half; choices were tuned on `tune` with --seed 1 and are reported on `report` with fresh keys
(--seed 2 and up: the key, the marked subset and the generations all follow the seed).
The tokens-for-p<1e-6 column is given for the reported p-value (twice the smaller of the all-units and
marked-form binomial tests) and, for comparison, for the weighted sign test reported beside it.
Writes out/provenance/radioactivity.json and prints the tables.
"""
import argparse
import json
import os
import random
import tempfile

import numpy as np

from common import OUT, detokenize, load_sharegpt_answers, log, mark, random_key, score_file, tokenize, write_jsonl
from students import NeuralLM, NGramLM, Vocab

SPLIT_SEED = 12345
BUDGETS = [2_500, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000]


def pfmt(p):
    return f"{p:.1g}" if p > 0 else "<1e-300"


def ptext(r):
    return f"{r['p_value']:.1g}" if r["p_value"] > 0 else f"1e{r['log10_p_value']:.0f}"


def prefix_docs(docs, budget):
    out, total = [], 0
    for d in docs:
        if total >= budget:
            break
        take = d[: budget - total]
        out.append(take)
        total += len(take)
    return out, total


def score_tokens(docs, vocab, key, budget, extra):
    part, total = prefix_docs(docs, budget)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gen.jsonl")
        write_jsonl(path, [{"text": detokenize(vocab.decode(d))} for d in part])
        r = score_file(path, key, campaign="hydra", extra=extra)
    r["tokens"] = total
    return r


def classic_p(r):
    """The reported rule: twice the smaller of the all-units and marked-form binomial tests."""
    return min(1.0, 2 * min(r["all_units_p_value"], r["marked_form_p_value"]))


def weighted_p(r):
    """The weighted sign test's p-value (reported beside the test, not in it)."""
    return r["weighted_p_value"] if "weighted_p_value" in r else r["p_value"]


def tokens_needed(docs, vocab, key, extra, limit, threshold=1e-6, step=1_000, pick=lambda r: r["p_value"]):
    """The first budget on a grid of `step` tokens with p < threshold (coarse search, then refined)."""
    coarse = [b for b in [5_000, 10_000, 20_000, 35_000, 50_000, 75_000, 100_000, 150_000, 200_000] if b <= limit]
    prev = 0
    for b in coarse:
        if pick(score_tokens(docs, vocab, key, b, extra)) < threshold:
            for fine in range(prev + step, b + 1, step if b - prev <= 20_000 else max(step, (b - prev) // 20)):
                if pick(score_tokens(docs, vocab, key, fine, extra)) < threshold:
                    return fine
            return b
        prev = b
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--answers", type=int, default=20_000)
    ap.add_argument("--fractions", default="1,0.2,0.05,0.01,0")
    ap.add_argument("--students", default="ngram,neural")
    ap.add_argument("--tokens", type=int, default=200_000, help="tokens generated per student")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tag", default="", help="suffix of the result file (radioactivity<TAG>.json), to run students apart")
    ap.add_argument("--order", type=int, default=4)
    ap.add_argument("--neural-answers", type=int, default=2_000, help="answers the neural student trains on")
    ap.add_argument("--neural-epochs", type=int, default=2)
    ap.add_argument("--neural-vocab", type=int, default=3_000)
    ap.add_argument("--neural-hidden", type=int, default=128)
    ap.add_argument("--context-words", type=int, default=None, help="scheme parameter (experiments only)")
    ap.add_argument("--vote", default=None, help="unit vote (experiments only)")
    ap.add_argument("--split", default="all", choices=["all", "tune", "report"])
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    extra = []
    if args.context_words is not None:
        extra += ["--context-words", str(args.context_words)]
    score_extra = extra + (["--vote", args.vote] if args.vote else [])
    rng = random.Random(args.seed)
    key = random_key(rng)

    answers = load_sharegpt_answers(limit=args.answers, seed=args.seed)
    if args.split != "all":
        fixed = load_sharegpt_answers(seed=SPLIT_SEED)
        half = len(fixed) // 2
        chosen = fixed[:half] if args.split == "tune" else fixed[half:]
        answers = chosen[: args.answers]
        random.Random(args.seed).shuffle(answers)
    log(f"{len(answers)} answers; marking them with campaign hydra")
    marked, stats = mark(answers, key, campaign="hydra", extra=extra)
    log(stats)
    clean_tokens = [tokenize(a["text"]) for a in answers]
    marked_tokens = [tokenize(t) for t in marked]
    n_clean = sum(map(len, clean_tokens))
    n_marked = sum(map(len, marked_tokens))
    quality = {"answers": len(answers), "tokens_clean": n_clean, "tokens_marked": n_marked,
               "token_change": (n_marked - n_clean) / n_clean, "mark_stats": stats}
    log(f"quality: tokens {n_clean} -> {n_marked} ({quality['token_change'] * 100:+.3f}%)")

    results = {"key_id": None, "quality": quality, "students": []}
    fractions = [float(f) for f in args.fractions.split(",")]
    for student in args.students.split(","):
        for f in fractions:
            pick = np.random.default_rng(args.seed + int(f * 1000)).random(len(answers)) < f
            limit = len(answers) if student == "ngram" else min(len(answers), args.neural_answers)
            docs = [marked_tokens[i] if pick[i] else clean_tokens[i] for i in range(limit)]
            share = float(np.mean(pick[:limit]))
            log(f"{student} student, {f:.0%} marked ({share:.2%} of {limit} answers): training")
            gen_rng = np.random.default_rng(args.seed * 7919 + int(f * 1000))
            if student == "ngram":
                vocab = Vocab(docs)
                model = NGramLM(docs, vocab, order=args.order)
                gen = model.generate(args.tokens, gen_rng)
                info = {"order": args.order, "vocab": len(vocab)}
            else:
                vocab = Vocab(docs, max_size=args.neural_vocab)
                model = NeuralLM(len(vocab), hidden=args.neural_hidden, seed=args.seed)
                enc = [vocab.encode(d) for d in docs]
                held = enc[-200:]
                loss = model.train(enc[:-200], epochs=args.neural_epochs, seed=args.seed, log=log)
                ppl = model.perplexity(held)
                gen = model.generate(args.tokens, gen_rng)
                info = {"vocab": len(vocab), "train_loss": loss, "heldout_perplexity": ppl,
                        "epochs": args.neural_epochs, "answers": limit, "hidden": args.neural_hidden}
            total = sum(map(len, gen))
            log(f"  generated {total} tokens in {len(gen)} documents; scoring")
            write_jsonl(os.path.join(OUT, f"generated-{student}-{f:g}{args.tag}.jsonl"), [{"text": detokenize(vocab.decode(d))} for d in gen])
            curve = []
            for b in BUDGETS:
                if b > args.tokens:
                    break
                r = score_tokens(gen, vocab, key, b, score_extra)
                results["key_id"] = r["key_id"]
                curve.append({k: r[k] for k in ["tokens", "units", "green", "green_share", "p_value", "log10_p_value",
                                                "all_units_p_value", "marked_form_units", "marked_form_green", "marked_form_p_value",
                                                "weighted_units", "weighted_green", "weighted_statistic", "weighted_max", "weight_counts"]})
                curve[-1]["classic_p_value"] = classic_p(r)
                curve[-1]["weighted_p_value"] = weighted_p(r)
                log(f"  {r['tokens']:>7} tokens: {r['units']:>5} units, green {r['green_share']:.3f} (p {r['all_units_p_value']:.3g}); "
                    f"rare wording {r['marked_form_green']}/{r['marked_form_units']} (p {r['marked_form_p_value']:.3g}); "
                    f"weighted {r['weighted_statistic']}/{r['weighted_max']} over {r['weighted_units']} units (p {weighted_p(r):.3g}); p = {classic_p(r):.3g}")
            need = tokens_needed(gen, vocab, key, score_extra, args.tokens, pick=classic_p) if f > 0 else None
            need_weighted = tokens_needed(gen, vocab, key, score_extra, args.tokens, pick=weighted_p) if f > 0 else None
            results["students"].append({"student": student, "fraction": f, "marked_share": share, "info": info,
                                        "curve": curve, "tokens_for_p_1e-6": need, "weighted_tokens_for_p_1e-6": need_weighted})
            log(f"  tokens for p < 1e-6: {need if need else 'not reached within %d' % args.tokens} "
                f"(weighted sign test: {need_weighted if need_weighted else 'not reached'})")
            with open(os.path.join(OUT, f"radioactivity{args.tag}.json"), "w") as fh:
                json.dump(results, fh, indent=2)

    print(f"\nTokens changed by marking: {quality['token_change'] * 100:+.3f}% ({n_clean} -> {n_marked}); {stats}\n")
    print("Cells: reported p (twice the smaller of the two tests) [all units: green share of units; rare wording: "
          "units where the key put it / units]. Last columns: tokens for p < 1e-6 with it, and with the weighted sign test.\n")
    header = "| student | marked | " + " | ".join(f"{b // 1000}k tokens" for b in BUDGETS if b <= args.tokens) + " | tokens for p < 1e-6 | weighted sign test |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for s in results["students"]:
        cells = [f"{pfmt(c['classic_p_value'])} [{c['green_share']:.2f} of {c['units']}; {c['marked_form_green']}/{c['marked_form_units']}]"
                 for c in s["curve"]]

        def need_text(need):
            return "—" if s["fraction"] == 0 else (f"{need:,}" if need else f"not within {args.tokens:,}")
        print(f"| {s['student']} | {s['fraction']:.0%} | " + " | ".join(cells)
              + f" | {need_text(s['tokens_for_p_1e-6'])} | {need_text(s.get('weighted_tokens_for_p_1e-6'))} |")


if __name__ == "__main__":
    main()
