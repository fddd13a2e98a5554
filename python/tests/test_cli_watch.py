"""`arbiter watch` against three lab chains with their market drivers: a config generated from
the labs' manifests (tools/devnet/lab_config.py), JSON status lines, each chain's head advancing
and its state following it."""
import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools.devnet.lab_config import lab_config
from tools.devnet.testing import Devnet

CHAINS = [("lab-ethereum", 1337), ("lab-optimism", 1338), ("lab-blast", 1339)]


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("watch"))
    with ThreadPoolExecutor(3) as pool:
        devnets = list(pool.map(lambda c: Devnet(c[1], True, tmp, extra=["--market", "--block-time", "0.5", "--seed", str(c[1])]), CHAINS))
    config = os.path.join(tmp, "lab.toml")
    with open(config, "w") as f:
        f.write(lab_config([(name, d.manifest) for (name, _), d in zip(CHAINS, devnets)]))
    yield config, devnets
    for d in devnets:
        d.stop()


def test_watch_follows_three_lab_chains(arbiter, labs):
    config, devnets = labs
    out = arbiter("watch", "--config", config, "--seconds", "8", "--interval", "0.5", "--json").stdout
    lines = [json.loads(l) for l in out.splitlines()]
    for (name, chain_id), devnet in zip(CHAINS, devnets):
        mine = [l for l in lines if l["chain"] == name]
        assert len(mine) >= 12, name
        assert all(l["chainId"] == chain_id for l in mine)
        heads = [l["head"] for l in mine if l["head"] is not None]
        assert heads == sorted(heads) and heads[-1] >= heads[0] + 8, f"{name} head did not advance: {heads}"
        last = mine[-1]
        # 6 tokens: 15 pairs on two V2 DEXs and in two V3 tiers; the lab deployed 16 of those 60.
        assert last["pools"] == 16 and last["absent"] == 44, last
        assert last["headLag"] <= 2 and last["stateBlock"] >= heads[0] + 6, last
        assert last["updates"] > 8 and last["provider"] == "user-0" and last["connected"] and not last["chainStale"], last
        assert last["malformedLogs"] == 0 and last["malformedHeads"] == 0 and last["rpcErrors"] == 0, last


def test_watch_text_lines_and_bad_arguments(arbiter, labs):
    config, _ = labs
    out = arbiter("watch", "--config", config, "--chains", "lab-blast", "--seconds", "2").stdout
    assert out.splitlines() and all(l.startswith("lab-blast") and " head " in l and "pools 16" in l for l in out.splitlines())
    bad = arbiter("watch", "--config", config, "--chains", "lab-nowhere", "--seconds", "1", check=False)
    assert bad.returncode == 1 and "unknown chain \"lab-nowhere\"" in bad.stderr
    bad = arbiter("watch", "--config", config, "--seconds", "0", check=False)
    assert bad.returncode == 1 and "--seconds must be positive" in bad.stderr


@pytest.mark.parametrize("command", [["watch", "--interval", "0.5"], ["run"]])
def test_ctrl_c_ends_watch_and_run_within_seconds(command, labs, tmp_path):
    # Until SIGINT (no --seconds): the first one stops the services gracefully, within seconds.
    config, _ = labs
    binary = os.environ.get("ARBITER_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "arbiter"))
    err = open(tmp_path / "stderr", "w+")
    proc = subprocess.Popen([binary, *command, "--config", config], stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    try:
        time.sleep(4)
        assert proc.poll() is None, open(tmp_path / "stderr").read()[-2000:]
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(12)
        assert code == 0 and time.time() - sent < 12
        assert "SIGINT: stopping" in open(tmp_path / "stderr").read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_watch_shows_the_binance_feed_and_a_row_per_symbol(arbiter, labs, tmp_path):
    """With `[cex_feed]` on, pointed at the stand-in Binance server, `arbiter watch` prints the
    feed's integrity line and a row per symbol the lab chain's tokens map to; the rows' bid and
    ask are ones the server published."""
    config, _ = labs
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    server = subprocess.Popen([os.path.join(root, ".venv", "bin", "python"), "-m", "tools.binance", "--port", "0", "--seed", "4"],
                              cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready = json.loads(server.stdout.readline())
        with_cex = tmp_path / "cex.toml"
        with_cex.write_text(open(config).read() + f'\n[cex_feed]\nenabled = true\nstream = "{ready["ws"]}"\nrest = "{ready["rest"]}"\n')
        out = arbiter("watch", "--config", str(with_cex), "--chains", "lab-ethereum", "--seconds", "4", "--interval", "0.5", "--json").stdout
        feeds = [json.loads(l) for l in out.splitlines() if '"cex"' in l]
        assert len(feeds) >= 6, out[-2000:]
        last = feeds[-1]
        assert last["cex"] == "binance" and last["messages"] > 0 and last["malformed"] == 0 and last["reconnects"] == 0, last
        assert last["ageP99Ms"] is not None and last["frozenBooks"] == 0 and last["slotsDown"] == 0, last
        rows = {r["symbol"]: r for r in last["symbols"]}
        # The lab's WETH, WBTC and USDC: ETHUSDT, BTCUSDT, USDCUSDT.
        assert set(rows) == {"ETHUSDT", "BTCUSDT", "USDCUSDT"} and all(r["status"] == "fresh" for r in rows.values()), rows
        import urllib.request
        log = json.loads(urllib.request.urlopen(ready["rest"] + "/_standin/log?tops=5000").read())
        for sym, r in rows.items():
            published = {(b, a) for _, b, a in log["symbols"][sym]["tops"]}
            assert float(r["bid"]) < float(r["ask"])
            assert any(abs(float(r["bid"]) - float(b)) < 1e-12 and abs(float(r["ask"]) - float(a)) < 1e-12 for b, a in published), (sym, r)
        text = arbiter("watch", "--config", str(with_cex), "--chains", "lab-ethereum", "--seconds", "2").stdout.splitlines()
        assert any(l.startswith("binance ") and "age p99" in l for l in text) and any(l.strip().startswith("ETHUSDT") for l in text), text
    finally:
        server.terminate()
        server.wait(10)
