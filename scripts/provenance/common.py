"""Shared helpers for the provenance validation scripts: the real corpus, the `moat` binary, tokens.

Only the standard library and numpy. Marking and scoring always go through the built `moat` binary
(`moat provenance mark` / `moat provenance score`), so what is measured is what users run.
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.environ.get("MOAT_CORPUS", os.path.join(ROOT, ".corpus"))
SHAREGPT = "ShareGPT_V3_unfiltered_cleaned_split.json"
OUT = os.path.join(ROOT, "out", "provenance")


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def moat_binary():
    """$MOAT_BIN, else the release build, else the debug build."""
    for path in [os.environ.get("MOAT_BIN"), os.path.join(ROOT, ".build", "release", "moat"),
                 os.path.join(ROOT, ".build", "debug", "moat")]:
        if path and os.access(path, os.X_OK):
            return path
    sys.exit("no moat binary: run `swift build -c release` (or set MOAT_BIN)")


def run_moat(args, env=None, stdin=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run([moat_binary()] + args, env=full_env, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"moat {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def random_key(rng):
    return "".join(rng.choice("0123456789abcdef") for _ in range(64))


def write_jsonl(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def mark(records, key, campaign="validation", extra=None):
    """Marks [{"text", "prompt"?}] with `moat provenance mark`; returns the marked texts and the stats line."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        write_jsonl(src, records)
        p = run_moat(["provenance", "mark", "--key-env", "MOAT_VALIDATION_KEY", "--campaign", campaign, src, "--out", dst]
                     + (extra or []), env={"MOAT_VALIDATION_KEY": key})
        return [r["text"] for r in read_jsonl(dst)], p.stderr.strip()


def score_file(path, key, campaign="validation", extra=None):
    """`moat provenance score --json` on a file; returns the parsed JSON."""
    p = run_moat(["provenance", "score", "--key-env", "MOAT_VALIDATION_KEY", "--campaign", campaign, "--json", path]
                 + (extra or []), env={"MOAT_VALIDATION_KEY": key})
    return json.loads(p.stdout)


def score(records, key, campaign="validation", extra=None):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "texts.jsonl")
        write_jsonl(path, records)
        return score_file(path, key, campaign, extra)


def load_sharegpt_answers(limit=None, seed=0, min_chars=200, max_chars=6000):
    """First-turn (prompt, answer) pairs of the ShareGPT corpus, English, de-duplicated, shuffled by seed.

    The corpus file in .corpus may be cut short; conversations are decoded one by one until it ends.
    """
    path = os.path.join(CORPUS, SHAREGPT)
    if not os.path.exists(path):
        sys.exit(f"no corpus at {path}: run scripts/fetch-corpus.sh")
    text = open(path, encoding="utf-8").read()
    dec = json.JSONDecoder()
    i = text.index("[") + 1
    pairs, seen = [], set()
    while True:
        while i < len(text) and text[i] in " \n\r\t,":
            i += 1
        try:
            conv, i = dec.raw_decode(text, i)
        except ValueError:
            break
        turns = conv.get("conversations", [])
        for a, b in zip(turns, turns[1:]):
            if a.get("from") != "human" or b.get("from") != "gpt":
                continue
            prompt, answer = a.get("value", ""), b.get("value", "")
            if not (min_chars <= len(answer) <= max_chars):
                continue
            ascii_share = sum(c < "\x80" for c in answer) / len(answer)
            if ascii_share < 0.97 or answer in seen:
                continue
            seen.add(answer)
            pairs.append({"prompt": prompt[:4000], "text": answer})
            break  # the first answer of each conversation only: answers stay independent
    random.Random(seed).shuffle(pairs)
    return pairs[:limit] if limit else pairs


# Student tokens: words (with inner apostrophes), numbers, runs of backticks, newlines, single symbols,
# and a double space between two characters on a line (byte-level BPE tokenizers keep whitespace as it
# is; a word tokenizer that dropped it would be blind to spacing conventions). MOAT_STUDENT_SPACES picks
# another tokenizer: `sentence` keeps a double space only between sentences (the tokenizer before the
# comma-spacing class); `none` drops every extra space, which is what an adversary who normalises
# whitespace before training gets.
_WORDS = r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*|[0-9]+|`+|\n|[^\sA-Za-z0-9]"
_SPACES = {"sentence": r"(?<=[.!?])  (?=[A-Z])|", "none": ""}.get(os.environ.get("MOAT_STUDENT_SPACES", ""), r"(?<=\S)  (?=\S)|")
TOKEN = re.compile(_SPACES + _WORDS)
NO_SPACE_BEFORE = set(".,;:!?)]}%")
NO_SPACE_AFTER = set("([{$#")


def tokenize(text):
    return TOKEN.findall(text.replace("\u2019", "'"))


def detokenize(tokens):
    out = []
    prev = "\n"
    for t in tokens:
        if t == "\n" or t == "  ":
            out.append(t)
        elif prev == "\n" or prev == "  " or t in NO_SPACE_BEFORE or prev in NO_SPACE_AFTER or t == "'" or prev == "'":
            out.append(t)
        else:
            out.append(" " + t)
        prev = t
    return "".join(out)


def words(text):
    return len(text.split())
