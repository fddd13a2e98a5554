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
    got = jsonl(arbiter, "keygen-address", [json.dumps({"seed": "0x" + s.hex()}) for s in seeds])
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


def test_a_key_comes_from_the_environment_never_an_argument(arbiter):
    seed = bytes(range(32))
    p = arbiter("util", "solana", "keygen-address", env_extra={"ARBITER_SOLANA_KEY": "0x" + seed.hex()})
    assert json.loads(p.stdout)["address"] == str(Keypair.from_seed(seed).pubkey())
    bad = arbiter("util", "solana", "keygen-address", env_extra={"ARBITER_SOLANA_KEY": "0x" + seed.hex()[:-2]}, check=False)
    assert bad.returncode != 0 and seed.hex()[:20] not in bad.stderr  # the key text is never echoed
    assert arbiter("util", "solana", "keygen-address", "0x" + seed.hex(), check=False).returncode != 0


def test_bad_input_is_an_error_line(arbiter):
    lines = [json.dumps({"program": "0OIl", "seeds": []}),                     # not base58
             json.dumps({"program": "11111111111111111111111111111111", "seeds": ["0x" + "00" * 33]}),  # a seed over 32 bytes
             json.dumps({"program": "1111111111111111111111111111111", "seeds": []}),               # 31 bytes
             json.dumps({"program": "11111111111111111111111111111111", "seeds": ["0x00"] * 16})]   # 16 seeds and the bump
    assert all("error" in g for g in jsonl(arbiter, "pda", lines))


# ---------------------------------------------------------------- messages and transactions

from solders.address_lookup_table_account import AddressLookupTableAccount  # noqa: E402
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price  # noqa: E402
from solders.hash import Hash  # noqa: E402
from solders.instruction import AccountMeta, Instruction  # noqa: E402
from solders.message import Message, MessageV0  # noqa: E402
from solders.system_program import TransferParams, transfer  # noqa: E402
from solders.transaction import VersionedTransaction  # noqa: E402

VECTOR_MESSAGE = ("80010001023b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da290306466fe5211732ffecadba72c39be7bc8ce5bbc5f"
                  "7126b2c439b3a4000000000000000000000000000000000000000000000000000000000000000000000000101000502400d030000")
VECTOR_SIG = "186bd80d153718a5222ff1639a1ab8ba386b925b945cc3c4fc35a9f0efa514b555303a378a641e69b5284051c9e371148ec11e2d6525d5413238efb207c9730c"


def random_transaction(r):
    """(our JSON request, solders' VersionedTransaction) for the same random instructions."""
    payer_seed = r.randbytes(32)
    signer_seeds = [r.randbytes(32) for _ in range(r.randint(0, 2))]
    signers = [Keypair.from_seed(s) for s in signer_seeds]
    pool = [key(r) for _ in range(r.randint(2, 14))]
    programs = [key(r) for _ in range(r.randint(1, 3))]
    instructions = []
    for _ in range(r.randint(1, 5)):
        kind = r.random()
        if kind < 0.15:
            instructions.append(set_compute_unit_limit(r.randrange(2**32)))
        elif kind < 0.25:
            instructions.append(set_compute_unit_price(r.randrange(2**64)))
        elif kind < 0.35:
            instructions.append(transfer(TransferParams(from_pubkey=r.choice(signers).pubkey() if signers else Keypair.from_seed(payer_seed).pubkey(),
                                                        to_pubkey=r.choice(pool), lamports=r.randrange(2**64))))
        else:
            metas = [AccountMeta(r.choice(pool), False, r.random() < 0.5) for _ in range(r.randint(0, 6))]
            metas += [AccountMeta(s.pubkey(), True, r.random() < 0.5) for s in signers if r.random() < 0.7]
            r.shuffle(metas)
            instructions.append(Instruction(r.choice(programs), r.randbytes(r.randint(0, 40)), metas))
    # Every signer signs (the compiled message requires exactly those that appear as signers).
    used = {m.pubkey for ix in instructions for m in ix.accounts if m.is_signer}
    signers = [s for s in signers if s.pubkey() in used]
    blockhash = Hash(r.randbytes(32))
    payer = Keypair.from_seed(payer_seed)
    tables = None
    if r.random() < 0.6:
        tables = []
        for _ in range(r.randint(0, 3)):
            addresses = r.sample(pool, r.randint(0, len(pool))) + [key(r) for _ in range(r.randint(0, 3))]
            r.shuffle(addresses)
            tables.append(AddressLookupTableAccount(key(r), addresses))
        message = MessageV0.try_compile(payer.pubkey(), instructions, tables, blockhash)
    else:
        message = Message.new_with_blockhash(instructions, payer.pubkey(), blockhash)
    tx = VersionedTransaction(message, [payer] + [s for s in signers if s.pubkey() != payer.pubkey()])
    request = {
        "payer": "0x" + payer_seed.hex(), "signers": ["0x" + s.hex() for s in signer_seeds if Keypair.from_seed(s).pubkey() in used],
        "blockhash": str(blockhash),
        "instructions": [{"programId": str(ix.program_id), "data": "0x" + bytes(ix.data).hex(),
                          "accounts": [{"pubkey": str(m.pubkey), "isSigner": m.is_signer, "isWritable": m.is_writable} for m in ix.accounts]}
                         for ix in instructions],
        "tables": None if tables is None else [{"key": str(t.key), "addresses": [str(a) for a in t.addresses]} for t in tables],
    }
    return request, tx


def test_transactions_we_build_are_solders_byte_for_byte_and_verify(arbiter):
    r = random.Random(31)
    cases = [random_transaction(r) for _ in range(2_000)]
    got = jsonl(arbiter, "build-tx", [json.dumps(q) for q, _ in cases])
    kinds = {"legacy": 0, "v0": 0, "lookups": 0, "tooLarge": 0}
    for (q, tx), g in zip(cases, got):
        theirs = bytes(tx)
        if len(theirs) > 1_232:
            assert "error" in g and "tooLarge" in g["error"], g
            kinds["tooLarge"] += 1
            continue
        assert "error" not in g, (g, q)
        assert g["tx"] == "0x" + theirs.hex()  # same compilation, same deterministic Ed25519 signatures
        parsed = VersionedTransaction.from_bytes(bytes.fromhex(g["tx"][2:]))
        assert all(parsed.verify_with_results()) and g["id"] == str(parsed.signatures[0])
        kinds["v0" if q["tables"] is not None else "legacy"] += 1
        kinds["lookups"] += bool(getattr(parsed.message, "address_table_lookups", []))
    assert kinds["legacy"] >= 500 and kinds["v0"] >= 800 and kinds["lookups"] >= 300, kinds


def test_transactions_solders_builds_decode_field_by_field(arbiter):
    r = random.Random(32)
    txs = [random_transaction(r)[1] for _ in range(2_000)]
    txs = [t for t in txs if len(bytes(t)) <= 1_232]
    got = jsonl(arbiter, "decode-tx", ["0x" + bytes(t).hex() for t in txs])
    for t, g in zip(txs, got):
        m = t.message
        v0 = isinstance(m, MessageV0)
        assert g["version"] == ("v0" if v0 else "legacy") and g["verifies"] and g["size"] == len(bytes(t))
        h = m.header
        assert g["header"] == [h.num_required_signatures, h.num_readonly_signed_accounts, h.num_readonly_unsigned_accounts]
        assert g["accountKeys"] == [str(k) for k in m.account_keys] and g["recentBlockhash"] == str(m.recent_blockhash)
        assert g["instructions"] == [{"programIdIndex": ix.program_id_index, "accounts": list(bytes(ix.accounts)), "data": "0x" + bytes(ix.data).hex()}
                                     for ix in m.instructions]
        lookups = m.address_table_lookups if v0 else []
        assert g["lookups"] == [{"table": str(l.account_key), "writable": list(bytes(l.writable_indexes)), "readonly": list(bytes(l.readonly_indexes))}
                                for l in lookups]
        assert g["signatures"] == [str(s) for s in t.signatures]


def test_the_protocol_vector_and_malformed_transactions(arbiter):
    req = {"payer": "0x" + "00" * 32, "signers": [], "blockhash": "11111111111111111111111111111111", "tables": [],
           "instructions": [{"programId": "ComputeBudget111111111111111111111111111111", "accounts": [], "data": "0x02400d0300"}]}
    (g,) = jsonl(arbiter, "build-tx", [json.dumps(req)])
    assert g["message"] == "0x" + VECTOR_MESSAGE and g["tx"] == "0x01" + VECTOR_SIG + VECTOR_MESSAGE
    good = bytes.fromhex("01" + VECTOR_SIG + VECTOR_MESSAGE)
    bad = [good[:-1], good + b"\x00", b"\x02" + good[1:], good[:65] + b"\x81" + good[66:],    # truncated, trailing, 2 sigs for 1, version 1
           good[:65] + b"\x80\x00" + good[67:],                                                # no required signer
           good[:-9] + b"\x05" + good[-8:]]                                                    # a program index past the keys
    r = random.Random(33)
    for _ in range(500):
        b = bytearray(good)
        for _ in range(r.randint(1, 6)):
            b[r.randrange(len(b))] ^= r.randrange(1, 256)
        if bytes(b) != good:
            bad.append(bytes(b))
    got = jsonl(arbiter, "decode-tx", ["0x" + b.hex() for b in bad])
    assert all("error" in g for g in got[:6]), got[:6]
    # Mutations: an error, or a decoding whose signature then fails (never a crash, never a false verify).
    assert all("error" in g or g["verifies"] is False for g in got[6:])


def test_build_transfer_is_a_transaction_the_cluster_lands_charging_exactly_its_fee(arbiter, tmp_path):
    """`util solana build-transfer`: solders decodes and verifies it (compute budget, transfer, Jito
    tip, in that order); the stand-in cluster lands it and the payer pays exactly amount + tip + the fee it printed."""
    import base64 as b64
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request
    seed = bytes(range(40, 72))
    payer = Keypair.from_seed(seed)
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    proc = subprocess.Popen([sys.executable, "-m", "tools.solana", "--port", "0", "--slot-ms", "100", "--fund", f"{payer.pubkey()}:{10**10}",
                             "--parent", str(os.getpid())], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        rpc = json.loads(proc.stdout.readline())["rpc"]

        def call(method, params):
            req = urllib.request.Request(rpc, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(), {"Content-Type": "application/json"})
            return json.loads(urllib.request.urlopen(req, timeout=10).read())

        blockhash = call("getLatestBlockhash", [])["result"]["value"]["blockhash"]
        to, tip = Keypair().pubkey(), "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL"
        p = arbiter("util", "solana", "build-transfer", "--to", str(to), "--lamports", "123456789", "--blockhash", blockhash, "--unit-limit", "900",
                    "--unit-price", "3333333", "--tip-account", tip, "--tip-lamports", "2500", env_extra={"ARBITER_SOLANA_KEY": "0x" + seed.hex()})
        out = json.loads(p.stdout)
        tx = VersionedTransaction.from_bytes(b64.b64decode(out["tx"]))
        assert all(tx.verify_with_results()) and str(tx.signatures[0]) == out["id"] and str(tx.message.recent_blockhash) == blockhash
        keys = [str(k) for k in tx.message.account_keys]
        assert [keys[ix.program_id_index][:5] for ix in tx.message.instructions] == ["Compu", "Compu", "11111", "11111"]
        assert out["fee"] == 5_000 + (900 * 3_333_333 + 999_999) // 1_000_000
        before = call("getBalance", [str(payer.pubkey())])["result"]["value"]
        sig = call("sendTransaction", [out["tx"], {"encoding": "base64"}])["result"]
        for _ in range(100):
            st = call("getSignatureStatuses", [[sig]])["result"]["value"][0]
            if st and st["confirmationStatus"] != "processed":
                break
            time.sleep(0.05)
        assert st["err"] is None
        assert before - call("getBalance", [str(payer.pubkey())])["result"]["value"] == 123_456_789 + 2_500 + out["fee"]
        # Bad input: a tip below Jito's minimum, a tip account without its amount, no key.
        assert arbiter("util", "solana", "build-transfer", "--to", str(to), "--lamports", "1", "--blockhash", blockhash, "--tip-account", tip,
                       "--tip-lamports", "999", env_extra={"ARBITER_SOLANA_KEY": "0x" + seed.hex()}, check=False).returncode != 0
        assert arbiter("util", "solana", "build-transfer", "--to", str(to), "--lamports", "1", "--blockhash", blockhash, "--tip-account", tip,
                       env_extra={"ARBITER_SOLANA_KEY": "0x" + seed.hex()}, check=False).returncode != 0
        assert "ARBITER_SOLANA_KEY" in arbiter("util", "solana", "build-transfer", "--to", str(to), "--lamports", "1", "--blockhash", blockhash, check=False).stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
