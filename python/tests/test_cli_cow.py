"""`arbiter util cow-decode` against eth-abi encodings and eth-account signatures: randomized
`settle` calls over every flag combination and signing scheme, GPv2's events, and mutated input
that must give an error line, never a crash."""
import itertools
import json
import os
import random
import sys

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
from tools.devnet import cow  # noqa: E402

CHAIN_ID = 1
SETTLEMENT = "0x9008D19f58AAbD9eD0D60971565AA8510560ab41"
TRADE_TOPIC = "0xa07a543ab8a018198e99ca0184c93fe9050a79400a0a723441f84de1d972cc17"
INTERACTION_TOPIC = "0xed99827efb37016f2275f98c4bcf71c7551c75d59e9b450f79fa32e60be672c2"
SETTLEMENT_TOPIC = "0x40338ce1a7c49204f0099533b1e9a7ee0a3d261f84974ab7af36105b8c4e9db4"
# Every flag combination: kind, partially fillable, sell balance (erc20 twice: bits 3..2 = 00 and 01), buy balance, scheme.
COMBOS = list(itertools.product(["sell", "buy"], [False, True], ["erc20", "erc20-01", "external", "internal"], ["erc20", "internal"],
                                ["eip712", "ethsign", "eip1271", "presign"]))


def address(r):
    return to_checksum_address("0x" + r.randbytes(20).hex())


def amount(r):
    return r.choice([0, 1, r.randrange(1, 10**6), r.randrange(1, 2**128), r.randrange(1, 2**255)])


def flag_word(kind, partial, sell_balance, buy_balance, scheme):
    balance_bits = {"erc20": 0, "erc20-01": 1, "external": 2, "internal": 3}[sell_balance]
    return (kind == "buy") | (partial << 1) | (balance_bits << 2) | ((buy_balance == "internal") << 4) | (cow.SCHEMES[scheme] << 5)


def executed(kind, partial, order, executed_amount, sell_price, buy_price):
    """GPv2's executed amounts at the clearing prices (sell orders round up, buy orders down)."""
    if sell_price == 0 or buy_price == 0:
        return None
    if kind == "sell":
        sold = executed_amount if partial else order["sellAmount"]
        return (sold, -(-sold * sell_price // buy_price)) if sold * sell_price < 2**256 else None
    bought = executed_amount if partial else order["buyAmount"]
    sold = bought * buy_price // sell_price
    return (sold, bought) if bought * buy_price < 2**256 else None


def random_settlement(r, combos):
    """(calldata, expected JSON) of a settle call whose trades have these flag combinations."""
    tokens = [address(r) for _ in range(r.randint(2, 5))]
    prices = [r.choice([0, amount(r) or 1, r.randrange(1, 10**30)]) for _ in tokens]
    trades, expected = [], []
    for kind, partial, sell_balance, buy_balance, scheme in combos:
        si, bi = r.randrange(len(tokens)), r.randrange(len(tokens))
        key = "0x" + r.randbytes(32).hex()
        owner = address(r)
        order = {"sellToken": tokens[si], "buyToken": tokens[bi], "receiver": address(r) if r.random() < 0.5 else cow.ZERO,
                 "sellAmount": amount(r), "buyAmount": amount(r), "validTo": r.randrange(2**32), "appData": r.randbytes(32),
                 "feeAmount": amount(r), "kind": kind, "partiallyFillable": partial,
                 "sellTokenBalance": "erc20" if sell_balance == "erc20-01" else sell_balance, "buyTokenBalance": buy_balance}
        wallet = r.randbytes(r.randint(0, 40))
        signature, signer = cow.sign_order(CHAIN_ID, SETTLEMENT, order, scheme, key=key, owner=owner, wallet_bytes=wallet)
        executed_amount = amount(r)
        trades.append((si, bi, order["receiver"], order["sellAmount"], order["buyAmount"], order["validTo"], order["appData"],
                       order["feeAmount"], flag_word(kind, partial, sell_balance, buy_balance, scheme), executed_amount, signature))
        digest = cow.order_digest(CHAIN_ID, SETTLEMENT, order)
        ex = executed(kind, partial, order, executed_amount, prices[si], prices[bi])
        expected.append({
            "sellTokenIndex": si, "buyTokenIndex": bi, "receiver": to_checksum_address(order["receiver"]), "sellAmount": str(order["sellAmount"]),
            "buyAmount": str(order["buyAmount"]), "validTo": order["validTo"], "appData": "0x" + order["appData"].hex(),
            "feeAmount": str(order["feeAmount"]), "kind": kind, "partiallyFillable": partial,
            "sellBalance": order["sellTokenBalance"], "buyBalance": buy_balance,
            "scheme": {"eip712": "eip712", "ethsign": "ethSign", "eip1271": "eip1271", "presign": "preSign"}[scheme],
            "executedAmount": str(executed_amount), "signature": "0x" + signature.hex(), "digest": "0x" + digest.hex(),
            "owner": to_checksum_address(signer), "orderUid": "0x" + cow.order_uid(digest, signer, order["validTo"]).hex(),
            "executedSell": str(ex[0]) if ex else None, "executedBuy": str(ex[1]) if ex else None,
        })
    interactions = [[(address(r), amount(r), r.randbytes(r.choice([0, 3, 4, 36, 100]))) for _ in range(r.randint(0, 3))] for _ in range(3)]
    data = cow.encode_settle(tokens, prices, trades, interactions)
    return data, {
        "tokens": tokens, "clearingPrices": [str(p) for p in prices], "trades": expected,
        "interactions": [[{"target": to_checksum_address(t), "value": str(v), "callData": "0x" + d.hex(),
                           "selector": "0x" + (d[:4] if len(d) >= 4 else b"\x00" * 4).hex()} for t, v, d in lst] for lst in interactions],
    }


def run_jsonl(arbiter, lines, *extra):
    out = arbiter("util", "cow-decode", "--jsonl", *extra, stdin="\n".join(lines) + "\n").stdout.splitlines()
    assert len(out) == len(lines)
    return [json.loads(o) for o in out]


def test_randomized_settle_calls_decode_as_eth_abi_encoded_them_with_owners_eth_account_signed(arbiter):
    r = random.Random(28)
    cases = []
    # Every flag word five times, in settlements of one to four trades (256 calls), then single-trade calls up to 500.
    pool = COMBOS * 5
    r.shuffle(pool)
    while pool:
        n = r.randint(1, 4)
        take, pool = pool[:n], pool[n:]
        cases.append(random_settlement(r, take))
    while len(cases) < 500:
        cases.append(random_settlement(r, [r.choice(COMBOS)]))
    got = run_jsonl(arbiter, ["0x" + d.hex() for d, _ in cases], "--chain-id", str(CHAIN_ID), "--settlement", SETTLEMENT)
    assert len(cases) >= 500
    for (data, want), have in zip(cases, got):
        assert have == want
    seen = {(t["kind"], t["partiallyFillable"], t["sellBalance"], t["buyBalance"], t["scheme"]) for _, w in cases for t in w["trades"]}
    assert len(seen) == 2 * 2 * 3 * 2 * 4


def test_what_gpv2_refuses_is_refused_with_its_reason(arbiter):
    r = random.Random(5)
    data, _ = random_settlement(r, [("sell", False, "erc20", "erc20", "eip712")])
    tokens = [address(r), address(r)]
    good_trade = (0, 1, cow.ZERO, 1, 1, 0, b"\x00" * 32, 0, 0, 0, b"\x01" * 65)

    def settle(trades, prices=(1, 1), toks=tokens):
        return "0x" + cow.encode_settle(list(toks), list(prices), trades, [[], [], []]).hex()

    bad = {
        "notSettle": "0x" + (b"\x13\xd7\x9a\x0c" + data[4:]).hex(),
        "malformed": settle([good_trade], prices=(1,)),                       # a price short
        "badIndex": settle([(2,) + good_trade[1:]]),                          # a token index past the tokens
        "badFlags": settle([good_trade[:8] + (128,) + good_trade[9:]]),       # a flag past the signing scheme
        "badSignature": settle([good_trade[:10] + (b"\x01" * 64,)]),          # an ECDSA signature of 64 bytes
    }
    presign_short = good_trade[:8] + (3 << 5,) + (0, b"\x01" * 19)
    bad["badSignature-presign"] = settle([presign_short])
    got = run_jsonl(arbiter, list(bad.values()))
    for (name, _), answer in zip(bad.items(), got):
        assert answer.get("error", "").startswith(name.split("-")[0]), (name, answer)


def test_mutated_call_data_never_crashes_the_decoder(arbiter):
    r = random.Random(99)
    lines = []
    for _ in range(300):
        data, _ = random_settlement(r, [r.choice(COMBOS) for _ in range(r.randint(1, 3))])
        b = bytearray(data)
        how = r.randrange(4)
        if how == 0:
            b = b[:r.randrange(len(b))]
        elif how == 1:
            for _ in range(r.randint(1, 8)):
                b[r.randrange(4, len(b))] ^= 1 << r.randrange(8)
        elif how == 2:
            # An offset or length word pointed far away.
            at = 4 + 32 * r.randrange((len(b) - 4) // 32)
            b[at:at + 32] = r.choice([2**255, 2**64, len(b) * 7, 31]).to_bytes(32, "big")
        else:
            b = b[:4] + r.randbytes(r.randrange(0, 400))
        lines.append("0x" + bytes(b).hex())
    got = run_jsonl(arbiter, lines)
    assert all(("error" in g) != ("tokens" in g) for g in got)
    assert sum("error" in g for g in got) > 200


def test_gpv2_events_decode_with_the_order_uid_split(arbiter):
    r = random.Random(7)
    lines, want = [], []
    for _ in range(60):
        owner, sell, buy = address(r), address(r), address(r)
        digest, valid_to = r.randbytes(32), r.randrange(2**32)
        amounts = [amount(r) for _ in range(3)]
        uid = cow.order_uid(digest, owner, valid_to)
        data = encode(["address", "address", "uint256", "uint256", "uint256", "bytes"], [sell, buy, *amounts, uid])
        lines.append(json.dumps({"topics": [TRADE_TOPIC, "0x" + "00" * 12 + owner[2:].lower()], "data": "0x" + data.hex()}))
        want.append({"event": "Trade", "owner": owner, "sellToken": sell, "buyToken": buy, "sellAmount": str(amounts[0]),
                     "buyAmount": str(amounts[1]), "feeAmount": str(amounts[2]), "orderDigest": "0x" + digest.hex(), "orderOwner": owner,
                     "validTo": valid_to})
        target, value, selector = address(r), amount(r), r.randbytes(4)
        lines.append(json.dumps({"topics": [INTERACTION_TOPIC, "0x" + "00" * 12 + target[2:].lower()],
                                 "data": "0x" + encode(["uint256", "bytes4"], [value, selector]).hex()}))
        want.append({"event": "Interaction", "target": target, "value": str(value), "selector": "0x" + selector.hex()})
        solver = address(r)
        lines.append(json.dumps({"topics": [SETTLEMENT_TOPIC, "0x" + "00" * 12 + solver[2:].lower()], "data": "0x"}))
        want.append({"event": "Settlement", "solver": solver})
    assert run_jsonl(arbiter, lines, "--log") == want
    # The protocol's topics are keccak of the events' signatures.
    assert "0x" + keccak(text="Trade(address,address,address,uint256,uint256,uint256,bytes)").hex() == TRADE_TOPIC
    assert "0x" + keccak(text="Interaction(address,uint256,bytes4)").hex() == INTERACTION_TOPIC
    assert "0x" + keccak(text="Settlement(address)").hex() == SETTLEMENT_TOPIC
    # Malformed: a 55-byte orderUid, a missing indexed topic, dirty address padding, trailing data.
    owner = address(r)
    short = encode(["address", "address", "uint256", "uint256", "uint256", "bytes"], [owner, owner, 1, 2, 3, b"\x01" * 55])
    bad = [
        {"topics": [TRADE_TOPIC, "0x" + "00" * 12 + owner[2:].lower()], "data": "0x" + short.hex()},
        {"topics": [SETTLEMENT_TOPIC], "data": "0x"},
        {"topics": [SETTLEMENT_TOPIC, "0x01" + "00" * 11 + owner[2:].lower()], "data": "0x"},
        {"topics": [SETTLEMENT_TOPIC, "0x" + "00" * 12 + owner[2:].lower()], "data": "0x" + "00" * 32},
    ]
    got = run_jsonl(arbiter, [json.dumps(b) for b in bad], "--log")
    assert all("error" in g for g in got), got
