"""HTTP and WebSocket JSON-RPC front end of a devnet `Node`, with fault injection."""
import asyncio
import json
import logging
import secrets

from aiohttp import WSMsgType, web

from .node import Node
from .standin import RPCError, answer


class Faults:
    """Injected failures, set through devnet_* methods (which are never themselves faulted)."""

    def __init__(self):
        self.delay_ms = 0
        self.rate_limited = 0   # answer this many next requests with a rate-limit error
        self.retry_after = None  # seconds for the 429's Retry-After header (devnet_rateLimit's second argument)
        self.extra_logs = []    # appended to the next eth_getLogs answer (devnet_injectLogs)
        self.slow_ms = 0        # answers to `slow_methods` are held back this long after they were computed
        self.slow_methods = set()
        self.failing = set()    # methods answered with an internal error until cleared (devnet_failMethods)
        self.unseen_pool = False  # this endpoint answers as a node the waiting transactions have not reached


class Server:
    def __init__(self, node: Node, block_time: float = 0.0):
        self.node = node
        self.block_time = block_time
        self._miner = None
        self.faults = Faults()
        self.sockets = set()
        self.socket_subs = {}   # socket → its subscriptions (id → (kind, filter))
        self.app = web.Application()
        self.app.router.add_post("/", self.http)
        self.app.router.add_post("/relay", self.relay)
        self.app.router.add_get("/", self.websocket)
        self.app.on_startup.append(self._start_mining)
        self._listening = None  # (runner, site, host, port): what devnet_outage stops and starts again
        self.outages = 0

    def listen(self, runner, site, host, port):
        """The site serving this node, so that an outage can take it down and bring it back."""
        self._listening = (runner, site, host, port)

    async def _outage(self, seconds):
        """A node restart as its clients see it (the chain kept): every socket closed, the port
        refusing connections for `seconds`, then served again on the same port."""
        await asyncio.sleep(0.05)  # let the answer to devnet_outage go out first
        runner, site, host, port = self._listening
        for ws in list(self.sockets):
            await ws.close()
        await site.stop()
        await asyncio.sleep(seconds)
        site = web.TCPSite(runner, host, port)
        for attempt in range(50):
            try:
                await site.start()
                break
            except OSError:
                if attempt == 49:
                    raise
                await asyncio.sleep(0.1)
        self._listening = (runner, site, host, port)
        self.outages += 1

    async def _start_mining(self, _app):
        self._set_block_time(self.block_time)

    def _set_block_time(self, seconds):
        """Interval mining every `seconds` (one miner task at most); 0 stops it (automine is separate,
        as in Hardhat: evm_setAutomine)."""
        self.block_time = seconds
        if self._miner is not None:
            self._miner.cancel()
            self._miner = None
        if seconds > 0:
            self.node.automine = False
            self._miner = asyncio.get_running_loop().create_task(self._interval_mining())

    async def _interval_mining(self):
        while True:
            await asyncio.sleep(self.block_time)
            try:
                self.node.mine()
            except Exception:  # noqa: BLE001 - a bug in one block must not stop the chain
                logging.getLogger("devnet").exception("mining a block failed")

    # ---------------------------------------------------------------- dispatch

    def _control(self, method, params):
        if method == "devnet_dropWebSockets":
            for ws in list(self.sockets):
                asyncio.get_running_loop().create_task(ws.close())
            return True
        if method == "devnet_outage":
            # The server down for params[0] seconds (sockets closed, connections refused), then back.
            if self._listening is None:
                raise RPCError(-32601, "devnet_outage needs the devnet's own server")
            asyncio.get_running_loop().create_task(self._outage(float(params[0])))
            return True
        if method == "devnet_slowAnswers":
            # A slow way back: the node answers at once, the answer arrives later (it describes
            # the chain as it was when it was asked).
            self.faults.slow_ms = int(params[0])
            self.faults.slow_methods = set(params[1]) if len(params) > 1 else set()
            return True
        if method == "devnet_setDelay":
            self.faults.delay_ms = int(params[0])
            return True
        if method == "devnet_rateLimit":
            self.faults.rate_limited = int(params[0])
            self.faults.retry_after = int(params[1]) if len(params) > 1 else None
            return True
        if method == "devnet_injectFrames":
            # Raw text frames to every open socket; "{newHeads}" stands for that socket's newHeads
            # subscription id, so a malformed notification reaches a live subscription. Answers how
            # many sockets had one (a frame for a socket without one names no subscription).
            subscribed = 0
            for ws in list(self.sockets):
                sid = next((k for k, (kind, _) in self.socket_subs.get(ws, {}).items() if kind == "newHeads"), None)
                subscribed += sid is not None
                for text in params[0]:
                    asyncio.get_running_loop().create_task(ws.send_str(text.replace("{newHeads}", sid or "0x0")))
            return subscribed
        if method == "devnet_injectLogs":
            # Log objects the next eth_getLogs answer carries after the node's own; "auto" in
            # blockNumber/blockHash means the last block the query covers.
            self.faults.extra_logs = list(params[0])
            return True
        if method == "devnet_failMethods":
            # Reads that fail (the node answers an internal error) until called again without them.
            self.faults.failing = set(params[0]) if params else set()
            return True
        if method == "devnet_unseenPool":
            # This endpoint answers as a node the waiting transactions have not reached yet (a
            # provider behind the one they were sent to): eth_getTransactionByHash null for them,
            # and the pending transaction count the latest. Its own server only (a mirror's is its own).
            self.faults.unseen_pool = bool(params[0]) if params else True
            return True
        if method == "devnet_dropBundles":
            self.node.drop_bundles = int(params[0])
            return True
        if method == "evm_setIntervalMining":
            self._set_block_time(int(params[0]) / 1000)
            return True
        return None

    def _one(self, req, sub_handler=None):
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
            return {"jsonrpc": "2.0", "id": req.get("id") if isinstance(req, dict) else None,
                    "error": {"code": -32600, "message": "invalid request"}}
        rid, method, params = req.get("id"), req["method"], req.get("params", [])
        if not isinstance(params, list):
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "params must be an array"}}
        def compute():
            control = self._control(method, params)
            if control is not None:
                return control
            if method in self.faults.failing:
                raise RPCError(-32603, f"injected failure of {method}")
            if method in ("eth_subscribe", "eth_unsubscribe"):
                if sub_handler is None:
                    raise RPCError(-32601, "notifications not supported over HTTP; use a WebSocket")
                return sub_handler(method, params)
            unseen = self.faults.unseen_pool and method == "eth_getTransactionCount" and params[1:] == ["pending"]
            result = self.node.call(method, [params[0], "latest"] if unseen else params)
            if self.faults.unseen_pool and method == "eth_getTransactionByHash" and params \
                    and any(w["hash"] == str(params[0]).lower() for w in self.node.txpool.values()):
                return None
            if method == "eth_getLogs" and self.faults.extra_logs:
                result = result + self._extra_logs(params[0])
            return result
        return answer(rid, compute)

    def _extra_logs(self, flt):
        extra, self.faults.extra_logs = self.faults.extra_logs, []
        head = self.node.latest_number()
        to = flt.get("toBlock", "latest")
        n = min(head, int(to, 16)) if isinstance(to, str) and to.startswith("0x") else head
        block_hash = self.node.t.get_block_by_number(n)["hash"]
        block_hash = block_hash if isinstance(block_hash, str) else "0x" + block_hash.hex()
        out = []
        for log in extra:
            log = dict(log)
            if log.get("blockNumber") == "auto":
                log["blockNumber"] = hex(n)
            if log.get("blockHash") == "auto":
                log["blockHash"] = block_hash
            out.append(log)
        return out

    def _handle(self, body, sub_handler=None):
        if isinstance(body, list):
            if not body:
                return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "empty batch"}}
            return [self._one(r, sub_handler) for r in body]
        return self._one(body, sub_handler)

    @staticmethod
    def _is_control(body):
        reqs = body if isinstance(body, list) else [body]
        return all(isinstance(r, dict) and str(r.get("method", "")).startswith(("devnet_", "evm_")) for r in reqs)

    async def _faults_for(self, body):
        """None to proceed, or the rate-limit error to answer with."""
        if self._is_control(body):
            return None
        if self.faults.delay_ms:
            await asyncio.sleep(self.faults.delay_ms / 1000)
        if self.faults.rate_limited > 0:
            self.faults.rate_limited -= 1
            return {"code": -32005, "message": "rate limit exceeded"}
        return None

    # ---------------------------------------------------------------- HTTP

    async def http(self, request):
        try:
            body = json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
        limited = await self._faults_for(body)
        if limited:
            headers = {"Retry-After": str(self.faults.retry_after)} if self.faults.retry_after is not None else None
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": limited}, status=429, headers=headers)
        answer = self._handle(body)
        await self._slow_answer(body)
        return web.json_response(answer)

    async def _slow_answer(self, body):
        """Holds an answer back when devnet_slowAnswers names one of the request's methods."""
        if self.faults.slow_ms and any(isinstance(r, dict) and r.get("method") in self.faults.slow_methods
                                       for r in (body if isinstance(body, list) else [body])):
            await asyncio.sleep(self.faults.slow_ms / 1000)

    # ---------------------------------------------------------------- Flashbots relay

    RELAY_METHODS = ("eth_sendBundle", "eth_callBundle")

    async def relay(self, request):
        """A Flashbots-style relay: eth_sendBundle and eth_callBundle only, each request signed in
        `X-Flashbots-Signature: <address>:<sig>` (EIP-191 over "0x" + hex keccak256 of the exact body)."""
        from eth_account import Account
        from eth_account.messages import encode_defunct
        from eth_utils import keccak

        raw = await request.read()
        header = request.headers.get("X-Flashbots-Signature", "")
        address, _, signature = header.partition(":")
        try:
            signer = Account.recover_message(encode_defunct(text="0x" + keccak(raw).hex()), signature=signature)
        except Exception:
            signer = None
        if signer is None or signer.lower() != address.lower():
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid flashbots signature"}}, status=403)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
        reqs = body if isinstance(body, list) else [body]
        if not all(isinstance(r, dict) and r.get("method") in self.RELAY_METHODS for r in reqs):
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": -32601, "message": "the relay serves eth_sendBundle and eth_callBundle"}})
        limited = await self._faults_for(body)
        if limited:
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": limited}, status=429)
        self.node.relay_signer = signer.lower()
        try:
            answer = self._handle(body)
        finally:
            self.node.relay_signer = None
        await self._slow_answer(body)
        return web.json_response(answer)

    # ---------------------------------------------------------------- WebSocket

    async def websocket(self, request):
        ws = web.WebSocketResponse(heartbeat=None)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="POST JSON-RPC here, or open a WebSocket")
        await ws.prepare(request)
        self.sockets.add(ws)
        outbox: asyncio.Queue = asyncio.Queue()
        subs = {}
        self.socket_subs[ws] = subs

        def listener(kind, payload):
            from .node import matches
            for sid, (sub_kind, flt) in list(subs.items()):
                if sub_kind == kind and (kind != "logs" or matches(payload, flt)):
                    if kind == "newPendingTransactions":  # the hash, or (with `true`) the transaction
                        payload_for = payload if flt.get("full") else payload["hash"]
                    else:
                        payload_for = payload
                    outbox.put_nowait({"jsonrpc": "2.0", "method": "eth_subscription",
                                       "params": {"subscription": sid, "result": payload_for}})

        def sub_handler(method, params):
            if method == "eth_unsubscribe":
                return subs.pop(params[0], None) is not None
            kind = params[0] if params else None
            if kind not in ("newHeads", "logs", "newPendingTransactions"):
                raise RPCError(-32602, f"unsupported subscription {kind!r}")
            sid = "0x" + secrets.token_hex(16)
            if kind == "newPendingTransactions":  # geth: a second parameter `true` asks for full transactions
                subs[sid] = (kind, {"full": len(params) > 1 and params[1] is True})
                listener.wants_pending = True
            else:
                subs[sid] = (kind, params[1] if len(params) > 1 and isinstance(params[1], dict) else {})
            return sid

        async def writer():
            while True:
                msg = await outbox.get()
                if ws.closed:
                    return
                await ws.send_str(json.dumps(msg))

        self.node.listeners.append(listener)
        task = asyncio.get_running_loop().create_task(writer())
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    body = json.loads(msg.data)  # clients such as web3.py send binary frames
                except (json.JSONDecodeError, UnicodeDecodeError):
                    await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}))
                    continue
                limited = await self._faults_for(body)
                if limited:
                    rid = body.get("id") if isinstance(body, dict) else None
                    await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": rid, "error": limited}))
                    continue
                # The reply goes through the same queue as notifications, so a subscription's id
                # always reaches the client before its first notification.
                outbox.put_nowait(self._handle(body, sub_handler))
        finally:
            self.node.listeners.remove(listener)
            self.sockets.discard(ws)
            self.socket_subs.pop(ws, None)
            task.cancel()
        return ws
