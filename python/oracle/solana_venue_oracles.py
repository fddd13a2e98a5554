"""Outside references for the Solana venues' quoting, and account bytes in the programs' layouts.

- Orca Whirlpool: whirlpool-essentials' swap simulator (a port of Orca's SDK). Only its math is
  loaded: its data-holder module `anchor.types` needs anchorpy (and through it solana-py's RPC),
  so a module with the same three dataclasses stands in for it before the simulator is imported.
- Meteora DLMM: meteora-dlmm (pure Python, validated by its authors against the program; it ships a
  capture of a real pool with the program's outputs, checked here too).
- Raydium AMM v4: raydiumsdk's `LIQUIDITY_STATE_LAYOUT_V4` (construct) builds the AmmInfo bytes; the
  swap's arithmetic is the program's published formula, written here independently of the Swift.

Account bytes are built from the published layouts (struct offsets from the programs' sources and
IDLs), so the Swift decoders are checked against bytes they did not produce.
"""
import base64
import dataclasses
import hashlib
import random
import struct
import sys
import types


def _install_whirlpool_types():
    name = "orca_whirlpool.internal.anchor.types"
    if name in sys.modules:
        return

    @dataclasses.dataclass
    class Tick:
        initialized: bool
        liquidity_net: int
        liquidity_gross: int
        fee_growth_outside_a: int
        fee_growth_outside_b: int
        reward_growths_outside: list

    @dataclasses.dataclass
    class WhirlpoolRewardInfo:
        pass

    @dataclasses.dataclass
    class PositionRewardInfo:
        pass

    m = types.ModuleType(name)
    m.Tick, m.WhirlpoolRewardInfo, m.PositionRewardInfo = Tick, WhirlpoolRewardInfo, PositionRewardInfo
    sys.modules[name] = m


_install_whirlpool_types()

from orca_whirlpool.internal.anchor.types import Tick  # noqa: E402
from orca_whirlpool.internal.accounts import types as wtypes  # noqa: E402
from orca_whirlpool.internal.quote.swap_simulator.swap_simulator import simulate_swap  # noqa: E402
from orca_whirlpool.internal.quote.swap_simulator.types import SwapQuoteParams  # noqa: E402
from orca_whirlpool.internal.types.enums import SwapDirection, SpecifiedAmount, TickArrayReduction  # noqa: E402
from orca_whirlpool.internal.utils.price_math import PriceMath  # noqa: E402
from orca_whirlpool.internal.errors import WhirlpoolError  # noqa: E402
from orca_whirlpool.internal.types.percentage import Percentage  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402

import meteora_dlmm  # noqa: E402
from raydium.layouts import LIQUIDITY_STATE_LAYOUT_V4  # noqa: E402

TICKS_PER_ARRAY = 88
MIN_SQRT_PRICE, MAX_SQRT_PRICE = 4295048016, 79226673515401279992447579055
U64 = 2 ** 64 - 1


def b64(b):
    return base64.b64encode(bytes(b)).decode()


def anchor_discriminator(name):
    return hashlib.sha256(f"account:{name}".encode()).digest()[:8]


def key(rng):
    return bytes(rng.getrandbits(8) for _ in range(32))


def token_account(mint, owner, amount):
    """An SPL token account (165 bytes): mint, owner, amount, no delegate, initialized."""
    b = bytearray(165)
    b[0:32], b[32:64] = mint, owner
    struct.pack_into("<Q", b, 64, amount)
    b[108] = 1
    return bytes(b)


# ---------------------------------------------------------------- Raydium AMM v4

def raydium_case(rng):
    coin_mint, pc_mint = key(rng), key(rng)
    fee_den = rng.choice([10_000, 1_000_000, 10_000_000])
    fee_num = rng.choice([0, 1, 25, 2500, rng.randrange(0, fee_den // 10)]) if fee_den >= 2500 else 25
    fee_num = min(fee_num, fee_den - 1)
    coin_vault, pc_vault = rng.randrange(1, 2 ** rng.randrange(8, 64)), rng.randrange(1, 2 ** rng.randrange(8, 64))
    pnl_coin, pnl_pc = rng.randrange(0, coin_vault // 50 + 1), rng.randrange(0, pc_vault // 50 + 1)
    fields = {f.name: 0 for f in LIQUIDITY_STATE_LAYOUT_V4.subcons if f.name}
    fields.update(
        status=rng.choice([1, 6]), nonce=rng.randrange(256), coinDecimals=9, pcDecimals=6,
        tradeFeeNumerator=25, tradeFeeDenominator=10_000, swapFeeNumerator=fee_num, swapFeeDenominator=fee_den,
        pnlNumerator=12, pnlDenominator=100, needTakePnlCoin=pnl_coin, needTakePnlPc=pnl_pc,
        poolOpenTime=rng.randrange(2 ** 32),
    )
    for name in ("poolCoinTokenAccount", "poolPcTokenAccount", "lpMintAddress", "ammOpenOrders", "serumMarket",
                 "serumProgramId", "ammTargetOrders", "poolWithdrawQueue", "poolTempLpTokenAccount", "ammOwner", "pnlOwner"):
        fields[name] = key(rng)
    fields["coinMintAddress"], fields["pcMintAddress"] = coin_mint, pc_mint
    info = LIQUIDITY_STATE_LAYOUT_V4.build(fields)
    assert len(info) == 752
    coin_to_pc = rng.random() < 0.5
    reserve_in = (coin_vault - pnl_coin) if coin_to_pc else (pc_vault - pnl_pc)
    amount = rng.randrange(1, max(2, min(U64, reserve_in * rng.choice([1, 3, 100]) // 10 + 2)))
    authority = key(rng)
    return {
        "venue": "raydium", "pool": b64(info), "amount": str(amount), "coinToPc": coin_to_pc,
        "coinVault": b64(token_account(coin_mint, authority, coin_vault)),
        "pcVault": b64(token_account(pc_mint, authority, pc_vault)),
    }, raydium_reference(coin_vault - pnl_coin, pc_vault - pnl_pc, fee_num, fee_den, amount, coin_to_pc)


def raydium_reference(coin, pc, fee_num, fee_den, amount, coin_to_pc):
    """swap_base_in: fee = ceil(in·num/den); out = reserve_out·(in − fee) / (reserve_in + in − fee)."""
    fee = -(-amount * fee_num // fee_den)
    after = amount - fee
    r_in, r_out = (coin, pc) if coin_to_pc else (pc, coin)
    out = r_out * after // (r_in + after)
    if out == 0 or out >= r_out:
        return None
    return out


# ---------------------------------------------------------------- Orca Whirlpool

def whirlpool_bytes(tick_spacing, fee_rate, liquidity, sqrt_price, tick, mint_a, mint_b, rng):
    b = bytearray(653)
    b[0:8] = anchor_discriminator("Whirlpool")
    b[8:40] = key(rng)
    b[40] = 255
    struct.pack_into("<HHHH", b, 41, tick_spacing, tick_spacing, fee_rate, rng.randrange(0, 2501))
    b[49:65] = liquidity.to_bytes(16, "little")
    b[65:81] = sqrt_price.to_bytes(16, "little")
    struct.pack_into("<i", b, 81, tick)
    b[101:133], b[133:165] = mint_a, key(rng)
    b[181:213], b[213:245] = mint_b, key(rng)
    return bytes(b)


def tick_array_bytes(start, ticks, whirlpool):
    b = bytearray(9988)
    b[0:8] = anchor_discriminator("TickArray")
    struct.pack_into("<i", b, 8, start)
    for i, (init, net, gross) in enumerate(ticks):
        o = 12 + i * 113
        b[o] = 1 if init else 0
        b[o + 1:o + 17] = (net % 2 ** 128).to_bytes(16, "little")
        b[o + 17:o + 33] = gross.to_bytes(16, "little")
    b[12 + 88 * 113:] = whirlpool
    return bytes(b)


def whirlpool_case(rng):
    spacing = rng.choice([1, 2, 4, 8, 16, 64, 96, 128, 256])
    fee_rate = rng.choice([100, 300, 400, 500, 1600, 3000, 6500, 10000, rng.randrange(0, 60001)])
    width = TICKS_PER_ARRAY * spacing
    limit = min(200_000, 443636 - 3 * width)
    tick = rng.randrange(-limit, limit)
    low, high = PriceMath.tick_index_to_sqrt_price_x64(tick), PriceMath.tick_index_to_sqrt_price_x64(tick + 1)
    sqrt_price = rng.randrange(low, high)
    base = (tick // width) * width
    starts = [base + k * width for k in range(-2, 3)]
    net = {}
    liquidity = 0
    for _ in range(rng.randrange(1, 12)):
        lo = rng.randrange(starts[0] // spacing, (starts[-1] + width) // spacing) * spacing
        hi = lo + spacing * rng.randrange(1, 3 * TICKS_PER_ARRAY)
        hi = min(hi, starts[-1] + width - spacing)
        if hi <= lo:
            continue
        # Small enough that both tokens' amounts over a few arrays stay within u64 (as real pools).
        cap = max(2 ** 20, (2 ** 62 * min(sqrt_price, 2 ** 128 // sqrt_price)) >> 64)
        liq = rng.randrange(1, max(2, cap >> rng.randrange(0, 24)))
        net[lo] = net.get(lo, 0) + liq
        net[hi] = net.get(hi, 0) - liq
        if lo <= tick < hi:
            liquidity += liq
    whirlpool_key = key(rng)
    arrays, oracle_arrays = [], {}
    for s in starts:
        ticks = []
        for i in range(TICKS_PER_ARRAY):
            t = s + i * spacing
            n = net.get(t)
            ticks.append((n is not None, n or 0, abs(n or 0)))
        arrays.append(tick_array_bytes(s, ticks, whirlpool_key))
        oracle_arrays[s] = wtypes.TickArray(
            pubkey=Pubkey(key(rng)), start_tick_index=s, whirlpool=Pubkey(whirlpool_key),
            ticks=[Tick(init, n, g, 0, 0, [0, 0, 0]) for init, n, g in ticks])
    a_to_b = rng.random() < 0.5
    # The input that moves the price by about one tick array, then a random fraction or multiple.
    # (a tick moves the price by 0.005%: r = spacing·k/2,000,000 is k/100 of a tick-spacing step).
    k = rng.randrange(1, 15000)
    if a_to_b:
        amount = max(liquidity, 1) * 2 ** 64 // sqrt_price * spacing * k // 2_000_000
    else:
        amount = max(liquidity, 1) * sqrt_price // 2 ** 64 * spacing * k // 2_000_000
    amount = max(1, min(U64 // 4, amount))
    if rng.random() < 0.2:
        amount = rng.randrange(1, 2 ** rng.randrange(4, 64))
    mint_a, mint_b = key(rng), key(rng)
    request = {"venue": "whirlpool", "pool": b64(whirlpool_bytes(spacing, fee_rate, liquidity, sqrt_price, tick, mint_a, mint_b, rng)),
               "tickArrays": [b64(a) for a in arrays], "amount": str(amount), "aToB": a_to_b}
    return request, whirlpool_reference(spacing, fee_rate, liquidity, sqrt_price, tick, oracle_arrays, amount, a_to_b, rng)


def whirlpool_reference(spacing, fee_rate, liquidity, sqrt_price, tick, arrays, amount, a_to_b, rng):
    width = TICKS_PER_ARRAY * spacing
    first = ((tick if a_to_b else tick + spacing) // width) * width
    step = -width if a_to_b else width
    sequence = [arrays.get(first + k * step) for k in range(3)]
    pool = wtypes.Whirlpool(
        pubkey=Pubkey(key(rng)), whirlpools_config=Pubkey(key(rng)), whirlpool_bump=[255], tick_spacing=spacing,
        tick_spacing_seed=list(spacing.to_bytes(2, "little")), fee_rate=fee_rate, protocol_fee_rate=0, liquidity=liquidity,
        sqrt_price=sqrt_price, tick_current_index=tick, protocol_fee_owed_a=0, protocol_fee_owed_b=0,
        token_mint_a=Pubkey(key(rng)), token_vault_a=Pubkey(key(rng)), fee_growth_global_a=0,
        token_mint_b=Pubkey(key(rng)), token_vault_b=Pubkey(key(rng)), fee_growth_global_b=0,
        reward_last_updated_timestamp=0, reward_infos=[])
    params = SwapQuoteParams(
        whirlpool=pool, amount=amount, other_amount_threshold=0,
        sqrt_price_limit=MIN_SQRT_PRICE if a_to_b else MAX_SQRT_PRICE,
        direction=SwapDirection.AtoB if a_to_b else SwapDirection.BtoA,
        specified_amount=SpecifiedAmount.SwapInput, tick_arrays=sequence, slippage_tolerance=Percentage(0, 1))
    try:
        q = simulate_swap(params, TickArrayReduction.No)
    except WhirlpoolError:
        return None
    if q.estimated_amount_in != amount or q.estimated_amount_out == 0:
        return None   # a partial fill: the program's exact-input swap would use less than asked
    if q.estimated_amount_out > U64:
        return None   # the simulator does not bound amounts; the program's are u64 and it refuses
    return {"amountOut": q.estimated_amount_out, "sqrtPrice": q.estimated_end_sqrt_price, "tick": q.estimated_end_tick_index}


# ---------------------------------------------------------------- Meteora DLMM

def lb_pair_bytes(sp, vp, active_id, bin_step, collect_fee_mode, mint_x, mint_y, rng):
    b = bytearray(904)
    b[0:8] = bytes([33, 11, 49, 98, 181, 101, 177, 13])
    struct.pack_into("<HHHHIIiiHBBB", b, 8, sp.base_factor, sp.filter_period, sp.decay_period, sp.reduction_factor,
                     sp.variable_fee_control, sp.max_volatility_accumulator, -443636, 443636, sp.protocol_share,
                     sp.base_fee_power_factor, 0, collect_fee_mode)
    struct.pack_into("<IIi4xq", b, 40, vp.volatility_accumulator, vp.volatility_reference, vp.index_reference, vp.last_update_timestamp)
    struct.pack_into("<i", b, 76, active_id)
    struct.pack_into("<H", b, 80, bin_step)
    b[88:120], b[120:152], b[152:184], b[184:216] = mint_x, mint_y, key(rng), key(rng)
    return bytes(b)


def bin_array_bytes(index, pair, bins):
    b = bytearray(10136)
    b[0:8] = bytes([92, 142, 92, 220, 5, 148, 70, 181])
    struct.pack_into("<q", b, 8, index)
    b[24:56] = pair
    for slot, bn in bins.items():
        o = 56 + slot * 144
        struct.pack_into("<QQ", b, o, bn.amount_x, bn.amount_y)
        b[o + 16:o + 32] = bn.price_x64.to_bytes(16, "little")
        struct.pack_into("<Q", b, o + 112, bn.open_order)
        struct.pack_into("<Q", b, o + 128, bn.processed_order)
        b[o + 140] = bn.ask_side
    return bytes(b)


def dlmm_price(bin_id, bin_step):
    """(1 + step/10⁴)^id in Q64.64: a bin price of the right size (the quote reads it as stored)."""
    from decimal import Decimal, localcontext
    with localcontext() as c:
        c.prec = 60
        return max(1, int((Decimal(10_000 + bin_step) / Decimal(10_000)) ** bin_id * (Decimal(2) ** 64)))


def dlmm_case(rng, now):
    bin_step = rng.choice([1, 2, 5, 10, 20, 25, 50, 80, 100, 250])
    active = rng.randrange(-600, 600)
    sp = meteora_dlmm.StaticParams(
        base_factor=rng.choice([5000, 8000, 10000, 20000, rng.randrange(1, 60000)]), base_fee_power_factor=rng.choice([0, 0, 1]),
        variable_fee_control=rng.choice([0, 7500, 40000, 120000, rng.randrange(0, 2_000_000)]),
        max_volatility_accumulator=rng.choice([150000, 350000, rng.randrange(0, 4_000_000)]),
        filter_period=rng.choice([10, 30]), decay_period=rng.choice([120, 600]), reduction_factor=rng.choice([5000, 8000]),
        protocol_share=rng.choice([0, 500, 2000]))
    vp = meteora_dlmm.VariableParams(
        volatility_accumulator=rng.randrange(0, sp.max_volatility_accumulator + 1), volatility_reference=rng.randrange(0, 50000),
        index_reference=active + rng.randrange(-20, 21), last_update_timestamp=now - rng.choice([0, 5, 40, 300, 5000]))
    collect_fee_mode = rng.choice([0, 0, 1])
    pair = key(rng)
    first = (active // 70) - 1
    held = [first, first + 1, first + 2]
    bins, per_array = {}, {i: {} for i in held}
    for array in held:
        for slot in range(70):
            bid = array * 70 + slot
            if rng.random() < 0.25:
                continue
            price = dlmm_price(bid, bin_step)
            scale = 2 ** rng.randrange(10, 50)
            ax = rng.randrange(0, scale) if bid >= active else 0
            ay = rng.randrange(0, scale) if bid <= active else 0
            oo = po = 0
            ask = 0
            if rng.random() < 0.15:
                ask = 1 if bid >= active else 0
                oo, po = rng.randrange(0, scale), rng.randrange(0, scale // 4 + 1)
            bn = meteora_dlmm.Bin(bid, ax, ay, price, oo, po, ask)
            bins[bid] = bn
            per_array[array][slot] = bn
    arrays = [bin_array_bytes(i, pair, per_array[i]) for i in held]
    swap_for_y = rng.random() < 0.5
    amount = rng.randrange(1, 2 ** rng.randrange(4, 56))
    mint_x, mint_y = key(rng), key(rng)
    lb = lb_pair_bytes(sp, vp, active, bin_step, collect_fee_mode, mint_x, mint_y, rng)
    state = meteora_dlmm.PoolState.from_accounts(lb, arrays, 9, 6)
    try:
        q = meteora_dlmm.quote(state, amount, swap_for_y, timestamp=now, strict=True)
        expected = q.amount_out if q.remaining_in == 0 and q.amount_out > 0 else None
    except meteora_dlmm.InsufficientBinArrays:
        expected = None
    request = {"venue": "dlmm", "address": str(Pubkey(pair)), "pool": b64(lb), "binArrays": [b64(a) for a in arrays],
               "amount": str(amount), "swapForY": swap_for_y, "timestamp": str(now)}
    return request, expected


def cases(venue, n, seed):
    rng = random.Random(seed)
    make = {"raydium": raydium_case, "whirlpool": whirlpool_case, "dlmm": lambda r: dlmm_case(r, 1_780_000_000)}[venue]
    return [make(rng) for _ in range(n)]
