"""Orca Whirlpool pools on the stand-in ledger: the `Whirlpool` (653 bytes) and `TickArray` (9,988
bytes) accounts in the program's layout (offsets from orca-so/whirlpools' `state/whirlpool.rs` and
`state/tick.rs`; Anchor discriminators), under the program's id, and their swaps computed by Orca's
own swap simulator as published in whirlpool-essentials (an outside implementation of the
program's math): amount out, the price and tick it ends on.

The stand-in's Whirlpools hold one full-range position, so no tick in the arrays near the price is
initialized and liquidity is the same wherever the price goes; a swap over an initialized tick is
refused (the simulator does not report the liquidity after it)."""
import hashlib
import os
import struct
import sys

from solders.pubkey import Pubkey

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python", "oracle"))
import solana_venue_oracles as _oracles  # noqa: E402  (installs the simulator's data types first)

from orca_whirlpool.internal.quote.swap_simulator.swap_simulator import simulate_swap  # noqa: E402
from orca_whirlpool.internal.quote.swap_simulator.types import SwapQuoteParams  # noqa: E402
from orca_whirlpool.internal.types.enums import SwapDirection, SpecifiedAmount, TickArrayReduction  # noqa: E402
from orca_whirlpool.internal.types.percentage import Percentage  # noqa: E402
from orca_whirlpool.internal.errors import WhirlpoolError  # noqa: E402

WHIRLPOOL = Pubkey.from_string("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc")
WHIRLPOOL_SIZE, TICK_ARRAY_SIZE = 653, 9988
TICKS_PER_ARRAY = 88
MIN_SQRT_PRICE, MAX_SQRT_PRICE = 4295048016, 79226673515401279992447579055


def discriminator(name):
    return hashlib.sha256(f"account:{name}".encode()).digest()[:8]


def tick_array_address(pool: Pubkey, start: int) -> Pubkey:
    return Pubkey.find_program_address([b"tick_array", bytes(pool), str(start).encode()], WHIRLPOOL)[0]


def array_start(tick: int, spacing: int) -> int:
    return (tick // (TICKS_PER_ARRAY * spacing)) * TICKS_PER_ARRAY * spacing


def whirlpool_data(config: Pubkey, spacing: int, fee_rate: int, liquidity: int, sqrt_price: int, tick: int,
                   mint_a: Pubkey, vault_a: Pubkey, mint_b: Pubkey, vault_b: Pubkey) -> bytes:
    b = bytearray(WHIRLPOOL_SIZE)
    b[0:8] = discriminator("Whirlpool")
    b[8:40] = bytes(config)
    b[40] = 255  # bump
    struct.pack_into("<HHHH", b, 41, spacing, spacing, fee_rate, 300)  # seed (= spacing: a fixed fee tier), fee, protocol fee
    b[49:65] = liquidity.to_bytes(16, "little")
    b[65:81] = sqrt_price.to_bytes(16, "little")
    struct.pack_into("<i", b, 81, tick)
    b[101:133], b[133:165] = bytes(mint_a), bytes(vault_a)
    b[181:213], b[213:245] = bytes(mint_b), bytes(vault_b)
    return bytes(b)


def tick_array_data(start: int, pool: Pubkey) -> bytes:
    """A tick array with no initialized tick."""
    b = bytearray(TICK_ARRAY_SIZE)
    b[0:8] = discriminator("TickArray")
    struct.pack_into("<i", b, 8, start)
    b[12 + TICKS_PER_ARRAY * 113:] = bytes(pool)
    return bytes(b)


class Whirlpool:
    """The fields a swap reads and writes."""

    def __init__(self, data: bytes):
        self.spacing, _, self.fee_rate, _ = struct.unpack_from("<HHHH", data, 41)
        self.liquidity = int.from_bytes(data[49:65], "little")
        self.sqrt_price = int.from_bytes(data[65:81], "little")
        self.tick = struct.unpack_from("<i", data, 81)[0]
        self.mint_a, self.vault_a = Pubkey(data[101:133]), Pubkey(data[133:165])
        self.mint_b, self.vault_b = Pubkey(data[181:213]), Pubkey(data[213:245])

    @staticmethod
    def read(a):
        if a is None or a.owner != WHIRLPOOL or len(a.data) != WHIRLPOOL_SIZE or a.data[:8] != discriminator("Whirlpool"):
            return None
        return Whirlpool(a.data)

    def moved(self, data: bytes, sqrt_price: int, tick: int) -> bytes:
        b = bytearray(data)
        b[65:81] = sqrt_price.to_bytes(16, "little")
        struct.pack_into("<i", b, 81, tick)
        return bytes(b)

    def arrays_for(self, pool: Pubkey, a_to_b: bool):
        """The three tick arrays a swap in that direction passes through, as the program takes them."""
        width = TICKS_PER_ARRAY * self.spacing
        first = array_start(self.tick if a_to_b else self.tick + self.spacing, self.spacing)
        return [(first + k * (-width if a_to_b else width)) for k in range(3)]

    def swap(self, pool: Pubkey, arrays: dict, amount: int, a_to_b: bool):
        """(out, end sqrt price, end tick) by Orca's simulator over `arrays` (start → TickArray
        bytes, the ones the swap may pass); None when it cannot fill `amount` or would cross an
        initialized tick."""
        sequence = []
        for start in self.arrays_for(pool, a_to_b):
            data = arrays.get(start)
            if data is None:
                sequence.append(None)
                continue
            ticks = []
            for i in range(TICKS_PER_ARRAY):
                o = 12 + i * 113
                if data[o]:
                    return None  # an initialized tick: not modelled here
                ticks.append(_oracles.Tick(False, 0, 0, 0, 0, [0, 0, 0]))
            sequence.append(_oracles.wtypes.TickArray(pubkey=tick_array_address(pool, start), start_tick_index=start, whirlpool=pool, ticks=ticks))
        w = _oracles.wtypes.Whirlpool(
            pubkey=pool, whirlpools_config=pool, whirlpool_bump=[255], tick_spacing=self.spacing,
            tick_spacing_seed=list(self.spacing.to_bytes(2, "little")), fee_rate=self.fee_rate, protocol_fee_rate=0, liquidity=self.liquidity,
            sqrt_price=self.sqrt_price, tick_current_index=self.tick, protocol_fee_owed_a=0, protocol_fee_owed_b=0,
            token_mint_a=self.mint_a, token_vault_a=self.vault_a, fee_growth_global_a=0, token_mint_b=self.mint_b, token_vault_b=self.vault_b,
            fee_growth_global_b=0, reward_last_updated_timestamp=0, reward_infos=[])
        params = SwapQuoteParams(whirlpool=w, amount=amount, other_amount_threshold=0, sqrt_price_limit=MIN_SQRT_PRICE if a_to_b else MAX_SQRT_PRICE,
                                 direction=SwapDirection.AtoB if a_to_b else SwapDirection.BtoA, specified_amount=SpecifiedAmount.SwapInput,
                                 tick_arrays=sequence, slippage_tolerance=Percentage(0, 1))
        try:
            q = simulate_swap(params, TickArrayReduction.No)
        except WhirlpoolError:
            return None
        if q.estimated_amount_in != amount or q.estimated_amount_out == 0 or q.estimated_amount_out >= 2**64:
            return None
        return q.estimated_amount_out, q.estimated_end_sqrt_price, q.estimated_end_tick_index


# ---------------------------------------------------------------- Meteora DLMM

DLMM = Pubkey.from_string("LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo")
LB_PAIR_SIZE, BIN_ARRAY_SIZE = 904, 10136
BINS_PER_ARRAY = 70
LB_PAIR_DISCRIMINATOR = bytes([33, 11, 49, 98, 181, 101, 177, 13])
BIN_ARRAY_DISCRIMINATOR = bytes([92, 142, 92, 220, 5, 148, 70, 181])
Q64 = 2**64


def bin_array_address(pair: Pubkey, index: int) -> Pubkey:
    return Pubkey.find_program_address([b"bin_array", bytes(pair), index.to_bytes(8, "little", signed=True)], DLMM)[0]


def bin_array_index(bin_id: int) -> int:
    return bin_id // BINS_PER_ARRAY


def bin_price(bin_id: int, bin_step: int) -> int:
    """(1 + step/10⁴)^id in Q64.64, as the program's `get_price_from_id` sizes it."""
    from decimal import Decimal, localcontext
    with localcontext() as c:
        c.prec = 60
        return int((Decimal(10_000 + bin_step) / Decimal(10_000)) ** bin_id * Decimal(Q64))


def lb_pair_data(active_id: int, bin_step: int, base_factor: int, mint_x: Pubkey, mint_y: Pubkey, reserve_x: Pubkey, reserve_y: Pubkey,
                 oracle: Pubkey) -> bytes:
    """An `LbPair` (904 bytes, offsets from the program's IDL): static parameters with no variable
    fee (variable_fee_control 0: the fee is the base fee alone), variables at zero, the active bin,
    the bin step, status 0 (enabled), mints, reserves and oracle."""
    b = bytearray(LB_PAIR_SIZE)
    b[0:8] = LB_PAIR_DISCRIMINATOR
    struct.pack_into("<HHHHIIiiHBBB", b, 8, base_factor, 30, 600, 5000, 0, 350_000, -443636, 443636, 0, 0, 0, 0)
    struct.pack_into("<i", b, 76, active_id)
    struct.pack_into("<H", b, 80, bin_step)
    b[88:120], b[120:152], b[152:184], b[184:216] = bytes(mint_x), bytes(mint_y), bytes(reserve_x), bytes(reserve_y)
    b[552:584] = bytes(oracle)
    return bytes(b)


def bin_array_data(index: int, pair: Pubkey, bins: dict) -> bytes:
    """A `BinArray` (10,136 bytes): `bins` maps slot → (amount x, amount y, price Q64.64)."""
    b = bytearray(BIN_ARRAY_SIZE)
    b[0:8] = BIN_ARRAY_DISCRIMINATOR
    struct.pack_into("<q", b, 8, index)
    b[24:56] = bytes(pair)
    for slot, (x, y, price) in bins.items():
        o = 56 + slot * 144
        struct.pack_into("<QQ", b, o, x, y)
        b[o + 16:o + 32] = price.to_bytes(16, "little")
    return bytes(b)


class Pair:
    """The fields of an `LbPair` a swap reads and writes."""

    def __init__(self, data: bytes):
        self.base_factor, self.filter_period, self.decay_period, self.reduction_factor, self.variable_fee_control = struct.unpack_from("<HHHHI", data, 8)
        self.base_fee_power_factor, self.collect_fee_mode = data[34], data[36]
        self.active_id = struct.unpack_from("<i", data, 76)[0]
        self.bin_step = struct.unpack_from("<H", data, 80)[0]
        self.status = data[82]
        self.mint_x, self.mint_y = Pubkey(data[88:120]), Pubkey(data[120:152])
        self.reserve_x, self.reserve_y = Pubkey(data[152:184]), Pubkey(data[184:216])

    @staticmethod
    def read(a):
        if a is None or a.owner != DLMM or len(a.data) != LB_PAIR_SIZE or a.data[:8] != LB_PAIR_DISCRIMINATOR:
            return None
        return Pair(a.data)

    def moved(self, data: bytes, active_id: int) -> bytes:
        b = bytearray(data)
        struct.pack_into("<i", b, 76, active_id)
        return bytes(b)

    def arrays_for(self, swap_for_y: bool):
        """The bin arrays a swap that way passes through (the active one and two beyond), by index."""
        first = bin_array_index(self.active_id)
        return [first + (-k if swap_for_y else k) for k in range(3)]

    def swap(self, arrays: dict, amount: int, swap_for_y: bool):
        """An exact-input swap over `arrays` (index → BinArray bytes): (out, new active bin, arrays
        after as index → bytes), None when it cannot fill within them. Bins are taken from the
        active one outward, each at its price: the base fee comes off the input (collect mode 0),
        a bin's whole reserve costs ⌈reserve·2⁶⁴/price⌉ (or ⌈reserve·price/2⁶⁴⌉), a partial fill pays
        ⌊in·price/2⁶⁴⌋ (or ⌊in·2⁶⁴/price⌋), what a bin used is charged ⌈used·10⁹/(10⁹ − fee)⌉. Pairs
        with a variable fee, limit orders or fees on the output are not modelled (the stand-in's have
        none); the quote is checked against meteora-dlmm in tools/solana/tests."""
        if self.variable_fee_control or self.collect_fee_mode or self.status:
            return None
        fee = min(self.base_factor * self.bin_step * 10 * 10 ** self.base_fee_power_factor, 100_000_000)
        data = {i: bytearray(d) for i, d in arrays.items()}
        remaining, out, current, active = amount, 0, self.active_id, self.active_id
        step = -1 if swap_for_y else 1
        while remaining > 0:
            index = bin_array_index(current)
            if index not in data:
                return None
            o = 56 + (current - index * BINS_PER_ARRAY) * 144
            b = data[index]
            x, y = struct.unpack_from("<QQ", b, o)
            price = int.from_bytes(b[o + 16:o + 32], "little")
            reserve = y if swap_for_y else x
            if price == 0 or reserve == 0:
                current += step
                continue
            left = remaining - -(-remaining * fee // 1_000_000_000)
            max_in = -(-(reserve * Q64) // price) if swap_for_y else -(-(reserve * price) // Q64)
            if left >= max_in:
                used, got = max_in, reserve
            else:
                used, got = left, (left * price // Q64 if swap_for_y else left * Q64 // price)
            x, y = (x + used, y - got) if swap_for_y else (x - got, y + used)
            if x >= 2**64 or y >= 2**64:
                return None
            struct.pack_into("<QQ", b, o, x, y)
            out += got
            active = current
            if left == used:
                break
            charged = -(-(used * 1_000_000_000) // (1_000_000_000 - fee))
            if charged > remaining:
                return None
            remaining -= charged
            current += step
        if out == 0 or out >= 2**64:
            return None
        return out, active, {i: bytes(d) for i, d in data.items()}
