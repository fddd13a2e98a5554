"""The Solana cycle detector (`arbiter util solana detect`) over pools whose accounts are built here in
the mainnet layouts: it must find the cross-venue cycle, and every leg's amount must be what the
outside references pay for it (Raydium's formula, Orca's simulator, meteora-dlmm; the transcriptions
of Raydium CLMM and Phoenix), chained. An older write never replaces a newer one."""
import base64
import json
import math
import random

from solders.pubkey import Pubkey

import meteora_dlmm
import solana_venue_oracles as o
from tools.solana import clmm as raydium_clmm
from tools.solana import phoenix

RAYDIUM = Pubkey.from_string("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8")
WHIRLPOOL = Pubkey.from_string("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc")
DLMM = Pubkey.from_string("LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo")
SOL = Pubkey.from_string("So11111111111111111111111111111111111111112")
USDC = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
NOW = 1_780_000_000


def tick_array_key(pool, start):
    return Pubkey.find_program_address([b"tick_array", bytes(pool), str(start).encode()], WHIRLPOOL)[0]


def bin_array_key(pair, index):
    return Pubkey.find_program_address([b"bin_array", bytes(pair), index.to_bytes(8, "little", signed=True)], DLMM)[0]


class Market:
    """Three SOL/USDC pools: Raydium at 150 USDC per SOL, a Whirlpool at 152, a DLMM pair at 151."""

    def __init__(self, rng):
        self.rng, self.writes, self.pools, self.reference = rng, [], [], {}
        self.raydium(150.0)
        self.whirlpool(152.0)
        self.dlmm(151.0)

    def write(self, key, data, slot=100):
        self.writes.append({"key": str(key), "slot": slot, "data": None if data is None else o.b64(data)})

    def raydium(self, price):
        rng = self.rng
        pool, coin_vault, pc_vault = Pubkey(o.key(rng)), Pubkey(o.key(rng)), Pubkey(o.key(rng))
        coin, pc = 20_000 * 10**9, int(20_000 * price) * 10**6
        fields = {f.name: 0 for f in o.LIQUIDITY_STATE_LAYOUT_V4.subcons if f.name}
        fields.update(status=6, swapFeeNumerator=25, swapFeeDenominator=10_000, tradeFeeNumerator=25, tradeFeeDenominator=10_000,
                      coinDecimals=9, pcDecimals=6)
        for name in ("lpMintAddress", "ammOpenOrders", "serumMarket", "serumProgramId", "ammTargetOrders", "poolWithdrawQueue",
                     "poolTempLpTokenAccount", "ammOwner", "pnlOwner"):
            fields[name] = o.key(rng)
        fields.update(poolCoinTokenAccount=bytes(coin_vault), poolPcTokenAccount=bytes(pc_vault), coinMintAddress=bytes(SOL), pcMintAddress=bytes(USDC))
        self.write(pool, o.LIQUIDITY_STATE_LAYOUT_V4.build(fields))
        authority = o.key(rng)
        self.write(coin_vault, o.token_account(bytes(SOL), authority, coin))
        self.write(pc_vault, o.token_account(bytes(USDC), authority, pc))
        self.pools.append({"address": str(pool), "venue": "raydiumAMM"})
        self.reference[str(pool)] = lambda amount, sol_in: o.raydium_reference(coin, pc, 25, 10_000, amount, sol_in)

    def whirlpool(self, price):
        rng, spacing = self.rng, 64
        raw = price * 10**6 / 10**9
        tick = math.floor(math.log(raw) / math.log(1.0001))
        sqrt_price = o.PriceMath.tick_index_to_sqrt_price_x64(tick) + 1234
        pool = Pubkey(o.key(rng))
        width = 88 * spacing
        base = (tick // width) * width
        liquidity = 3 * 10**12
        lo, hi = base - 2 * width, base + 3 * width - spacing
        arrays, oracle_arrays = {}, {}
        for k in range(-2, 3):
            start = base + k * width
            ticks = []
            for i in range(88):
                t = start + i * spacing
                n = liquidity if t == lo else (-liquidity if t == hi else None)
                ticks.append((n is not None, n or 0, abs(n or 0)))
            arrays[start] = o.tick_array_bytes(start, ticks, bytes(pool))
            oracle_arrays[start] = o.wtypes.TickArray(pubkey=tick_array_key(pool, start), start_tick_index=start, whirlpool=pool,
                                                      ticks=[o.Tick(i, n, g, 0, 0, [0, 0, 0]) for i, n, g in ticks])
        data = bytearray(o.whirlpool_bytes(spacing, 3000, liquidity, sqrt_price, tick, bytes(SOL), bytes(USDC), rng))
        self.write(pool, bytes(data))
        for start, b in arrays.items():
            self.write(tick_array_key(pool, start), b)
        self.pools.append({"address": str(pool), "venue": "whirlpool"})
        self.reference[str(pool)] = lambda amount, sol_in: (o.whirlpool_reference(spacing, 3000, liquidity, sqrt_price, tick, oracle_arrays, amount, sol_in, rng) or {}).get("amountOut")

    def dlmm(self, price):
        rng, step = self.rng, 10
        raw = price * 10**6 / 10**9
        active = math.floor(math.log(raw) / math.log(1 + step / 10_000))
        pair = Pubkey(o.key(rng))
        sp = meteora_dlmm.StaticParams(base_factor=10_000, base_fee_power_factor=0, variable_fee_control=7500, max_volatility_accumulator=150_000,
                                       filter_period=30, decay_period=600, reduction_factor=5000, protocol_share=0)
        vp = meteora_dlmm.VariableParams(volatility_accumulator=0, volatility_reference=0, index_reference=active, last_update_timestamp=NOW - 100)
        lb = o.lb_pair_bytes(sp, vp, active, step, 0, bytes(SOL), bytes(USDC), rng)
        self.write(pair, lb)
        center = active // 70
        arrays = []
        for index in range(center - 2, center + 3):
            bins = {}
            for slot in range(70):
                bid = index * 70 + slot
                p = o.dlmm_price(bid, step)
                ax = 50 * 10**9 if bid >= active else 0
                ay = int(50 * price) * 10**6 if bid <= active else 0
                bins[slot] = meteora_dlmm.Bin(bid, ax, ay, p)
            data = o.bin_array_bytes(index, bytes(pair), bins)
            arrays.append(data)
            self.write(bin_array_key(pair, index), data)
        state = meteora_dlmm.PoolState.from_accounts(lb, arrays, 9, 6)
        self.pools.append({"address": str(pair), "venue": "meteoraDLMM"})

        def quote(amount, sol_in):
            try:
                q = meteora_dlmm.quote(state, amount, sol_in, timestamp=NOW, strict=True)
            except meteora_dlmm.InsufficientBinArrays:
                return None
            return q.amount_out if q.remaining_in == 0 else None
        self.reference[str(pair)] = quote


def add_clmm(market, price):
    """A Raydium CLMM SOL/USDC pool at `price` USDC per SOL (mint 0 the smaller address, as the
    program orders them): a wide position and a narrow one around the price, tick spacing 10;
    its leg reference is tools/solana/clmm.py, a transcription of the program."""
    rng, spacing = market.rng, 10
    width = raydium_clmm.TICK_ARRAY_SIZE * spacing
    sol_first = bytes(SOL) < bytes(USDC)
    mint0, mint1 = (SOL, USDC) if sol_first else (USDC, SOL)
    raw = price * 10**6 / 10**9 if sol_first else 10**9 / (price * 10**6)
    tick = math.floor(math.log(raw) / math.log(1.0001))
    price_x64 = raydium_clmm.sqrt_price_at_tick(tick) + 4321
    wide, narrow = 4 * 10**13, 10**13
    positions = [((tick - 5 * width) // spacing * spacing, (tick + 5 * width) // spacing * spacing, wide),
                 ((tick - width // 2) // spacing * spacing, (tick + width // 2) // spacing * spacing, narrow)]
    slots, bitmap = raydium_clmm.position_ticks(positions, spacing)
    pool, config = Pubkey(o.key(rng)), Pubkey(o.key(rng))
    data = raydium_clmm.pool_bytes(config=config, mint0=mint0, mint1=mint1, vault0=Pubkey(o.key(rng)), vault1=Pubkey(o.key(rng)),
                                   observation=Pubkey(o.key(rng)), spacing=spacing, liquidity=wide + narrow, sqrt_price=price_x64, tick=tick,
                                   bitmap=bitmap)
    config_data = raydium_clmm.config_bytes(trade_fee_rate=500, tick_spacing=spacing)
    arrays = {start: raydium_clmm.tick_array_bytes(pool, start, spacing, s) for start, s in slots.items()}
    market.write(pool, data)
    market.write(config, config_data)
    for start, a in arrays.items():
        market.write(raydium_clmm.tick_array_address(pool, start), a)
    market.pools.append({"address": str(pool), "venue": "raydiumCLMM"})
    parsed = (raydium_clmm.parse_pool(data), raydium_clmm.parse_config(config_data), {s: raydium_clmm.parse_tick_array(a) for s, a in arrays.items()})

    def quote(amount, sol_in):
        try:
            return raydium_clmm.swap(*parsed, amount, sol_in == sol_first)["amountOut"]
        except raydium_clmm.ClmmError:
            return None
    market.reference[str(pool)] = quote
    return str(pool)


def add_phoenix(market, bid, ask, slot=100):
    """A SOL/USDC Phoenix market (lots of 0.001 SOL and 1 µUSDC, ticks of 0.001 USDC) with bids from
    `bid` down and asks from `ask` up, some of them expiring; its leg reference is
    tools/solana/phoenix.py, a transcription of the program."""
    rng = market.rng
    ticks = lambda price: round(price * 1_000)  # 0.001 USDC per SOL a tick
    bids = [(ticks(bid) - 10 * k, 1_000 + k, rng.randrange(5_000, 40_000), 0, 0) for k in range(12)]
    asks = [(ticks(ask) + 10 * k, 2_000 + k, rng.randrange(5_000, 40_000), 0, 0) for k in range(12)]
    # The best bid's first order expired a slot ago: passed over, as the program removes it.
    bids.insert(0, (ticks(bid) + 50, 999, 90_000, slot - 1, 0))
    pool = Pubkey(o.key(rng))
    data = phoenix.market_bytes(asks=asks, bids=bids, base_mint=bytes(SOL), quote_mint=bytes(USDC), base_vault=o.key(rng), quote_vault=o.key(rng),
                                base_lot_size=1_000_000, quote_lot_size=1, base_lots_per_base_unit=1_000, tick_size=1_000, taker_fee_bps=2, rng=rng)
    market.write(pool, data, slot=slot)
    market.pools.append({"address": str(pool), "venue": "phoenix"})
    parsed = phoenix.parse_market(data)

    def quote(amount, sol_in):
        try:
            return phoenix.swap(parsed, amount, not sol_in, slot, NOW)[1]
        except phoenix.PhoenixError:
            return None
    market.reference[str(pool)] = quote
    return str(pool)


def detect(arbiter, market, writes=None, **extra):
    request = {"pools": market.pools, "writes": writes if writes is not None else market.writes, "clock": NOW, "start": str(SOL),
               "minProfit": "1000000", "maxIn": str(2_000 * 10**9), "costs": "15000", **extra}
    return json.loads(arbiter("util", "solana", "detect", stdin=json.dumps(request)).stdout)


def test_the_cross_venue_cycles_are_found_and_each_leg_pays_what_the_references_pay(arbiter):
    market = Market(random.Random(3))
    out = detect(arbiter, market)
    assert out["book"]["pools"] == 3 and out["book"]["undecodable"] == 0 and out["missing"] == [], out
    opportunities = out["opportunities"]
    assert opportunities, out
    best = opportunities[0]
    # The widest gap: buy SOL on Raydium (150), sell it on the Whirlpool (152).
    pools = [leg["pool"] for leg in best["legs"]]
    venues = {p["address"]: p["venue"] for p in market.pools}
    assert [venues[p] for p in pools] in (["whirlpool", "raydiumAMM"], ["whirlpool", "meteoraDLMM", "raydiumAMM"]) or len(pools) == 2, best
    for opp in opportunities:
        amount = int(opp["amountIn"])
        for leg in opp["legs"]:
            sol_in = leg["mintIn"] == str(SOL)
            expected = market.reference[leg["pool"]](amount, sol_in)
            assert expected is not None and str(expected) == leg["amountOut"], (leg, expected)
            amount = expected
        assert amount - int(opp["amountIn"]) == int(opp["grossProfit"]) > 1_015_000
        assert int(opp["netProfit"]) == int(opp["grossProfit"]) - 15000
    # Every pair of pools with a gap past the fees opens a cycle: at least the 150/152 one both ways round.
    assert out["counts"]["published"] == len(opportunities) >= 1


def sells_sol_through(arbiter, market, pool):
    """Detection over `market` with `pool` added: cycles through it, each leg paying what the pool's
    reference pays (chained), and SOL sold into `pool` in at least one."""
    out = detect(arbiter, market)
    assert out["book"]["pools"] == 4 and out["book"]["undecodable"] == 0 and out["missing"] == [], out
    through = [opp for opp in out["opportunities"] if any(leg["pool"] == pool for leg in opp["legs"])]
    assert through, out
    for opp in through:
        amount = int(opp["amountIn"])
        for leg in opp["legs"]:
            expected = market.reference[leg["pool"]](amount, leg["mintIn"] == str(SOL))
            assert expected is not None and str(expected) == leg["amountOut"], (leg, expected)
            amount = expected
        assert amount - int(opp["amountIn"]) == int(opp["grossProfit"]) > 0
    assert any(leg["pool"] == pool and leg["mintIn"] == str(SOL) for opp in through for leg in opp["legs"])


def test_a_raydium_clmm_pool_is_followed_and_its_legs_pay_what_the_program_pays(arbiter):
    # SOL is dearest there (154): sold on the CLMM pool, bought back where it is cheap.
    market = Market(random.Random(5))
    sells_sol_through(arbiter, market, add_clmm(market, 154.0))


def test_a_phoenix_book_is_followed_and_its_legs_fill_as_the_program_matches(arbiter):
    # Its bids (155) pay most for SOL: sold into the book, bought back where SOL is cheap.
    market = Market(random.Random(6))
    sells_sol_through(arbiter, market, add_phoenix(market, bid=155.0, ask=155.3))


def test_an_older_write_never_replaces_a_newer_one(arbiter):
    market = Market(random.Random(3))
    newer = detect(arbiter, market)
    # The Raydium coin vault again, as an older read with far more SOL (a different price): ignored.
    coin_vault = market.writes[1]
    raw = bytearray(base64.b64decode(coin_vault["data"]))
    raw[64:72] = (40_000 * 10**9).to_bytes(8, "little")
    stale = dict(coin_vault, slot=99, data=base64.b64encode(bytes(raw)).decode())
    again = detect(arbiter, market, writes=market.writes + [stale])
    assert again["book"]["stale"] == 1
    assert again["opportunities"] == newer["opportunities"]
    # The same read at a newer slot is applied, but a trade moves both vaults: with only one at
    # slot 101 the pool stays as it was (a half-written pool would show a price nobody trades at).
    half = detect(arbiter, market, writes=market.writes + [dict(stale, slot=101)])
    assert half["book"]["stale"] == 0 and half["book"]["halfWritten"] == 1
    same = lambda opps: [{k: v for k, v in x.items() if k != "slot"} for x in opps]  # noqa: E731 - detected at the newest slot seen
    assert same(half["opportunities"]) == same(newer["opportunities"])
    # With the pc vault at slot 101 too, the pool is rebuilt and the answer moves.
    pc_vault = market.writes[2]
    fresh = detect(arbiter, market, writes=market.writes + [dict(stale, slot=101), dict(pc_vault, slot=101)])
    assert fresh["book"]["stale"] == 0 and fresh["opportunities"] != newer["opportunities"]


def test_a_pool_whose_accounts_do_not_decode_is_left_out_and_counted(arbiter):
    market = Market(random.Random(4))
    broken = [dict(w) for w in market.writes]
    broken[0]["data"] = base64.b64encode(base64.b64decode(broken[0]["data"])[:700]).decode()  # Raydium's AmmInfo, cut
    out = detect(arbiter, market, writes=broken)
    assert out["book"]["pools"] == 2 and out["book"]["undecodable"] >= 1
    for opp in out["opportunities"]:
        assert all(leg["pool"] != market.pools[0]["address"] for leg in opp["legs"])
