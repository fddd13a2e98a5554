"""The stand-in's market: mints (wrapped SOL, USDC, USDT), Raydium AMM v4 pools (their `AmmInfo`
accounts in the program's layout, under its id) an Orca Whirlpool (its account and tick
arrays in the program's layout), a Meteora DLMM pair (its `LbPair` and bin arrays) and a
Raydium CLMM pool (its `PoolState`, `AmmConfig` and tick arrays, two positions whose bounds a
swap crosses) and a Phoenix market (its `MarketHeader` and `FIFOMarket`, the books red-black trees,
a maker's ladder of orders each side that it moves now and then) whose prices differ, an address lookup table
holding the pools' accounts, and funding for a searcher's wallet. Keys are derived from the
seed: the same seed, the same market."""
import hashlib
import math
import random

from solders.pubkey import Pubkey

from . import clmm, phoenix
from .bank import (RAYDIUM_AMM, RAYDIUM_AUTHORITY, TOKEN, WSOL, Account, Bank, RaydiumPool, TokenAccount, ata_address, mint_data,
                   raydium_out, rent_exempt, set_amount, MINT_SIZE)
from .venues import Pair, Whirlpool, bin_array_address, tick_array_address

# The Phoenix market's maker: prices in ticks of 0.001 USDC per SOL (tick size 1,000 quote lots of
# 10⁻⁶ USDC), base lots of 0.001 SOL; twelve orders of 40 SOL a side, 0.03% apart, around a mid it
# pulls toward 151.2 USDC per SOL.
PHOENIX_MID, PHOENIX_STEP, PHOENIX_LOTS, PHOENIX_LEVELS = 151_200, 45, 40_000, 12


def ladder(mid: int, first_seq: int):
    """The maker's orders around `mid` (ticks), as (price, sequence, base lots, last valid slot, last valid time)."""
    bids = [(mid - 40 - k * PHOENIX_STEP, first_seq + k, PHOENIX_LOTS, 0, 0) for k in range(PHOENIX_LEVELS)]
    asks = [(mid + 40 + k * PHOENIX_STEP, first_seq + PHOENIX_LEVELS + k, PHOENIX_LOTS, 0, 0) for k in range(PHOENIX_LEVELS)]
    return bids, asks


USDC = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
USDT = Pubkey.from_string("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB")
# Ether (Wormhole): Wormhole carries 8 decimals, so Solana's WETH has 8.
WETH = Pubkey.from_string("7vfCXTUXx5WJV5JADk17DUJ4ksgau7utNKj4b963voxs")
DECIMALS = {WSOL: 9, USDC: 6, USDT: 6, WETH: 8}
SYMBOLS = {WSOL: "SOL", USDC: "USDC", USDT: "USDT", WETH: "WETH"}


def derived(seed: int, name: str) -> Pubkey:
    return Pubkey(hashlib.sha256(f"arbiter solana stand-in {seed} {name}".encode()).digest())


class Market:
    def __init__(self, bank: Bank, seed: int = 1):
        self.bank, self.seed = bank, seed
        self.rng = random.Random(seed)
        for mint, dec in DECIMALS.items():
            bank.accounts[mint] = Account(rent_exempt(MINT_SIZE), TOKEN, mint_data(dec, supply=10**18))
        # (venue, label, coin / token A / X, pc / token B / Y, reserves, fee bps): SOL at ~150 USDC in
        # an Orca Whirlpool and ~151.5 in a Raydium pool; USDC/USDT near par in a Meteora DLMM pair
        # (bins 0.01% apart, 50,000 of each a bin); SOL/USDT on Raydium.
        specs = [("whirlpool", "orca", WSOL, USDC, 20_000 * 10**9, 3_000_000 * 10**6, 30),
                 ("raydium", "raydium", WSOL, USDC, 12_000 * 10**9, 1_818_000 * 10**6, 25),
                 ("dlmm", "meteora", USDC, USDT, 50_000 * 10**6, 50_000 * 10**6, 1),
                 ("raydium", "raydium", WSOL, USDT, 8_000 * 10**9, 1_204_000 * 10**6, 25),
                 # SOL at ~150.75 USDC in a Raydium CLMM pool (fee 0.05%, tick spacing 10): between the
                 # Whirlpool and the Raydium pool, so a round trip between those two still goes
                 # through them, and each of them has a gap with it.
                 ("clmm", "raydium-clmm", WSOL, USDC, 0, 0, 5),
                 # A Phoenix SOL/USDC book (taker fee 0.05%) around 151.2: its bids above the Whirlpool's price.
                 ("phoenix", "phoenix", WSOL, USDC, 1_000 * 10**9, 200_000 * 10**6, 5),
                 # Bridged Ether at 1960 USDC, 2% under the lab's EVM chains (2000): a cross-chain gap, bought here.
                 ("raydium", "raydium", WETH, USDC, 300 * 10**8, 588_000 * 10**6, 25)]
        self.pools = []
        for venue, label, a, b, ra, rb, fee in specs:
            name = f"pool {label} {SYMBOLS[a]}/{SYMBOLS[b]}"
            key = derived(seed, name)
            if venue == "whirlpool":
                # One full-range position as deep as the reserves: L = √(x·y), √P = √(y/x) in Q64.64;
                # tick spacing 64 (its arrays span 5,632 ticks), fee in hundredths of a basis point.
                liquidity = math.isqrt(ra * rb)
                sqrt_price = math.isqrt((rb << 128) // ra)
                from orca_whirlpool.internal.utils.price_math import PriceMath
                tick = PriceMath.sqrt_price_x64_to_tick_index(sqrt_price)
                va, vb, arrays = bank.create_whirlpool(key, a, b, ra, rb, 64, fee * 100, liquidity, sqrt_price, tick, 3,
                                                       derived(seed, f"{name} config"))
                authority = key
            elif venue == "clmm":
                # A wide position ±3000 ticks and a narrow one ±300 around 150.75 USDC per SOL (mint 0 is
                # the smaller address: SOL here), so swaps cross initialized ticks.
                assert bytes(a) < bytes(b)
                tick = math.floor(math.log(150.75 * 10**6 / 10**9) / math.log(1.0001))
                price = clmm.sqrt_price_at_tick(tick) + 98_765
                positions = [((tick - 3000) // 10 * 10, (tick + 3000) // 10 * 10, 5 * 10**12),
                             ((tick - 300) // 10 * 10, (tick + 300) // 10 * 10, 2 * 10**12)]
                config = derived(seed, f"{name} config")
                va, vb, arrays = bank.create_raydium_clmm(key, a, b, 10, fee * 100, price, tick, positions, config, derived(seed, f"{name} observation"))
                authority = key
            elif venue == "phoenix":
                bids, asks = ladder(PHOENIX_MID, 1)
                va, vb = bank.create_phoenix_market(key, a, b, ra, rb, bids, asks, self.rng, taker_fee_bps=fee)
                authority, arrays = key, []
            elif venue == "dlmm":
                # Bin step 1 (0.01%), active bin 2 (USDT per USDC ≈ 1.0002), base factor 10,000 (fee 0.01%).
                va, vb, arrays = bank.create_dlmm_pair(key, a, b, 2, 1, 10_000, ra, rb, 2, derived(seed, f"{name} oracle"))
                authority = key
            else:
                extra = [derived(seed, f"{name} {k}") for k in range(9)]
                va, vb = bank.create_raydium_pool(key, a, b, ra, rb, fee, 10_000, (DECIMALS[a], DECIMALS[b]), extra)
                authority, arrays = RAYDIUM_AUTHORITY, []
            self.pools.append({"venue": venue, "label": label, "key": key, "mintA": a, "mintB": b, "vaultA": va, "vaultB": vb, "feeBps": fee,
                               "authority": authority, "arrays": arrays, "config": config if venue == "clmm" else None})
        # The token bridge's custody of the bridged assets: liquidity for transfers in.
        from . import bridge
        for mint, units in ((WETH, 1_000), (WSOL, 10_000)):
            custody = bridge.custody_address(mint)
            bank.set_token_account(custody, mint, custody, units * 10**DECIMALS[mint])
        self.table = derived(seed, "lookup table")
        entries = [RAYDIUM_AMM, TOKEN]
        for p in self.pools:
            entries += [p["key"], p["authority"], p["vaultA"], p["vaultB"]] + p["arrays"] + ([p["config"]] if p["config"] else [])
        bank.create_lookup_table(self.table, entries)

    def fund(self, owner: Pubkey, lamports: int, tokens: dict | None = None):
        """`lamports` to `owner`'s system account, and its token accounts (ATAs) holding `tokens`."""
        self.bank.accounts[owner] = Account(lamports)
        for mint in DECIMALS:
            amount = (tokens or {}).get(mint, 0)
            self.bank.set_token_account(ata_address(owner, mint), mint, owner, amount)

    def drift(self, stand_in=None):
        """A random trader's swap on one pool each slot, by the pool's own program: prices wander
        and gaps open (returns the accounts it wrote, for subscriptions)."""
        p = self.rng.choice(self.pools)
        a_to_b = self.rng.random() < 0.5
        vin, vout = (p["vaultA"], p["vaultB"]) if a_to_b else (p["vaultB"], p["vaultA"])
        tin, tout = TokenAccount.read(self.bank.accounts[vin]), TokenAccount.read(self.bank.accounts[vout])
        amount = tin.amount * self.rng.randint(1, 40) // 10_000
        written, taken = [str(vin), str(vout)], amount
        if p["venue"] == "phoenix":
            if self.rng.random() < 0.5:
                self.requote(p["key"])
                return [str(p["key"])]
            try:
                (taken, out, _, _), after = phoenix.fill(phoenix.parse_market(self.bank.accounts[p["key"]].data), amount, not a_to_b,
                                                         self.bank.slot, self.bank.unix_time())
            except phoenix.PhoenixError:
                return []
            account = self.bank.accounts[p["key"]]
            account.data = phoenix.with_side(account.data, a_to_b, after, self.rng)
            written.append(str(p["key"]))
        elif p["venue"] == "dlmm":
            pair = Pair.read(self.bank.accounts[p["key"]])
            indexes = pair.arrays_for(a_to_b)
            arrays = {k: self.bank.accounts[a].data for k in indexes if (a := bin_array_address(p["key"], k)) in self.bank.accounts}
            swapped = pair.swap(arrays, amount, a_to_b) if amount > 0 else None
            if swapped is None:
                return []
            out, active, after = swapped
            self.bank.accounts[p["key"]].data = pair.moved(self.bank.accounts[p["key"]].data, active)
            for k, d in after.items():
                self.bank.accounts[bin_array_address(p["key"], k)].data = d
                written.append(str(bin_array_address(p["key"], k)))
            written.append(str(p["key"]))
        elif p["venue"] == "clmm":
            c = clmm.ClmmPool.read(self.bank.accounts[p["key"]])
            arrays = {s: self.bank.accounts[a].data for s in c.arrays_for(a_to_b)
                      if (a := clmm.tick_array_address(p["key"], s)) in self.bank.accounts}
            swapped = c.swap(self.bank.accounts[c.config].data, arrays, amount, a_to_b) if amount > 0 else None
            if swapped is None:
                return []
            out, after = swapped
            self.bank.accounts[p["key"]].data = clmm.ClmmPool.moved(self.bank.accounts[p["key"]].data, after)
            written.append(str(p["key"]))
        elif p["venue"] == "whirlpool":
            w = Whirlpool.read(self.bank.accounts[p["key"]])
            arrays = {s: self.bank.accounts[a].data for s in w.arrays_for(p["key"], a_to_b)
                      if (a := tick_array_address(p["key"], s)) in self.bank.accounts}
            swapped = w.swap(p["key"], arrays, amount, a_to_b) if amount > 0 else None
            if swapped is None:
                return []
            out, sqrt_price, tick = swapped
            self.bank.accounts[p["key"]].data = w.moved(self.bank.accounts[p["key"]].data, sqrt_price, tick)
            written.append(str(p["key"]))
        else:
            info = RaydiumPool.read(self.bank.accounts[p["key"]])
            out = raydium_out(amount, tin.amount, tout.amount, info.fee_num, info.fee_den)
        for key, t, delta in ((vin, tin, taken), (vout, tout, -out)):
            set_amount(self.bank.accounts[key], t.amount + delta)
            if t.native is not None:  # wrapped SOL: its lamports move with its amount
                self.bank.accounts[key].lamports += delta
        return written

    def requote(self, key: Pubkey):
        """The Phoenix maker cancels its orders and places a fresh ladder around a mid moved from the
        book's (a fifth of the way back to 151.2, plus noise of about 0.1%)."""
        account = self.bank.accounts[key]
        book = phoenix.parse_market(account.data)
        best = [side[0]["price"] for side in (book["bids"], book["asks"]) if side]
        mid = sum(best) // len(best) if best else PHOENIX_MID
        mid += (PHOENIX_MID - mid) // 5 + round(self.rng.gauss(0, 150))
        seq = phoenix.next_sequence(account.data)
        bids, asks = ladder(mid, seq)
        stored = lambda orders, inverted: [{"price": p, "seq": phoenix.bid_seq(q) if inverted else q, "trader": 1, "lots": n, "slot": sl, "ts": ts}
                                           for p, q, n, sl, ts in orders]
        data = phoenix.with_side(account.data, True, stored(bids, True), self.rng)
        data = phoenix.with_side(data, False, stored(asks, False), self.rng)
        account.data = phoenix.with_sequence(data, seq + 2 * PHOENIX_LEVELS)

    @staticmethod
    def bridge_manifest():
        from . import bridge
        return {"program": str(bridge.PROGRAM), "custody": {SYMBOLS[m]: str(bridge.custody_address(m)) for m in (WETH, WSOL)}}

    def manifest(self):
        return {
            "mints": {SYMBOLS[m]: {"mint": str(m), "decimals": d} for m, d in DECIMALS.items()},
            "pools": [{"venue": p["venue"], "label": p["label"], "pool": str(p["key"]), "authority": str(p["authority"]), "mintA": str(p["mintA"]),
                       "mintB": str(p["mintB"]), "vaultA": str(p["vaultA"]), "vaultB": str(p["vaultB"]), "feeBps": p["feeBps"],
                       "arrays": [str(a) for a in p["arrays"]], "config": str(p["config"]) if p["config"] else None} for p in self.pools],
            "lookupTable": str(self.table), "program": str(RAYDIUM_AMM), "bridge": self.bridge_manifest(),
        }
