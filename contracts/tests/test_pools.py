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
