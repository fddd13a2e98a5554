"""`arbiter run` on a lab devnet: a scripted price move opens cross-DEX and triangular
arbitrage; each is published once, sized at the brute-force optimum, with the profit the real
executor contract returns for that input in `eth_call` at that block, to the wei."""
import json
import os
import subprocess
import threading
import time
import math
import urllib.request

import pytest
from eth_abi import decode, encode
from eth_utils import keccak

from tools.devnet.lab_config import lab_config
from tools.devnet.testing import Devnet

CHAIN = ("lab-ethereum", 1337)
EXECUTE = keccak(text="execute(address,uint256,(address,uint8,address,address,uint24)[],uint256,uint256)")[:4]
FAR = 2**40


def rpc(url, method, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    reply = json.loads(urllib.request.urlopen(req, timeout=60).read())
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


class Run:
    """`arbiter run --json` in the background: stdout lines parsed, stderr kept."""

    def __init__(self, binary, args, env=None):
        self.proc = subprocess.Popen([binary, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        self.lines, self.errors = [], []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.errors, False), daemon=True).start()

    @staticmethod
    def _read(stream, into, parse):
        for line in stream:
            into.append(json.loads(line) if parse else line)

    def wait(self, predicate, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"arbiter run exited {self.proc.returncode}: {''.join(self.errors)[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; stderr: {''.join(self.errors)[-3000:]}")

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("run"))
    devnet = Devnet(CHAIN[1], True, tmp)
    config = os.path.join(tmp, "lab.toml")
    with open(config, "w") as f:
        f.write(lab_config([(CHAIN[0], devnet.manifest)]))
    yield config, devnet
    devnet.stop()


def pool_kinds(manifest):
    """Pool address (lowercase) → (step kind, fee pips, dex name, pool name)."""
    out = {}
    for dex, d in manifest["dexes"].items():
        for name, address in d["pools"].items():
            v3 = d["kind"] == "uniswapV3"
            out[address.lower()] = (1 if v3 else 0, int(name.split("/")[2]) if v3 else d["feePips"], dex, name)
    return out


def execute_profit(devnet, o, amount, block):
    """What BalancerV2FlashArbitrage.execute returns for `amount` along `o`'s path at `block` (None: reverts)."""
    m = devnet.manifest
    kinds = pool_kinds(m)
    steps = [(h["pool"], kinds[h["pool"].lower()][0], h["tokenIn"], h["tokenOut"], kinds[h["pool"].lower()][1]) for h in o["path"]]
    data = EXECUTE + encode(["address", "uint256", "(address,uint8,address,address,uint24)[]", "uint256", "uint256"],
                            [o["path"][0]["tokenIn"], amount, steps, 0, FAR])
    try:
        out = rpc(devnet.http, "eth_call", {"from": m["keys"]["executor"], "to": m["executors"]["balancerV2"], "data": "0x" + data.hex(),
                                           "gas": hex(5_000_000)}, hex(block))
    except RuntimeError:
        return None
    return decode(["uint256"], bytes.fromhex(out[2:]))[0]


def v2_out(amount, r_in, r_out, fee=3000):
    a = amount * (1_000_000 - fee)
    return a * r_out // (r_in * 1_000_000 + a)


def v2_best(devnet, o, block):
    """Brute force on the pairs' reserves at `block`: the best exact integer profit among every
    input within 50,000 of the continuous optimum (of the composed map A·x / (B + C·x), exact),
    every input within 50,000 of where a ternary search on the integer profit ends, and a grid of
    4,000 inputs up to twice the optimum. Returns it and the profit function."""
    reserves = []
    for h in o["path"]:
        r = decode(["uint112", "uint112", "uint32"], bytes.fromhex(rpc(devnet.http, "eth_call", {"to": h["pool"], "data": "0x0902f1ac"}, hex(block))[2:]))
        zero_for_one = int(h["tokenIn"], 16) < int(h["tokenOut"], 16)
        reserves.append((r[0], r[1]) if zero_for_one else (r[1], r[0]))

    def profit(x):
        y = x
        for r_in, r_out in reserves:
            y = v2_out(y, r_in, r_out)
        return y - x

    # Each pair is x ↦ 997·rOut·x / (1000·rIn + 997·x); exact integers compose without rounding.
    A, B, C = 1, 1, 0
    for r_in, r_out in reserves:
        a, b, c = 997 * r_out, 1000 * r_in, 997
        A, B, C = a * A, b * B, b * C + c * A
    star = (math.isqrt(A * B) - B) // C
    lo, hi = 1, 2 * star
    while hi - lo > 8192:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if profit(m1) < profit(m2):
            lo = m1
        else:
            hi = m2
    candidates = list(range(max(1, star - 50_000), star + 50_000)) + list(range(max(1, lo - 50_000), hi + 50_000))
    candidates += [star * k // 2000 for k in range(1, 4001)]
    return max(profit(x) for x in candidates), profit


def test_run_publishes_each_opportunity_once_at_the_optimum_the_executor_confirms(arbiter, lab, tmp_path):
    config, devnet = lab
    m = devnet.manifest
    binary = os.environ.get("ARBITER_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "arbiter"))
    rec = tmp_path / "rec"
    run = Run(binary, ["--config", config, "--json", "--record", str(rec)])
    try:
        run.wait(lambda: any("lab-ethereum block" in l and "pools 16" in l for l in run.errors), 120, "the first status line")
        trader = m["keys"]["trader"]
        weth, usdc = m["tokens"]["WETH"]["address"], m["tokens"]["USDC"]["address"]
        router = m["dexes"]["sushiswap"]["router"]
        swap = keccak(text="swapExactTokensForTokens(uint256,uint256,address[],address,uint256)")[:4]

        def sell(amount):
            data = swap + encode(["uint256", "uint256", "address[]", "address", "uint256"], [amount, 0, [weth, usdc], trader, FAR])
            tx = rpc(devnet.http, "eth_sendTransaction", {"from": trader, "to": router, "data": "0x" + data.hex(), "gas": hex(400_000)})
            receipt = rpc(devnet.http, "eth_getTransactionReceipt", tx)
            assert receipt and int(receipt["status"], 16) == 1
            return int(receipt["blockNumber"], 16)

        # The move: 20 WETH sold into SushiSwap's WETH/USDC, about 8% below the other venues.
        block = sell(20 * 10**18)
        moved = m["dexes"]["sushiswap"]["pools"]["WETH/USDC"].lower()
        at = lambda: [l["opportunity"] for l in run.lines if l["opportunity"]["blockNumber"] == block]
        run.wait(lambda: {"crossDex", "triangular"} <= {o["kind"] for o in at()}, 120, f"cross-DEX and triangular opportunities at block {block}")
        # A small follow-up on the same pool in the next block: every cycle through it is looked at
        # again, and nothing already published is published again.
        follow = sell(10**15)
        run.wait(lambda: any("lab-ethereum block %d" % follow in l for l in run.errors) or
                 any(l["opportunity"]["blockNumber"] >= follow for l in run.lines), 60, "the follow-up block")
        time.sleep(1)
        found = at()
        kinds = pool_kinds(m)
        for o in found:
            assert moved in [h["pool"].lower() for h in o["path"]], o
            assert o["path"][0]["tokenIn"] == o["path"][-1]["tokenOut"]
            # The executor, on the chain's state at that block, returns exactly the expected profit.
            got = execute_profit(devnet, o, int(o["amountIn"]), block)
            assert got == int(o["grossProfit"]), (o["kind"], got, o["grossProfit"])
            # No input nearby does better on the real contract.
            x = int(o["amountIn"])
            for d in (1, 7, 10**6, x // 1000, x // 100):
                for alt in (x - d, x + d):
                    p = execute_profit(devnet, o, alt, block)
                    assert p is None or p <= got, (o["kind"], alt, p, got)
            # All-V2 paths: brute force over every input on the pairs' reserves.
            if all(kinds[h["pool"].lower()][0] == 0 for h in o["path"]):
                best, profit = v2_best(devnet, o, block)
                assert profit(x) == got >= best, (o["kind"], best, got)
            assert int(o["netProfit"]) < int(o["grossProfit"]) and o["netProfitMicroUSD"] > 0
            t = o["timestamps"]
            assert 0 < t["eventReceived"] <= t["stateApplied"] <= t["detected"] <= t["published"]
        assert any(o["kind"] == "triangular" for o in found) and any(o["kind"] == "crossDex" for o in found)
        assert any(all(kinds[h["pool"].lower()][0] == 0 for h in o["path"]) for o in found if o["kind"] == "crossDex")
        # Published once: no cycle through the moved pool reappears in the follow-up block.
        paths = [tuple(h["pool"] for h in l["opportunity"]["path"]) for l in run.lines if l["opportunity"]["blockNumber"] >= block]
        assert len(paths) == len(set(paths)), paths
        ids = [l["opportunity"]["id"] for l in run.lines]
        assert len(ids) == len(set(ids))
    finally:
        assert run.stop() == 0, "".join(run.errors)[-2000:]
    # What it recorded replays: every opportunity it published found again, byte for byte.
    assert any(f"in {rec}" in l for l in run.errors), "".join(run.errors)[-2000:]
    out = subprocess.run([binary, "replay", str(rec), "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    replay = json.loads(out.stdout)
    [d] = replay["detection"]
    assert d["chain"] == "lab-ethereum" and d["published"] == len(run.lines) >= 2, d
    assert d["identical"] == d["published"] and d["different"] == 0 and d["undecodable"] == 0, d
    assert replay["skipped"] == [] and replay["chains"][0]["block"] >= follow
