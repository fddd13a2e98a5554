"""`arbiter run --execute` on a lab chain configured like Ethereum (Flashbots relay, Aave, Balancer,
the DAI flash mint): a gap opened by a swap is executed in a signed bundle, and what the chain
says (receipt, the relay's bundle log, the executor's balance read here) matches the journal;
in one process, and split into a detector and an executor over Redis."""
import os
import sqlite3
import time

import pytest
from eth_abi import decode, encode
from eth_utils import keccak

from test_cli_run import FAR, Run, rpc
from tools.devnet.lab_config import lab_config
from tools.devnet.testing import Devnet, Redis

NAME = "lab-mainnet"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("execute"))
    devnet = Devnet(1338, True, tmp, extra=("--block-time", "0.5"))
    config = os.path.join(tmp, "lab.toml")
    with open(config, "w") as f:
        f.write(lab_config([(NAME, devnet.manifest)], profiles={NAME: "ethereum"}))
    yield config, devnet, tmp
    devnet.stop()


def binary():
    return os.environ.get("ARBITER_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "arbiter"))


def balance(url, token, holder, block):
    data = keccak(text="balanceOf(address)")[:4] + encode(["address"], [holder])
    return decode(["uint256"], bytes.fromhex(rpc(url, "eth_call", {"to": token, "data": "0x" + data.hex()}, hex(block))[2:]))[0]


def receipts(journal):
    db = sqlite3.connect(journal)
    try:
        return db.execute("SELECT r.tx_hash, r.block, r.asset, r.expected_profit, r.detected_profit, r.realized_profit, r.event_profit, "
                          "s.executor, s.mode FROM receipt r JOIN submission s ON s.tx_hash = r.tx_hash").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def open_gap(devnet):
    """A trader's 25 WETH sale on SushiSwap: WETH/USDC there drifts from the other DEXs."""
    m = devnet.manifest
    trader, weth, usdc = m["keys"]["trader"], m["tokens"]["WETH"]["address"], m["tokens"]["USDC"]["address"]
    swap = keccak(text="swapExactTokensForTokens(uint256,uint256,address[],address,uint256)")[:4]
    data = swap + encode(["uint256", "uint256", "address[]", "address", "uint256"], [25 * 10**18, 0, [weth, usdc], trader, FAR])
    rpc(devnet.http, "eth_sendTransaction", {"from": trader, "to": m["dexes"]["sushiswap"]["router"], "data": "0x" + data.hex(), "gas": hex(400_000)})


def check_landed(devnet, journal):
    """Every receipt journaled: realized = expected = detected = the event's, a bundle the relay
    landed in that block, and the executor's balance over the block (read here) moved by it."""
    m = devnet.manifest
    bundles = rpc(devnet.http, "devnet_bundles")
    rows = receipts(journal)
    assert rows
    for tx, block, asset, expected, detected, realized, event, executor, mode in rows:
        assert expected == detected == realized == event and int(realized) > 0
        assert mode == "bundle"
        assert balance(devnet.http, asset, executor, block) - balance(devnet.http, asset, executor, block - 1) == int(realized)
        sent = [b for b in bundles if tx in b["txs"]]
        assert sent and sent[-1]["landed"] == block and sent[-1]["signer"]
        receipt = rpc(devnet.http, "eth_getTransactionReceipt", tx)
        assert int(receipt["status"], 16) == 1 and receipt["to"].lower() == executor.lower()
        assert executor.lower() in {m["executors"][k].lower() for k in ("balancerV2", "daiFlashMint", "aaveV3", "direct")}


def test_run_execute_lands_a_bundle_whose_realized_profit_is_the_detected_one(chain):
    config, devnet, tmp = chain
    m = devnet.manifest
    journal = os.path.join(tmp, "journal.sqlite")
    run = Run(binary(), ["--config", config, "--execute", "--journal", journal], env={"ARBITER_EXECUTOR_KEY": m["executorKey"]})
    try:
        run.wait(lambda: any("execution on 1 chain" in l for l in run.errors), 120, "execution to start")
        run.wait(lambda: any(f"{NAME} block" in l and "pools 16" in l for l in run.errors), 120, "the first status line")
        open_gap(devnet)
        run.wait(lambda: receipts(journal), 120, "a receipt in the journal")
        time.sleep(1)
    finally:
        run.stop()
    check_landed(devnet, journal)


def test_a_split_executor_keeps_its_own_state_and_lands_what_a_detector_process_publishes(chain):
    """Detection and execution in two processes over Redis: the executor watches the chain
    itself (it re-quotes on its own state, waiting for the detected block if it trails)."""
    config, devnet, tmp = chain
    m = devnet.manifest
    journal = os.path.join(tmp, "split.sqlite")
    redis = Redis()
    env = {"ARBITER_BUS_KEYS": "k1:" + "11" * 32}
    common = ["--config", config, "--redis", f"redis://127.0.0.1:{redis.port}"]
    executor = Run(binary(), [*common, "--role", "executor", "--execute", "--journal", journal], env={**env, "ARBITER_EXECUTOR_KEY": m["executorKey"]})
    detector = None
    try:
        executor.wait(lambda: any("execution on 1 chain" in l for l in executor.errors), 120, "execution to start")
        executor.wait(lambda: any(f"{NAME} block" in l and "pools 16" in l for l in executor.errors), 120, "the executor's own watcher")
        detector = Run(binary(), [*common, "--role", "detector"], env=env)
        detector.wait(lambda: any(f"{NAME} block" in l and "published" in l for l in detector.errors), 120, "the detector")
        open_gap(devnet)
        executor.wait(lambda: receipts(journal), 120, "a receipt in the split executor's journal")
        time.sleep(1)
        assert any("execution received" in l and "included" in l for l in executor.errors)
    finally:
        for r in (detector, executor):
            if r:
                r.stop()
        redis.stop()
    check_landed(devnet, journal)


def test_run_execute_needs_a_key_and_a_consuming_role(chain, arbiter):
    config, _, _ = chain
    p = arbiter("run", "--config", config, "--execute", "--seconds", "1", check=False)
    assert p.returncode == 1 and "ARBITER_EXECUTOR_KEY" in p.stderr
    p = arbiter("run", "--config", config, "--execute", "--role", "detector", check=False)
    assert p.returncode != 0 and "--role executor or all" in p.stderr
    p = arbiter("run", "--config", config, "--execute", "--seconds", "1", check=False, env_extra={"ARBITER_EXECUTOR_KEY": "0x1234"})
    assert p.returncode == 1 and "not a valid secp256k1 private key" in p.stderr and "0x1234" not in p.stderr
