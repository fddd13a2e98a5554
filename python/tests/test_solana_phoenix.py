"""Phoenix market decoding and quoting (`arbiter util solana quote`, venue "phoenix") on random books.

No implementation of Phoenix outside the program is available here: the expected values come from
tools/solana/phoenix.py, a transcription of the program's Rust source (and of sokoban's tree) written
apart from Arbiter's Swift. Accounts are laid out field by field with real red-black trees whose
nodes sit at random indices beside freed nodes holding stale orders. Every case must agree exactly
(input taken, output, fee, lots filled), and so must the refusals."""
import base64
import json
import random

from tools.solana import phoenix

CASES, LEAST_QUOTED = 600, 500


def b64(data):
    return base64.b64encode(bytes(data)).decode()


def random_market(rng, slot, timestamp, capacities=None):
    """A market around a mid price: asks above, bids below, several orders at a price, some expiring."""
    tick = rng.choice([1, 10, 100, 1_000])
    lots_per_unit = rng.choice([1, 10, 100, 1_000])
    mid = rng.randrange(50, 5_000)
    spread = rng.randrange(1, 20)

    def side(up):
        orders, seq = [], rng.randrange(1, 1 << 30)
        price = mid + spread if up else mid - spread
        for _ in range(rng.randrange(0, 40)):
            if rng.random() < 0.4:
                price = price + rng.randrange(1, 6) if up else max(1, price - rng.randrange(1, 6))
            lots = rng.choice([rng.randrange(1, 100), rng.randrange(1, 100_000), rng.randrange(1, 10_000_000)])
            last_slot = rng.choice([0, 0, 0, slot - rng.randrange(1, 5), slot + rng.randrange(0, 5)])
            last_time = rng.choice([0, 0, 0, timestamp - rng.randrange(1, 5), timestamp + rng.randrange(0, 5)])
            seq += rng.randrange(1, 5)
            orders.append((price, seq, lots, last_slot, last_time))
        return orders

    status = phoenix.ACTIVE if rng.random() > 0.02 else 2
    capacities = capacities or rng.choice([(512, 512, 128), (1024, 1024, 128)])
    data = phoenix.market_bytes(asks=side(True), bids=side(False), capacities=capacities, status=status,
                                base_lot_size=rng.choice([1, 1_000, 1_000_000]), quote_lot_size=rng.choice([1, 10, 100]),
                                base_lots_per_base_unit=lots_per_unit, tick_size=tick, taker_fee_bps=rng.choice([0, 1, 2, 5, 10, 50]), rng=rng)
    return data


def expected(data, amount, buy, slot, timestamp):
    try:
        return phoenix.swap(phoenix.parse_market(data), amount, buy, slot, timestamp)
    except phoenix.PhoenixError:
        return None


def test_quotes_agree_with_the_transcription_on_random_books(arbiter):
    rng = random.Random(20261205)
    requests, answers = [], []
    for _ in range(CASES):
        slot, timestamp = rng.randrange(1_000, 1 << 40), rng.randrange(1_700_000_000, 1_800_000_000)
        data = random_market(rng, slot, timestamp)
        m = phoenix.parse_market(data)
        buy = rng.random() < 0.5
        # From a fraction of one lot to more than the whole side holds.
        side_value = sum(o["lots"] for o in (m["asks"] if buy else m["bids"])) * m["base_lot_size"]
        if buy:
            side_value = side_value * max(o["price"] for o in m["asks"]) * m["tick_size"] * m["quote_lot_size"] // (m["base_lot_size"] * m["base_lots_per_base_unit"]) if m["asks"] else 10**9
        amount = max(1, min(phoenix.U64_MAX, int(max(side_value, 1) * 10 ** rng.uniform(-4, 0.3))))
        requests.append({"venue": "phoenix", "market": b64(data), "amount": str(amount), "buy": buy, "slot": str(slot), "timestamp": str(timestamp)})
        answers.append(expected(data, amount, buy, slot, timestamp))
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    lines = arbiter("util", "solana", "quote", "--jsonl", stdin=stdin).stdout.splitlines()
    assert len(lines) == len(requests)
    quoted = partial = expired_skipped = 0
    for request, want, line in zip(requests, answers, lines):
        got = json.loads(line)
        if want is None:
            assert "error" in got, (request["amount"], request["buy"], got)
            continue
        assert "error" not in got, (request["amount"], request["buy"], want, got)
        assert (int(got["amountIn"]), int(got["amountOut"]), int(got["fee"]), int(got["baseLots"])) == want, (request["amount"], want, got)
        quoted += 1
        partial += want[0] < int(request["amount"]) - 10**6
    assert quoted >= LEAST_QUOTED, quoted
    assert partial >= 20, partial  # books smaller than the order: filled in part, the rest left with the taker


def test_the_decoder_refuses_other_kinds_sizes_and_broken_trees(arbiter):
    rng = random.Random(3)
    small = (512, 512, 128)
    data = random_market(rng, 10_000, 1_750_000_000, small)
    while len(phoenix.parse_market(data)["asks"]) < 3:
        data = random_market(rng, 10_000, 1_750_000_000, small)
    asks_at = phoenix.HEADER + 304 + phoenix.TREE_HEADER + phoenix.ORDER_NODE * 512
    root = int.from_bytes(data[asks_at:asks_at + 4], "little")

    def patched(offset, value):
        return data[:offset] + value + data[offset + len(value):]

    node = asks_at + phoenix.TREE_HEADER + phoenix.ORDER_NODE * (root - 1)
    broken = [
        data[: phoenix.market_size(*small) - 1],  # short
        patched(0, bytes(8)),  # another discriminant
        patched(16, (513).to_bytes(8, "little")),  # capacities the program does not dispatch
        patched(node, (4096).to_bytes(4, "little")),  # a left child outside the tree
        patched(node, root.to_bytes(4, "little")),  # a cycle
        patched(asks_at + 16, (99).to_bytes(8, "little")),  # more orders claimed than the tree holds
    ]
    for b in broken:  # the transcription's walk (the program's) cannot read them either
        try:
            phoenix.parse_market(b)
            raise AssertionError("the transcription read a broken market")
        except phoenix.PhoenixError:
            pass
    # A tree the program would walk but whose order is not the book's (the root's price set to 0):
    # the decoder's own check.
    bad = broken + [patched(node + 16, (0).to_bytes(8, "little"))]
    requests = [{"venue": "phoenix", "market": b64(b), "amount": "1000000000", "buy": True, "slot": "10000", "timestamp": "1750000000"} for b in bad]
    lines = arbiter("util", "solana", "quote", "--jsonl", stdin="".join(json.dumps(r) + "\n" for r in requests)).stdout.splitlines()
    assert len(lines) == len(bad) and all("error" in json.loads(line) for line in lines), lines
