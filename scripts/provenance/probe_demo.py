#!/usr/bin/env python3
"""End to end through `moat provenance probe`: a student trained here on partly marked answers is served
over an OpenAI-compatible HTTP API (a small stdlib server in this script), and `moat provenance probe`
asks it the probe prompts, saves its answers and tests them. A student trained on clean answers only is
probed the same way as the control.

usage: scripts/provenance/probe_demo.py [--answers 20000] [--fraction 0.2] [--prompts 200] [--max-tokens 400]
"""
import argparse
import json
import os
import random
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from common import OUT, detokenize, load_sharegpt_answers, log, mark, random_key, run_moat, tokenize
from students import NGramLM, Vocab


def serve(model, vocab, max_tokens_default, seed):
    lock = threading.Lock()
    rng = np.random.default_rng(seed)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            n = int(body.get("max_tokens") or max_tokens_default)
            with lock:
                doc = []
                while not doc:
                    doc = model.generate(1, rng, max_len=n)[0]
            text = detokenize(vocab.decode(doc))
            answer = {"id": "chatcmpl-student", "object": "chat.completion", "model": body.get("model", "student"),
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                      "usage": {"prompt_tokens": 1, "completion_tokens": len(doc), "total_tokens": len(doc) + 1}}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--answers", type=int, default=20_000)
    ap.add_argument("--fraction", type=float, default=0.2)
    ap.add_argument("--prompts", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=400)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    key = random_key(random.Random(args.seed))
    answers = load_sharegpt_answers(limit=args.answers, seed=args.seed)
    marked, stats = mark(answers, key, campaign="hydra")
    log(stats)
    clean_t = [tokenize(a["text"]) for a in answers]
    marked_t = [tokenize(t) for t in marked]
    probes = [a["prompt"].split("\n")[0][:300] for a in load_sharegpt_answers(seed=args.seed + 1)[: args.prompts]]
    results = []
    for f in [args.fraction, 0.0]:
        pick = np.random.default_rng(args.seed).random(len(answers)) < f
        docs = [marked_t[i] if pick[i] else clean_t[i] for i in range(len(answers))]
        vocab = Vocab(docs)
        model = NGramLM(docs, vocab, order=4)
        server = serve(model, vocab, args.max_tokens, args.seed)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with tempfile.TemporaryDirectory() as tmp:
            prompts = os.path.join(tmp, "prompts.jsonl")
            with open(prompts, "w") as fh:
                for p in probes:
                    fh.write(json.dumps({"prompt": p}) + "\n")
            out = os.path.join(OUT, f"probe-samples-{f:g}.jsonl")
            p = run_moat(["provenance", "probe", "--suspect", url, "--api", "openai", "--model", f"student-{f:g}",
                          "--prompts", prompts, "--key-env", "MOAT_VALIDATION_KEY", "--campaign", "hydra",
                          "--out", out, "--max-tokens", str(args.max_tokens), "--json"],
                         env={"MOAT_VALIDATION_KEY": key})
        server.shutdown()
        r = json.loads(p.stdout)
        tokens = sum(len(tokenize(json.loads(line)["text"])) for line in open(out))
        results.append({"fraction": f, "answers": r["texts"], "tokens": tokens, **{k: r[k] for k in
                        ["units", "green", "green_share", "all_units_p_value", "marked_form_units", "marked_form_green",
                         "marked_form_p_value", "p_value", "log10_p_value", "verdict"]}})
        log(f"student with {f:.0%} marked: {r['texts']} answers, {tokens} tokens, p = {r['p_value']:.3g} ({r['verdict']})")
    with open(os.path.join(OUT, "probe_demo.json"), "w") as fh:
        json.dump(results, fh, indent=2)
    print("| student (4-gram) | answers probed | tokens | units (share following the key) | rare wording (key's / all) | reported p | verdict |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['fraction']:.0%} marked | {r['answers']} | {r['tokens']:,} | {r['units']} ({r['green_share']:.2f}) | "
              f"{r['marked_form_green']}/{r['marked_form_units']} | {r['p_value']:.2g} | {r['verdict']} |")


if __name__ == "__main__":
    main()
