"""`arbiter lab`: the main job on its embedded default. Three devnets with the market driver,
detection and execution in one process, a journal in SQLite; the summary and the journal (read
here with Python's own sqlite3) must agree, and every executed trade must realize exactly the
profit detection expected."""
import json
import struct
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory, arbiter):
    tmp = tmp_path_factory.mktemp("lab")
    # Without the Binance stand-in: its legs would take the first chain's WETH flow (they have a run of their own below).
    p = arbiter("lab", "--chains", "3", "--blocks", "25", "--seed", "5", "--json", "--no-cex", "--dir", str(tmp), check=False)
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout), tmp, p.stderr


@pytest.fixture(scope="module")
def cex_lab_run(tmp_path_factory, arbiter):
    tmp = tmp_path_factory.mktemp("lab-cex")
    p = arbiter("lab", "--chains", "1", "--blocks", "30", "--seed", "3", "--json", "--dir", str(tmp), "--record", str(tmp / "rec"), check=False)
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout), tmp, p.stderr


@pytest.fixture(scope="module")
def cow_lab_run(tmp_path_factory, arbiter):
    tmp = tmp_path_factory.mktemp("lab-cow")
    # The first chain alone, without the statistical market and its exchange: the devnet keeps up with
    # its one-second blocks, so a backrun can reach the block right after the state it was sized on.
    p = arbiter("lab", "--chains", "1", "--blocks", "25", "--seed", "2", "--json", "--no-cex", "--stat-arb-history", "0", "--dir", str(tmp),
                "--record", str(tmp / "rec"), check=False)
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout), tmp, p.stderr


def test_cow_settlements_are_seen_pending_and_backrun_right_behind_them(cow_lab_run):
    """The lab's solver settles a 50 WETH order every fifth block, pending for three; Arbiter sees each
    pending, reads its effect from its call data, and bundles backruns behind it. Each landed backrun
    realized exactly what detection saw (its receipt says so too), and the journal names each
    bundle's target (the block order itself is checked by ExecutionLabTests)."""
    summary, tmp, stderr = cow_lab_run
    cow = summary["cow"]
    chain = cow["chains"][0]
    assert chain["chainId"] == summary["chains"][0]["chainId"]
    assert chain["pendingSettlements"] >= 3 and chain["decoded"] >= chain["pendingSettlements"] and chain["malformed"] == 0, chain
    assert chain["belowThreshold"] == 0 and chain["volumeUSD"] >= 50_000 * chain["pendingSettlements"], chain
    assert chain["published"] >= 1 and cow["sent"] >= 1, cow
    assert cow["landed"], cow
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    targets = {r[0]: r[1] for r in db.execute("SELECT opportunity, detail FROM decision WHERE stage = 'backrun' AND outcome = 'submitted'")}
    assert len(targets) == cow["sent"]
    trades = {t["tx"]: t for t in summary["trades"]}
    for b in cow["landed"]:
        assert b["realizedProfit"] == b["detectedProfit"] and int(b["realizedProfit"]) > 0, b
        assert targets[b["opportunity"]].startswith(b["target"]), (b, targets.get(b["opportunity"]))
        assert trades[b["tx"]]["kind"] == "backrun" and trades[b["tx"]]["bundled"] and trades[b["tx"]]["target"] == b["target"]
        receipt = db.execute("SELECT realized_profit, block FROM receipt WHERE tx_hash = ?", (b["tx"],)).fetchone()
        assert receipt == (b["realizedProfit"], b["block"])
    assert cow["asDetected"] == len(cow["landed"]) and summary["mismatches"] == 0


def test_cow_backruns_replay_from_their_recorded_evaluations(cow_lab_run, arbiter):
    """Each evaluation of a pending settlement is recorded (the snapshot it took, the clock, the
    settlement's signed bytes, its volume); replay decodes the settlement again, reads its effect
    from the call data on the replayed state and finds every published backrun again, byte for
    byte. The recorded bytes are read here by the documented layout and checked from outside: each
    is a signed transaction to the settlement contract (eth-account recovers its sender), and every
    backrun the journal submitted targets one of them."""
    from eth_account import Account
    from eth_utils import keccak
    from test_cli_replay import read_recording
    summary, tmp, _ = cow_lab_run
    events = read_recording(tmp / "rec")
    declared = [json.loads(e[3]) for e in events if e[0] == 0 and e[1] == 1]
    [cow] = [d["stream"] for d in declared if d["component"].startswith("cow:")]
    evaluations = [e[3] for e in events if e[0] == cow and e[1] == 1]
    published = [e for e in events if e[0] == cow and e[1] == 2]
    assert len(evaluations) >= summary["cow"]["chains"][0]["pendingSettlements"] and published, (len(evaluations), len(published))
    hashes = set()
    for m in evaluations:
        assert m[0] == 1, m[:1]
        sequence, now, volume, seen = struct.unpack_from("<QQdQ", m, 1)
        (length,) = struct.unpack_from("<I", m, 33)
        raw = m[37:37 + length]
        assert m[37 + length] == 0 and len(m) == 38 + length  # read from the call data: no simulated logs
        assert volume >= 50_000 and 0 < seen <= now and sequence >= 1, (volume, seen, now, sequence)
        tx = Account.recover_transaction(raw)
        assert tx.startswith("0x") and raw[0] in (1, 2)  # a typed transaction, its signature valid
        hashes.add("0x" + keccak(raw).hex())
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    targets = [r[0] for r in db.execute("SELECT detail FROM decision WHERE stage = 'backrun' AND outcome = 'submitted'")]
    assert targets and all(any(t.startswith(h) for h in hashes) for t in targets), (targets, hashes)
    replay = json.loads(arbiter("replay", str(tmp / "rec"), "--json").stdout)
    [d] = [d for d in replay["detection"] if d["kind"] == "cow"]
    assert d["detected"] == len(evaluations) and d["published"] == len(published), d
    assert d["identical"] == d["published"] and d["different"] == 0 and d["notReplayable"] == 0 and d["undecodable"] == 0, d


def test_lab_executes_on_every_chain_and_realizes_exactly_what_was_detected(lab_run):
    summary, tmp, stderr = lab_run
    names = [c["name"] for c in summary["chains"]]
    assert names == ["ethereum-lab", "optimism-lab", "blast-lab"]
    trades = summary["trades"]
    assert trades, stderr[-2000:]
    ids = {c["name"]: c["chainId"] for c in summary["chains"]}
    for t in trades:
        assert int(t["realizedProfit"]) > 0
        assert t["expectedProfit"] == t["detectedProfit"] and t["realizedProfit"] == t["eventProfit"], t
        if t["bundled"]:  # top of its block: exactly what was simulated
            assert t["realizedProfit"] == t["expectedProfit"], t
        else:  # a sequencer transaction: others may land ahead of it; the contract guarantees the minimum
            assert int(t["realizedProfit"]) >= int(t["expectedProfit"]), t
    assert all(t["bundled"] == (t["chainId"] == ids["ethereum-lab"]) for t in trades)
    improved = [t for t in trades if int(t["realizedProfit"]) > int(t["expectedProfit"])]
    assert summary["improved"] == len(improved) and len(improved) * 4 <= len(trades), improved  # the exception, not the rule
    assert summary["mismatches"] == 0 and summary["included"] == len(trades)
    # Each chain trades through its own lenders: Balancer or the DAI flash mint in bundles on the
    # Ethereum-like chain, Aave or a V3 pool on the OP-like one, SyncSwap on the Blast-like one.
    by_chain = {}
    for t in trades:
        by_chain.setdefault(t["chainId"], set()).add(t["flashSource"])
    assert by_chain.get(ids["ethereum-lab"], set()) <= {"balancerV2", "daiFlashMint"}
    assert by_chain.get(ids["optimism-lab"], set()) <= {"aaveV3", "uniswapV3Flash"}
    assert by_chain.get(ids["blast-lab"], set()) <= {"syncSwap"}
    assert summary["cexDex"] is None  # --no-cex
    # CoW settlements on the first chain: seen pending and read (whether a backrun lands in time on
    # this busy chain is the lighter run's to show).
    cow = summary["cow"]["chains"][0]
    assert cow["chainId"] == ids["ethereum-lab"] and cow["pendingSettlements"] >= 1 and cow["malformed"] == 0, cow
    assert len(by_chain) >= 2, by_chain
    # The per-stage timings, the whole in-process path among them.
    stages = summary["stagesMicroseconds"]
    assert {"validate", "requote", "nonce", "sign", "detectedToSigned"} <= set(stages)
    assert stages["detectedToSigned"]["count"] >= len(trades)
    # The live table went to stderr.
    assert "ethereum-lab" in stderr and "realized profit" in stderr


def test_the_journal_holds_every_decision_submission_and_receipt(lab_run):
    summary, tmp, _ = lab_run
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    # CEX–DEX legs have receipt rows of their own (their profit against the CEX fair value): see below.
    receipts = db.execute("SELECT tx_hash, expected_profit, detected_profit, realized_profit, event_profit, difference, status FROM receipt "
                          "WHERE opportunity NOT IN (SELECT id FROM opportunity WHERE kind = 'cexDexSpread')").fetchall()
    landed = [r for r in receipts if r[6] == 1]
    assert sorted(r[0] for r in landed) == sorted(t["tx"] for t in summary["trades"])
    improved = {t["tx"] for t in summary["trades"] if int(t["realizedProfit"]) > int(t["expectedProfit"])}
    for tx, expected, detected, realized, event, difference, status in landed:
        assert expected == detected and realized == event and int(difference) == int(realized) - int(expected)
        assert difference == "0" or tx in improved
    # A sequencer transaction can still revert when a transaction that arrived after our
    # simulation lands first: the contract's minimum profit makes it move nothing (gas only).
    reverted = [r for r in receipts if r[6] == 0]
    assert len(reverted) <= summary["failed"]
    for tx, expected, detected, realized, event, difference, status in reverted:
        assert realized == event == "0"
    # Every included trade submission has its receipt; no nonce is held twice; nothing is left open.
    subs = db.execute("SELECT chain, sender, nonce, status, strategy FROM submission").fetchall()
    own = ("cross-chain", "statistical", "cexDex")  # own-capital transactions: legs and positions
    trades = [s for s in subs if s[4] not in own]
    included = [s for s in trades if s[3] == "included"]
    assert len(included) == len(landed) and len([s for s in trades if s[3] == "reverted"]) == len(reverted)
    assert len({s[:3] for s in subs if s[3] == "included"}) == len([s for s in subs if s[3] == "included"])
    # A submission still open at the end is the exception, and journaled as such (its reason).
    for s in [s for s in subs if s[3] in ("reserved", "submitted")]:
        assert s[4] in own or db.execute(
            "SELECT 1 FROM decision d JOIN submission u ON u.opportunity = d.opportunity WHERE u.chain = ? AND u.sender = ? AND u.nonce = ? "
            "AND d.outcome = 'open'", s[:3]).fetchone(), s
    assert len(summary["open"]) == len([s for s in subs if s[3] in ("reserved", "submitted")]) + len(
        [t for t in summary["crossChain"]["transfers"] if t["status"] in ("sending", "inFlight", "arrived", "held")])
    # Nonces used by each trade key (landed, reverted or cancelled: each consumes one) are
    # contiguous from where the key started (none skipped).
    consumed = [s for s in trades if s[3] in ("included", "reverted", "cancelled")]
    for key in {s[:2] for s in consumed}:
        used = sorted(s[2] for s in consumed if s[:2] == key)
        assert used == list(range(used[0], used[0] + len(used))), (key, used)
    # Refusals are journaled with their reasons, and the summary counts them the same way
    # (the engine's, and the cross-chain executor's).
    def refusals(kinds, among=True):
        listed = ", ".join(f"'{k}'" for k in kinds)
        return dict(db.execute("SELECT stage || ':' || reason, COUNT(*) FROM decision WHERE outcome = 'refused' AND opportunity "
                               + ("" if among else "NOT ") + f"IN (SELECT id FROM opportunity WHERE kind IN ({listed})) GROUP BY 1").fetchall())
    assert refusals(["crossChain", "statistical", "cexDexSpread"], among=False) == {
        k: v for k, v in summary["refused"].items() if not k.startswith("inclusion:")}
    assert refusals(["crossChain"]) == summary["crossChain"]["refused"]
    assert refusals(["statistical"]) == summary["statistical"]["refused"]
    # Cross-chain trades: the journal's recovery records are the summary's, and each sold one adds up.
    records = {r[0]: r[1:] for r in db.execute("SELECT opportunity, status, amount_in, bought, received, proceeds FROM bridge_transfer")}
    assert set(records) == {t["opportunity"] for t in summary["crossChain"]["transfers"]}
    for t in summary["crossChain"]["transfers"]:
        status, amount_in, bought, received, proceeds = records[t["opportunity"]]
        assert status == t["status"] and amount_in == t["amountIn"] and bought == t["bought"]
        if status == "sold":
            assert int(received) == int(bought) - int(bought) * 500 // 10**6  # the bridge's fee, floored
            assert int(t["realizedProfit"]) == int(proceeds) - int(amount_in)
    opportunities = db.execute("SELECT COUNT(*) FROM opportunity").fetchone()[0]
    assert opportunities >= len(receipts)


def test_lab_rejects_bad_arguments(arbiter):
    for args in (["--chains", "4"], ["--blocks", "0"], ["--stat-arb-history", "129"]):
        p = arbiter("lab", *args, check=False)
        assert p.returncode != 0 and "must be" in p.stderr


def test_a_second_ctrl_c_ends_the_lab_at_once_and_leaves_a_consistent_journal(tmp_path):
    binary = os.environ.get("ARBITER_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "arbiter"))
    err = tmp_path / "stderr"
    proc = subprocess.Popen([binary, "lab", "--chains", "2", "--blocks", "500", "--stat-arb-history", "0", "--dir", str(tmp_path / "lab")],
                            stdout=subprocess.DEVNULL, stderr=open(err, "w"), stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 400
        while time.time() < deadline and proc.poll() is None and not re.search(r"submitted [1-9]", err.read_text()):
            time.sleep(0.5)
        assert proc.poll() is None, err.read_text()[-3000:]
        proc.send_signal(signal.SIGINT)
        time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(6)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130, err.read_text()[-3000:]
    assert "again: stopping at once" in err.read_text()
    # Its devnets and relayer were stopped with it.
    time.sleep(0.5)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
                state = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            assert state == "Z" or f"--parent {proc.pid} " not in cmdline + " ", cmdline
    # Every journal write is one SQLite transaction: what it holds is whole, and no nonce is held twice.
    db = sqlite3.connect(str(tmp_path / "lab" / "journal.sqlite"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    live = db.execute("SELECT chain, sender, nonce FROM submission WHERE status IN ('reserved', 'submitted')").fetchall()
    assert len(live) == len(set(live))
    assert db.execute("SELECT COUNT(*) FROM submission WHERE status NOT IN "
                      "('reserved', 'submitted', 'included', 'dropped', 'reverted', 'cancelled')").fetchone()[0] == 0


def test_statistical_positions_are_journaled_and_the_inventory_adds_up(lab_run):
    """The first lab chain runs the statistical market: its detector warms up on the devnet's
    history, and every position of the run is in the journal as the summary reports it; the
    inventory's balances moved by exactly what the positions say (or a swap was still in doubt)."""
    summary, tmp, _ = lab_run
    st = summary["statistical"]
    first = st["detection"][0]
    assert first["chainId"] == summary["chains"][0]["chainId"]
    assert "stETH/WETH" in first["pairs"] and "WETH/WBTC" in first["pairs"] and first["backfilled"] >= 100, first
    assert first["updates"] > 0 and first["crossings"] >= first["signals"] >= first["published"]
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    rows = {r[0]: r[1:] for r in db.execute("SELECT id, status, amount_sold, proceeds, close_reason FROM stat_position")}
    assert set(rows) == {p["id"] for p in st["positions"]}
    for p in st["positions"]:
        status, sold, proceeds, reason = rows[p["id"]]
        assert status == p["status"] and sold == p["amountSold"]
        if status == "closed":
            assert int(p["realized"]) == int(proceeds) - int(sold) and reason == p["closeReason"]
    assert st["mismatches"] == 0
    if st["unchecked"] is None and st["positions"]:
        assert st["balances"] and all(b["delta"] == b["expected"] for b in st["balances"]), st["balances"]


def test_cex_dex_legs_realize_what_detection_saw_against_the_fair_value(cex_lab_run):
    """The first lab chain's devnet serves a Binance stand-in whose ETH price leads the market by a
    round: CEX–DEX spreads are detected and their DEX legs traded on the cexDex inventory. Each
    leg's profit against the CEX fair value (recomputed here from the journal's hedge row: the
    output valued at the fair fraction, floored, minus the input) is what the summary and the
    receipt say; at least one realizes exactly what detection saw, to the wei; the inventory moved
    by exactly the legs' amounts."""
    summary, tmp, _ = cex_lab_run
    cx = summary["cexDex"]
    assert cx["feed"]["messages"] > 0 and cx["feed"]["malformed"] == 0
    detection = cx["detection"][0]
    assert detection["chainId"] == summary["chains"][0]["chainId"] and detection["published"] >= 1, detection
    legs = cx["trades"]
    assert legs, cx
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    hedges = {r[0]: r[1:] for r in db.execute("SELECT opportunity, symbol, side, quantity, fair_numerator, fair_denominator, tx_hash FROM cex_hedge")}
    receipts = {r[0]: r[1:] for r in db.execute("SELECT tx_hash, expected_profit, detected_profit, realized_profit FROM receipt")}
    assert cx["hedges"] == len(hedges) == len(legs)
    for t in legs:
        symbol, side, quantity, num, den, tx = hedges[t["opportunity"]]
        num, den, paid, got = int(num), int(den), int(t["amountIn"]), int(t["amountOut"])
        buys_base = t["got"] == "WETH"
        assert symbol == "ETHUSDT" and side == ("sell" if buys_base else "buy") and tx == t["tx"]
        assert int(quantity) == (got if buys_base else paid)
        value = got * num // den if buys_base else got * den // num
        assert int(t["realizedProfit"]) == value - paid, t
        assert int(t["realizedProfit"]) >= int(t["expectedProfit"]) > 0, t
        assert receipts[t["tx"]] == (t["expectedProfit"], t["detectedProfit"], t["realizedProfit"])
    exact = [t for t in legs if t["realizedProfit"] == t["detectedProfit"] == t["expectedProfit"]]
    assert exact and cx["asDetected"] == len([t for t in legs if t["realizedProfit"] == t["detectedProfit"]]), legs
    assert cx["mismatches"] == 0 and cx["unchecked"] is None
    assert cx["balances"] and all(b["delta"] == b["expected"] for b in cx["balances"]), cx["balances"]
    # Its refusals are journaled as the summary counts them; the engine's trades still realize what they detected.
    assert dict(db.execute("SELECT stage || ':' || reason, COUNT(*) FROM decision WHERE outcome = 'refused' AND opportunity "
                           "IN (SELECT id FROM opportunity WHERE kind = 'cexDexSpread') GROUP BY 1").fetchall()) == cx["refused"]
    assert summary["mismatches"] == 0


def test_a_lab_with_the_exchange_replays_with_the_references_it_weighed(cex_lab_run, arbiter):
    """Detection weighs what it finds against the exchange's prices; the references it weighed are
    recorded with each detection moment, so the replay finds every opportunity again with the
    confidence it was published with, byte for byte. CEX–DEX detection's moments (the snapshot,
    the references, the clock) are recorded too, and its spreads found again identically."""
    from test_cli_replay import read_recording
    _, tmp, stderr = cex_lab_run
    # Every write reached the recording: the recorder stops after the detectors, so none
    # recorded a moment and then found the recording closed for what it published.
    recorded = [l for l in stderr.splitlines() if l.startswith("lab: recorded ")]
    assert len(recorded) == 1 and "failed writes" not in recorded[0], recorded
    events = read_recording(tmp / "rec")
    detection = {d["stream"] for d in (json.loads(e[3]) for e in events if e[0] == 0 and e[1] == 1) if d["component"].startswith("detection:")}
    moments = [e[3] for e in events if e[0] in detection and e[1] == 1]
    weighed = [m for m in moments if int.from_bytes(m[16:20], "little") > 0]
    assert len(weighed) >= 3 and all(len(m) > 20 for m in weighed), [len(m) for m in moments]
    replay = json.loads(arbiter("replay", str(tmp / "rec"), "--json").stdout)
    # Cycle detection and CEX–DEX detection each have their stream; both found again identically.
    # (CoW backruns have theirs too: test_cow_backruns_replay_from_their_recorded_evaluations.)
    assert {"cexdex", "detection"} <= {d["kind"] for d in replay["detection"]} <= {"cexdex", "detection", "cow"}, replay["detection"]
    for d in replay["detection"]:
        assert d["published"] >= {"detection": 10, "cexdex": 1}.get(d["kind"], 0) and d["identical"] == d["published"], d
        assert d["different"] == 0 and d["notReplayable"] == 0 and d["undecodable"] == 0, d
    declared = [json.loads(e[3]) for e in events if e[0] == 0 and e[1] == 1]
    # The exchange's own frames are recorded (stream cex:binance, kind 1: clocks, then the frame as
    # received: read here as Binance's combined-stream JSON), and replayed into the books: every
    # reference detection weighed is computed again identically from them.
    [feed] = [d["stream"] for d in declared if d["component"] == "cex:binance"]
    frames = [json.loads(e[3][16:]) for e in events if e[0] == feed and e[1] == 1]
    assert len(frames) >= 50 and all(set(f) == {"stream", "data"} for f in frames), frames[:3]
    assert {f["stream"].split("@")[1] for f in frames} >= {"bookTicker", "depth20"}, {f["stream"] for f in frames}
    [cex] = replay["cex"]
    assert cex["frames"] == len(frames) and cex["malformed"] == 0 and cex["undecodable"] == 0, cex
    assert cex["referencesChecked"] >= sum(int.from_bytes(m[16:20], "little") for m in weighed) >= 3, cex
    assert cex["referencesIdentical"] == cex["referencesChecked"], cex
    # Without its frames (and any REST depth snapshot), the feed's books stay empty: the check finds
    # none of the references again.
    from test_cli_replay import write_recording
    cut = tmp / "rec-without-frames"
    kept = [e for e in events if not (e[0] == feed and e[1] in (1, 2))]
    write_recording(cut, [kept[i:i + 2_000] for i in range(0, len(kept), 2_000)])
    [bare] = json.loads(arbiter("replay", str(cut), "--json").stdout)["cex"]
    assert bare["frames"] == 0 and bare["referencesChecked"] == cex["referencesChecked"] and bare["referencesIdentical"] == 0, bare
    cexdex = {d["stream"] for d in declared if d["component"].startswith("cexdex:")}
    published = [e for e in events if e[0] in cexdex and e[1] == 2]
    [d] = [d for d in replay["detection"] if d["kind"] == "cexdex"]
    assert d["published"] == len(published)
