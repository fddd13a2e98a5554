"""`arbiter lab --record DIR` then `arbiter replay DIR`, checked by a reader of our own written from
docs/recording.md alone (zstandard, or zlib for a version-1 file, to inflate; zlib's CRC-32): the layout as documented, the
configuration the lab ran from recorded, each watcher's steps counted alike, the replayed
state's last snapshot the one the lab recorded as published (its block and its clock reading), and
every opportunity the lab published found again by replay, byte for byte. A
recording cut mid-chunk, as a crash leaves it, still replays what it holds and says what it skipped."""
import json
import os
import shutil
import sqlite3
import struct
import time
import subprocess
import zlib

import pytest
import zstandard

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ARBITER_BIN", os.path.join(ROOT, ".build", "debug", "arbiter"))


def varint(b, at):
    value, shift = 0, 0
    while True:
        byte = b[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def inflate(version, body):
    """A chunk's bytes by the file's version: 2 a Zstandard frame, 1 zlib (RFC 1950)."""
    if version == 1:
        return zlib.decompress(body)
    assert version == 2
    return zstandard.ZstdDecompressor().decompress(body)


def read_recording(directory, version=2):
    """Every event as (stream, kind, arrival, payload), per the documented layout; each file of
    the format `version` (what the build writes now, unless said)."""
    events = []
    for name in sorted(f for f in os.listdir(directory) if f.endswith(".arbrec")):
        data = open(os.path.join(directory, name), "rb").read()
        assert data[:8] == b"ARBREC\x00" + bytes([version]), name
        at = 16
        while at < len(data):
            magic, clen, rlen, count, first, crc = struct.unpack_from("<4sIIIQI", data, at)
            assert magic == b"CHNK"
            body = data[at + 28:at + 28 + clen]
            assert zlib.crc32(data[at:at + 24] + body) == crc
            raw = inflate(version, body)
            assert len(raw) == rlen
            i, previous, n = 0, first, 0
            while i < len(raw):
                stream, i = varint(raw, i)
                kind = raw[i]
                i += 1
                zz, i = varint(raw, i)
                previous += (zz >> 1) ^ -(zz & 1)
                length, i = varint(raw, i)
                events.append((stream, kind, previous, raw[i:i + length]))
                i += length
                n += 1
            assert n == count
            at += 28 + clen
    return events


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A two-chain lab run recorded once for the module: (recording, lab directory)."""
    base = tmp_path_factory.mktemp("recorded")
    rec, lab_dir = base / "rec", base / "lab"
    lab = subprocess.run([BIN, "lab", "--chains", "2", "--blocks", "16", "--no-cex", "--no-cow", "--stat-arb-history", "0", "--http", "off",
                          "--record", str(rec), "--dir", str(lab_dir), "--json"], capture_output=True, text=True, timeout=400)
    assert lab.returncode == 0, lab.stderr[-3000:]
    assert f"in {rec}" in lab.stderr and "recorded " in lab.stderr
    return rec, lab_dir


def test_a_recorded_lab_replays_to_the_state_it_published(recorded, tmp_path):
    rec, lab_dir = recorded

    events = read_recording(rec)
    config = [e for e in events if e[0] == 0 and e[1] == 2]
    assert len(config) == 1 and config[0][3].decode() == (lab_dir / "lab.toml").read_text()
    declared = {d["stream"]: d for d in (json.loads(e[3]) for e in events if e[0] == 0 and e[1] == 1) if d["component"].startswith("watcher:")}
    assert sorted(d["name"] for d in declared.values()) == ["ethereum-lab", "optimism-lab"]

    out = subprocess.run([BIN, "replay", str(rec), "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    replay = json.loads(out.stdout)
    assert replay["events"] == len(events) and replay["skipped"] == [] and replay["unknownStreams"] == 0
    for c in replay["chains"]:
        stream = next(n for n, d in declared.items() if d["name"] == c["chain"])
        steps = [e for e in events if e[0] == stream]
        publishes = [e for e in steps if e[1] == 8]
        assert c["steps"] == len(steps) and c["snapshots"] == len(publishes) >= 5 and c["undecodable"] == 0, c
        # The last publish's clock reading (u64 LE after the head's arrival) is the replayed snapshot's.
        assert c["appliedAt"] == struct.unpack_from("<Q", publishes[-1][3], 8)[0]
        # Its block: the last block finished (kind 6) or reset to (kind 1: the head's number) before it.
        last = max(i for i, e in enumerate(steps) if e[1] == 8)
        blocks = [struct.unpack_from("<Q", e[3], 0)[0] for e in steps[:last] if e[1] in (1, 6)]
        assert c["block"] == blocks[-1] and c["pools"] >= 16, c
        # Arrivals are the recorder's clock: within the run, never before the recording began.
        assert all(e[2] > 1_700_000_000 * 10**9 for e in steps)

    # Detection again on the snapshots it took, at its recorded clock readings: every opportunity
    # it published found again, byte for byte (the publication time is the recorded one).
    detection = {d["stream"]: d for d in (json.loads(e[3]) for e in events if e[0] == 0 and e[1] == 1) if d["component"].startswith("detection:")}
    assert sorted(d["name"] for d in detection.values()) == ["ethereum-lab", "optimism-lab"]
    for d in (d for d in replay["detection"] if d["kind"] == "detection"):  # (a CoW stream is declared too, without settlements)
        stream = next(n for n, x in detection.items() if x["name"] == d["chain"])
        published = [e for e in events if e[0] == stream and e[1] == 2]
        assert d["published"] == len(published) and d["identical"] == len(published) and d["different"] == 0 and d["undecodable"] == 0, d
        assert d["detected"] == len([e for e in events if e[0] == stream and e[1] == 1])
    assert sum(d["identical"] for d in replay["detection"]) >= 10, replay["detection"]

    # Cut inside the last chunk (of a copy): what precedes it replays, the cut is reported.
    rec = shutil.copytree(rec, tmp_path / "cut")
    path = rec / "000001.arbrec"
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    cut = json.loads(subprocess.run([BIN, "replay", str(rec), "--json"], capture_output=True, text=True, timeout=120, check=True).stdout)
    assert cut["chunks"] == replay["chunks"] - 1 and 0 < cut["events"] < replay["events"]
    assert len(cut["skipped"]) == 1 and "cut short" in cut["skipped"][0]


def backtest(*args, timeout=300):
    out = subprocess.run([BIN, "backtest", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return out


def test_a_backtest_values_every_live_trade_as_the_journal_realized_it(recorded, tmp_path):
    rec, lab_dir = recorded
    events = read_recording(rec)
    detection = {d["stream"] for d in (json.loads(e[3]) for e in events if e[0] == 0 and e[1] == 1) if d["component"].startswith("detection:")}
    published = sum(1 for e in events if e[0] in detection and e[1] == 2)
    # What the lab realized, read from its journal here: each landed trade's opportunity and profit.
    db = sqlite3.connect(f"file:{lab_dir / 'journal.sqlite'}?mode=ro", uri=True)
    realized = dict(db.execute("SELECT opportunity, realized_profit FROM receipt WHERE status = 1").fetchall())
    db.close()
    assert len(realized) >= 2, "the lab landed too few trades to compare"

    candidate = tmp_path / "candidate.toml"
    candidate.write_text('[backtest]\nmin_profit_bps = 60\ninclusion = "probability"\ninclusion_probability = 0.5\nseed = 3\n'
                         "latency_budget_ms = 400\npriority_fee_gwei = 2\n")
    report = tmp_path / "report.html"
    out = backtest(rec, "--journal", lab_dir / "journal.sqlite", "--config", candidate, "--json", "--html", report)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    base, cand = result["runs"]

    # Every live trade valued again on the recorded state: what the executor keeps, to the wei.
    live = result["live"]
    assert live["trades"] == len(realized) and live["missing"] == 0
    assert {p["opportunity"]: p["backtest"] for p in live["pairs"]} == realized
    assert live["equal"] == len(realized)

    # The recorded configuration finds again every opportunity published live; it trades some of them.
    assert base["offered"] == published and 0 < base["trades"] <= base["offered"]
    assert sum(base["refusals"].values()) + base["trades"] == base["offered"]
    for run in (base, cand):
        by = {}
        for t in run["tradeList"]:
            assert int(t["net"]) == int(t["profit"]) - int(t["costInAsset"]) and int(t["profit"]) > 0
            key = (t["chain"], t["asset"])
            by[key] = [by.get(key, [0, 0])[0] + int(t["profit"]), by.get(key, [0, 0])[1] + int(t["net"])]
        assert sorted([int(a["profit"]), int(a["net"])] for a in run["byAsset"]) == sorted(by.values())
        assert sum(g["trades"] for g in run["byChain"]) == sum(g["trades"] for g in run["byStrategy"]) == run["trades"]
    assert all(int(t["gasPrice"]) >= 10**9 for t in base["tradeList"])
    assert all(int(t["gasPrice"]) >= 2 * 10**9 for t in cand["tradeList"])

    # The candidate: a higher bar finds fewer; the inclusion rule and the latency budget refuse some.
    assert cand["offered"] < base["offered"]
    assert cand["refusals"].get("inclusion:notIncluded", 0) > 0
    assert all(float(t["latencyMs"]) <= 400 for t in cand["tradeList"])
    again = json.loads(backtest(rec, "--config", candidate, "--json").stdout)["runs"][1]
    assert {k: v for k, v in again.items() if k != "seconds"} == {k: v for k, v in cand.items() if k != "seconds"}

    # The report, opened in headless Chromium: its charts and tables say what the JSON says.
    from test_dashboard_browser import browser
    driver = browser()
    try:
        driver.get(report.as_uri())
        lines = driver.find_elements("css selector", "svg#cumulative-pnl polyline.series")
        assert [int(l.get_attribute("data-points")) for l in lines] == [base["trades"], cand["trades"]]
        assert [round(float(l.get_attribute("data-total")), 2) for l in lines] == [round(float(base["usd"]), 2), round(float(cand["usd"]), 2)]
        for svg, expected in (("sizes", [base["offered"], cand["offered"]]), ("latency", [base["trades"], cand["trades"]])):
            bars = driver.find_elements("css selector", f"svg#{svg} rect.bar")
            counts = [sum(int(b.get_attribute("data-count")) for b in bars if b.get_attribute("data-run") == r["name"]) for r in (base, cand)]
            assert counts == expected, (svg, counts)
            assert all(float(b.get_attribute("height")) > 0 for b in bars)
        rows = {r.find_element("css selector", "th").text: [c.text for c in r.find_elements("css selector", "td")]
                for r in driver.find_elements("css selector", "table#summary tr")[1:]}
        assert rows["traded"] == [str(base["trades"]), str(cand["trades"])]
        assert f"{len(realized)} equal to the wei" in driver.find_element("id", "live-summary").text
        artifacts = os.environ.get("ARBITER_ARTIFACTS")
        if artifacts:
            os.makedirs(artifacts, exist_ok=True)
            driver.save_screenshot(os.path.join(artifacts, "backtest.png"))
    finally:
        driver.quit()


def test_a_bad_backtest_configuration_is_refused_by_name(recorded, tmp_path):
    rec, _ = recorded
    for text, says in (('[backtest]\nmin_profit = 3\n', "backtest.min_profit"),
                       ('[backtest]\ninclusion = "probability"\ninclusion_probability = 1.5\n', "inclusion_probability"),
                       ('[backtest]\ninclusion = "sometimes"\n', "inclusion"),
                       ('[backtst]\n', "backtst"),
                       ('[backtest\n', "TOML syntax error")):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        out = backtest(rec, "--config", bad, timeout=60)
        assert out.returncode == 1 and says in out.stderr and out.stdout == "", (text, out.stderr)
    out = backtest(tmp_path / "nothing", timeout=60)
    assert out.returncode == 1 and out.stderr.strip(), out.stderr


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    return bytes(out + bytes([v]))


def write_recording(directory, events, version=2):
    """A recording written from docs/recording.md alone: one file, one chunk per event list given,
    in format `version` (1: zlib chunks, as builds before Zstandard wrote them)."""
    os.makedirs(directory)
    data = bytearray(b"ARBREC\x00" + bytes([version]) + struct.pack("<Q", events[0][0][2]))
    for chunk in events:
        raw, previous = bytearray(), chunk[0][2]
        for stream, kind, arrival, payload in chunk:
            delta = arrival - previous
            previous = arrival
            raw += uvarint(stream) + bytes([kind]) + uvarint((delta << 1) ^ (delta >> 63)) + uvarint(len(payload)) + payload
        body = zlib.compress(bytes(raw), 1) if version == 1 else zstandard.ZstdCompressor(level=1).compress(bytes(raw))
        header = b"CHNK" + struct.pack("<IIIQ", len(body), len(raw), len(chunk), chunk[0][2])
        data += header + struct.pack("<I", zlib.crc32(header + body)) + body
    (directory / "000001.arbrec").write_bytes(bytes(data))


def test_replay_at_1x_keeps_the_recorded_pace(tmp_path):
    """Events of a stream nobody declared, 1.5 s apart: counted as unknown either way; at --speed 1x
    the replay takes at least the 3 s they span, at max it does not wait for them. Written in format
    version 1 (zlib chunks): a recording made before Zstandard still reads."""
    t0 = 1_800_000_000 * 10**9
    rec = tmp_path / "paced"
    write_recording(rec, [[(9, 1, t0, b"a"), (9, 1, t0 + 1_500_000_000, b"b")], [(9, 2, t0 + 3_000_000_000, b"c")]], version=1)
    results = {}
    for speed in ("1x", "max"):
        began = time.monotonic()
        out = subprocess.run([BIN, "replay", str(rec), "--speed", speed, "--json"], capture_output=True, text=True, timeout=60)
        results[speed] = (time.monotonic() - began, out)
        assert out.returncode == 0, out.stderr
        r = json.loads(out.stdout)
        assert r["events"] == 3 and r["chunks"] == 2 and r["unknownStreams"] == 3 and r["skipped"] == [], r
    assert results["1x"][0] >= 3.0, results["1x"][0]
    bad = subprocess.run([BIN, "replay", str(rec), "--speed", "2x"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "speed" in bad.stderr, bad.stderr
