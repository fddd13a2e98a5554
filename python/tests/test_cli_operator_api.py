"""`arbiter lab`'s operator API, from outside over HTTP while the lab runs: `/health` without a
key, `/ready` only with the run's key (printed to the lab's directory), ready once the chain's
state has caught up with its head, and nothing left listening once the lab has ended by itself."""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, key=None):
    req = urllib.request.Request(url, headers={"X-API-Key": key} if key is not None else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_the_lab_serves_health_and_readiness_behind_its_key(tmp_path):
    port = free_port()
    binary = os.environ.get("ARBITER_BIN", os.path.join(ROOT, ".build", "debug", "arbiter"))
    env = {k: v for k, v in os.environ.items() if k != "ARBITER_API_KEYS"}
    lab = subprocess.Popen([binary, "lab", "--chains", "1", "--blocks", "12", "--no-cex", "--no-cow", "--stat-arb-history", "0",
                            "--http", f"127.0.0.1:{port}", "--dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, health = time.time() + 120, None
        while time.time() < deadline and health is None:
            try:
                health = get(base + "/health")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert health == (200, {"status": "up"}), health
        key = (tmp_path / "api-key").read_text().strip()
        assert len(key) == 32
        assert get(base + "/ready")[0] == 401 and get(base + "/ready", "not-the-key")[0] == 401
        status, body = get(base + "/ready", key)
        # Ready once the chain's state is within 3 blocks of its head; until then 503 with the reason.
        while status == 503 and time.time() < deadline:
            assert body["ready"] is False and body["reasons"] and all("ethereum-lab" in r for r in body["reasons"]), body
            time.sleep(0.5)
            status, body = get(base + "/ready", key)
        assert (status, body) == (200, {"ready": True, "reasons": []}), (status, body)
        out, err = lab.communicate(timeout=300)
    finally:
        if lab.poll() is None:
            lab.kill()
            lab.wait()
    assert lab.returncode == 0, err[-3000:]
    assert f"operator API at http://127.0.0.1:{port}" in err
    # Ended by itself: nothing listens there any more.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
