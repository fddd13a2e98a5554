"""`arbiter util optimize` on a cycle through the real Uniswap V3 pool and SushiSwap pair: the
trade it sizes, executed on the contracts, makes exactly the profit it reports, and no nearby or
distant input makes more."""
import json
import os

import boa

import amm_oracle
import evm_artifacts as ea

ROOT = amm_oracle.ROOT


def build():
    tokens = amm_oracle.Tokens()
    t0, t1 = tokens.t0, tokens.t1
    v3f = ea.deploy("uniswap_v3/UniswapV3Factory")
    v3f.createPool(t0.address, t1.address, 3000)
    pool = ea.ABIContractFactory.from_abi_dict(ea.artifact("uniswap_v3/UniswapV3Pool")["abi"], name="UniswapV3Pool").at(
        v3f.getPool(t0.address, t1.address, 3000))
    pool.initialize(2**96 * 2)  # price 4 token1 per token0, tick ≈ 13863
    driver = boa.load(os.path.join(ROOT, "python", "oracle", "contracts", "PoolDriver.vy"))
    for t in (t0, t1):
        t.mint(driver.address, 2**200)
    for lower, upper, liquidity in [(13200, 14400, 10**21), (12000, 15600, 3 * 10**21), (6000, 21000, 10**21)]:
        driver.mint(pool.address, lower, upper, liquidity)
    owner = boa.env.eoa
    v2f = ea.deploy("sushi/UniswapV2Factory", owner)
    v2f.createPair(t0.address, t1.address)
    pair = ea.ABIContractFactory.from_abi_dict(ea.artifact("sushi/UniswapV2Pair")["abi"], name="UniswapV2Pair").at(
        v2f.getPair(t0.address, t1.address))
    # The pair prices token0 at 4.4 token1: buy token0 on V3 (token1 in), sell it on the pair.
    t0.mint(pair.address, 1000 * 10**18)
    t1.mint(pair.address, 4400 * 10**18)
    pair.mint(owner)
    return t0, t1, pool, pair, driver


def state_json(pool, pair, boundaries):
    slot0 = pool.slot0()
    ticks = [{"index": t, "liquidityNet": str(pool.ticks(t)[1])} for t in sorted(boundaries) if pool.ticks(t)[7]]
    r0, r1, _ = pair.getReserves()
    return ({"kind": "uniswapV3", "sqrtPriceX96": str(slot0[0]), "tick": slot0[1], "liquidity": str(pool.liquidity()),
             "fee": 3000, "tickSpacing": 60, "ticks": ticks},
            {"kind": "uniswapV2", "reserve0": str(r0), "reserve1": str(r1), "fee": 3000})


def execute(t0, t1, pool, pair, driver, x):
    """Token1 → token0 on V3 (exact input x), token0 → token1 on the pair; the driver's token1 gain."""
    with boa.env.anchor():
        before = t1.balanceOf(driver.address)
        a0, _ = driver.swap(pool.address, False, x, 1461446703485210103287273052203988822378723970342 - 1)
        got0 = -a0
        r0, r1, _ = pair.getReserves()
        out1 = got0 * 997 * r1 // (r0 * 1000 + got0 * 997)
        # The driver pays the pair from its balance: move token0 there, then swap.
        with boa.env.prank(driver.address):
            t0.transfer(pair.address, got0)
        pair.swap(0, out1, driver.address, b"")
        return t1.balanceOf(driver.address) - before


def test_optimised_cycle_is_the_best_trade_on_the_real_contracts(arbiter, tmp_path):
    t0, t1, pool, pair, driver = build()
    v3, v2 = state_json(pool, pair, {13200, 14400, 12000, 15600, 6000, 21000})
    path = tmp_path / "path.json"
    path.write_text(json.dumps({"hops": [{"pool": v3, "zeroForOne": False}, {"pool": v2, "zeroForOne": True}]}))
    answer = json.loads(arbiter("util", "optimize", "--path", str(path)).stdout)
    x = int(answer["amountIn"])
    assert x > 0 and int(answer["grossProfit"]) > 0
    realised = execute(t0, t1, pool, pair, driver, x)
    assert realised == int(answer["grossProfit"])
    for alt in [x - 1, x + 1, x * 99 // 100, x * 101 // 100, x * 9 // 10, x * 11 // 10, x // 2, x * 2, 10**18, 10**20]:
        try:
            assert execute(t0, t1, pool, pair, driver, alt) <= realised, f"input {alt} beats {x}"
        except boa.BoaError:
            pass  # an input the cycle cannot complete (the pair's K check) is no better
    # An input cap is honoured.
    capped = json.loads(arbiter("util", "optimize", "--path", str(path), "--max-in", str(x // 3)).stdout)
    assert int(capped["amountIn"]) <= x // 3 and execute(t0, t1, pool, pair, driver, int(capped["amountIn"])) == int(capped["grossProfit"])
    # With Aave's 5 bps premium (half up) the size shrinks and the reported profit is net of it.
    fee = json.loads(arbiter("util", "optimize", "--path", str(path), "--flash-fee", "aave:5").stdout)
    xf = int(fee["amountIn"])
    assert xf < x and execute(t0, t1, pool, pair, driver, xf) - (xf * 5 + 5000) // 10000 == int(fee["grossProfit"])
    # The reverse direction loses: nothing to do.
    path.write_text(json.dumps({"hops": [{"pool": v2, "zeroForOne": False}, {"pool": v3, "zeroForOne": True}]}))
    assert json.loads(arbiter("util", "optimize", "--path", str(path)).stdout) == {"profitable": False}
