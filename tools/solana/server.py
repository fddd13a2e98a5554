"""The Solana stand-in on loopback: a cluster's JSON-RPC (HTTP) and subscriptions (WebSocket) on one
port, and a Jito block engine (`/api/v1/bundles`, `/api/v1/transactions`) beside them, all over
the `Bank`. Slots advance on a timer; sent transactions and bundles execute at the next slot
(a bundle all or nothing, in order); statuses go processed → confirmed (one slot on) → finalized
(32 on). Faults are set with `standin_fault` on the RPC endpoint: rate limits (429), dropped
bundles, a block engine outage, an expired blockhash."""
import asyncio
import base64
import hashlib
import json
import logging
import random

from aiohttp import web, WSMsgType
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from tools.devnet.standin import RPCError, answer

from .bank import CLOCK, SYSTEM, Account, Bank, TokenAccount, TxError, rent_exempt

TIP_ACCOUNTS = [Pubkey.from_string(k) for k in (
    "96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5", "HFqU5x63VTqvQss8hp11i4wVV8bD44PvwucfZ2bU7gRe",
    "Cw8CFyM9FkoMi7K7Crf6HNQqf4uEMzpKw6QNghXLvLkY", "ADaUMid9yfUytqMBgopwjb2DTLSokTSzL1zt6iGPaS49",
    "DfXygSm4jCyNCybVYYK6DwvWqjKee8pbDmJGcLWNDXjh", "ADuUkR4vqLUMWXxW9gh6D6L8pMSawimctcNZ5pGwDcEt",
    "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL", "3AVi9Tg9Uo68tJfuvoKvqKNWKkC5wPdSSdeBnizKZ6jT")]
MIN_TIP = 1_000
MAX_BUNDLE = 5
CONFIRMED_AFTER, FINALIZED_AFTER = 1, 32


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text):
    """Base58 text to bytes (leading '1's are zero bytes); None when it is not base58."""
    if not isinstance(text, str) or any(c not in B58 for c in text):
        return None
    n = 0
    for c in text:
        n = n * 58 + B58.index(c)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + body


def decode_tx(text, encoding="base64"):
    try:
        raw = base64.b64decode(text, validate=True) if encoding == "base64" else None
        if raw is None:
            raise RPCError(-32602, f"unsupported encoding: {encoding}")
        if len(raw) > 1232:
            raise RPCError(-32602, f"transaction too large: {len(raw)} bytes (max 1232)")
        return VersionedTransaction.from_bytes(raw)
    except RPCError:
        raise
    except Exception as e:  # noqa: BLE001 - any undecodable input is the caller's error
        raise RPCError(-32602, f"failed to deserialize transaction: {e}") from None


def tip_of(tx, bank):
    """Lamports the transaction's System transfers send to Jito tip accounts."""
    keys, _ = bank.resolve(tx)
    total = 0
    for ix in tx.message.instructions:
        d = bytes(ix.data)
        if keys[ix.program_id_index] == SYSTEM and len(d) == 12 and d[:4] == b"\x02\x00\x00\x00":
            accts = bytes(ix.accounts)
            if len(accts) >= 2 and keys[accts[1]] in TIP_ACCOUNTS:
                total += int.from_bytes(d[4:], "little")
    return total


class StandIn:
    def __init__(self, bank: Bank | None = None, slot_ms: int = 400, seed: int = 1):
        self.bank = bank or Bank()
        for t in TIP_ACCOUNTS:
            self.bank.accounts.setdefault(t, Account(rent_exempt(0)))
        self.slot_ms = slot_ms
        self.rng = random.Random(seed)
        self.queue = []          # transactions to execute at the next slot
        self.bundles = []        # (id, [tx]) to execute at the next slot
        self.bundle_status = {}  # id → {"status", "landed_slot", "signatures", "err"}
        self.faults = {"rateLimit": 0, "dropBundles": 0, "engineDown": False, "bundleRateLimit": 0, "staleBlockhash": 0}
        self.subs = {}           # subscription id → (ws, kind, filter)
        self.next_sub = 1
        self.on_slot = []        # callbacks after each slot (a market driver)
        self.app = web.Application()
        self.app.router.add_post("/", self.http)
        self.app.router.add_get("/", self.websocket)
        self.app.router.add_post("/api/v1/bundles", self.engine)
        self.app.router.add_post("/api/v1/transactions", self.engine)
        self.app.router.add_get("/api/v1/bundles/tip_floor", self.tip_floor)
        self.landed_tips = []    # lamports each landed bundle tipped (the tip floor's sample)
        self._ticker = None

    def start(self, loop):
        self._ticker = loop.create_task(self._tick())

    async def _tick(self):
        while True:
            await asyncio.sleep(self.slot_ms / 1000)
            try:
                self.step()
            except Exception:  # noqa: BLE001 - a bug in one slot must not stop the cluster
                logging.getLogger("solana").exception("slot failed")

    # ------------------------------------------------------------------ slots

    def step(self):
        """One slot: queued transactions, then bundles (each atomic), then the clock."""
        touched = set()
        for tx in self.queue:
            try:
                out = self.bank.execute(tx)
                touched.update(out.writable)
            except TxError:
                pass  # dropped, as a leader drops what cannot be processed
        self.queue = []
        for bid, txs in self.bundles:
            touched.update(self._land_bundle(bid, txs))
        self.bundles = []
        for cb in self.on_slot:
            touched.update(cb(self) or [])
        self.bank.advance()
        touched.add(str(CLOCK))  # the Clock sysvar changes every slot
        self._notify(touched)

    def _land_bundle(self, bid, txs):
        saved = (dict(self.bank.accounts), dict(self.bank.statuses), {k: list(v) for k, v in self.bank.fees_by_slot.items()})
        touched = []
        for tx in txs:
            try:
                out = self.bank.execute(tx)
            except TxError as e:
                out = None
                err = e.err
            else:
                err = out.err
            if err is not None:
                self.bank.accounts, self.bank.statuses, self.bank.fees_by_slot = saved
                self.bundle_status[bid].update(status="Failed", err=err)
                return []
            touched += out.writable
        self.bundle_status[bid].update(status="Landed", landed_slot=self.bank.slot)
        self.landed_tips.append(sum(tip_of(tx, self.bank) for tx in txs))
        return touched

    # ------------------------------------------------------------------ JSON-RPC

    def call(self, method, params):
        f = getattr(self, "rpc_" + method, None)
        if f is None:
            raise RPCError(-32601, f"Method not found: {method}")
        if not isinstance(params, list):
            raise RPCError(-32602, "params must be an array")
        try:
            return f(*params)
        except TypeError as e:
            raise RPCError(-32602, f"Invalid params: {e}") from None

    def context(self, value):
        return {"context": {"apiVersion": "2.2.0", "slot": self.bank.slot}, "value": value}

    @staticmethod
    def key(text):
        try:
            return Pubkey.from_string(text)
        except Exception:  # noqa: BLE001
            raise RPCError(-32602, f"Invalid param: {text!r} is not a public key") from None

    def rpc_getHealth(self):
        return "ok"

    def rpc_getVersion(self):
        return {"solana-core": "2.2.0-standin", "feature-set": 0}

    def rpc_getSlot(self, config=None):
        return self.bank.slot

    def rpc_getBlockHeight(self, config=None):
        return self.bank.block_height

    def rpc_getLatestBlockhash(self, config=None):
        if self.faults["staleBlockhash"] > 0:
            # A lagging node's answer: a blockhash the cluster no longer accepts, its height claim unchanged.
            self.faults["staleBlockhash"] -= 1
            return self.context({"blockhash": str(Hash(hashlib.sha256(b"stale " + bytes(self.bank.latest_hash)).digest())),
                                 "lastValidBlockHeight": self.bank.block_height + 150})
        h = str(self.bank.latest_hash)
        return self.context({"blockhash": h, "lastValidBlockHeight": self.bank.blockhashes[h]})

    def rpc_isBlockhashValid(self, blockhash, config=None):
        return self.context(blockhash in self.bank.blockhashes)

    def rpc_getBalance(self, key, config=None):
        a = self.bank.get(self.key(key))
        return self.context(a.lamports if a else 0)

    def rpc_getAccountInfo(self, key, config=None):
        self._encoding(config)
        a = self.bank.get(self.key(key))
        return self.context(a.json() if a else None)

    def rpc_getProgramAccounts(self, program, config=None):
        """Every account `program` owns passing all `filters` (dataSize; memcmp with base58 bytes), as
        {pubkey, account}; the list alone, or with the context when `withContext`."""
        self._encoding(config)
        config = config or {}
        owner = self.key(program)
        filters = config.get("filters", [])
        if not isinstance(filters, list) or len(filters) > 4:
            raise RPCError(-32602, "Invalid params: at most 4 filters")
        tests = []
        for f in filters:
            if not isinstance(f, dict) or len(f) != 1:
                raise RPCError(-32602, "Invalid params: a filter is {dataSize} or {memcmp}")
            if "dataSize" in f and isinstance(f["dataSize"], int):
                tests.append(lambda d, n=f["dataSize"]: len(d) == n)
            elif "memcmp" in f and isinstance(f["memcmp"], dict) and isinstance(f["memcmp"].get("offset"), int):
                wanted = b58decode(f["memcmp"].get("bytes"))
                if wanted is None:
                    raise RPCError(-32602, "Invalid params: memcmp bytes are not base58")
                o = f["memcmp"]["offset"]
                tests.append(lambda d, o=o, w=wanted: d[o:o + len(w)] == w)
            else:
                raise RPCError(-32602, "Invalid params: a filter is {dataSize} or {memcmp}")
        found = [{"pubkey": str(k), "account": a.json()} for k, a in sorted(self.bank.accounts.items(), key=lambda kv: str(kv[0]))
                 if a.owner == owner and all(t(a.data) for t in tests)]
        return self.context(found) if config.get("withContext") else found

    def rpc_getMultipleAccounts(self, keys, config=None):
        self._encoding(config)
        if not isinstance(keys, list) or len(keys) > 100:
            raise RPCError(-32602, "Invalid params: at most 100 keys")
        return self.context([(a.json() if (a := self.bank.get(self.key(k))) else None) for k in keys])

    @staticmethod
    def _encoding(config):
        enc = (config or {}).get("encoding", "base64") if isinstance(config, dict) else "base64"
        if enc != "base64":
            raise RPCError(-32602, f"this stand-in serves base64 account data only, not {enc}")

    def rpc_getMinimumBalanceForRentExemption(self, size, config=None):
        return rent_exempt(int(size))

    def rpc_getTokenAccountBalance(self, key, config=None):
        t = TokenAccount.read(self.bank.get(self.key(key)))
        if t is None:
            raise RPCError(-32602, "Invalid param: not a Token account")
        return self.context({"amount": str(t.amount), "decimals": self.bank.get(t.mint).data[44], "uiAmountString": str(t.amount)})

    def rpc_getRecentPrioritizationFees(self, keys=None):
        wanted = set(keys or [])
        out = []
        for slot in sorted(self.bank.fees_by_slot)[-150:]:
            prices = [p for p, w in self.bank.fees_by_slot[slot] if not wanted or wanted & set(w)]
            out.append({"slot": slot, "prioritizationFee": min(prices) if prices else 0})
        return out

    def rpc_getSignatureStatuses(self, sigs, config=None):
        if not isinstance(sigs, list) or len(sigs) > 256:
            raise RPCError(-32602, "Invalid params: at most 256 signatures")
        return self.context([self._status(s) for s in sigs])

    def _status(self, sig):
        o = self.bank.statuses.get(sig)
        if o is None:
            return None
        age = self.bank.slot - o.slot
        level = "finalized" if age >= FINALIZED_AFTER else "confirmed" if age >= CONFIRMED_AFTER else "processed"
        return {"slot": o.slot, "confirmations": None if level == "finalized" else age, "err": o.err,
                "status": {"Ok": None} if o.err is None else {"Err": o.err}, "confirmationStatus": level}

    def rpc_getTransaction(self, sig, config=None):
        """A landed transaction (base64) with its meta: fee, balances before and after, token balances, logs."""
        enc = (config or {}).get("encoding", "json") if isinstance(config, dict) else "json"
        if enc != "base64":
            raise RPCError(-32602, "this stand-in serves getTransaction in base64 only")
        o = self.bank.statuses.get(sig)
        if o is None or not o.meta:
            return None
        return {"slot": o.slot, "blockTime": None, "meta": o.meta, "transaction": [base64.b64encode(o.raw).decode(), "base64"], "version": 0}

    def rpc_simulateTransaction(self, text, config=None):
        config = config or {}
        tx = decode_tx(text, config.get("encoding", "base64"))
        replace = bool(config.get("replaceRecentBlockhash"))
        verify = bool(config.get("sigVerify"))
        if replace and verify:
            raise RPCError(-32602, "sigVerify may not be used with replaceRecentBlockhash")
        try:
            out = self.bank.execute(tx, commit=False, verify=verify, check_blockhash=not replace)
        except TxError as e:
            return self.context({"err": e.err, "logs": e.logs, "accounts": None, "unitsConsumed": 0, "returnData": None})
        accounts = None
        if isinstance(config.get("accounts"), dict):
            wanted = config["accounts"].get("addresses", [])
            post = out.post or {}
            accounts = [(post[k].json() if (k := self.key(a)) in post and post[k].lamports > 0 else
                         (self.bank.get(k).json() if self.bank.get(k) and out.err is not None else None)) for a in wanted]
        value = {"err": out.err, "logs": out.logs, "accounts": accounts, "unitsConsumed": out.units, "returnData": None}
        if replace:
            h = str(self.bank.latest_hash)
            value["replacementBlockhash"] = {"blockhash": h, "lastValidBlockHeight": self.bank.blockhashes[h]}
        return self.context(value)

    def rpc_sendTransaction(self, text, config=None):
        config = config or {}
        tx = decode_tx(text, config.get("encoding", "base64"))
        if not all(tx.verify_with_results()):
            raise RPCError(-32003, "Transaction signature verification failure")
        if str(tx.message.recent_blockhash) not in self.bank.blockhashes:
            raise RPCError(-32002, "Transaction simulation failed: Blockhash not found", {"err": "BlockhashNotFound", "logs": []})
        if not config.get("skipPreflight"):
            try:
                out = self.bank.execute(tx, commit=False, check_processed=True)
            except TxError as e:
                raise RPCError(-32002, f"Transaction simulation failed: {e.err}", {"err": e.err, "logs": e.logs}) from None
            if out.err is not None:
                raise RPCError(-32002, f"Transaction simulation failed: {out.err}", {"err": out.err, "logs": out.logs})
        self.queue.append(tx)
        return str(tx.signatures[0])

    def rpc_requestAirdrop(self, key, lamports, config=None):
        k = self.key(key)
        self.bank.accounts.setdefault(k, Account(0)).lamports += int(lamports)
        return str(self.bank.latest_hash)

    def rpc_standin_fault(self, fault):
        """{"rateLimit": n, "bundleRateLimit": n, "jupiterRateLimit": n, "expireQuotes": n, "dropBundles": n, "engineDown": bool, "expireBlockhash": hash, "staleBlockhash": n}."""
        if not isinstance(fault, dict):
            raise RPCError(-32602, "a fault object")
        for k in ("rateLimit", "bundleRateLimit", "dropBundles", "staleBlockhash"):
            if k in fault:
                self.faults[k] = int(fault[k])
        if "engineDown" in fault:
            self.faults["engineDown"] = bool(fault["engineDown"])
        if "jupiterRateLimit" in fault and getattr(self, "jupiter", None):
            self.jupiter.rate_limited = int(fault["jupiterRateLimit"])
        if "expireQuotes" in fault and getattr(self, "jupiter", None):
            self.jupiter.expire_quotes = int(fault["expireQuotes"])
        if "expireBlockhash" in fault:
            self.bank.expire(fault["expireBlockhash"])
            if fault["expireBlockhash"] == str(self.bank.latest_hash):
                self.bank.advance()  # the latest one gone: the cluster is on to a new one
        return True

    def rpc_standin_bridgeMessages(self, after=0):
        """The token bridge's messages posted after sequence `after` (the relayer's view of the chain)."""
        return [m for m in self.bank.bridge_messages if m["sequence"] > int(after)]

    def rpc_standin_bridgeComplete(self, transfer):
        """A transfer in, by the relayer: `{srcChain, sequence, mint, owner, amount}` (wire units, 8
        decimals at most), paid from the mint's custody to the owner's token account, once per
        (source chain, sequence); its claim account marks it paid."""
        from . import bridge
        try:
            return bridge.complete(self.bank, int(transfer["srcChain"]), int(transfer["sequence"]), Pubkey.from_string(transfer["mint"]),
                                   Pubkey.from_string(transfer["owner"]), int(transfer["amount"]))
        except (KeyError, TypeError, ValueError) as e:
            raise RPCError(-32602, f"Invalid params: {e}")

    def rpc_standin_step(self, count=1):
        for _ in range(int(count)):
            self.step()
        return self.bank.slot

    def _one(self, req, table):
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
            return {"jsonrpc": "2.0", "id": req.get("id") if isinstance(req, dict) else None, "error": {"code": -32600, "message": "Invalid request"}}
        return answer(req.get("id"), lambda: table(req["method"], req.get("params", [])))

    async def _body(self, request):
        try:
            return json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def _answer(self, body, table):
        if body is None:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
        if isinstance(body, list):
            return [self._one(r, table) for r in body] if body else {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "empty batch"}}
        return self._one(body, table)

    async def http(self, request):
        body = await self._body(request)
        control = isinstance(body, dict) and body.get("method") in ("standin_fault", "standin_step")
        if self.faults["rateLimit"] > 0 and not control:
            self.faults["rateLimit"] -= 1
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": 429, "message": "Too many requests"}}, status=429)
        return web.json_response(self._answer(body, self.call))

    # ------------------------------------------------------------------ Jito block engine

    async def engine(self, request):
        if self.faults["engineDown"]:
            return web.Response(status=503, text="block engine unavailable")
        if self.faults["bundleRateLimit"] > 0:
            self.faults["bundleRateLimit"] -= 1
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": -32097, "message": "Rate limit exceeded. Limit: 5 per second for txn requests"}}, status=429)
        body = await self._body(request)
        if request.path.endswith("/transactions"):
            return web.json_response(self._answer(body, lambda m, p: self.call(m, p) if m == "sendTransaction" else self._no(m)))
        return web.json_response(self._answer(body, self.jito))

    async def tip_floor(self, request):
        """Jito's REST tip floor: percentiles of the landed bundles' tips, in SOL (floats), as the
        bundles API gives them (the floor is MIN_TIP before any bundle has landed)."""
        if self.faults["engineDown"]:
            return web.Response(status=503, text="block engine unavailable")
        tips = sorted(self.landed_tips[-1000:]) or [MIN_TIP]
        def pct(q):
            return tips[min(len(tips) - 1, int(q * (len(tips) - 1) + 0.5))] / 1e9
        ema = tips[0]
        for t in tips[1:]:
            ema = 0.9 * ema + 0.1 * t
        import datetime
        return web.json_response([{"time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "landed_tips_25th_percentile": pct(0.25),
                                   "landed_tips_50th_percentile": pct(0.5), "landed_tips_75th_percentile": pct(0.75),
                                   "landed_tips_95th_percentile": pct(0.95), "landed_tips_99th_percentile": pct(0.99),
                                   "ema_landed_tips_50th_percentile": ema / 1e9}])

    @staticmethod
    def _no(method):
        raise RPCError(-32601, f"Method not found: {method}")

    def jito(self, method, params):
        if method == "getTipAccounts":
            return [str(k) for k in TIP_ACCOUNTS]
        if method == "sendBundle":
            return self._send_bundle(*params)
        if method == "getBundleStatuses":
            return self.context([self._bundle_status(b) for b in self._ids(params)])
        if method == "getInflightBundleStatuses":
            out = []
            for b in self._ids(params):
                s = self.bundle_status.get(b)
                out.append({"bundle_id": b, "status": s["status"] if s else "Invalid", "landed_slot": s.get("landed_slot") if s else None})
            return self.context(out)
        raise RPCError(-32601, f"Method not found: {method}")

    @staticmethod
    def _ids(params):
        if len(params) != 1 or not isinstance(params[0], list) or not 1 <= len(params[0]) <= MAX_BUNDLE:
            raise RPCError(-32602, "params: one array of 1 to 5 bundle ids")
        return params[0]

    def _send_bundle(self, txs, config=None):
        encoding = (config or {}).get("encoding", "base58")
        if encoding != "base64":
            raise RPCError(-32602, "this stand-in takes base64 bundles ({\"encoding\": \"base64\"})")
        if not isinstance(txs, list) or not 1 <= len(txs) <= MAX_BUNDLE:
            raise RPCError(-32602, f"bundles hold 1 to {MAX_BUNDLE} transactions")
        decoded = [decode_tx(t) for t in txs]
        for tx in decoded:
            if not all(tx.verify_with_results()):
                raise RPCError(-32602, "transaction signature verification failure")
        if sum(tip_of(tx, self.bank) for tx in decoded) < MIN_TIP:
            raise RPCError(-32602, f"bundle must tip at least {MIN_TIP} lamports to a tip account")
        bid = hashlib.sha256(b"".join(bytes(tx.signatures[0]) for tx in decoded)).hexdigest()
        self.bundle_status[bid] = {"status": "Pending", "landed_slot": None, "signatures": [str(t.signatures[0]) for t in decoded]}
        if self.faults["dropBundles"] > 0:
            self.faults["dropBundles"] -= 1
            self.bundle_status[bid]["status"] = "Pending"  # accepted; no leader takes it (it expires as Invalid)
            self.bundle_status[bid]["dropped"] = True
        else:
            self.bundles.append((bid, decoded))
        return bid

    def _bundle_status(self, bid):
        s = self.bundle_status.get(bid)
        if s is None or s["status"] != "Landed":
            return None
        age = self.bank.slot - s["landed_slot"]
        level = "finalized" if age >= FINALIZED_AFTER else "confirmed" if age >= CONFIRMED_AFTER else "processed"
        return {"bundle_id": bid, "transactions": s["signatures"], "slot": s["landed_slot"], "confirmation_status": level, "err": {"Ok": None}}

    # ------------------------------------------------------------------ WebSocket

    async def websocket(self, request):
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    body = json.loads(msg.data)
                except json.JSONDecodeError:
                    body = None
                await ws.send_str(json.dumps(self._answer(body, lambda m, p: self._ws_call(ws, m, p))))
        finally:
            for sid in [s for s, (w, _, _) in self.subs.items() if w is ws]:
                del self.subs[sid]
        return ws

    def _ws_call(self, ws, method, params):
        kinds = {"slotSubscribe": "slot", "accountSubscribe": "account", "programSubscribe": "program", "signatureSubscribe": "signature"}
        if method in kinds:
            kind = kinds[method]
            target = None
            if kind in ("account", "program"):
                target = self.key(params[0]) if params else None
                if target is None:
                    raise RPCError(-32602, "Invalid params: a public key")
            if kind == "signature":
                target = params[0]
            sid = self.next_sub
            self.next_sub += 1
            self.subs[sid] = (ws, kind, target)
            return sid
        if method.endswith("Unsubscribe"):
            sid = params[0] if params else None
            return self.subs.pop(sid, None) is not None
        return self.call(method, params)

    def _notify(self, touched):
        slot = self.bank.slot
        for sid, (ws, kind, target) in list(self.subs.items()):
            if ws.closed:
                continue
            if kind == "slot":
                self._push(ws, "slotNotification", sid, {"parent": slot - 1, "root": max(0, slot - FINALIZED_AFTER), "slot": slot})
            elif kind == "account" and str(target) in touched:
                a = self.bank.get(target)
                self._push(ws, "accountNotification", sid, {"context": {"slot": slot}, "value": a.json() if a else None})
            elif kind == "program":
                for k in touched:
                    a = self.bank.get(Pubkey.from_string(k))
                    if a and a.owner == target:
                        self._push(ws, "programNotification", sid, {"context": {"slot": slot}, "value": {"pubkey": k, "account": a.json()}})
            elif kind == "signature" and (s := self._status(target)) is not None:
                self._push(ws, "signatureNotification", sid, {"context": {"slot": slot}, "value": {"err": s["err"]}})
                del self.subs[sid]

    @staticmethod
    def _push(ws, method, sid, result):
        asyncio.get_running_loop().create_task(ws.send_str(json.dumps({"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": sid}})))
