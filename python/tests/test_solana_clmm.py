"""Raydium CLMM decoding and quoting (`arbiter util solana quote`, venue "clmm") on random pools.

No implementation of Raydium CLMM outside the program is available here: the expected values come
from tools/solana/clmm.py, a transcription of the program's Rust source written apart from
Arbiter's Swift (which shares its step formulas with the Orca code checked against Orca's own
simulator). Accounts are built field by field in the program's declared layouts. Every case must
agree exactly (amount out, fee, price, tick and liquidity after), and so must the refusals:
limit orders at a tick the swap reaches, a tick array not given, the bitmap's end, a dynamic fee,
swaps disabled."""
import base64
import json
import random

from solders.pubkey import Pubkey

from tools.solana import clmm

CASES, LEAST_QUOTED = 700, 500


def b64(data):
    return base64.b64encode(bytes(data)).decode()


def random_pool(rng):
    """A pool with a few positions around its price, its tick arrays and its accounts."""
    spacing = rng.choice([1, 10, 60, 120])
    fee = rng.choice([100, 500, 2_500, 10_000])
    width = clmm.TICK_ARRAY_SIZE * spacing
    # Within the pool's own bitmap (±512 arrays; past it is the extension account's).
    reach = min(40_000, 400 * width)
    center = rng.randrange(-reach, reach)
    # A wide position the price stays within, and narrower ones near the price that swaps cross.
    base = rng.choice([10**15, 10**18, 3 * 10**19])
    positions = [((center - rng.randrange(6, 10) * width) // spacing * spacing, (center + rng.randrange(6, 10) * width) // spacing * spacing, base)]
    for _ in range(rng.randrange(1, 4)):
        lo = (center - rng.randrange(1, 2 * width)) // spacing * spacing
        hi = (center + rng.randrange(1, 2 * width)) // spacing * spacing + spacing
        positions.append((lo, hi, base // rng.choice([1, 3, 10])))
    # Now and then limit orders wait at a tick of their own.
    orders = {}
    if rng.random() < 0.2:
        orders[(center + rng.randrange(-3 * width, 3 * width)) // spacing * spacing] = 1_000_000
    tick = center
    liquidity = sum(l for lo, hi, l in positions if lo <= tick < hi)
    lower, upper = clmm.sqrt_price_at_tick(tick), clmm.sqrt_price_at_tick(tick + 1)
    price = lower + rng.randrange(upper - lower)
    pool_key, config_key = Pubkey(bytes(rng.randrange(256) for _ in range(32))), Pubkey(bytes(rng.randrange(256) for _ in range(32)))
    by_array, bitmap = clmm.position_ticks(positions, spacing, orders)
    fee_on = rng.choice([0, 0, 1, 2])
    status = 1 << 4 if rng.random() < 0.02 else 0
    dynamic = bytes([1]) + bytes(79) if rng.random() < 0.02 else bytes(80)
    pool = clmm.pool_bytes(config=config_key, mint0=bytes(32), mint1=bytes([1]) * 32, vault0=bytes([2]) * 32, vault1=bytes([3]) * 32,
                           observation=bytes([4]) * 32, spacing=spacing, liquidity=liquidity, sqrt_price=price, tick=tick, bitmap=bitmap,
                           status=status, fee_on=fee_on, dynamic_fee=dynamic)
    config = clmm.config_bytes(trade_fee_rate=fee, tick_spacing=spacing)
    arrays = {start: clmm.tick_array_bytes(pool_key, start, spacing, slots) for start, slots in by_array.items()}
    # Now and then one array the swap may need is left out.
    if len(arrays) > 1 and rng.random() < 0.1:
        arrays.pop(rng.choice(sorted(arrays)))
    return pool, config, arrays


def expected(pool, config, arrays, amount, zero_for_one):
    try:
        return clmm.swap(clmm.parse_pool(pool), clmm.parse_config(config), {s: clmm.parse_tick_array(a) for s, a in arrays.items()},
                         amount, zero_for_one)
    except clmm.ClmmError:
        return None


def test_quotes_agree_with_the_transcription_on_random_pools(arbiter):
    rng = random.Random(20261205)
    requests, answers = [], []
    for _ in range(CASES):
        pool, config, arrays = random_pool(rng)
        zero_for_one = rng.random() < 0.5
        amount = int(10 ** rng.uniform(2, 19.2)) if rng.random() < 0.5 else int(clmm.parse_pool(pool)['liquidity'] * rng.uniform(1e-4, 0.05))
        amount = max(amount, 1)
        amount = min(amount, clmm.U64_MAX)
        requests.append({"venue": "clmm", "pool": b64(pool), "config": b64(config), "tickArrays": [b64(a) for a in arrays.values()],
                         "amount": str(amount), "zeroForOne": zero_for_one})
        answers.append(expected(pool, config, arrays, amount, zero_for_one))
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    lines = arbiter("util", "solana", "quote", "--jsonl", stdin=stdin).stdout.splitlines()
    assert len(lines) == len(requests)
    quoted = crossed = 0
    for request, want, line in zip(requests, answers, lines):
        got = json.loads(line)
        if want is None:
            assert "error" in got, (request["amount"], request["zeroForOne"], got)
            continue
        assert "error" not in got, (request["amount"], request["zeroForOne"], want, got)
        assert (int(got["amountOut"]), int(got["fee"]), int(got["sqrtPrice"]), got["tick"], int(got["liquidity"])) == \
            (want["amountOut"], want["fee"], want["sqrtPrice"], want["tick"], want["liquidity"]), (request["amount"], want, got)
        quoted += 1
        pool = clmm.parse_pool(base64.b64decode(request["pool"]))
        crossed += want["liquidity"] != pool["liquidity"]
    assert quoted >= LEAST_QUOTED and crossed >= 50, (quoted, crossed)


def test_the_decoder_refuses_other_kinds_and_sizes(arbiter):
    rng = random.Random(3)
    pool, config, arrays = random_pool(rng)
    base = {"venue": "clmm", "pool": b64(pool), "config": b64(config), "tickArrays": [b64(a) for a in arrays.values()], "amount": "1000",
            "zeroForOne": True}
    bad = [dict(base, pool=b64(pool[:-1])), dict(base, pool=b64(config)), dict(base, config=b64(pool)),
           dict(base, tickArrays=[b64(config)]), dict(base, pool=b64(pool[:390] + bytes([7]) + pool[391:]))]  # fee_on 7
    stdin = "".join(json.dumps(r) + "\n" for r in bad)
    lines = arbiter("util", "solana", "quote", "--jsonl", stdin=stdin).stdout.splitlines()
    assert len(lines) == len(bad) and all("error" in json.loads(line) for line in lines), lines
