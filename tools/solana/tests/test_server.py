"""The Solana stand-in as a process on loopback: JSON-RPC shapes, statuses over slots, Jito bundles
(atomic, tipped), subscriptions, and every fault it offers."""
import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import websockets
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PAYER = Keypair.from_seed(bytes([3]) * 32)
TIP = Pubkey.from_string("96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5")


@pytest.fixture(scope="module")
def standin():
    proc = subprocess.Popen([sys.executable, "-m", "tools.solana", "--port", "0", "--slot-ms", "100", "--fund", f"{PAYER.pubkey()}:{50 * 10**9}",
                             "--parent", str(os.getpid())], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready = json.loads(proc.stdout.readline())
    yield ready
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


def post(url, method, params=None, status=False):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            out = (r.status, json.loads(r.read()))
    except urllib.error.HTTPError as e:
        out = (e.code, e.read().decode())
    return out if status else out[1]


def signed(ixs, blockhash, signer=PAYER):
    return VersionedTransaction(MessageV0.try_compile(signer.pubkey(), ixs, [], Hash.from_string(blockhash)), [signer])


def b64(tx):
    return base64.b64encode(bytes(tx)).decode()


def wait_status(rpc, sig, level="confirmed", seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        s = post(rpc, "getSignatureStatuses", [[sig]])["result"]["value"][0]
        if s and s["confirmationStatus"] in (level, "finalized"):
            return s
        time.sleep(0.05)
    raise AssertionError(f"{sig} not {level}")


def test_rpc_shapes_slots_and_a_transfer_charged_exactly(standin):
    rpc = standin["rpc"]
    a = post(rpc, "getSlot")["result"]
    time.sleep(0.35)
    assert post(rpc, "getSlot")["result"] > a
    latest = post(rpc, "getLatestBlockhash")["result"]
    assert set(latest["value"]) == {"blockhash", "lastValidBlockHeight"} and latest["value"]["lastValidBlockHeight"] > post(rpc, "getBlockHeight")["result"]
    to = Keypair().pubkey()
    before = post(rpc, "getBalance", [str(PAYER.pubkey())])["result"]["value"]
    tx = signed([set_compute_unit_limit(1_000), set_compute_unit_price(2_500_000), transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=to, lamports=10**9))],
                latest["value"]["blockhash"])
    sim = post(rpc, "simulateTransaction", [b64(tx), {"encoding": "base64", "accounts": {"addresses": [str(to)], "encoding": "base64"}}])["result"]["value"]
    assert sim["err"] is None and sim["unitsConsumed"] == 450 and sim["accounts"][0]["lamports"] == 10**9
    sig = post(rpc, "sendTransaction", [b64(tx), {"encoding": "base64"}])["result"]
    assert sig == str(tx.signatures[0])
    s = wait_status(rpc, sig)
    assert s["err"] is None and s["status"] == {"Ok": None}
    # 5,000 a signature + ceil(1,000 × 2,500,000 / 10^6) = 2,500 priority.
    assert before - post(rpc, "getBalance", [str(PAYER.pubkey())])["result"]["value"] == 10**9 + 5_000 + 2_500
    info = post(rpc, "getAccountInfo", [str(to), {"encoding": "base64"}])["result"]["value"]
    assert info["lamports"] == 10**9 and info["owner"] == "11111111111111111111111111111111" and info["data"] == ["", "base64"]
    fees = post(rpc, "getRecentPrioritizationFees", [[str(to)]])["result"]
    assert any(f["prioritizationFee"] == 2_500_000 for f in fees)
    # Errors in the RPC's shapes.
    assert post(rpc, "sendTransaction", ["not base64!", {"encoding": "base64"}])["error"]["code"] == -32602
    poor = Keypair()
    err = post(rpc, "sendTransaction", [b64(signed([transfer(TransferParams(from_pubkey=poor.pubkey(), to_pubkey=to, lamports=1))], latest["value"]["blockhash"], poor)),
                                        {"encoding": "base64"}])["error"]
    assert err["code"] == -32002 and err["data"]["err"] == "AccountNotFound"
    assert post(rpc, "getMultipleAccounts", [[str(to), str(Keypair().pubkey())]])["result"]["value"][1] is None
    assert post(rpc, "noSuchMethod")["error"]["code"] == -32601


def test_a_bundle_lands_atomically_in_one_slot_only_when_tipped(standin):
    rpc, engine = standin["rpc"], standin["engine"] + "/api/v1/bundles"
    h = post(rpc, "getLatestBlockhash")["result"]["value"]["blockhash"]
    a, b = Keypair().pubkey(), Keypair().pubkey()
    first = signed([transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=a, lamports=10**9)),
                    transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=TIP, lamports=5_000))], h)
    untipped = post(engine, "sendBundle", [[b64(signed([transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=a, lamports=7))], h))], {"encoding": "base64"}])
    assert "tip" in untipped["error"]["message"]
    # The second transaction fails (more than the payer has): nothing of the bundle lands.
    failing = signed([transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=b, lamports=10**15))], h)
    bid = post(engine, "sendBundle", [[b64(first), b64(failing)], {"encoding": "base64"}])["result"]
    time.sleep(0.4)
    inflight = post(engine, "getInflightBundleStatuses", [[bid]])["result"]["value"][0]
    assert inflight["status"] == "Failed" and post(rpc, "getBalance", [str(a)])["result"]["value"] == 0
    assert post(engine, "getBundleStatuses", [[bid]])["result"]["value"] == [None]
    # Alone it lands, in one slot, its id the SHA-256 of its signatures.
    bid = post(engine, "sendBundle", [[b64(first)], {"encoding": "base64"}])["result"]
    import hashlib
    assert bid == hashlib.sha256(bytes(first.signatures[0])).hexdigest()
    deadline = time.time() + 5
    while time.time() < deadline and not (st := post(engine, "getBundleStatuses", [[bid]])["result"]["value"][0]):
        time.sleep(0.05)
    assert st["transactions"] == [str(first.signatures[0])] and st["err"] == {"Ok": None}
    assert post(engine, "getInflightBundleStatuses", [[bid]])["result"]["value"][0]["landed_slot"] == st["slot"]
    assert post(rpc, "getBalance", [str(a)])["result"]["value"] == 10**9
    assert len(post(engine, "getTipAccounts")["result"]) == 8
    assert "base64" in post(engine, "sendBundle", [[b64(first)]])["error"]["message"]  # base58 (the default) is not served
    assert post(engine, "sendBundle", [[b64(first)] * 6, {"encoding": "base64"}])["error"]["code"] == -32602


def test_faults_rate_limits_outage_dropped_bundles_and_an_expired_blockhash(standin):
    rpc, engine = standin["rpc"], standin["engine"] + "/api/v1/bundles"
    post(rpc, "standin_fault", [{"rateLimit": 1}])
    assert post(rpc, "getSlot", status=True)[0] == 429
    assert post(rpc, "getSlot", status=True)[0] == 200
    post(rpc, "standin_fault", [{"bundleRateLimit": 1}])
    assert post(engine, "getTipAccounts", status=True)[0] == 429
    post(rpc, "standin_fault", [{"engineDown": True}])
    assert post(engine, "getTipAccounts", status=True)[0] == 503
    post(rpc, "standin_fault", [{"engineDown": False}])
    h = post(rpc, "getLatestBlockhash")["result"]["value"]["blockhash"]
    tx = signed([transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=TIP, lamports=2_000))], h)
    post(rpc, "standin_fault", [{"dropBundles": 1}])
    bid = post(engine, "sendBundle", [[b64(tx)], {"encoding": "base64"}])["result"]
    time.sleep(0.4)
    assert post(engine, "getBundleStatuses", [[bid]])["result"]["value"] == [None]
    assert post(rpc, "getSignatureStatuses", [[str(tx.signatures[0])]])["result"]["value"] == [None]
    post(rpc, "standin_fault", [{"expireBlockhash": h}])
    assert post(rpc, "isBlockhashValid", [h])["result"]["value"] is False
    err = post(rpc, "sendTransaction", [b64(tx), {"encoding": "base64"}])["error"]
    assert err["data"]["err"] == "BlockhashNotFound"
    # Expiring the latest blockhash moves the cluster on to a new one; a lagging node's stale answer is refused.
    latest = post(rpc, "getLatestBlockhash")["result"]["value"]["blockhash"]
    post(rpc, "standin_fault", [{"expireBlockhash": latest}])
    assert post(rpc, "getLatestBlockhash")["result"]["value"]["blockhash"] != latest
    post(rpc, "standin_fault", [{"staleBlockhash": 1}])
    stale = post(rpc, "getLatestBlockhash")["result"]["value"]
    assert post(rpc, "isBlockhashValid", [stale["blockhash"]])["result"]["value"] is False and stale["lastValidBlockHeight"] > post(rpc, "getBlockHeight")["result"]
    assert post(rpc, "isBlockhashValid", [post(rpc, "getLatestBlockhash")["result"]["value"]["blockhash"]])["result"]["value"] is True


def test_subscriptions_slots_and_accounts_with_integer_ids(standin):
    async def go():
        async with websockets.connect(standin["ws"]) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "slotSubscribe"}))
            sid = json.loads(await ws.recv())["result"]
            assert isinstance(sid, int)
            note = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert note["method"] == "slotNotification" and note["params"]["subscription"] == sid and set(note["params"]["result"]) == {"parent", "root", "slot"}
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "slotUnsubscribe", "params": [sid]}))
            to = Keypair().pubkey()
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "accountSubscribe", "params": [str(to), {"encoding": "base64"}]}))
            acct = None
            while acct is None:
                m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if m.get("id") == 3:
                    acct = m["result"]
            h = post(standin["rpc"], "getLatestBlockhash")["result"]["value"]["blockhash"]
            post(standin["rpc"], "sendTransaction", [b64(signed([transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=to, lamports=123_456_789))], h)),
                                                     {"encoding": "base64"}])
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if m.get("method") == "accountNotification":
                    assert m["params"]["subscription"] == acct and m["params"]["result"]["value"]["lamports"] == 123_456_789
                    return
    asyncio.run(go())


def test_a_landed_transaction_reads_back_with_its_balances_before_and_after(standin):
    rpc = standin["rpc"]
    h = post(rpc, "getLatestBlockhash")["result"]["value"]["blockhash"]
    to = Keypair().pubkey()
    tx = signed([transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=to, lamports=1_004_321))], h)
    sig = post(rpc, "sendTransaction", [b64(tx), {"encoding": "base64"}])["result"]
    wait_status(rpc, sig)
    got = post(rpc, "getTransaction", [sig, {"encoding": "base64", "maxSupportedTransactionVersion": 0}])["result"]
    meta = got["meta"]
    assert base64.b64decode(got["transaction"][0]) == bytes(tx) and meta["err"] is None and meta["fee"] == 5_000
    keys = [str(k) for k in tx.message.account_keys]
    payer, dest = keys.index(str(PAYER.pubkey())), keys.index(str(to))
    assert meta["preBalances"][payer] - meta["postBalances"][payer] == 1_004_321 + 5_000
    assert meta["postBalances"][dest] - meta["preBalances"][dest] == 1_004_321
    # A new account left below the rent-exempt minimum is refused, as the runtime refuses it.
    poor = signed([transfer(TransferParams(from_pubkey=PAYER.pubkey(), to_pubkey=Keypair().pubkey(), lamports=4_321))], h)
    assert "InsufficientFundsForRent" in json.dumps(post(rpc, "sendTransaction", [b64(poor), {"encoding": "base64"}])["error"]["data"]["err"])
    assert post(rpc, "getTransaction", ["1" * 88, {"encoding": "base64"}])["result"] is None


def test_program_accounts_are_found_by_size_and_bytes(standin):
    """getProgramAccounts: the market's Raydium pools by the program and the AmmInfo size, narrowed
    by a memcmp on the coin mint; the context with `withContext`; a malformed filter is a clear error."""
    rpc = standin["rpc"]
    program = standin["market"]["program"]
    pools = [p for p in standin["market"]["pools"] if p["venue"] == "raydium"]
    assert len(pools) == 3  # SOL/USDC, SOL/USDT, WETH/USDC
    for owner, size, venue in (("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc", 653, "whirlpool"), ("LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo", 904, "dlmm")):
        found = post(rpc, "getProgramAccounts", [owner, {"encoding": "base64", "filters": [{"dataSize": size}]}])["result"]
        assert [a["pubkey"] for a in found] == [p["pool"] for p in standin["market"]["pools"] if p["venue"] == venue]
    found = post(rpc, "getProgramAccounts", [program, {"encoding": "base64", "filters": [{"dataSize": 752}]}])["result"]
    assert sorted(a["pubkey"] for a in found) == sorted(p["pool"] for p in pools)
    assert all(a["account"]["owner"] == program and len(base64.b64decode(a["account"]["data"][0])) == 752 for a in found)
    assert post(rpc, "getProgramAccounts", [program, {"filters": [{"dataSize": 751}]}])["result"] == []
    sol = standin["market"]["mints"]["SOL"]["mint"]
    with_sol = post(rpc, "getProgramAccounts", [program, {"encoding": "base64", "withContext": True,
                                                          "filters": [{"dataSize": 752}, {"memcmp": {"offset": 400, "bytes": sol}}]}])["result"]
    assert with_sol["context"]["slot"] >= 1
    assert sorted(a["pubkey"] for a in with_sol["value"]) == sorted(p["pool"] for p in pools if p["mintA"] == sol)
    bad = post(rpc, "getProgramAccounts", [program, {"filters": [{"memcmp": {"offset": 0, "bytes": "0OIl"}}]}])
    assert bad["error"]["code"] == -32602


def test_the_token_bridge_over_rpc(standin):
    """The relayer's side of the token bridge: messages after a sequence (none yet), a transfer in
    paid from the custody the manifest names (once per source chain and sequence, its claim account
    readable), and bad parameters a clear error."""
    rpc, market = standin["rpc"], standin["market"]
    assert post(rpc, "standin_bridgeMessages", [0])["result"] == []
    weth = market["mints"]["WETH"]["mint"]
    custody = market["bridge"]["custody"]["WETH"]
    held = int(post(rpc, "getTokenAccountBalance", [custody])["result"]["value"]["amount"])
    owner = str(Keypair.from_seed(bytes([31]) * 32).pubkey())
    paid = post(rpc, "standin_bridgeComplete", [{"srcChain": 900001, "sequence": 1, "mint": weth, "owner": owner, "amount": 5 * 10**7}])["result"]
    assert paid["paid"] == 5 * 10**7 and not paid["already"]
    assert int(post(rpc, "getTokenAccountBalance", [paid["account"]])["result"]["value"]["amount"]) == 5 * 10**7
    assert held - int(post(rpc, "getTokenAccountBalance", [custody])["result"]["value"]["amount"]) == 5 * 10**7
    claim = post(rpc, "getAccountInfo", [paid["claim"], {"encoding": "base64"}])["result"]["value"]
    assert claim["owner"] == market["bridge"]["program"] and base64.b64decode(claim["data"][0]) == b"\x01"
    assert post(rpc, "standin_bridgeComplete", [{"srcChain": 900001, "sequence": 1, "mint": weth, "owner": owner, "amount": 5 * 10**7}])["result"]["already"]
    assert post(rpc, "standin_bridgeComplete", [{"srcChain": 900001, "sequence": 2, "mint": "nope", "owner": owner, "amount": 1}])["error"]["code"] == -32602
