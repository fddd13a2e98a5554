"""`python -m tools.binance --port 0 [--seed 1] [--scale 10] [--chaos-every 5] [--parent PID]`

Prints one JSON line {"ready": true, "ws": …, "rest": …} once it listens; serves until SIGTERM."""
import argparse
import asyncio
import json
import signal
import sys

from aiohttp import web

from tools.devnet.lifeline import exit_with_parent

from .standin import StandIn


def main(argv=None):
    ap = argparse.ArgumentParser(prog="binance-standin", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0, help="time compression: documented intervals divided by this")
    ap.add_argument("--tick", type=float, default=0.05, help="seconds between price steps")
    ap.add_argument("--chaos-every", type=float, default=0.0, help="a random misbehaviour about every this many seconds (0: none)")
    ap.add_argument("--parent", type=int)
    args = ap.parse_args(argv)
    if args.parent:
        exit_with_parent(args.parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    asyncio.run(serve(StandIn(seed=args.seed, scale=args.scale, tick=args.tick, chaos_every=args.chaos_every), args))


async def serve(standin, args):
    runner = web.AppRunner(standin.app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    standin.start(loop)
    print(json.dumps({"ready": True, "ws": f"ws://{args.host}:{port}", "rest": f"http://{args.host}:{port}"}), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for t in standin.tasks:
        t.cancel()
    await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
