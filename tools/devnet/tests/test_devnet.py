"""The devnet, driven by web3.py (an independent client) over HTTP and WebSocket."""
import asyncio
import json
import threading
import time
import urllib.request

import pytest
from eth_account import Account
from web3 import AsyncWeb3, Web3, WebSocketProvider

from tools.devnet.testing import Devnet

SYNC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"
SWAP_V2 = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
KEY = "0x" + "11" * 32


def rpc(url, method, params=(), raw=None):
    body = json.dumps(raw if raw is not None else {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def signed(w3, to, nonce, data=b"", value=0, gas=100_000, key=KEY):
    tx = {"type": 2, "chainId": w3.eth.chain_id, "nonce": nonce, "to": to, "value": value, "gas": gas, "data": data,
          "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9}
    return Account.sign_transaction(tx, key)


def test_http_basics_and_batches(lab):
    w3 = Web3(Web3.HTTPProvider(lab.http))
    assert w3.eth.chain_id == 1 and w3.net.version == "1"
    head = w3.eth.get_block("latest")
    assert head.number == w3.eth.block_number >= lab.manifest["deployedAtBlock"]
    assert w3.eth.get_block(head.hash).number == head.number
    weth = lab.manifest["tokens"]["WETH"]["address"]
    assert len(w3.eth.get_code(weth)) > 0
    # Batch: two answers in one round trip, ids preserved.
    _, out = rpc(lab.http, None, raw=[{"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []},
                                      {"jsonrpc": "2.0", "id": 8, "method": "eth_blockNumber", "params": []}])
    assert [r["id"] for r in out] == [7, 8] and out[0]["result"] == "0x1"
    # Malformed input gets JSON-RPC errors, not a dead server.
    assert rpc(lab.http, "eth_nope")[1]["error"]["code"] == -32601
    assert rpc(lab.http, None, raw={"id": 1})[1]["error"]["code"] == -32600


def test_raw_transactions_receipts_and_logs(fresh):
    w3 = Web3(Web3.HTTPProvider(fresh.http))
    me = Account.from_key(KEY).address
    rpc(fresh.http, "devnet_fund", [me, hex(10**20)])
    assert w3.eth.get_balance(me) == 10**20
    tx = signed(w3, "0x000000000000000000000000000000000000dEaD", 0, value=12345, gas=21000)
    h = w3.eth.send_raw_transaction(tx.raw_transaction)
    r = w3.eth.get_transaction_receipt(h)
    assert r.status == 1 and r.blockNumber == w3.eth.block_number
    assert w3.eth.get_transaction(h)["from"] == me
    assert w3.eth.get_balance("0x000000000000000000000000000000000000dEaD") == 12345
    assert w3.eth.estimate_gas({"from": me, "to": me, "value": 1}) == 21000
    history = w3.eth.fee_history(2, "latest", [50])
    assert len(history["baseFeePerGas"]) == 3


def test_lab_pools_and_getlogs_filters(lab):
    w3 = Web3(Web3.HTTPProvider(lab.http))
    pair = lab.manifest["dexes"]["sushiswap"]["pools"]["WETH/USDC"]
    logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": pair, "topics": [SYNC]})
    assert logs and all(l["address"].lower() == pair.lower() and l["topics"][0].hex().removeprefix("0x") == SYNC[2:] for l in logs)
    both = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": pair, "topics": [[SYNC, SWAP_V2]]})
    assert len(both) >= len(logs)
    # One block by hash; a null topic is a wildcard; an address list is an OR.
    last = logs[-1]
    by_hash = w3.eth.get_logs({"blockHash": last["blockHash"]})
    assert last in by_hash and all(l["blockNumber"] == last["blockNumber"] for l in by_hash)
    other = lab.manifest["dexes"]["uniswap_v2"]["pools"]["WETH/USDC"]
    wild = w3.eth.get_logs({"fromBlock": "earliest", "address": [pair, other], "topics": [None]})
    assert {l["address"].lower() for l in wild} == {pair.lower(), other.lower()}
    assert rpc(lab.http, "eth_getLogs", [{"blockHash": "0x" + "ab" * 32}])[1]["error"]["code"] == -32000


def test_websocket_receives_the_lab_pools_real_sync_and_swap_logs(lab):
    pair = lab.manifest["dexes"]["sushiswap"]["pools"]["WETH/USDC"]

    async def run():
        async with AsyncWeb3(WebSocketProvider(lab.ws)) as w3:
            heads = await w3.eth.subscribe("newHeads")
            logs = await w3.eth.subscribe("logs", {"address": pair, "topics": [[SYNC, SWAP_V2]]})
            # A swap on the pair, through HTTP, from the lab's trader (an unlocked devnet account).
            w3h = Web3(Web3.HTTPProvider(lab.http))
            trader = lab.manifest["keys"]["trader"]
            usdc = lab.manifest["tokens"]["USDC"]["address"]
            amount = 1000 * 10**6
            pair_c = w3h.eth.contract(pair, abi=[{"name": "getReserves", "type": "function", "inputs": [], "stateMutability": "view",
                                                  "outputs": [{"type": "uint112"}, {"type": "uint112"}, {"type": "uint32"}]},
                                                 {"name": "swap", "type": "function", "stateMutability": "nonpayable", "outputs": [],
                                                  "inputs": [{"type": "uint256"}, {"type": "uint256"}, {"type": "address"}, {"type": "bytes"}]}])
            erc = w3h.eth.contract(usdc, abi=[{"name": "transfer", "type": "function", "stateMutability": "nonpayable",
                                               "inputs": [{"type": "address"}, {"type": "uint256"}], "outputs": [{"type": "bool"}]}])
            r0, r1, _ = pair_c.functions.getReserves().call()
            weth = lab.manifest["tokens"]["WETH"]["address"]
            usdc_is_0 = int(usdc, 16) < int(weth, 16)
            r_in, r_out = (r0, r1) if usdc_is_0 else (r1, r0)
            out = amount * 997 * r_out // (r_in * 1000 + amount * 997)
            send = lambda fn: w3h.eth.send_transaction({**fn.build_transaction({"from": trader, "gas": 200_000, "maxFeePerGas": 10**11,
                                                                                 "maxPriorityFeePerGas": 10**9, "nonce": w3h.eth.get_transaction_count(trader)})})
            send(erc.functions.transfer(pair, amount))
            send(pair_c.functions.swap(*( [0, out] if usdc_is_0 else [out, 0]), trader, b""))
            seen = {"heads": 0, "sync": 0, "swap": 0}

            async def collect():
                async for msg in w3.socket.process_subscriptions():
                    sub, result = msg["subscription"], msg["result"]
                    if sub == heads:
                        seen["heads"] += 1
                    elif sub == logs:
                        topic = result["topics"][0].hex() if hasattr(result["topics"][0], "hex") else result["topics"][0]
                        topic = topic if topic.startswith("0x") else "0x" + topic
                        seen["sync" if topic == SYNC else "swap"] += 1
                        assert result["address"].lower() == pair.lower() and result["removed"] is False
                    if seen["heads"] >= 1 and seen["sync"] >= 1 and seen["swap"] >= 1:
                        return

            await asyncio.wait_for(collect(), 30)
            assert await w3.eth.unsubscribe(logs)
            return seen

    seen = asyncio.run(run())
    assert seen["sync"] >= 1 and seen["swap"] >= 1


def test_bundle_lands_atomically_or_not_at_all(fresh):
    w3 = Web3(Web3.HTTPProvider(fresh.http))
    me = Account.from_key(KEY).address
    rpc(fresh.http, "devnet_fund", [me, hex(10**20)])
    dead = "0x000000000000000000000000000000000000dEaD"
    # A transaction that reverts: call a contract whose code is a single REVERT.
    reverter = w3.eth.get_transaction_receipt(w3.eth.send_raw_transaction(
        signed(w3, None, 0, data=bytes.fromhex("600160 0c 60 00 39 6001 6000 f3 fd".replace(" ", "")), gas=100_000).raw_transaction)).contractAddress
    n = w3.eth.get_transaction_count(me)
    ok = signed(w3, dead, n, value=1, gas=21000)
    bad = signed(w3, reverter, n + 1, gas=50_000)
    target = w3.eth.block_number + 1
    status, out = rpc(fresh.http, "eth_sendBundle", [{"txs": ["0x" + ok.raw_transaction.hex(), "0x" + bad.raw_transaction.hex()], "blockNumber": hex(target)}])
    assert "bundleHash" in out["result"]
    rpc(fresh.http, "evm_mine")
    assert w3.eth.get_balance(dead) == 0  # nothing landed: the reverting tx sank the whole bundle
    assert w3.eth.get_transaction_count(me) == n
    target = w3.eth.block_number + 1
    rpc(fresh.http, "eth_sendBundle", [{"txs": ["0x" + ok.raw_transaction.hex(), "0x" + bad.raw_transaction.hex()], "blockNumber": hex(target),
                                        "revertingTxHashes": ["0x" + bad.hash.hex()]}])
    rpc(fresh.http, "evm_mine")
    block = w3.eth.get_block(target)
    assert [t.hex().removeprefix("0x") for t in block.transactions] == [ok.hash.hex().removeprefix("0x"), bad.hash.hex().removeprefix("0x")]
    assert w3.eth.get_balance(dead) == 1
    # callBundle simulates without changing state, in Flashbots' result shape.
    n = w3.eth.get_transaction_count(me)
    sim = rpc(fresh.http, "eth_callBundle", [{"txs": ["0x" + signed(w3, dead, n, value=5, gas=21000).raw_transaction.hex()],
                                               "blockNumber": hex(w3.eth.block_number + 1), "stateBlockNumber": "latest"}])[1]["result"]
    assert sim["totalGasUsed"] == 21000 and sim["results"][0]["gasUsed"] == 21000 and "coinbaseDiff" in sim
    assert w3.eth.get_balance(dead) == 1


def test_reorg_delivers_removed_logs(fresh):
    w3 = Web3(Web3.HTTPProvider(fresh.http))
    me = Account.from_key(KEY).address
    rpc(fresh.http, "devnet_fund", [me, hex(10**20)])
    # A contract that logs on every call: LOG0 of nothing.
    logger = w3.eth.get_transaction_receipt(w3.eth.send_raw_transaction(
        signed(w3, None, 0, data=bytes.fromhex("6003600c60003960036000f3" + "5f5fa0"), gas=100_000).raw_transaction)).contractAddress

    async def run():
        async with AsyncWeb3(WebSocketProvider(fresh.ws)) as ws3:
            sub = await ws3.eth.subscribe("logs", {"address": logger})
            for i in range(2):
                w3.eth.send_raw_transaction(signed(w3, logger, w3.eth.get_transaction_count(me), gas=50_000).raw_transaction)
            live, removed = [], []

            async def collect():
                async for msg in ws3.socket.process_subscriptions():
                    (removed if msg["result"]["removed"] else live).append(msg["result"])
                    if len(live) == 2 and not removed:
                        rpc(fresh.http, "devnet_reorg", [2])
                    if len(removed) == 2:
                        return

            await asyncio.wait_for(collect(), 30)
            return live, removed

    live, removed = asyncio.run(run())
    assert {l["blockHash"] for l in removed} == {l["blockHash"] for l in live}
    # The blocks that carried them are gone from the canonical chain.
    for l in live:
        assert w3.eth.get_block(l["blockNumber"]).hash != l["blockHash"]


def test_fault_injection(fresh):
    rpc(fresh.http, "devnet_rateLimit", [2])
    status, out = rpc(fresh.http, "eth_chainId")
    assert status == 429 and out["error"]["code"] == -32005
    rpc(fresh.http, "eth_chainId")
    assert rpc(fresh.http, "eth_chainId") == (200, {"jsonrpc": "2.0", "id": 1, "result": hex(31337)})

    async def drop():
        async with AsyncWeb3(WebSocketProvider(fresh.ws)) as ws3:
            await ws3.eth.subscribe("newHeads")
            rpc(fresh.http, "devnet_dropWebSockets")
            try:
                async for _ in ws3.socket.process_subscriptions():
                    pass
            except Exception as e:  # the client must see the connection close
                return type(e).__name__
            return "ended"

    outcome = asyncio.run(asyncio.wait_for(drop(), 20))
    assert "Closed" in outcome or outcome == "ended", outcome
    # Delay: every answer waits at least the injected time.
    rpc(fresh.http, "devnet_setDelay", [300])
    start = time.monotonic()
    rpc(fresh.http, "eth_blockNumber")
    assert time.monotonic() - start >= 0.3
    rpc(fresh.http, "devnet_setDelay", [0])
    # Slow answers: computed when asked, delivered later; other methods and requests go on meanwhile.
    rpc(fresh.http, "devnet_slowAnswers", [1000, ["eth_blockNumber"]])
    head = int(rpc(fresh.http, "eth_getBlockByNumber", ["latest", False])[1]["result"]["number"], 16)
    late = {}
    asker = threading.Thread(target=lambda: late.update(answer=rpc(fresh.http, "eth_blockNumber")[1]["result"], at=time.monotonic()))
    start = time.monotonic()
    asker.start()
    time.sleep(0.3)
    rpc(fresh.http, "evm_mine")
    assert int(rpc(fresh.http, "eth_getBlockByNumber", ["latest", False])[1]["result"]["number"], 16) == head + 1
    asker.join(10)
    assert int(late["answer"], 16) == head and late["at"] - start >= 1.0
    rpc(fresh.http, "devnet_slowAnswers", [0, []])
    # Failing reads: the named methods answer an internal error until cleared; others answer.
    rpc(fresh.http, "devnet_failMethods", [["eth_getTransactionReceipt"]])
    status, out = rpc(fresh.http, "eth_getTransactionReceipt", ["0x" + "00" * 32])
    assert status == 200 and out["error"]["code"] == -32603 and "injected" in out["error"]["message"]
    assert "result" in rpc(fresh.http, "eth_blockNumber")[1]
    rpc(fresh.http, "devnet_failMethods", [[]])
    assert rpc(fresh.http, "eth_getTransactionReceipt", ["0x" + "00" * 32])[1]["result"] is None


def test_three_devnets_side_by_side(tmp_path):
    nets = [Devnet(cid, True, str(tmp_path)) for cid in (1, 42161, 81457)]
    try:
        ids = [Web3(Web3.HTTPProvider(d.http)).eth.chain_id for d in nets]
        assert ids == [1, 42161, 81457]
        assert len({d.port for d in nets}) == 3
        for d in nets:
            assert d.manifest["chainId"] == Web3(Web3.HTTPProvider(d.http)).eth.chain_id
    finally:
        for d in nets:
            d.stop()


def test_state_reads_at_block_tags_and_chain_control(fresh):
    w3 = Web3(Web3.HTTPProvider(fresh.http))
    me = Account.from_key(KEY).address
    dead = "0x000000000000000000000000000000000000dEaD"
    rpc(fresh.http, "devnet_fund", [me, hex(10**20)])
    assert w3.client_version.startswith("arbiter-devnet")
    assert w3.eth.gas_price > 0 and w3.eth.max_priority_fee > 0
    before = w3.eth.block_number
    # A contract whose constructor stores 42 in slot 0 and whose code returns sload(0).
    init = bytes.fromhex("602a600055" "600b6011600039" "600b6000f3" "60005460005260206000f3")
    created = w3.eth.get_transaction_receipt(w3.eth.send_raw_transaction(
        signed(w3, None, 0, data=init, gas=100_000).raw_transaction)).contractAddress
    assert w3.eth.get_storage_at(created, 0) == (42).to_bytes(32, "big")
    assert int.from_bytes(w3.eth.call({"to": created}), "big") == 42
    assert w3.eth.get_code(created, block_identifier=before) == b""
    assert w3.eth.call({"to": created}, block_identifier=before) == b""
    assert w3.eth.get_transaction_count(me, before) == 0 and w3.eth.get_transaction_count(me) == 1
    # A call needs no balance for gas (no fee fields), as in geth; estimateGas bisects to the exact need.
    # PUSH1 3, cold SLOAD 2100, PUSH1 3, MSTORE 3 + one word of memory 3, PUSH1 3, PUSH1 3, RETURN 0.
    assert w3.eth.estimate_gas({"from": "0x" + "77" * 20, "to": created}) == 21000 + 3 + 2100 + 3 + 6 + 3 + 3
    # Revert data comes back as JSON-RPC error 3 with the raw bytes, for calls and estimates alike.
    reverter = w3.eth.get_transaction_receipt(w3.eth.send_raw_transaction(signed(
        w3, None, 1, data=bytes.fromhex("600d600c600039600d6000f3" "63deadbeef6000526004601cfd"), gas=100_000
    ).raw_transaction)).contractAddress
    for method in ("eth_call", "eth_estimateGas"):
        err = rpc(fresh.http, method, [{"to": reverter}, "latest"])[1]["error"]
        assert err["code"] == 3 and err["data"] == "0xdeadbeef"
    # Snapshot and revert: the chain and the balance go back.
    snap = rpc(fresh.http, "evm_snapshot")[1]["result"]
    height = w3.eth.block_number
    w3.eth.send_raw_transaction(signed(w3, dead, 2, value=7, gas=21000).raw_transaction)
    assert w3.eth.get_balance(dead) == 7 and w3.eth.get_balance(dead, height) == 0
    assert rpc(fresh.http, "evm_revert", [snap])[1]["result"] is True
    assert w3.eth.block_number == height and w3.eth.get_balance(dead) == 0
    # Automine off: transactions wait for evm_mine, and share its block.
    rpc(fresh.http, "evm_setAutomine", [False])
    a = w3.eth.send_raw_transaction(signed(w3, dead, 2, value=1, gas=21000).raw_transaction)
    b = w3.eth.send_raw_transaction(signed(w3, dead, 3, value=2, gas=21000).raw_transaction)
    assert w3.eth.block_number == height
    rpc(fresh.http, "evm_mine")
    ra, rb = w3.eth.get_transaction_receipt(a), w3.eth.get_transaction_receipt(b)
    assert ra.blockNumber == rb.blockNumber == height + 1 and w3.eth.get_balance(dead) == 3
    # Interval mining makes blocks on its own.
    rpc(fresh.http, "evm_setIntervalMining", [200])
    deadline = time.time() + 10
    while w3.eth.block_number < height + 3 and time.time() < deadline:
        time.sleep(0.05)
    assert w3.eth.block_number >= height + 3
    rpc(fresh.http, "evm_setIntervalMining", [0])


def relay_post(url, body: bytes, header):
    req = urllib.request.Request(url.rstrip("/") + "/relay", body, {"Content-Type": "application/json", **header})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def flashbots_header(body: bytes, key):
    from eth_account.messages import encode_defunct
    from eth_utils import keccak
    acct = Account.from_key(key)
    sig = acct.sign_message(encode_defunct(text="0x" + keccak(body).hex())).signature.hex()
    return {"X-Flashbots-Signature": f"{acct.address}:0x{sig.removeprefix('0x')}"}


def test_relay_checks_the_flashbots_signature_and_lands_bundles_at_the_top_of_the_block(fresh):
    from eth_account.messages import encode_defunct
    from eth_utils import keccak
    # The signature scheme against the published vector (protocol facts §5).
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_sendBundle","params":[{"txs":["0x01"],"blockNumber":"0x1"}]}'
    assert keccak(body).hex() == "ccde410f68d992d2395191ca307a57954cad7166d454b015fdd534a6bbf99d52"
    assert Account.recover_message(encode_defunct(text="0x" + keccak(body).hex()), signature=bytes.fromhex(
        "efd2fbac3a5f639bd885410ef7efcb56d4769416336f0524c7b8b479ce8d6bdb1d91b93cd14a9aa6555a51a4dcbd9bf5c20a540c11b2588a716e88bdd3453d2f1c")
    ) == "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"

    w3 = Web3(Web3.HTTPProvider(fresh.http))
    me, other = Account.from_key(KEY).address, "0x" + "22" * 32
    rpc(fresh.http, "devnet_fund", [me, hex(10**20)])
    rpc(fresh.http, "devnet_fund", [Account.from_key(other).address, hex(10**20)])
    dead = "0x000000000000000000000000000000000000dEaD"
    rpc(fresh.http, "evm_setAutomine", [False])
    try:
        # An ordinary transaction enters the block being built first...
        plain = signed(w3, dead, w3.eth.get_transaction_count(Account.from_key(other).address), value=7, gas=21000, key=other)
        rpc(fresh.http, "eth_sendRawTransaction", ["0x" + plain.raw_transaction.hex()])
        target = w3.eth.block_number + 1
        mine = signed(w3, dead, w3.eth.get_transaction_count(me), value=3, gas=21000)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendBundle",
                           "params": [{"txs": ["0x" + mine.raw_transaction.hex()], "blockNumber": hex(target)}]}).encode()
        # ...a bundle with a bad or missing signature is refused...
        assert relay_post(fresh.http, body, {})[0] == 403
        assert relay_post(fresh.http, body, flashbots_header(body + b" ", KEY))[0] == 403
        assert relay_post(fresh.http, body, flashbots_header(body, KEY) | {"X-Flashbots-Signature": Account.from_key(other).address + ":0x" + "00" * 65})[0] == 403
        # ...one signed by any reputation key is accepted, and lands ahead of the ordinary transaction.
        status, out = relay_post(fresh.http, body, flashbots_header(body, "0x" + "33" * 32))
        assert status == 200 and "bundleHash" in out["result"], out
        rpc(fresh.http, "evm_mine")
        block = w3.eth.get_block(target)
        assert [t.hex().removeprefix("0x") for t in block.transactions] == [mine.hash.hex().removeprefix("0x"), plain.hash.hex().removeprefix("0x")]
        log = rpc(fresh.http, "devnet_bundles")[1]["result"]
        assert log[-1]["landed"] == target and log[-1]["signer"] == Account.from_key("0x" + "33" * 32).address.lower()
        # The relay serves bundles only.
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode()
        assert relay_post(fresh.http, body, flashbots_header(body, KEY))[1]["error"]["code"] == -32601
    finally:
        rpc(fresh.http, "evm_setAutomine", [True])


def test_raw_transactions_and_unlocked_account_transactions_share_a_block(fresh):
    """Signed transactions (ours) and eth_sendTransaction (the lab relayer's, devnet_fund) in one
    block: every one lands (eth-tester's own send_transaction used to rebuild the block being built
    and silently drop the raw ones before it), and an unlocked account's consecutive nonces share it."""
    w3 = Web3(Web3.HTTPProvider(fresh.http))
    me = Account.from_key(KEY).address
    rpc(fresh.http, "devnet_fund", [me, hex(10**20)])
    unlocked = rpc(fresh.http, "eth_accounts")[1]["result"][2]
    rpc(fresh.http, "evm_setAutomine", [False])
    try:
        n = w3.eth.get_transaction_count(me)
        ours = Account.sign_transaction({"type": 2, "chainId": w3.eth.chain_id, "nonce": n, "to": "0x000000000000000000000000000000000000dEaD",
                                         "value": 5, "gas": 21000, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9}, KEY)
        assert w3.eth.send_raw_transaction(ours.raw_transaction) == ours.hash
        theirs = [rpc(fresh.http, "eth_sendTransaction", [{"from": unlocked, "to": "0x000000000000000000000000000000000000bEEF", "value": "0x7"}])[1]["result"]
                  for _ in range(2)]
        rpc(fresh.http, "devnet_fund", ["0x000000000000000000000000000000000000cafE", "0x9"])
        rpc(fresh.http, "evm_mine")
        block = w3.eth.get_block("latest")
        assert w3.eth.get_transaction_receipt(ours.hash).blockNumber == block.number
        for h in theirs:
            assert w3.eth.get_transaction_receipt(h).blockNumber == block.number
        assert len(block.transactions) == 4 and w3.eth.get_transaction_count(me) == n + 1
        assert w3.eth.get_balance("0x000000000000000000000000000000000000cafE") == 9
    finally:
        rpc(fresh.http, "evm_setAutomine", [True])


def test_a_transaction_tipping_below_the_minimum_waits_and_is_replaced_only_at_ten_percent_more(fresh):
    w3 = Web3(Web3.HTTPProvider(fresh.http))
    me = Account.from_key(KEY).address
    rpc(fresh.http, "devnet_fund", [me, hex(10**20)])
    dead = "0x000000000000000000000000000000000000dEaD"
    n = w3.eth.get_transaction_count(me)

    def tx(tip, max_fee=10**11, value=1):
        return Account.sign_transaction({"type": 2, "chainId": 1, "nonce": n, "to": dead, "value": value, "gas": 21000,
                                         "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip}, KEY)

    rpc(fresh.http, "devnet_setMinTip", [hex(2 * 10**9)])
    first = tx(10**9)
    assert w3.eth.send_raw_transaction(first.raw_transaction) == first.hash
    rpc(fresh.http, "evm_mine")
    assert rpc(fresh.http, "eth_getTransactionReceipt", ["0x" + first.hash.hex()])[1]["result"] is None
    assert rpc(fresh.http, "devnet_txpool")[1]["result"] == ["0x" + first.hash.hex()]
    # Known to the node, not mined (as geth answers for a pooled transaction).
    known = rpc(fresh.http, "eth_getTransactionByHash", ["0x" + first.hash.hex()])[1]["result"]
    assert known["hash"] == "0x" + first.hash.hex() and known["blockNumber"] is None and int(known["nonce"], 16) == n
    assert known["from"].lower() == me.lower() and int(known["maxPriorityFeePerGas"], 16) == 10**9
    # geth counts waiting transactions in the pending nonce; the latest one is unchanged.
    assert w3.eth.get_transaction_count(me, "pending") == n + 1 and w3.eth.get_transaction_count(me) == n
    # 9% more on both caps is not a replacement; 10% more on only one is not either.
    for tip, max_fee in [(1_090_000_000, 109 * 10**9), (1_100_000_000, 10**11)]:
        err = rpc(fresh.http, "eth_sendRawTransaction", ["0x" + tx(tip, max_fee).raw_transaction.hex()])[1]["error"]
        assert err["message"] == "replacement transaction underpriced"
    # 10% more on both: it replaces the first, and still waits (tip 1.1 gwei < 2 gwei).
    second = tx(1_100_000_000, 110 * 10**9, value=2)
    w3.eth.send_raw_transaction(second.raw_transaction)
    assert rpc(fresh.http, "devnet_txpool")[1]["result"] == ["0x" + second.hash.hex()]
    # Enough tip: it goes into the next block, the waiting one is gone, the value is the new one.
    third = tx(2 * 10**9, 121 * 10**9, value=3)
    w3.eth.send_raw_transaction(third.raw_transaction)
    rpc(fresh.http, "evm_mine")
    assert w3.eth.get_transaction_receipt(third.hash).status == 1
    assert rpc(fresh.http, "devnet_txpool")[1]["result"] == [] and w3.eth.get_balance(dead) == 3
    # Below the minimum again, then the minimum is lowered: the waiting transaction is mined.
    n += 1
    fourth = tx(10**9, value=4)
    w3.eth.send_raw_transaction(fourth.raw_transaction)
    rpc(fresh.http, "devnet_setMinTip", ["0x0"])
    rpc(fresh.http, "evm_mine")
    assert w3.eth.get_transaction_receipt(fourth.hash).status == 1 and w3.eth.get_balance(dead) == 7
    # A stale nonce is refused while the pool is in use.
    rpc(fresh.http, "devnet_setMinTip", [hex(2 * 10**9)])
    err = rpc(fresh.http, "eth_sendRawTransaction", ["0x" + tx(10**9).raw_transaction.hex()])[1]["error"]
    assert err["message"] == "nonce too low"
    # A node evicts what waited too long: gone from the pool, unknown by hash, the nonce free again.
    n += 1
    fifth = tx(10**9, value=5)
    w3.eth.send_raw_transaction(fifth.raw_transaction)
    assert rpc(fresh.http, "devnet_dropPool")[1]["result"] == ["0x" + fifth.hash.hex()]
    assert rpc(fresh.http, "devnet_txpool")[1]["result"] == []
    assert rpc(fresh.http, "eth_getTransactionByHash", ["0x" + fifth.hash.hex()])[1]["result"] is None
    assert w3.eth.get_transaction_count(me, "pending") == n


def test_a_used_nonce_is_refused_as_geth_refuses_it_and_never_stops_the_miner(fresh):
    """A transaction whose nonce the chain has passed (a bundle that already landed, sent again for
    the next block): the node answers -32000 "nonce too low" to eth_sendRawTransaction and to
    eth_callBundle, and the block the stale bundle targets is still mined, with the ordinary
    transactions waiting for it (py-evm's own validation error used to escape as an internal error
    and, from a bundle, stop the miner)."""
    w3 = Web3(Web3.HTTPProvider(fresh.http))
    me = Account.from_key(KEY).address
    rpc(fresh.http, "devnet_fund", [me, hex(10**20)])
    dead = "0x000000000000000000000000000000000000dEaD"
    n = w3.eth.get_transaction_count(me)
    landed = signed(w3, dead, n, value=1, gas=21000)
    rpc(fresh.http, "eth_sendBundle", [{"txs": ["0x" + landed.raw_transaction.hex()], "blockNumber": hex(w3.eth.block_number + 1)}])
    rpc(fresh.http, "evm_mine")
    assert w3.eth.get_transaction_receipt(landed.hash).status == 1 and w3.eth.get_transaction_count(me) == n + 1

    err = rpc(fresh.http, "eth_sendRawTransaction", ["0x" + landed.raw_transaction.hex()])[1]["error"]
    assert err["code"] == -32000 and "nonce too low" in err["message"]
    err = rpc(fresh.http, "eth_callBundle", [{"txs": ["0x" + landed.raw_transaction.hex()], "blockNumber": hex(w3.eth.block_number + 1)}])[1]["error"]
    assert err["code"] == -32000 and "nonce too low" in err["message"]

    rpc(fresh.http, "evm_setAutomine", [False])
    try:
        rpc(fresh.http, "eth_sendBundle", [{"txs": ["0x" + landed.raw_transaction.hex()], "blockNumber": hex(w3.eth.block_number + 1)}])
        ordinary = signed(w3, dead, n + 1, value=2, gas=21000)
        w3.eth.send_raw_transaction(ordinary.raw_transaction)
        head = w3.eth.block_number
        assert "result" in rpc(fresh.http, "evm_mine")[1]
        assert w3.eth.block_number == head + 1
        assert w3.eth.get_transaction_receipt(ordinary.hash).blockNumber == head + 1
        assert w3.eth.get_balance(dead) == 3
    finally:
        rpc(fresh.http, "evm_setAutomine", [True])


def test_an_outage_refuses_connections_then_serves_the_same_chain_again(fresh):
    """devnet_outage: what a node restart looks like to its clients (the chain kept): the port
    refuses connections for the given time, then answers again with the same chain."""
    rpc(fresh.http, "evm_mine")
    head = rpc(fresh.http, "eth_blockNumber")[1]["result"]
    assert rpc(fresh.http, "devnet_outage", [1.5])[1]["result"] is True
    time.sleep(0.5)
    with pytest.raises(OSError):
        urllib.request.urlopen(urllib.request.Request(fresh.http, data=b"{}", headers={"Content-Type": "application/json"}), timeout=2)
    deadline = time.monotonic() + 20
    while True:
        try:
            answer = rpc(fresh.http, "eth_blockNumber")[1]["result"]
            break
        except OSError:
            assert time.monotonic() < deadline, "the devnet did not come back"
            time.sleep(0.2)
    assert int(answer, 16) >= int(head, 16)
    assert rpc(fresh.http, "eth_chainId")[1]["result"] == hex(31337)
