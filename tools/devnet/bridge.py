"""The lab's bridge relayer: a stand-in for Across/Stargate relayers between lab devnets.

It watches every chain's `MockBridge` for `Deposited`, and `--latency` seconds after a deposit's
block it fills it on the destination chain: the token of the same symbol, to the same recipient,
from the relayer account (the lab's deployer, unlocked on the devnet). It checks `filled` two
seconds after sending and sends again until it holds, at most 30 tries (then "abandoned": the funds stay in the source bridge). Each step is printed as one JSON line
("sent", then "filled"). Deposits to a chain it does not know, or of a token the destination does not list, are
printed as skipped and never filled (the funds stay in the source bridge: a stuck transfer).

With `--solana READY.json` (the Solana stand-in's ready line: its RPC and market) it also relays
the stand-in's token bridge (`tools/solana/bridge.py`, shaped like Wormhole's): each message
posted there (`standin_bridgeMessages`) for a chain it knows is filled like a deposit from chain
101 with the message's sequence as its id; the amount crosses at 8 decimals (Wormhole's
normalized amount), so it is scaled up to the destination token's decimals, and the recipient is
the EVM address in the message's 32 bytes (one with anything in its first 12 bytes is skipped).
The other way, a `DepositedTo` (a 32-byte recipient) for chain 101 is completed on the stand-in
(`standin_bridgeComplete`): the mint of the same symbol, paid to the recipient's token account,
the amount normalized to 8 decimals as Wormhole does (the rest stays in the source bridge), once
per (source chain, deposit id).

`python -m tools.devnet.bridge [--latency 3] [--solana READY.json] MANIFEST.json [MANIFEST.json ...]`"""
import argparse
import json
import signal
import sys
import time
import urllib.request

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak

from .lifeline import exit_with_parent

try:
    from solders.pubkey import Pubkey
except ImportError:  # only for relaying to Solana
    Pubkey = None

DEPOSITED = "0x" + keccak(text="Deposited(uint256,address,uint256,uint256,address,address)").hex()
DEPOSITED_TO = "0x" + keccak(text="DepositedTo(uint256,address,uint256,uint256,bytes32,address)").hex()
FILL = function_signature_to_4byte_selector("fill(uint256,uint256,address,uint256,address)")
FILLED = function_signature_to_4byte_selector("filled(uint256,uint256)")
SOLANA_CHAIN = 101
MAX_TRIES = 30  # sends and checks of one fill (two seconds apart) before it is abandoned
WIRE_DECIMALS = 8


class Chain:
    def __init__(self, manifest):
        self.m = manifest
        self.id = manifest["chainId"]
        self.url = manifest["rpc"]["http"]
        self.bridge = manifest["bridge"]["address"]
        self.relayer = manifest["bridge"]["relayer"]
        self.symbols = {t["address"].lower(): sym for sym, t in manifest["tokens"].items()}
        self.next_block = manifest.get("deployedAtBlock", 0) + 1

    def rpc(self, method, params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            out = json.loads(r.read())
        if "error" in out:
            raise RuntimeError(f"{method}: {out['error']}")
        return out["result"]


class Solana:
    """The Solana stand-in's side: its token bridge's messages, read after the last one seen."""

    def __init__(self, ready):
        self.url = ready["rpc"]
        self.symbols = {m["mint"]: sym for sym, m in ready["market"]["mints"].items()}
        self.mints = {sym: m["mint"] for sym, m in ready["market"]["mints"].items()}
        self.after = 0
        self.id = SOLANA_CHAIN

    rpc = Chain.rpc


def messages(solana):
    """New messages of the stand-in's token bridge, as deposits: (slot, sequence, symbol, (wire amount, its decimals), dest chain,
    recipient or None). One that cannot be read is printed as skipped, not retried."""
    out = []
    for m in solana.rpc("standin_bridgeMessages", [solana.after]):
        try:
            solana.after = max(solana.after, int(m["sequence"]))
            recipient = bytes.fromhex(m["recipient"][2:])
            evm = "0x" + recipient[12:].hex() if len(recipient) == 32 and not any(recipient[:12]) else None
            # The amount is in units of min(8, the mint's decimals), as Wormhole normalizes it.
            wire = (int(m["amount"]), min(WIRE_DECIMALS, int(m["decimals"])))
            out.append((int(m["slot"]), int(m["sequence"]), solana.symbols.get(m["mint"]), wire, int(m["targetChain"]), evm))
        except (KeyError, TypeError, ValueError) as e:
            print(json.dumps({"event": "skipped", "src": SOLANA_CHAIN, "message": m, "error": str(e)}), flush=True)
    return out


def deposits(chain):
    """New `Deposited` and `DepositedTo` logs of the chain's bridge: (block, id, token, amount, dest
    chain, recipient: an address, or 32 bytes)."""
    head = int(chain.rpc("eth_blockNumber", []), 16)
    if head < chain.next_block:
        return []
    logs = chain.rpc("eth_getLogs", [{"address": chain.bridge, "topics": [[DEPOSITED, DEPOSITED_TO]],
                                      "fromBlock": hex(chain.next_block), "toBlock": hex(head)}])
    chain.next_block = head + 1
    out = []
    for log in logs:
        if log.get("removed"):
            continue
        kind = "address" if log["topics"][0] == DEPOSITED else "bytes32"
        amount, dest, recipient, _ = decode(["uint256", "uint256", kind, "address"], bytes.fromhex(log["data"][2:]))
        out.append((int(log["blockNumber"], 16), int(log["topics"][1], 16), "0x" + log["topics"][2][-40:], amount, dest, recipient))
    return out


def complete_on_solana(solana, src, dep_id, sym, amount, decimals, recipient):
    """A deposit for chain 101 completed on the stand-in: the amount at 8 decimals at most (Wormhole's
    normalization), to the token account of the owner the 32 bytes name; the stand-in's answer
    (what it paid, or that it had already)."""
    wire = amount // 10 ** max(0, decimals - WIRE_DECIMALS)
    return solana.rpc("standin_bridgeComplete", [{"srcChain": src, "sequence": dep_id, "mint": solana.mints[sym], "owner": str(Pubkey(recipient)),
                                                  "amount": wire}])


def is_filled(chain, src, dep_id):
    out = chain.rpc("eth_call", [{"to": chain.bridge, "data": "0x" + (FILLED + encode(["uint256", "uint256"], [src, dep_id])).hex()}, "latest"])
    return int(out, 16) == 1


def to_solana(solana, source, entry, sym):
    """One due deposit for chain 101: completed on the stand-in, or (returned) due again in two
    seconds, at most `MAX_TRIES` times as fills are."""
    _, src, (block, dep_id, token, amount, dest, recipient), tries = entry
    record = {"src": src, "id": dep_id, "dest": dest, "amount": str(amount), "recipient": "0x" + recipient.hex(), "symbol": sym}
    if solana is None or sym not in solana.mints or not any(recipient):
        print(json.dumps(record | {"event": "skipped"}), flush=True)
        return None
    if tries >= MAX_TRIES:
        print(json.dumps(record | {"event": "abandoned", "tries": tries}), flush=True)
        return None
    try:
        out = complete_on_solana(solana, src, dep_id, sym, amount, source.m["tokens"][sym]["decimals"], recipient)
        print(json.dumps(record | {"event": "filled", "paid": str(out["paid"]), "already": out["already"], "claim": out["claim"]}), flush=True)
        return None
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        print(json.dumps(record | {"event": "error", "error": str(e)}), flush=True)
    return (time.time() + 2, src, (block, dep_id, token, amount, dest, recipient), tries + 1)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bridge", description=__doc__)
    ap.add_argument("--latency", type=float, default=3.0, help="seconds from a deposit to its fill")
    ap.add_argument("--parent", type=int, metavar="PID", help="exit as soon as process PID is no longer the relayer's parent")
    ap.add_argument("--solana", metavar="READY.json", help="also relay the Solana stand-in's token bridge (its ready line)")
    ap.add_argument("manifests", nargs="+")
    args = ap.parse_args(argv)
    if args.parent:
        exit_with_parent(args.parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    chains = {}
    for path in args.manifests:
        with open(path) as f:
            c = Chain(json.load(f))
        chains[c.id] = c
    solana = None
    if args.solana:
        with open(args.solana) as f:
            solana = Solana(json.load(f))
    due = []  # (time, source chain, deposit, tries)
    print(json.dumps({"event": "ready", "chains": sorted(chains) + ([SOLANA_CHAIN] if solana else [])}), flush=True)
    while True:
        now = time.time()
        if solana:
            try:
                for d in messages(solana):
                    due.append((now + args.latency, SOLANA_CHAIN, d, 0))
            except (OSError, RuntimeError, ValueError, KeyError) as e:
                print(json.dumps({"event": "error", "chain": SOLANA_CHAIN, "error": str(e)}), flush=True)
        for c in chains.values():
            try:
                for d in deposits(c):
                    due.append((now + args.latency, c.id, d, 0))
            except (OSError, RuntimeError, ValueError) as e:  # a chain restarting: try again next round
                print(json.dumps({"event": "error", "chain": c.id, "error": str(e)}), flush=True)
        for entry in [e for e in due if e[0] <= now]:
            due.remove(entry)
            _, src, (block, dep_id, token, amount, dest, recipient), tries = entry
            # From Solana the token is its symbol already and the amount is in wire units.
            sym = token if src == SOLANA_CHAIN else chains[src].symbols.get(token.lower())
            if isinstance(recipient, bytes):  # a 32-byte recipient: only Solana's side takes one
                again = to_solana(solana if dest == SOLANA_CHAIN else None, chains[src], entry, sym)
                if again:
                    due.append(again)
                continue
            target = chains.get(dest)
            record = {"src": src, "id": dep_id, "dest": dest, "amount": str(amount[0] if src == SOLANA_CHAIN else amount), "recipient": recipient, "symbol": sym}
            if target is None or sym not in target.m["tokens"] or recipient is None:
                print(json.dumps(record | {"event": "skipped"}), flush=True)
                continue
            paid = amount
            if src == SOLANA_CHAIN:  # wire units to the destination token's own
                shift = target.m["tokens"][sym]["decimals"] - amount[1]
                paid = amount[0] * 10**shift if shift >= 0 else amount[0] // 10**-shift
            data = FILL + encode(["uint256", "uint256", "address", "uint256", "address"],
                                 [src, dep_id, target.m["tokens"][sym]["address"], paid, recipient])
            if tries >= MAX_TRIES:  # bounded: a fill that never holds is given up on, said once
                print(json.dumps(record | {"event": "abandoned", "tries": tries}), flush=True)
                continue
            try:
                if is_filled(target, src, dep_id):
                    print(json.dumps(record | {"event": "filled"}), flush=True)
                    continue
                h = target.rpc("eth_sendTransaction", [{"from": target.relayer, "to": target.bridge, "data": "0x" + data.hex(), "gas": hex(200_000)}])
                print(json.dumps(record | {"event": "sent", "tx": h}), flush=True)
            except (OSError, RuntimeError) as e:
                print(json.dumps(record | {"event": "error", "error": str(e)}), flush=True)
            # Checked again in two seconds: filled by then, or sent again (a node may drop it).
            due.append((now + 2, src, (block, dep_id, token, amount, dest, recipient), tries + 1))
        time.sleep(0.2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
