"""The lab's statistical-arbitrage market: a common factor and two pairs whose spread reverts.

Every block the driver sets target prices and swaps each venue there through its real router:

- the factor: USDC per WETH, a random walk of `FACTOR_STEP` a block (log units; each step drawn a
  round ahead, `lead`, which the lab's Binance stand-in quotes), on the WETH/USDC
  V2 venues (and, in the history mined before serving, both Uniswap V3 tiers; live, searchers
  bring those along), so every token priced in USDC moves with it;
- two pairs, WETH/WBTC and stETH/WETH (both V2 venues each): the log price of the pair's pool
  follows an AR(1) around its start with coefficient `PHI` and a stationary deviation of
  `SPREAD_STD`. Priced in USDC, each pair's two tokens are correlated (the factor) and their log
  spread is the pair pool's log price: stationary, mean-reverting.

A schedule adds events on top of the noise, `EVERY` blocks apart, one pair at a time:

- `dip`: the spread is held `DIP` deviations below its mean for `HOLD` blocks (long enough for a
  searcher a block or two behind), then the AR(1) resumes from there (it reverts): a position
  opened on it closes on reversion;
- `break`: `DIP` below for `HOLD` blocks, then `BREAK` below for twice that, then back to the
  mean: a position opened at the dip meets its stop-loss, and is closed while the spread is there.

`prehistory(n)` mines n blocks of this market before the devnet serves, so a searcher that starts
after it can warm its windows up from history (a node keeps the last 128 blocks of state)."""
import math
import random

from eth_abi import encode

FACTOR_STEP = 0.006
PHI = 0.3
SPREAD_STD = 0.004
EVERY = 18
DIP = 3.5
BREAK = 6.0
HOLD = 3
FAR = 2**40
# The pairs: (pool name on the V2 DEXs, the token whose price in the other the spread is).
PAIRS = [("WETH/WBTC", 0.05), ("WETH/stETH", 1.0)]


class StatArbMarket:
    # Seconds after a head that the live market trades (its block's swaps come after the searchers' first look).
    DELAY = 0.5
    def __init__(self, lab, seed):
        self.lab = lab
        self.seed = seed
        self.key = None
        self.rng = random.Random(seed * 7919 + 17)
        self.factor = 0.0
        # The factor of the next round, drawn a round ahead: a CEX that leads the pools shows it.
        self.lead = None
        self.spreads = [0.0 for _ in PAIRS]
        self.round = 0
        self.swaps = 0
        self.failures = 0
        self.events = []  # (round, pair index, kind) of every scheduled event started
        self.v3_factor = False  # the factor on the V3 venues too (history only)

    # ------------------------------------------------------------------ deployment

    @staticmethod
    def deploy(lab):
        """stETH and its V2 pools with WETH (one stETH is one WETH to start), on both V2 DEXs (the
        trader's approvals and the lenders' balances come with every other token's)."""
        from .lab import ours
        m = lab.m
        m["tokens"]["stETH"] = {"address": lab.deploy(ours("MockERC20"), "stETH", "stETH", 18), "decimals": 18}
        lab.mint("stETH", lab.deployer, 10**12 * 10**18)
        lab.mint("stETH", lab.trader, 10**12 * 10**18)
        for dex in ("sushiswap", "uniswap_v2"):
            d = m["dexes"][dex]
            d["pools"]["WETH/stETH"] = lab.v2_pool(d["factory"], "WETH", "stETH", 500, 1.0)
        m["statArb"] = {"pairs": [name for name, _ in PAIRS], "factorStep": FACTOR_STEP, "phi": PHI, "spreadStd": SPREAD_STD,
                        "every": EVERY, "dip": DIP, "break": BREAK, "hold": HOLD}

    # Statistical positions hold inventory: their own executor (an own-capital contract, apart from
    # the cross-chain one, so its balances move only with positions), key and tokens.
    INVENTORY = {"WETH": 200, "WBTC": 10, "stETH": 200, "USDC": 400_000, "DAI": 400_000, "USDT": 400_000}

    def deploy_inventory(self, lab):
        from eth_account import Account
        from eth_utils import keccak
        from .lab import ours
        m = lab.m
        self.key = "0x" + keccak(text=f"arbiter-lab-stat-arb-{self.seed}").hex()
        executor = m["executors"]["statArb"] = lab.deploy(ours("CrossChainArbitrage"))
        sender = Account.from_key(self.key).address
        lab.send(executor, "set_executor(address,bool)", ["address", "bool"], [sender, True])
        lab.node.fund(sender, 100 * 10**18)
        for sym, units in self.INVENTORY.items():
            lab.mint(sym, executor, units * 10 ** m["tokens"][sym]["decimals"])

    # ------------------------------------------------------------------ targets

    def advance(self):
        """The next block's targets: the factor's step, each spread's AR(1) step, the schedule."""
        self.round += 1
        if self.lead is None:
            self.lead = self.factor + FACTOR_STEP * self.rng.gauss(0, 1)
        self.factor = self.lead
        self.lead = self.factor + FACTOR_STEP * self.rng.gauss(0, 1)
        innovation = SPREAD_STD * math.sqrt(1 - PHI * PHI)
        for i in range(len(PAIRS)):
            self.spreads[i] = PHI * self.spreads[i] + innovation * self.rng.gauss(0, 1)
        n = self.round // EVERY
        phase = self.round % EVERY
        pair, kind = n % len(PAIRS), ("dip", "break")[(n // len(PAIRS)) % 2]
        if n > 0:
            if phase == 0:
                self.events.append((self.round, pair, kind))
            if phase < HOLD:
                self.spreads[pair] = -DIP * SPREAD_STD
            elif kind == "break" and phase < 3 * HOLD:
                self.spreads[pair] = -BREAK * SPREAD_STD
            elif kind == "break" and phase == 3 * HOLD:
                self.spreads[pair] = 0.0

    def round_swaps(self):
        """Swaps every venue to its target (on the state of the last block)."""
        self.advance()
        m = self.lab.m
        targets = [("WETH/USDC", 2000 * math.exp(self.factor))] + [(name, base * math.exp(s)) for (name, base), s in zip(PAIRS, self.spreads)]
        for name, price in targets:
            for dex in ("sushiswap", "uniswap_v2"):
                self.to_target_v2(dex, name, price)
            if name == "WETH/USDC" and self.v3_factor:
                for fee in (500, 3000):
                    self.to_target_v3(f"WETH/USDC/{fee}", price)

    # ------------------------------------------------------------------ swaps

    def _raw_target(self, name, price):
        """(token0 symbol, token1 symbol, token1 per token0 in raw units) for `price` of the second per the first."""
        a, b = name.split("/")[:2]
        ta, tb = self.lab.m["tokens"][a], self.lab.m["tokens"][b]
        raw = price * 10 ** tb["decimals"] / 10 ** ta["decimals"]
        return (a, b, raw) if int(ta["address"], 16) < int(tb["address"], 16) else (b, a, 1 / raw)

    def to_target_v2(self, dex, name, price):
        pair = self.lab.m["dexes"][dex]["pools"][name]
        t0, t1, target = self._raw_target(name, price)
        r0, r1, _ = self.lab.view(pair, "getReserves()", [], [], ["uint112", "uint112", "uint32"])
        if abs(math.log(target * r0 / r1)) < 5e-4:
            return
        k = r0 * r1
        if target > r1 / r0:  # token1 in
            sell, amount = t1, int((math.sqrt(k * target) - r1) / 0.997)
        else:
            sell, amount = t0, int((math.sqrt(k / target) - r0) / 0.997)
        if amount <= 0:
            return
        self._swap(lambda: self.lab.swap(dex, name, sell, amount))

    def to_target_v3(self, name, price):
        lab = self.lab
        pool = lab.m["dexes"]["uniswap_v3"]["pools"][name]
        t0, t1, target = self._raw_target(name, price)
        (slot0,) = lab.view(pool, "slot0()", [], [], ["(uint160,int24,uint16,uint16,uint16,uint8,bool)"])
        current = (slot0[0] / 2**96) ** 2
        if abs(math.log(target / current)) < 5e-4:
            return
        sell, buy = (t0, t1) if target < current else (t1, t0)
        limit = int(math.sqrt(target) * 2**96)
        ts, tb = lab.m["tokens"][sell]["address"], lab.m["tokens"][buy]["address"]
        from .lab import selector
        data = selector("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))") + encode(
            ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"],
            [(ts, tb, int(name.split("/")[2]), lab.trader, FAR, 10**9 * 10 ** lab.m["tokens"][sell]["decimals"], 0, limit)])
        self._swap(lambda: lab._trader_send(lab.m["dexes"]["uniswap_v3"]["router"], data, gas=1_500_000))

    def _swap(self, send):
        try:
            send()
            self.swaps += 1
        except Exception:  # noqa: BLE001 - a failed swap must not stop the market
            self.failures += 1

    def prehistory(self, blocks):
        """`blocks` blocks of this market, mined at once (a block per round, not per swap). With no
        searcher to follow the factor, the V3 venues are moved to it too; live, only the V2 ones
        are (the V3 pools' swaps cost the devnet most, and the searchers bring them along)."""
        node = self.lab.node
        automine, node.automine = node.automine, False
        self.v3_factor = True
        try:
            for _ in range(blocks):
                self.round_swaps()
                node.mine()
        finally:
            node.automine = automine
            self.v3_factor = False
