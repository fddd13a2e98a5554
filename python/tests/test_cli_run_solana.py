"""`arbiter run --execute --partition P4`: Solana execution wired from the registry (the solana
chain with execution on, its RPC, `[solana]`'s Jupiter and Jito) and ARBITER_SOLANA_KEY, here
against the stand-in cluster; it starts, settles nothing pending, and ends at --seconds. Without
the key, or with a bad `[solana]` section, it refuses with a clear error."""
import json
import os
import signal
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def cluster():
    proc = subprocess.Popen([sys.executable, "-m", "tools.solana", "--port", "0", "--slot-ms", "200", "--parent", str(os.getpid())],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready = json.loads(proc.stdout.readline())
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


def test_solana_execution_starts_from_the_registry_and_ends_on_time(arbiter, cluster, tmp_path):
    journal = tmp_path / "journal.sqlite"
    p = arbiter("run", "--execute", "--partition", "P4", "--seconds", "2", "--config", config(tmp_path, cluster), "--journal", str(journal),
                env_extra={"ARBITER_SOLANA_KEY": "0x" + "11" * 32}, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    assert f"solana: execution through {cluster['jupiter']} and {cluster['engine']}; 0 trade(s) still pending" in p.stderr, p.stderr[-3000:]
    import sqlite3
    assert sqlite3.connect(str(journal)).execute("SELECT COUNT(*) FROM solana_trade").fetchone() == (0,)


def test_without_the_key_or_with_a_bad_section_it_refuses(arbiter, cluster, tmp_path):
    p = arbiter("run", "--execute", "--partition", "P4", "--seconds", "1", "--config", config(tmp_path, cluster), "--journal", str(tmp_path / "j.sqlite"),
                check=False)
    assert p.returncode != 0 and "ARBITER_SOLANA_KEY" in p.stderr
    bad = config(tmp_path, cluster, 'slippage_bps = 20000\nfoo = 1\nfallback_to_rpc = "yes"\njito_regions = ["ny", "mars"]\n')
    p = arbiter("config", "validate", "--config", bad, check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0 and "slippage_bps" in out and "foo" in out and "fallback_to_rpc" in out and "mars" in out, out
