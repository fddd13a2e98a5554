#!/usr/bin/env python3
"""Writes Tests/Fixtures/signals/momentum.json: seeded price series and pandas' exponentially
weighted statistics of them, the truth for Arbiter's PriceMomentumTracker and EWStats.

Usage: gen_signal_vectors.py [--seed N] [--out FILE]

Every expected value comes from pandas (`ewm(..., adjust=False)`), never from Arbiter.
"""
import argparse
import json
import math
import os
import random

import pandas as pd

DEFAULT_SEED = 20261201
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "signals", "momentum.json")


def series(r: random.Random, n: int) -> list:
    """A geometric random walk with occasional jumps and quiet stretches."""
    p = r.uniform(0.5, 5000.0)
    out = []
    for _ in range(n):
        shock = r.gauss(0, 0.002)
        if r.random() < 0.03:
            shock += r.choice([-1, 1]) * r.uniform(0.01, 0.05)
        if r.random() < 0.1:
            shock = 0.0
        p *= math.exp(shock)
        out.append(p)
    return out


def vectors(seed: int, count: int) -> list:
    r = random.Random(seed)
    out = []
    for _ in range(count):
        prices = series(r, r.randint(2, 400))
        s = pd.Series(prices, dtype="float64")
        alpha60 = 2 / 61
        returns = pd.Series([math.log(b / a) for a, b in zip(prices, prices[1:])], dtype="float64")
        out.append({
            "prices": prices,
            "ema5": s.ewm(span=5, adjust=False).mean().tolist(),
            "ema15": s.ewm(span=15, adjust=False).mean().tolist(),
            "ema60": s.ewm(span=60, adjust=False).mean().tolist(),
            "var60": s.ewm(alpha=alpha60, adjust=False).var(bias=True).fillna(0.0).tolist(),
            "returnStd30": returns.ewm(span=30, adjust=False).std(bias=True).fillna(0.0).tolist() if len(returns) else [],
        })
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    v = vectors(a.seed, a.count)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"seed": a.seed, "source": f"pandas {pd.__version__}", "count": len(v), "vectors": v}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
