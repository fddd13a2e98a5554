"""eth-account recovers what `arbiter util` signs: transactions (all three types) and messages."""
import json
import random

from eth_account import Account
from eth_account.messages import encode_defunct

import gen_vectors as gv

KEY_11 = "0x" + "11" * 32


def test_sign_tx_jsonl_is_recovered_by_eth_account(arbiter):
    r = random.Random(7)
    checked = 0
    for _ in range(4):
        key = gv.random_key(r)
        txs = [gv.random_transaction(r, i % 3) for i in range(150)]
        lines = "\n".join(json.dumps(gv.to_json_rpc(tx)) for tx in txs) + "\n"
        out = arbiter("util", "sign-tx", "--jsonl", stdin=lines, key=gv.hx(key)).stdout.split()
        assert len(out) == len(txs)
        address = Account.from_key(key).address
        for tx, raw in zip(txs, out):
            assert Account.recover_transaction(raw) == address
            # Deterministic (RFC 6979) signatures: the very same bytes eth-account produces.
            assert raw == gv.hx(Account.sign_transaction(dict(tx), key).raw_transaction)
            checked += 1
    assert checked == 600


def test_sign_tx_json_output_and_key_file(arbiter, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY_11 + "\n")
    tx = {"type": "0x2", "chainId": "0x1", "nonce": "0x0", "maxPriorityFeePerGas": "1000000000",
          "maxFeePerGas": "30000000000", "gas": "21000", "to": "0x000000000000000000000000000000000000dEaD", "value": "1"}
    out = json.loads(arbiter("util", "sign-tx", json.dumps(tx), "--json", "--key-file", str(key_file)).stdout)
    # protocol-facts §10.
    assert out["raw"] == ("0x02f86b0180843b9aca008506fc23ac0082520894000000000000000000000000000000000000dead0180c080a0"
                          "2dcb7fecd3575c5d8cdb864edfd0bf392986c759333e3560753e99f10a22256ea01ab515e6ec660c9a83589e2fb4d22edbe8d806c0c28974ead9c6d8ff6f40a01c")
    assert out["hash"] == "0x2d8c57d3e9a441a679a3a321f3fb54cf618c9062ae0999b863774f28a5e978bb"
    assert out["from"] == Account.from_key(KEY_11).address == Account.recover_transaction(out["raw"])


def test_sign_message_is_recovered_by_eth_account(arbiter):
    r = random.Random(11)
    for i in range(40):
        key = gv.random_key(r)
        text = gv.random_text(r, 60) or "x"
        sig = arbiter("util", "sign-message", "--", text, key=gv.hx(key)).stdout.strip()
        assert len(bytes.fromhex(sig[2:])) == 65 and sig[-2:] in ("1b", "1c")
        assert Account.recover_message(encode_defunct(text=text), signature=sig) == Account.from_key(key).address


def test_flashbots_signature_vector(arbiter):
    """protocol-facts §5: keccak of the body, then personal_sign of its 0x-hex text."""
    body = '{"jsonrpc":"2.0","id":1,"method":"eth_sendBundle","params":[{"txs":["0x01"],"blockNumber":"0x1"}]}'
    assert arbiter("util", "address-of", key=KEY_11).stdout.strip() == "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"
    digest = arbiter("util", "keccak", body).stdout.strip()
    assert digest == "0xccde410f68d992d2395191ca307a57954cad7166d454b015fdd534a6bbf99d52"
    sig = arbiter("util", "sign-message", digest, key=KEY_11).stdout.strip()
    assert sig == ("0xefd2fbac3a5f639bd885410ef7efcb56d4769416336f0524c7b8b479ce8d6bdb"
                   "1d91b93cd14a9aa6555a51a4dcbd9bf5c20a540c11b2588a716e88bdd3453d2f1c")
    assert Account.recover_message(encode_defunct(text=digest), signature=sig) == "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"


def test_decode_tx_matches_eth_account(arbiter):
    r = random.Random(13)
    for i in range(30):
        key = gv.random_key(r)
        tx = gv.random_transaction(r, i % 3)
        raw = gv.hx(Account.sign_transaction(dict(tx), key).raw_transaction)
        out = json.loads(arbiter("util", "decode-tx", raw).stdout)
        assert out["from"] == Account.from_key(key).address
        assert out["hash"] == gv.hx(Account.sign_transaction(dict(tx), key).hash)
        assert int(out["nonce"], 16) == tx["nonce"] and int(out["value"], 16) == tx["value"]
        assert int(out["gas"], 16) == tx["gas"] and out["data"] == tx["data"]
        assert (out["to"] or None) == tx.get("to")
        assert int(out["type"], 16) == i % 3
        # The decoded object is itself a valid sign-tx input (minus the signature fields).
        for k in ("v", "r", "s", "yParity", "hash"):
            out.pop(k, None)
        again = arbiter("util", "sign-tx", json.dumps(out), key=gv.hx(key)).stdout.strip()
        assert again == raw


def test_sign_tx_refuses_a_from_that_is_not_the_key(arbiter):
    tx = {"nonce": 0, "gas": 21000, "gasPrice": 1, "from": "0x000000000000000000000000000000000000dEaD"}
    p = arbiter("util", "sign-tx", json.dumps(tx), key=KEY_11, check=False)
    assert p.returncode == 1 and "not the signing key" in p.stderr


def test_keystore_v3_from_eth_account_decrypts_to_its_key_and_never_leaks(arbiter, tmp_path):
    """Web3 Secret Storage v3 files written by eth-account (scrypt and PBKDF2): `arbiter` finds
    the same address; a wrong passphrase, a tampered MAC or a missing passphrase is refused with
    an error that carries neither the passphrase nor the key."""
    r = random.Random(31)
    for kdf, iterations in [("scrypt", 1 << 12), ("pbkdf2", 2_000), ("scrypt", 1 << 14)]:
        key = gv.random_key(r)
        passphrase = f"correct horse {r.random()}"
        ks = Account.encrypt(key, passphrase, kdf=kdf, iterations=iterations)
        path = tmp_path / f"ks-{kdf}-{iterations}.json"
        path.write_text(json.dumps(ks))
        env = {"ARBITER_KEYSTORE_PASSPHRASE": passphrase}
        out = arbiter("util", "address-of", "--keystore", str(path), env_extra=env).stdout.strip()
        assert out == Account.from_key(key).address
        # The decrypted key signs as the key itself does (same RFC 6979 signature).
        sig = arbiter("util", "sign-message", "hello", "--keystore", str(path), env_extra=env).stdout.strip()
        assert sig == "0x" + Account.sign_message(encode_defunct(text="hello"), key).signature.hex().removeprefix("0x")
        wrong = arbiter("util", "address-of", "--keystore", str(path), env_extra={"ARBITER_KEYSTORE_PASSPHRASE": "nope"}, check=False)
        assert wrong.returncode == 1 and "wrong passphrase" in wrong.stderr
        tampered = dict(ks, crypto=dict(ks["crypto"], mac="00" * 32))
        path.write_text(json.dumps(tampered))
        bad = arbiter("util", "address-of", "--keystore", str(path), env_extra=env, check=False)
        assert bad.returncode == 1 and "MAC" in bad.stderr
        for p in (wrong, bad):
            assert passphrase not in p.stderr and gv.hx(key)[2:] not in p.stderr.lower()
    missing = arbiter("util", "address-of", "--keystore", str(path), check=False)
    assert missing.returncode == 1 and "ARBITER_KEYSTORE_PASSPHRASE" in missing.stderr
    path.write_text("{not json")
    assert "not JSON" in arbiter("util", "address-of", "--keystore", str(path), env_extra={"ARBITER_KEYSTORE_PASSPHRASE": "x"}, check=False).stderr
