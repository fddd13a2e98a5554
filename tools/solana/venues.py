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
