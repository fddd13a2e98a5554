"""The shared seeded fixture of `scripts/bench-peers`: pool states and amounts that both Arbiter
(`arbiter bench peers --fixture F`) and degenbot are timed on.

- 1,024 V2 quotes: 6-, 8- and 18-decimal reserves 10^2…10^6 whole tokens deep, inputs 0.01–1 % of
  the input reserve, fees 0.3 %, 0.25 % and 0.1 %.
- 32 V3 quotes, each crossing 10 initialised ticks: twenty nested positions around the price
  (ticks every spacing on both sides, random liquidity), the input sized in floating point to end
  in the middle of the eleventh range away (either direction).
- 32 two-hop cycles: two V2 pairs on one token pair, 0.5–3 % apart, random depths.
- 32 three-hop mixed cycles: V3 (A → B) → V2 (B → C) → V2 (C → A), 1–3 % profitable before fees.

Amounts are decimal strings. Tokens are addresses; a pool's token0 is the lower address, as on
chain, so a hop's `zeroForOne` is what degenbot derives from its input token.
"""
import math
import random

from degenbot.uniswap.v3_libraries.tick_math import get_sqrt_ratio_at_tick

TOKENS = [f"0x{i:040x}" for i in range(0x1000, 0x1003)]  # A < B < C
V3_SPACING = {500: 10, 3000: 60, 10000: 200}


def v2_pool(address, token0, token1, reserve0, reserve1, fee_pips):
    return {"kind": "v2", "address": address, "token0": token0, "token1": token1,
            "reserve0": str(reserve0), "reserve1": str(reserve1), "feePips": fee_pips}


def v3_pool(r, address, token0, token1, price_tick=None):
    """Twenty nested positions around the current tick; returns the pool and its ranges' liquidity
    from the inside out (what a swap leaves active after each crossing)."""
    fee = r.choice(list(V3_SPACING))
    spacing = V3_SPACING[fee]
    if price_tick is None:
        price_tick = r.randrange(-40_000, 40_000)
    base = (price_tick // spacing) * spacing
    tick = base + spacing // 2
    layers = [r.randrange(10**17, 10**21) for _ in range(20)]
    ticks = []
    for k, liquidity in enumerate(layers, start=1):
        ticks.append([base - spacing * k, str(liquidity)])
        ticks.append([base + spacing * k, str(-liquidity)])
    ticks.sort(key=lambda t: t[0])
    # Position k spans [base − k·spacing, base + k·spacing): at `tick` every position is in range.
    return {"kind": "v3", "address": address, "token0": token0, "token1": token1,
            "sqrtPriceX96": str(get_sqrt_ratio_at_tick(tick)), "tick": tick, "liquidity": str(sum(layers)),
            "feePips": fee, "tickSpacing": spacing, "ticks": ticks}, layers


def v3_input_crossing(pool, layers, zero_for_one, crossed):
    """The input (before the fee) that takes the price to the middle of the range past `crossed`
    initialised ticks, in floating point (a quarter of a range is far more than its error)."""
    spacing, tick = pool["tickSpacing"], pool["tick"]
    base = tick - spacing // 2
    sqrt = lambda t: 1.0001 ** (t / 2)
    liquidity = float(sum(layers))
    price = sqrt(tick)
    total = 0.0
    for k in range(crossed + 1):
        # Range k ends at the (k+1)th initialised tick away; the last one halfway into its range.
        if zero_for_one:
            end = sqrt(base - spacing * (k + 1)) if k < crossed else sqrt(base - spacing * crossed - spacing // 2)
            total += liquidity * (1 / end - 1 / price)
        else:
            end = sqrt(base + spacing * (k + 1)) if k < crossed else sqrt(base + spacing * crossed + spacing // 2)
            total += liquidity * (end - price)
        price = end
        if k < len(layers):
            liquidity -= layers[k]  # the (k+1)th tick away is an end of position k+1
    return int(total / (1 - pool["feePips"] / 1e6))


def generate(seed):
    r = random.Random(seed)
    a, b, c = TOKENS
    address = iter(f"0x{i:040x}" for i in range(0x2000, 0x10000))

    v2_quotes = []
    for _ in range(1024):
        decimals = r.choice([6, 8, 18]), r.choice([6, 8, 18])
        reserve0 = r.randrange(10**2, 10**6) * 10 ** decimals[0] + r.randrange(10 ** decimals[0])
        reserve1 = r.randrange(10**2, 10**6) * 10 ** decimals[1] + r.randrange(10 ** decimals[1])
        zero_for_one = r.random() < 0.5
        reserve_in = reserve0 if zero_for_one else reserve1
        amount = max(1, reserve_in * r.randrange(1, 100) // 10_000 + r.randrange(1000))
        pool = v2_pool(next(address), a, b, reserve0, reserve1, r.choice([3000, 2500, 1000]))
        v2_quotes.append({"pool": pool, "zeroForOne": zero_for_one, "amountIn": str(amount)})

    v3_quotes = []
    for _ in range(32):
        pool, layers = v3_pool(r, next(address), a, b)
        zero_for_one = r.random() < 0.5
        v3_quotes.append({"pool": pool, "zeroForOne": zero_for_one,
                          "amountIn": str(v3_input_crossing(pool, layers, zero_for_one, 10)), "ticksCrossed": 10})

    cycles2 = []
    for _ in range(32):
        reserve0 = r.randrange(10**3, 10**5) * 10**18
        price = r.uniform(0.001, 1000.0)  # token1 per token0, both 18 decimals
        gap = r.uniform(0.005, 0.03)
        reserve1 = int(reserve0 * price)
        depth = r.uniform(0.5, 2.0)
        other0 = int(reserve0 * depth)
        other1 = int(other0 * price * (1 + gap))  # token0 dearer in the second pair
        first = v2_pool(next(address), a, b, reserve0, reserve1, 3000)
        second = v2_pool(next(address), a, b, other0, other1, 3000)
        # token1 → token0 where token0 is cheap, then token0 → token1 where it is dear.
        cycles2.append({"hops": [{"pool": first, "zeroForOne": False}, {"pool": second, "zeroForOne": True}],
                        "inputToken": b, "maxIn": str(reserve1)})

    cycles3 = []
    for _ in range(32):
        v3, _ = v3_pool(r, next(address), a, b, price_tick=r.randrange(-20_000, 20_000))
        p_ab = 1.0001 ** v3["tick"]  # B per A
        r_bc = r.uniform(0.01, 100.0)  # C per B
        gap = r.uniform(0.01, 0.03)
        fees = (1 - v3["feePips"] / 1e6) * 0.997 * 0.997
        r_ca = (1 + gap) / (p_ab * r_bc * fees)  # A per C
        depth_b = r.randrange(10**4, 10**6) * 10**18
        bc = v2_pool(next(address), b, c, depth_b, int(depth_b * r_bc), 3000)
        depth_c = r.randrange(10**4, 10**6) * 10**18
        ca = v2_pool(next(address), a, c, int(depth_c * r_ca), depth_c, 3000)  # token0 = A, token1 = C
        cycles3.append({"hops": [{"pool": v3, "zeroForOne": True}, {"pool": bc, "zeroForOne": True},
                                 {"pool": ca, "zeroForOne": False}],
                        "inputToken": a, "maxIn": str(int(float(v3["liquidity"]) * 1.0001 ** (-v3["tick"] / 2)))})

    return {"seed": seed, "tokens": TOKENS, "v2Quotes": v2_quotes, "v3Quotes": v3_quotes, "cycles2": cycles2, "cycles3": cycles3}
