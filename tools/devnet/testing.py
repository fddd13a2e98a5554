"""Starting devnets from Python tests: a free port, the ready line, the manifest."""
import json
import os
import shutil
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
        # --parent: the devnet ends with this process, even one killed by SIGKILL.
        args = [os.path.join(ROOT, "scripts", "devnet"), "--port", str(self.port), "--chain-id", str(chain_id), "--parent", str(os.getpid()), *extra]
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


def die_with_parent():
    """For `preexec_fn`: the child gets SIGKILL when the process that started it dies (Linux
    PR_SET_PDEATHSIG), so nothing outlives a test or a soak killed without a goodbye."""
    import ctypes
    import signal
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


class Redis:
    """A redis-server on a free port and a minimal RESP client (no Redis package is needed).
    With `directory`, every write is appended to its AOF and fsynced (`appendfsync always`), so a
    `restart` (the server stopped and started again on the same port) keeps the streams and their
    consumer groups."""

    def __init__(self, directory=None):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("redis-server is not installed: run ./scripts/setup")
        self.port = free_port()
        self.directory = directory
        if directory:
            os.makedirs(directory, exist_ok=True)
        self.proc = None
        self.sock = None
        self.restarts = 0
        self._start()

    def _start(self):
        persistence = (["--appendonly", "yes", "--appendfsync", "always", "--dir", self.directory] if self.directory
                       else ["--appendonly", "no"])
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        deadline = time.time() + 20
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port))
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)
        self.buf = b""
        # Loading the AOF answers -LOADING until done.
        while True:
            try:
                self.command("PING")
                return
            except RuntimeError as e:
                if "LOADING" not in str(e) or time.time() > deadline:
                    raise
                time.sleep(0.05)

    def restart(self, down_seconds=0.0):
        """Stops the server (SIGTERM: what is written is on disk) and starts it on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self._start()
        self.restarts += 1

    def stop(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def command(self, *args):
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        return self._value()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _value(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("redis closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._value() for _ in range(n)]
        raise RuntimeError(f"bad RESP line {line!r}")

    def entries(self, stream):
        return [(i.decode(), dict(zip(f[::2], f[1::2]))) for i, f in self.command("XRANGE", stream, "-", "+")]


def rpc(url, method, params=(), timeout=10):
    """One JSON-RPC call over HTTP: its result, or a RuntimeError with the node's error."""
    import urllib.request
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        out = json.loads(r.read())
    if "error" in out:
        raise RuntimeError(f"{method}: {out['error']}")
    return out["result"]


def pool_mismatches(http, answer):
    """What the node says, at the block `answer` (an `/api/pools` answer) is at, that differs from
    each V2 or V3 pool's state in it: [(address, field, ours, the node's)]. Stale pools are skipped
    (their state is known to need a read)."""
    from eth_abi import decode

    def call(to, selector, types):
        result = rpc(http, "eth_call", [{"to": to, "data": selector}, hex(int(answer["block"]))])
        return decode(types, bytes.fromhex(result[2:]))

    out = []
    for p in answer["pools"]:
        if p["stale"]:
            continue
        if p["kind"] == "uniswapV2":
            r0, r1, _ = call(p["address"], "0x0902f1ac", ["uint112", "uint112", "uint32"])
            node = {"reserve0": r0, "reserve1": r1}
        elif p["kind"] == "uniswapV3":
            slot0 = call(p["address"], "0x3850c7bd", ["uint160", "int24", "uint16", "uint16", "uint16", "uint8", "bool"])
            (liquidity,) = call(p["address"], "0x1a686502", ["uint128"])
            node = {"sqrtPriceX96": slot0[0], "tick": slot0[1], "liquidity": liquidity}
        else:
            continue
        for field, value in node.items():
            if int(p[field]) != value:
                out.append((p["address"], field, int(p[field]), value))
    return out
