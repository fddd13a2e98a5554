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


def test_bench_statarb_reports_a_small_stream_and_is_seeded(arbiter):
    args = ("bench", "statarb", "--updates", "20000", "--pairs", "10", "--cointegration-every", "200", "--json")
    r = json.loads(arbiter(*args).stdout)
    assert r["updates"] == 20000 and r["pairs"] == 10 and float(r["updatesPerSecond"]) > 0
    lat = r["latencyNs"]
    assert lat["plain"]["count"] + lat["crossing"]["count"] + lat["cointegration"]["count"] == 20000
    assert lat["cointegration"]["count"] == 20000 // 200
    assert 0 < lat["plain"]["p50"] <= lat["plain"]["p99"] <= lat["plain"]["max"]
    # Cointegrated pairs signal; the gates stop some crossings; every crossing is accounted for.
    assert r["signals"] > 0 and r["crossings"] == r["signals"] + sum(r["gated"].values())
    again = json.loads(arbiter(*args).stdout)
    assert (again["signals"], again["reverts"], again["crossings"]) == (r["signals"], r["reverts"], r["crossings"])
    other = json.loads(arbiter(*args[:-1], "--seed", "2", "--json").stdout)
    assert (other["signals"], other["crossings"]) != (r["signals"], r["crossings"])


def test_bench_statarb_refuses_bad_arguments(arbiter):
    bad = arbiter("bench", "statarb", "--pairs", "0", check=False)
    assert bad.returncode == 1 and "--pairs" in bad.stderr


def test_bench_solana_builds_transactions_that_decode_and_verify(arbiter):
    """The benchmark's transactions are real: every one it built decoded and verified (it fails
    otherwise), and its shape is a v0 round trip under the packet limit."""
    r = json.loads(arbiter("bench", "solana", "--transactions", "200", "--json").stdout)
    assert r["transactions"] == 200 and 300 < r["averageBytes"] <= 1232
    for k in ("buildSignSerializeNs", "decodeVerifyNs"):
        assert 0 < r[k]["p50"] <= r[k]["p99"]
    assert arbiter("bench", "solana", "--transactions", "5", check=False).returncode == 1


def test_bench_replay_reads_back_every_input_it_recorded(arbiter):
    """The replay benchmark's recording read back through decode → state → detect: every input
    counted (the reset's pool reads, each block's head, logs and detection moment), every step
    a recording event, the same opportunities for the same seed; bad sizes refused."""
    args = ("bench", "replay", "--pools", "150", "--tokens", "20", "--logs-per-block", "40", "--blocks", "12", "--json")
    r = json.loads(arbiter(*args).stdout)
    assert r["inputs"] == 150 + 12 * (40 + 2) and r["steps"] == 1 + 12 * 5, r
    assert r["bytes"] > 12 * 40 * 20 and r["chunks"] >= 1 and float(r["inputsPerSecond"]) > 0, r
    again = json.loads(arbiter(*args).stdout)
    assert again["found"] == r["found"], (again, r)
    # Each pass from a fresh state: the reported figure is the median pass's, within the spread.
    rates = [float(x) for x in r["passInputsPerSecond"]]
    assert r["passes"] == 3 and len(rates) == 3 and rates == sorted(rates, reverse=True), r
    assert abs(float(r["inputsPerSecond"]) - rates[1]) <= 1, r
    one = json.loads(arbiter(*args, "--passes", "1").stdout)
    assert one["passes"] == 1 and len(one["passInputsPerSecond"]) == 1 and one["found"] == r["found"], one
    bad = arbiter("bench", "replay", "--pools", "500", "--tokens", "8", check=False)
    assert bad.returncode == 1 and "--pools" in bad.stderr, bad.stderr
    assert arbiter(*args, "--passes", "0", check=False).returncode == 1
