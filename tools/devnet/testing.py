"""Starting devnets from Python tests: a free port, the ready line, the manifest."""
import json
import os
import socket
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Devnet:
    def __init__(self, chain_id, lab, tmp, extra=()):
        self.port = free_port()
        self.manifest_path = os.path.join(tmp, f"lab-{chain_id}.json")
        args = [os.path.join(ROOT, "scripts", "devnet"), "--port", str(self.port), "--chain-id", str(chain_id), *extra]
        if lab:
            args += ["--lab", self.manifest_path]
        # stderr to a file: an undrained pipe would stall a chatty devnet.
        self.log_path = os.path.join(tmp, f"devnet-{chain_id}-{self.port}.log")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(self.log_path, "w"), text=True)
        deadline = time.time() + 120
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("{") and '"ready"' in line:
                break
            if self.proc.poll() is not None:
                raise RuntimeError("devnet exited: " + open(self.log_path).read()[-4000:])
        info = json.loads(line)
        self.http, self.ws = info["http"], info["ws"]
        self.manifest = json.load(open(self.manifest_path)) if lab else None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
