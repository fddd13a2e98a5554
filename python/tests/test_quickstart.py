"""README command 1, as a new user runs it: the first command of the quick start, exactly as the
README writes it (no arguments: three chains, 50 blocks), from the checkout, with a fresh
temporary directory for the lab's files. It must end by itself within a time bound, print its
summary, and leave no process behind; interrupted with SIGINT (Ctrl-C) mid-run, it must end
within 15 s with a consistent journal: every submission settled, or journaled as open with its
reason and listed in the summary."""
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# setup (idempotent) + an incremental build + deploying three devnets + 50 blocks + settling.
RUN_LIMIT = 900


def readme_command():
    """The first command of the README's quick start block, without its comment."""
    text = open(os.path.join(ROOT, "README.md")).read()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return block.strip().splitlines()[0].split("#", 1)[0].strip()


def start(tmp_path):
    command = readme_command()
    assert command == "./scripts/lab", command
    out, err = open(tmp_path / "stdout", "w"), open(tmp_path / "stderr", "w")
    env = dict(os.environ, TMPDIR=str(tmp_path))  # the lab's default directory is a new one under it
    env.pop("ARBITER_EXECUTOR_KEY", None)
    # Its own session and process group, as a terminal gives a command: whatever it starts can be
    # found afterwards, and Ctrl-C is SIGINT to that group.
    proc = subprocess.Popen(command.split(), cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    return proc


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read(tmp_path, name):
    return (tmp_path / name).read_text(errors="replace")


def left_behind(pid):
    """Live processes the run left: in its session, or started with `--parent <its pid>`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, session = stat[0], int(stat[3])
        if state != "Z" and (session == pid or f"--parent {pid} " in cmdline + " "):
            found.append(f"{entry}: {cmdline[:200]}")
    return found


def no_process_left(pid, within=5):
    deadline = time.time() + within
    while left_behind(pid) and time.time() < deadline:
        time.sleep(0.2)
    return left_behind(pid)


def journal_of(stdout):
    m = re.search(r"lab summary \(journal (\S+)\)", stdout)
    assert m, stdout[-3000:]
    return m.group(1)


def check_journal(journal, stdout):
    """Every submission is settled or journaled open (an `open` decision, or the leg of a transfer
    whose record is open), and the summary lists exactly what is open."""
    db = sqlite3.connect(journal)
    open_transfers = {r[0]: r[1:] for r in db.execute(
        "SELECT opportunity, status, detail FROM bridge_transfer WHERE status IN ('sending', 'inFlight', 'arrived', 'held')")}
    unsettled = db.execute("SELECT seq, opportunity, status, tx_hash, strategy FROM submission WHERE status IN ('reserved', 'submitted')").fetchall()
    for seq, opportunity, status, tx, strategy in unsettled:
        reason = db.execute("SELECT detail FROM decision WHERE opportunity = ? AND outcome = 'open'", (opportunity,)).fetchone()
        assert reason or opportunity in open_transfers, f"submission {seq} ({strategy}, {status}, {tx}) is open without a journaled reason"
    for opportunity, (status, detail) in open_transfers.items():
        assert detail, f"open transfer {opportunity} ({status}) has no reason"
    m = re.search(r"open at the end: (none|\d+)", stdout)
    assert m, stdout[-3000:]
    listed = 0 if m.group(1) == "none" else int(m.group(1))
    assert listed == len(unsettled) + len(open_transfers), (listed, unsettled, open_transfers)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return len(unsettled) + len(open_transfers)


def test_the_quick_start_lab_ends_by_itself_with_its_summary_and_leaves_nothing_running(tmp_path):
    proc = start(tmp_path)
    began = time.time()
    try:
        code = proc.wait(RUN_LIMIT)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        pytest.fail(f"./scripts/lab did not end within {RUN_LIMIT} s: " + read(tmp_path, "stderr")[-3000:])
    stdout, stderr = read(tmp_path, "stdout"), read(tmp_path, "stderr")
    assert code == 0, stderr[-2500:] + "\n--- stdout (the summary):\n" + stdout[-3000:]
    assert "lab summary" in stdout and "submitted" in stdout and "DIFFERENT" not in stdout, stdout[-3000:]
    assert "(interrupted)" not in stdout
    journal = journal_of(stdout)
    assert journal.startswith(str(tmp_path)), journal  # the fresh directory
    check_journal(journal, stdout)
    assert re.search(r"submitted (\d+), included (\d+)", stdout)
    assert not no_process_left(proc.pid), f"left running after {time.time() - began:.0f} s: {left_behind(proc.pid)}"


def test_ctrl_c_mid_run_ends_the_lab_within_15_seconds_with_a_consistent_journal(tmp_path):
    proc = start(tmp_path)
    # Mid-run: the live table has shown trades going out.
    deadline = time.time() + RUN_LIMIT
    while time.time() < deadline and proc.poll() is None:
        if re.search(r"submitted [1-9]", read(tmp_path, "stderr")):
            break
        time.sleep(0.5)
    if proc.poll() is not None:
        pytest.fail("the lab ended before it could be interrupted: " + read(tmp_path, "stderr")[-3000:])
    time.sleep(5)
    sent = time.time()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the foreground process group
    try:
        code = proc.wait(15)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        pytest.fail("the lab did not end within 15 s of SIGINT: " + read(tmp_path, "stderr")[-3000:])
    took = time.time() - sent
    stdout, stderr = read(tmp_path, "stdout"), read(tmp_path, "stderr")
    assert code == 0, stderr[-2500:] + "\n--- stdout (the summary):\n" + stdout[-3000:]
    assert "SIGINT: stopping" in stderr and "(interrupted)" in stdout, stdout[-3000:]
    check_journal(journal_of(stdout), stdout)
    assert not no_process_left(proc.pid), left_behind(proc.pid)
    print(f"stopped {took:.1f} s after SIGINT")
