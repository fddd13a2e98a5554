"""`python -m tools.devnet --port 8545 --chain-id 1 [--block-time 2] [--lab manifest.json] [--seed 7]`"""
import argparse
import asyncio
import json
import signal
import sys

from aiohttp import web

from .lifeline import exit_with_parent
from .node import Node
from .server import Server


def main(argv=None):
    ap = argparse.ArgumentParser(prog="devnet", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--chain-id", type=int, default=1337)
    ap.add_argument("--block-time", type=float, default=0.0, help="seconds between blocks (0 = mine on every transaction; 1 with --market)")
    ap.add_argument("--lab", metavar="MANIFEST", help="deploy the lab scenario and write its manifest here")
    ap.add_argument("--seed", type=int, default=1, help="seed of the lab's market driver")
    ap.add_argument("--market", action="store_true", help="run the market driver (random swaps every block)")
    ap.add_argument("--statarb", type=int, metavar="BLOCKS", default=None,
                    help="add the statistical-arbitrage market (stETH, a factor, two mean-reverting pairs) and mine BLOCKS of its history first")
    ap.add_argument("--binance", action="store_true",
                    help="serve a Binance stand-in whose prices lead the statistical-arbitrage market's factor (needs --statarb), and deploy the CEX–DEX inventory")
    ap.add_argument("--cow", action="store_true",
                    help="the market settles a large CoW order (a real `settle` by an allow-listed solver) every few blocks (needs --market)")
    ap.add_argument("--mirrors", type=int, default=0,
                    help="serve the same chain on this many more ports, each with its own injected faults (a second provider)")
    ap.add_argument("--parent", type=int, metavar="PID",
                    help="exit as soon as process PID is no longer this devnet's parent (it died, even by SIGKILL)")
    args = ap.parse_args(argv)
    if args.parent:
        exit_with_parent(args.parent)
    if args.statarb is not None and not args.lab:
        ap.error("--statarb adds to the lab: it needs --lab")
    if args.binance and (args.statarb is None or not args.market):
        ap.error("--binance quotes the statistical-arbitrage market's factor: it needs --statarb and --market")
    if args.cow and not args.market:
        ap.error("--cow settles orders as part of the market: it needs --market")
    if args.market and not args.lab:
        ap.error("--market trades on the lab's pools: it needs --lab")
    # A parent (Swift's Process, via libdispatch) may hand us a mask that blocks SIGTERM/SIGINT;
    # without this the devnet would outlive the test suite that started it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    node = Node(chain_id=args.chain_id)
    server = Server(node, block_time=args.block_time)
    manifest = lab = None
    if args.lab:
        from .lab import Lab
        lab = Lab(node, seed=args.seed, statarb=args.statarb is not None, binance=args.binance, cow=args.cow)
        manifest = lab.deploy_all()
        if lab.statarb and args.statarb > 0:
            lab.statarb.prehistory(args.statarb)
            manifest["statArb"]["prehistoryFrom"] = manifest["deployedAtBlock"] + 1
        manifest["rpc"] = {"http": f"http://{args.host}:{args.port}/", "ws": f"ws://{args.host}:{args.port}/"}
        if args.binance:
            args.binance_port = _free_port(args.host)
            manifest["binance"] = {"ws": f"ws://{args.host}:{args.binance_port}", "rest": f"http://{args.host}:{args.binance_port}"}
        with open(args.lab, "w") as f:
            json.dump(manifest, f, indent=1)
        if args.market:
            # Swaps go into each block as the server mines it: a market needs interval mining.
            if server.block_time <= 0:
                server.block_time = 1.0

    asyncio.run(_serve(server, lab if args.market else None, args))


async def _serve(server, market_lab, args):
    """Serves until SIGTERM/SIGINT; announces readiness only once the socket is listening."""
    runner = web.AppRunner(server.app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    server.listen(runner, site, args.host, args.port)
    mirrors = []
    for _ in range(args.mirrors):
        mirror = Server(server.node)
        mirror_runner = web.AppRunner(mirror.app, handle_signals=False, access_log=None)
        await mirror_runner.setup()
        site = web.TCPSite(mirror_runner, args.host, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        mirrors.append({"http": f"http://{args.host}:{port}/", "ws": f"ws://{args.host}:{port}/"})
    loop = asyncio.get_running_loop()
    binance = None
    if getattr(args, "binance_port", None):
        from tools.binance.standin import StandIn
        from . import cexdex
        # Four ticks a second: it shares the devnet's event loop, and the lab's prices move once a block.
        binance = StandIn(symbols=dict(cexdex.SYMBOLS), seed=args.seed, tick=0.25, source=cexdex.source(market_lab.statarb), places=cexdex.PLACES)
        binance_runner = web.AppRunner(binance.app, handle_signals=False, access_log=None)
        await binance_runner.setup()
        await web.TCPSite(binance_runner, args.host, args.binance_port).start()
        binance.start(loop)
    if market_lab is not None:
        market_lab.start_market(loop)
    print(json.dumps({"ready": True, "chainId": args.chain_id, "http": f"http://{args.host}:{args.port}/",
                      "ws": f"ws://{args.host}:{args.port}/", "mirrors": mirrors}), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if binance is not None:
        for t in binance.tasks:
            t.cancel()
    await runner.cleanup()


def _free_port(host):
    import socket
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
