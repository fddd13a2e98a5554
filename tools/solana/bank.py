"""The Solana stand-in's ledger: accounts, slots, blockhashes and an executor for the programs a
searcher's transactions use (System transfer, ComputeBudget, SPL Token transfer / transferChecked /
syncNative / closeAccount, the Associated Token Account program's create, a constant-product
pool program of our own, and Raydium AMM v4's pools: `AmmInfo` accounts in the program's layout
(raydiumsdk's `LIQUIDITY_STATE_LAYOUT_V4`) under the program's id, swapped by its formula). Transactions are parsed and their signatures verified by `solders`; each
executes atomically on a copy of the accounts it names, fees are charged as the runtime charges
them (5,000 lamports a signature plus ceil(limit × price / 10^6)), and an error comes out in the
RPC's own shape (`{"InstructionError": [index, …]}`, `"BlockhashNotFound"`, …)."""
import hashlib
import struct
from dataclasses import dataclass, field

from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from . import bridge

SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
COMPUTE_BUDGET = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
ATA = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsMqW3jWm6g7BMGTq8z5AX")
ALT_PROGRAM = Pubkey.from_string("AddressLookupTab1e1111111111111111111111111")
WSOL = Pubkey.from_string("So11111111111111111111111111111111111111112")
# The stand-in's constant-product pool program: a key of our own (no such program on mainnet).
CPMM = Pubkey(hashlib.sha256(b"arbiter stand-in constant-product pools").digest())
RAYDIUM_AMM = Pubkey.from_string("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8")
RAYDIUM_INFO_SIZE = 752
PHOENIX = Pubkey.from_string("PhoeNiXZ8ByJGLkxNfZRnkUfjvmuYqLR89jjFHGqdXY")
# The stand-in's clock: unix time at slot 0, and 400 ms a slot after it (the Clock sysvar's time).
GENESIS_TIME = 1_767_225_600
CLOCK = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
SYSVAR = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")
SLOTS_PER_EPOCH = 432_000

LAMPORTS_PER_SIGNATURE = 5_000
TOKEN_ACCOUNT_SIZE = 165
MINT_SIZE = 82
MAX_COMPUTE_UNITS = 1_400_000
# Without SetComputeUnitLimit the limit is 200,000 per instruction of a program, 3,000 per
# instruction of a builtin (System, ComputeBudget), as the runtime reserves them.
DEFAULT_UNITS_PER_INSTRUCTION = 200_000
DEFAULT_UNITS_PER_BUILTIN = 3_000
BLOCKHASH_VALIDITY = 150  # blocks a blockhash may be used after the block it was taken in
# Compute units each instruction costs: the builtins' as the runtime charges them, the Token
# program's of the size the one LiteSVM ships reports (tests/test_bank.py compares; its fast paths
# vary them by a few dozen), the ATA program's and our pool program's of the order of theirs on mainnet.
UNITS = {"system": 150, "budget": 150, "transfer": 76, "transferChecked": 105, "syncNative": 201,
         "closeAccount": 118, "ataCreate": 21_000, "ataExists": 4_000, "swap": 26_000}


def rent_exempt(size: int) -> int:
    """The rent-exempt minimum: (128 + size) bytes × 3,480 lamports/byte-year × 2 years."""
    return (128 + size) * 3_480 * 2


class TxError(Exception):
    """A transaction error in the RPC's JSON shape."""

    def __init__(self, err, logs=None):
        super().__init__(str(err))
        self.err = err
        self.logs = logs or []


def ix_error(index, what):
    return TxError({"InstructionError": [index, what]})


@dataclass
class Account:
    lamports: int
    owner: Pubkey = SYSTEM
    data: bytes = b""
    executable: bool = False

    def json(self, encoding="base64"):
        import base64
        return {"data": [base64.b64encode(self.data).decode(), "base64"], "executable": self.executable,
                "lamports": self.lamports, "owner": str(self.owner), "rentEpoch": 18446744073709551615, "space": len(self.data)}


def token_account_data(mint: Pubkey, owner: Pubkey, amount: int, native: int | None = None) -> bytes:
    """An initialized SPL Token account (165 bytes): mint, owner, amount, no delegate, state 1,
    is_native (the rent reserve for wrapped SOL), no delegated amount, no close authority."""
    out = bytes(mint) + bytes(owner) + struct.pack("<Q", amount) + bytes(36) + b"\x01"
    out += (struct.pack("<I", 1) + struct.pack("<Q", native)) if native is not None else bytes(12)
    return out + bytes(8) + bytes(36)


def mint_data(decimals: int, supply: int = 0, authority: Pubkey | None = None) -> bytes:
    auth = (struct.pack("<I", 1) + bytes(authority)) if authority else bytes(36)
    return auth + struct.pack("<Q", supply) + bytes([decimals, 1]) + bytes(36)


@dataclass
class TokenAccount:
    mint: Pubkey
    owner: Pubkey
    amount: int
    native: int | None

    @staticmethod
    def read(a: Account):
        if a is None or a.owner != TOKEN or len(a.data) != TOKEN_ACCOUNT_SIZE or a.data[108] != 1:
            return None
        native = struct.unpack_from("<Q", a.data, 113)[0] if struct.unpack_from("<I", a.data, 109)[0] == 1 else None
        return TokenAccount(Pubkey(a.data[0:32]), Pubkey(a.data[32:64]), struct.unpack_from("<Q", a.data, 64)[0], native)


def set_amount(a: Account, amount: int):
    a.data = a.data[:64] + struct.pack("<Q", amount) + a.data[72:]


def ata_address(owner: Pubkey, mint: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([bytes(owner), bytes(TOKEN), bytes(mint)], ATA)[0]


def pool_authority(pool: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([b"authority", bytes(pool)], CPMM)[0]


# Raydium AMM v4's one authority over every pool's vaults (5Q544f… on mainnet).
RAYDIUM_AUTHORITY = Pubkey.find_program_address([b"amm authority"], RAYDIUM_AMM)[0]


def raydium_info(coin_mint: Pubkey, pc_mint: Pubkey, coin_vault: Pubkey, pc_vault: Pubkey, fee_num: int, fee_den: int,
                 coin_decimals: int, pc_decimals: int, extra_keys) -> bytes:
    """An `AmmInfo` (752 bytes) in the program's layout, built by raydiumsdk's construct: status 6
    (swaps only, as a pool whose OpenBook market is gone), the swap fee, both vaults and mints;
    the other keys (LP mint, open orders, market, …) are placeholders a swap does not read."""
    from raydium.layouts import LIQUIDITY_STATE_LAYOUT_V4 as layout
    fields = {f.name: 0 for f in layout.subcons if f.name}
    fields.update(status=6, nonce=254, coinDecimals=coin_decimals, pcDecimals=pc_decimals, tradeFeeNumerator=25, tradeFeeDenominator=10_000,
                  swapFeeNumerator=fee_num, swapFeeDenominator=fee_den, pnlNumerator=12, pnlDenominator=100)
    for name, k in zip(("lpMintAddress", "ammOpenOrders", "serumMarket", "serumProgramId", "ammTargetOrders", "poolWithdrawQueue",
                        "poolTempLpTokenAccount", "ammOwner", "pnlOwner"), extra_keys):
        fields[name] = bytes(k)
    fields.update(poolCoinTokenAccount=bytes(coin_vault), poolPcTokenAccount=bytes(pc_vault), coinMintAddress=bytes(coin_mint), pcMintAddress=bytes(pc_mint))
    data = layout.build(fields)
    assert len(data) == RAYDIUM_INFO_SIZE
    return data


@dataclass
class RaydiumPool:
    status: int
    fee_num: int
    fee_den: int
    pnl_coin: int
    pnl_pc: int
    coin_vault: Pubkey
    pc_vault: Pubkey
    coin_mint: Pubkey
    pc_mint: Pubkey

    @staticmethod
    def read(a):
        """The `AmmInfo` in `a` (owned by the program, 752 bytes), else None."""
        if a is None or a.owner != RAYDIUM_AMM or len(a.data) != RAYDIUM_INFO_SIZE:
            return None
        from raydium.layouts import LIQUIDITY_STATE_LAYOUT_V4 as layout
        f = layout.parse(a.data)
        return RaydiumPool(f.status, f.swapFeeNumerator, f.swapFeeDenominator, f.needTakePnlCoin, f.needTakePnlPc,
                           Pubkey(bytes(f.poolCoinTokenAccount)), Pubkey(bytes(f.poolPcTokenAccount)),
                           Pubkey(bytes(f.coinMintAddress)), Pubkey(bytes(f.pcMintAddress)))


def raydium_out(amount_in: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> int:
    """`swap_base_in`: the fee is ceil(in·num/den), the rest trades on x·y = k (rounded down)."""
    after = amount_in - (-(-amount_in * fee_num // fee_den))
    return reserve_out * after // (reserve_in + after)


def phoenix_book(a: Account | None):
    """A Phoenix market account's parsed book and its (base, quote) vaults, or None."""
    from . import phoenix
    if a is None or a.owner != PHOENIX:
        return None
    try:
        book = phoenix.parse_market(a.data)
    except phoenix.PhoenixError:
        return None
    return dict(book, vaults=(Pubkey(a.data[80:112]), Pubkey(a.data[160:192])), mints=(Pubkey(a.data[48:80]), Pubkey(a.data[128:160])))


def pool_data(mint_a: Pubkey, mint_b: Pubkey, vault_a: Pubkey, vault_b: Pubkey, fee_bps: int) -> bytes:
    return bytes(mint_a) + bytes(mint_b) + bytes(vault_a) + bytes(vault_b) + struct.pack("<H", fee_bps)


def cpmm_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Constant product with the fee on the input, all integers (rounded down)."""
    net = amount_in * (10_000 - fee_bps)
    return net * reserve_out // (reserve_in * 10_000 + net)


def route_data_with_extras(amount_in: int, min_out: int, extras: list) -> bytes:
    """A route whose hops may take more accounts than the six (a Whirlpool's tick arrays): tag 3,
    amount in, minimum out, hop count, then each hop's count of extra accounts, which follow its six."""
    return b"\x03" + struct.pack("<QQB", amount_in, min_out, len(extras)) + bytes(extras)


def swap_data(amount_in: int, min_out: int) -> bytes:
    """The pool program's swap instruction data: tag 1, amount in, minimum out (u64 LE)."""
    return b"\x01" + struct.pack("<QQ", amount_in, min_out)


def route_data(amount_in: int, min_out: int, hops: int) -> bytes:
    """A route through `hops` pools (as an aggregator's route instruction): tag 2, amount in,
    minimum out of the last hop, hop count. Accounts: user (signer), token program, then per hop
    pool, authority, vault in, vault out, user source, user destination."""
    return b"\x02" + struct.pack("<QQB", amount_in, min_out, hops)


@dataclass
class Outcome:
    signature: str
    err: object
    logs: list
    units: int
    fee: int
    slot: int
    priority_price: int
    writable: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)  # getTransaction's balances, once committed
    raw: bytes = b""
    post: dict | None = None  # every account it touched, after it (on success), for simulations


class Bank:
    """Accounts at the current slot. `execute` is all or nothing; `simulate` never commits."""

    def __init__(self, seed_hash: bytes = b"arbiter solana stand-in"):
        self.accounts: dict[Pubkey, Account] = {}
        self.slot = 1
        self.block_height = 1
        self.blockhashes: dict[str, int] = {}  # blockhash → last valid block height
        self.latest_hash = Hash(hashlib.sha256(seed_hash).digest())
        self.blockhashes[str(self.latest_hash)] = self.block_height + BLOCKHASH_VALIDITY
        self.statuses: dict[str, Outcome] = {}
        self.fees_by_slot: dict[int, list] = {}  # slot → [(price, writable keys)] of landed transactions
        from .venues import DLMM, WHIRLPOOL
        # The token bridge's posted messages (each with its sequence, slot and signature); a
        # transfer in leaves its claim account.
        self.bridge_messages: list[dict] = []
        for program in (SYSTEM, COMPUTE_BUDGET, TOKEN, ATA, CPMM, RAYDIUM_AMM, WHIRLPOOL, DLMM, PHOENIX, ALT_PROGRAM, bridge.PROGRAM):
            self.accounts[program] = Account(1, Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111"), b"", True)
        self._clock()

    def _clock(self):
        """The Clock sysvar at this slot: slot, epoch start time, epoch, leader-schedule epoch, unix time."""
        epoch = self.slot // SLOTS_PER_EPOCH
        start = GENESIS_TIME + epoch * SLOTS_PER_EPOCH * 2 // 5
        self.accounts[CLOCK] = Account(rent_exempt(40), SYSVAR, struct.pack("<QqQQq", self.slot, start, epoch, epoch + 1, self.unix_time()))

    # ------------------------------------------------------------------ time

    def advance(self):
        """The next slot (every slot a block here): a new blockhash valid for 150 blocks."""
        self.slot += 1
        self.block_height += 1
        self._clock()
        self.latest_hash = Hash(hashlib.sha256(bytes(self.latest_hash)).digest())
        self.blockhashes[str(self.latest_hash)] = self.block_height + BLOCKHASH_VALIDITY
        for h in [h for h, last in self.blockhashes.items() if last < self.block_height]:
            del self.blockhashes[h]
        for s in [s for s in self.fees_by_slot if s < self.slot - 150]:
            del self.fees_by_slot[s]

    def unix_time(self) -> int:
        return GENESIS_TIME + self.slot * 2 // 5

    def expire(self, blockhash: str):
        self.blockhashes.pop(blockhash, None)

    # ------------------------------------------------------------------ accounts

    def get(self, key: Pubkey):
        return self.accounts.get(key)

    def set_token_account(self, key: Pubkey, mint: Pubkey, owner: Pubkey, amount: int):
        native = rent_exempt(TOKEN_ACCOUNT_SIZE) if mint == WSOL else None
        lamports = rent_exempt(TOKEN_ACCOUNT_SIZE) + (amount if mint == WSOL else 0)
        self.accounts[key] = Account(lamports, TOKEN, token_account_data(mint, owner, amount, native))

    def create_pool(self, key: Pubkey, mint_a: Pubkey, mint_b: Pubkey, reserve_a: int, reserve_b: int, fee_bps: int = 30):
        auth = pool_authority(key)
        va, vb = ata_address(auth, mint_a), ata_address(auth, mint_b)
        self.set_token_account(va, mint_a, auth, reserve_a)
        self.set_token_account(vb, mint_b, auth, reserve_b)
        self.accounts[key] = Account(rent_exempt(130), CPMM, pool_data(mint_a, mint_b, va, vb, fee_bps))
        return va, vb

    def create_raydium_pool(self, key: Pubkey, coin_mint: Pubkey, pc_mint: Pubkey, coin_amount: int, pc_amount: int, fee_num: int, fee_den: int,
                            decimals: tuple, extra_keys):
        """A Raydium AMM v4 pool: its `AmmInfo` at `key` and its two vaults, token accounts of the
        program's authority at addresses derived from the pool (as the program's own are)."""
        vaults = [Pubkey.find_program_address([bytes(key), bytes(m), b"vault"], RAYDIUM_AMM)[0] for m in (coin_mint, pc_mint)]
        self.set_token_account(vaults[0], coin_mint, RAYDIUM_AUTHORITY, coin_amount)
        self.set_token_account(vaults[1], pc_mint, RAYDIUM_AUTHORITY, pc_amount)
        data = raydium_info(coin_mint, pc_mint, vaults[0], vaults[1], fee_num, fee_den, decimals[0], decimals[1], extra_keys)
        self.accounts[key] = Account(rent_exempt(RAYDIUM_INFO_SIZE), RAYDIUM_AMM, data)
        return vaults[0], vaults[1]

    def create_whirlpool(self, key: Pubkey, mint_a: Pubkey, mint_b: Pubkey, amount_a: int, amount_b: int, spacing: int, fee_rate: int,
                         liquidity: int, sqrt_price: int, tick: int, band: int, config: Pubkey):
        """An Orca Whirlpool: its account at `key`, vaults owned by the pool (as the program's are),
        and tick arrays `band` each side of the one holding the price (none of their ticks
        initialized: one full-range position). Returns the vaults and the tick arrays' keys."""
        from .venues import WHIRLPOOL, TICKS_PER_ARRAY, Whirlpool, array_start, tick_array_address, tick_array_data, whirlpool_data
        vaults = [Pubkey.find_program_address([bytes(key), bytes(m), b"vault"], WHIRLPOOL)[0] for m in (mint_a, mint_b)]
        self.set_token_account(vaults[0], mint_a, key, amount_a)
        self.set_token_account(vaults[1], mint_b, key, amount_b)
        data = whirlpool_data(config, spacing, fee_rate, liquidity, sqrt_price, tick, mint_a, vaults[0], mint_b, vaults[1])
        self.accounts[key] = Account(rent_exempt(len(data)), WHIRLPOOL, data)
        width = TICKS_PER_ARRAY * spacing
        arrays = []
        for k in range(-band, band + 1):
            start = array_start(tick, spacing) + k * width
            a = tick_array_address(key, start)
            self.accounts[a] = Account(rent_exempt(9988), WHIRLPOOL, tick_array_data(start, key))
            arrays.append(a)
        return vaults[0], vaults[1], arrays

    def create_raydium_clmm(self, key: Pubkey, mint_0: Pubkey, mint_1: Pubkey, spacing: int, fee_rate: int, price: int, tick: int,
                            positions: list, config: Pubkey, observation: Pubkey):
        """A Raydium CLMM pool: `PoolState` at `key` (mint 0 < mint 1), its `AmmConfig` at `config`,
        vaults owned by the pool holding what `positions` ((lower, upper, liquidity), …) deposit at
        `price`, and a tick array for every array holding a position's bound (marked in the pool's
        bitmap). Returns the vaults and the tick arrays' keys."""
        from . import clmm
        vaults = [clmm.vault_address(key, m) for m in (mint_0, mint_1)]
        amounts = clmm.position_amounts(positions, price, tick)
        for v, m, a in zip(vaults, (mint_0, mint_1), amounts):
            self.set_token_account(v, m, key, a)
        slots, bitmap = clmm.position_ticks(positions, spacing)
        in_range = sum(l for lo, hi, l in positions if lo <= tick < hi)
        data = clmm.pool_bytes(config=config, mint0=mint_0, mint1=mint_1, vault0=vaults[0], vault1=vaults[1], observation=observation,
                               spacing=spacing, liquidity=in_range, sqrt_price=price, tick=tick, bitmap=bitmap)
        self.accounts[key] = Account(rent_exempt(len(data)), clmm.PROGRAM, data)
        config_data = clmm.config_bytes(trade_fee_rate=fee_rate, tick_spacing=spacing)
        self.accounts[config] = Account(rent_exempt(len(config_data)), clmm.PROGRAM, config_data)
        arrays = []
        for start in sorted(slots):
            a = clmm.tick_array_address(key, start)
            self.accounts[a] = Account(rent_exempt(clmm.TICK_ARRAY_BYTES), clmm.PROGRAM, clmm.tick_array_bytes(key, start, spacing, slots[start]))
            arrays.append(a)
        return vaults[0], vaults[1], arrays

    def create_dlmm_pair(self, key: Pubkey, mint_x: Pubkey, mint_y: Pubkey, active_id: int, bin_step: int, base_factor: int,
                         per_bin_x: int, per_bin_y: int, band: int, oracle: Pubkey):
        """A Meteora DLMM pair: its `LbPair` at `key`, reserves owned by the pair, and bin arrays
        `band` each side of the active one; every bin above the active one holds `per_bin_x` of X,
        every one below `per_bin_y` of Y, the active one half of each. Returns the reserves and
        the bin arrays' keys."""
        from .venues import BINS_PER_ARRAY, DLMM, bin_array_address, bin_array_data, bin_array_index, bin_price, lb_pair_data
        reserves = [Pubkey.find_program_address([bytes(key), bytes(m)], DLMM)[0] for m in (mint_x, mint_y)]
        arrays, total_x, total_y = [], 0, 0
        center = bin_array_index(active_id)
        for index in range(center - band, center + band + 1):
            bins = {}
            for slot in range(BINS_PER_ARRAY):
                bin_id = index * BINS_PER_ARRAY + slot
                x = per_bin_x if bin_id > active_id else per_bin_x // 2 if bin_id == active_id else 0
                y = per_bin_y if bin_id < active_id else per_bin_y // 2 if bin_id == active_id else 0
                bins[slot] = (x, y, bin_price(bin_id, bin_step))
                total_x, total_y = total_x + x, total_y + y
            a = bin_array_address(key, index)
            self.accounts[a] = Account(rent_exempt(10136), DLMM, bin_array_data(index, key, bins))
            arrays.append(a)
        self.set_token_account(reserves[0], mint_x, key, total_x)
        self.set_token_account(reserves[1], mint_y, key, total_y)
        data = lb_pair_data(active_id, bin_step, base_factor, mint_x, mint_y, reserves[0], reserves[1], oracle)
        self.accounts[key] = Account(rent_exempt(len(data)), DLMM, data)
        return reserves[0], reserves[1], arrays

    def create_phoenix_market(self, key: Pubkey, base_mint: Pubkey, quote_mint: Pubkey, base_amount: int, quote_amount: int,
                              bids: list, asks: list, rng, **params):
        """A Phoenix market: its account at `key` (`MarketHeader` and `FIFOMarket`, the books as the
        program's red-black trees) and its two vaults at the program's addresses (["vault", market,
        mint]), each its own token authority, holding `base_amount` and `quote_amount`. Returns the vaults."""
        from . import phoenix
        vaults = [Pubkey.find_program_address([b"vault", bytes(key), bytes(m)], PHOENIX)[0] for m in (base_mint, quote_mint)]
        for vault, mint, amount in zip(vaults, (base_mint, quote_mint), (base_amount, quote_amount)):
            self.set_token_account(vault, mint, vault, amount)
        data = phoenix.market_bytes(asks=asks, bids=bids, base_mint=bytes(base_mint), quote_mint=bytes(quote_mint), base_vault=bytes(vaults[0]),
                                    quote_vault=bytes(vaults[1]), rng=rng, **params)
        self.accounts[key] = Account(rent_exempt(len(data)), PHOENIX, data)
        return vaults[0], vaults[1]

    def create_lookup_table(self, key: Pubkey, addresses: list):
        """An address lookup table account (56-byte header: type 1, deactivation slot u64::MAX, …)."""
        meta = struct.pack("<I", 1) + struct.pack("<Q", 2**64 - 1) + struct.pack("<Q", self.slot) + b"\x00" + b"\x00" + bytes(32) + bytes(2)
        data = meta[:56] + b"".join(bytes(a) for a in addresses)
        self.accounts[key] = Account(rent_exempt(len(data)), ALT_PROGRAM, data)

    def lookup_table(self, key: Pubkey):
        a = self.accounts.get(key)
        if a is None or a.owner != ALT_PROGRAM or len(a.data) < 56 or (len(a.data) - 56) % 32:
            return None
        return [Pubkey(a.data[i:i + 32]) for i in range(56, len(a.data), 32)]

    # ------------------------------------------------------------------ transactions

    def resolve(self, tx: VersionedTransaction):
        """The message's full key list (static, then every table's writable, then readonly) and
        which of them are writable."""
        m = tx.message
        keys = list(m.account_keys)
        h = m.header
        n = len(keys)
        signed = h.num_required_signatures
        writable = [i < signed - h.num_readonly_signed_accounts if i < signed else i < n - h.num_readonly_unsigned_accounts for i in range(n)]
        lookups = list(getattr(m, "address_table_lookups", []) or [])
        w_extra, r_extra = [], []
        for lk in lookups:
            table = self.lookup_table(lk.account_key)
            if table is None:
                raise TxError("AddressLookupTableNotFound")
            try:
                w_extra += [table[i] for i in bytes(lk.writable_indexes)]
                r_extra += [table[i] for i in bytes(lk.readonly_indexes)]
            except IndexError:
                raise TxError("InvalidAddressLookupTableIndex") from None
        keys += w_extra + r_extra
        writable += [True] * len(w_extra) + [False] * len(r_extra)
        return keys, writable

    def execute(self, tx: VersionedTransaction, commit=True, verify=True, check_blockhash=True, check_processed=None):
        """Runs `tx`; returns an Outcome (its `err` None on success). Committed when `commit`:
        the fee is charged even when an instruction fails, as the runtime does."""
        sig = str(tx.signatures[0])
        if verify and not all(tx.verify_with_results()):
            raise TxError("SignatureFailure")
        if (commit if check_processed is None else check_processed) and sig in self.statuses:
            raise TxError("AlreadyProcessed")
        if check_blockhash and str(tx.message.recent_blockhash) not in self.blockhashes:
            raise TxError("BlockhashNotFound")
        keys, writable = self.resolve(tx)
        signers = set(keys[: tx.message.header.num_required_signatures])
        limit, price, budget_ixs = self._budget(tx, keys)
        fee = LAMPORTS_PER_SIGNATURE * len(tx.signatures) + (limit * price + 999_999) // 1_000_000
        payer = self.accounts.get(keys[0])
        if payer is None or payer.owner != SYSTEM or payer.lamports < fee:
            raise TxError("InsufficientFundsForFee" if payer else "AccountNotFound")
        work = {k: Account(a.lamports, a.owner, a.data, a.executable) for k in keys if (a := self.accounts.get(k))}
        work[keys[0]].lamports -= fee
        after_fee = {keys[0]: Account(work[keys[0]].lamports, SYSTEM, work[keys[0]].data)}
        logs, units, err = [], 0, None
        messages = []
        try:
            for i, ix in enumerate(tx.message.instructions):
                program = keys[ix.program_id_index]
                metas = [(keys[a], writable[a], keys[a] in signers) for a in bytes(ix.accounts)]
                logs.append(f"Program {program} invoke [1]")
                posted = len(messages)
                used = self._run(i, program, metas, bytes(ix.data), work, signers, messages)
                # A message posted is logged with the sequence it takes if the transaction commits
                # (as Wormhole's core bridge logs "Sequence: N"): how the sender learns its id.
                for n in range(posted, len(messages)):
                    logs.append(f"Program log: Sequence: {len(self.bridge_messages) + n + 1}")
                units += used
                if units > limit:
                    raise ix_error(i, "ComputationalBudgetExceeded")
                logs.append(f"Program {program} consumed {used} of {limit - units + used} compute units")
                logs.append(f"Program {program} success")
            for k, a in work.items():
                # A system account whose balance changed must end empty or rent-exempt (a new one too).
                before = self.accounts[k].lamports if k in self.accounts else 0
                if a.owner == SYSTEM and not a.data and a.lamports != before and 0 < a.lamports < rent_exempt(0):
                    raise TxError({"InsufficientFundsForRent": {"account_index": keys.index(k)}})
        except TxError as e:
            err, logs = e.err, logs + [f"Program failed: {e.err}"]
        outcome = Outcome(sig, err, logs, units, fee, self.slot, price, [str(k) for k, w in zip(keys, writable) if w])
        pre = self._balances(keys) if commit else None
        if commit:
            if err is None:
                for k, a in work.items():
                    if any(k == key and w for key, w in zip(keys, writable)):
                        self.accounts[k] = a
                for m in messages:  # posted only by a transaction that commits
                    self.bridge_messages.append(dict(m, sequence=len(self.bridge_messages) + 1, slot=self.slot, signature=sig))
            else:
                self.accounts[keys[0]] = after_fee[keys[0]]
            self.statuses[sig] = outcome
            self.fees_by_slot.setdefault(self.slot, []).append((price, outcome.writable))
            post = self._balances(keys)
            outcome.raw = bytes(tx)
            outcome.meta = {"err": err, "fee": fee, "preBalances": pre[0], "postBalances": post[0], "preTokenBalances": pre[1],
                            "postTokenBalances": post[1], "logMessages": logs, "computeUnitsConsumed": units,
                            "status": {"Ok": None} if err is None else {"Err": err}}
        outcome.post = work if err is None else None
        return outcome

    def _balances(self, keys):
        """Lamports of every account of the message (by index over static then loaded keys), and
        token balances of those that are token accounts, in getTransaction's meta shapes."""
        lamports, tokens = [], []
        for i, k in enumerate(keys):
            a = self.accounts.get(k)
            lamports.append(a.lamports if a else 0)
            t = TokenAccount.read(a)
            if t is not None:
                mint = self.accounts.get(t.mint)
                decimals = mint.data[44] if mint and len(mint.data) == MINT_SIZE else 0
                tokens.append({"accountIndex": i, "mint": str(t.mint), "owner": str(t.owner), "programId": str(TOKEN),
                               "uiTokenAmount": {"amount": str(t.amount), "decimals": decimals, "uiAmountString": str(t.amount)}})
        return lamports, tokens

    def _budget(self, tx, keys):
        limit, price, count, default = None, 0, 0, 0
        for i, ix in enumerate(tx.message.instructions):
            builtin = keys[ix.program_id_index] in (SYSTEM, COMPUTE_BUDGET)
            default += DEFAULT_UNITS_PER_BUILTIN if builtin else DEFAULT_UNITS_PER_INSTRUCTION
            if keys[ix.program_id_index] != COMPUTE_BUDGET:
                continue
            d = bytes(ix.data)
            count += 1
            if len(d) == 5 and d[0] == 2:
                limit = struct.unpack_from("<I", d, 1)[0]
            elif len(d) == 9 and d[0] == 3:
                price = struct.unpack_from("<Q", d, 1)[0]
            elif not ((len(d) == 5 and d[0] in (1, 4))):
                raise ix_error(i, "InvalidInstructionData")
        if limit is None:
            limit = default
        return min(limit, MAX_COMPUTE_UNITS), price, count

    def _run(self, i, program, metas, data, work, signers, messages=None):
        if program == COMPUTE_BUDGET:
            return UNITS["budget"]
        if program == SYSTEM:
            return self._system(i, metas, data, work)
        if program == TOKEN:
            return self._token(i, metas, data, work)
        if program == ATA:
            return self._ata(i, metas, data, work)
        if program == CPMM:
            return self._swap(i, metas, data, work)
        if program == RAYDIUM_AMM:
            raise ix_error(i, "InvalidInstructionData")  # pools are swapped through the route instruction here
        if program == bridge.PROGRAM:
            return bridge.transfer(self, i, metas, data, work, messages if messages is not None else [])
        raise ix_error(i, "UnsupportedProgramId")

    @staticmethod
    def _need(i, metas, n):
        if len(metas) < n:
            raise ix_error(i, "NotEnoughAccountKeys")

    def _system(self, i, metas, data, work):
        if len(data) != 12 or struct.unpack_from("<I", data)[0] != 2:
            raise ix_error(i, "InvalidInstructionData")
        self._need(i, metas, 2)
        (src, src_w, src_s), (dst, dst_w, _) = metas[0], metas[1]
        lamports = struct.unpack_from("<Q", data, 4)[0]
        if not src_s:
            raise ix_error(i, "MissingRequiredSignature")
        if not src_w or not dst_w:
            raise ix_error(i, "ReadonlyLamportChange")
        a = work.get(src)
        if a is None or a.owner != SYSTEM or a.data:
            raise ix_error(i, {"Custom": 0} if a is None else "InvalidArgument")
        if a.lamports < lamports:
            raise ix_error(i, {"Custom": 1})  # SystemError::ResultWithNegativeLamports
        a.lamports -= lamports
        work.setdefault(dst, Account(0)).lamports += lamports
        return UNITS["system"]

    def _token(self, i, metas, data, work):
        if not data:
            raise ix_error(i, "InvalidInstructionData")
        tag = data[0]
        if tag in (3, 12):
            checked = tag == 12
            if len(data) != (10 if checked else 9):
                raise ix_error(i, "InvalidInstructionData")
            self._need(i, metas, 4 if checked else 3)
            src, dst, auth = (metas[0], metas[2], metas[3]) if checked else (metas[0], metas[1], metas[2])
            amount = struct.unpack_from("<Q", data, 1)[0]
            s, d = TokenAccount.read(work.get(src[0])), TokenAccount.read(work.get(dst[0]))
            if s is None or d is None:
                raise ix_error(i, "InvalidAccountData")
            if checked:
                mint = work.get(metas[1][0])
                if mint is None or mint.owner != TOKEN or len(mint.data) != MINT_SIZE or metas[1][0] != s.mint:
                    raise ix_error(i, {"Custom": 3})  # TokenError::MintMismatch
                if mint.data[44] != data[9]:
                    raise ix_error(i, {"Custom": 18})  # TokenError::MintDecimalsMismatch
            if s.mint != d.mint:
                raise ix_error(i, {"Custom": 3})
            if not auth[2] or auth[0] != s.owner:
                raise ix_error(i, {"Custom": 4} if auth[0] != s.owner else "MissingRequiredSignature")  # OwnerMismatch
            if not src[1] or not dst[1]:
                raise ix_error(i, "InvalidArgument")
            if s.amount < amount:
                raise ix_error(i, {"Custom": 1})  # TokenError::InsufficientFunds
            if src[0] != dst[0]:
                set_amount(work[src[0]], s.amount - amount)
                set_amount(work[dst[0]], d.amount + amount)
                if s.native is not None:  # wrapped SOL moves its lamports with it
                    work[src[0]].lamports -= amount
                    work[dst[0]].lamports += amount
            return UNITS["transferChecked" if checked else "transfer"]
        if tag == 17:
            self._need(i, metas, 1)
            a = work.get(metas[0][0])
            t = TokenAccount.read(a)
            if t is None or t.native is None:
                raise ix_error(i, {"Custom": 19})  # NonNativeNotSupported
            set_amount(a, a.lamports - t.native)
            return UNITS["syncNative"]
        if tag == 9:
            self._need(i, metas, 3)
            (acct, w, _), (dest, dw, _), (owner, _, signed) = metas[:3]
            a = work.get(acct)
            t = TokenAccount.read(a)
            if t is None:
                raise ix_error(i, "InvalidAccountData")
            if t.native is None and t.amount != 0:
                raise ix_error(i, {"Custom": 11})  # NonNativeHasBalance
            if not signed or owner != t.owner:
                raise ix_error(i, {"Custom": 4})
            work.setdefault(dest, Account(0)).lamports += a.lamports
            work[acct] = Account(0, SYSTEM, b"")
            return UNITS["closeAccount"]
        raise ix_error(i, "InvalidInstructionData")

    def _ata(self, i, metas, data, work):
        if data not in (b"", b"\x00", b"\x01"):
            raise ix_error(i, "InvalidInstructionData")
        self._need(i, metas, 6)
        (payer, _, payer_s), (ata, _, _), (owner, _, _), (mint, _, _) = metas[:4]
        if ata != ata_address(owner, mint):
            raise ix_error(i, "InvalidSeeds")
        existing = work.get(ata)
        t = TokenAccount.read(existing)
        if t is not None:
            if data == b"\x01" and t.owner == owner and t.mint == mint:
                return UNITS["ataExists"]
            raise ix_error(i, {"Custom": 0})  # already in use
        if not payer_s:
            raise ix_error(i, "MissingRequiredSignature")
        m = work.get(mint)
        if m is None or m.owner != TOKEN or len(m.data) != MINT_SIZE:
            raise ix_error(i, "InvalidAccountData")
        rent = rent_exempt(TOKEN_ACCOUNT_SIZE)
        prior = existing.lamports if existing else 0
        if work[payer].lamports < rent - prior:
            raise ix_error(i, {"Custom": 1})
        work[payer].lamports -= max(0, rent - prior)
        native = rent if mint == WSOL else None
        work[ata] = Account(max(rent, prior), TOKEN, token_account_data(mint, owner, max(0, prior - rent) if native else 0, native))
        return UNITS["ataCreate"]

    def _swap(self, i, metas, data, work):
        """Tag 1, one pool. Accounts: pool, its authority, vault in, vault out, user source, user
        destination, user (signer), token program. Tag 2: a route (see `route_data`)."""
        if len(data) == 18 and data[0] == 2:
            return self._route(i, metas, data, work)
        if len(data) >= 18 and data[0] == 3 and len(data) == 18 + data[17]:
            return self._route(i, metas, data, work)
        if len(data) != 17 or data[0] != 1:
            raise ix_error(i, "InvalidInstructionData")
        self._need(i, metas, 8)
        amount_in, min_out = struct.unpack_from("<QQ", data, 1)
        out = self._hop(i, metas[:6], metas[6], metas[7], amount_in, work)
        if out < min_out or out == 0:
            raise ix_error(i, {"Custom": 6001})  # slippage: less out than the minimum
        return UNITS["swap"]

    def _route(self, i, metas, data, work):
        amount, min_out, hops = struct.unpack_from("<QQB", data, 1)
        extras = list(data[18:]) if data[0] == 3 else [0] * hops
        if hops == 0 or hops > 4:
            raise ix_error(i, "InvalidInstructionData")
        self._need(i, metas, 2 + 6 * hops + sum(extras))
        user, token = metas[0], metas[1]
        at = 2
        for h in range(hops):
            amount = self._hop(i, metas[at: at + 6], user, token, amount, work, metas[at + 6: at + 6 + extras[h]])
            at += 6 + extras[h]
            if amount == 0:
                raise ix_error(i, {"Custom": 6001})
        if amount < min_out:
            raise ix_error(i, {"Custom": 6001})
        return UNITS["swap"] * hops

    def _phoenix_fill(self, i, account, book, amount_in, buy, tout):
        """A taker's immediate-or-cancel order on a Phoenix book (the program's Swap): returns (taken,
        out); the side it took from is written back without what it filled (and the expired orders
        it passed over)."""
        import random
        from . import phoenix
        try:
            (taken, out, _, _), after = phoenix.fill(book, amount_in, buy, self.slot, self.unix_time())
        except phoenix.PhoenixError:
            raise ix_error(i, {"Custom": 6017})  # nothing to fill, or the program's arithmetic would fail
        if out > tout.amount:
            raise ix_error(i, {"Custom": 1})
        account.data = phoenix.with_side(account.data, not buy, after, random.Random(self.slot))
        return taken, out

    def _hop(self, i, metas, user, token, amount_in, work, extra=()):
        """One pool (the stand-in's constant-product, a Raydium AMM v4, an Orca Whirlpool, a Raydium
        CLMM, a Meteora DLMM one, or a Phoenix market's book): moves what the pool takes of
        `amount_in` (all of it; a Phoenix book whole lots) from the user's source to the vault in and
        the pool's output to the user's destination; returns the output. A Whirlpool takes its three tick arrays as extra
        accounts, a DLMM pair its three bin arrays (writable: their bins trade), each the pool
        itself writable (its price or active bin moves)."""
        from .venues import Pair, Whirlpool, bin_array_address, tick_array_address
        from .clmm import ClmmPool, tick_array_address as clmm_array_address
        pool = work.get(metas[0][0])
        vin, vout = metas[2][0], metas[3][0]
        raydium = RaydiumPool.read(pool)
        whirlpool = Whirlpool.read(pool)
        pair = Pair.read(pool)
        clmm_pool = ClmmPool.read(pool)
        book = phoenix_book(pool)
        if book is not None:
            vaults, authority = book["vaults"], metas[0][0]
            if not metas[0][1]:
                raise ix_error(i, "InvalidArgument")
        elif clmm_pool is not None:
            vaults, authority = (clmm_pool.vault0, clmm_pool.vault1), metas[0][0]
            if not metas[0][1]:
                raise ix_error(i, "InvalidArgument")
        elif pair is not None:
            vaults, authority = (pair.reserve_x, pair.reserve_y), metas[0][0]
            if not metas[0][1]:
                raise ix_error(i, "InvalidArgument")
        elif whirlpool is not None:
            vaults, authority = (whirlpool.vault_a, whirlpool.vault_b), metas[0][0]
            if not metas[0][1]:
                raise ix_error(i, "InvalidArgument")
        elif raydium is not None:
            if raydium.status not in (1, 6):
                raise ix_error(i, {"Custom": 4})  # the pool does not swap
            vaults, authority = (raydium.coin_vault, raydium.pc_vault), RAYDIUM_AUTHORITY
        elif pool is not None and pool.owner == CPMM and len(pool.data) == 130:
            vaults, authority = (Pubkey(pool.data[64:96]), Pubkey(pool.data[96:128])), pool_authority(metas[0][0])
        else:
            raise ix_error(i, "InvalidAccountData")
        if set((vin, vout)) != set(vaults) or vin == vout or metas[1][0] != authority or token[0] != TOKEN:
            raise ix_error(i, {"Custom": 6000})  # wrong pool accounts
        tin, tout = TokenAccount.read(work.get(vin)), TokenAccount.read(work.get(vout))
        src, dst = TokenAccount.read(work.get(metas[4][0])), TokenAccount.read(work.get(metas[5][0]))
        if None in (tin, tout, src, dst) or src.mint != tin.mint or dst.mint != tout.mint:
            raise ix_error(i, {"Custom": 6000})
        if not user[2] or user[0] != src.owner:
            raise ix_error(i, "MissingRequiredSignature")
        if not all(m[1] for m in (metas[2], metas[3], metas[4], metas[5])):
            raise ix_error(i, "InvalidArgument")
        if src.amount < amount_in:
            raise ix_error(i, {"Custom": 1})
        taken = amount_in
        if book is not None:
            taken, out = self._phoenix_fill(i, pool, book, amount_in, vin == book["vaults"][1], tout)
        elif clmm_pool is not None:
            zero_for_one = vin == clmm_pool.vault0
            starts = clmm_pool.arrays_for(zero_for_one)
            # Extra accounts: the pool's config, then its tick arrays in the swap's order.
            if [m[0] for m in extra] != [clmm_pool.config] + [clmm_array_address(metas[0][0], s) for s in starts]:
                raise ix_error(i, {"Custom": 6028})  # the config or tick arrays given are not the swap's
            arrays = {s: work[m[0]].data for s, m in zip(starts, extra[1:]) if m[0] in work and work[m[0]].data}
            swapped = clmm_pool.swap(work[extra[0][0]].data, arrays, amount_in, zero_for_one)
            if swapped is None:
                raise ix_error(i, {"Custom": 6017})  # the swap cannot be done within the tick arrays given
            out, after = swapped
            if out > tout.amount:
                raise ix_error(i, {"Custom": 1})
            work[metas[0][0]].data = ClmmPool.moved(pool.data, after)
        elif pair is not None:
            swap_for_y = vin == pair.reserve_x
            indexes = pair.arrays_for(swap_for_y)
            if [m[0] for m in extra] != [bin_array_address(metas[0][0], k) for k in indexes] or not all(m[1] for m in extra):
                raise ix_error(i, {"Custom": 6004})  # the bin arrays given are not the swap's
            arrays = {k: work[m[0]].data for k, m in zip(indexes, extra) if m[0] in work and work[m[0]].data}
            swapped = pair.swap(arrays, amount_in, swap_for_y)
            if swapped is None:
                raise ix_error(i, {"Custom": 6017})  # cannot fill within the bin arrays given
            out, active, after = swapped
            if out > tout.amount:
                raise ix_error(i, {"Custom": 1})
            work[metas[0][0]].data = pair.moved(pool.data, active)
            for k, m in zip(indexes, extra):
                if k in after:
                    work[m[0]].data = after[k]
        elif whirlpool is not None:
            a_to_b = vin == whirlpool.vault_a
            starts = whirlpool.arrays_for(metas[0][0], a_to_b)
            if [m[0] for m in extra] != [tick_array_address(metas[0][0], s) for s in starts]:
                raise ix_error(i, {"Custom": 6023})  # InvalidTickArraySequence
            arrays = {s: work[m[0]].data for s, m in zip(starts, extra) if m[0] in work and work[m[0]].data}
            swapped = whirlpool.swap(metas[0][0], arrays, amount_in, a_to_b)
            if swapped is None:
                raise ix_error(i, {"Custom": 6017})  # the swap cannot fill within the tick arrays given
            out, sqrt_price, tick = swapped
            if out > tout.amount:
                raise ix_error(i, {"Custom": 1})
            work[metas[0][0]].data = whirlpool.moved(pool.data, sqrt_price, tick)
        elif raydium is not None:
            coin_in = vin == raydium.coin_vault
            pnl_in, pnl_out = (raydium.pnl_coin, raydium.pnl_pc) if coin_in else (raydium.pnl_pc, raydium.pnl_coin)
            out = raydium_out(amount_in, tin.amount - pnl_in, tout.amount - pnl_out, raydium.fee_num, raydium.fee_den)
            if out >= tout.amount - pnl_out:
                raise ix_error(i, {"Custom": 30})  # the output would take the whole reserve
        else:
            out = cpmm_out(amount_in, tin.amount, tout.amount, struct.unpack_from("<H", pool.data, 128)[0])
        for key, delta in ((metas[4][0], -taken), (vin, taken), (vout, -out), (metas[5][0], out)):
            t = TokenAccount.read(work[key])  # read afresh: a route's hops may share the user's accounts
            set_amount(work[key], t.amount + delta)
            if t.native is not None:
                work[key].lamports += delta
        return out
