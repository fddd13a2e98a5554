"""Swap results from the real Uniswap bytecode (web3-ethereum-defi's artifacts) on titanoboa's
py-evm, as vectors for Arbiter's AMM math. Seeded: the same seed gives the same vectors.

V3: pools at random prices (every fee tier, the whole tick range), 1–12 positions of random
ranges and liquidity minted exactly through a driver contract, then swaps in both directions,
exact input and exact output, dust to huge, some with a price limit; the vector holds the pool
state read from the contract before the swap and what the pool itself returned and stored after.

V2 (SushiSwap's pair): random reserves up to 2^112−1, random amounts; the expected output is the
largest the pair accepts (it accepts it and rejects one wei more), the expected input for an exact
output the smallest it accepts.
"""
import math
import os
import random

import boa
from eth_utils import to_checksum_address

import evm_artifacts as ea

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MIN_TICK, MAX_TICK = -887272, 887272
MIN_SQRT, MAX_SQRT = 4295128739, 1461446703485210103287273052203988822378723970342
SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}


def log_uniform(r, lo, hi):
    return int(math.exp(r.uniform(math.log(lo), math.log(hi))))


def amount(r):
    """Dust, ordinary, or huge (past every position: such swaps end at the price limit)."""
    k = r.random()
    if k < 0.15:
        return r.randint(1, 1000)
    if k < 0.85:
        return log_uniform(r, 1e3, 1e24)
    return log_uniform(r, 1e24, 1e40)


class Tokens:
    def __init__(self):
        mock = os.path.join(ROOT, "contracts", "mocks", "MockERC20.vy")
        a, b = boa.load(mock, "A", "A", 18), boa.load(mock, "B", "B", 18)
        self.t0, self.t1 = (a, b) if int(str(a.address), 16) < int(str(b.address), 16) else (b, a)


def v3_vectors(seed: int, scenarios: int, swaps_per_scenario: int = 8):
    r = random.Random(seed)
    boa.env.set_random_seed(seed) if hasattr(boa.env, "set_random_seed") else None
    tokens = Tokens()
    factory = ea.deploy("uniswap_v3/UniswapV3Factory")
    factory.enableFeeAmount(100, 1)
    pool_factory = ea.ABIContractFactory.from_abi_dict(ea.artifact("uniswap_v3/UniswapV3Pool")["abi"], name="UniswapV3Pool")
    driver = boa.load(os.path.join(ROOT, "python", "oracle", "contracts", "PoolDriver.vy"))
    for t in (tokens.t0, tokens.t1):
        t.mint(driver.address, 2**250)
    out = []
    for _ in range(scenarios):
        with boa.env.anchor():
            fee = r.choice(list(SPACING))
            spacing = SPACING[fee]
            factory.createPool(tokens.t0.address, tokens.t1.address, fee)
            pool = pool_factory.at(factory.getPool(tokens.t0.address, tokens.t1.address, fee))
            # A start price anywhere in the range, mostly within ±400k ticks.
            tick0 = r.randint(-400_000, 400_000) if r.random() < 0.9 else r.randint(MIN_TICK + 1, MAX_TICK - 1)
            sqrt0 = int(1.0001 ** ((tick0 + r.random()) / 2) * 2**96)
            sqrt0 = min(max(sqrt0, MIN_SQRT + 1), MAX_SQRT - 2)
            pool.initialize(sqrt0)
            boundaries = set()
            lo_ok, hi_ok = -(-MIN_TICK // spacing) * spacing, MAX_TICK // spacing * spacing
            for _ in range(r.randint(1, 12)):
                width = log_uniform(r, spacing, 300_000)
                centre = tick0 + r.randint(-width, width)
                lower = max(lo_ok, (centre - width) // spacing * spacing)
                upper = min(hi_ok, (centre + width) // spacing * spacing)
                if upper <= lower:
                    upper = lower + spacing
                liquidity = log_uniform(r, 1e3, 1e26)
                try:
                    driver.mint(pool.address, lower, upper, liquidity)
                    boundaries.update((lower, upper))
                except Exception:
                    pass  # a position the pool refuses (max liquidity per tick): skip it
            for _ in range(swaps_per_scenario):
                state = v3_state(pool, fee, spacing, boundaries)
                zero_for_one = r.random() < 0.5
                exact_out = r.random() < 0.4
                amt = amount(r)
                limit = None
                # Fine spacings get a limit always: py-evm takes seconds to walk a 1- or 10-spacing
                # pool's whole bitmap, and the walk proves nothing the 60 and 200 tiers do not.
                if r.random() < 0.3 or spacing <= 10:
                    ticks_away = log_uniform(r, 1, 30_000)
                    target = state["tick"] - ticks_away if zero_for_one else state["tick"] + ticks_away
                    target = min(max(target, MIN_TICK + 1), MAX_TICK - 1)
                    limit = int(1.0001 ** (target / 2) * 2**96)
                    limit = min(max(limit, MIN_SQRT + 1), MAX_SQRT - 1)
                limit_arg = limit if limit is not None else (MIN_SQRT + 1 if zero_for_one else MAX_SQRT - 1)
                vector = {"pool": state, "zeroForOne": zero_for_one, "exactOut": exact_out, "amount": str(amt),
                          "sqrtPriceLimitX96": str(limit) if limit is not None else None}
                try:
                    a0, a1 = driver.swap(pool.address, zero_for_one, -amt if exact_out else amt, limit_arg)
                except Exception as e:
                    vector["expect"] = {"error": type(e).__name__}
                    out.append(vector)
                    continue
                slot0 = pool.slot0()
                into, outof = (a0, -a1) if zero_for_one else (a1, -a0)
                vector["expect"] = {"amountIn": str(into), "amountOut": str(outof), "sqrtPriceX96After": str(slot0[0]),
                                    "tickAfter": slot0[1], "liquidityAfter": str(pool.liquidity())}
                out.append(vector)
    return out


def v3_state(pool, fee, spacing, boundaries):
    slot0 = pool.slot0()
    ticks = []
    for t in sorted(boundaries):
        info = pool.ticks(t)
        if info[7]:  # initialized
            ticks.append({"index": t, "liquidityNet": str(info[1])})
    return {"kind": "uniswapV3", "sqrtPriceX96": str(slot0[0]), "tick": slot0[1], "liquidity": str(pool.liquidity()),
            "fee": fee, "tickSpacing": spacing, "ticks": ticks}


def v2_vectors(seed: int, count: int):
    r = random.Random(seed)
    tokens = Tokens()
    owner = boa.env.eoa
    factory = ea.deploy("sushi/UniswapV2Factory", owner)
    factory.createPair(tokens.t0.address, tokens.t1.address)
    pair = ea.ABIContractFactory.from_abi_dict(ea.artifact("sushi/UniswapV2Pair")["abi"], name="UniswapV2Pair").at(
        factory.getPair(tokens.t0.address, tokens.t1.address))
    for t in (tokens.t0, tokens.t1):
        t.mint(pair.address, 10**6)
    pair.mint(owner)
    trader = to_checksum_address("0x" + "7e" * 20)
    out = []
    max112 = 2**112 - 1
    while len(out) < count:
        reserves = [log_uniform(r, 1e6, max112) if r.random() < 0.95 else max112 - r.randint(0, 10**6) for _ in range(2)]
        zero_for_one = r.random() < 0.5
        exact_out = r.random() < 0.3
        r_in, r_out = (reserves[0], reserves[1]) if zero_for_one else (reserves[1], reserves[0])
        t_in = tokens.t0 if zero_for_one else tokens.t1
        state = {"kind": "uniswapV2", "reserve0": str(reserves[0]), "reserve1": str(reserves[1]), "fee": 3000}
        if exact_out:
            want = r.randint(1, 1000) if r.random() < 0.2 else r.randint(1, r_out - 1)
            guess = r_in * want * 1000 // ((r_out - want) * 997) + 1
            ok = try_swap(pair, tokens, reserves, t_in, guess, want, zero_for_one, trader)
            tighter = guess > 1 and try_swap(pair, tokens, reserves, t_in, guess - 1, want, zero_for_one, trader)
            vector = {"pool": state, "zeroForOne": zero_for_one, "exactOut": True, "amount": str(want)}
            if ok and not tighter:
                vector["expect"] = {"amountIn": str(guess), "amountOut": str(want)}
            elif not ok:
                vector["expect"] = {"error": "rejected"}
            else:
                raise AssertionError(f"the pair accepts less input than the formula: {state} {want}")
        else:
            amt = amount(r) if r.random() < 0.8 else r.randint(1, max112)
            guess = amt * 997 * r_out // (r_in * 1000 + amt * 997)
            vector = {"pool": state, "zeroForOne": zero_for_one, "exactOut": False, "amount": str(amt)}
            ok = guess > 0 and try_swap(pair, tokens, reserves, t_in, amt, guess, zero_for_one, trader)
            more = try_swap(pair, tokens, reserves, t_in, amt, guess + 1, zero_for_one, trader)
            if ok and not more:
                vector["expect"] = {"amountIn": str(amt), "amountOut": str(guess)}
            elif not ok and not more:
                vector["expect"] = {"error": "rejected"}
            else:
                raise AssertionError(f"the pair pays more than the formula: {state} {amt}")
        out.append(vector)
    return out


def try_swap(pair, tokens, reserves, t_in, amount_in, amount_out, zero_for_one, trader):
    """Sets the pair's reserves, sends `amount_in`, asks for `amount_out`: does the pair accept?"""
    if amount_out <= 0:
        return False
    with boa.env.anchor():
        r0, r1 = pair.getReserves()[:2]
        tokens.t0.mint(pair.address, reserves[0] - r0)
        tokens.t1.mint(pair.address, reserves[1] - r1)
        pair.sync()
        t_in.mint(pair.address, amount_in)
        outs = (0, amount_out) if zero_for_one else (amount_out, 0)
        try:
            pair.swap(*outs, trader, b"")
            return True
        except Exception:
            return False
