"""Raydium CLMM on the stand-in: `PoolState` (1,544 bytes), `AmmConfig` (117) and `TickArrayState`
(10,240) in the program's layouts, and its exact-input swap, transcribed here from the program's
published source (raydium-io/raydium-clmm: `states/pool.rs`, `states/config.rs`,
`states/tick_array.rs`, `states/pool_fee.rs`, `libraries/tick_math.rs`, `sqrt_price_math.rs`,
`liquidity_math.rs`, `swap_math.rs`, `instructions/swap.rs`) in Python's unbounded integers.

No implementation of Raydium CLMM outside the program is available here; this one is written
from the Rust source independently of Arbiter's Swift (which shares formulas with its Orca code),
so the two agreeing on random states checks each against the program's text as read twice. Not
modelled, and refused: dynamic fees, limit orders at a tick the swap reaches, the bitmap
extension account."""
import hashlib
import struct

from solders.pubkey import Pubkey

PROGRAM = Pubkey.from_string("CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK")
MIN_TICK, MAX_TICK = -443636, 443636
MIN_SQRT_PRICE, MAX_SQRT_PRICE = 4295048016, 79226673521066979257578248091
FEE_RATE_DENOMINATOR = 1_000_000
TICK_ARRAY_SIZE = 60
POOL_SIZE, CONFIG_SIZE, TICK_ARRAY_BYTES = 1544, 117, 10240
U64_MAX, U128_MAX = 2**64 - 1, 2**128 - 1


class ClmmError(Exception):
    pass


def discriminator(name):
    return hashlib.sha256(f"account:{name}".encode()).digest()[:8]


# ------------------------------------------------------------------ layouts (field by field)

def u128(x):
    return x.to_bytes(16, "little")


def i128(x):
    return x.to_bytes(16, "little", signed=True)


# (name, struct format): `PoolState` after its discriminator, as declared (packed).
POOL_FIELDS = [("bump", "B"), ("amm_config", "32s"), ("owner", "32s"), ("token_mint_0", "32s"), ("token_mint_1", "32s"),
               ("token_vault_0", "32s"), ("token_vault_1", "32s"), ("observation_key", "32s"), ("mint_decimals_0", "B"),
               ("mint_decimals_1", "B"), ("tick_spacing", "H"), ("liquidity", "16s"), ("sqrt_price_x64", "16s"), ("tick_current", "i"),
               ("padding3", "H"), ("padding4", "H"), ("fee_growth_global_0_x64", "16s"), ("fee_growth_global_1_x64", "16s"),
               ("protocol_fees_token_0", "Q"), ("protocol_fees_token_1", "Q"), ("padding5", "64s"), ("status", "B"), ("fee_on", "B"),
               ("padding", "6s"), ("reward_infos", f"{169 * 3}s"), ("tick_array_bitmap", "128s"), ("padding6", "32s"),
               ("fund_fees_token_0", "Q"), ("fund_fees_token_1", "Q"), ("open_time", "Q"), ("recent_epoch", "Q"),
               ("dynamic_fee_info", "80s"), ("padding1", "112s"), ("padding2", "256s")]
CONFIG_FIELDS = [("bump", "B"), ("index", "H"), ("owner", "32s"), ("protocol_fee_rate", "I"), ("trade_fee_rate", "I"), ("tick_spacing", "H"),
                 ("fund_fee_rate", "I"), ("padding_u32", "I"), ("fund_owner", "32s"), ("padding", "24s")]
TICK_FIELDS = [("tick", "i"), ("liquidity_net", "16s"), ("liquidity_gross", "16s"), ("fee_growth_outside_0_x64", "16s"),
               ("fee_growth_outside_1_x64", "16s"), ("reward_growths_outside_x64", "48s"), ("order_phase", "Q"), ("orders_amount", "Q"),
               ("part_filled_orders_remaining", "Q"), ("unfilled_ratio_x64", "16s"), ("padding", "12s")]

POOL_FORMAT = "<" + "".join(f for _, f in POOL_FIELDS)
CONFIG_FORMAT = "<" + "".join(f for _, f in CONFIG_FIELDS)
TICK_FORMAT = "<" + "".join(f for _, f in TICK_FIELDS)
assert 8 + struct.calcsize(POOL_FORMAT) == POOL_SIZE and 8 + struct.calcsize(CONFIG_FORMAT) == CONFIG_SIZE
assert struct.calcsize(TICK_FORMAT) == 168 and 8 + 32 + 4 + 168 * 60 + 1 + 8 + 107 == TICK_ARRAY_BYTES


def _pack(fmt, fields, values):
    out = []
    for name, f in fields:
        v = values.get(name, 0)
        if f.endswith("s"):
            v = v if isinstance(v, (bytes, bytearray)) else bytes(int(f[:-1]))
        out.append(v)
    return struct.pack(fmt, *out)


def pool_bytes(*, config, mint0, mint1, vault0, vault1, observation, spacing, liquidity, sqrt_price, tick, bitmap, status=0, fee_on=0,
               decimals=(9, 6), dynamic_fee=b"\0" * 80, owner=b"\1" * 32):
    words = b"".join(w.to_bytes(8, "little") for w in bitmap)
    values = {"bump": 255, "amm_config": bytes(config), "owner": owner, "token_mint_0": bytes(mint0), "token_mint_1": bytes(mint1),
              "token_vault_0": bytes(vault0), "token_vault_1": bytes(vault1), "observation_key": bytes(observation),
              "mint_decimals_0": decimals[0], "mint_decimals_1": decimals[1], "tick_spacing": spacing, "liquidity": u128(liquidity),
              "sqrt_price_x64": u128(sqrt_price), "tick_current": tick, "status": status, "fee_on": fee_on, "tick_array_bitmap": words,
              "dynamic_fee_info": dynamic_fee}
    return discriminator("PoolState") + _pack(POOL_FORMAT, POOL_FIELDS, values)


def parse_pool(data):
    if len(data) != POOL_SIZE or data[:8] != discriminator("PoolState"):
        raise ClmmError("not a PoolState")
    v = dict(zip([n for n, _ in POOL_FIELDS], struct.unpack(POOL_FORMAT, data[8:])))
    for k in ("liquidity", "sqrt_price_x64"):
        v[k] = int.from_bytes(v[k], "little")
    v["bitmap"] = [int.from_bytes(v["tick_array_bitmap"][8 * i:8 * i + 8], "little") for i in range(16)]
    return v


def config_bytes(*, trade_fee_rate, tick_spacing, protocol_fee_rate=120_000, fund_fee_rate=40_000, index=0):
    values = {"bump": 254, "index": index, "owner": b"\2" * 32, "protocol_fee_rate": protocol_fee_rate, "trade_fee_rate": trade_fee_rate,
              "tick_spacing": tick_spacing, "fund_fee_rate": fund_fee_rate, "fund_owner": b"\3" * 32}
    return discriminator("AmmConfig") + _pack(CONFIG_FORMAT, CONFIG_FIELDS, values)


def parse_config(data):
    if len(data) != CONFIG_SIZE or data[:8] != discriminator("AmmConfig"):
        raise ClmmError("not an AmmConfig")
    return dict(zip([n for n, _ in CONFIG_FIELDS], struct.unpack(CONFIG_FORMAT, data[8:])))


def tick_array_bytes(pool, start, spacing, ticks):
    """`ticks`: slot → (liquidity_net, liquidity_gross[, orders_amount]); the others empty. An
    initialized slot names its tick, as the program writes it."""
    body = bytearray()
    for i in range(TICK_ARRAY_SIZE):
        net, gross, orders = (tuple(ticks[i]) + (0,))[:3] if i in ticks else (0, 0, 0)
        values = {"tick": start + i * spacing if i in ticks else 0, "liquidity_net": i128(net), "liquidity_gross": u128(gross),
                  "orders_amount": orders}
        body += _pack(TICK_FORMAT, TICK_FIELDS, values)
    count = sum(1 for i in ticks if ticks[i][1] > 0 or (len(ticks[i]) > 2 and ticks[i][2] > 0))
    return discriminator("TickArrayState") + bytes(pool) + struct.pack("<i", start) + bytes(body) + bytes([count]) + bytes(8 + 107)


def position_ticks(positions, spacing, orders=None):
    """The tick arrays' slots that `positions` ((lower, upper, liquidity), …) and limit `orders`
    (tick → amount) initialize, as start → {slot: (net, gross, orders)}, and the pool's bitmap
    marking those arrays."""
    width = TICK_ARRAY_SIZE * spacing
    slots = {}

    def put(t, net, gross, amount):
        start = array_start(t, spacing)
        n, g, o = slots.setdefault(start, {}).get((t - start) // spacing, (0, 0, 0))
        slots[start][(t - start) // spacing] = (n + net, g + gross, o + amount)
    for lo, hi, liquidity in positions:
        put(lo, liquidity, liquidity, 0)
        put(hi, -liquidity, liquidity, 0)
    for t, amount in (orders or {}).items():
        put(t, 0, 0, amount)
    bitmap = [0] * 16
    for start in slots:
        bit = start // width + 512
        bitmap[bit // 64] |= 1 << (bit % 64)
    return slots, bitmap


def tick_array_address(pool, start):
    return Pubkey.find_program_address([b"tick_array", bytes(pool), start.to_bytes(4, "big", signed=True)], PROGRAM)[0]


def parse_tick_array(data):
    if len(data) != TICK_ARRAY_BYTES or data[:8] != discriminator("TickArrayState"):
        raise ClmmError("not a TickArrayState")
    start = struct.unpack_from("<i", data, 40)[0]
    ticks = []
    for i in range(TICK_ARRAY_SIZE):
        f = dict(zip([n for n, _ in TICK_FIELDS], struct.unpack_from(TICK_FORMAT, data, 44 + 168 * i)))
        ticks.append({"tick": f["tick"], "net": int.from_bytes(f["liquidity_net"], "little", signed=True),
                      "gross": int.from_bytes(f["liquidity_gross"], "little"),
                      "orders": f["orders_amount"] > 0 or f["part_filled_orders_remaining"] > 0})
    return {"pool": Pubkey(data[8:40]), "start": start, "ticks": ticks}


# ------------------------------------------------------------------ math (libraries/*.rs)

_FACTORS = [0xfffcb933bd6fb800, 0xfff97272373d4000, 0xfff2e50f5f657000, 0xffe5caca7e10f000, 0xffcb9843d60f7000, 0xff973b41fa98e800,
            0xff2ea16466c9b000, 0xfe5dee046a9a3800, 0xfcbe86c7900bb000, 0xf987a7253ac65800, 0xf3392b0822bb6000, 0xe7159475a2caf000,
            0xd097f3bdfd2f2000, 0xa9f746462d9f8000, 0x70d869a156f31c00, 0x31be135f97ed3200, 0x9aa508b5b85a500, 0x5d6af8dedc582c,
            0x2216e584f5fa]


def sqrt_price_at_tick(tick):
    if not MIN_TICK <= tick <= MAX_TICK:
        raise ClmmError("tick out of range")
    a = abs(tick)
    ratio = _FACTORS[0] if a & 1 else 1 << 64
    for i in range(1, 19):
        if a & (1 << i):
            ratio = (ratio * _FACTORS[i]) >> 64
    if tick > 0:
        ratio = U128_MAX // ratio
    return ratio


def tick_at_sqrt_price(p):
    if not MIN_SQRT_PRICE <= p < MAX_SQRT_PRICE:
        raise ClmmError("sqrt price out of range")
    msb = p.bit_length() - 1
    log2p_integer_x32 = (msb - 64) << 32
    bit, precision, fraction_x64 = 0x8000_0000_0000_0000, 0, 0
    r = p >> (msb - 63) if msb >= 64 else p << (63 - msb)
    while bit > 0 and precision < 16:
        r = (r * r) & U128_MAX
        more = r >> 127
        r >>= 63 + more
        fraction_x64 += bit * more
        bit >>= 1
        precision += 1
    log_sqrt_10001_x64 = (log2p_integer_x32 + (fraction_x64 >> 32)) * 59543866431248
    low = (log_sqrt_10001_x64 - 184467440737095516) >> 64
    high = (log_sqrt_10001_x64 + 15793534762490258745) >> 64
    if low == high:
        return low
    return high if sqrt_price_at_tick(high) <= p else low


def _ceil_div(a, b):
    return -(-a // b)


def delta_amounts_for_swap(a, b, liquidity, zero_for_one):
    """(amount in rounded up, amount out rounded down) between two prices; None when one passes u64."""
    if a > b:
        a, b = b, a
    if a == 0:
        raise ClmmError("zero sqrt price")
    amount_1_x64 = liquidity * (b - a)
    product = a * b
    if zero_for_one:
        amount_in, amount_out = _ceil_div(amount_1_x64 << 64, product), amount_1_x64 >> 64
    else:
        amount_in, amount_out = (amount_1_x64 + U64_MAX) >> 64, (amount_1_x64 << 64) // product
    if amount_in > U64_MAX or amount_out > U64_MAX:
        return None
    return amount_in, amount_out


def next_sqrt_price_from_input(p, liquidity, amount, zero_for_one):
    if not MIN_SQRT_PRICE <= p < MAX_SQRT_PRICE:
        raise ClmmError("sqrt price out of range")
    if liquidity <= 0:
        raise ClmmError("zero liquidity")
    if amount == 0:
        return p
    if zero_for_one:  # token 0 in: rounding up
        numerator_1 = liquidity << 64
        return _ceil_div(numerator_1 * p, numerator_1 + amount * p)
    q = (amount << 64) // liquidity  # token 1 in: rounding down
    if p + q > U128_MAX:
        raise ClmmError("price overflow")
    return p + q


def compute_swap(current, target, liquidity, remaining, fee_rate, zero_for_one, fee_on_input):
    """swap_math::compute_swap for an exact input: (next price, amount in, amount out, fee)."""
    calc = remaining * (FEE_RATE_DENOMINATOR - fee_rate) // FEE_RATE_DENOMINATOR if fee_on_input else remaining
    at_target = delta_amounts_for_swap(target, current, liquidity, zero_for_one)
    if at_target is not None and calc >= at_target[0]:
        nxt, amount_in, amount_out = target, at_target[0], at_target[1]
    else:
        nxt = next_sqrt_price_from_input(current, liquidity, calc, zero_for_one)
        amounts = delta_amounts_for_swap(nxt, current, liquidity, zero_for_one)
        if amounts is None:
            raise ClmmError("amount passes u64")
        amount_in, amount_out = amounts
    if (zero_for_one and nxt < target) or (not zero_for_one and nxt > target):
        raise ClmmError("step passed its target")
    if fee_on_input:
        fee = remaining - amount_in if nxt != target else _ceil_div(amount_in * fee_rate, FEE_RATE_DENOMINATOR - fee_rate)
    else:
        fee = _ceil_div(amount_out * fee_rate, FEE_RATE_DENOMINATOR)
        amount_out -= fee
        if nxt != target:
            amount_in = remaining
    return nxt, amount_in, amount_out, fee


# ------------------------------------------------------------------ the swap (instructions/swap.rs)

def array_start(tick, spacing):
    """TickArrayState::get_array_start_index: the start at or below `tick` (Python's // floors)."""
    width = TICK_ARRAY_SIZE * spacing
    return tick // width * width


def _bit(bitmap, start, spacing):
    compressed = start // (TICK_ARRAY_SIZE * spacing) + 512
    if not 0 <= compressed < 1024:
        return None
    return (bitmap[compressed // 64] >> (compressed % 64)) & 1 == 1


def _next_array(bitmap, start, spacing, zero_for_one):
    width = TICK_ARRAY_SIZE * spacing
    s = start
    while True:
        s = s - width if zero_for_one else s + width
        marked = _bit(bitmap, s, spacing)
        if marked is None:
            raise ClmmError("no initialized tick array left in the bitmap")
        if marked:
            return s


def swap(pool, config, arrays, amount, zero_for_one):
    """An exact-input swap of `amount` on `pool` (parse_pool), `config` (parse_config), `arrays`
    (start → parse_tick_array): the amounts and the pool's price, tick and liquidity after it."""
    if amount == 0:
        raise ClmmError("zero amount")
    if pool["status"] & (1 << 4):
        raise ClmmError("swaps disabled")
    if any(pool["dynamic_fee_info"]):
        raise ClmmError("dynamic fee not modelled")
    spacing, bitmap, fee_rate = pool["tick_spacing"], pool["bitmap"], config["trade_fee_rate"]
    fee_on_input = {0: True, 1: zero_for_one, 2: not zero_for_one}.get(pool["fee_on"], True)
    limit = MIN_SQRT_PRICE + 1 if zero_for_one else MAX_SQRT_PRICE - 1
    remaining, out, fees = amount, 0, 0
    price, tick, liquidity = pool["sqrt_price_x64"], pool["tick_current"], pool["liquidity"]
    current = array_start(tick, spacing)
    first_contains = bool(_bit(bitmap, current, spacing))
    if not first_contains:
        current = _next_array(bitmap, current, spacing, zero_for_one)

    def ticks_of(start):
        if start not in arrays:
            raise ClmmError(f"tick array {start} not given")
        return arrays[start]["ticks"]

    while remaining != 0 and price != limit:
        ticks = ticks_of(current)
        found = None
        if array_start(tick, spacing) == current:
            offset = (tick - current) // spacing
            slots = range(offset, -1, -1) if zero_for_one else range(offset + 1, TICK_ARRAY_SIZE)
            found = next((i for i in slots if ticks[i]["gross"] > 0 or ticks[i]["orders"]), None)
        if found is None:
            if not first_contains:
                first_contains = True
            else:
                current = _next_array(bitmap, current, spacing, zero_for_one)
                ticks = ticks_of(current)
            order = range(TICK_ARRAY_SIZE - 1, -1, -1) if zero_for_one else range(TICK_ARRAY_SIZE)
            found = next((i for i in order if ticks[i]["gross"] > 0 or ticks[i]["orders"]), None)
            if found is None:
                raise ClmmError("an initialized tick array without an initialized tick")
        slot = ticks[found]
        tick_next = min(max(current + found * spacing, MIN_TICK), MAX_TICK)
        price_next = sqrt_price_at_tick(tick_next)
        target = limit if (zero_for_one and price_next < limit) or (not zero_for_one and price_next > limit) else price_next
        if price != target:
            nxt, amount_in, amount_out, fee = compute_swap(price, target, liquidity, remaining, fee_rate, zero_for_one, fee_on_input)
        else:
            nxt, amount_in, amount_out, fee = target, 0, 0, 0
        remaining -= amount_in + fee if fee_on_input else amount_in
        out += amount_out
        fees += fee
        if nxt == price_next:
            if slot["orders"]:
                raise ClmmError(f"limit orders at tick {tick_next} not modelled")
            if slot["gross"] > 0:
                net = -slot["net"] if zero_for_one else slot["net"]
                liquidity += net
                if liquidity < 0:
                    raise ClmmError("liquidity below zero")
            tick = tick_next - 1 if zero_for_one else tick_next
        elif nxt != price:
            tick = tick_at_sqrt_price(nxt)
        price = nxt
    if remaining != 0:
        raise ClmmError("reached the price limit with input left")
    if out > U64_MAX:
        raise ClmmError("output passes u64")
    return {"amountIn": amount, "amountOut": out, "fee": fees, "sqrtPrice": price, "tick": tick, "liquidity": liquidity}


# ------------------------------------------------------------------ on the stand-in ledger

SWAP_ARRAYS = 3  # tick arrays a stand-in swap is given (the initialized ones in its direction)


def vault_address(pool, mint):
    """seeds `["pool_vault", pool, mint]`, as the program derives its vaults."""
    return Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint)], PROGRAM)[0]


def position_amounts(positions, price, tick):
    """Token 0 and token 1 that `positions` ((lower, upper, liquidity), …) hold at `price`, rounded
    up as the program charges a deposit."""
    t0 = t1 = 0
    for lo, hi, liquidity in positions:
        p_lo, p_hi = sqrt_price_at_tick(lo), sqrt_price_at_tick(hi)
        if tick < lo:
            t0 += _ceil_div(liquidity * (p_hi - p_lo) << 64, p_lo * p_hi)
        elif tick >= hi:
            t1 += _ceil_div(liquidity * (p_hi - p_lo), 1 << 64)
        else:
            t0 += _ceil_div(liquidity * (p_hi - price) << 64, price * p_hi)
            t1 += _ceil_div(liquidity * (price - p_lo), 1 << 64)
    return t0, t1


class ClmmPool:
    """A CLMM pool account on the stand-in ledger: what a route reads, and its swap."""

    def __init__(self, data):
        self.state = parse_pool(data)
        self.config = Pubkey(self.state["amm_config"])
        self.mint0, self.mint1 = Pubkey(self.state["token_mint_0"]), Pubkey(self.state["token_mint_1"])
        self.vault0, self.vault1 = Pubkey(self.state["token_vault_0"]), Pubkey(self.state["token_vault_1"])

    @staticmethod
    def read(a):
        if a is None or a.owner != PROGRAM or len(a.data) != POOL_SIZE or a.data[:8] != discriminator("PoolState"):
            return None
        return ClmmPool(a.data)

    def arrays_for(self, zero_for_one):
        """The initialized tick arrays a swap that way reads, in order (the first holding the price
        when it is initialized), up to three."""
        spacing, bitmap = self.state["tick_spacing"], self.state["bitmap"]
        start = array_start(self.state["tick_current"], spacing)
        out = [start] if _bit(bitmap, start, spacing) else []
        while len(out) < SWAP_ARRAYS:
            try:
                start = _next_array(bitmap, start, spacing, zero_for_one)
            except ClmmError:
                break
            out.append(start)
        return out

    def swap(self, config_data, arrays, amount, zero_for_one):
        """`arrays`: start → TickArrayState bytes (those `arrays_for` names). (out, the pool's data
        after) or None when the swap cannot be done within them."""
        try:
            r = swap(self.state, parse_config(config_data), {s: parse_tick_array(d) for s, d in arrays.items()}, amount, zero_for_one)
        except ClmmError:
            return None
        if r["amountOut"] == 0:
            return None
        return r["amountOut"], r

    @staticmethod
    def moved(data, r):
        b = bytearray(data)
        b[8 + 229:8 + 245] = u128(r["liquidity"])  # liquidity (offset 237)
        b[8 + 245:8 + 261] = u128(r["sqrtPrice"])  # sqrt_price_x64 (253)
        struct.pack_into("<i", b, 8 + 261, r["tick"])  # tick_current (269)
        return bytes(b)
