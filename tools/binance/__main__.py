"""`python -m tools.binance --port 0 [--seed 1] [--scale 10] [--chaos-every 5] [--parent PID]`

Prints one JSON line {"ready": true, "ws": …, "rest": …} once it listens; serves until SIGTERM."""
import argparse
import asyncio
import signal
import sys


from tools.devnet.lifeline import exit_with_parent
from tools.devnet.standin import serve

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
    standin = StandIn(seed=args.seed, scale=args.scale, tick=args.tick, chaos_every=args.chaos_every)
    asyncio.run(serve(standin.app, args.host, args.port, standin.start,
                      lambda port: {"ws": f"ws://{args.host}:{port}", "rest": f"http://{args.host}:{port}"}, stop_tasks=lambda: standin.tasks))


if __name__ == "__main__":
    sys.exit(main())
