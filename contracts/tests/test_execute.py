"""Profitable paths through every lender, over real Uniswap V2 and V3 pools."""
import boa
import pytest

from onchain import FAR, V2, V3, step

E6 = 10**6


def two_hop_v2(world, asset_sym):
    w, a = world.tokens["WETH"], world.tokens[asset_sym]
    return [step(world.v2_pair(0, asset_sym, "WETH"), V2, a, w, 3000), step(world.v2_pair(1, asset_sym, "WETH"), V2, w, a, 3000)]


def two_hop_v3(world):
    w, u = world.tokens["WETH"], world.tokens["USDC"]
    return [step(world.v3_pool(500, "USDC", "WETH"), V3, u, w, 500), step(world.v3_pool(3000, "USDC", "WETH"), V3, w, u, 3000)]


def three_hop_mixed(world):
    w, u, d = world.tokens["WETH"], world.tokens["USDC"], world.tokens["DAI"]
    return [step(world.v3_pool(500, "USDC", "WETH"), V3, u, w, 500), step(world.v2_pair(1, "DAI", "WETH"), V2, w, d, 3000),
            step(world.v2_pair(1, "DAI", "USDC"), V2, d, u, 3000)]


@pytest.mark.parametrize("lender", ["aave", "balancer", "syncswap"])
@pytest.mark.parametrize("path", ["v2", "v3", "mixed"])
def test_flash_arbitrage_pays_the_lender_and_keeps_the_profit(world, lender, path):
    ex, usdc = world.executors[lender], world.tokens["USDC"]
    lender_before = usdc.balanceOf(world.lenders[lender].address)
    steps = {"v2": two_hop_v2(world, "USDC"), "v3": two_hop_v3(world), "mixed": three_hop_mixed(world)}[path]
    amount = 10_000 * E6
    profit = ex.execute(usdc.address, amount, steps, 1, FAR)
    assert profit > 0
    assert usdc.balanceOf(ex.address) == profit
    fee = {"aave": (amount * 5 + 5000) // 10000, "balancer": 0, "syncswap": amount * 5 * 10**14 // 10**18}[lender]
    assert usdc.balanceOf(world.lenders[lender].address) == lender_before + fee
    logs = ex.get_logs()
    executed = [e for e in logs if type(e).__name__ == "Executed"]
    assert len(executed) == 1 and executed[0].profit == profit and executed[0].amount == amount


def test_dai_flash_mint(world):
    ex, dai = world.executors["dss"], world.tokens["DAI"]
    supply = dai.totalSupply()
    profit = ex.execute(dai.address, 10_000 * 10**18, two_hop_v2(world, "DAI"), 1, FAR)
    assert profit > 0 and dai.balanceOf(ex.address) == profit
    assert dai.totalSupply() == supply + 0  # minted and burned within the call; the profit came from the pools
    with boa.reverts("arbiter: the DAI flash mint lends only DAI"):
        ex.execute(world.tokens["USDC"].address, 10**6, two_hop_v2(world, "USDC"), 0, FAR)
    with boa.reverts("arbiter: above DssFlash max()"):
        ex.execute(dai.address, 50_000_001 * 10**18, two_hop_v2(world, "DAI"), 0, FAR)


def test_dai_flash_mint_legacy_toll(world):
    ex, dai, dss = world.executors["dss"], world.tokens["DAI"], world.lenders["dss"]
    dss.set_toll(10**14)  # 1 bp, as MCD_FLASH_LEGACY charged
    amount = 10_000 * 10**18
    profit = ex.execute(dai.address, amount, two_hop_v2(world, "DAI"), 1, FAR)
    assert dai.balanceOf(dss.address) == amount * 10**14 // 10**18  # the toll stays with the lender
    assert profit > 0


def test_usdt_without_bool_returns(world):
    ex, usdt = world.executors["aave"], world.tokens["USDT"]
    for _ in range(2):  # the second run needs the allowance handling to be clean
        assert ex.execute(usdt.address, 5_000 * E6, two_hop_v2(world, "USDT"), 1, FAR) > 0


def test_direct_arbitrage_uses_own_capital(world):
    ex, usdc = world.executors["direct"], world.tokens["USDC"]
    with boa.reverts("arbiter: not enough capital"):
        ex.execute(usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 1, FAR)
    usdc.mint(ex.address, 10_000 * E6)
    profit = ex.execute(usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 1, FAR)
    assert usdc.balanceOf(ex.address) == 10_000 * E6 + profit
