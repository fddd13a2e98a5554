"""`arbiter run` split across processes over a real redis-server: two detector processes (one
per partition) and one consumer. The consumer is killed mid-stream and restarted under its
name: it receives every opportunity it had not acknowledged, nothing stays pending, and an
entry with a tampered signature is rejected, counted and dead-lettered."""
import json
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools.devnet.lab_config import lab_config
from tools.devnet.testing import Devnet, Redis, free_port, pool_mismatches

from test_cli_run import Run

CHAINS = [("lab-a", 1347, "P1"), ("lab-b", 1348, "P3")]
KEYS = "k2:" + "22" * 32 + ",k1:" + "11" * 32


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("redis"))
    redis = Redis()
    with ThreadPoolExecutor(2) as pool:
        devnets = list(pool.map(lambda c: Devnet(c[1], True, tmp, extra=["--market", "--block-time", "0.5", "--seed", str(c[1])]), CHAINS))
    config = os.path.join(tmp, "lab.toml")
    with open(config, "w") as f:
        f.write(lab_config([(name, d.manifest) for (name, _, _), d in zip(CHAINS, devnets)], partitions={n: p for n, _, p in CHAINS}))
    yield config, redis, devnets
    for d in devnets:
        d.stop()
    redis.stop()


def test_split_processes_lose_nothing_and_reject_forgeries(arbiter, setup):
    config, redis, _ = setup
    binary = os.environ.get("ARBITER_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "arbiter"))
    env = {"ARBITER_BUS_KEYS": KEYS}
    url = f"redis://127.0.0.1:{redis.port}"
    common = ["--config", config, "--redis", url]
    detectors = [Run(binary, [*common, "--role", "detector", "--partition", p, "--min-profit-bps", "0"], env) for _, _, p in CHAINS]
    consumer = Run(binary, [*common, "--role", "executor", "--consumer", "exec-1", "--json"], env)
    streams = {p: f"arb:opportunities:{p}" for _, _, p in CHAINS}
    restarted = None
    try:
        consumer.wait(lambda: len(consumer.lines) >= 3, 240, "three opportunities consumed")
        first = list(consumer.lines)
        consumer.proc.send_signal(signal.SIGKILL)  # mid-stream: no goodbye
        consumer.proc.wait()
        # While it is down the detectors go on publishing; and a forged entry arrives.
        time.sleep(3)
        entry_id, fields = redis.entries(streams["P1"])[-1]
        data = bytearray(fields[b"d"])
        data[-5] ^= 0x01
        redis.command("XADD", streams["P1"], "*", "v", fields[b"v"], "k", fields[b"k"], "d", bytes(data), "s", fields[b"s"])
        published = lambda: {(p, i) for p, s in streams.items() for i, f in redis.entries(s) if f.get(b"d") != bytes(data)}
        restarted = Run(binary, [*common, "--role", "executor", "--consumer", "exec-1", "--json"], env)
        got = lambda: {(l["partition"], l["entry"]) for l in first + restarted.lines}
        # The detectors never stop publishing here, so the target is what was published by the
        # restart: the backlog (the killed consumer's unacknowledged entries and all that came
        # while it was down) is delivered while new entries keep arriving. (Comparing with a
        # live XRANGE races every new entry published between the two reads.)
        backlog = published()
        restarted.wait(lambda: got() >= backlog and any("rejected 1" in l for l in restarted.errors), 240,
                       "the backlog and the rejection")
        for d in detectors:
            d.stop()
        time.sleep(1)
        restarted.wait(lambda: got() >= published(), 60, "the last opportunities")
        assert got() == published(), (sorted(published() - got())[:5], sorted(got() - published())[:5])
        # Every line is a valid opportunity of the chain of its partition.
        ids = {p: i for _, i, p in CHAINS}
        for l in first + restarted.lines:
            assert l["opportunity"]["chains"][0] == ids[l["partition"]]
        # Nothing is left pending in the group, and the forgery was dead-lettered.
        time.sleep(1)
        for s in streams.values():
            assert redis.command("XPENDING", s, "executors")[0] == 0
        dead = redis.entries(streams["P1"] + ":dead")
        assert [f[b"reason"] for _, f in dead] == [b"signature"]
        assert restarted.stop() == 0
        assert any("rejected 1" in l and "dead 1" in l for l in restarted.errors)
        assert len(published()) >= 3
    finally:
        for r in detectors + [consumer] + ([restarted] if restarted else []):
            if r.proc.poll() is None:
                r.stop()


def http_get(url, key=None):
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, headers={"X-API-Key": key} if key else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_run_serves_the_operator_api_and_is_not_ready_without_its_bus(setup):
    """`arbiter run --http`: the API with the keys from ARBITER_API_KEYS; /ready is 200 once the chain
    has caught up and the bus answers, 503 naming Redis once it is gone; SIGTERM ends it and frees the port."""
    config, _, devnets = setup
    redis = Redis()  # its own server: this test stops it
    binary = os.environ.get("ARBITER_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "arbiter"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    run = Run(binary, ["--config", config, "--redis", f"redis://127.0.0.1:{redis.port}", "--role", "detector", "--partition", "P1",
                       "--min-profit-bps", "0", "--http", f"127.0.0.1:{port}"], {"ARBITER_BUS_KEYS": KEYS, "ARBITER_API_KEYS": "first-key, second-key"})
    try:
        run.wait(lambda: any(f"operator API at {base}" in l for l in run.errors), 120, "the operator API")
        assert http_get(base + "/health") == (200, '{"status":"up"}')
        assert http_get(base + "/ready")[0] == 401 and http_get(base + "/ready", "first")[0] == 401
        run.wait(lambda: http_get(base + "/ready", "second-key")[0] == 200, 120, "ready")
        assert json.loads(http_get(base + "/ready", "first-key")[1]) == {"ready": True, "reasons": []}
        status, chains = http_get(base + "/api/chains", "first-key")
        assert status == 200 and [c["name"] for c in json.loads(chains)] == ["lab-a"]
        # The market state it holds, pool by pool, is the node's at the block it is at.
        status, pools = http_get(base + f"/api/pools?chain={CHAINS[0][1]}", "first-key")
        answer = json.loads(pools)
        assert status == 200 and answer["block"] is not None and len(answer["pools"]) >= 4, answer
        assert {p["kind"] for p in answer["pools"]} >= {"uniswapV2", "uniswapV3"}, answer
        assert pool_mismatches(devnets[0].http, answer) == []
        assert http_get(base + "/api/pools?chain=1", "first-key")[0] == 404
        # A detector keeps no journal: no trades, and nothing made up.
        assert http_get(base + "/api/trades", "first-key") == (200, "[]")
        run.wait(lambda: 'arbiter_opportunities_total{kind=' in http_get(base + "/metrics", "first-key")[1], 120, "an opportunity counted")
        metrics = http_get(base + "/metrics", "first-key")[1]
        assert 'partition="P1"' in metrics and 'arbiter_rpc_request_seconds_count{chain="lab-a"' in metrics, metrics[:2000]
        redis.stop()
        run.wait(lambda: http_get(base + "/ready", "first-key")[0] == 503, 60, "not ready without the bus")
        body = json.loads(http_get(base + "/ready", "first-key")[1])
        assert body["ready"] is False and any(r.startswith(f"bus: redis 127.0.0.1:{redis.port}") for r in body["reasons"]), body
        started = time.time()
        assert run.stop() is not None and time.time() - started < 20
    finally:
        if run.proc.poll() is None:
            run.stop()
        if redis.proc.poll() is None:
            redis.stop()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
