#!/usr/bin/python3
"""tune-fusion.py — choose the weights of search's learnt terms on the dev split.

Tooling only (never at run time).  Input: a dump of every scored image's
score parts written by search_run under IMGDEX_RANK_DUMP=FILE during
`imgdex eval --per-query PQ` on the dev split, the per-query file of that
run, and the database (for image names).  It recomputes the fused score of
src/query/score.c for a grid of (W_EMB, W_TAG, EMB_MID, EMB_T, TAG_FULL)
and prints Recall@1/5/10, median rank and MRR for each, best MRR first.

    scripts/tune-fusion.py DUMP PQ.tsv DB [--grid small|full]
"""
import math
import sqlite3
import sys
from collections import defaultdict

import numpy as np


def load(dump, pq, db):
    names = {}
    for i, p in sqlite3.connect(db).execute("SELECT id, path FROM images"):
        names[i] = p.rsplit("/", 1)[-1]
    want = {}
    total = None
    with open(pq) as f:
        next(f)
        for line in f:
            c = line.rstrip("\n").split("\t")
            want[c[5]] = c[3]
    rows = defaultdict(list)
    with open(dump) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            tags = [float(x) for x in c[6].split(",")] if c[6] else []
            rows[c[0]].append((int(c[1]), float(c[2]), float(c[3]), float(c[4]), float(c[5]), tags))
    queries = []
    for q, rs in rows.items():
        if q not in want:
            continue
        ids = np.array([r[0] for r in rs])
        tgt = np.array([names.get(i) == want[q] for i in ids])
        num = np.array([r[1] for r in rs])
        den = np.array([r[2] for r in rs])
        pen = np.array([r[3] for r in rs])
        cos = np.array([r[4] for r in rs])
        nt = max((len(r[5]) for r in rs), default=0)
        tags = np.array([r[5] + [0.0] * (nt - len(r[5])) for r in rs]) if nt else np.zeros((len(rs), 0))
        queries.append((tgt, num, den, pen, cos, tags))
    return queries, len(names)


def metrics(queries, total, w_emb, w_tag, mid, t, full, structured=True):
    ranks = []
    for tgt, num, den, pen, cos, tags in queries:
        n = num.copy() if structured else np.zeros_like(num)
        d = den.copy() if structured else np.zeros_like(den)
        if not structured:
            pen = np.zeros_like(pen)
        has = cos > -8
        e = 1.0 / (1.0 + np.exp(-(cos - mid) / t))
        n += np.where(has, w_emb * e, 0)
        d += np.where(has, w_emb, 0)
        if tags.shape[1]:
            tp = np.minimum(1.0, tags / full).mean(axis=1)
            n += w_tag * tp
            d += w_tag
        s = np.where(d > 0, n / np.maximum(d, 1e-9), 0) - pen
        ret = s > 0
        nret = int(ret.sum())
        if not tgt.any() or not ret[tgt].any():
            ranks.append(nret + (total - nret + 1) / 2.0)
            continue
        st = s[tgt][0]
        # ties: the expected position among equal scores
        better = int((s[ret] > st).sum())
        equal = int((s[ret] == st).sum())
        ranks.append(better + (equal + 1) / 2.0)
    r = np.array(ranks)
    return (float((r <= 1).mean()), float((r <= 5).mean()), float((r <= 10).mean()), float(np.median(r)),
            float((1.0 / r).mean()))


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 1
    queries, total = load(sys.argv[1], sys.argv[2], sys.argv[3])
    full_grid = "--grid" in sys.argv and sys.argv[sys.argv.index("--grid") + 1] == "full"
    print(f"{len(queries)} queries, {total} images")
    res = []
    w_embs = [0, 0.5, 1, 2, 4, 8, 16] if full_grid else [0, 1, 2, 4, 8]
    w_tags = [0, 0.25, 0.5, 1, 2, 4] if full_grid else [0, 0.5, 1, 2]
    mids = [0.1, 0.2, 0.3, 0.4] if full_grid else [0.2, 0.3]
    ts = [0.05, 0.1, 0.2, 0.5] if full_grid else [0.1, 0.3]
    fulls = [0.3, 0.5, 1.0]
    for we in w_embs:
        for wt in w_tags:
            for mid in mids:
                for t in ts:
                    for f in fulls:
                        if we == 0 and (mid, t) != (mids[0], ts[0]):
                            continue
                        if wt == 0 and f != fulls[0]:
                            continue
                        m = metrics(queries, total, we, wt, mid, t, f)
                        res.append((m[4], we, wt, mid, t, f, m))
    res.sort(reverse=True)
    print("w_emb w_tag emb_mid emb_t tag_full |   R@1   R@5  R@10 median    MRR")
    for r in res[:25]:
        m = r[6]
        print(f"{r[1]:5} {r[2]:5} {r[3]:7} {r[4]:5} {r[5]:8} | {m[0]:.3f} {m[1]:.3f} {m[2]:.3f} {m[3]:6.1f} {m[4]:.4f}")
    best = res[0]
    for label, we, wt, st in (("structured only", 0, 0, True), ("embedding only", 1, 0, False),
                              ("tags only", 0, 1, False), ("structured + embedding", best[1], 0, True),
                              ("structured + tags", 0, best[2] or 1, True)):
        m = metrics(queries, total, we, wt, best[3], best[4], best[5], st)
        print(f"{label}: R@1 {m[0]:.3f} R@5 {m[1]:.3f} R@10 {m[2]:.3f} median {m[3]:.1f} MRR {m[4]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
