"""`arbiter lab --record DIR` then `arbiter replay DIR`, checked by a reader of our own written from
docs/recording.md alone (Python's zlib for inflate and CRC-32): the layout as documented, the
configuration the lab ran from recorded, each watcher's steps counted alike, the replayed
state's last snapshot the one the lab recorded as published (its block and its clock reading), and
every opportunity the lab published found again by replay, byte for byte. A
recording cut mid-chunk, as a crash leaves it, still replays what it holds and says what it skipped."""
import json
import os
import struct
import subprocess
import zlib

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


def read_recording(directory):
    """Every event as (stream, kind, arrival, payload), per the documented layout."""
    events = []
    for name in sorted(f for f in os.listdir(directory) if f.endswith(".arbrec")):
        data = open(os.path.join(directory, name), "rb").read()
        assert data[:8] == b"ARBREC\x00\x01", name
        at = 16
        while at < len(data):
            magic, clen, rlen, count, first, crc = struct.unpack_from("<4sIIIQI", data, at)
            assert magic == b"CHNK"
            body = data[at + 28:at + 28 + clen]
            assert zlib.crc32(data[at:at + 24] + body) == crc
            raw = zlib.decompress(body)
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


def test_a_recorded_lab_replays_to_the_state_it_published(tmp_path):
    rec, lab_dir = tmp_path / "rec", tmp_path / "lab"
    lab = subprocess.run([BIN, "lab", "--chains", "2", "--blocks", "12", "--no-cex", "--no-cow", "--stat-arb-history", "0", "--http", "off",
                          "--record", str(rec), "--dir", str(lab_dir), "--json"], capture_output=True, text=True, timeout=400)
    assert lab.returncode == 0, lab.stderr[-3000:]
    assert f"in {rec}" in lab.stderr and "recorded " in lab.stderr

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
    for d in replay["detection"]:
        stream = next(n for n, x in detection.items() if x["name"] == d["chain"])
        published = [e for e in events if e[0] == stream and e[1] == 2]
        assert d["published"] == len(published) and d["identical"] == len(published) and d["different"] == 0 and d["undecodable"] == 0, d
        assert d["detected"] == len([e for e in events if e[0] == stream and e[1] == 1])
    assert sum(d["identical"] for d in replay["detection"]) >= 10, replay["detection"]

    # Cut inside the last chunk: what precedes it replays, the cut is reported.
    path = rec / "000001.arbrec"
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    cut = json.loads(subprocess.run([BIN, "replay", str(rec), "--json"], capture_output=True, text=True, timeout=120, check=True).stdout)
    assert cut["chunks"] == replay["chunks"] - 1 and 0 < cut["events"] < replay["events"]
    assert len(cut["skipped"]) == 1 and "cut short" in cut["skipped"][0]
