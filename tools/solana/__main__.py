"""`python -m tools.solana --port 0 [--slot-ms 400] [--seed 1] [--fund PUBKEY:LAMPORTS …] [--drift] [--parent PID]`

Prints one JSON line {"ready": true, "rpc": …, "ws": …, "engine": …, "jupiter": …, "market": {…}} once it
listens; serves until SIGTERM."""
import argparse
import asyncio
import signal
import sys

from solders.pubkey import Pubkey

from tools.devnet.lifeline import exit_with_parent
from tools.devnet.standin import serve

from .jupiter import Jupiter
from .market import Market
from .server import StandIn


def main(argv=None):
    ap = argparse.ArgumentParser(prog="solana-standin", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--slot-ms", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fund", action="append", default=[], help="PUBKEY:LAMPORTS[:SYMBOL=AMOUNT,…] (token accounts of every mint, holding these), repeatable")
    ap.add_argument("--drift", action="store_true", help="a random trader swaps on one pool every slot")
    ap.add_argument("--parent", type=int)
    args = ap.parse_args(argv)
    if args.parent:
        exit_with_parent(args.parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    standin = StandIn(slot_ms=args.slot_ms, seed=args.seed)
    market = Market(standin.bank, seed=args.seed)
    standin.jupiter = Jupiter(standin, table=market.table)
    if args.drift:
        standin.on_slot.append(lambda _s: market.drift())
    for f in args.fund:
        key, lamports, *tokens = f.split(":")
        held = {}
        for t in (tokens[0].split(",") if tokens and tokens[0] else []):
            symbol, _, amount = t.partition("=")
            held[Pubkey.from_string(market.manifest()["mints"][symbol]["mint"])] = int(amount)
        market.fund(Pubkey.from_string(key), int(lamports), held)
    asyncio.run(serve(standin.app, args.host, args.port, standin.start, ready(args, market)))


def ready(args, market):
    def announce(port):
        base = f"http://{args.host}:{port}"
        return {"rpc": base + "/", "ws": f"ws://{args.host}:{port}/", "engine": base, "jupiter": base + "/swap/v1", "market": market.manifest()}
    return announce


if __name__ == "__main__":
    sys.exit(main())
