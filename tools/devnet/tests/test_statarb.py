"""The lab's statistical-arbitrage market: every venue swapped to its target each block, so the
factor (USDC per WETH) and the pairs' pool prices follow the driver's series, with the scheduled
dips and breaks; chain time stays behind the wall clock through the history mined at once."""
import math
import time

import pytest

from tools.devnet import statarb
from tools.devnet.lab import Lab
from tools.devnet.node import Node


@pytest.fixture(scope="module")
def world():
    node = Node(chain_id=900_001)
    lab = Lab(node, seed=3, statarb=True)
    m = lab.deploy_all()
    return node, lab, m


def v2_price(lab, m, dex, name):
    """The second symbol per the first, in whole units, from the pool's reserves."""
    a, b = name.split("/")
    pair = m["dexes"][dex]["pools"][name]
    r0, r1, _ = lab.view(pair, "getReserves()", [], [], ["uint112", "uint112", "uint32"])
    ta, tb = m["tokens"][a], m["tokens"][b]
    ra, rb = (r0, r1) if int(ta["address"], 16) < int(tb["address"], 16) else (r1, r0)
    return (rb / 10 ** tb["decimals"]) / (ra / 10 ** ta["decimals"])


def test_history_follows_the_targets_and_the_schedule(world):
    node, lab, m = world
    market = lab.statarb
    start = node.latest_number()
    rounds = 2 * statarb.EVERY + 2 * statarb.HOLD  # past a dip on one pair and into the second event
    seen = []
    for _ in range(rounds):
        market.prehistory(1)
        targets = {"WETH/USDC": 2000 * math.exp(market.factor)}
        for (name, base), s in zip(statarb.PAIRS, market.spreads):
            targets[name] = base * math.exp(s)
        for name, price in targets.items():
            for dex in ("sushiswap", "uniswap_v2"):
                # The exact swap ignores the 0.3 % fee's effect on the reserves: within 0.1 %.
                assert abs(math.log(v2_price(lab, m, dex, name) / price)) < 1e-3, (name, dex)
        seen.append(list(market.spreads))
    assert node.latest_number() == start + rounds  # one block per round
    assert market.failures == 0 and market.swaps > rounds
    # The first event (round EVERY) holds its pair DIP deviations below for HOLD blocks.
    r, pair, kind = market.events[0]
    assert r == statarb.EVERY and kind in ("dip", "break")
    for k in range(statarb.HOLD):
        assert seen[r - 1 + k][pair] == pytest.approx(-statarb.DIP * statarb.SPREAD_STD)
    # Chain time: a block a second, behind the wall clock.
    assert node.t.get_block_by_number("latest")["timestamp"] < time.time()


def test_noise_is_a_stationary_ar1_and_the_factor_a_walk():
    market = statarb.StatArbMarket(None, seed=11)  # the targets alone: no chain
    xs, fs = [], []
    for _ in range(4000):
        market.advance()
        xs.append(market.spreads[0])
        fs.append(market.factor)
    # Away from events (a round's phase past any event's end, and its predecessor's too), the AR(1) coefficient.
    quiet = [i for i in range(1, len(xs)) if min(i % statarb.EVERY, (i + 1) % statarb.EVERY) > 3 * statarb.HOLD + 1]
    x0 = [xs[i - 1] for i in quiet]
    x1 = [xs[i] for i in quiet]
    phi = sum(a * b for a, b in zip(x0, x1)) / sum(a * a for a in x0)
    assert abs(phi - statarb.PHI) < 0.08
    steps = [b - a for a, b in zip(fs, fs[1:])]
    sd = math.sqrt(sum(s * s for s in steps) / len(steps))
    assert abs(sd / statarb.FACTOR_STEP - 1) < 0.05
