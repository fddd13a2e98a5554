"""Phoenix (v1) markets: the account layout and a taker's swap, transcribed from the program's Rust
source (Ellipsis-Labs/phoenix-v1: program/accounts.rs, state/markets/fifo.rs, state/inflight_order.rs,
state/order_schema/order_packet.rs, program/processor/new_order.rs) and the sokoban red-black tree it
stores its book in (Ellipsis-Labs/sokoban: red_black_tree.rs, node_allocator.rs).

Written apart from Arbiter's Swift: `market_bytes` lays an account out field by field (the trees
built as real red-black trees, their free nodes holding stale orders), `parse_market` walks it the
way the program's `get_min`/successor walk does, and `swap` follows `place_order_inner` and
`match_order` for an immediate-or-cancel order with u64 checks where the program's arithmetic
would fail. No Phoenix implementation outside the program is available here (no PyPI package)."""
import struct

from Crypto.Hash import keccak

PROGRAM_ID = "PhoeNiXZ8ByJGLkxNfZRnkUfjvmuYqLR89jjFHGqdXY"
U64_MAX = (1 << 64) - 1
HEADER = 576
ORDER_NODE, TRADER_NODE, TREE_HEADER = 64, 144, 32
SIZES = [(512, 512, 128), (512, 512, 1025), (512, 512, 1153), (1024, 1024, 128), (1024, 1024, 2049), (1024, 1024, 2177),
         (2048, 2048, 128), (2048, 2048, 4097), (2048, 2048, 4225), (4096, 4096, 128), (4096, 4096, 8193), (4096, 4096, 8321)]
ACTIVE = 1
BLACK, RED = 0, 1


class PhoenixError(Exception):
    """The program would fail (a panic on overflow, a refused order), or the bytes are not a market."""


def discriminant():
    """`get_discriminant::<MarketHeader>()`: keccak(program id ‖ type name), first 8 bytes, little-endian."""
    from solders.pubkey import Pubkey
    h = keccak.new(digest_bits=256)
    h.update(bytes(Pubkey.from_string(PROGRAM_ID)) + b"phoenix::program::accounts::MarketHeader")
    return int.from_bytes(h.digest()[:8], "little")


def market_size(bids, asks, seats):
    return HEADER + 256 + 48 + 3 * TREE_HEADER + ORDER_NODE * (bids + asks) + TRADER_NODE * seats


def ask_key(price, seq):
    return (price, seq)


def bid_seq(seq):
    """A bid's order id carries its sequence number with the bits inverted."""
    return ~seq & U64_MAX


def _order_less(a, b, bids):
    """FIFOOrderId's Ord: asks by (price, sequence) up; bids by price down, then stored sequence down."""
    if bids:
        return (b[0], b[1]) < (a[0], a[1])
    return (a[0], a[1]) < (b[0], b[1])


def _tree_bytes(orders, capacity, bids, rng):
    """A sokoban RedBlackTree of `orders` [(price, stored seq, trader, lots, last slot, last time)]:
    nodes placed at random indices, linked as a balanced tree coloured so the red-black rules hold
    (black on every level but the deepest, which is red), free nodes left with stale contents."""
    n = len(orders)
    assert n <= capacity
    from functools import cmp_to_key
    ordered = sorted(orders, key=cmp_to_key(lambda a, b: -1 if _order_less(a, b, bids) else (1 if _order_less(b, a, bids) else 0)))
    # The allocator hands out indices 1..bump-1; some were freed and are on the free list.
    used = max(n, min(capacity, n + rng.randrange(0, 4)))
    slots = list(range(1, used + 1))
    rng.shuffle(slots)
    taken, free = slots[:n], slots[n:]
    regs = {i: [0, 0, 0, BLACK] for i in range(1, used + 1)}
    values = {}
    depth_of = {}

    def build(lo, hi, parent, depth):
        if lo >= hi:
            return 0
        mid = (lo + hi) // 2
        idx = taken[mid]
        values[idx] = ordered[mid]
        depth_of[idx] = depth
        regs[idx][2] = parent
        regs[idx][0] = build(lo, mid, idx, depth + 1)
        regs[idx][1] = build(mid + 1, hi, idx, depth + 1)
        return idx

    root = build(0, n, 0, 0)
    if depth_of:
        deepest = max(depth_of.values())
        full = (1 << (deepest + 1)) - 1 == n
        for idx, d in depth_of.items():
            regs[idx][3] = RED if d == deepest and deepest > 0 and not full else BLACK
    # The free list: register 0 chains the freed nodes; their values are whatever they held.
    for k, idx in enumerate(free):
        regs[idx] = [free[k + 1] if k + 1 < len(free) else 0, 0, 0, BLACK]
        values[idx] = (rng.randrange(1, 1 << 20), rng.randrange(1 << 40), 0, rng.randrange(1, 1 << 30), 0, 0)
    out = bytearray(TREE_HEADER + ORDER_NODE * capacity)
    struct.pack_into("<I12x", out, 0, root)
    bump = used + 1
    free_head = free[0] if free else bump
    struct.pack_into("<QII", out, 16, n, bump, free_head)
    for idx in range(1, used + 1):
        o = TREE_HEADER + ORDER_NODE * (idx - 1)
        struct.pack_into("<4I", out, o, *regs[idx])
        price, seq, trader, lots, slot, ts = values[idx]
        struct.pack_into("<6Q", out, o + 16, price, seq, trader, lots, slot, ts)
    return bytes(out)


def market_bytes(*, asks, bids, capacities=(512, 512, 128), status=ACTIVE, base_mint=bytes(32), quote_mint=bytes([1]) * 32,
                 base_vault=bytes([2]) * 32, quote_vault=bytes([3]) * 32, base_decimals=9, quote_decimals=6, base_lot_size=1_000_000,
                 quote_lot_size=1, base_lots_per_base_unit=1_000, tick_size=1_000, taker_fee_bps=5, rng):
    """A market account. `asks`/`bids`: [(price in ticks, sequence number, base lots, last valid slot, last valid time)];
    bids' sequence numbers are stored inverted, as the program does."""
    b_cap, a_cap, seats = capacities
    head = bytearray(HEADER)
    struct.pack_into("<QQQQQ", head, 0, discriminant(), status, b_cap, a_cap, seats)
    struct.pack_into("<II32s32sQ", head, 40, base_decimals, 255, base_mint, base_vault, base_lot_size)
    struct.pack_into("<II32s32sQ", head, 120, quote_decimals, 254, quote_mint, quote_vault, quote_lot_size)
    # Tick size in quote atoms per base unit: the program's own conversion of the market's tick.
    struct.pack_into("<Q", head, 200, tick_size * quote_lot_size)
    market = bytearray(256 + 48)
    struct.pack_into("<6Q", market, 256, base_lots_per_base_unit, tick_size, 1 + len(asks) + len(bids), taker_fee_bps, 0, 0)
    as_nodes = [(p, s, 1 + k % 7, lots, slot, ts) for k, (p, s, lots, slot, ts) in enumerate(asks)]
    bid_nodes = [(p, bid_seq(s), 1 + k % 7, lots, slot, ts) for k, (p, s, lots, slot, ts) in enumerate(bids)]
    body = bytes(market) + _tree_bytes(bid_nodes, b_cap, True, rng) + _tree_bytes(as_nodes, a_cap, False, rng)
    traders = bytearray(TREE_HEADER + TRADER_NODE * seats)
    struct.pack_into("<I12xQII", traders, 0, 0, 0, 1, 1)
    return bytes(head) + body + bytes(traders)


def _u64(x, what):
    if x < 0 or x > U64_MAX:
        raise PhoenixError(f"{what} leaves u64")
    return x


def _walk(data, base, capacity):
    """The tree's entries from the minimum on, by the program's walk (leftmost, then successors)."""
    root = struct.unpack_from("<I", data, base)[0]
    size = struct.unpack_from("<Q", data, base + 16)[0]
    nodes = base + TREE_HEADER

    def regs(i):
        if not 1 <= i <= capacity:
            raise PhoenixError(f"node {i} outside the tree")
        return struct.unpack_from("<4I", data, nodes + ORDER_NODE * (i - 1))

    def leftmost(i):
        steps = 0
        while regs(i)[0] != 0:
            i = regs(i)[0]
            steps += 1
            if steps > capacity:
                raise PhoenixError("a cycle in the tree")
        return i

    out = []
    i = leftmost(root) if root else 0
    while i:
        price, seq, trader, lots, slot, ts = struct.unpack_from("<6Q", data, nodes + ORDER_NODE * (i - 1) + 16)
        out.append({"price": price, "seq": seq, "trader": trader, "lots": lots, "slot": slot, "ts": ts})
        if len(out) > size:
            raise PhoenixError("more entries than the allocator's size")
        left, right, parent, _ = regs(i)
        if right:
            i = leftmost(right)
        else:
            # Up until we come from a left child.
            child, i = i, parent
            while i and regs(i)[1] == child:
                child, i = i, regs(i)[2]
    if len(out) != size:
        raise PhoenixError(f"{len(out)} entries reached of {size}")
    return out


def parse_market(data):
    if len(data) < HEADER + 304:
        raise PhoenixError("too short")
    disc, status, b_cap, a_cap, seats = struct.unpack_from("<QQQQQ", data, 0)
    if disc != discriminant():
        raise PhoenixError("not a MarketHeader")
    if (b_cap, a_cap, seats) not in SIZES:
        raise PhoenixError("capacities the program does not dispatch")
    if len(data) < market_size(b_cap, a_cap, seats):
        raise PhoenixError("shorter than its capacities")
    base_lot_size = struct.unpack_from("<Q", data, 112)[0]
    quote_lot_size = struct.unpack_from("<Q", data, 192)[0]
    blpbu, tick, _, fee_bps = struct.unpack_from("<4Q", data, HEADER + 256)
    bids_at = HEADER + 304
    asks_at = bids_at + TREE_HEADER + ORDER_NODE * b_cap
    return {"status": status, "base_lot_size": base_lot_size, "quote_lot_size": quote_lot_size, "base_lots_per_base_unit": blpbu,
            "tick_size": tick, "taker_fee_bps": fee_bps, "bids": _walk(data, bids_at, b_cap), "asks": _walk(data, asks_at, a_cap)}


def compute_fee(m, adjusted):
    return ((adjusted * m["taker_fee_bps"] + 10000 - 1) // 10000) & U64_MAX


def round_up(m, adjusted):
    b = m["base_lots_per_base_unit"]
    return (_u64(adjusted + b - 1, "rounding") // b) * b


def round_down(m, adjusted):
    b = m["base_lots_per_base_unit"]
    return (adjusted // b) * b


def swap(m, amount, buy, slot, timestamp):
    """A Swap instruction with an IOC packet of the whole `amount` (atoms): quote lots to buy base, base lots to sell.
    Returns (paid atoms, received atoms, fee atoms, base lots)."""
    return fill(m, amount, buy, slot, timestamp)[0]


def fill(m, amount, buy, slot, timestamp):
    """`swap`'s result and the side it took from afterwards: orders it filled whole, and expired or
    empty ones it passed over, removed (as `match_order` removes them); the one it stopped in reduced."""
    if m["status"] != ACTIVE:
        raise PhoenixError("the market is not active")
    if min(m["base_lot_size"], m["quote_lot_size"], m["base_lots_per_base_unit"], m["tick_size"]) == 0 or m["taker_fee_bps"] > 10000:
        raise PhoenixError("bad market parameters")
    if buy:
        num_quote_lots, num_base_lots = amount // m["quote_lot_size"], 0
    else:
        num_quote_lots, num_base_lots = 0, amount // m["base_lot_size"]
    if num_quote_lots == 0 and num_base_lots == 0:
        raise PhoenixError("Either num_base_lots or num_quote_lots must be nonzero")
    # place_order_inner: budgets.
    base_lot_budget = U64_MAX if num_base_lots == 0 else num_base_lots
    if num_quote_lots:
        adjusted = _u64(num_quote_lots * m["base_lots_per_base_unit"], "quote budget")
        max_fee = compute_fee(m, U64_MAX)
        adjusted_budget = adjusted * U64_MAX // (max_fee + U64_MAX) if buy else adjusted * U64_MAX // (U64_MAX - max_fee)
        if adjusted_budget > U64_MAX:
            adjusted_budget = U64_MAX
    else:
        adjusted_budget = U64_MAX
    limit = U64_MAX if buy else 0
    book = m["asks"] if buy else m["bids"]
    # match_order
    inflight = {"base": base_lot_budget, "adj": adjusted_budget, "limit": U64_MAX, "stop": False, "mbase": 0, "madj": 0}
    total_adj = 0
    k = 0
    reduced = None
    while inflight["base"] > 0 and inflight["adj"] > 0 and inflight["limit"] > 0 and not inflight["stop"]:
        if k >= len(book):
            break
        o = book[k]
        crossed = o["price"] <= limit if buy else o["price"] >= limit
        if not crossed:
            break
        if o["lots"] == 0:
            k += 1
            inflight["limit"] -= 1
            continue
        if (o["slot"] != 0 and o["slot"] < slot) or (o["ts"] != 0 and o["ts"] < timestamp):
            k += 1
            inflight["limit"] -= 1
            continue
        if o["price"] == 0:
            raise PhoenixError("division by a zero price")
        per_lot = _u64(o["price"] * m["tick_size"], "price")
        quoted = _u64(per_lot * o["lots"], "quoted")
        if o["lots"] <= inflight["base"] and quoted <= inflight["adj"]:
            matched_base, matched_adj = o["lots"], quoted
            k += 1
        else:
            matched_base = min(inflight["base"], inflight["adj"] // per_lot)
            matched_adj = per_lot * matched_base
            inflight["stop"] = True
            reduced = dict(o, lots=o["lots"] - matched_base)
        # process_match
        inflight["base"] -= matched_base
        inflight["adj"] -= matched_adj
        inflight["mbase"] = _u64(inflight["mbase"] + matched_base, "matched base")
        inflight["madj"] = _u64(inflight["madj"] + matched_adj, "matched quote")
        inflight["limit"] -= 1
        total_adj = _u64(total_adj + matched_adj, "total")
    fee_lots = round_up(m, compute_fee(m, total_adj)) // m["base_lots_per_base_unit"]
    if buy:
        quote_lots = _u64(round_up(m, inflight["madj"]) // m["base_lots_per_base_unit"] + fee_lots, "paid")
    else:
        gross = round_down(m, inflight["madj"]) // m["base_lots_per_base_unit"]
        if gross < fee_lots:
            raise PhoenixError("fees exceed the proceeds")
        quote_lots = gross - fee_lots
    if inflight["mbase"] == 0:
        raise PhoenixError("nothing filled")
    quote_atoms = _u64(quote_lots * m["quote_lot_size"], "quote atoms")
    base_atoms = _u64(inflight["mbase"] * m["base_lot_size"], "base atoms")
    fee_atoms = _u64(fee_lots * m["quote_lot_size"], "fee atoms")
    after = ([reduced] if reduced and reduced["lots"] else []) + book[k + (1 if reduced else 0):]
    if buy:
        if quote_atoms > amount:
            raise PhoenixError("the deposit exceeds the taker's tokens")
        return (quote_atoms, base_atoms, fee_atoms, inflight["mbase"]), after
    return (base_atoms, quote_atoms, fee_atoms, inflight["mbase"]), after


def with_side(data, bids, orders, rng):
    """`data` with its bids' (or asks') tree holding `orders` [{price, seq (as stored), trader, lots, slot, ts}]
    instead, the rest of the account as it was: what a swap or a maker's new orders leave behind."""
    b_cap, a_cap = struct.unpack_from("<QQ", data, 16)
    at = HEADER + 304 + (0 if bids else TREE_HEADER + ORDER_NODE * b_cap)
    tree = _tree_bytes([(o["price"], o["seq"], o["trader"], o["lots"], o["slot"], o["ts"]) for o in orders], b_cap if bids else a_cap, bids, rng)
    return data[:at] + tree + data[at + len(tree):]


def next_sequence(data):
    """The market's next order sequence number (a maker's new order takes it)."""
    return struct.unpack_from("<Q", data, HEADER + 272)[0]


def with_sequence(data, sequence):
    return data[:HEADER + 272] + struct.pack("<Q", sequence) + data[HEADER + 280:]
