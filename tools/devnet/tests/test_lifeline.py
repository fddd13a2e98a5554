"""`--parent PID`: a devnet or bridge relayer started by `arbiter lab` exits by itself once the lab
is gone, even when the lab was ended by SIGKILL and could stop nothing. A stand-in parent starts
the helper with its own pid and is then killed with SIGKILL; the helper must be gone within a
few seconds. Without `--parent` the helper outlives its parent (the check can fail)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tools.devnet.testing import ROOT, free_port

# The stand-in parent: starts the helper (its stderr to a pipe it never reads, as the lab's
# bridge relayer has), prints the helper's pid, then waits to be killed.
PARENT = textwrap.dedent("""
    import os, subprocess, sys, time
    args = sys.argv[1:]
    if args[0] == "--with-parent":
        args = args[1:] + ["--parent", str(os.getpid())]
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    print(child.pid, flush=True)
    time.sleep(600)
""")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def orphan(helper, with_parent):
    """Starts `helper` under a stand-in parent, kills the parent with SIGKILL after `settle`
    seconds, and returns the helper's pid."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, *(["--with-parent"] if with_parent else []), *helper],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    pid = int(parent.stdout.readline())
    time.sleep(1.5)  # past the helper's start-up
    assert alive(pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    return pid


def gone_within(pid, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def devnet_command():
    return [os.path.join(ROOT, "scripts", "devnet"), "--port", str(free_port()), "--chain-id", "31337"]


def bridge_command(tmp_path):
    # Manifests of chains nobody serves: the relayer keeps polling (and logging errors) forever.
    paths = []
    for chain in (1, 2):
        m = {"chainId": chain, "rpc": {"http": f"http://127.0.0.1:{free_port()}/"}, "tokens": {},
             "bridge": {"address": "0x" + "11" * 20, "relayer": "0x" + "22" * 20}}
        p = tmp_path / f"m{chain}.json"
        p.write_text(json.dumps(m))
        paths.append(str(p))
    return [os.path.join(ROOT, ".venv", "bin", "python"), "-m", "tools.devnet.bridge", "--latency", "1", *paths]


@pytest.mark.parametrize("helper", ["devnet", "bridge"])
def test_a_helper_exits_by_itself_when_its_parent_is_killed(helper, tmp_path):
    command = devnet_command() if helper == "devnet" else bridge_command(tmp_path)
    pid = orphan(command, with_parent=True)
    assert gone_within(pid, 5), f"the {helper} outlived its SIGKILLed parent by 5 s"


def test_without_the_flag_the_helper_outlives_its_parent():
    # The control: the same orphan without --parent keeps running (what the flag is for).
    pid = orphan(devnet_command(), with_parent=False)
    try:
        assert not gone_within(pid, 2)
    finally:
        os.kill(pid, signal.SIGTERM)
        gone_within(pid, 5)
