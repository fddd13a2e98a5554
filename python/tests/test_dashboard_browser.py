"""The dashboard in a real browser (Debian's headless Chromium through its chromedriver) against a
three-chain `arbiter lab`: the page loads, shows the three chains, receives opportunities live over
/api/live, its profit chart grows as trades land; `/metrics` meanwhile lists every family the
operator needs. A screenshot of the page is saved as the test's artifact (ARBITER_ARTIFACTS, else
the lab's directory)."""
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

# What the operator reads, per the original system's exports: per chain head lag, updates, reorgs,
# malformed input; detection latency per stage; opportunities by kind; execution outcomes and
# refusals by reason; realized vs expected profit; breaker state; bus depth and drops; RPC latency
# and errors per provider.
FAMILIES = [
    "arbiter_market_head_lag_blocks", "arbiter_market_updates_total", "arbiter_market_reorgs_total", "arbiter_market_malformed_total",
    "arbiter_opportunity_stage_seconds", "arbiter_opportunities_total", "arbiter_execution_decisions_total",
    "arbiter_profit_expected", "arbiter_profit_realized", "arbiter_trades_total", "arbiter_breaker_state",
    "arbiter_bus_depth", "arbiter_bus_dropped_total", "arbiter_rpc_request_seconds", "arbiter_rpc_errors_total",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, key=None):
    req = urllib.request.Request(url, headers={"X-API-Key": key} if key else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read().decode()


def browser():
    from selenium import webdriver
    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(path), f"{path} is missing: run ./scripts/setup (it installs Debian's chromium and chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1150"):
        options.add_argument(a)
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)


def until(what, condition, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_the_dashboard_shows_a_three_chain_lab_live(tmp_path):
    port = free_port()
    binary = os.environ.get("ARBITER_BIN", os.path.join(ROOT, ".build", "debug", "arbiter"))
    env = {k: v for k, v in os.environ.items() if k != "ARBITER_API_KEYS"}
    err_path = tmp_path / "lab.err"
    with open(err_path, "w") as err:
        lab = subprocess.Popen([binary, "lab", "--chains", "3", "--blocks", "45", "--no-cex", "--stat-arb-history", "0",
                                "--http", f"127.0.0.1:{port}", "--dir", str(tmp_path / "lab")],
                               stdout=subprocess.DEVNULL, stderr=err, env=env)
    base = f"http://127.0.0.1:{port}"
    driver = None
    try:
        def health():
            try:
                return fetch(base + "/health")[0] == 200
            except (urllib.error.URLError, ConnectionError):
                return lab.poll() is not None and pytest.fail("the lab ended before serving: " + err_path.read_text()[-3000:])
        until("the operator server answers", health, 240)
        key = (tmp_path / "lab" / "api-key").read_text().strip()
        assert f"dashboard at {base}/#key={key}" in err_path.read_text()

        driver = browser()
        driver.get(f"{base}/#key={key}")
        assert driver.title == "Arbiter"
        # The table is drawn again every second: read it in one script, not element by element.
        def chain_rows():
            return driver.execute_script("return [...document.querySelectorAll('#chains tr.chain-row')].map(r => [...r.cells].map(c => c.textContent))")
        rows = until("three chain rows", lambda: (r := chain_rows()) and len(r) == 3 and r, 120)
        assert sorted(r[0] for r in rows) == ["blast-lab", "ethereum-lab", "optimism-lab"], rows
        until("the live feed connected", lambda: driver.find_element("id", "link").text == "live", 60)

        # Live: opportunities and trades keep arriving after the page's first load.
        def count(script):
            return int(driver.execute_script(script) or 0)
        first_feed = count("return window.arbiter.feed")
        first_points = count("return Number(document.getElementById('profit').dataset.points || 0)")
        until("a live opportunity", lambda: count("return window.arbiter.feed") > first_feed, 180)
        points = "return Number(document.getElementById('profit').dataset.points || 0)"
        until("the profit chart grows", lambda: count(points) > first_points, 240)
        until("the profit chart grows again", lambda: count(points) > first_points + 1, 240)
        until("a trade row", lambda: driver.execute_script("return document.querySelectorAll('#trades tr.trade-row').length"), 30)
        heads = [int(r[2]) for r in chain_rows()]
        assert len(heads) == 3 and all(h > 0 for h in heads), heads

        status, metrics = fetch(base + "/metrics", key)
        assert status == 200
        families = {line.split()[2] for line in metrics.splitlines() if line.startswith("# TYPE ")}
        missing = [f for f in FAMILIES if f not in families]
        assert not missing, (missing, sorted(families))
        assert 'arbiter_market_head_lag_blocks{chain="blast-lab"}' in metrics
        # Every series the Grafana dashboard in docs/ asks for is one this process exports.
        with open(os.path.join(ROOT, "docs", "grafana-dashboard.json")) as f:
            grafana = json.load(f)
        asked = {re.sub(r"_(bucket|sum|count)$", "", m) for p in grafana["panels"] for t in p["targets"] for m in re.findall(r"arbiter_[a-z_]+", t["expr"])}
        assert asked and not asked - families, sorted(asked - families)

        # Let the chart gather a little more (for the README's picture: a handful of trades), then keep it.
        time.sleep(5)
        if os.environ.get("ARBITER_DASHBOARD_SHOT"):
            try:
                until("eight trades", lambda: count("return window.arbiter.trades.length") >= 8, 120)
            except AssertionError:
                pass
        artifacts = os.environ.get("ARBITER_ARTIFACTS", str(tmp_path))
        os.makedirs(artifacts, exist_ok=True)
        shot = os.path.join(artifacts, "dashboard.png")
        assert driver.save_screenshot(shot) and os.path.getsize(shot) > 20_000
        if os.environ.get("ARBITER_DASHBOARD_SHOT"):
            shutil.copy(shot, os.environ["ARBITER_DASHBOARD_SHOT"])
    finally:
        if driver is not None:
            driver.quit()
        if lab.poll() is None:
            lab.terminate()
            try:
                lab.wait(timeout=30)
            except subprocess.TimeoutExpired:
                lab.kill()
                lab.wait()
    # Ctrl-C (SIGTERM here) or the end of its blocks: it ends within seconds and frees the port.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
