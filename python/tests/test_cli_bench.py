"""`arbiter bench detect` as a user runs it: a small seeded replay, JSON with every figure, the
same market for the same seed, and bad arguments refused."""
import json


def test_bench_detect_reports_a_small_replay(arbiter):
    out = arbiter("bench", "detect", "--chains", "2", "--pools", "120", "--tokens", "20", "--events", "3000", "--json").stdout
    r = json.loads(out)
    assert r["chains"] == 2 and r["poolsPerChain"] == 120 and r["events"] == 3000
    lat = r["latencyNs"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"]
    assert float(r["eventsPerSecond"]) > 0 and float(r["cyclesPerEvent"]) > 1 and r["maxCyclesPerPool"] <= 50
    # The counting allocator is linked in on Linux: a number, not null.
    assert r["allocationsPerEvent"] is not None and float(r["allocationsPerEvent"]) >= 0
    assert r["rssBytes"] > 10_000_000
    # Same seed, same market and stream: the same opportunities.
    again = json.loads(arbiter("bench", "detect", "--chains", "2", "--pools", "120", "--tokens", "20", "--events", "3000", "--json").stdout)
    assert again["published"] == r["published"] and again["cyclesPerEvent"] == r["cyclesPerEvent"]


def test_bench_detect_refuses_bad_arguments(arbiter):
    bad = arbiter("bench", "detect", "--pools", "500", "--tokens", "8", check=False)
    assert bad.returncode == 1 and "does not fit" in bad.stderr
    bad = arbiter("bench", "detect", "--events", "0", check=False)
    assert bad.returncode == 1 and "--events" in bad.stderr
