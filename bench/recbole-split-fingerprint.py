#!/usr/bin/env python3
"""Which random generator made the reference split of ml-100k under the RecBole protocol?

Popularity and EASE are deterministic given a split, so their metrics fingerprint it. For each candidate generator
(seed 2020, users in ascending id, each user's interactions permuted and cut 80/10/10 by RecBole's counts) this prints
popularity's test metrics, and EASE's (lambda 400) for the NumPy RandomState candidate, next to the reference row of
issue 5 (popularity 0.1403 / 0.1202 / 0.2576 / 0.5663 / 0.1057; EASE 0.3351 / 0.2816 / 0.5327 / 0.8282 / 0.2251,
as NDCG@10 / Recall@10 / MRR@10 / Hit@10 / P@10). Popularity's NDCG and MRR also depend on how ties between equally
popular items are broken, so it is printed with ties broken both ways.
Needs python3-numpy (apt). Usage: bench/recbole-split-fingerprint.py [ml-100k folder]
"""
import math
import random
import sys
from collections import defaultdict

import numpy as np

folder = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/ml-100k"
rows = [tuple(map(int, line.split("\t"))) for line in open(f"{folder}/u.data")]
items_count = max(r[1] for r in rows)


def counts(n):
    """RecBole's _calcu_split_ids for [0.8, 0.1, 0.1]."""
    v = t = int(0.1 * n)
    train = n - v - t
    for _ in range(2):  # test, then validation, take one from train when 0 < 0.1 n < 1
        if train > 1 and 0 < 0.1 * n < 1:
            train -= 1
            if t == int(0.1 * n):
                t += 1
            else:
                v += 1
    return train, v, t


def split(order, permute):
    per_user = defaultdict(list)
    for u, i, _, _ in order:
        per_user[u].append(i)
    result = {}
    for u in sorted(per_user):
        items = permute(per_user[u])
        train, v, _ = counts(len(items))
        result[u] = (items[:train], items[train:train + v], items[train + v:])
    return result


def metrics(s, score_rows):
    total = defaultdict(float)
    users = 0
    for u, (train, valid, test) in s.items():
        if not test:
            continue
        users += 1
        scores = score_rows(u).copy()
        scores[0] = scores[train] = scores[valid] = -np.inf
        top = np.argsort(-scores, kind="stable")[:10]
        held = set(test)
        hits = [1 if i in held else 0 for i in top]
        dcg = sum(h / math.log2(k + 2) for k, h in enumerate(hits))
        idcg = sum(1 / math.log2(k + 2) for k in range(min(len(held), 10)))
        total["NDCG@10"] += dcg / idcg
        total["Recall@10"] += sum(hits) / len(held)
        total["MRR@10"] += next((1 / (k + 1) for k, h in enumerate(hits) if h), 0)
        total["Hit@10"] += 1 if any(hits) else 0
        total["P@10"] += sum(hits) / 10
    return " / ".join(f"{total[k] / users:.4f}" for k in ["NDCG@10", "Recall@10", "MRR@10", "Hit@10", "P@10"])


def popularity(s, ascending_ties):
    counts_by_item = np.zeros(items_count + 1)
    for train, _, _ in s.values():
        counts_by_item[train] += 1
    # A tiny tilt orders equally popular items by id, ascending or descending.
    ids = np.arange(items_count + 1)
    scores = counts_by_item + (-ids if ascending_ties else ids) * 1e-7
    return lambda u: scores


def ease(s, lam=400.0):
    x = np.zeros((max(s) + 1, items_count + 1))
    for u, (train, _, _) in s.items():
        x[u, train] = 1
    g = x.T @ x
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    b[np.diag_indices_from(b)] = 0
    scores = x @ b
    return lambda u: scores[u]


def numpy_legacy():
    rs = np.random.RandomState(2020)
    return lambda items: [items[i] for i in rs.permutation(len(items))]


def numpy_generator():
    g = np.random.default_rng(2020)
    return lambda items: [items[i] for i in g.permutation(len(items))]


def python_random():
    r = random.Random(2020)
    return lambda items: r.sample(items, len(items))


orders = {
    "file order": rows,
    "by user, time": sorted(rows, key=lambda r: (r[0], r[3])),
    "by user, item": sorted(rows, key=lambda r: (r[0], r[1])),
}
print("reference popularity  0.1403 / 0.1202 / 0.2576 / 0.5663 / 0.1057")
print("reference EASE 400    0.3351 / 0.2816 / 0.5327 / 0.8282 / 0.2251")
for name, order in orders.items():
    for generator in [numpy_legacy, numpy_generator, python_random]:
        s = split(order, generator())
        print(f"{name:14} {generator.__name__:16} popularity ties asc {metrics(s, popularity(s, True))}"
              f" | desc {metrics(s, popularity(s, False))}")
s = split(rows, numpy_legacy())
print(f"file order     numpy_legacy     EASE lambda 400 {metrics(s, ease(s))}")
