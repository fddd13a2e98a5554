"""The Jupiter stand-in: quotes from the ledger's pools (best of direct and two-hop routes), and
its swap instructions, built into a v0 transaction with its lookup table, land with exactly the
quoted output; an expired quote, a route it did not quote and rate limits are refused."""
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse

import pytest
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from tools.solana.bank import ata_address, cpmm_out
from tools.solana.tests.test_server import ROOT, post, wait_status

USER = Keypair.from_seed(bytes([11]) * 32)


@pytest.fixture(scope="module")
def cluster():
    proc = subprocess.Popen([sys.executable, "-m", "tools.solana", "--port", "0", "--slot-ms", "100",
                             "--fund", f"{USER.pubkey()}:{20 * 10**9}:SOL={50 * 10**9},USDC={1000 * 10**6}", "--parent", str(os.getpid())],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready = json.loads(proc.stdout.readline())
    yield ready
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


def get(url):
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def post_json(url, body):
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def instruction(j):
    return Instruction(Pubkey.from_string(j["programId"]), base64.b64decode(j["data"]),
                       [AccountMeta(Pubkey.from_string(a["pubkey"]), a["isSigner"], a["isWritable"]) for a in j["accounts"]])


def token_amount(rpc, key):
    return int(post(rpc, "getTokenAccountBalance", [str(key)])["result"]["value"]["amount"])


def test_a_quoted_round_trip_lands_with_exactly_the_quoted_output(cluster):
    rpc, jup, market = cluster["rpc"], cluster["jupiter"], cluster["market"]
    sol, usdc = market["mints"]["SOL"]["mint"], market["mints"]["USDC"]["mint"]
    status, q = get(f"{jup}/quote?" + urllib.parse.urlencode({"inputMint": sol, "outputMint": usdc, "amount": 10**9, "slippageBps": 50}))
    assert status == 200 and q["inAmount"] == str(10**9) and int(q["otherAmountThreshold"]) == int(q["outAmount"]) * 9_950 // 10_000
    # The best route pays at least the direct constant-product pools (Raydium's, and the Whirlpool
    # with one full-range position); the CLMM pool and two-hop routes are also considered.
    best = 0
    for p in market["pools"]:
        if {p["mintA"], p["mintB"]} == {sol, usdc} and p["venue"] in ("raydium", "whirlpool"):
            ra = token_amount(rpc, p["vaultA"] if p["mintA"] == sol else p["vaultB"])
            rb = token_amount(rpc, p["vaultB"] if p["mintA"] == sol else p["vaultA"])
            best = max(best, cpmm_out(10**9, ra, rb, p["feeBps"]))
    assert int(q["outAmount"]) >= best and q["routePlan"][0]["swapInfo"]["inputMint"] == sol
    status, ixs = post_json(f"{jup}/swap-instructions", {"userPublicKey": str(USER.pubkey()), "quoteResponse": q,
                                                          "computeUnitLimit": 120_000, "computeUnitPriceMicroLamports": 1_000})
    assert status == 200 and ixs["addressLookupTableAddresses"] == [market["lookupTable"]]
    table = Pubkey.from_string(market["lookupTable"])
    info = post(rpc, "getAccountInfo", [str(table), {"encoding": "base64"}])["result"]["value"]
    data = base64.b64decode(info["data"][0])
    alt = AddressLookupTableAccount(table, [Pubkey(data[i:i + 32]) for i in range(56, len(data), 32)])
    all_ixs = [instruction(i) for i in ixs["computeBudgetInstructions"] + ixs["setupInstructions"] + [ixs["swapInstruction"]]]
    h = post(rpc, "getLatestBlockhash")["result"]["value"]["blockhash"]
    tx = VersionedTransaction(MessageV0.try_compile(USER.pubkey(), all_ixs, [alt], Hash.from_string(h)), [USER])
    assert tx.message.address_table_lookups  # the pools' accounts come through the table
    usdc_ata = str(ata_address(USER.pubkey(), Pubkey.from_string(usdc)))  # (a route's extra accounts may follow it)
    before = token_amount(rpc, usdc_ata)
    # The pools do not move here (no drift): the swap gives exactly the quote.
    sig = post(rpc, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}])["result"]
    assert wait_status(rpc, sig)["err"] is None
    assert token_amount(rpc, usdc_ata) - before == int(q["outAmount"])


def test_refusals_expired_quotes_unknown_routes_and_rate_limits(cluster):
    rpc, jup, market = cluster["rpc"], cluster["jupiter"], cluster["market"]
    sol, usdc = market["mints"]["SOL"]["mint"], market["mints"]["USDC"]["mint"]
    _, q = get(f"{jup}/quote?" + urllib.parse.urlencode({"inputMint": sol, "outputMint": usdc, "amount": 10**8}))
    old = dict(q, contextSlot=q["contextSlot"] - 200)
    status, err = post_json(f"{jup}/swap-instructions", {"userPublicKey": str(USER.pubkey()), "quoteResponse": old})
    assert status == 400 and err["errorCode"] == "QUOTE_EXPIRED"
    bad = dict(q, routePlan=[dict(q["routePlan"][0], swapInfo=dict(q["routePlan"][0]["swapInfo"], ammKey=str(Keypair().pubkey())))])
    assert post_json(f"{jup}/swap-instructions", {"userPublicKey": str(USER.pubkey()), "quoteResponse": bad})[0] == 400
    assert get(f"{jup}/quote?inputMint={sol}&outputMint={sol}&amount=5")[0] == 400
    assert get(f"{jup}/quote?inputMint={sol}&outputMint={usdc}&amount=abc")[0] == 400
    post(rpc, "standin_fault", [{"jupiterRateLimit": 1}])
    assert get(f"{jup}/quote?inputMint={sol}&outputMint={usdc}&amount=5")[0] == 429
    assert get(f"{jup}/quote?inputMint={sol}&outputMint={usdc}&amount=5000")[0] == 200


def test_a_phoenix_fill_takes_whole_lots_and_leaves_the_book_the_program_would(cluster):
    """Jupiter routed to the Phoenix book only (the other venues excluded): the quote is the
    transcription's fill on the book as read; the swap takes only whole lots of the input (the rest
    stays with the taker), pays exactly the quote, and leaves the bids the fill leaves."""
    from tools.solana import phoenix
    rpc, jup, market = cluster["rpc"], cluster["jupiter"], cluster["market"]
    sol, usdc = market["mints"]["SOL"]["mint"], market["mints"]["USDC"]["mint"]
    book_key = next(p["pool"] for p in market["pools"] if p["venue"] == "phoenix")
    read = lambda: base64.b64decode(post(rpc, "getAccountInfo", [book_key, {"encoding": "base64"}])["result"]["value"]["data"][0])
    amount = 45 * 10**9 + 123_456  # more than the best bid's 40 SOL; not a whole number of lots
    others = "Whirlpool,Raydium,Raydium CLMM,Meteora DLMM,StandIn CPMM"
    status, q = get(f"{jup}/quote?" + urllib.parse.urlencode({"inputMint": sol, "outputMint": usdc, "amount": amount, "onlyDirectRoutes": "true",
                                                              "excludeDexes": others}))
    assert status == 200 and [l["swapInfo"]["ammKey"] for l in q["routePlan"]] == [book_key], q
    before = phoenix.parse_market(read())
    slot = q["contextSlot"]
    (taken, out, _, lots), after = phoenix.fill(before, amount, False, slot, 0)
    assert int(q["outAmount"]) == out and taken == 45 * 10**9 and lots == 45_000
    status, ixs = post_json(f"{jup}/swap-instructions", {"userPublicKey": str(USER.pubkey()), "quoteResponse": q})
    assert status == 200
    table = Pubkey.from_string(market["lookupTable"])
    data = base64.b64decode(post(rpc, "getAccountInfo", [str(table), {"encoding": "base64"}])["result"]["value"]["data"][0])
    alt = AddressLookupTableAccount(table, [Pubkey(data[i:i + 32]) for i in range(56, len(data), 32)])
    h = post(rpc, "getLatestBlockhash")["result"]["value"]["blockhash"]
    all_ixs = [instruction(i) for i in ixs["setupInstructions"] + [ixs["swapInstruction"]]]
    tx = VersionedTransaction(MessageV0.try_compile(USER.pubkey(), all_ixs, [alt], Hash.from_string(h)), [USER])
    sol_ata, usdc_ata = (str(ata_address(USER.pubkey(), Pubkey.from_string(m))) for m in (sol, usdc))
    sol_before, usdc_before = token_amount(rpc, sol_ata), token_amount(rpc, usdc_ata)
    sig = post(rpc, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}])["result"]
    assert wait_status(rpc, sig)["err"] is None
    assert sol_before - token_amount(rpc, sol_ata) == taken and token_amount(rpc, usdc_ata) - usdc_before == out
    key = lambda o: (o["price"], o["seq"], o["lots"])
    now = phoenix.parse_market(read())
    assert [key(o) for o in now["bids"]] == [key(o) for o in after] and len(after) == len(before["bids"]) - 1
    assert [key(o) for o in now["asks"]] == [key(o) for o in before["asks"]]
    # The best bid filled whole, the second in part.
    assert now["bids"][0]["lots"] == before["bids"][1]["lots"] - (45_000 - before["bids"][0]["lots"]) > 0
