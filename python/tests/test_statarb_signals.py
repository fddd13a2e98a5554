"""The statistical-arbitrage signals (`arbiter util stats`) against outside truth on seeded
series: statsmodels (`adfuller`, `coint`, MacKinnon's p-values and critical values, OLS), numpy
(Pearson correlation on each window, a rescaled-range reference) and pandas (rolling mean and
standard deviation). Series: random walks, AR(1) at several φ, cointegrated pairs with a known
β, trending walks. Every expected value comes from those libraries, never from Arbiter.

Tolerances: correlation 1e-9 absolute (the tracker's incremental sums against numpy's two-pass
on each window); Bollinger mean and deviation 1e-9 relative to the spread's scale; ADF and
Engle-Granger statistics 1e-7 relative (QR against statsmodels' pseudo-inverse), p-values 1e-7
absolute, the AIC lag exactly; MacKinnon tables 1e-12; R/S Hurst 1e-9."""
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp
from statsmodels.tsa.stattools import adfuller, coint

SEED = 20261204


def kinds(rng, n):
    """One seeded series of each kind, length n, as log prices near a realistic level."""
    level = rng.uniform(-2, 9)
    walk = level + np.cumsum(rng.normal(0, 0.01, n))
    out = {"walk": walk}
    for phi in (0.2, 0.5, 0.8, 0.95):
        e = np.zeros(n)
        for i in range(1, n):
            e[i] = phi * e[i - 1] + rng.normal(0, 0.01)
        out[f"ar{phi}"] = level + e
    out["trend"] = level + np.cumsum(rng.normal(rng.choice([-1, 1]) * 0.002, 0.01, n))
    return out


def series(count, lo=60, hi=300):
    rng = np.random.default_rng(SEED)
    for _ in range(count):
        n = int(rng.integers(lo, hi))
        for name, s in kinds(rng, n).items():
            yield name, s, rng


def pair(rng, n):
    """A cointegrated pair: y = α + β·x + AR(1) noise, x a random walk; β known."""
    beta = rng.uniform(0.3, 2.5)
    alpha = rng.uniform(-1, 1)
    x = rng.uniform(0, 8) + np.cumsum(rng.normal(0, 0.01, n))
    e = np.zeros(n)
    phi = rng.choice([0.0, 0.5, 0.9])
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal(0, 0.005)
    return alpha + beta * x + e, x, beta


def ask(arbiter, requests):
    out = arbiter("util", "stats", stdin="\n".join(json.dumps(r) for r in requests) + "\n").stdout.splitlines()
    assert len(out) == len(requests)
    return [json.loads(line) for line in out]


def test_rolling_correlation_is_numpys_on_every_window(arbiter):
    rng = np.random.default_rng(SEED)
    requests, truth = [], []
    for _ in range(520):
        n = int(rng.integers(61, 260))
        if rng.random() < 0.5:
            y, x, _ = pair(rng, n)
        else:
            x = rng.uniform(0, 9) + np.cumsum(rng.normal(0, 0.01, n))
            y = rng.uniform(0, 9) + np.cumsum(rng.normal(0, 0.01, n))
        requests.append({"op": "corr", "x": x.tolist(), "y": y.tolist(), "window": 60})
        truth.append([None] * 59 + [float(np.corrcoef(x[i - 59:i + 1], y[i - 59:i + 1])[0, 1]) for i in range(59, n)])
    checked = 0
    for got, want in zip(ask(arbiter, requests), truth):
        for g, w in zip(got["r"], want):
            if w is None:
                assert g is None
            else:
                assert abs(g - w) < 1e-9, (g, w)
                checked += 1
    assert checked > 50_000


def test_adf_statistic_lag_and_p_value_are_statsmodels(arbiter):
    requests, truth = [], []
    for name, s, _ in series(90):
        for regression in ("c", "n"):
            requests.append({"op": "adf", "x": s.tolist(), "regression": regression})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                stat, p, lag, nobs, *_ = adfuller(s, regression=regression, autolag="AIC", result_object=False)
            truth.append((name, stat, p, lag, nobs))
    assert len(requests) >= 1000
    for got, (name, stat, p, lag, nobs) in zip(ask(arbiter, requests), truth):
        assert got["usedLag"] == lag and got["nobs"] == nobs, (name, got, lag)
        assert math.isclose(got["statistic"], stat, rel_tol=1e-7), (name, got, stat)
        assert abs(got["pValue"] - p) < 1e-7, (name, got, p)


def test_engle_granger_is_statsmodels_coint_and_finds_known_betas(arbiter):
    rng = np.random.default_rng(SEED + 1)
    requests, truth = [], []
    for i in range(520):
        n = int(rng.integers(80, 300))
        if i % 4 == 3:
            y0 = rng.uniform(0, 8) + np.cumsum(rng.normal(0, 0.01, n))  # not cointegrated
            y1 = rng.uniform(0, 8) + np.cumsum(rng.normal(0, 0.01, n))
            beta = None
        else:
            y0, y1, beta = pair(rng, n)
        requests.append({"op": "coint", "y0": y0.tolist(), "y1": y1.tolist()})
        ols = OLS(y0, np.column_stack([y1, np.ones(n)])).fit()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stat, p, _ = coint(y0, y1)
        truth.append((stat, p, ols.params[0], ols.params[1], beta))
    errors = []
    for got, (stat, p, b, a, beta) in zip(ask(arbiter, requests), truth):
        assert math.isclose(got["statistic"], stat, rel_tol=1e-7), (got, stat)
        assert abs(got["pValue"] - p) < 1e-7, (got, p)
        assert math.isclose(got["hedgeRatio"], b, rel_tol=1e-9) and math.isclose(got["intercept"], a, rel_tol=1e-7, abs_tol=1e-9)
        if beta is not None and p < 0.05:
            errors.append(abs(got["hedgeRatio"] - beta) / beta)
    # Most cointegrated pairs are found, and their hedge ratio is the one they were made with
    # (within OLS's error on a short random-walk range).
    assert len(errors) > 250
    assert np.median(errors) < 0.02 and np.quantile(errors, 0.95) < 0.15


def test_mackinnon_tables_are_statsmodels(arbiter):
    requests = [{"op": "crit", "series": n, "nobs": nobs} for n in range(1, 6) for nobs in (None, 50, 100, 500)]
    for got, (n, nobs) in zip(ask(arbiter, requests), [(n, nobs) for n in range(1, 6) for nobs in (None, 50, 100, 500)]):
        want = mackinnoncrit(N=n, regression="c", nobs=np.inf if nobs is None else nobs)
        assert all(abs(g - w) < 1e-12 for g, w in zip(got["critical"], want))
    # The p-value polynomials at the statistics Arbiter computed, across both sides of the
    # small/large-p switch: exactly mackinnonp's.
    rng = np.random.default_rng(SEED + 2)
    requests = []
    for _ in range(300):
        x = np.cumsum(rng.normal(0, 1, int(rng.integers(40, 200)))) * rng.uniform(0.1, 3)
        if rng.random() < 0.5:
            x = x - 0.9 * np.concatenate([[0], x[:-1]])  # nearer stationary: large statistics
        requests.append({"op": "adf", "x": x.tolist(), "regression": str(rng.choice(["n", "c"])), "maxlag": 0})
    sides = set()
    for r, got in zip(requests, ask(arbiter, requests)):
        assert abs(got["pValue"] - mackinnonp(got["statistic"], regression=r["regression"], N=1)) < 1e-12
        sides.add(got["statistic"] <= {"n": -1.04, "c": -1.61}[r["regression"]])
    assert sides == {True, False}


def test_bollinger_bands_are_pandas_rolling_and_signals_cross_them(arbiter):
    rng = np.random.default_rng(SEED + 3)
    requests, truth = [], []
    for _ in range(520):
        n = int(rng.integers(25, 250))
        a, b, beta = pair(rng, n)
        beta = float(rng.choice([1.0, beta]))
        s = pd.Series(a - beta * b)
        requests.append({"op": "spread", "a": a.tolist(), "b": b.tolist(), "beta": beta, "window": 20, "width": 2})
        truth.append((s, s.rolling(20).mean().tolist(), s.rolling(20).std().tolist()))
    entries = reverts = 0
    for got, (s, mean, std) in zip(ask(arbiter, requests), truth):
        scale = float(s.abs().max()) + 1e-300
        previous = None
        for i, (gm, gd, sig) in enumerate(zip(got["mean"], got["deviation"], got["signal"])):
            if i < 19:
                assert gm is None and sig == "none"
                continue
            assert abs(gm - mean[i]) < 1e-9 * scale and abs(gd - std[i]) < 1e-9 * scale
            z = (s[i] - mean[i]) / std[i]
            want = "none"
            if previous is not None:
                if z > 2 and previous <= 2:
                    want = "enterShort"
                elif z < -2 and previous >= -2:
                    want = "enterLong"
                elif (z <= 0) != (previous <= 0):
                    want = "revert"
            # Within rounding of a band or the mean the two may differ; elsewhere they must agree.
            if min(abs(abs(z) - 2), abs(z), abs(abs(previous or 1) - 2), abs(previous or 1)) > 1e-9:
                assert sig == want, (i, z, previous, sig)
            entries += sig.startswith("enter")
            reverts += sig == "revert"
            previous = z
    assert entries > 200 and reverts > 1000


def rescaled_range_hurst(x, sizes):
    """A reference R/S: for each chunk size, mean R/S over chunks; H the slope of log R/S on log n."""
    logs_n, logs_rs = [], []
    for n in sizes:
        chunks = np.asarray(x).reshape(-1, n)
        dev = chunks - chunks.mean(axis=1, keepdims=True)
        cum = np.cumsum(dev, axis=1)
        r = np.maximum(cum.max(axis=1), 0) - np.minimum(cum.min(axis=1), 0)
        s = chunks.std(axis=1)
        ok = s > 0
        if ok.any():
            logs_n.append(math.log(n))
            logs_rs.append(math.log(float(np.mean(r[ok] / s[ok]))))
    return float(np.polyfit(logs_n, logs_rs, 1)[0])


def test_hurst_is_the_reference_rescaled_range_and_separates_regimes(arbiter):
    rng = np.random.default_rng(SEED + 4)
    requests, kinds_ = [], []
    for _ in range(520):
        n = int(rng.integers(101, 220))
        kind = rng.choice(["walk", "ar0.5", "trend"])
        if kind == "walk":
            x = np.cumsum(rng.normal(0, 0.01, n))
        elif kind == "ar0.5":
            x = np.zeros(n)
            for i in range(1, n):
                x[i] = 0.5 * x[i - 1] + rng.normal(0, 0.01)
        else:
            steps = np.zeros(n)
            for i in range(1, n):
                steps[i] = 0.8 * steps[i - 1] + rng.normal(0, 0.01)
            x = np.cumsum(steps)
        requests.append({"op": "hurst", "x": x.tolist(), "window": 100})
        kinds_.append((kind, x))
    sizes = [n for n in range(8, 101) if 100 % n == 0]
    by_kind = {"walk": [], "ar0.5": [], "trend": []}
    for got, (kind, x) in zip(ask(arbiter, requests), kinds_):
        h = got["hurst"]
        assert all(v is None for v in h[:100])
        for i in range(100, len(x)):
            want = rescaled_range_hurst(np.diff(x[i - 100:i + 1]), sizes)
            assert abs(h[i] - want) < 1e-9, (kind, i, h[i], want)
        by_kind[kind].append(h[-1])
    # Mean-reverting levels have anti-persistent increments; persistent steps trend.
    assert np.mean(by_kind["ar0.5"]) < 0.5 < np.mean(by_kind["trend"])
    assert np.mean(by_kind["ar0.5"]) < np.mean(by_kind["walk"]) < np.mean(by_kind["trend"])


@pytest.mark.parametrize("request_, error", [
    ({"op": "corr", "x": [1, 2], "y": [1]}, "differ in length"),
    ({"op": "adf", "x": [1, 1, 1, 1, 1, 1, 1, 1]}, "constant"),
    ({"op": "adf", "x": [1, 2, 3], "maxlag": 5}, "too short"),
    ({"op": "coint", "y0": "nope", "y1": []}, "y0"),
    ({"op": "what"}, "op:"),
])
def test_bad_requests_answer_an_error_line(arbiter, request_, error):
    out = arbiter("util", "stats", stdin=json.dumps(request_) + "\nnot json\n").stdout.splitlines()
    assert len(out) == 2 and error in json.loads(out[0])["error"] and "line 2" in json.loads(out[1])["error"]
