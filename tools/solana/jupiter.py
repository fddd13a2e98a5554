"""A Jupiter stand-in in the `/swap/v1` shapes (`GET /quote`, `POST /swap-instructions`) quoting from
the stand-in ledger's pools (its constant-product ones, Raydium AMM v4's and CLMM's, Orca Whirlpools,
Meteora DLMM pairs and Phoenix books), each by its formula: the best direct or two-hop route by output, and
real instructions for it (compute budget, the output's ATA create, the pool program's route
instruction, the lookup table holding the pools' accounts). A quote older than its blockhash
window is refused as expired; `quoteResponse` must come back verbatim (its fields are checked)."""
import base64
import struct
import time

from aiohttp import web
from solders.pubkey import Pubkey

from . import phoenix
from .bank import (ATA, COMPUTE_BUDGET, CPMM, RAYDIUM_AUTHORITY, SYSTEM, TOKEN, RaydiumPool, TokenAccount, ata_address, cpmm_out, phoenix_book,
                   pool_authority, raydium_out, route_data_with_extras)
from .clmm import ClmmPool, parse_config, tick_array_address as clmm_array_address
from .venues import Pair, Whirlpool, bin_array_address, tick_array_address

QUOTE_LIFETIME_SLOTS = 150
U64 = 2**64 - 1


def ix_json(program, accounts, data):
    return {"programId": str(program), "accounts": [{"pubkey": str(k), "isSigner": s, "isWritable": w} for k, s, w in accounts],
            "data": base64.b64encode(data).decode()}


class Jupiter:
    def __init__(self, standin, table=None):
        self.standin, self.bank = standin, standin.bank
        self.table = table  # the lookup table holding the pools' accounts
        self.requests = 0
        self.rate_limited = 0  # fault: answer this many next requests 429
        self.expire_quotes = 0  # fault: refuse this many next swap-instructions as expired
        standin.app.router.add_get("/swap/v1/quote", self.quote)
        standin.app.router.add_post("/swap/v1/swap-instructions", self.swap_instructions)

    def pools(self):
        out = []
        for key, a in self.bank.accounts.items():
            r = RaydiumPool.read(a)
            w = Whirlpool.read(a)
            d = Pair.read(a)
            c = ClmmPool.read(a)
            book = phoenix_book(a)
            if book is not None:
                ra, rb = (TokenAccount.read(self.bank.accounts[v]).amount for v in book["vaults"])
                out.append({"key": key, "mints": book["mints"], "vaults": book["vaults"], "reserves": (ra, rb),
                            "fee": (book["taker_fee_bps"], 10_000), "authority": key, "label": "Phoenix", "book": book})
            elif c is not None:
                ra, rb = TokenAccount.read(self.bank.accounts[c.vault0]).amount, TokenAccount.read(self.bank.accounts[c.vault1]).amount
                out.append({"key": key, "mints": (c.mint0, c.mint1), "vaults": (c.vault0, c.vault1), "reserves": (ra, rb),
                            "fee": (parse_config(self.bank.accounts[c.config].data)["trade_fee_rate"], 1_000_000), "authority": key,
                            "label": "Raydium CLMM", "clmm": c})
            elif d is not None and d.status == 0:
                ra, rb = TokenAccount.read(self.bank.accounts[d.reserve_x]).amount, TokenAccount.read(self.bank.accounts[d.reserve_y]).amount
                out.append({"key": key, "mints": (d.mint_x, d.mint_y), "vaults": (d.reserve_x, d.reserve_y), "reserves": (ra, rb),
                            "fee": (d.base_factor * d.bin_step * 10, 1_000_000_000), "authority": key, "label": "Meteora DLMM", "pair": d})
            elif w is not None:
                ra, rb = TokenAccount.read(self.bank.accounts[w.vault_a]).amount, TokenAccount.read(self.bank.accounts[w.vault_b]).amount
                out.append({"key": key, "mints": (w.mint_a, w.mint_b), "vaults": (w.vault_a, w.vault_b), "reserves": (ra, rb),
                            "fee": (w.fee_rate, 1_000_000), "authority": key, "label": "Whirlpool", "whirlpool": w})
            elif r is not None and r.status in (1, 6):
                ra = TokenAccount.read(self.bank.accounts[r.coin_vault]).amount - r.pnl_coin
                rb = TokenAccount.read(self.bank.accounts[r.pc_vault]).amount - r.pnl_pc
                out.append({"key": key, "mints": (r.coin_mint, r.pc_mint), "vaults": (r.coin_vault, r.pc_vault), "reserves": (ra, rb),
                            "fee": (r.fee_num, r.fee_den), "authority": RAYDIUM_AUTHORITY, "label": "Raydium"})
            elif a.owner == CPMM and len(a.data) == 130:
                mint_a, mint_b, va, vb = (Pubkey(a.data[k:k + 32]) for k in range(0, 128, 32))
                fee = struct.unpack_from("<H", a.data, 128)[0]
                ra, rb = TokenAccount.read(self.bank.accounts[va]).amount, TokenAccount.read(self.bank.accounts[vb]).amount
                out.append({"key": key, "mints": (mint_a, mint_b), "vaults": (va, vb), "reserves": (ra, rb), "fee": (fee, 10_000),
                            "authority": pool_authority(key), "label": "StandIn CPMM"})
        return out

    def arrays(self, pool, a_to_b):
        """A Whirlpool's three tick arrays or a DLMM pair's three bin arrays for a swap that way, as
        keys (the extra accounts)."""
        if pool["label"] == "Meteora DLMM":
            return [bin_array_address(pool["key"], k) for k in pool["pair"].arrays_for(a_to_b)]
        if pool["label"] == "Raydium CLMM":
            c = pool["clmm"]
            return [c.config] + [clmm_array_address(pool["key"], s) for s in c.arrays_for(a_to_b)]
        return [tick_array_address(pool["key"], s) for s in pool["whirlpool"].arrays_for(pool["key"], a_to_b)]

    def hop(self, pool, mint_in, amount):
        i = 0 if pool["mints"][0] == mint_in else 1
        r_in, r_out = pool["reserves"][i], pool["reserves"][1 - i]
        if pool["label"] == "Phoenix":
            # A taker's IOC order: the output of whole lots of the input (what the program would take).
            try:
                (_, out, _, _) = phoenix.swap(pool["book"], amount, i == 1, self.bank.slot, self.bank.unix_time())
            except phoenix.PhoenixError:
                return 0, i
            return (out if out <= r_out else 0), i
        if pool["label"] == "Meteora DLMM":
            d = pool["pair"]
            data = {k: a.data for k in d.arrays_for(i == 0) if (a := self.bank.accounts.get(bin_array_address(pool["key"], k)))}
            swapped = d.swap(data, amount, i == 0) if amount > 0 else None
            return (swapped[0] if swapped and swapped[0] <= r_out else 0), i
        if pool["label"] == "Raydium CLMM":
            c = pool["clmm"]
            data = {s: a.data for s in c.arrays_for(i == 0) if (a := self.bank.accounts.get(clmm_array_address(pool["key"], s)))}
            swapped = c.swap(self.bank.accounts[c.config].data, data, amount, i == 0) if amount > 0 else None
            return (swapped[0] if swapped and swapped[0] <= r_out else 0), i
        if pool["label"] == "Whirlpool":
            w = pool["whirlpool"]
            data = {s: a.data for s in w.arrays_for(pool["key"], i == 0) if (a := self.bank.accounts.get(tick_array_address(pool["key"], s)))}
            swapped = w.swap(pool["key"], data, amount, i == 0) if amount > 0 else None
            return (swapped[0] if swapped and swapped[0] <= r_out else 0), i
        if pool["label"] == "Raydium":
            out = raydium_out(amount, r_in, r_out, *pool["fee"])
            return (out if out < r_out else 0), i
        return cpmm_out(amount, r_in, r_out, pool["fee"][0]), i

    def routes(self, mint_in, mint_out, direct_only, exclude=()):
        pools = [p for p in self.pools() if p["label"] not in exclude]  # excludeDexes names venues, as Jupiter's labels
        for p in pools:
            if set(p["mints"]) == {mint_in, mint_out}:
                yield [p]
        if direct_only:
            return
        for p in pools:
            if mint_in not in p["mints"]:
                continue
            mid = p["mints"][1] if p["mints"][0] == mint_in else p["mints"][0]
            if mid == mint_out:
                continue
            for q in pools:
                if q is not p and set(q["mints"]) == {mid, mint_out}:
                    yield [p, q]

    def error(self, status, message, code):
        return web.json_response({"error": message, "errorCode": code}, status=status)

    def _limited(self):
        self.requests += 1
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return True
        return False

    async def quote(self, request):
        if self._limited():
            return web.json_response({"message": "Too many requests"}, status=429)
        q = request.query
        try:
            mint_in, mint_out = Pubkey.from_string(q["inputMint"]), Pubkey.from_string(q["outputMint"])
            amount = int(q["amount"])
            slippage = int(q.get("slippageBps", "50"))
        except (KeyError, ValueError):
            return self.error(400, "inputMint, outputMint and amount are required (amount an integer)", "INVALID_REQUEST")
        if q.get("swapMode", "ExactIn") != "ExactIn":
            return self.error(400, "only ExactIn is served here", "INVALID_REQUEST")
        if not 0 < amount <= U64 or not 0 <= slippage <= 10_000 or mint_in == mint_out:
            return self.error(400, "amount, slippageBps or mints out of range", "INVALID_REQUEST")
        exclude = set(filter(None, q.get("excludeDexes", "").split(",")))
        best = None
        for route in self.routes(mint_in, mint_out, q.get("onlyDirectRoutes") == "true", exclude):
            legs, x, mint = [], amount, mint_in
            for p in route:
                out, i = self.hop(p, mint, x)
                nxt = p["mints"][1 - i]
                legs.append({"swapInfo": {"ammKey": str(p["key"]), "label": p["label"], "inputMint": str(mint), "outputMint": str(nxt),
                                          "inAmount": str(x), "outAmount": str(out), "feeAmount": str(-(-x * p["fee"][0] // p["fee"][1])), "feeMint": str(mint)},
                             "percent": 100, "bps": 10_000})
                x, mint = out, nxt
            if x > 0 and (best is None or x > int(best["outAmount"])):
                best = {"inputMint": str(mint_in), "inAmount": str(amount), "outputMint": str(mint_out), "outAmount": str(x),
                        "otherAmountThreshold": str(x * (10_000 - slippage) // 10_000), "swapMode": "ExactIn", "slippageBps": slippage,
                        "platformFee": None, "priceImpactPct": "0", "routePlan": legs, "contextSlot": self.bank.slot, "timeTaken": 0.001}
        if best is None:
            return self.error(400, "Could not find any route", "COULD_NOT_FIND_ANY_ROUTE")
        return web.json_response(best)

    async def swap_instructions(self, request):
        if self._limited():
            return web.json_response({"message": "Too many requests"}, status=429)
        try:
            body = await request.json()
            user = Pubkey.from_string(body["userPublicKey"])
            quote = body["quoteResponse"]
            amount, threshold = int(quote["inAmount"]), int(quote["otherAmountThreshold"])
            legs = [(Pubkey.from_string(l["swapInfo"]["ammKey"]), Pubkey.from_string(l["swapInfo"]["inputMint"]), Pubkey.from_string(l["swapInfo"]["outputMint"]))
                    for l in quote["routePlan"]]
            slot = int(quote["contextSlot"])
        except (KeyError, ValueError, TypeError):
            return self.error(400, "userPublicKey and a quoteResponse as /quote gave it are required", "INVALID_REQUEST")
        if self.expire_quotes > 0:
            self.expire_quotes -= 1
            return self.error(400, f"the quote (slot {slot}) has expired", "QUOTE_EXPIRED")
        if self.bank.slot - slot > QUOTE_LIFETIME_SLOTS:
            return self.error(400, f"the quote (slot {slot}) has expired", "QUOTE_EXPIRED")
        if not legs or len(legs) > 4 or str(legs[0][1]) != quote.get("inputMint") or str(legs[-1][2]) != quote.get("outputMint"):
            return self.error(400, "a routePlan that does not join inputMint to outputMint", "INVALID_REQUEST")
        pools = {p["key"]: p for p in self.pools()}
        accounts = [(user, True, False), (TOKEN, False, False)]
        extras = []
        for key, mint_in, mint_out in legs:
            p = pools.get(key)
            if p is None or set(p["mints"]) != {mint_in, mint_out}:
                return self.error(400, f"{key} is not a pool of {mint_in}/{mint_out}", "INVALID_REQUEST")
            i = 0 if p["mints"][0] == mint_in else 1
            moves = p["label"] in ("Whirlpool", "Meteora DLMM", "Raydium CLMM", "Phoenix")  # the pool's own account changes
            accounts += [(key, False, moves), (p["authority"], False, False), (p["vaults"][i], False, True), (p["vaults"][1 - i], False, True),
                         (ata_address(user, mint_in), False, True), (ata_address(user, mint_out), False, True)]
            arrays = self.arrays(p, i == 0) if moves and p["label"] != "Phoenix" else []
            accounts += [(a, False, p["label"] == "Meteora DLMM") for a in arrays]  # bins trade; tick arrays are only read
            extras.append(len(arrays))
        budget = []
        limit = body.get("computeUnitLimit")
        if isinstance(limit, int) and limit > 0:
            budget.append(ix_json(COMPUTE_BUDGET, [], b"\x02" + struct.pack("<I", limit)))
        price = body.get("computeUnitPriceMicroLamports")
        if isinstance(price, int) and price >= 0:
            budget.append(ix_json(COMPUTE_BUDGET, [], b"\x03" + struct.pack("<Q", price)))
        out_mint = legs[-1][2]
        setup = [ix_json(ATA, [(user, True, True), (ata_address(user, out_mint), False, True), (user, False, False), (out_mint, False, False),
                               (SYSTEM, False, False), (TOKEN, False, False)], b"\x01")]
        # The route instruction is the stand-in's aggregator program (CPMM's tag 2): it calls each
        # pool by its own formula, as Jupiter's program calls each venue's.
        swap = ix_json(CPMM, accounts, route_data_with_extras(amount, threshold, extras))
        return web.json_response({
            "tokenLedgerInstruction": None, "computeBudgetInstructions": budget, "setupInstructions": setup, "swapInstruction": swap,
            "cleanupInstruction": None, "otherInstructions": [], "addressLookupTableAddresses": [str(self.table)] if self.table else [],
            "prioritizationFeeLamports": 0, "computeUnitLimit": 26_000 * len(legs) + 25_000,
        })
