"""A long run of the whole bot under continuous faults (`scripts/soak`): lab devnets with their
markets, a Redis bus that persists what it holds, and `arbiter run` split into a detector process
and an executor process. Faults are injected from a seeded schedule (each kind in turn, in a
shuffled order): WebSocket drops, 429s, slow answers, 1-3-block reorgs, a node outage (its
server down and back on the same port, the chain kept: a node restart as clients see it), a Redis
restart, SIGKILL of the executor and of the detector (each started again under the same name).
Every minute and at the end it checks what must hold whatever happened: nothing the detector
published lost or executed twice (the bus's entries and pending lists against the journal), every
nonce the executor used on chain journaled as landed, realized profit equal to expected for every
landed trade (one landed on a block a reorg rebuilt under it is counted apart), RSS flat after warm-up, the processes alive (or restarted by us); at the end, no
process left behind. A report (JSON) says what was injected and every figure."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
import urllib.request

from tools.devnet.lab_config import lab_config
from tools.devnet.testing import Devnet, Redis, die_with_parent, free_port, pool_mismatches, rpc

API_KEY = "soak-operator-key"
KINDS = ["ws-drop", "rate-limit", "slow", "reorg", "node-outage", "redis-restart", "kill-executor", "kill-detector"]
BUS_KEYS = "soak:" + "5a" * 32
GROUP = "executors"


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def ancestors():
    """This process and those above it (whose command lines may name the soak's directory)."""
    out, pid = set(), os.getpid()
    while pid > 1 and pid not in out:
        out.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return out


class Role:
    """One `arbiter run` process of a role, started again after we kill it; each incarnation's
    RSS sampled."""

    def __init__(self, name, binary, args, env, directory):
        self.name, self.binary, self.env, self.directory = name, binary, env, directory
        # The operator API, for the market state it holds (`/api/pools`).
        self.port = free_port()
        self.args = [*args, "--http", f"127.0.0.1:{self.port}"]
        self.proc = None
        self.incarnations = []  # {"pid", "started", "samples": [(t, kib)], "exit"}
        self.killed = 0
        self.start()

    def start(self):
        log = open(os.path.join(self.directory, f"{self.name}-{len(self.incarnations) + 1}.log"), "w")
        self.proc = subprocess.Popen([self.binary, "run", *self.args], stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **self.env}, start_new_session=True, preexec_fn=die_with_parent)
        self.incarnations.append({"pid": self.proc.pid, "started": time.time(), "samples": [], "exit": None, "log": log.name})

    def sample(self):
        if self.proc.poll() is None:
            kib = rss_kib(self.proc.pid)
            if kib is not None:
                self.incarnations[-1]["samples"].append((time.time(), kib))

    def kill(self):
        """SIGKILL (no goodbye), then the same command again under the same consumer name."""
        if self.exited() is not None:
            raise RuntimeError(f"{self.name} had already exited by itself ({self.proc.returncode}): {self.tail()}")
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.incarnations[-1]["exit"] = "killed"
        self.killed += 1
        time.sleep(1)
        self.start()

    def exited(self):
        """The exit code when the process ended by itself, else None."""
        code = self.proc.poll()
        if code is not None and self.incarnations[-1]["exit"] is None:
            self.incarnations[-1]["exit"] = code
        return code

    def stop(self, seconds=20):
        """SIGINT, as an operator's Ctrl-C; the process must end within `seconds`."""
        if self.proc.poll() is not None:
            return True
        started = time.time()
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(seconds)
            self.incarnations[-1]["exit"] = self.proc.returncode
            self.incarnations[-1]["stopSeconds"] = round(time.time() - started, 2)
            return True
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
            self.incarnations[-1]["exit"] = "did not stop"
            return False

    def api(self, path):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers={"X-API-Key": API_KEY})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def tail(self, n=40):
        with open(self.incarnations[-1]["log"], errors="replace") as f:
            return "".join(f.readlines()[-n:])


class Soak:
    def __init__(self, binary, directory, minutes, seed=1, chains=3):
        self.binary, self.directory, self.minutes = binary, directory, minutes
        self.rng = random.Random(seed)
        self.events = open(os.path.join(directory, "soak-events.jsonl"), "w")
        self.problems = []
        self.checks = []
        self.faults = {k: 0 for k in KINDS}
        self.pending_resets = []  # (time, chain index, method, params)
        # Blocks a reorg built on a parent other than the one a bundle for them was simulated on:
        # chain id → set of block numbers (the rebuilt blocks and the one after them).
        self.rebuilt = {}
        self.journal = os.path.join(directory, "journal.sqlite")
        self.chains, self.seed = chains, seed
        self.devnets, self.redis, self.executor, self.detector = [], None, None, None
        self.started = time.time()

    def setup(self):
        """The devnets, Redis and both roles; `stop` stops whatever of them started."""
        chains = self.chains
        directory, binary = self.directory, self.binary
        self.log("start", minutes=self.minutes, seed=self.seed, chains=chains)
        for i in range(chains):
            self.devnets.append(Devnet(1360 + i, True, directory, extra=("--block-time", "1", "--market", "--seed", "1")))
        self.names = [f"soak-{i + 1}" for i in range(chains)]
        config = os.path.join(directory, "soak.toml")
        with open(config, "w") as f:
            f.write(lab_config(list(zip(self.names, [d.manifest for d in self.devnets])), profiles={n: "ethereum" for n in self.names}))
        self.executor_address = self.devnets[0].manifest["keys"]["executor"]
        self.redis = Redis(directory=os.path.join(directory, "redis"))
        common = ["--config", config, "--redis", f"redis://127.0.0.1:{self.redis.port}", "--partition", "all"]
        env = {"ARBITER_BUS_KEYS": BUS_KEYS, "ARBITER_API_KEYS": API_KEY}
        self.executor = Role("executor", binary, [*common, "--role", "executor", "--execute", "--journal", self.journal, "--consumer", "soak-executor"],
                             {**env, "ARBITER_EXECUTOR_KEY": self.devnets[0].manifest["executorKey"]}, directory)
        self.detector = Role("detector", binary, [*common, "--role", "detector"], env, directory)

    def log(self, event, **fields):
        self.events.write(json.dumps({"t": round(time.time(), 3), "event": event, **fields}) + "\n")
        self.events.flush()

    # ------------------------------------------------------------------ faults

    def inject(self, kind):
        c = self.rng.randrange(len(self.devnets))
        d = self.devnets[c]
        detail = {}
        if kind == "ws-drop":
            rpc(d.http, "devnet_dropWebSockets")
        elif kind == "rate-limit":
            n = self.rng.randint(10, 40)
            rpc(d.http, "devnet_rateLimit", [n, 1])
            detail["requests"] = n
        elif kind == "slow":
            ms = self.rng.choice([200, 500, 1500])
            rpc(d.http, "devnet_setDelay", [ms])
            self.pending_resets.append((time.time() + 5, c, "devnet_setDelay", [0]))
            detail["ms"] = ms
        elif kind == "reorg":
            depth = self.rng.randint(1, 3)
            head = int(rpc(d.http, "devnet_reorg", [depth]), 16)
            self.rebuilt.setdefault(d.manifest["chainId"], set()).update(range(head - depth, head + 2))
            detail |= {"depth": depth, "head": head}
        elif kind == "node-outage":
            seconds = self.rng.choice([2, 4, 6])
            rpc(d.http, "devnet_outage", [seconds])
            detail["seconds"] = seconds
        elif kind == "redis-restart":
            self.redis.restart(down_seconds=self.rng.choice([0.5, 2]))
        elif kind == "kill-executor":
            self.executor.kill()
        elif kind == "kill-detector":
            self.detector.kill()
        self.faults[kind] += 1
        chain = self.names[c] if kind in ("ws-drop", "rate-limit", "slow", "reorg", "node-outage") else None
        self.log("fault", kind=kind, chain=chain, **detail)

    def resets(self):
        now = time.time()
        for r in [r for r in self.pending_resets if r[0] <= now]:
            self.pending_resets.remove(r)
            try:
                rpc(self.devnets[r[1]].http, r[2], r[3])
            except OSError:
                self.pending_resets.append((now + 1, *r[1:]))  # the node is in an outage: again in a second

    # ------------------------------------------------------------------ checks

    def bus(self):
        """Every entry on the opportunity streams: (stream, entry id, opportunity id, age s), and the pending ids."""
        entries, pending = [], set()
        streams = sorted(s.decode() for s in self.redis.command("KEYS", "arb:opportunities:*") if not s.endswith(b":dead"))
        now_ms = time.time() * 1000
        for s in streams:
            for entry_id, fields in self.redis.entries(s):
                data = fields.get(b"d", b"")
                entries.append((s, entry_id, data[1:17].hex() if len(data) >= 17 else "", (now_ms - int(entry_id.split("-")[0])) / 1000))
            try:
                for p in self.redis.command("XPENDING", s, GROUP, "-", "+", 10000) or []:
                    pending.add((s, p[0].decode()))
            except RuntimeError as e:
                if "NOGROUP" not in str(e):
                    raise
        dead = sum(len(self.redis.entries(s.decode())) for s in self.redis.command("KEYS", "arb:opportunities:*:dead"))
        return entries, pending, dead

    def journal_rows(self, sql, args=()):
        if not os.path.exists(self.journal):
            return []
        db = sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise
        finally:
            db.close()

    def check(self, final=False):
        """One round of the checks; what broke goes to `problems`. Returns the round's figures."""
        t = time.time()
        figures = {"at": round(t - self.started, 1), "final": final}
        # The processes: alive, or killed and started again by us.
        for role in (self.executor, self.detector):
            code = role.exited()
            if code is not None and not final:
                self.problems.append(f"{role.name} exited by itself ({code}): {role.tail()}")
                role.start()
        # The bus against the journal.
        entries, pending, dead = self.bus()
        journaled = {r[0].lower().removeprefix("0x") for r in self.journal_rows("SELECT id FROM opportunity")}
        grace = 0 if final else 60
        lost = [e for e in entries if e[2] not in journaled and (e[0], e[1]) not in pending and e[3] > grace]
        stuck = [e for e in entries if (e[0], e[1]) in pending and e[3] > (30 if final else 120)]
        doubles = self.journal_rows("SELECT opportunity, COUNT(*) FROM receipt WHERE status = 1 GROUP BY opportunity HAVING COUNT(*) > 1")
        figures |= {"published": len(entries), "received": len(journaled), "pending": len(pending), "deadLettered": dead,
                    "lost": len(lost), "stuck": len(stuck), "executedTwice": len(doubles)}
        if lost:
            self.problems.append(f"{len(lost)} opportunities published and never received by the executor: {lost[:5]}")
        if stuck:
            self.problems.append(f"{len(stuck)} entries pending too long: {stuck[:5]}")
        if doubles:
            self.problems.append(f"opportunities executed twice: {doubles[:5]}")
        if dead:
            self.problems.append(f"{dead} entries dead-lettered (nothing here tampers with the bus)")
        # Landed trades: realized as expected.
        # A bundle that a reorg put on a parent other than the one it was simulated on (its target
        # block rebuilt, or the block after them) realizes what that state gives: counted apart.
        trades = self.journal_rows("SELECT tx_hash, chain, expected_profit, realized_profit, block FROM receipt WHERE status = 1")
        moved = [r for r in trades if r[4] in self.rebuilt.get(r[1], ())]
        off = [r[:4] for r in trades if int(r[2]) != int(r[3]) and r not in moved]
        figures |= {"landed": len(trades), "realizedOff": len(off), "landedOnRebuiltBlocks": len(moved),
                    "realizedOffOnRebuiltBlocks": len([r for r in moved if int(r[2]) != int(r[3])])}
        if off:
            self.problems.append(f"landed trades whose realized profit is not the expected one: {off[:5]}")
        # Nonces: every nonce the executor used on chain is a journaled, landed submission.
        gaps = 0
        for d, name in zip(self.devnets, self.names):
            try:
                used = int(rpc(d.http, "eth_getTransactionCount", [self.executor_address, "latest"]), 16)
            except OSError:
                continue  # in an outage: next round
            def landed():
                return {r[0] for r in self.journal_rows(
                    "SELECT s.nonce FROM submission s JOIN receipt r ON r.tx_hash = s.tx_hash WHERE s.chain = ? AND lower(s.sender) = lower(?)",
                    (d.manifest["chainId"], self.executor_address))}
            # Live, the newest nonces may have landed before their receipt is journaled: a check
            # each minute takes those the last one saw; the final one (the executor still trading)
            # gives a nonce used just now 15 s to be journaled.
            settled = used if final else self.used_before.get(name, 0)
            missing = [n for n in range(settled) if n not in landed()]
            waited = time.time() + 15
            while missing and final and time.time() < waited:
                time.sleep(0.5)
                missing = [n for n in missing if n not in landed()]
            if missing:
                gaps += len(missing)
                # What the journal says of them, to tell a lost receipt from a trade judged left out.
                said = self.journal_rows(
                    f"SELECT nonce, status, tx_hash, last_block FROM submission WHERE chain = ? AND nonce IN ({','.join('?' * len(missing[:10]))})",
                    (d.manifest["chainId"], *missing[:10]))
                self.problems.append(f"{name}: nonces used on chain without a landed submission in the journal: {missing[:10]}; "
                                     f"their submissions: {said}")
            self.used_before[name] = used
            figures.setdefault("nonces", {})[name] = used
        figures["nonceGaps"] = gaps
        # The journal's landed set is the chain's: each journaled receipt's transaction is in the
        # block the journal names, on the node (a reorg that took it out, or moved it, is the
        # executor's to journal within a few of its checks: those still off are asked again for 15 s).
        def off_chain(rows):
            off = []
            for tx, chain_id, block in rows:
                d = next((d for d in self.devnets if d.manifest["chainId"] == chain_id), None)
                try:
                    receipt = rpc(d.http, "eth_getTransactionReceipt", [tx]) if d else None
                except OSError:
                    continue  # in an outage: next round
                if receipt is None or int(receipt["blockNumber"], 16) != block:
                    off.append((tx, chain_id, block))
            return off
        receipts = self.journal_rows("SELECT tx_hash, chain, block FROM receipt")
        off = off_chain(receipts)
        waited = time.time() + 15
        while off and time.time() < waited:
            time.sleep(1)
            journaled = set(self.journal_rows("SELECT tx_hash, chain, block FROM receipt"))
            off = off_chain([r for r in off if r in journaled])
        figures |= {"receiptsCompared": len(receipts), "receiptsOffChain": len(off)}
        if off:
            self.problems.append(f"journaled receipts the chain does not have in that block: {off[:5]}")
        # Market state: each process's pools are the node's at the block it holds them at.
        compared, skipped, wrong = 0, 0, []
        for role in (self.executor, self.detector):
            if role.proc.poll() is not None or t - role.incarnations[-1]["started"] < 30:
                continue
            for d, name in zip(self.devnets, self.names):
                try:
                    answer = role.api(f"/api/pools?chain={d.manifest['chainId']}")
                    if answer["block"] is None:
                        skipped += 1
                        continue
                    node = rpc(d.http, "eth_getBlockByNumber", [hex(int(answer["block"])), False])
                    if node is None or node["hash"] != answer["hash"]:
                        skipped += 1  # held from a block a reorg replaced: it rolls back on its own
                        continue
                    mismatches = pool_mismatches(d.http, answer)
                except (OSError, RuntimeError, ValueError):
                    skipped += 1  # the node or the process in an outage: next round
                    continue
                compared += sum(1 for p in answer["pools"] if p["kind"] in ("uniswapV2", "uniswapV3") and not p["stale"])
                wrong += [(role.name, name, answer["block"], *m) for m in mismatches]
        figures |= {"poolsCompared": compared, "poolChecksSkipped": skipped, "poolsWrong": len(wrong)}
        if wrong:
            self.problems.append(f"market state differs from the node's: {wrong[:5]}")
        # RSS: flat after warm-up, per incarnation that lived long enough to say.
        for role in (self.executor, self.detector):
            for inc in role.incarnations:
                warm = [kib for ts, kib in inc["samples"] if ts - inc["started"] >= 60]
                if len(warm) >= 2:
                    growth = warm[-1] - warm[0]
                    bound = max(64 * 1024, warm[0] * 3 // 10)
                    if growth > bound and not inc.get("reportedGrowth"):
                        inc["reportedGrowth"] = True
                        self.problems.append(f"{role.name} pid {inc['pid']}: RSS grew {growth // 1024} MB after warm-up (bound {bound // 1024} MB)")
        self.checks.append(figures)
        self.log("check", **figures)
        return figures

    # ------------------------------------------------------------------ the run

    def run(self):
        self.started = time.time()
        self.used_before = {}
        end = self.started + self.minutes * 60
        order = []
        next_fault = self.started + 20  # a warm-up with no faults: the chains caught up, the first trades
        next_check = self.started + 60
        next_sample = self.started
        while time.time() < end:
            now = time.time()
            if now >= next_sample:
                self.executor.sample()
                self.detector.sample()
                next_sample = now + 5
            self.resets()
            if now >= next_fault and now < end - 20:
                if not order:
                    order = KINDS[:]
                    self.rng.shuffle(order)
                kind = order.pop()
                try:
                    self.inject(kind)
                except Exception as e:  # noqa: BLE001 - a fault that could not be injected is reported, not fatal
                    self.problems.append(f"injecting {kind} failed: {e}")
                next_fault = now + self.rng.uniform(5, 11)
            if now >= next_check:
                self.check()
                next_check += 60
            time.sleep(0.25)
        # Faults over: the delays cleared, a quiet spell for what is in flight to settle.
        for r in self.pending_resets:
            rpc(self.devnets[r[1]].http, r[2], r[3])
        self.pending_resets = []
        self.log("quiet")
        time.sleep(25)
        self.check(final=True)

    def stop(self):
        """Everything stopped, the arbiter processes by SIGINT within seconds; what is left behind listed."""
        stops = {role.name: role.stop() for role in (self.detector, self.executor) if role is not None}
        for role, ok in stops.items():
            if not ok:
                self.problems.append(f"{role} did not stop within 20 s of SIGINT")
        for d in self.devnets:
            d.stop()
        if self.redis is not None:
            self.redis.stop()
        time.sleep(0.5)
        left = []
        ours = ancestors()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) in ours:
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if self.directory in cmd:
                left.append(f"{pid}: {cmd[:160]}")
        if left:
            self.problems.append(f"processes left behind: {left}")
        return left

    def report(self, left):
        roles = {}
        for role in (r for r in (self.executor, self.detector) if r is not None):
            incs = [i for i in role.incarnations if i["samples"]]
            longest = max(incs, key=lambda i: i["samples"][-1][0] - i["started"], default=None)
            warm = [(ts, kib) for ts, kib in longest["samples"] if ts - longest["started"] >= 60] if longest else []
            roles[role.name] = {"incarnations": len(role.incarnations), "killed": role.killed,
                                # After a minute's warm-up (the chains read, the caches full), when it lived that long.
                                "rssStartMB": round((warm or longest["samples"])[0][1] / 1024, 1) if longest else None,
                                "rssEndMB": round(longest["samples"][-1][1] / 1024, 1) if longest else None,
                                "longestMinutes": round((longest["samples"][-1][0] - longest["started"]) / 60, 2) if longest else None,
                                "stopSeconds": role.incarnations[-1].get("stopSeconds")}
        final = self.checks[-1] if self.checks else {}
        return {"minutes": self.minutes, "faults": self.faults, "faultsInjected": sum(self.faults.values()),
                "redisRestarts": self.redis.restarts if self.redis else 0, "checks": len(self.checks), "final": final, "roles": roles,
                "processesLeft": len(left), "problems": self.problems, "ok": not self.problems}
