"""Students trained from scratch on CPU with numpy: an interpolated n-gram LM and a small neural LM.

Both learn from token sequences (common.tokenize) and generate documents that common.detokenize turns
back into text for `moat provenance score`.
"""
import math
import time

import numpy as np

BOS, EOS, UNK = 0, 1, 2


class Vocab:
    def __init__(self, docs, max_size=None, keep=()):
        counts = {}
        for d in docs:
            for t in d:
                counts[t] = counts.get(t, 0) + 1
        ordered = sorted(counts, key=lambda t: -counts[t])
        if max_size:
            keep = [t for t in keep if t in counts]
            ordered = ordered[: max_size - len(keep)] + [t for t in keep if t not in set(ordered[: max_size - len(keep)])]
        self.itos = ["<s>", "</s>", "<unk>"] + ordered
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, doc):
        return [self.stoi.get(t, UNK) for t in doc]

    def decode(self, ids):
        return [self.itos[i] for i in ids if i > UNK]


class NGramLM:
    """Interpolated Witten-Bell n-gram model over token ids. Contexts are hashed to 64 bits (collisions
    are negligible at these sizes), so any order works; tables are sorted numpy arrays."""

    MUL = 0x9E3779B97F4A7C15
    MASK = (1 << 64) - 1

    def __init__(self, docs, vocab, order=4):
        self.order, self.V = order, len(vocab)
        pad = [BOS] * (order - 1)
        seq = []
        for d in docs:
            seq.extend(pad + vocab.encode(d) + [EOS])
        seq = np.asarray(seq, dtype=np.uint64)
        nxt = seq[order - 1:]
        valid = nxt != BOS
        self.tables = []
        ctx = np.zeros(len(nxt), dtype=np.uint64)
        mul = np.uint64(self.MUL)
        for k in range(order):  # k = context length
            if k > 0:
                ctx = ctx * mul + seq[order - 1 - k: len(seq) - k] + np.uint64(1)
            c, w = ctx[valid], nxt[valid]
            idx = np.lexsort((w, c))
            c, w = c[idx], w[idx]
            new = np.ones(len(c), dtype=bool)
            new[1:] = (c[1:] != c[:-1]) | (w[1:] != w[:-1])
            starts = np.nonzero(new)[0]
            counts = np.diff(np.append(starts, len(c)))
            uc, uw = c[starts], w[starts].astype(np.int64)
            first = np.ones(len(uc), dtype=bool)
            first[1:] = uc[1:] != uc[:-1]
            cstart = np.nonzero(first)[0]
            cend = np.append(cstart[1:], len(uc))
            cum = np.cumsum(counts)
            totals = np.add.reduceat(counts, cstart)
            self.tables.append(dict(ctx=uc[cstart], start=cstart, end=cend, total=totals, types=cend - cstart,
                                    words=uw, cum=cum))

    def _key(self, k, history):
        h = 0
        for j in range(1, k + 1):  # the most recent token first, as in __init__
            h = (h * self.MUL + history[-j] + 1) & self.MASK
        return h

    def _lookup(self, k, history):
        t = self.tables[k]
        key = np.uint64(self._key(k, history))
        i = np.searchsorted(t["ctx"], key)
        if i < len(t["ctx"]) and t["ctx"][i] == key:
            return t, i
        return None, None

    def sample_next(self, history, rng):
        for k in range(self.order - 1, -1, -1):
            t, i = self._lookup(k, history)
            if t is None:
                continue
            total, types = t["total"][i], t["types"][i]
            lam = total / (total + types) if k > 0 else 1.0
            if rng.random() < lam:
                s, e = t["start"][i], t["end"][i]
                base = t["cum"][s - 1] if s > 0 else 0
                r = base + rng.integers(0, total) + 1
                j = np.searchsorted(t["cum"][s:e], r)
                return int(t["words"][s + j])
        return EOS

    def generate(self, n_tokens, rng, max_len=400):
        docs, total = [], 0
        while total < n_tokens:
            hist = [BOS] * (self.order - 1)
            out = []
            while len(out) < max_len:
                w = self.sample_next(hist, rng)
                if w == EOS:
                    break
                out.append(w)
                hist.append(w)
            if out:
                docs.append(out)
                total += len(out)
        return docs


class NeuralLM:
    """A fixed-window MLP language model (Bengio et al. 2003) trained with Adam, in numpy float32."""

    def __init__(self, vocab_size, window=4, dim=32, hidden=256, seed=0):
        rng = np.random.default_rng(seed)
        self.V, self.W, self.D, self.H = vocab_size, window, dim, hidden
        f = np.float32
        self.params = {
            "E": (rng.standard_normal((vocab_size, dim)) * 0.1).astype(f),
            "W1": (rng.standard_normal((window * dim, hidden)) / math.sqrt(window * dim)).astype(f),
            "b1": np.zeros(hidden, f),
            "W2": (rng.standard_normal((hidden, vocab_size)) / math.sqrt(hidden)).astype(f),
            "b2": np.zeros(vocab_size, f),
        }
        self.m = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.t = 0

    def windows(self, docs):
        """(contexts [N, W], targets [N]) over documents padded with BOS."""
        ctxs, tgts = [], []
        for d in docs:
            ids = np.asarray([BOS] * self.W + d + [EOS], dtype=np.int32)
            n = len(ids) - self.W
            idx = np.arange(n)[:, None] + np.arange(self.W)[None, :]
            ctxs.append(ids[idx])
            tgts.append(ids[self.W:])
        return np.concatenate(ctxs), np.concatenate(tgts)

    def forward(self, ctx):
        P = self.params
        x = P["E"][ctx].reshape(len(ctx), -1)
        h = np.tanh(x @ P["W1"] + P["b1"])
        logits = h @ P["W2"] + P["b2"]
        return x, h, logits

    def train(self, docs, epochs=1, batch=256, lr=2e-3, seed=0, log=None):
        ctx, tgt = self.windows(docs)
        rng = np.random.default_rng(seed)
        n = len(tgt)
        started = time.time()
        for epoch in range(epochs):
            order = rng.permutation(n)
            loss_sum, seen = 0.0, 0
            for b in range(0, n - batch + 1, batch):
                sel = order[b: b + batch]
                loss_sum += self.step(ctx[sel], tgt[sel], lr) * len(sel)
                seen += len(sel)
                if log and (b // batch) % 2000 == 0:
                    log(f"  neural epoch {epoch + 1} batch {b // batch}/{n // batch} loss {loss_sum / max(seen, 1):.3f} "
                        f"({time.time() - started:.0f} s)")
        return loss_sum / max(seen, 1)

    def step(self, c, y, lr):
        P = self.params
        x, h, logits = self.forward(c)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        probs = e / e.sum(axis=1, keepdims=True)
        B = len(y)
        loss = -float(np.mean(np.log(probs[np.arange(B), y] + 1e-9)))
        g = probs
        g[np.arange(B), y] -= 1
        g /= B
        grads = {"W2": h.T @ g, "b2": g.sum(0)}
        gh = (g @ P["W2"].T) * (1 - h * h)
        grads["W1"] = x.T @ gh
        grads["b1"] = gh.sum(0)
        gx = (gh @ P["W1"].T).reshape(B, self.W, self.D)
        gE = np.zeros_like(P["E"])
        np.add.at(gE, c.reshape(-1), gx.reshape(-1, self.D))
        grads["E"] = gE
        self.t += 1
        b1, b2 = 0.9, 0.999
        for k in P:
            self.m[k] = b1 * self.m[k] + (1 - b1) * grads[k]
            self.v[k] = b2 * self.v[k] + (1 - b2) * grads[k] * grads[k]
            mh = self.m[k] / (1 - b1 ** self.t)
            vh = self.v[k] / (1 - b2 ** self.t)
            P[k] -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        return loss

    def perplexity(self, docs, limit=50_000):
        ctx, tgt = self.windows(docs)
        ctx, tgt = ctx[:limit], tgt[:limit]
        nll = 0.0
        for b in range(0, len(tgt), 1024):
            _, _, logits = self.forward(ctx[b: b + 1024])
            logits -= logits.max(axis=1, keepdims=True)
            lse = np.log(np.exp(logits).sum(axis=1))
            nll += float(np.sum(lse - logits[np.arange(len(logits)), tgt[b: b + 1024]]))
        return math.exp(nll / len(tgt))

    def generate(self, n_tokens, rng, max_len=400, parallel=64):
        docs, total = [], 0
        while total < n_tokens:
            hist = np.full((parallel, self.W), BOS, dtype=np.int32)
            outs = [[] for _ in range(parallel)]
            alive = np.ones(parallel, bool)
            for _ in range(max_len):
                _, _, logits = self.forward(hist)
                logits -= logits.max(axis=1, keepdims=True)
                p = np.exp(logits)
                p /= p.sum(axis=1, keepdims=True)
                cum = np.cumsum(p, axis=1)
                r = rng.random(parallel)[:, None] * cum[:, -1:]
                nxt = (cum < r).sum(axis=1).astype(np.int32)
                nxt = np.minimum(nxt, self.V - 1)
                for i in np.nonzero(alive)[0]:
                    if nxt[i] == EOS:
                        alive[i] = False
                    elif nxt[i] > UNK:
                        outs[i].append(int(nxt[i]))
                hist = np.concatenate([hist[:, 1:], nxt[:, None]], axis=1)
                if not alive.any():
                    break
            for o in outs:
                if o:
                    docs.append(o)
                    total += len(o)
        return docs
