"""Borrowing from a real Uniswap V3 pool (pool.flash): the pool's tier as fee, the pool checked
against the factory, and never on its own path. PancakeSwap V3 pools (a double of their flash:
no PancakeSwap bytecode ships here) call pancakeV3FlashCallback on the same executor, deployed
with their factory."""
import boa
import pytest

from onchain import DOUBLES, FAR, SRC, V3, balances, deploy, load, sort2, step, v3_pool_at
from test_execute import two_hop_v2, two_hop_v3
from test_security import params

E6, E18 = 10**6, 10**18


def ceil_div(a, b):
    return -(-a // b)


@pytest.mark.parametrize("tier,sym,amount", [(500, "USDC", 10_000 * E6), (3000, "USDC", 7_777 * E6 + 1),
                                              (500, "DAI", 10_000 * E18), (3000, "DAI", 3_333 * E18 + 7)])
def test_flash_from_a_pool_pays_its_tier_rounded_up(world, tier, sym, amount):
    ex, token = world.executors["v3pool"], world.tokens[sym]
    pool = world.v3_pool(tier, sym, "WETH")
    # The asset is token0 in one pool and token1 in the other pair: both sides of flash are used.
    held = token.balanceOf(pool.address)
    profit = ex.execute(pool.address, token.address, amount, two_hop_v2(world, sym), 1, FAR)
    fee = ceil_div(amount * tier, 10**6)  # Uniswap V3: mulDivRoundingUp(amount, fee, 1e6)
    assert profit > 0 and token.balanceOf(ex.address) == profit
    assert token.balanceOf(pool.address) == held + fee
    executed = [e for e in ex.get_logs() if type(e).__name__ == "Executed"]
    assert len(executed) == 1 and executed[0].profit == profit and executed[0].amount == amount


def test_the_fee_is_what_the_pool_charges_not_a_guess(world):
    """The same path borrowed from Balancer (no fee) keeps exactly the pool's fee more."""
    usdc, amount = world.tokens["USDC"], 10_000 * E6
    steps = two_hop_v2(world, "USDC")
    with boa.env.anchor():
        free = world.executors["balancer"].execute(usdc.address, amount, steps, 1, FAR)
    pooled = world.executors["v3pool"].execute(world.v3_pool(500, "USDC", "WETH").address, usdc.address, amount, steps, 1, FAR)
    assert free - pooled == ceil_div(amount * 500, 10**6)


def test_min_profit_counts_the_pool_fee(world):
    usdc, amount, ex = world.tokens["USDC"], 10_000 * E6, world.executors["v3pool"]
    pool = world.v3_pool(500, "USDC", "WETH")
    with boa.env.anchor():
        exact = ex.execute(pool.address, usdc.address, amount, two_hop_v2(world, "USDC"), 1, FAR)
    before = balances(world)
    with boa.reverts("arbiter: unprofitable"):
        ex.execute(pool.address, usdc.address, amount, two_hop_v2(world, "USDC"), exact + 1, FAR)
    assert balances(world) == before
    assert ex.execute(pool.address, usdc.address, amount, two_hop_v2(world, "USDC"), exact, FAR) == exact


def test_the_lending_pool_may_not_be_on_the_path(world):
    usdc, ex = world.tokens["USDC"], world.executors["v3pool"]
    lending = world.v3_pool(500, "USDC", "WETH")
    assert any(s[0] == lending.address for s in two_hop_v3(world))
    with boa.reverts("arbiter: the lending pool is on the path"):
        ex.execute(lending.address, usdc.address, 10_000 * E6, two_hop_v3(world), 0, FAR)


def test_only_pools_of_the_factory_lend(world):
    usdc, weth, ex = world.tokens["USDC"], world.tokens["WETH"], world.executors["v3pool"]
    # A genuine V3 pool, but of another factory (anyone can deploy one and point its callback at us).
    other = deploy("uniswap_v3/UniswapV3Factory")
    other.createPool(usdc.address, weth.address, 500)
    foreign = v3_pool_at(other.getPool(usdc.address, weth.address, 500))
    with boa.reverts("arbiter: pool not from the factory"):
        ex.execute(foreign.address, usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR)
    with boa.reverts("arbiter: pool has no code"):
        ex.execute(boa.env.generate_address(), usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR)
    # A pool of the factory that does not hold the asset.
    dai_pool = world.v3_pool(500, "DAI", "WETH")
    with boa.reverts("arbiter: the pool does not hold the asset"):
        ex.execute(dai_pool.address, usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR)


def test_flash_callbacks_outside_our_loan_revert(world):
    ex, usdc = world.executors["v3pool"], world.tokens["USDC"]
    p = params(two_hop_v2(world, "USDC"))
    with boa.env.prank(boa.env.generate_address()), boa.reverts("arbiter: no loan in flight"):
        ex.uniswapV3FlashCallback(0, 0, p)
    # The real pool, outside a loan of ours. (A pool calls back its msg.sender, so a stranger's
    # flash naming us as recipient never reaches this callback.)
    with boa.env.prank(world.v3_pool(500, "USDC", "WETH").address), boa.reverts("arbiter: no loan in flight"):
        ex.uniswapV3FlashCallback(0, 0, p)


def test_only_authorised_callers(world):
    usdc, ex = world.tokens["USDC"], world.executors["v3pool"]
    with boa.env.prank(boa.env.generate_address()), boa.reverts("arbiter: not authorised"):
        ex.execute(world.v3_pool(500, "USDC", "WETH").address, usdc.address, 10**6, two_hop_v2(world, "USDC"), 0, FAR)


def pancake(world, tier=2500, sym="USDC", liquidity=1_000_000):
    """A PancakeSwap V3 pool double of `sym`/WETH holding `liquidity` of each (whole units), its
    factory double (the pool registered there), and our executor deployed with that factory."""
    a, b = sort2(world.tokens[sym], world.tokens["WETH"])
    factory = load(DOUBLES, "PancakeV3PoolDouble", a.address, b.address, tier)
    pool = load(DOUBLES, "PancakeV3PoolDouble", a.address, b.address, tier)
    factory.register(pool.address)
    for t in (a, b):
        t.mint(pool.address, liquidity * 10**t.decimals())
    ex = load(SRC, "UniswapV3FlashArbitrage", factory.address)
    return pool, factory, ex


@pytest.mark.parametrize("tier,sym,amount", [(2500, "USDC", 10_000 * E6 + 3), (100, "DAI", 3_333 * E18 + 7)])
def test_a_pancake_v3_pool_lends_through_its_own_callback_for_its_tier_rounded_up(world, tier, sym, amount):
    pool, _, ex = pancake(world, tier, sym)
    token, steps = world.tokens[sym], two_hop_v2(world, sym)
    with boa.env.anchor():
        free = world.executors["balancer"].execute(token.address, amount, steps, 1, FAR)
    held = token.balanceOf(pool.address)
    profit = ex.execute(pool.address, token.address, amount, steps, 1, FAR)
    fee = ceil_div(amount * tier, 10**6)
    assert profit > 0 and token.balanceOf(ex.address) == profit
    assert token.balanceOf(pool.address) == held + fee and free - profit == fee


def test_a_pancake_pool_must_be_its_factorys_and_the_uniswap_executor_refuses_it(world):
    usdc = world.tokens["USDC"]
    pool, factory, ex = pancake(world)
    a, b = sort2(usdc, world.tokens["WETH"])
    stray = load(DOUBLES, "PancakeV3PoolDouble", a.address, b.address, 2500)
    usdc.mint(stray.address, 10**12)
    with boa.reverts("arbiter: pool not from the factory"):
        ex.execute(stray.address, usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR)
    with boa.reverts("arbiter: pool not from the factory"):
        world.executors["v3pool"].execute(pool.address, usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR)
    # Outside a loan of ours the Pancake callback is closed too.
    with boa.env.prank(pool.address), boa.reverts("arbiter: no loan in flight"):
        ex.pancakeV3FlashCallback(0, 0, params(two_hop_v2(world, "USDC")))
