#!/usr/bin/python3
"""feature_probe.py — how much of the captions the image features predict.

A quick, fixed yardstick for choosing what goes into the feature vector
(src/describe/features.h): fit ridge regression from the (standardised)
features of the TRAIN images to the tf-idf bag of words of their captions,
then rank the 1000 DEV images for each of their 5000 captions by the cosine
between the caption's bag of words and each image's predicted one, and print
R@1, R@5, R@10 and the median rank.  Tooling only (numpy), never run by
imgdex.  Dev is only measured, never fitted.

    /usr/bin/python3 scripts/feature_probe.py --db /work/xfer/feat-v1.db
    ... --blocks deep_avg,heat --transform ssqrt --l2 --alpha 300

Blocks are named by the layout of the stored kind (LAYOUTS below, the same
as features.h).  With --dump FILE (written by bench/bench_features.c,
IMGDEX_FEATURES_DUMP=FILE) blocks may also be LAYER.POOL from the dump, e.g.
extern1.avg, c14_expand.g2, head4.max (pools avg, max, g2 = 2x2 grid means,
g3 = 3x3 grid means), mixed with the database's blocks.
"""
import json
import argparse
import os
import re
import sqlite3
import sys

import numpy as np

LAYOUTS = {
    "features/1": [("deep_avg", 480), ("deep_max", 480), ("deep_grid", 1920), ("head_avg", 128),
                   ("heat", 80), ("colour", 110), ("light", 13), ("texture", 18), ("people", 3),
                   ("faces", 3)],
}
LAYOUTS["features/2"] = LAYOUTS["features/1"] + [("wide_avg", 720), ("wide_max", 720), ("mid_avg", 528),
                                                 ("mid_max", 528)]

STOP = set("a an the of in on at to and is are with his her their its it this that for from by as be "
           "while into up down out over through near next front behind some two three one four".split())


def ranges(kind):
    out, at = {}, 0
    for name, n in LAYOUTS[kind]:
        out[name] = (at, at + n)
        at += n
    return out, at


def load_db(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    rows = db.execute("SELECT i.path, f.kind, f.dim, f.vec FROM features f JOIN images i ON i.id = f.image_id")
    feats, kind = {}, None
    for p, k, dim, vec in rows:
        kind = kind or k
        if k != kind:
            sys.exit("%s: mixed feature kinds %s and %s" % (path, kind, k))
        feats[os.path.basename(p)] = np.frombuffer(vec, dtype="<f2").astype(np.float32)
    return feats, kind


def default_data():
    """$IMGDEX_DATA/flickr8k, else ../shared/data/flickr8k from the source tree (or its worktree's parent)."""
    if os.environ.get("IMGDEX_DATA"):
        return os.path.join(os.environ["IMGDEX_DATA"], "flickr8k")
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for up in ("..", "../.."):
        d = os.path.normpath(os.path.join(top, up, "shared/data/flickr8k"))
        if os.path.isdir(d):
            return d
    return os.path.normpath(os.path.join(top, "../shared/data/flickr8k"))


def words(s):
    return [w for w in re.findall(r"[a-z]+", s.lower()) if w not in STOP]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--data", default=default_data(), help="Flickr8k folder (captions.tsv, train.txt, dev.txt)")
    ap.add_argument("--blocks", default="all", help="comma-separated block names, or 'all'")
    ap.add_argument("--transform", default="none", choices=["none", "ssqrt", "log1p"],
                    help="applied to each raw value before standardising")
    ap.add_argument("--l2", action="store_true", help="L2-normalise each block after standardising")
    ap.add_argument("--alpha", default="", help="ridge strengths, comma separated (default: 1, 3, 10 x feature "
                    "count); the best on dev R@10 is reported")
    ap.add_argument("--min-count", type=int, default=5, help="vocabulary floor on train captions")
    ap.add_argument("--weights", default="", help="block=weight,... after --l2 (default 1)")
    ap.add_argument("--dump", help="layer dump of bench_features (IMGDEX_FEATURES_DUMP)")
    a = ap.parse_args()

    data = os.path.abspath(a.data)
    feats, kind = load_db(a.db)
    rng, dim = ranges(kind)
    dump_rows, dump_rng = {}, {}
    if a.dump:
        meta = json.load(open(a.dump + ".json"))
        width = 15 * sum(l["c"] for l in meta["layers"])
        D = np.fromfile(a.dump, dtype="<f2")
        D = D[: (D.size // width) * width].reshape(-1, width)
        dump_rows = {f: i for i, f in enumerate(meta["images"][: D.shape[0]])}
        at = 0
        for l in meta["layers"]:
            c = l["c"]
            for pool, n in (("avg", 1), ("max", 1), ("g2", 4), ("g3", 9)):
                dump_rng[l["name"] + "." + pool] = (at, at + n * c)
                at += n * c
    blocks = list(rng) if a.blocks == "all" else a.blocks.split(",")
    for b in blocks:
        if b not in rng and b not in dump_rng:
            sys.exit("unknown block %s (have %s)" % (b, ", ".join(list(rng) + list(dump_rng))))
    if any(b in dump_rng for b in blocks):
        feats = {f: v for f, v in feats.items() if f in dump_rows}
    weights = dict((kv.split("=")[0], float(kv.split("=")[1])) for kv in a.weights.split(",") if kv)

    split = {s: [l.strip() for l in open(os.path.join(data, s + ".txt")) if l.strip()] for s in ("train", "dev")}
    caps = {}
    for line in open(os.path.join(data, "captions.tsv"), encoding="utf-8"):
        f, _, c = line.rstrip("\n").partition("\t")
        caps.setdefault(f, []).append(c)
    missing = [f for s in split.values() for f in s if f not in feats]
    if missing:
        print("note: %d images have no features (e.g. %s); left out" % (len(missing), missing[0]))
    train = [f for f in split["train"] if f in feats]
    dev = [f for f in split["dev"] if f in feats]

    def matrix(files):
        cols = []
        for b in blocks:
            if b in rng:
                lo, hi = rng[b]
                cols.append(np.stack([feats[f][lo:hi] for f in files]))
            else:
                lo, hi = dump_rng[b]
                cols.append(D[[dump_rows[f] for f in files], lo:hi].astype(np.float32))
        X = np.hstack(cols).astype(np.float64)
        if a.transform == "ssqrt":
            X = np.sign(X) * np.sqrt(np.abs(X))
        elif a.transform == "log1p":
            X = np.sign(X) * np.log1p(np.abs(X))
        return X

    Xtr, Xdv = matrix(train), matrix(dev)
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
    Xtr, Xdv = (Xtr - mu) / sd, (Xdv - mu) / sd
    parts_tr, parts_dv = [], []
    at = 0
    for b in blocks:
        width = (rng[b] if b in rng else dump_rng[b])
        lo, hi = at, at + width[1] - width[0]
        at = hi
        ptr, pdv = Xtr[:, lo:hi], Xdv[:, lo:hi]
        if a.l2:
            # Same scale for every block: a block's total variance is its width.
            s = np.sqrt(hi - lo)
            ptr = ptr / (np.linalg.norm(ptr, axis=1, keepdims=True) + 1e-6) * s
            pdv = pdv / (np.linalg.norm(pdv, axis=1, keepdims=True) + 1e-6) * s
        w = weights.get(b, 1.0)
        parts_tr.append(ptr * w)
        parts_dv.append(pdv * w)
    Xtr, Xdv = np.hstack(parts_tr), np.hstack(parts_dv)

    # Vocabulary and idf from the train captions only.
    count = {}
    for f in train:
        for c in caps.get(f, []):
            for w in set(words(c)):
                count[w] = count.get(w, 0) + 1
    vocab = sorted(w for w, n in count.items() if n >= a.min_count)
    index = {w: i for i, w in enumerate(vocab)}
    ncap = sum(len(caps.get(f, [])) for f in train)
    idf = np.log(ncap / np.array([count[w] for w in vocab], dtype=np.float64))

    def bow(c):
        v = np.zeros(len(vocab))
        for w in words(c):
            if w in index:
                v[index[w]] += 1
        v *= idf
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    Ytr = np.stack([np.mean([bow(c) for c in caps[f]], axis=0) for f in train])
    Q, truth = [], []
    for i, f in enumerate(dev):
        for c in caps[f]:
            Q.append(bow(c))
            truth.append(i)
    Q, truth = np.stack(Q).astype(np.float32), np.array(truth)

    # Ridge in float32 through the Gram matrix: P = Xdv (X'X + alpha I)^-1 X'Y,
    # solved for Xdv's rows, then times X'Y (cheaper than the weights).
    Xtr, Xdv = Xtr.astype(np.float32), Xdv.astype(np.float32)
    G, XtY = Xtr.T @ Xtr, Xtr.T @ Ytr.astype(np.float32)

    def evaluate(alpha):
        M = np.linalg.solve(G + alpha * np.eye(G.shape[0], dtype=np.float32), Xdv.T).T
        P = M @ XtY
        P /= np.linalg.norm(P, axis=1, keepdims=True) + 1e-9
        S = Q @ P.T
        ranks = (S > S[np.arange(len(truth)), truth][:, None]).sum(1) + 1
        return [100.0 * np.mean(ranks <= k) for k in (1, 5, 10)] + [int(np.median(ranks))]

    alphas = [float(x) for x in a.alpha.split(",")] if a.alpha else \
        [Xtr.shape[1] * m for m in (1, 3, 10)]
    results = [(alpha, evaluate(alpha)) for alpha in alphas]
    best = max(results, key=lambda r: (r[1][2], r[1][0]))   # by R@10, then R@1
    print("kind %s  blocks %s  transform %s%s  dim %d  vocab %d  train %d  dev %d" %
          (kind, ",".join(blocks), a.transform, " +l2" if a.l2 else "", Xtr.shape[1], len(vocab),
           len(train), len(dev)))
    for alpha, r in results:
        print("  alpha %-8g R@1 %.1f  R@5 %.1f  R@10 %.1f  median rank %d%s" %
              ((alpha,) + tuple(r) + ("  <- best" if (alpha, r) == best else "",)))
    print("dev R@1 %.1f  R@5 %.1f  R@10 %.1f  median rank %d  (alpha %g)" % (tuple(best[1]) + (best[0],)))


if __name__ == "__main__":
    main()
