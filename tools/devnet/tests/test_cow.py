"""The lab's CoW settlements on a served devnet: pending transactions announced as geth announces
them, the signed bytes by hash, bundles merged into one block, a settlement withdrawn."""
import asyncio
import json

import pytest
from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from websockets.asyncio.client import connect

from tools.devnet import cow
from tools.devnet.testing import Devnet

from test_devnet import KEY, rpc, signed  # noqa: E402 - the folder is on the path (pytest prepend)


@pytest.fixture(scope="module")
def manual(tmp_path_factory):
    """A lab devnet whose blocks the test mines (automine off)."""
    d = Devnet(1, True, str(tmp_path_factory.mktemp("cow")))
    rpc(d.http, "evm_setAutomine", [False])
    yield d
    d.stop()


async def pending(ws, full, action):
    """Subscribes to newPendingTransactions, runs `action`, and returns the first notification."""
    async with connect(ws) as s:
        await s.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                                 "params": ["newPendingTransactions", True] if full else ["newPendingTransactions"]}))
        sub = json.loads(await s.recv())["result"]
        h = await asyncio.get_running_loop().run_in_executor(None, action)
        while True:
            msg = json.loads(await asyncio.wait_for(s.recv(), 10))
            if msg.get("params", {}).get("subscription") == sub:
                return h, msg["params"]["result"]


def test_a_settlement_is_announced_pending_and_its_bytes_are_served(manual):
    settlement = manual.manifest["cow"]["settlement"]
    h, seen = asyncio.run(pending(manual.ws, False, lambda: rpc(manual.http, "devnet_cowSettle", [{"dex": "uniswap_v2"}])[1]["result"]))
    assert seen == h
    h, tx = asyncio.run(pending(manual.ws, True, lambda: rpc(manual.http, "devnet_cowSettle", [{"dex": "sushiswap", "sellWeth": False}])[1]["result"]))
    assert tx["hash"] == h and tx["to"].lower() == settlement.lower() and tx["blockNumber"] is None
    assert tx["input"].startswith("0x13d79a0b") and tx["from"] == manual.manifest["cow"]["solver"].lower()
    raw = rpc(manual.http, "eth_getRawTransactionByHash", [h])[1]["result"]
    assert "0x" + keccak(hexstr=raw).hex() == h
    assert Account.recover_transaction(raw).lower() == tx["from"]
    assert rpc(manual.http, "eth_getRawTransactionByHash", ["0x" + "00" * 32])[1]["result"] is None
    # Both settle when the block is mined, each emitting GPv2's Trade, Interaction and Settlement.
    rpc(manual.http, "evm_mine")
    w3 = Web3(Web3.HTTPProvider(manual.http))
    receipt = w3.eth.get_transaction_receipt(h)
    assert receipt.status == 1
    topics = ["0x" + l["topics"][0].hex().removeprefix("0x") for l in receipt.logs if l["address"].lower() == settlement.lower()]
    assert topics.count("0xa07a543ab8a018198e99ca0184c93fe9050a79400a0a723441f84de1d972cc17") == 1
    assert topics.count("0xed99827efb37016f2275f98c4bcf71c7551c75d59e9b450f79fa32e60be672c2") == 2
    assert topics[-1] == "0x40338ce1a7c49204f0099533b1e9a7ee0a3d261f84974ab7af36105b8c4e9db4"


def test_bundles_merge_and_a_bundle_behind_a_settlement_lands_right_after_it(manual):
    w3 = Web3(Web3.HTTPProvider(manual.http))
    me, other = Account.from_key(KEY).address, Account.from_key("0x" + "22" * 32).address
    for a in (me, other):
        rpc(manual.http, "devnet_fund", [a, hex(10**20)])
    rpc(manual.http, "evm_mine")
    dead = "0x000000000000000000000000000000000000dEaD"
    before = w3.eth.get_balance(dead)
    h = rpc(manual.http, "devnet_cowSettle", [{"dex": "uniswap_v2"}])[1]["result"]
    raw = rpc(manual.http, "eth_getRawTransactionByHash", [h])[1]["result"]
    target = w3.eth.block_number + 1
    back = signed(w3, dead, w3.eth.get_transaction_count(me), value=7, gas=21000)
    apart = signed(w3, dead, w3.eth.get_transaction_count(other), value=3, gas=21000, key="0x" + "22" * 32)
    late = signed(w3, dead, w3.eth.get_transaction_count(me), value=9, gas=21000)  # the same nonce as `back`: cannot land after it
    for txs in ([raw, "0x" + back.raw_transaction.hex()], ["0x" + apart.raw_transaction.hex()], ["0x" + late.raw_transaction.hex()]):
        assert "bundleHash" in rpc(manual.http, "eth_sendBundle", [{"txs": txs, "blockNumber": hex(target)}])[1]["result"]
    rpc(manual.http, "evm_mine")
    block = w3.eth.get_block(target)
    hashes = ["0x" + t.hex().removeprefix("0x") for t in block.transactions]
    assert hashes == [h, "0x" + back.hash.hex().removeprefix("0x"), "0x" + apart.hash.hex().removeprefix("0x")]
    assert w3.eth.get_balance(dead) - before == 7 + 3
    landed = {tuple(b["txs"]): b["landed"] for b in rpc(manual.http, "devnet_bundles")[1]["result"][-3:]}
    assert sorted(landed.values(), key=lambda v: v or 0) == [None, target, target]


def test_a_withdrawn_settlement_leaves_a_bundle_behind_it_nothing_to_land_on(manual):
    """The solver's settlement waits (tip below the pool's minimum); it then withdraws it with a no-op
    at a higher tip, which a builder prefers: the bundle carrying the settlement is left out."""
    w3 = Web3(Web3.HTTPProvider(manual.http))
    rpc(manual.http, "devnet_setMinTip", [hex(2 * 10**9)])
    try:
        h = rpc(manual.http, "devnet_cowSettle", [{"dex": "sushiswap", "tip": 10**9}])[1]["result"]
        assert h in rpc(manual.http, "devnet_txpool")[1]["result"]
        raw = rpc(manual.http, "eth_getRawTransactionByHash", [h])[1]["result"]
        rpc(manual.http, "devnet_dropBundles", [1])
        target = w3.eth.block_number + 1
        rpc(manual.http, "eth_sendBundle", [{"txs": [raw], "blockNumber": hex(target)}])
        noop = rpc(manual.http, "devnet_cowCancel", [hex(3 * 10**9)])[1]["result"]
        rpc(manual.http, "evm_mine")
        assert w3.eth.get_transaction_receipt(noop).blockNumber == target
        assert rpc(manual.http, "eth_getTransactionReceipt", [h])[1]["result"] is None
    finally:
        rpc(manual.http, "devnet_setMinTip", ["0x0"])
