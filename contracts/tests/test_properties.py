"""Property: over random prices, liquidity, sizes and 2- or 3-hop paths, `execute` either ends with
profit ≥ min_profit and the lender repaid, or reverts with every balance unchanged."""
import boa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from onchain import FAR, V2, V3, balances, step

E6, E18 = 10**6, 10**18


def path(world, shape):
    t = world.tokens
    u, w, d = t["USDC"], t["WETH"], t["DAI"]
    v2a, v2b = world.v2_pair(0, "USDC", "WETH"), world.v2_pair(1, "USDC", "WETH")
    v3a, v3b = world.v3_pool(500, "USDC", "WETH"), world.v3_pool(3000, "USDC", "WETH")
    return {
        "v2-v2": [step(v2a, V2, u, w, 3000), step(v2b, V2, w, u, 3000)],
        "v2-v2-reverse": [step(v2b, V2, u, w, 3000), step(v2a, V2, w, u, 3000)],
        "v3-v3": [step(v3a, V3, u, w, 500), step(v3b, V3, w, u, 3000)],
        "v2-v3": [step(v2a, V2, u, w, 3000), step(v3b, V3, w, u, 3000)],
        "v3-v2": [step(v3a, V3, u, w, 500), step(v2b, V2, w, u, 3000)],
        "v3-v2-v2": [step(v3a, V3, u, w, 500), step(world.v2_pair(1, "DAI", "WETH"), V2, w, d, 3000),
                     step(world.v2_pair(1, "DAI", "USDC"), V2, d, u, 3000)],
    }[shape]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lender=st.sampled_from(["aave", "balancer", "syncswap", "direct"]),
    shape=st.sampled_from(["v2-v2", "v2-v2-reverse", "v3-v3", "v2-v3", "v3-v2", "v3-v2-v2"]),
    donations=st.lists(st.tuples(st.sampled_from([0, 1]), st.sampled_from(["USDC", "WETH"]),
                                 st.floats(min_value=0.0, max_value=2.0)), max_size=3),
    amount_usdc=st.integers(min_value=1, max_value=2_000_000),
    min_profit=st.integers(min_value=0, max_value=50_000 * E6),
)
def test_profit_or_nothing(world, lender, shape, donations, amount_usdc, min_profit):
    with boa.env.anchor():
        usdc = world.tokens["USDC"]
        # Random V2 liquidity and prices: donate to a pair and sync its reserves.
        for venue, sym, fraction in donations:
            pair = world.v2_pair(venue, "USDC", "WETH")
            token = world.tokens[sym]
            token.mint(pair.address, int(token.balanceOf(pair.address) * fraction))
            pair.sync()
        ex = world.executors[lender]
        amount = amount_usdc * E6
        if lender == "direct":
            usdc.mint(ex.address, amount)
        lend = world.lenders.get(lender)
        before = balances(world)
        try:
            profit = ex.execute(usdc.address, amount, path(world, shape), min_profit, FAR)
        except boa.BoaError:
            assert balances(world) == before, "a reverted execute changed balances"
            event("reverted")
            return
        event("profitable")
        assert profit >= min_profit
        after = balances(world)
        gained = after[("USDC", str(ex.address))] - before[("USDC", str(ex.address))]
        assert gained == profit
        if lend is not None:
            fee = {"aave": (amount * 5 + 5000) // 10000, "balancer": 0, "syncswap": amount * 5 * 10**14 // 10**18}[lender]
            assert after[("USDC", str(lend.address))] == before[("USDC", str(lend.address))] + fee
