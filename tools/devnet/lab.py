"""The lab scenario: tokens, two Uniswap V2-style DEXs, Uniswap V3 with several positions,
QuoterV2, Multicall3, the lender doubles, GPv2Settlement, Arbiter's executors, a funded
executor key, and a seeded market driver that swaps every block."""
import json
import math
import os
import random
import sys

import eth_defi
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ARTIFACTS = os.path.join(ROOT, "contracts", "artifacts")
DEFI = os.path.join(os.path.dirname(eth_defi.__file__), "abi")
Q96 = 2**96
FAR = 2**40


def _code(path):
    with open(path) as f:
        art = json.load(f)
    code = art["bytecode"]
    code = code["object"] if isinstance(code, dict) else code
    return art, bytes.fromhex(code.removeprefix("0x"))


def ours(name):
    return _code(os.path.join(ARTIFACTS, name + ".json"))


def theirs(path):
    return _code(os.path.join(DEFI, path + ".json"))


# The init-code hash of mainnet SushiSwap's pair, a PUSH32 constant in its router's pairFor.
SUSHI_MAINNET_PAIR_HASH = bytes.fromhex("e18a34eb0e04b04f7a0ac29a6e80748dca96319b42c54d679cb821dca90c6303")


def v2_router(pair_hash):
    """Real SushiSwap UniswapV2Router02 bytecode with its pairFor constant set to the lab pair's
    init-code hash (the packaged pair bytecode hashes differently from mainnet's)."""
    art, code = theirs("sushi/UniswapV2Router02")
    push32 = b"\x7f" + SUSHI_MAINNET_PAIR_HASH
    assert code.count(push32) == 1, "the router bytecode no longer holds the mainnet pair hash once"
    return art, code.replace(push32, b"\x7f" + bytes.fromhex(pair_hash.removeprefix("0x")))


def ctor_types(abi):
    c = next((x for x in abi if x["type"] == "constructor"), None)
    return [i["type"] for i in c["inputs"]] if c else []


def selector(sig):
    return function_signature_to_4byte_selector(sig)


class Lab:
    SENDERS = 4

    def __init__(self, node, seed=1, statarb=False, binance=False, cow=False):
        self.node = node
        self.seed = seed
        self.binance = binance
        # The CoW solver and order owner are always deployed (`devnet_cowSettle` sends one on
        # demand); with `cow` the market settles an order every few blocks.
        from .cow import CowMarket
        self.cow = CowMarket(self, seed)
        self.cow_market = cow
        node.cow = self.cow
        self.statarb = None
        if statarb:
            from .statarb import StatArbMarket
            self.statarb = StatArbMarket(self, seed)
        self.t = node.t
        self.rng = random.Random(seed)
        self.deployer = node.accounts[0]
        self.trader = node.accounts[1]
        self.executor_key = "0x" + keccak(text=f"arbiter-lab-executor-{seed}").hex()
        self.executor_address = Account.from_key(self.executor_key).address
        # More senders for the same executors: trades on disjoint pools go out concurrently, each
        # key with its own nonces (a bundle with a key's next nonce cannot land before the one ahead).
        self.executor_keys = [self.executor_key] + ["0x" + keccak(text=f"arbiter-lab-executor-{seed}-{i}").hex()
                                                    for i in range(1, self.SENDERS)]
        # Cross-chain legs sign with a key of their own (their nonces apart from the chain's other trades).
        self.cross_chain_key = "0x" + keccak(text=f"arbiter-lab-cross-chain-{seed}").hex()
        self.market_swaps = 0
        self.market_failures = 0
        self.m = {"chainId": node.chain_id, "tokens": {}, "dexes": {}, "lenders": {}, "executors": {}, "keys": {}}

    # ---------------------------------------------------------------- transactions

    def _tx(self, frm, to, data=b"", value=0, gas=8_000_000):
        tx = {"from": frm, "value": value, "gas": gas, "max_fee_per_gas": 10**11, "max_priority_fee_per_gas": 10**9,
              "data": "0x" + data.hex()}
        if to:
            tx["to"] = to
        # Signed and sent as every devnet transaction is (eth-tester's own send_transaction would
        # drop raw transactions already in the block), then mined.
        h = self.node._send(self.node._sign(tx))
        if not self.node.automine:
            self.node.mine()
        r = self.t.get_transaction_receipt(h)
        if r["status"] != 1:
            raise RuntimeError(f"lab transaction failed: to={to} data={data[:4].hex()}")
        return r

    def deploy(self, art_code, *args):
        art, code = art_code
        r = self._tx(self.deployer, None, code + (encode(ctor_types(art["abi"]), list(args)) if args else b""))
        return to_checksum_address(r["contract_address"])

    def send(self, to, sig, types, args, frm=None):
        return self._tx(frm or self.deployer, to, selector(sig) + encode(types, args))

    def view(self, to, sig, types, args, out_types):
        from eth_abi import decode
        res = self.t.call({"from": self.deployer, "to": to, "data": "0x" + (selector(sig) + encode(types, args)).hex()})
        return decode(out_types, res if isinstance(res, bytes) else bytes.fromhex(res[2:]))

    # ---------------------------------------------------------------- scenario

    def deploy_all(self):
        m = self.m
        weth = self.deploy(theirs("sushi/WETH9Mock"))
        m["tokens"]["WETH"] = {"address": weth, "decimals": 18}
        for sym, dec, name in [("USDC", 6, "MockERC20"), ("DAI", 18, "MockERC20"), ("WBTC", 8, "MockERC20"),
                               ("LINK", 18, "MockERC20"), ("USDT", 6, "MockERC20NoBool")]:
            m["tokens"][sym] = {"address": self.deploy(ours(name), sym, sym, dec), "decimals": dec}
        self.mint_everything()
        # Two V2-style DEXs from the real SushiSwap V2 bytecode (its fee is fixed at 0.3%).
        pair_hash = "0x" + keccak(theirs("sushi/UniswapV2Pair")[1]).hex()
        prices = {"USDC": 2000, "DAI": 2000, "USDT": 2000, "WBTC": 0.05, "LINK": 150}
        for i, name in enumerate(["sushiswap", "uniswap_v2"]):
            factory = self.deploy(theirs("sushi/UniswapV2Factory"), self.deployer)
            pairs = {}
            for sym, price in prices.items():
                skew = 1.0 if i == 0 else 1.01  # the second venue starts 1% apart: an opening
                pairs[f"WETH/{sym}"] = self.v2_pool(factory, "WETH", sym, 500, price * skew)
            pairs["DAI/USDC"] = self.v2_pool(factory, "DAI", "USDC", 1_000_000, 1.0)
            router = self.deploy(v2_router(pair_hash), factory, weth)
            m["dexes"][name] = {"kind": "uniswapV2", "factory": factory, "router": router, "initCodeHash": pair_hash,
                                "feePips": 3000, "pools": pairs}
        # Uniswap V3: factory, 500 and 3000 tiers, positions over several ranges, QuoterV2.
        v3 = self.deploy(theirs("uniswap_v3/UniswapV3Factory"))
        npm = self.deploy(theirs("uniswap_v3/NonfungiblePositionManager"), v3, weth, self.deployer)
        quoter = self.deploy(theirs("uniswap_v3/QuoterV2"), v3, weth)
        v3_router = self.deploy(theirs("uniswap_v3/SwapRouter"), v3, weth)
        pools = {}
        for fee, price in [(500, 2000), (3000, 2005)]:
            pools[f"WETH/USDC/{fee}"] = self.v3_pool(v3, npm, "WETH", "USDC", fee, price)
            pools[f"WETH/DAI/{fee}"] = self.v3_pool(v3, npm, "WETH", "DAI", fee, price)
        m["dexes"]["uniswap_v3"] = {"kind": "uniswapV3", "factory": v3, "positionManager": npm, "quoter": quoter, "router": v3_router,
                                    "initCodeHash": "0x" + keccak(theirs("uniswap_v3/UniswapV3Pool")[1]).hex(), "pools": pools}
        if self.statarb:
            self.statarb.deploy(self)
        # The market's trader swaps through the routers.
        for dex in m["dexes"].values():
            for t in m["tokens"].values():
                self.send(t["address"], "approve(address,uint256)", ["address", "uint256"], [dex["router"], 2**256 - 1], frm=self.trader)
        m["multicall3"] = self.deploy(ours("Multicall3"))
        # Lenders and the CoW settlement double.
        dai = m["tokens"]["DAI"]["address"]
        m["lenders"] = {
            "aaveV3": self.deploy(ours("MockAaveV3Pool")),
            "balancerV2": self.deploy(ours("MockBalancerVault")),
            "syncswap": self.deploy(ours("MockSyncSwapVault")),
            "daiFlashMint": self.deploy(ours("MockDssFlash"), dai, 50_000_000 * 10**18),
            # V3-pool flash: the pools lend; the factory is what vouches for them.
            "uniswapV3Flash": v3,
        }
        for lender in ("aaveV3", "balancerV2", "syncswap"):
            for sym, t in m["tokens"].items():
                units = 10_000 if sym == "WETH" else 10**9  # WETH is backed by real devnet ETH
                self.mint(sym, m["lenders"][lender], units * 10 ** t["decimals"])
        m["gpv2Settlement"] = self.deploy(ours("MockGPv2Settlement"))
        self.cow.deploy()
        # A liquidity bridge (0.05 %), relayed by the deployer (tools/devnet/bridge.py), with
        # liquidity of every token to fill transfers arriving from other lab chains.
        m["bridge"] = {"address": self.deploy(ours("MockBridge"), self.deployer, 500), "feePips": 500, "relayer": self.deployer}
        for sym, t in m["tokens"].items():
            self.mint(sym, m["bridge"]["address"], (5_000 if sym == "WETH" else 10**8) * 10 ** t["decimals"])
        # An OP-stack GasPriceOracle double (Ecotone, OP mainnet's scalars, 20 gwei L1 base fee,
        # 1 gwei blob base fee): the L1 data fee the OP-like profiles read.
        m["gasPriceOracle"] = self.deploy(ours("MockGasPriceOracle"), 20 * 10**9, 10**9, 1368, 810949)
        # Arbiter's executors, with the lab's executor key authorised.
        m["executors"] = {
            "aaveV3": self.deploy(ours("AaveV3FlashArbitrage"), m["lenders"]["aaveV3"]),
            "balancerV2": self.deploy(ours("BalancerV2FlashArbitrage"), m["lenders"]["balancerV2"]),
            "syncswap": self.deploy(ours("SyncSwapFlashArbitrage"), m["lenders"]["syncswap"]),
            "daiFlashMint": self.deploy(ours("DaiFlashMintArbitrage"), m["lenders"]["daiFlashMint"], dai),
            "uniswapV3Flash": self.deploy(ours("UniswapV3FlashArbitrage"), v3),
            "crossChain": self.deploy(ours("CrossChainArbitrage")),
            "direct": self.deploy(ours("DirectArbitrage")),
        }
        for key in self.executor_keys:
            sender = Account.from_key(key).address
            for ex in m["executors"].values():
                self.send(ex, "set_executor(address,bool)", ["address", "bool"], [sender, True])
            self.node.fund(sender, 100 * 10**18)
        cross = Account.from_key(self.cross_chain_key).address
        self.send(m["executors"]["crossChain"], "set_executor(address,bool)", ["address", "bool"], [cross, True])
        self.node.fund(cross, 100 * 10**18)
        self.mint("USDC", m["executors"]["crossChain"], 1_000_000 * 10**6)  # own capital to buy with
        if self.statarb:
            self.statarb.deploy_inventory(self)
        if self.binance:
            from .cexdex import deploy_inventory
            deploy_inventory(self, self.seed)
        # State doubles of a Solidly pool (stable USDC/USDT) and a Curve pool (DAI/USDC): the views
        # and events market state reads, with the values set here recorded for tests.
        tok = m["tokens"]
        usdc, usdt, dai = tok["USDC"]["address"], tok["USDT"]["address"], tok["DAI"]["address"]
        s0, s1 = sorted([usdc, usdt], key=lambda a: int(a, 16))
        solidly = {"token0": s0, "token1": s1, "stable": True, "reserve0": 1_250_000 * 10**6, "reserve1": 1_190_000 * 10**6}
        solidly["address"] = self.deploy(ours("MockSolidlyPool"), s0, s1, True, solidly["reserve0"], solidly["reserve1"])
        curve = {"coins": [dai, usdc], "balances": [2_400_000 * 10**18, 2_350_000 * 10**6], "A": 400, "fee": 4_000_000, "adminFee": 4_000_000_000}
        curve["address"] = self.deploy(ours("MockCurvePool"), curve["coins"], curve["balances"], curve["A"], curve["fee"], curve["adminFee"])
        m["doubles"] = {"solidly": solidly, "curve": curve}
        m["keys"] = {"deployer": self.deployer, "trader": self.trader, "executor": self.executor_address}
        m["executorKey"] = self.executor_key  # a throwaway devnet key, derived from the seed
        m["executorKeys"] = self.executor_keys  # the first is executorKey; all authorised and funded
        m["crossChainKey"] = self.cross_chain_key
        if self.statarb:
            m["statArbKey"] = self.statarb.key
        m["deployedAtBlock"] = self.node.latest_number()
        return m

    def mint_everything(self):
        for sym, t in self.m["tokens"].items():
            if sym == "WETH":
                self._tx(self.deployer, t["address"], selector("deposit()"), value=100_000 * 10**18)
                self._tx(self.trader, t["address"], selector("deposit()"), value=100_000 * 10**18)
            else:
                self.mint(sym, self.deployer, 10**12 * 10 ** t["decimals"])
                self.mint(sym, self.trader, 10**12 * 10 ** t["decimals"])

    def mint(self, sym, to, amount):
        t = self.m["tokens"][sym]
        if sym == "WETH":
            self.send(t["address"], "transfer(address,uint256)", ["address", "uint256"], [to, amount])
        else:
            self.send(t["address"], "mint(address,uint256)", ["address", "uint256"], [to, amount])

    def v2_pool(self, factory, a, b, amount_a_units, price_b_per_a):
        ta, tb = self.m["tokens"][a], self.m["tokens"][b]
        self.send(factory, "createPair(address,address)", ["address", "address"], [ta["address"], tb["address"]])
        (pair,) = self.view(factory, "getPair(address,address)", ["address", "address"], [ta["address"], tb["address"]], ["address"])
        amount_a = int(amount_a_units * 10 ** ta["decimals"])
        amount_b = int(amount_a_units * price_b_per_a * 10 ** tb["decimals"])
        self.send(ta["address"], "transfer(address,uint256)", ["address", "uint256"], [pair, amount_a])
        self.send(tb["address"], "transfer(address,uint256)", ["address", "uint256"], [pair, amount_b])
        self.send(pair, "mint(address)", ["address"], [self.deployer])
        return to_checksum_address(pair)

    def v3_pool(self, factory, npm, a, b, fee, price_b_per_a):
        ta, tb = self.m["tokens"][a], self.m["tokens"][b]
        t0, t1 = sorted([ta, tb], key=lambda t: int(t["address"], 16))
        raw = price_b_per_a * 10 ** tb["decimals"] / 10 ** ta["decimals"]
        p = raw if t0 is ta else 1 / raw
        self.send(factory, "createPool(address,address,uint24)", ["address", "address", "uint24"], [t0["address"], t1["address"], fee])
        (pool,) = self.view(factory, "getPool(address,address,uint24)", ["address", "address", "uint24"],
                            [t0["address"], t1["address"], fee], ["address"])
        self.send(pool, "initialize(uint160)", ["uint160"], [int(math.sqrt(p) * Q96)])
        (slot0,) = self.view(pool, "slot0()", [], [], ["(uint160,int24,uint16,uint16,uint16,uint8,bool)"])
        tick, spacing = slot0[1], {500: 10, 3000: 60}[fee]
        for t in (t0, t1):
            self.send(t["address"], "approve(address,uint256)", ["address", "uint256"], [npm, 2**256 - 1])
        # Positions over several ranges: narrow and deep, medium, and wide.
        for width, units in [(600, 300), (3000, 300), (30000, 200)]:
            lower, upper = (tick - width) // spacing * spacing, (tick + width) // spacing * spacing
            amt_a = int(units * 10 ** ta["decimals"])
            amt_b = int(amt_a * raw)
            a0, a1 = (amt_a, amt_b) if t0 is ta else (amt_b, amt_a)
            self.send(npm, "mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))",
                      ["(address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256)"],
                      [(t0["address"], t1["address"], fee, lower, upper, a0, a1, 0, 0, self.deployer, FAR)])
        return to_checksum_address(pool)

    # ---------------------------------------------------------------- market

    def venues(self):
        """Every pool the market trades: (dex, pool name, token in/out symbols, fee)."""
        out = []
        for dex in ("sushiswap", "uniswap_v2"):
            for name in ("WETH/USDC", "WETH/DAI", "WETH/USDT", "DAI/USDC"):
                out.append((dex, name))
        for name in self.m["dexes"]["uniswap_v3"]["pools"]:
            out.append(("uniswap_v3", name))
        return out

    def _trader_send(self, to, data, gas=400_000):
        """Signs a transaction by the trader and adds it to the block being built."""
        return self.node._send(self.node._sign({"from": to_checksum_address(self.trader), "to": to, "data": data, "gas": gas}))

    def swap(self, dex, pool_name, sell, amount):
        """One swap by the trader through the venue's real router: exact `amount` of `sell` in."""
        parts = pool_name.split("/")
        buy = parts[1] if sell == parts[0] else parts[0]
        ts, tb = self.m["tokens"][sell]["address"], self.m["tokens"][buy]["address"]
        d = self.m["dexes"][dex]
        if d["kind"] == "uniswapV2":
            data = selector("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)") + encode(
                ["uint256", "uint256", "address[]", "address", "uint256"], [amount, 0, [ts, tb], self.trader, FAR])
        else:
            data = selector("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))") + encode(
                ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"],
                [(ts, tb, int(parts[2]), self.trader, FAR, amount, 0, 0)])
        return self._trader_send(d["router"], data)

    def market_round(self):
        """The swaps of one block: one to three venues, a random side each, usually small and now and
        then (one in ten) forty times larger, enough to open an arbitrage between venues."""
        venues = self.venues()
        for dex, name in self.rng.sample(venues, self.rng.randint(1, 3)):
            sell = self.rng.choice(name.split("/")[:2])
            units = self.rng.uniform(0.1, 3.0) * (40 if self.rng.random() < 0.1 else 1)
            # About 2,000 dollars a unit: one WETH, or 2,000 of a stablecoin (also between DAI and USDC).
            amount = int(units * (1 if sell == "WETH" else 2000) * 10 ** self.m["tokens"][sell]["decimals"])
            try:
                self.swap(dex, name, sell, amount)
                self.market_swaps += 1
            except Exception as e:  # a failed swap must not stop the market
                self.market_failures += 1
                print(json.dumps({"market": "swap failed", "venue": f"{dex} {name}", "error": str(e)}), file=sys.stderr, flush=True)

    def start_market(self, loop):
        """After every block, the market puts the next block's swaps in (the server mines them)."""
        def on_event(kind, payload):
            if kind == "newHeads":
                if self.cow_market:
                    # A settlement first: it is pending for the block, ahead of the market's swaps.
                    loop.call_soon(self.cow.on_head, int(payload["number"], 16))
                loop.call_soon(self.market_round)
                if self.statarb:
                    # The statistical-arbitrage market trades late in the block, as most of a block's
                    # flow arrives after the searchers' first look at its head.
                    loop.call_later(self.statarb.DELAY, self.statarb.round_swaps)
        self.node.listeners.append(on_event)
        loop.call_soon(self.market_round)
