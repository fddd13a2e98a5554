"""A stand-in for Binance spot market data on loopback, speaking its exact wire format.

WebSocket `/stream?streams=<s1>/<s2>` (combined streams: `<sym>@bookTicker`, `<sym>@aggTrade`,
`<sym>@depth5|10|20[@100ms|@1000ms]`, wrapped as `{"stream":…,"data":…}`), the control methods
(SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS) and REST `/api/v3/depth`, `/api/v3/ticker/bookTicker`,
`/api/v3/aggTrades`. It enforces what Binance enforces (pong with the ping's payload within the
deadline, at most 5 incoming messages per second, at most 1,024 streams per connection, a maximum
connection age) and records every breach.

Prices are a seeded random walk per symbol (or, in the lab, follow a price source with a lead).
Misbehaviour on demand (`POST /_standin/chaos {"action": …}`) or on a seeded schedule
(`--chaos-every S`): `drop` (abort a socket), `shutdown` (serverShutdown, then close after a
grace), `stall` (a connection goes silent, pings included), `skip` (trades a connection never
sees, so aggregate-trade ids jump), `malformed` (frames that break the format), `latePings` (no
pings for a while), `freeze` (a book stops while its trades go on). `GET /_standin/log` tells what was published and what happened, so that a
test can compare the client's view with the truth.

Time can be compressed (`--scale 10`: every documented interval divided by 10)."""
import asyncio
import json
import random
import time
from decimal import Decimal, ROUND_HALF_EVEN

from aiohttp import WSMsgType, web

DEFAULT_SYMBOLS = {"ETHUSDT": 3000.0, "BTCUSDT": 60000.0, "USDCUSDT": 1.0}
STREAM_KINDS = ("bookTicker", "aggTrade")
DEPTH_KINDS = {f"depth{n}{s}" for n in (5, 10, 20) for s in ("", "@100ms", "@1000ms")}


def q(x, places=2):
    return str(Decimal(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


class Symbol:
    def __init__(self, name, price, rng, places=2):
        self.name = name
        self.mid = price
        self.places = places
        self.tick = 10 ** -places
        self.rng = rng
        self.book_id = 1000
        self.agg_id = 0
        self.trade_id = 0
        self.trades = []  # every aggregate trade published: (id, price, qty, first, last, time ms, maker)
        self.tops = []  # (monotonic time, bid, ask) of every top of book published
        self.bid = self.ask = None

    def step(self, vol, source=None):
        if source is not None:
            self.mid = source
        else:
            self.mid *= 1.0 + self.rng.gauss(0.0, vol)
        half = max(self.tick, self.mid * 0.0001)
        self.bid = q(self.mid - half, self.places)
        self.ask = q(self.mid + half, self.places)
        if Decimal(self.bid) >= Decimal(self.ask):
            self.ask = q(Decimal(self.bid) + Decimal(self.tick).quantize(Decimal(1).scaleb(-self.places)), self.places)
        self.book_id += self.rng.randint(1, 5)
        self.tops.append((time.monotonic(), self.bid, self.ask))
        if len(self.tops) > 20000:
            del self.tops[:10000]

    def new_trades(self):
        out = []
        for _ in range(self.rng.randint(0, 2)):
            self.agg_id += 1
            n = self.rng.randint(1, 3)
            first = self.trade_id + 1
            self.trade_id += n
            maker = self.rng.random() < 0.5
            t = (self.agg_id, self.bid if maker else self.ask, q(self.rng.uniform(0.001, 2.0), 8), first, self.trade_id,
                 int(time.time() * 1000), maker)
            self.trades.append(t)
            out.append(t)
        return out

    def book_ticker(self):
        return {"u": self.book_id, "s": self.name, "b": self.bid, "B": q(self.rng.uniform(1, 20), 8), "a": self.ask,
                "A": q(self.rng.uniform(1, 20), 8)}

    def depth(self, n=20):
        bid, ask = Decimal(self.bid), Decimal(self.ask)
        step = Decimal(self.tick).quantize(Decimal(1).scaleb(-self.places))
        return {"lastUpdateId": self.book_id,
                "bids": [[q(bid - i * step, self.places), q(1 + i * 0.5, 8)] for i in range(n)],
                "asks": [[q(ask + i * step, self.places), q(1 + i * 0.5, 8)] for i in range(n)]}


def agg_json(sym, t):
    aid, price, qty, first, last, ms, maker = t
    return {"e": "aggTrade", "E": ms, "s": sym, "a": aid, "p": price, "q": qty, "f": first, "l": last, "T": ms, "m": maker, "M": True}


class Connection:
    def __init__(self, cid, ws, streams):
        self.id = cid
        self.ws = ws
        self.streams = set(streams)
        self.opened = time.monotonic()
        self.stalled_until = 0.0
        self.skip = 0
        self.pending_ping = None  # (payload, sent at)
        self.incoming = []  # times of incoming messages
        self.closed = False
        self.shutdown_sent = None


class StandIn:
    def __init__(self, symbols=None, seed=1, scale=1.0, tick=0.05, vol=0.0005, chaos_every=0.0, source=None, places=None):
        self.rng = random.Random(seed)
        self.scale = scale
        self.tick = tick
        self.vol = vol
        self.source = source  # callable: symbol -> price (the lab's lead), or None
        places = places or {"USDCUSDT": 4}
        self.symbols = {s: Symbol(s, p, random.Random(seed * 1000 + i), places.get(s, 2))
                        for i, (s, p) in enumerate((symbols or DEFAULT_SYMBOLS).items())}
        self.conns = {}
        self.next_id = 1
        self.ping_every = 20.0 / scale
        self.pong_deadline = 60.0 / scale
        self.max_age = 24 * 3600.0 / scale
        self.shutdown_grace = 600.0 / scale
        self.late_pings_until = 0.0
        self.frozen_until = {}  # symbol → time its book stops being sent until (trades go on)
        self.chaos_every = chaos_every
        self.log = {"connections": 0, "violations": [], "closedByServer": {}, "malformedSent": 0, "framesSent": 0,
                    "chaos": [], "shutdownLeftEarly": 0, "shutdownForced": 0, "pongs": 0, "skippedTrades": 0}
        self.app = web.Application()
        self.app.router.add_get("/stream", self.stream)
        self.app.router.add_get("/api/v3/depth", self.rest_depth)
        self.app.router.add_get("/api/v3/ticker/bookTicker", self.rest_ticker)
        self.app.router.add_get("/api/v3/aggTrades", self.rest_agg)
        self.app.router.add_get("/_standin/log", self.get_log)
        self.app.router.add_post("/_standin/chaos", self.post_chaos)
        self.tasks = []
        for s in self.symbols.values():
            s.step(0.0, self.source(s.name) if self.source else None)

    # --- streams -------------------------------------------------------------------------------
    def parse_streams(self, text):
        names = [s for s in text.split("/") if s]
        out = []
        for n in names:
            sym, _, kind = n.partition("@")
            if sym.upper() not in self.symbols or not (kind in STREAM_KINDS or kind in DEPTH_KINDS):
                return None, n
            out.append(n)
        return out, None

    async def stream(self, request):
        streams, bad = self.parse_streams(request.query.get("streams", ""))
        if streams is None:
            return web.json_response({"code": -1121, "msg": f"Invalid symbol or stream: {bad}"}, status=400)
        if len(streams) > 1024:
            self.log["violations"].append("more than 1024 streams")
            return web.json_response({"code": -1, "msg": "too many streams"}, status=400)
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 16)
        await ws.prepare(request)
        cid = self.next_id
        self.next_id += 1
        self.log["connections"] += 1
        c = Connection(cid, ws, streams)
        self.conns[cid] = c
        try:
            async for msg in ws:
                now = time.monotonic()
                c.incoming = [t for t in c.incoming if now - t < 1.0] + [now]
                if len(c.incoming) > 5:
                    self.log["violations"].append(f"connection {cid}: more than 5 incoming messages in a second")
                    await self.close(c, "rate")
                    break
                if msg.type == WSMsgType.PONG:
                    if c.pending_ping and msg.data == c.pending_ping[0]:
                        c.pending_ping = None
                        self.log["pongs"] += 1
                    elif c.pending_ping:
                        self.log["violations"].append(f"connection {cid}: pong payload differs from the ping's")
                elif msg.type == WSMsgType.TEXT:
                    await self.control(c, msg.data)
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            c.closed = True
            if c.shutdown_sent is not None:
                self.log["shutdownLeftEarly"] += 1
            self.conns.pop(cid, None)
        return ws

    async def control(self, c, text):
        try:
            req = json.loads(text)
            method, rid = req["method"], req["id"]
        except (ValueError, KeyError, TypeError):
            await self.send(c, {"code": 2, "msg": "Invalid request", "id": None})
            return
        params = req.get("params", [])
        if method == "SUBSCRIBE":
            streams, bad = self.parse_streams("/".join(params))
            if streams is None:
                await self.send(c, {"code": 2, "msg": f"Invalid request: unknown stream {bad}", "id": rid})
                return
            c.streams.update(streams)
            await self.send(c, {"result": None, "id": rid})
        elif method == "UNSUBSCRIBE":
            c.streams.difference_update(params)
            await self.send(c, {"result": None, "id": rid})
        elif method == "LIST_SUBSCRIPTIONS":
            await self.send(c, {"result": sorted(c.streams), "id": rid})
        else:
            await self.send(c, {"code": 2, "msg": "Invalid request: unknown method", "id": rid})

    async def send(self, c, obj=None, raw=None):
        """True when the frame went out (not to a closed or stalled connection)."""
        if c.closed or time.monotonic() < c.stalled_until:
            return False
        try:
            await c.ws.send_str(raw if raw is not None else json.dumps(obj, separators=(",", ":")))
            self.log["framesSent"] += 1
            return True
        except (ConnectionError, RuntimeError):
            c.closed = True
            return False

    async def close(self, c, why, abort=False):
        if c.closed:
            return
        c.closed = True
        self.log["closedByServer"][why] = self.log["closedByServer"].get(why, 0) + 1
        try:
            if abort:
                c.ws._writer.transport.abort() if c.ws._writer else None
            else:
                await c.ws.close(message=why.encode())
        except Exception:
            pass

    # --- the market ----------------------------------------------------------------------------
    async def market(self):
        last_depth = 0.0
        while True:
            await asyncio.sleep(self.tick)
            now = time.monotonic()
            for s in self.symbols.values():
                s.step(self.vol, self.source(s.name) if self.source else None)
                trades = s.new_trades()
                frozen = now < self.frozen_until.get(s.name, 0.0)
                for c in list(self.conns.values()):
                    key = s.name.lower()
                    if f"{key}@bookTicker" in c.streams and not frozen:
                        await self.send(c, {"stream": f"{key}@bookTicker", "data": s.book_ticker()})
                    if f"{key}@aggTrade" in c.streams:
                        for t in trades:
                            if c.skip > 0:
                                c.skip -= 1
                                self.log["skippedTrades"] += 1
                                continue
                            await self.send(c, {"stream": f"{key}@aggTrade", "data": agg_json(s.name, t)})
                    if now - last_depth >= max(0.1, self.tick) and not frozen:
                        for kind in [k for k in c.streams if k.startswith(f"{key}@depth")]:
                            n = int(kind.split("@")[1][5:])
                            await self.send(c, {"stream": kind, "data": s.depth(n)})
            if now - last_depth >= max(0.1, self.tick):
                last_depth = now

    async def heartbeat(self):
        while True:
            await asyncio.sleep(min(self.ping_every, 1.0) / 4)
            now = time.monotonic()
            for c in list(self.conns.values()):
                if c.closed:
                    continue
                if now - c.opened > self.max_age:
                    await self.close(c, "maxAge")
                    continue
                if c.shutdown_sent is not None and now - c.shutdown_sent > self.shutdown_grace:
                    self.log["shutdownForced"] += 1
                    c.shutdown_sent = None
                    await self.close(c, "shutdown")
                    continue
                if c.pending_ping and now - c.pending_ping[1] > self.pong_deadline:
                    self.log["violations"].append(f"connection {c.id}: no pong within {self.pong_deadline:.1f} s")
                    await self.close(c, "pongDeadline")
                    continue
                if now < self.late_pings_until or now < c.stalled_until:
                    continue
                if c.pending_ping is None and now - getattr(c, "last_ping", c.opened) >= self.ping_every:
                    payload = str(int(time.time() * 1000) + c.id).encode()
                    c.pending_ping = (payload, now)
                    c.last_ping = now
                    try:
                        await c.ws.ping(payload)
                    except (ConnectionError, RuntimeError):
                        c.closed = True

    async def chaos_schedule(self):
        # Rounds of every kind in a seeded order, so that a run of a few rounds meets each one.
        while True:
            actions = ["drop", "shutdown", "stall", "skip", "malformed", "latePings", "freeze"]
            self.rng.shuffle(actions)
            for action in actions:
                await asyncio.sleep(self.chaos_every * self.rng.uniform(0.5, 1.5))
                await self.chaos(action)

    async def chaos(self, action, target=None):
        live = [c for c in self.conns.values() if not c.closed]
        self.log["chaos"].append(action)
        if not live:
            return {"action": action, "connections": 0}
        c = live[0] if target is None else self.conns.get(target, live[0])
        if action == "drop":
            await self.close(c, "drop", abort=True)
        elif action == "shutdown":
            for x in live:
                x.shutdown_sent = time.monotonic()
                await self.send(x, {"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": int(time.time() * 1000)}})
        elif action == "stall":
            c.stalled_until = time.monotonic() + 120.0 / self.scale
        elif action == "skip":
            c.skip += 3
        elif action == "malformed":
            for raw in MALFORMED:
                if await self.send(c, raw=raw):
                    self.log["malformedSent"] += 1
        elif action == "latePings":
            self.late_pings_until = time.monotonic() + 45.0 / self.scale
        elif action == "freeze":
            # The first symbol's book stops while its trades go on: a frozen book.
            self.frozen_until[next(iter(self.symbols))] = time.monotonic() + 80.0 / self.scale
        return {"action": action, "connection": c.id}

    # --- REST ----------------------------------------------------------------------------------
    def symbol(self, request):
        s = self.symbols.get(request.query.get("symbol", "").upper())
        if s is None:
            raise web.HTTPBadRequest(text=json.dumps({"code": -1121, "msg": "Invalid symbol."}), content_type="application/json")
        return s

    async def rest_depth(self, request):
        s = self.symbol(request)
        return web.json_response(s.depth(min(int(request.query.get("limit", "100")), 20)))

    async def rest_ticker(self, request):
        s = self.symbol(request)
        t = s.book_ticker()
        return web.json_response({"symbol": s.name, "bidPrice": t["b"], "bidQty": t["B"], "askPrice": t["a"], "askQty": t["A"]})

    async def rest_agg(self, request):
        s = self.symbol(request)
        start = int(request.query.get("fromId", "0"))
        limit = min(int(request.query.get("limit", "500")), 1000)
        rows = [t for t in s.trades if t[0] >= start][:limit]
        return web.json_response([{k: v for k, v in agg_json(s.name, t).items() if k not in ("e", "E", "s")} for t in rows])

    async def get_log(self, request):
        now = time.monotonic()
        out = dict(self.log)
        out["live"] = sum(1 for c in self.conns.values() if not c.closed)
        out["symbols"] = {n: {"lastAggId": s.agg_id, "trades": len(s.trades), "bid": s.bid, "ask": s.ask,
                              "tops": [[round(now - t, 4), b, a] for t, b, a in s.tops[-int(request.query.get("tops", "0")):]]
                              if request.query.get("tops") else []}
                          for n, s in self.symbols.items()}
        return web.json_response(out)

    async def post_chaos(self, request):
        body = await request.json()
        return web.json_response(await self.chaos(body["action"], body.get("connection")))

    def start(self, loop):
        self.tasks = [loop.create_task(self.market()), loop.create_task(self.heartbeat())]
        if self.chaos_every > 0:
            self.tasks.append(loop.create_task(self.chaos_schedule()))


MALFORMED = [
    "not json",
    '{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT","b":"1.0","B":"1","a":"0.5","A":"1"}}',  # crossed
    '{"stream":"ethusdt@bookTicker","data":{"u":"x","s":"ETHUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}',  # wrong type
    '{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"ETHUSDT","a":1,"p":"-1","q":"1","f":1,"l":1,"T":1,"m":true}}',
    '{"stream":"dogeusdt@bookTicker","data":{}}',  # not subscribed
    '{"stream":"ethusdt@kline_1m","data":{}}',  # unknown stream kind
    '{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}',  # symbol mismatch
    '{"stream":"ethusdt@depth20@100ms","data":{"lastUpdateId":1,"bids":[["1.0"]],"asks":[]}}',  # truncated level
    '{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT"',  # truncated
]
