#!/usr/bin/env python3
"""Quality of the mark and attacks on it, on real ShareGPT answers.

Quality: marks N answers through `moat provenance mark` and measures the share of words changed (word
alignment with difflib), the token-count change (words, the students' tokens, characters/4), and checks
that every fenced code block, inline code span and JSON line of the real answers comes back byte for byte.

Attacks, each scored with `moat provenance score` against the campaign key:
  flipping    an adversary who knows the wording classes flips each occurrence to the other wording with
              probability r (10-50%);
  truncation  fewer answers, and only the first part of each answer;
  mixing      the marked answers diluted in clean answers.
For each, the p-value and where the test stops working (p no longer below 1e-3).

usage: scripts/provenance/attacks.py [--answers 1000] [--seed 2]
Writes out/provenance/attacks.json and prints the tables.
"""
import argparse
import difflib
import json
import os
import random
import re

from common import OUT, load_sharegpt_answers, log, mark, random_key, run_moat, tokenize
from common import score as score_texts


def lexicon_forms():
    p = run_moat(["provenance", "lexicon"])
    pairs = []
    for line in p.stdout.splitlines():
        c = json.loads(line)
        if c["rule"] != "bullet":
            pairs.append(tuple(c["forms"]))
    return pairs


def flipper(pairs):
    """A regex over every form, and the map to its other form (case of the first letter kept)."""
    other = {}
    for a, b in pairs:
        other[a.lower()] = b
        other[b.lower()] = a
    forms = sorted(other, key=len, reverse=True)
    pattern = re.compile(r"(?<![A-Za-z'])(" + "|".join(re.escape(f).replace("'", "['\u2019]") for f in forms) + r")(?![A-Za-z'])",
                         re.IGNORECASE)

    def flip(text, r, rng):
        def repl(m):
            s = m.group(0)
            if rng.random() >= r:
                return s
            o = other.get(s.lower().replace("\u2019", "'"))
            if o is None:
                return s
            if s[0].isupper() and o[0].islower():
                o = o[0].upper() + o[1:]
            return o
        return pattern.sub(repl, text)

    return flip


def protected_parts(text):
    fences = re.findall(r"```.*?```", text, flags=re.S)
    rest = re.sub(r"```.*?```", "", text, flags=re.S)
    inline = re.findall(r"`[^`\n]+`", rest)
    json_lines = [l for l in text.splitlines() if l.strip().startswith(("{", "["))]
    return fences + inline + json_lines


def word_change(a, b):
    wa, wb = a.split(), b.split()
    sm = difflib.SequenceMatcher(a=wa, b=wb, autojunk=False)
    changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal")
    return changed, len(wa)


def p_text(r):
    if r["p_value"] > 0:
        return f"{r['p_value']:.2g}"
    return f"1e{r['log10_p_value']:.0f}" if r.get("log10_p_value") is not None else "<1e-300"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--answers", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--context-words", type=int, default=None, help="scheme parameter (experiments only)")
    args = ap.parse_args()
    extra = [] if args.context_words is None else ["--context-words", str(args.context_words)]

    def score(records, key, campaign):
        r = score_texts(records, key, campaign=campaign, extra=extra)
        # The reported rule, from the two tests' own p-values (below ~1e-308 they underflow: "<1e-300").
        r["p_value"] = min(1.0, 2 * min(r["all_units_p_value"], r["marked_form_p_value"]))
        r["log10_p_value"] = None
        return r
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(args.seed)
    key = random_key(rng)
    pool = load_sharegpt_answers(seed=args.seed)
    answers = pool[: args.answers]
    clean_extra = pool[args.answers: 2 * args.answers]
    marked, stats = mark(answers, key, campaign="hydra", extra=extra)
    log(stats)
    results = {"answers": len(answers), "mark_stats": stats}

    # Quality.
    changed = total = 0
    broken = checked = 0
    for a, m in zip(answers, marked):
        c, t = word_change(a["text"], m)
        changed += c
        total += t
        for part in protected_parts(a["text"]):
            checked += 1
            broken += part not in m
    words_clean = sum(len(a["text"].split()) for a in answers)
    words_marked = sum(len(m.split()) for m in marked)
    toks_clean = sum(len(tokenize(a["text"])) for a in answers)
    toks_marked = sum(len(tokenize(m)) for m in marked)
    chars_clean = sum(len(a["text"]) for a in answers)
    chars_marked = sum(len(m) for m in marked)
    quality = {"words_changed_share": changed / total, "word_count_change": words_marked / words_clean - 1,
               "token_count_change": toks_marked / toks_clean - 1, "char_count_change": chars_marked / chars_clean - 1,
               "answers_unchanged": sum(a["text"] == m for a, m in zip(answers, marked)),
               "protected_parts_checked": checked, "protected_parts_altered": broken}
    results["quality"] = quality
    print("| words changed | word count | student tokens | characters (~ BPE tokens) | answers untouched | code/JSON parts altered |")
    print("|---|---|---|---|---|---|")
    print(f"| {quality['words_changed_share'] * 100:.2f}% | {quality['word_count_change'] * 100:+.2f}% | "
          f"{quality['token_count_change'] * 100:+.2f}% | {quality['char_count_change'] * 100:+.2f}% | "
          f"{quality['answers_unchanged']} of {len(answers)} | {broken} of {checked} |")

    recs = [{"text": m, "prompt": a["prompt"]} for a, m in zip(answers, marked)]
    base = score(recs, key, campaign="hydra")
    log(f"all {len(recs)} marked answers: {base['units']} units, p = {p_text(base)}")

    # Flipping.
    flip = flipper(lexicon_forms())
    sizes = [10, 30, 100, 300, 1000]
    rows = []
    for r in [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]:
        frng = random.Random(args.seed * 100 + int(r * 100))
        flipped = [{"text": flip(x["text"], r, frng), "prompt": x["prompt"]} for x in recs]
        row = {"flip": r}
        for n in sizes:
            if n <= len(flipped):
                s = score(flipped[:n], key, campaign="hydra")
                row[n] = {k: s[k] for k in ["units", "green_share", "p_value", "log10_p_value"]}
        rows.append(row)
        log(f"flip {r:.0%}: " + ", ".join(f"{n}: p={p_text(row[n])}" for n in sizes if n in row))
    results["flipping"] = rows
    print("\n| flipped | " + " | ".join(f"{n} answers" for n in sizes if n <= len(recs)) + " |")
    print("|---|" + "---|" * len([n for n in sizes if n <= len(recs)]))
    for row in rows:
        print(f"| {row['flip']:.0%} | " + " | ".join(f"p = {p_text(row[n])} (green {row[n]['green_share']:.2f}, {row[n]['units']} units)"
                                                    for n in sizes if n in row) + " |")

    # Truncation: fewer answers, shorter answers.
    trunc = []
    for keep in [1.0, 0.5, 0.25, 0.1]:
        row = {"keep": keep}
        for n in [1, 3, 10, 30, 100, 1000]:
            if n <= len(recs):
                part = [{"text": x["text"][: max(1, int(len(x["text"]) * keep))], "prompt": x["prompt"]} for x in recs[:n]]
                s = score(part, key, campaign="hydra")
                row[n] = {k: s[k] for k in ["units", "green_share", "p_value", "log10_p_value"]}
        trunc.append(row)
    results["truncation"] = trunc
    ns = [n for n in [1, 3, 10, 30, 100, 1000] if n <= len(recs)]
    print("\n| share of each answer kept | " + " | ".join(f"{n} answer{'s' if n > 1 else ''}" for n in ns) + " |")
    print("|---|" + "---|" * len(ns))
    for row in trunc:
        print(f"| {row['keep']:.0%} | " + " | ".join(f"p = {p_text(row[n])} ({row[n]['units']} units)" for n in ns) + " |")

    # Mixing: the marked answers in a pool of clean ones.
    mix = []
    for share in [0.5, 0.2, 0.1, 0.05, 0.01]:
        n_marked = max(1, int(round(len(clean_extra) * share / (1 - share)))) if share < 1 else len(recs)
        part = recs[:n_marked] + [{"text": c["text"], "prompt": c["prompt"]} for c in clean_extra]
        random.Random(7).shuffle(part)
        s = score(part, key, campaign="hydra")
        mix.append({"marked_share": share, "marked_answers": n_marked, "clean_answers": len(clean_extra),
                    **{k: s[k] for k in ["units", "green_share", "p_value", "log10_p_value"]}})
    results["mixing"] = mix
    print("\n| marked share | marked + clean answers | units | green share | p |")
    print("|---|---|---|---|---|")
    for m in mix:
        print(f"| {m['marked_share']:.0%} | {m['marked_answers']} + {m['clean_answers']} | {m['units']} | {m['green_share']:.3f} | {p_text(m)} |")

    with open(os.path.join(OUT, "attacks.json"), "w") as f:
        json.dump(results, f, indent=2, default=str)


if __name__ == "__main__":
    main()
