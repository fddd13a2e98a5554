"""The stand-in's market: mints (wrapped SOL, USDC, USDT) and Raydium AMM v4 pools (their `AmmInfo`
accounts in the program's layout, under its id) whose prices differ, an address lookup table
holding the pools' accounts, and funding for a searcher's wallet. Keys are derived from the
seed: the same seed, the same market."""
import hashlib
import random

from solders.pubkey import Pubkey

from .bank import (RAYDIUM_AMM, RAYDIUM_AUTHORITY, TOKEN, WSOL, Account, Bank, RaydiumPool, TokenAccount, ata_address, mint_data,
                   raydium_out, rent_exempt, set_amount, MINT_SIZE)

USDC = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
USDT = Pubkey.from_string("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB")
DECIMALS = {WSOL: 9, USDC: 6, USDT: 6}
SYMBOLS = {WSOL: "SOL", USDC: "USDC", USDT: "USDT"}


def derived(seed: int, name: str) -> Pubkey:
    return Pubkey(hashlib.sha256(f"arbiter solana stand-in {seed} {name}".encode()).digest())


class Market:
    def __init__(self, bank: Bank, seed: int = 1):
        self.bank, self.seed = bank, seed
        self.rng = random.Random(seed)
        for mint, dec in DECIMALS.items():
            bank.accounts[mint] = Account(rent_exempt(MINT_SIZE), TOKEN, mint_data(dec, supply=10**18))
        # (label, coin, pc, coin reserve, pc reserve, swap fee bps): SOL at ~150 USDC in one pool
        # and ~151.5 in the other; USDC/USDT near par. Each a Raydium AMM v4 pool.
        specs = [("orca", WSOL, USDC, 20_000 * 10**9, 3_000_000 * 10**6, 30),
                 ("raydium", WSOL, USDC, 12_000 * 10**9, 1_818_000 * 10**6, 25),
                 ("orca", USDC, USDT, 5_000_000 * 10**6, 5_001_000 * 10**6, 4),
                 ("raydium", WSOL, USDT, 8_000 * 10**9, 1_204_000 * 10**6, 25)]
        self.pools = []
        for label, a, b, ra, rb, fee in specs:
            name = f"pool {label} {SYMBOLS[a]}/{SYMBOLS[b]}"
            key = derived(seed, name)
            extra = [derived(seed, f"{name} {k}") for k in range(9)]
            va, vb = bank.create_raydium_pool(key, a, b, ra, rb, fee, 10_000, (DECIMALS[a], DECIMALS[b]), extra)
            self.pools.append({"venue": "raydium", "label": label, "key": key, "mintA": a, "mintB": b, "vaultA": va, "vaultB": vb, "feeBps": fee})
        self.table = derived(seed, "lookup table")
        entries = [RAYDIUM_AMM, TOKEN]
        for p in self.pools:
            entries += [p["key"], RAYDIUM_AUTHORITY, p["vaultA"], p["vaultB"]]
        bank.create_lookup_table(self.table, entries)

    def fund(self, owner: Pubkey, lamports: int, tokens: dict | None = None):
        """`lamports` to `owner`'s system account, and its token accounts (ATAs) holding `tokens`."""
        self.bank.accounts[owner] = Account(lamports)
        for mint in DECIMALS:
            amount = (tokens or {}).get(mint, 0)
            self.bank.set_token_account(ata_address(owner, mint), mint, owner, amount)

    def drift(self, stand_in=None):
        """A random trader's swap on one pool each slot, by the pool's own formula: prices wander
        and gaps open (returns the accounts it wrote, for subscriptions)."""
        p = self.rng.choice(self.pools)
        info = RaydiumPool.read(self.bank.accounts[p["key"]])
        a_to_b = self.rng.random() < 0.5
        vin, vout = (p["vaultA"], p["vaultB"]) if a_to_b else (p["vaultB"], p["vaultA"])
        tin, tout = TokenAccount.read(self.bank.accounts[vin]), TokenAccount.read(self.bank.accounts[vout])
        amount = tin.amount * self.rng.randint(1, 40) // 10_000
        out = raydium_out(amount, tin.amount, tout.amount, info.fee_num, info.fee_den)
        for key, t, delta in ((vin, tin, amount), (vout, tout, -out)):
            set_amount(self.bank.accounts[key], t.amount + delta)
            if t.native is not None:  # wrapped SOL: its lamports move with its amount
                self.bank.accounts[key].lamports += delta
        return [str(vin), str(vout)]

    def manifest(self):
        return {
            "mints": {SYMBOLS[m]: {"mint": str(m), "decimals": d} for m, d in DECIMALS.items()},
            "pools": [{"venue": p["venue"], "label": p["label"], "pool": str(p["key"]), "authority": str(RAYDIUM_AUTHORITY), "mintA": str(p["mintA"]),
                       "mintB": str(p["mintB"]), "vaultA": str(p["vaultA"]), "vaultB": str(p["vaultB"]), "feeBps": p["feeBps"]} for p in self.pools],
            "lookupTable": str(self.table), "program": str(RAYDIUM_AMM),
        }
