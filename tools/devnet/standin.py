"""What the loopback stand-ins share (the devnet, the Binance and Solana stand-ins): JSON-RPC
errors and the spec's answer envelope, and serving an aiohttp app until SIGTERM or SIGINT with
a one-line `{"ready": true, …}` announcement on standard output."""
import asyncio
import json
import signal


class RPCError(Exception):
    """A JSON-RPC error to answer with: its code, message and optional data."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def answer(rid, compute):
    """The JSON-RPC answer to request `rid`: `compute()`'s result, its RPCError, or any other
    exception as an internal error (a stand-in answers; it never dies of a request)."""
    try:
        return {"jsonrpc": "2.0", "id": rid, "result": compute()}
    except RPCError as e:
        err = {"code": e.code, "message": e.message}
        if e.data is not None:
            err["data"] = e.data
        return {"jsonrpc": "2.0", "id": rid, "error": err}
    except Exception as e:  # noqa: BLE001 - a bug or an unexpected input: answer, never die
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": f"internal error: {type(e).__name__}: {e}"}}


async def serve(app, host, port, start, ready, stop_tasks=()):
    """Serves `app` on host:port (0: a free port); `start(loop)` once listening; prints
    `ready(port)` (a dict, to which `"ready": true` is added) as one JSON line; runs until SIGTERM
    or SIGINT, then cancels `stop_tasks()` and closes."""
    from aiohttp import web
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    start(loop)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps(dict({"ready": True}, **ready(bound))), flush=True)
    await stop.wait()
    for t in (stop_tasks() if callable(stop_tasks) else stop_tasks):
        t.cancel()
    await runner.cleanup()
