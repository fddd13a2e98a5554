"""The lab's bridge relayer: a stand-in for Across/Stargate relayers between lab devnets.

It watches every chain's `MockBridge` for `Deposited`, and `--latency` seconds after a deposit's
block it fills it on the destination chain: the token of the same symbol, to the same recipient,
from the relayer account (the lab's deployer, unlocked on the devnet). It checks `filled` two
seconds after sending and sends again until it holds. Each step is printed as one JSON line
("sent", then "filled"). Deposits to a chain it does not know, or of a token the destination does not list, are
printed as skipped and never filled (the funds stay in the source bridge: a stuck transfer).

`python -m tools.devnet.bridge [--latency 3] MANIFEST.json MANIFEST.json [...]`"""
import argparse
import json
import signal
import sys
import time
import urllib.request

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak

from .lifeline import exit_with_parent

DEPOSITED = "0x" + keccak(text="Deposited(uint256,address,uint256,uint256,address,address)").hex()
FILL = function_signature_to_4byte_selector("fill(uint256,uint256,address,uint256,address)")
FILLED = function_signature_to_4byte_selector("filled(uint256,uint256)")


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


def deposits(chain):
    """New `Deposited` logs of the chain's bridge: (block, id, token, amount, dest chain, recipient)."""
    head = int(chain.rpc("eth_blockNumber", []), 16)
    if head < chain.next_block:
        return []
    logs = chain.rpc("eth_getLogs", [{"address": chain.bridge, "topics": [DEPOSITED],
                                      "fromBlock": hex(chain.next_block), "toBlock": hex(head)}])
    chain.next_block = head + 1
    out = []
    for log in logs:
        if log.get("removed"):
            continue
        amount, dest, recipient, _ = decode(["uint256", "uint256", "address", "address"], bytes.fromhex(log["data"][2:]))
        out.append((int(log["blockNumber"], 16), int(log["topics"][1], 16), "0x" + log["topics"][2][-40:], amount, dest, recipient))
    return out


def is_filled(chain, src, dep_id):
    out = chain.rpc("eth_call", [{"to": chain.bridge, "data": "0x" + (FILLED + encode(["uint256", "uint256"], [src, dep_id])).hex()}, "latest"])
    return int(out, 16) == 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bridge", description=__doc__)
    ap.add_argument("--latency", type=float, default=3.0, help="seconds from a deposit to its fill")
    ap.add_argument("--parent", type=int, metavar="PID", help="exit as soon as process PID is no longer the relayer's parent")
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
    due = []  # (time, source chain, deposit)
    print(json.dumps({"event": "ready", "chains": sorted(chains)}), flush=True)
    while True:
        now = time.time()
        for c in chains.values():
            try:
                for d in deposits(c):
                    due.append((now + args.latency, c.id, d))
            except (OSError, RuntimeError, ValueError) as e:  # a chain restarting: try again next round
                print(json.dumps({"event": "error", "chain": c.id, "error": str(e)}), flush=True)
        for entry in [e for e in due if e[0] <= now]:
            due.remove(entry)
            _, src, (block, dep_id, token, amount, dest, recipient) = entry
            sym = chains[src].symbols.get(token.lower())
            target = chains.get(dest)
            record = {"src": src, "id": dep_id, "dest": dest, "amount": str(amount), "recipient": recipient, "symbol": sym}
            if target is None or sym not in target.m["tokens"]:
                print(json.dumps(record | {"event": "skipped"}), flush=True)
                continue
            data = FILL + encode(["uint256", "uint256", "address", "uint256", "address"],
                                 [src, dep_id, target.m["tokens"][sym]["address"], amount, recipient])
            try:
                if is_filled(target, src, dep_id):
                    print(json.dumps(record | {"event": "filled"}), flush=True)
                    continue
                h = target.rpc("eth_sendTransaction", [{"from": target.relayer, "to": target.bridge, "data": "0x" + data.hex(), "gas": hex(200_000)}])
                print(json.dumps(record | {"event": "sent", "tx": h}), flush=True)
            except (OSError, RuntimeError) as e:
                print(json.dumps(record | {"event": "error", "error": str(e)}), flush=True)
            # Checked again in two seconds: filled by then, or sent again (a node may drop it).
            due.append((now + 2, src, (block, dep_id, token, amount, dest, recipient)))
        time.sleep(0.2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
