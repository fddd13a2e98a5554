"""The soak's short version (3 minutes): every kind of fault injected at least once, and every
check held: nothing lost or executed twice, every nonce journaled, realized = expected, every journaled receipt the chain's, the market
state the node's, nothing left running. The long run is reported in docs/testing.md."""
import json
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_three_minutes_of_faults_lose_nothing(tmp_path):
    report = tmp_path / "report.json"
    started = time.time()
    run = subprocess.run([os.path.join(ROOT, "scripts", "soak"), "--minutes", "3", "--dir", str(tmp_path / "soak"), "--report", str(report)],
                         capture_output=True, text=True, timeout=900)
    r = json.loads(report.read_text())
    assert run.returncode == 0 and r["ok"], run.stderr[-4000:]
    assert all(n >= 1 for n in r["faults"].values()), r["faults"]
    final = r["final"]
    assert final["lost"] == 0 and final["executedTwice"] == 0 and final["nonceGaps"] == 0 and final["realizedOff"] == 0, final
    assert final["receiptsOffChain"] == 0 and final["receiptsCompared"] >= final["landed"], final
    assert final["published"] > 0 and final["landed"] > 0 and final["poolsCompared"] > 0 and final["poolsWrong"] == 0, final
    assert r["checks"] >= 3 and r["processesLeft"] == 0 and r["redisRestarts"] >= 1
    assert all(role["stopSeconds"] is not None and role["stopSeconds"] < 20 for role in r["roles"].values()), r["roles"]
    # It ended by itself: three minutes, the quiet spell and the stop, not the timeout.
    assert time.time() - started < 600
