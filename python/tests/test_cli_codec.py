"""`arbiter util` hashing, ABI and RLP commands against eth-abi, eth-utils and rlp."""
import json
import random

import rlp
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

import gen_vectors as gv


def cli_text(t, v, top=True):
    """A Python value as `arbiter util` argument text."""
    kind = gv.parse_type(t)
    if kind[0] == "array":
        return "[" + ",".join(cli_text(kind[1], x, False) for x in v) + "]"
    if kind[0] == "tuple":
        return "(" + ",".join(cli_text(x, y, False) for x, y in zip(kind[1], v)) + ")"
    name = kind[1]
    if name == "bool":
        return "true" if v else "false"
    if isinstance(v, bytes):
        return gv.hx(v)
    if name == "string":
        return v if top else json.dumps(v, ensure_ascii=False)
    return str(v)


def test_abi_encode_calldata_and_decode_agree_with_eth_abi(arbiter):
    r = random.Random(3)
    for i in range(40):
        types = [gv.random_type(r) for _ in range(r.randint(1, 3))]
        pairs = [gv.random_value(r, t) for t in types]
        values = [p for p, _ in pairs]
        args = [cli_text(t, v) for t, v in zip(types, values)]
        sig = f"f{i}({','.join(types)})"
        expected = abi_encode(types, values)
        assert arbiter("util", "abi-encode", sig, "--", *args).stdout.strip() == gv.hx(expected)
        selector = function_signature_to_4byte_selector(sig)
        assert arbiter("util", "calldata", sig, "--", *args).stdout.strip() == gv.hx(selector + expected)
        decoded = json.loads(arbiter("util", "abi-decode", "(" + ",".join(types) + ")", gv.hx(expected), "--json").stdout)
        assert decoded == [j for _, j in pairs]


def test_abi_decode_plain_output_one_value_per_line(arbiter):
    data = abi_encode(["uint256", "address", "int8"], [7, "0x000000000000000000000000000000000000dEaD", -3])
    out = arbiter("util", "abi-decode", "(uint256,address,int8)", gv.hx(data)).stdout.splitlines()
    assert out == ["7", "0x000000000000000000000000000000000000dEaD", "-3"]
    assert abi_decode(["int256"], bytes.fromhex(arbiter("util", "abi-encode", "f(int256)", "--", "-1").stdout.strip()[2:])) == (-1,)


def test_keccak_sig_topic_checksum_create2(arbiter):
    r = random.Random(5)
    for _ in range(10):
        data = gv.random_bytes(r, r.randint(0, 200))
        assert arbiter("util", "keccak", gv.hx(data)).stdout.strip() == gv.hx(keccak(data))
    assert arbiter("util", "keccak", "hello world").stdout.strip() == gv.hx(keccak(text="hello world"))
    assert arbiter("util", "sig", "swap(uint256 a, uint256 b, address to, bytes data)").stdout.strip() == "0x022c0d9f"
    assert arbiter("util", "topic", "Sync(uint112,uint112)").stdout.strip() == gv.hx(keccak(text="Sync(uint112,uint112)"))
    raw = gv.random_bytes(r, 20)
    assert arbiter("util", "to-checksum", gv.hx(raw)).stdout.strip() == to_checksum_address(raw)
    d, salt, h = gv.random_bytes(r, 20), gv.random_bytes(r, 32), keccak(b"init")
    want = to_checksum_address(keccak(b"\xff" + d + salt + h)[12:])
    assert arbiter("util", "create2", to_checksum_address(d), gv.hx(salt), gv.hx(h)).stdout.strip() == want


def test_rlp_encode_and_decode_agree_with_pyrlp(arbiter):
    r = random.Random(9)
    for _ in range(25):
        item = gv.random_rlp(r)
        text = json.dumps(gv.rlp_json(item))
        encoded = arbiter("util", "rlp-encode", text).stdout.strip()
        assert encoded == gv.hx(rlp.encode(item))
        assert json.loads(arbiter("util", "rlp-decode", encoded).stdout) == gv.rlp_json(item)


def test_bad_input_exits_1_with_one_line_on_stderr(arbiter):
    cases = [
        ("util", "to-checksum", "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        ("util", "abi-encode", "f(uint8)", "256"),
        ("util", "abi-encode", "f(uint256", "1"),
        ("util", "abi-decode", "(uint256)", "0x01"),
        ("util", "rlp-decode", "0x8105"),
        ("util", "rlp-encode", "[\"0x1\"]"),
        ("util", "decode-tx", "0x02c0"),
        ("util", "create2", "0x00", "0x00", "0x00"),
        ("util", "address-of"),
        ("util", "sign-tx", "{not json"),
        ("util", "no-such-command"),
        ("util", "abi-encode", "f(int256)", "-1"),
    ]
    for args in cases:
        p = arbiter(*args, check=False)
        assert p.returncode == 1, args
        assert p.stdout == "", args
        assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, (args, p.stderr)


def test_key_is_never_echoed(arbiter, tmp_path):
    secret = "0x" + "ab" * 31 + "zz"
    p = arbiter("util", "address-of", key=secret, check=False)
    assert p.returncode == 1 and "abab" not in p.stderr
    f = tmp_path / "k"
    f.write_text(secret)
    p = arbiter("util", "sign-message", "hi", "--key-file", str(f), check=False)
    assert p.returncode == 1 and "abab" not in p.stderr
