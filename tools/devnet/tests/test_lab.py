"""The lab scenario's market: real routers, swaps every block, and now and then an arbitrage opening."""
import time

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as sel
from web3 import Web3

from tools.devnet.testing import Devnet
from tools.devnet.lab import Lab
from tools.devnet.node import Node

SWAP_V2 = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
SWAP_V3 = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"


@pytest.fixture(scope="module")
def world():
    node = Node(chain_id=10)
    lab = Lab(node, seed=7)
    lab.deploy_all()
    node.automine = False  # one block per market round, as interval mining does
    return node, lab


def call(node, to, sig, types=(), args=(), out=()):
    data = "0x" + (sel(sig) + encode(list(types), list(args))).hex()
    res = node.t.call({"from": node.accounts[0], "to": to, "data": data})
    return decode(list(out), res if isinstance(res, bytes) else bytes.fromhex(res[2:]))


def weth_price(node, lab, dex, pair_name="WETH/USDC"):
    """Quote-token units per WETH in the pair's reserves, as an exact fraction (numerator, denominator)."""
    m = lab.m
    pair = m["dexes"][dex]["pools"][pair_name]
    r0, r1, _ = call(node, pair, "getReserves()", out=["uint112", "uint112", "uint32"])
    weth = m["tokens"]["WETH"]["address"]
    quote = m["tokens"][pair_name.split("/")[1]]["address"]
    return (r1, r0) if int(weth, 16) < int(quote, 16) else (r0, r1)


def test_routers_reach_the_lab_pools(world):
    """The patched Sushi router finds the lab's pairs; its quote is the constant-product formula
    on the pair's own reserves."""
    node, lab = world
    m = lab.m
    weth, usdc = m["tokens"]["WETH"]["address"], m["tokens"]["USDC"]["address"]
    for dex in ("sushiswap", "uniswap_v2"):
        (factory_of_router,) = call(node, m["dexes"][dex]["router"], "factory()", out=["address"])
        assert factory_of_router.lower() == m["dexes"][dex]["factory"].lower()
        amount = 10**18
        (amounts,) = call(node, m["dexes"][dex]["router"], "getAmountsOut(uint256,address[])",
                          ["uint256", "address[]"], [amount, [weth, usdc]], ["uint256[]"])
        quote, base = weth_price(node, lab, dex)
        assert amounts[1] == amount * 997 * quote // (base * 1000 + amount * 997)


def test_market_swaps_every_block_and_sometimes_opens_an_arbitrage(world):
    node, lab = world
    m = lab.m
    v2_pairs = {p.lower() for d in ("sushiswap", "uniswap_v2") for p in m["dexes"][d]["pools"].values()}
    v3_pools = {p.lower() for p in m["dexes"]["uniswap_v3"]["pools"].values()}
    first = node.latest_number() + 1
    best_gap = 0.0
    v2_swaps = v3_swaps = 0
    for _ in range(60):
        lab.market_round()
        node.mine()
        block = node.t.get_block_by_number("latest")
        assert 1 <= len(block["transactions"]) <= 3
        for h in block["transactions"]:
            r = node.t.get_transaction_receipt(h)
            assert r["status"] == 1, "a market swap reverted"
            swaps = [l for l in r["logs"] if l["topics"][0] in (SWAP_V2, SWAP_V3)]
            assert len(swaps) == 1
            pool = swaps[0]["address"].lower()
            v2_swaps += pool in v2_pairs
            v3_swaps += pool in v3_pools
        # A round trip through both V2 venues costs two 0.3% fees: the gap must beat 1/0.997² - 1.
        (qa, ba), (qb, bb) = weth_price(node, lab, "sushiswap"), weth_price(node, lab, "uniswap_v2")
        ratio = (qa * bb) / (qb * ba)
        best_gap = max(best_gap, ratio, 1 / ratio)
    assert node.latest_number() == first + 59
    assert lab.market_failures == 0 and lab.market_swaps >= 60
    assert v2_swaps > 10 and v3_swaps > 10
    assert best_gap > 1 / 0.997**2, f"no arbitrage opened between the V2 venues in 60 blocks (best {best_gap})"


def test_log_indices_count_across_the_block(world):
    """As geth numbers them: logIndex runs across the whole block (eth-tester restarts it in every
    transaction, which made two swaps in one block share a position), and a receipt's logs carry
    the same indices as eth_getLogs."""
    node, lab = world
    for _ in range(10):
        lab.market_round()
        node.mine()
    head = node.latest_number()
    shared = 0
    for n in range(head - 9, head + 1):
        logs = node.rpc_eth_getLogs({"fromBlock": hex(n), "toBlock": hex(n)})
        assert [int(l["logIndex"], 16) for l in logs] == list(range(len(logs)))
        txs = list(dict.fromkeys(l["transactionHash"] for l in logs))
        shared += len(txs) > 1
        for h in txs:
            assert node.rpc_eth_getTransactionReceipt(h)["logs"] == [l for l in logs if l["transactionHash"] == h]
    assert shared > 0


def test_market_runs_on_a_served_devnet(tmp_path):
    """`--market` on a served devnet: interval mining, and the trader's swaps in consecutive blocks."""
    d = Devnet(8453, True, str(tmp_path), extra=("--market", "--block-time", "0.4"))
    try:
        w3 = Web3(Web3.HTTPProvider(d.http))
        start = w3.eth.block_number
        deadline = time.time() + 30
        while w3.eth.block_number < start + 6 and time.time() < deadline:
            time.sleep(0.2)
        end = w3.eth.block_number
        assert end >= start + 6, "interval mining stalled"
        trader = d.manifest["keys"]["trader"].lower()
        with_swaps = 0
        for n in range(start + 1, end + 1):
            block = w3.eth.get_block(n, full_transactions=True)
            if any(tx["from"].lower() == trader for tx in block.transactions):
                with_swaps += 1
        # Every block after the first full round carries the market's swaps.
        assert with_swaps >= (end - start) - 1
        logs = w3.eth.get_logs({"fromBlock": start + 1, "toBlock": end, "topics": [[SWAP_V2, SWAP_V3]]})
        assert len(logs) >= end - start - 1
    finally:
        d.stop()


def test_multicall3_batches_reads_like_direct_calls(world):
    """The lab's Multicall3: aggregate3 answers each call as a direct eth_call would, honours
    allowFailure, and aggregate returns the block number with the answers."""
    node, lab = world
    m = lab.m
    mc = m["multicall3"]
    pairs = [m["dexes"][d]["pools"][n] for d in ("sushiswap", "uniswap_v2") for n in ("WETH/USDC", "WETH/DAI")]
    get_reserves = sel("getReserves()")
    missing = "0x000000000000000000000000000000000000dEaD"  # no code: the call succeeds with empty data
    bad = (m["tokens"]["USDC"]["address"], True, sel("transferFrom(address,address,uint256)") +
           encode(["address", "address", "uint256"], [missing, missing, 1]))  # reverts: no allowance
    calls = [(p, False, get_reserves) for p in pairs] + [bad]
    (results,) = call(node, mc, "aggregate3((address,bool,bytes)[])", ["(address,bool,bytes)[]"], [calls],
                      ["(bool,bytes)[]"])
    assert len(results) == 5
    for p, (ok, data) in zip(pairs, results[:4]):
        direct = node.t.call({"from": node.accounts[0], "to": p, "data": "0x" + get_reserves.hex()})
        direct = direct if isinstance(direct, bytes) else bytes.fromhex(direct[2:])
        assert ok and data == direct
    assert results[4][0] is False
    with pytest.raises(Exception):
        call(node, mc, "aggregate3((address,bool,bytes)[])", ["(address,bool,bytes)[]"],
             [[(bad[0], False, bad[2])]], ["(bool,bytes)[]"])
    number, answers = call(node, mc, "aggregate((address,bytes)[])", ["(address,bytes)[]"],
                           [[(p, get_reserves) for p in pairs]], ["uint256", "bytes[]"])
    assert number == node.latest_number()  # eth_call at "latest" runs in the latest block
    assert [decode(["uint112", "uint112", "uint32"], a)[:2] for a in answers] == \
        [call(node, p, "getReserves()", out=["uint112", "uint112", "uint32"])[:2] for p in pairs]
    (bal,) = call(node, mc, "getEthBalance(address)", ["address"], [lab.executor_address], ["uint256"])
    assert bal == node.t.get_balance(lab.executor_address)
