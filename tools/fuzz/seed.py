"""Seed corpora for the fuzz targets (Fuzz/Corpus/<target>/seed-<hash>): inputs built from the
test fixtures, from reference encoders (eth_abi, rlp, solders), from the Solana stand-in's account
layouts, and from a short recorded lab run (opportunities and recorded inputs as the bot writes
them). Written once and kept in the repository; libFuzzer adds what it finds beside them.

    python -m tools.fuzz.seed [--bin .build/debug/arbiter] [--only TARGET ...]
"""
import argparse
import base64
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import eth_abi
import rlp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")

# FuzzTarget.abiTypes, in its order (the first input byte picks one); test_fuzz_seed checks the two agree.
ABI_TYPES = [
    "uint256", "int24,uint160", "address,bool", "bytes32,bytes4", "bytes", "string", "uint8[]", "int256[3]",
    "(address,uint256)", "(uint256,bytes)[]", "bytes[]", "string[2]", "(bytes,string,uint8[])",
    "(uint160,int24,(address,bool)[])", "address[],uint256[],(uint256,uint256,address,bytes)[],(address,uint256,bytes)[][3]",
    "uint112,uint112,uint32", "int128,uint256,bytes[]", "(bool,(bytes32,string)[2])[]",
]

SETTLE = ("address[]", "uint256[]", "(uint256,uint256,address,uint256,uint256,uint32,bytes32,uint256,uint256,uint256,bytes)[]",
          "(address,uint256,bytes)[][3]")
SETTLE_SELECTOR = bytes.fromhex("13d79a0b")


def fixture(path):
    with open(os.path.join(FIXTURES, path)) as f:
        return json.load(f)


def split_types(text):
    """Top-level comma split of a type list (the oracle generator's)."""
    sys.path.insert(0, os.path.join(ROOT, "python", "oracle"))
    from gen_vectors import split_top
    return split_top(text)


def value_for(t, rng):
    """A random value of ABI type `t` for eth_abi."""
    if t.endswith("]"):
        inner, n = t[:t.rindex("[")], t[t.rindex("[") + 1:-1]
        return [value_for(inner, rng) for _ in range(int(n) if n else rng.randint(0, 3))]
    if t.startswith("("):
        return tuple(value_for(x, rng) for x in split_types(t[1:-1]))
    if t.startswith("uint"):
        return rng.getrandbits(int(t[4:] or 256))
    if t.startswith("int"):
        bits = int(t[3:] or 256)
        return rng.getrandbits(bits) - (1 << (bits - 1))
    if t == "address":
        return "0x" + rng.randbytes(20).hex()
    if t == "bool":
        return rng.random() < 0.5
    if t == "bytes":
        return rng.randbytes(rng.randint(0, 70))
    if t.startswith("bytes"):
        return rng.randbytes(int(t[5:]))
    if t == "string":
        return rng.choice(["", "a", "héllo", "x" * 40])
    raise ValueError(t)


def abi_seeds(rng):
    for i, text in enumerate(ABI_TYPES):
        types = split_types(text)
        for _ in range(2):
            yield bytes([i]) + eth_abi.encode(types, [value_for(t, rng) for t in types])


def pool_log_seeds():
    """Logs in the harness's layout: head (pool bits 0-1, removed when bits 2-4 are all set, event
    bits 5-7), shape (extra topics in bits 0-2, data words in bits 4-6), topics, words, block step."""
    def log(pool, event, topics, words, step=1, removed=False):
        head = pool | (0x1C if removed else 0) | event << 5
        extra = len(topics)
        shape = (extra if extra < 4 else 3 | 4) | len(words) << 4
        return bytes([head, shape]) + b"".join(topics) + b"".join(words) + bytes([step])

    def word(x, bits=256):
        return (x % (1 << 256)).to_bytes(32, "big")
    sync = log(0, 0, [], [word(10**21), word(2 * 10**21)])
    swap = log(1, 2, [word(0xAA), word(0xBB)], [word(-10**15), word(10**15), word(1 << 96), word(10**18), word(-3)])
    mint = log(1, 4, [word(0xAA), word(-600), word(600)], [word(0xCC), word(10**17), word(10**15), word(10**15)])
    burn = log(1, 5, [word(0xAA), word(-600), word(600)], [word(10**17), word(10**15), word(10**15)])
    yield sync
    yield swap + mint + burn
    yield sync + swap + log(0, 0, [], [word(1), word(2)], step=0, removed=True) + burn
    yield mint + log(1, 2, [word(0xAA), word(0xBB)], [word(5), word(-5), word(1 << 95), word(10**18 * 2), word(-6932)], step=2)


def resp_seeds():
    yield b"+OK\r\n"
    yield b"-ERR unknown command\r\n:42\r\n"
    yield b"$5\r\nhello\r\n$-1\r\n*-1\r\n"
    yield b"*2\r\n$3\r\nfoo\r\n*2\r\n:1\r\n$0\r\n\r\n"
    # An XREADGROUP reply: [[stream, [[id, [field, value]]]]].
    yield b"*1\r\n*2\r\n$12\r\nopportunities\r\n*1\r\n*2\r\n$15\r\n1700000000000-0\r\n*2\r\n$1\r\nb\r\n$4\r\n\x01\x02\x03\x04\r\n"


def json_seeds():
    yield b'{"a":[1,2.5e-3,-0,true,false,null],"b":"\\u00e9\\n\\"x\\"","c":{}}'
    yield b"[]"
    yield b'"\\ud83d\\ude00 tail"'
    yield b"123456789012345678901234567890"
    for name in ("evm/keccak.json", "amm/uniswapV2.json"):
        yield open(os.path.join(FIXTURES, name), "rb").read()[:3000]


def json_rpc_seeds():
    yield b'{"jsonrpc":"2.0","id":1,"result":"0x10"}'
    yield b'{"jsonrpc":"2.0","id":2,"error":{"code":-32005,"message":"limit exceeded","data":{"retry":1}}}'
    yield b'[{"jsonrpc":"2.0","id":3,"result":null},{"jsonrpc":"2.0","id":4,"result":[{"blockNumber":"0x1"}]}]'
    yield (b'{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xabc","result":'
           b'{"number":"0x1b4","hash":"0x' + b"ab" * 32 + b'"}}}')
    yield (b'{"jsonrpc":"2.0","method":"accountNotification","params":{"subscription":23784,"result":{"context":{"slot":5},'
           b'"value":{"lamports":1,"owner":"11111111111111111111111111111111","data":["AAEC","base64"],"executable":false,"rentEpoch":0}}}}')


def registry_seeds():
    yield b'[chains.fantom]\nenabled = false\n'
    yield (b'[chains.base]\nexecution = false\nrpc = [{ http = "https://my-node/base", ws = "wss://my-node/base" }]\n\n'
           b'[cow]\nenabled = true\nmin_volume_usd = 50000\n')
    yield b'[disable]\ndexes = ["bsc/mdex"]\ntokens = ["bsc/BUSD"]\n'
    yield (b'[[add_token]]\nchain = "base"\nsymbol = "LAB"\naddress = "0x4ed4E862860beD51a9570b96d89aF5E1B0Efefed"\ndecimals = 18\n')


def binance_seeds():
    yield (b'{"stream":"btcusdt@bookTicker","data":{"u":400900217,"s":"BTCUSDT","b":"25.35190000","B":"31.21000000",'
           b'"a":"25.36520000","A":"40.66000000"}}')
    yield (b'{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","E":1672515782136,"s":"ETHUSDT","a":12345,"p":"0.001",'
           b'"q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}}')
    yield (b'{"stream":"solusdt@depth5@100ms","data":{"lastUpdateId":160,"bids":[["0.0024","10"],["0.0023","5"]],'
           b'"asks":[["0.0026","100"],["0.0027","1"]]}}')
    yield b'{"result":null,"id":1}'
    yield b'{"error":{"code":2,"msg":"Invalid request"},"id":7}'


def solana_message_seeds(rng):
    from solders.hash import Hash
    from solders.instruction import AccountMeta, Instruction
    from solders.keypair import Keypair
    from solders.message import Message, MessageV0
    from solders.address_lookup_table_account import AddressLookupTableAccount
    from solders.transaction import Transaction, VersionedTransaction
    payer = Keypair.from_seed(bytes(range(32)))
    other = Keypair.from_seed(bytes(range(1, 33)))
    program = Keypair.from_seed(bytes([9] * 32)).pubkey()
    extra = [Keypair.from_seed(bytes([i] * 32)).pubkey() for i in range(10, 14)]
    ix = Instruction(program, bytes(rng.randbytes(12)), [AccountMeta(payer.pubkey(), True, True), AccountMeta(extra[0], False, True),
                                                        AccountMeta(other.pubkey(), True, False), AccountMeta(extra[1], False, False)])
    blockhash = Hash(bytes(rng.randbytes(32)))
    legacy = Message.new_with_blockhash([ix], payer.pubkey(), blockhash)
    table = AddressLookupTableAccount(extra[3], [extra[0], extra[1], extra[2]])
    v0 = MessageV0.try_compile(payer.pubkey(), [ix], [table], blockhash)
    yield bytes([0]) + bytes(legacy)
    yield bytes([0]) + bytes(v0)
    yield bytes([1]) + bytes(Transaction([payer, other], legacy, blockhash))
    yield bytes([1]) + bytes(VersionedTransaction(v0, [payer, other]))


def solana_account_seeds():
    sys.path.insert(0, ROOT)
    from tools.solana import bank as b
    from tools.solana import market, venues
    from tools.solana.bank import Bank
    bank = Bank()
    market.Market(bank, seed=1)
    clmm_program = getattr(b, "RAYDIUM_CLMM", None)
    out = []
    for key, account in bank.accounts.items():
        data, owner = bytes(account.data), account.owner
        if owner == b.RAYDIUM_AMM and len(data) == b.RAYDIUM_INFO_SIZE:
            out.append(bytes([0]) + data)
        elif owner == b.TOKEN and len(data) == b.TOKEN_ACCOUNT_SIZE:
            out.append(bytes([1]) + data)
        elif owner == venues.WHIRLPOOL:
            out.append(bytes([3 if len(data) > 1000 else 2]) + data)
        elif owner == venues.DLMM:
            out.append(bytes([4 if data[:8] == venues.LB_PAIR_DISCRIMINATOR else 5]) + data)
        elif clmm_program is not None and owner == clmm_program:
            out.append(bytes([6]) + data)
        elif owner == b.PHOENIX:
            out.append(bytes([9]) + data)
        elif key == b.CLOCK:
            out.append(bytes([10]) + data)
    # CLMM pools, configs and tick arrays by their discriminators, whoever owns them.
    from tools.solana import clmm
    for key, account in bank.accounts.items():
        data = bytes(account.data)
        for i, name in ((6, "PoolState"), (7, "AmmConfig"), (8, "TickArrayState")):
            if data[:8] == clmm.discriminator(name):
                out.append(bytes([i]) + data)
    # An AmmInfo with its two vaults (the Raydium pool check).
    infos = [a for a in bank.accounts.values() if a.owner == b.RAYDIUM_AMM and len(a.data) == b.RAYDIUM_INFO_SIZE]
    tokens = [a for a in bank.accounts.values() if a.owner == b.TOKEN and len(a.data) == b.TOKEN_ACCOUNT_SIZE]
    if infos and len(tokens) >= 2:
        out.append(bytes([10]) + bytes(infos[0].data) + bytes(tokens[0].data) + bytes(tokens[1].data))
    return out


def cow_seeds(rng):
    for n in (1, 2, 2):
        tokens = ["0x" + rng.randbytes(20).hex() for _ in range(2)]
        trades = [(0, 1, "0x" + rng.randbytes(20).hex(), 10**18, 10**6, 2**32 - 1, rng.randbytes(32), 0, flags, 10**18,
                   rng.randbytes(65 if flags >> 5 & 3 in (0, 1) else 20)) for flags in (0, 3 << 5)[:n]]
        interactions = [[], [("0x" + rng.randbytes(20).hex(), 0, bytes.fromhex("022c0d9f") + rng.randbytes(60))], []]
        yield SETTLE_SELECTOR + eth_abi.encode(SETTLE, [tokens, [10**6, 10**18], trades, interactions])


def recorded_seeds(binary):
    """Opportunities and recorded inputs from a short lab run (watch, CEX feed, Solana streams)."""
    sys.path.insert(0, os.path.join(ROOT, "python", "tests"))
    from test_cli_replay import read_recording
    with tempfile.TemporaryDirectory() as tmp:
        rec = os.path.join(tmp, "rec")
        run = subprocess.run([binary, "lab", "--chains", "2", "--blocks", "8", "--solana", "--no-cow", "--stat-arb-history", "0",
                              "--http", "off", "--record", rec, "--dir", os.path.join(tmp, "lab"), "--json"],
                             capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            raise SystemExit("seed: the lab run failed:\n" + run.stderr[-2000:])
        events = read_recording(rec)
    declared = {json.loads(e[3])["stream"]: json.loads(e[3])["component"] for e in events if e[0] == 0 and e[1] == 1}
    opportunities, inputs, seen = [], [], set()
    for stream, kind, _, payload in events:
        component = declared.get(stream, "")
        payload = bytes(payload)
        if kind == 6 and component.startswith("solana:"):
            opportunities.append(payload)
        select = 2 if component.startswith("solana:") else 1 if component.startswith(("feed", "cex", "binance")) else 0
        if stream == 0 or len(payload) > 4000 or (select, kind) in seen and random.Random(len(payload)).random() < 0.9:
            continue
        seen.add((select, kind))
        inputs.append(bytes([select, kind]) + payload)
    return opportunities[:20], inputs[:60]


def write(target, seeds):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    n = 0
    for s in seeds:
        name = "seed-" + hashlib.sha1(s).hexdigest()[:16]
        with open(os.path.join(folder, name), "wb") as f:
            f.write(s)
        n += 1
    print(f"{target}: {n} seeds", file=sys.stderr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.path.join(ROOT, ".build", "debug", "arbiter"))
    p.add_argument("--only", nargs="*")
    a = p.parse_args()
    rng = random.Random(26)
    wanted = lambda t: not a.only or t in a.only  # noqa: E731
    plan = {
        "rlp": lambda: [bytes.fromhex(v["encoded"][2:]) for v in fixture("evm/rlp.json")["vectors"]][:40] + [rlp.encode([b"", [b"a" * 60], 1024])],
        "abi": lambda: list(abi_seeds(rng)),
        "raw-transaction": lambda: [bytes.fromhex(v["raw"][2:]) for v in fixture("evm/transactions.json")["vectors"]][:30],
        "json": lambda: list(json_seeds()),
        "json-rpc": lambda: list(json_rpc_seeds()),
        "pool-logs": lambda: list(pool_log_seeds()),
        "resp": lambda: list(resp_seeds()),
        "registry": lambda: list(registry_seeds()),
        "binance": lambda: list(binance_seeds()),
        "solana-message": lambda: list(solana_message_seeds(rng)),
        "solana-accounts": solana_account_seeds,
        "cow-settle": lambda: list(cow_seeds(rng)),
    }
    for target, make in plan.items():
        if wanted(target):
            write(target, make())
    if wanted("opportunity") or wanted("recorded-inputs"):
        opportunities, inputs = recorded_seeds(a.bin)
        if wanted("opportunity"):
            write("opportunity", opportunities)
        if wanted("recorded-inputs"):
            write("recorded-inputs", inputs)


if __name__ == "__main__":
    main()
