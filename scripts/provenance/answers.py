#!/usr/bin/env python3
"""Writes N real ShareGPT answers (with their prompts) as JSON Lines, for `moat provenance bench|mark|score`.

usage: scripts/provenance/answers.py OUT.jsonl [--limit 2000] [--seed 4]
"""
import argparse

from common import load_sharegpt_answers, write_jsonl

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("out")
ap.add_argument("--limit", type=int, default=2000)
ap.add_argument("--seed", type=int, default=4)
args = ap.parse_args()
write_jsonl(args.out, load_sharegpt_answers(limit=args.limit, seed=args.seed))
