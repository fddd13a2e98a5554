"""`arbiter run --partition P4`: Solana detection and execution wired from the registry, against the
stand-in cluster (mainnet mints, pools in the programs' layouts). Detection (the solana chain
enabled) follows the pools between the registry's Solana tokens and publishes SOL round trips on
P4; `--execute` trades them through `[solana]`'s Jupiter and Jito with ARBITER_SOLANA_KEY's wallet,
and every landed trade's realized profit equals its expectation. Without the key, or with a bad
`[solana]` section, it refuses with a clear error."""
import json
import os
import signal
import subprocess
import sys

import pytest
from solders.keypair import Keypair

from tools.solana.tests.test_server import post

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


SEED = "11" * 32
WALLET = str(Keypair.from_seed(bytes.fromhex(SEED)).pubkey())


def start_cluster(*extra):
    proc = subprocess.Popen([sys.executable, "-m", "tools.solana", "--port", "0", "--slot-ms", "200", "--parent", str(os.getpid()), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


@pytest.fixture(scope="module")
def cluster():
    proc, ready = start_cluster()
    yield ready
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


@pytest.fixture
def drifting_cluster():
    """A fresh cluster where a random trader swaps on one pool every slot."""
    proc, ready = start_cluster("--drift")
    yield ready
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


@pytest.fixture
def funded_cluster():
    """A fresh cluster whose market still has its opening gap, the key's wallet funded there."""
    proc, ready = start_cluster("--fund", f"{WALLET}:20000000000:SOL=100000000000")
    yield ready
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


def config(tmp_path, cluster, extra=""):
    path = tmp_path / "arbiter.toml"
    path.write_text(f"""
[chains.solana]
enabled = true
execution = true
rpc = [{{ http = "{cluster['rpc']}", ws = "{cluster['ws']}" }}]

[solana]
jupiter = "{cluster['jupiter']}"
jito = "{cluster['engine']}"
tip_floor = "{cluster['engine']}/api/v1/bundles/tip_floor"
jupiter_rate = 5
tip_bps = 500
min_profit = 20000
{extra}
""")
    return str(path)


def last_line(stderr, prefix):
    lines = [l for l in stderr.splitlines() if l.startswith(prefix)]
    assert lines, stderr[-3000:]
    return lines[-1]


def test_detection_follows_the_listed_pools_and_publishes_round_trips(arbiter, drifting_cluster, tmp_path):
    cluster = drifting_cluster
    p = arbiter("run", "--partition", "P4", "--seconds", "4", "--json", "--config", config(tmp_path, cluster), check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "solana: detection over" in p.stderr and "published on P4" in p.stderr, p.stderr[-3000:]
    # The stand-in's seven pools (a Phoenix book among them) are all between registry tokens (SOL, USDC, USDT, WETH), each followed
    # account subscribed on its own (pools, vaults, tick and bin arrays), the drifting trades
    # arriving as notifications.
    status = last_line(p.stderr, "solana pools ")
    fields = status.split()
    count = {k: int(fields[fields.index(k) + 1]) for k in ("pools", "subscriptions", "notifications", "failed", "clock")}
    assert status.startswith("solana pools 7 (outside the mints 0)") and count["failed"] == 0, status
    # The cluster's time, from its Clock sysvar (the stand-in's: 400 ms a slot from its genesis time),
    # is what DLMM fees and Phoenix expiry are quoted at.
    from tools.solana.bank import GENESIS_TIME
    slot = post(cluster["rpc"], "getSlot")["result"]
    assert GENESIS_TIME < count["clock"] <= GENESIS_TIME + slot * 2 // 5, (status, slot)
    assert count["subscriptions"] >= 10 and count["notifications"] > 0, status
    pools = {x["pool"] for x in cluster["market"]["pools"]}
    sol = cluster["market"]["mints"]["SOL"]["mint"]
    found = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert found, p.stderr[-3000:]
    for d in found:
        o = d["opportunity"]
        assert d["partition"] == "P4" and o["kind"] == "solana", d
        legs = o["solana"]["legs"]
        assert 2 <= len(legs) <= 3 and legs[0]["mintIn"] == sol and legs[-1]["mintOut"] == sol, legs
        assert all(l["pool"] in pools for l in legs), legs
        assert int(o["grossProfit"]) > 0 and int(o["netProfit"]) >= 20_000, o


def test_run_detects_and_executes_solana_round_trips_to_the_expected_profit(arbiter, funded_cluster, tmp_path):
    cluster = funded_cluster
    journal = tmp_path / "journal.sqlite"
    p = arbiter("run", "--execute", "--partition", "P4", "--seconds", "6", "--config", config(tmp_path, cluster), "--journal", str(journal),
                env_extra={"ARBITER_SOLANA_KEY": "0x" + SEED}, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    assert f"solana: execution through {cluster['jupiter']} and {cluster['engine']}; 0 trade(s) still pending" in p.stderr, p.stderr[-3000:]
    import sqlite3
    rows = [(s, int(e), int(r) if r is not None else None, m)
            for s, e, r, m in sqlite3.connect(str(journal)).execute("SELECT status, expected, realized, mode FROM solana_trade")]
    landed = [r for r in rows if r[0] == "landed"]
    # The opening gap is taken: at least one round trip lands, each realizing exactly what its
    # simulation expected.
    assert landed, (rows, p.stderr[-3000:])
    assert all(r[1] == r[2] and r[2] > 0 and r[3] == "jito" for r in landed), rows
    # A trade in flight when the run's seconds end is left journaled as pending (the next start
    # settles it by its blockhash), never unrecorded.
    assert all(r[0] in ("landed", "dropped", "pending") for r in rows), rows
    execution = last_line(p.stderr, "solana execution sent ")
    assert f"landed {len(landed)} realized {sum(r[2] for r in landed)};" in execution, execution


def test_without_the_key_or_with_a_bad_section_it_refuses(arbiter, cluster, tmp_path):
    p = arbiter("run", "--execute", "--partition", "P4", "--seconds", "1", "--config", config(tmp_path, cluster), "--journal", str(tmp_path / "j.sqlite"),
                check=False)
    assert p.returncode != 0 and "ARBITER_SOLANA_KEY" in p.stderr
    # Jupiter's default api.jup.ag answers only with a key: refused before anything starts.
    default_jupiter = tmp_path / "default.toml"
    default_jupiter.write_text(f'[chains.solana]\nenabled = true\nexecution = true\nrpc = [{{ http = "{cluster["rpc"]}" }}]\n')
    p = arbiter("run", "--execute", "--partition", "P4", "--seconds", "1", "--config", str(default_jupiter), "--journal", str(tmp_path / "j2.sqlite"),
                env_extra={"ARBITER_SOLANA_KEY": "0x" + SEED, "JUPITER_API_KEY": ""}, check=False)
    assert p.returncode != 0 and "JUPITER_API_KEY" in p.stderr and "api.jup.ag" in p.stderr, p.stderr[-2000:]
    bad = config(tmp_path, cluster, 'slippage_bps = 20000\nfoo = 1\nfallback_to_rpc = "yes"\njito_regions = ["ny", "mars"]\n')
    p = arbiter("config", "validate", "--config", bad, check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0 and "slippage_bps" in out and "foo" in out and "fallback_to_rpc" in out and "mars" in out, out
