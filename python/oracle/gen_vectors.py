#!/usr/bin/env python3
"""Writes the EVM oracle vectors under Tests/Fixtures/evm from eth-account, eth-abi,
eth-utils and rlp. Seeded: the same seed writes byte-identical files.

Usage: gen_vectors.py [--seed N] [--out DIR]

Every expected value comes from the reference libraries, never from Arbiter.
"""
import argparse
import json
import math
import os
import random
import sys

import rlp
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

DEFAULT_SEED = 20261124
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "evm")

# Lengths around the keccak rate (136 bytes) matter most.
KECCAK_EDGE_LENGTHS = [0, 1, 31, 32, 33, 55, 56, 64, 135, 136, 137, 271, 272, 273, 1024]


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def random_bytes(r: random.Random, n: int) -> bytes:
    return bytes(r.getrandbits(8) for _ in range(n))


def random_key(r: random.Random) -> bytes:
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    while True:
        k = r.getrandbits(256)
        if 0 < k < n:
            return k.to_bytes(32, "big")


def random_address(r: random.Random) -> str:
    return to_checksum_address(random_bytes(r, 20))


def random_uint(r: random.Random, bits: int) -> int:
    choice = r.random()
    if choice < 0.1:
        return 0
    if choice < 0.2:
        return (1 << bits) - 1
    if choice < 0.35:
        return r.getrandbits(r.randint(1, bits))
    return r.getrandbits(bits)


def random_text(r: random.Random, max_len: int) -> str:
    alphabet = "abcxyzABC 0123,.()[]\"\\'\n\t" + "éß€漢字🦄"
    return "".join(r.choice(alphabet) for _ in range(r.randint(0, max_len)))


# ---------------------------------------------------------------- keccak


def keccak_vectors(r: random.Random):
    out = []
    lengths = KECCAK_EDGE_LENGTHS + [r.randint(0, 600) for _ in range(300 - len(KECCAK_EDGE_LENGTHS))]
    for n in lengths:
        data = random_bytes(r, n)
        out.append({"input": hx(data), "hash": hx(keccak(data))})
    return out


# ---------------------------------------------------------------- ABI types and values


def random_type(r: random.Random, depth: int = 0) -> str:
    roll = r.random()
    if depth < 3 and roll < 0.12:
        inner = random_type(r, depth + 1)
        return f"{inner}[]"
    if depth < 3 and roll < 0.22:
        inner = random_type(r, depth + 1)
        return f"{inner}[{r.randint(1, 3)}]"
    if depth < 3 and roll < 0.32:
        parts = [random_type(r, depth + 1) for _ in range(r.randint(1, 4))]
        return "(" + ",".join(parts) + ")"
    kind = r.choice(["uint", "int", "address", "bool", "bytesN", "bytes", "string"])
    if kind == "uint":
        return f"uint{8 * r.randint(1, 32)}"
    if kind == "int":
        return f"int{8 * r.randint(1, 32)}"
    if kind == "bytesN":
        return f"bytes{r.randint(1, 32)}"
    return kind


def split_top(s: str):
    """Splits a comma-separated type list at depth 0."""
    parts, depth, cur = [], 0, ""
    for c in s:
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += c in "(["
        depth -= c in ")]"
        cur += c
    if cur:
        parts.append(cur)
    return parts


def parse_type(t: str):
    """Returns ('array', inner, k|None) / ('tuple', [types]) / ('scalar', name)."""
    if t.endswith("]"):
        i = t.rindex("[")
        k = t[i + 1 : -1]
        return ("array", t[:i], int(k) if k else None)
    if t.startswith("("):
        return ("tuple", split_top(t[1:-1]))
    return ("scalar", t)


def random_value(r: random.Random, t: str):
    """A Python value for eth-abi and its JSON form (Arbiter's `abi-decode --json` shape)."""
    kind = parse_type(t)
    if kind[0] == "array":
        _, inner, k = kind
        n = k if k is not None else r.randint(0, 3)
        pairs = [random_value(r, inner) for _ in range(n)]
        return [p for p, _ in pairs], [j for _, j in pairs]
    if kind[0] == "tuple":
        pairs = [random_value(r, x) for x in kind[1]]
        return tuple(p for p, _ in pairs), [j for _, j in pairs]
    name = kind[1]
    if name.startswith("uint"):
        v = random_uint(r, int(name[4:]))
        return v, str(v)
    if name.startswith("int"):
        bits = int(name[3:])
        roll = r.random()
        if roll < 0.1:
            v = -(1 << (bits - 1))
        elif roll < 0.2:
            v = (1 << (bits - 1)) - 1
        elif roll < 0.3:
            v = -1
        else:
            v = r.getrandbits(bits) - (1 << (bits - 1))
        return v, str(v)
    if name == "address":
        a = random_address(r)
        return a, a
    if name == "bool":
        b = r.random() < 0.5
        return b, b
    if name == "bytes":
        b = random_bytes(r, r.choice([0, 1, 31, 32, 33, r.randint(0, 100)]))
        return b, hx(b)
    if name.startswith("bytes"):
        b = random_bytes(r, int(name[5:]))
        return b, hx(b)
    if name == "string":
        s = random_text(r, 40)
        return s, s
    raise ValueError(t)


def abi_vectors(r: random.Random):
    out = []
    for _ in range(500):
        types = [random_type(r) for _ in range(r.randint(1, 4))]
        pairs = [random_value(r, t) for t in types]
        data = abi_encode(types, [p for p, _ in pairs])
        out.append({"types": "(" + ",".join(types) + ")", "values": [j for _, j in pairs], "encoded": hx(data)})
    return out


def signature_vectors(r: random.Random):
    """Human-readable signatures (with names, spaces, tuple keyword) and their selector."""
    out = []
    for i in range(200):
        types = [random_type(r) for _ in range(r.randint(0, 4))]
        name = r.choice(["swap", "f", "exactInputSingle", "flashLoan", "execute_", "a1"]) + str(i)
        canonical = f"{name}({','.join(types)})"
        params = []
        for j, t in enumerate(types):
            shown = ("tuple" + t) if t.startswith("(") and r.random() < 0.3 else t
            params.append(shown + (f" p{j}" if r.random() < 0.5 else ""))
        text = f"{name}({', '.join(params)})"
        if r.random() < 0.3:
            text = "function " + text + " external returns (uint256)"
        out.append({
            "text": text,
            "canonical": canonical,
            "selector": hx(function_signature_to_4byte_selector(canonical)),
            "topic0": hx(keccak(text=canonical)),
        })
    return out


# ---------------------------------------------------------------- RLP


def random_rlp(r: random.Random, depth: int = 0):
    if depth < 4 and r.random() < 0.35:
        return [random_rlp(r, depth + 1) for _ in range(r.randint(0, 5))]
    n = r.choice([0, 1, 1, 2, 20, 32, 55, 56, 57, r.randint(0, 80), r.randint(200, 300)])
    b = random_bytes(r, n)
    if n == 1 and r.random() < 0.5:
        b = bytes([r.choice([0x00, 0x7F, 0x80, 0xFF])])
    return b


def rlp_json(x):
    return [rlp_json(y) for y in x] if isinstance(x, list) else hx(x)


def mutate(r: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    op = r.randint(0, 3)
    if op == 0 and b:
        b[r.randrange(len(b))] = r.getrandbits(8)
    elif op == 1 and b:
        del b[r.randrange(len(b)) :]
    elif op == 2:
        b.insert(r.randint(0, len(b)), r.getrandbits(8))
    else:
        b += bytes([r.getrandbits(8)])
    return bytes(b)


def rlp_vectors(r: random.Random):
    valid, classified = [], []
    for _ in range(300):
        item = random_rlp(r)
        valid.append({"json": rlp_json(item), "encoded": hx(rlp.encode(item))})
    # Mutated encodings: pyrlp (strict) decides which are valid; Arbiter must agree.
    for v in valid[:200]:
        data = mutate(r, bytes.fromhex(v["encoded"][2:]))
        try:
            decoded = rlp.decode(data, strict=True)
            classified.append({"encoded": hx(data), "valid": True, "json": rlp_json(decoded)})
        except rlp.exceptions.DecodingError:
            classified.append({"encoded": hx(data), "valid": False})
    return valid, classified


# ---------------------------------------------------------------- addresses


def checksum_vectors(r: random.Random):
    out = []
    for _ in range(200):
        raw = random_bytes(r, 20)
        out.append({"lower": hx(raw), "checksummed": to_checksum_address(raw)})
    return out


def create2_vectors(r: random.Random):
    out = []
    for _ in range(100):
        deployer = random_bytes(r, 20)
        salt = random_bytes(r, 32)
        init_hash = keccak(random_bytes(r, r.randint(0, 200)))
        addr = keccak(b"\xff" + deployer + salt + init_hash)[12:]
        out.append({
            "deployer": to_checksum_address(deployer),
            "salt": hx(salt),
            "initCodeHash": hx(init_hash),
            "address": to_checksum_address(addr),
        })
    return out


# ---------------------------------------------------------------- transactions and messages


def random_access_list(r: random.Random):
    return [
        {"address": random_address(r), "storageKeys": [hx(random_bytes(r, 32)) for _ in range(r.randint(0, 3))]}
        for _ in range(r.choice([0, 0, 1, 2, 3]))
    ]


def random_transaction(r: random.Random, kind: int):
    """A transaction dict in JSON-RPC names (eth-account accepts the same names)."""
    tx = {
        "nonce": r.choice([0, 1, r.getrandbits(16), r.getrandbits(63), 2**64 - 2]),
        "gas": r.choice([21000, r.getrandbits(24), 2**64 - 1]),
        "value": random_uint(r, 256),
        "data": hx(random_bytes(r, r.choice([0, 4, 36, 68, r.randint(0, 300)]))),
    }
    if r.random() < 0.9:
        tx["to"] = random_address(r)
    if kind == 0:
        tx["gasPrice"] = random_uint(r, 256)
        if r.random() < 0.9:
            tx["chainId"] = r.choice([1, 56, 137, 42161, 8453, 81457, 534352, r.getrandbits(32)])
    else:
        tx["type"] = kind
        tx["chainId"] = r.choice([1, 10, 324, 59144, 5000, 34443, r.getrandbits(32)])
        tx["accessList"] = random_access_list(r)
        if kind == 1:
            tx["gasPrice"] = random_uint(r, 256)
        else:
            fee = random_uint(r, 256)
            tx["maxFeePerGas"] = fee
            tx["maxPriorityFeePerGas"] = r.randint(0, fee)
    return tx


def to_json_rpc(tx):
    """The same transaction with quantities as decimal or 0x-hex strings, as a user would write them."""
    out = {}
    for k, v in tx.items():
        if isinstance(v, int) and k != "type":
            out[k] = str(v) if v % 2 else hex(v)
        else:
            out[k] = v
    return out


def transaction_vectors(r: random.Random):
    out = []
    for i in range(450):
        kind = i % 3
        key = random_key(r)
        tx = random_transaction(r, kind)
        signed = Account.sign_transaction(dict(tx), key)
        out.append({
            "key": hx(key),
            "tx": to_json_rpc(tx),
            "raw": hx(signed.raw_transaction),
            "hash": hx(signed.hash),
            "from": Account.from_key(key).address,
            "v": str(signed.v),
            "r": str(signed.r),
            "s": str(signed.s),
        })
    return out


def message_vectors(r: random.Random):
    out = []
    for i in range(200):
        key = random_key(r)
        if i % 2:
            text = random_text(r, 80)
            msg = encode_defunct(text=text)
            entry = {"text": text}
        else:
            data = random_bytes(r, r.randint(0, 100))
            msg = encode_defunct(primitive=data)
            entry = {"bytes": hx(data)}
        sig = Account.sign_message(msg, key)
        entry.update({"key": hx(key), "address": Account.from_key(key).address, "signature": hx(sig.signature)})
        out.append(entry)
    return out


MAIL_TYPES = {
    "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
    "Mail": [
        {"name": "from", "type": "Person"},
        {"name": "to", "type": "Person"},
        {"name": "contents", "type": "string"},
    ],
}

ORDER_TYPES = {
    "Order": [
        {"name": "sellToken", "type": "address"},
        {"name": "buyToken", "type": "address"},
        {"name": "receiver", "type": "address"},
        {"name": "sellAmount", "type": "uint256"},
        {"name": "buyAmount", "type": "uint256"},
        {"name": "validTo", "type": "uint32"},
        {"name": "appData", "type": "bytes32"},
        {"name": "feeAmount", "type": "uint256"},
        {"name": "kind", "type": "string"},
        {"name": "partiallyFillable", "type": "bool"},
        {"name": "sellTokenBalance", "type": "string"},
        {"name": "buyTokenBalance", "type": "string"},
    ]
}


def eip712_vectors(r: random.Random):
    out = []
    for i in range(100):
        key = random_key(r)
        if i % 2 == 0:
            domain = {"name": "Ether Mail", "version": "1", "chainId": r.choice([1, 137, 8453]), "verifyingContract": random_address(r)}
            message = {
                "from": {"name": random_text(r, 12), "wallet": random_address(r)},
                "to": {"name": random_text(r, 12), "wallet": random_address(r)},
                "contents": random_text(r, 60),
            }
            types, primary = MAIL_TYPES, "Mail"
        else:
            domain = {"name": "Gnosis Protocol", "version": "v2", "chainId": r.choice([1, 100, 42161, 8453]),
                      "verifyingContract": "0x9008D19f58AAbD9eD0D60971565AA8510560ab41"}
            message = {
                "sellToken": random_address(r), "buyToken": random_address(r), "receiver": random_address(r),
                "sellAmount": random_uint(r, 256), "buyAmount": random_uint(r, 256), "validTo": random_uint(r, 32),
                "appData": hx(random_bytes(r, 32)), "feeAmount": random_uint(r, 256),
                "kind": r.choice(["sell", "buy"]), "partiallyFillable": r.random() < 0.5,
                "sellTokenBalance": r.choice(["erc20", "external", "internal"]),
                "buyTokenBalance": r.choice(["erc20", "internal"]),
            }
            types, primary = ORDER_TYPES, "Order"
        signable = encode_typed_data(domain_data=domain, message_types=types, message_data=message)
        signed = Account.sign_message(signable, key)
        json_message = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in message.items()}
        out.append({
            "primaryType": primary,
            "domain": domain,
            "message": json_message,
            "domainSeparator": hx(signable.header),
            "structHash": hx(signable.body),
            "digest": hx(signed.message_hash),
            "key": hx(key),
            "signature": hx(signed.signature),
        })
    return out


# ---------------------------------------------------------------- 256-bit integers

M256 = 1 << 256


def isqrt(n: int) -> int:
    return math.isqrt(n)


def uint256_vectors(r: random.Random):
    """Python's integers are the oracle for Arbiter's fixed-width arithmetic."""
    out = []
    for _ in range(300):
        a, b, c = (random_uint(r, 256) for _ in range(3))
        if r.random() < 0.3:
            b = random_uint(r, 64)
        shift = r.randint(0, 300)
        v = {
            "a": str(a), "b": str(b), "c": str(c), "shift": shift,
            "aHex": hex(a),
            "add": str((a + b) % M256), "addOverflow": a + b >= M256,
            "sub": str((a - b) % M256), "subOverflow": a < b,
            "mul": str((a * b) % M256), "mulOverflow": a * b >= M256,
            "mulHigh": str((a * b) >> 256),
            "div": str(a // b) if b else None, "rem": str(a % b) if b else None,
            "shl": str((a << shift) % M256), "shr": str(a >> shift),
            "sqrt": str(isqrt(a)),
            "leadingZeros": 256 - a.bit_length(),
            "trailingZeros": (a & -a).bit_length() - 1 if a else 256,
        }
        if c:
            floor = a * b // c
            ceil = -(-a * b // c)
            v["mulDiv"] = str(floor) if floor < M256 else None
            v["mulDivUp"] = str(ceil) if ceil < M256 else None
        out.append(v)
    return out


def division_vectors(r: random.Random):
    """Division shaped to reach every branch of Knuth's algorithm D on 64-bit limbs: divisors of one
    to four limbs with extreme top limbs, dividends just below and at multiples of the divisor,
    quotient digits of b - 1, the add-back step, and 512-bit dividends for `dividingFullWidth`."""
    b = 1 << 64
    tops = [1, 2, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, b - 2, b - 1]

    def divisor():
        n = r.randint(1, 4)
        top = r.choice(tops) if r.random() < 0.5 else r.getrandbits(64) or 1
        low = r.choice([0, 1, (1 << (64 * (n - 1))) - 1, r.getrandbits(64 * (n - 1))]) if n > 1 else 0
        return top << (64 * (n - 1)) | low

    out = []
    # Knuth's add-back step, reached by Hacker's Delight's divmnu test values scaled to 64-bit
    # digits: u = (0, 0, 2^63, 2^63 - 1), v = (1, 0, 2^63), least significant first.
    cases = [((1 << 63) * b**2 + ((1 << 63) - 1) * b**3, 1 + (1 << 63) * b**2)]
    for _ in range(500):
        d = divisor()
        shape = r.random()
        if shape < 0.3:    # a multiple of d, or one below or above it
            q = random_uint(r, 256) % (M256 // d + 1)
            a = q * d + r.choice([0, d - 1, r.randrange(d)])
            a %= M256
        elif shape < 0.5:  # top limbs equal to the divisor's: quotient digits of b - 1
            a = (d << (64 * r.randint(0, 3))) % M256 | r.getrandbits(64)
        else:
            a = random_uint(r, 256)
        cases.append((a, d))
    for a, d in cases:
        v = {"a": str(a), "d": str(d), "div": str(a // d), "rem": str(a % d)}
        # A 512-bit dividend with high < d: (high, low) = q·d + rem for a random 256-bit q.
        q = random_uint(r, 256)
        wide = q * d + r.choice([0, d - 1, r.randrange(d)])
        v["wideHigh"], v["wideLow"] = str(wide >> 256), str(wide % M256)
        v["wideDiv"], v["wideRem"] = str(wide // d), str(wide % d)
        out.append(v)
    return out


def int256_vectors(r: random.Random):
    out = []
    half = 1 << 255
    for _ in range(200):
        a, b = (random_uint(r, 256) - (half if r.random() < 0.5 else 0) for _ in range(2))
        a = max(min(a, half - 1), -half)
        b = max(min(b, half - 1), -half)
        if r.random() < 0.3:
            b = r.randint(-1000, 1000)
        def wrap(x):
            x %= M256
            return x - M256 if x >= half else x
        q = None
        if b != 0 and not (a == -half and b == -1):
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # truncates toward zero, as Solidity
        out.append({
            "a": str(a), "b": str(b),
            "add": str(wrap(a + b)), "addOverflow": not (-half <= a + b < half),
            "sub": str(wrap(a - b)), "subOverflow": not (-half <= a - b < half),
            "mul": str(wrap(a * b)), "mulOverflow": not (-half <= a * b < half),
            "div": str(q) if q is not None else None,
            "rem": str(a - q * b) if q is not None else None,
            "bitPattern": hex(a % M256),
        })
    return out


# ---------------------------------------------------------------- main


def generate(seed: int):
    r = random.Random(seed)
    rlp_valid, rlp_classified = rlp_vectors(r)
    return {
        "uint256.json": uint256_vectors(r),
        "int256.json": int256_vectors(r),
        "keccak.json": keccak_vectors(r),
        "abi.json": abi_vectors(r),
        "signatures.json": signature_vectors(r),
        "rlp.json": rlp_valid,
        "rlp-mutated.json": rlp_classified,
        "checksums.json": checksum_vectors(r),
        "create2.json": create2_vectors(r),
        "transactions.json": transaction_vectors(r),
        "messages.json": message_vectors(r),
        "eip712.json": eip712_vectors(r),
        # Its own stream, so that adding it left every file above unchanged.
        "uint256-division.json": division_vectors(random.Random(seed + 1)),
    }


def write(files, out_dir: str, seed: int):
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for name, vectors in files.items():
        total += len(vectors)
        doc = {"generator": "python/oracle/gen_vectors.py", "seed": seed, "count": len(vectors), "vectors": vectors}
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")
    return total


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)
    total = write(generate(args.seed), args.out, args.seed)
    print(f"wrote {total} vectors to {os.path.normpath(args.out)}")


if __name__ == "__main__":
    main(sys.argv[1:])
