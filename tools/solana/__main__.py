"""`python -m tools.solana --port 0 [--slot-ms 400] [--seed 1] [--fund PUBKEY:LAMPORTS …] [--parent PID]`

Prints one JSON line {"ready": true, "rpc": …, "ws": …, "engine": …, "market": {…}} once it
listens; serves until SIGTERM."""
import argparse
import asyncio
import json
import signal
import sys

from aiohttp import web
from solders.pubkey import Pubkey

from tools.devnet.lifeline import exit_with_parent

from .market import Market
from .server import StandIn


def main(argv=None):
    ap = argparse.ArgumentParser(prog="solana-standin", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--slot-ms", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fund", action="append", default=[], help="PUBKEY:LAMPORTS, repeatable")
    ap.add_argument("--parent", type=int)
    args = ap.parse_args(argv)
    if args.parent:
        exit_with_parent(args.parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    standin = StandIn(slot_ms=args.slot_ms, seed=args.seed)
    market = Market(standin.bank, seed=args.seed)
    for f in args.fund:
        key, _, lamports = f.partition(":")
        market.fund(Pubkey.from_string(key), int(lamports))
    asyncio.run(serve(standin, market, args))


async def serve(standin, market, args):
    runner = web.AppRunner(standin.app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    standin.start(loop)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    base = f"http://{args.host}:{port}"
    print(json.dumps({"ready": True, "rpc": base + "/", "ws": f"ws://{args.host}:{port}/", "engine": base, "market": market.manifest()}), flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
