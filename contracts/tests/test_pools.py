"""The real pools and the settlement double behave as the executors assume."""
import json
import os

import boa
from eth_utils import keccak

from onchain import FAR, MOCKS, ROOT, V3, step
from test_execute import two_hop_v3

E6 = 10**6


def test_quoterv2_predicts_the_v3_legs(world):
    """QuoterV2 (real bytecode) quotes the same output the executor's V3 swaps produce."""
    usdc, weth = world.tokens["USDC"], world.tokens["WETH"]
    amount = 10_000 * E6
    with boa.env.anchor():
        out1 = world.quoter.quoteExactInputSingle((usdc.address, weth.address, amount, 500, 0))[0]
    ex = world.executors["direct"]
    usdc.mint(ex.address, amount)
    steps = [step(world.v3_pool(500, "USDC", "WETH"), V3, usdc, weth, 500)] + two_hop_v3(world)[1:]
    with boa.env.anchor():
        out2 = world.quoter.quoteExactInputSingle((weth.address, usdc.address, out1, 3000, 0))[0]
    profit = ex.execute(usdc.address, amount, steps, 0, FAR)
    assert profit == out2 - amount


def test_settlement_double_emits_gpv2_events_and_moves_the_pool(world):
    settlement = boa.load(os.path.join(MOCKS, "MockGPv2Settlement.vy"))
    usdc, weth = world.tokens["USDC"], world.tokens["WETH"]
    pair = world.v2_pair(0, "USDC", "WETH")
    trader = boa.env.generate_address()
    usdc.mint(trader, 50_000 * E6)
    with boa.env.prank(trader):
        usdc.approve(settlement.address, 2**256 - 1)
    before = pair.getReserves()
    bought = settlement.settle_against_v2(trader, usdc.address, weth.address, 50_000 * E6, pair.address, 3000, 2**32 - 1)
    assert weth.balanceOf(trader) == bought > 0
    assert pair.getReserves()[:2] != before[:2]
    logs = [e for e in settlement.get_logs() if type(e).__name__ in ("Interaction", "Trade", "Settlement")]
    assert [type(e).__name__ for e in logs] == ["Interaction", "Trade", "Settlement"]
    assert logs[0].target == pair.address and logs[0].selector == bytes.fromhex("022c0d9f")
    trade = logs[1]
    assert trade.owner == trader and trade.sellAmount == 50_000 * E6 and trade.buyAmount == bought
    assert len(trade.orderUid) == 56 and trade.orderUid[32:52] == bytes.fromhex(trader[2:])
    # The events' signatures, hence topic0s, are GPv2Settlement's (protocol-facts §4).
    abi = json.load(open(os.path.join(ROOT, "contracts", "artifacts", "MockGPv2Settlement.json")))["abi"]
    topics = {e["name"]: keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})").hex()
              for e in abi if e["type"] == "event"}
    assert topics == {
        "Trade": "a07a543ab8a018198e99ca0184c93fe9050a79400a0a723441f84de1d972cc17",
        "Interaction": "ed99827efb37016f2275f98c4bcf71c7551c75d59e9b450f79fa32e60be672c2",
        "Settlement": "40338ce1a7c49204f0099533b1e9a7ee0a3d261f84974ab7af36105b8c4e9db4",
    }
