"""Agreement between two raters (two judges, or a judge and human labels).

* accuracy: share of items where both give the same pass/fail verdict;
* Cohen's kappa: that agreement corrected for chance, (p_o - p_e) / (1 - p_e);
* Spearman's rho on the scores: Pearson correlation of their ranks (ties get their average rank).
"""

from __future__ import annotations

import math


def accuracy(a: list[bool], b: list[bool]) -> float | None:
    return sum(x == y for x, y in zip(a, b)) / len(a) if a else None


def cohen_kappa(a: list, b: list) -> float | None:
    n = len(a)
    if not n:
        return None
    labels = set(a) | set(b)
    p_o = sum(x == y for x, y in zip(a, b)) / n
    p_e = sum((a.count(k) / n) * (b.count(k) / n) for k in labels)
    if p_e == 1:
        return 1.0 if p_o == 1 else 0.0
    return (p_o - p_e) / (1 - p_e)


def _ranks(xs: list[float]) -> list[float]:
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: list[float], b: list[float]) -> float | None:
    if len(a) < 3:
        return None
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = math.sqrt(sum((x - ma) ** 2 for x in ra))
    vb = math.sqrt(sum((y - mb) ** 2 for y in rb))
    return cov / (va * vb) if va and vb else None
