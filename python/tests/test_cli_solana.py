"""`arbiter util solana` against solders: Ed25519 keys and signatures, program-derived addresses
(the on-curve check included) and associated token accounts, on seeded random inputs."""
import json
import random

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022 = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
ATA_PROGRAM = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsMqW3jWm6g7BMGTq8z5AX")


def jsonl(arbiter, sub, lines):
    out = arbiter("util", "solana", sub, "--jsonl", stdin="\n".join(lines) + "\n").stdout.splitlines()
    assert len(out) == len(lines)
    return [json.loads(o) for o in out]


def key(r):
    # Some keys with leading zero bytes: base58's leading 1s.
    b = bytearray(r.randbytes(32))
    for i in range(r.choice([0, 0, 0, 1, 3])):
        b[i] = 0
    return Pubkey(bytes(b))


def test_keys_and_signatures_are_solders(arbiter):
    r = random.Random(29)
    seeds = [r.randbytes(32) for _ in range(1_000)] + [bytes(32)]
    got = jsonl(arbiter, "keygen-address", ["0x" + s.hex() for s in seeds])
    assert [g["address"] for g in got] == [str(Keypair.from_seed(s).pubkey()) for s in seeds]
    messages = [(s, r.randbytes(r.randrange(0, 1_300))) for s in seeds[:500]]
    got = jsonl(arbiter, "sign", [json.dumps({"seed": "0x" + s.hex(), "message": "0x" + m.hex()}) for s, m in messages])
    for (s, m), g in zip(messages, got):
        kp = Keypair.from_seed(s)
        assert g["signature"] == str(kp.sign_message(m)) and g["verifies"] and g["signer"] == str(kp.pubkey())
        assert Signature.from_string(g["signature"]).verify(kp.pubkey(), m)


def test_program_derived_and_associated_token_addresses_are_solders(arbiter):
    r = random.Random(30)
    cases = []
    for _ in range(1_500):
        seeds = [r.randbytes(r.choice([0, 1, 8, 20, 32])) for _ in range(r.randint(0, 4))]
        cases.append((key(r), seeds))
    got = jsonl(arbiter, "pda", [json.dumps({"program": str(p), "seeds": ["0x" + s.hex() for s in seeds]}) for p, seeds in cases])
    bumps = set()
    for (program, seeds), g in zip(cases, got):
        address, bump = Pubkey.find_program_address(seeds, program)
        assert g == {"address": str(address), "bump": bump}
        assert not address.is_on_curve()
        bumps.add(bump)
    assert len(bumps) > 3  # addresses on the curve were skipped: bumps below 255 happened
    owners = [(key(r), key(r), r.choice([TOKEN, TOKEN_2022])) for _ in range(600)]
    got = jsonl(arbiter, "ata", [json.dumps({"owner": str(o), "mint": str(m), "tokenProgram": str(t)}) for o, m, t in owners])
    for (o, m, t), g in zip(owners, got):
        assert g["address"] == str(Pubkey.find_program_address([bytes(o), bytes(t), bytes(m)], ATA_PROGRAM)[0])


def test_bad_input_is_an_error_line(arbiter):
    lines = [json.dumps({"program": "0OIl", "seeds": []}),                     # not base58
             json.dumps({"program": "11111111111111111111111111111111", "seeds": ["0x" + "00" * 33]}),  # a seed over 32 bytes
             json.dumps({"program": "1111111111111111111111111111111", "seeds": []}),               # 31 bytes
             json.dumps({"program": "11111111111111111111111111111111", "seeds": ["0x00"] * 16})]   # 16 seeds and the bump
    assert all("error" in g for g in jsonl(arbiter, "pda", lines))
