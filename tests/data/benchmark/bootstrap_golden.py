#!/usr/bin/env python3
"""Independent computation of the bootstrap golden values in tests/benchmark/bench_stats_test.cpp.

Plain Python (no numpy), written from the definitions, not from clgauge's C++:
  - Philox4x32-10 (Salmon et al., SC'11) with key {seed low, seed high} and counter
    {index low, index high, 0, 0}, checked against Random123's known-answer vector;
  - a draw c gives u24 = word0 >> 8 and the index floor(u24 * n / 2^24);
  - resample r draws len(a) indices into a (counters r*(na+nb) + i), then len(b) into b;
  - the interval is the 2.5% and 97.5% quantiles of the resampled median ratios, linearly
    interpolated between order statistics (position q * (R - 1)).
Run: python3 tests/data/benchmark/bootstrap_golden.py
"""
import math

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    c, k = list(ctr), list(key)
    for r in range(10):
        p0, p1 = M0 * c[0], M1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & MASK, (p0 >> 32) ^ c[3] ^ k[1], p0 & MASK]
        if r < 9:
            k = [(k[0] + W0) & MASK, (k[1] + W1) & MASK]
    return c


# Random123's known-answer test (kat_vectors: philox4x32 10, zero counter and key).
assert philox4x32_10([0, 0, 0, 0], [0, 0]) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]


def draw(seed, counter, n):
    w0 = philox4x32_10([counter & MASK, counter >> 32, 0, 0], [seed & MASK, seed >> 32])[0]
    return ((w0 >> 8) * n) >> 24


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def quantile(s, q):
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def bootstrap(a, b, seed, resamples):
    per = len(a) + len(b)
    ratios = []
    for r in range(resamples):
        ra = [a[draw(seed, r * per + i, len(a))] for i in range(len(a))]
        rb = [b[draw(seed, r * per + len(a) + j, len(b))] for j in range(len(b))]
        ratios.append(median(ra) / median(rb))
    ratios.sort()
    return median(a) / median(b), quantile(ratios, 0.025), quantile(ratios, 0.975)


A = [101.0, 98.5, 103.2, 99.9, 100.4, 97.8, 102.6, 100.0, 99.1, 104.3]
B = [90.2, 91.5, 89.9, 92.8, 90.0, 88.7, 91.1, 90.6, 93.4]
for value in bootstrap(A, B, 12345, 500):
    print(repr(value))
