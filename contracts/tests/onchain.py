"""Helpers and the world for the executor tests (fixtures in conftest.py): real Uniswap V2 (SushiSwap build) and V3 bytecode, our lender
doubles, tokens, and one executor per lender. Built once per session; each test runs inside an
EVM snapshot (boa.env.anchor) so nothing leaks between tests."""
import math
import os
import sys
from dataclasses import dataclass

import boa
from boa.contracts.abi.abi_contract import ABIContractFactory

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python", "oracle"))

from evm_artifacts import artifact, deploy  # noqa: E402

SRC = os.path.join(ROOT, "contracts", "src")
MOCKS = os.path.join(ROOT, "contracts", "mocks")
DOUBLES = os.path.join(ROOT, "contracts", "tests", "doubles")
V2, V3 = 0, 1
FAR = 2**40  # a deadline far in the future
Q96 = 2**96


def load(folder, name, *args):
    return boa.load(os.path.join(folder, name + ".vy"), *args)


def sqrt_price_x96(price_token1_per_token0: float) -> int:
    return int(math.sqrt(price_token1_per_token0) * Q96)


def sort2(a, b):
    return (a, b) if int(str(a.address), 16) < int(str(b.address), 16) else (b, a)


@dataclass
class World:
    owner: str
    tokens: dict
    v2_factories: list
    v3_factory: object
    npm: object
    pools: dict
    lenders: dict
    executors: dict

    def v2_pair(self, factory_index, a, b):
        return self.pools[("v2", factory_index, *sorted((a, b)))]

    def v3_pool(self, fee, a, b):
        return self.pools[("v3", fee, *sorted((a, b)))]


V3_POOL = None


def v3_pool_at(address):
    global V3_POOL
    if V3_POOL is None:
        V3_POOL = ABIContractFactory.from_abi_dict(artifact("uniswap_v3/UniswapV3Pool")["abi"], name="UniswapV3Pool")
    return V3_POOL.at(address)


V2_PAIR = None


def v2_pair_at(address):
    global V2_PAIR
    if V2_PAIR is None:
        V2_PAIR = ABIContractFactory.from_abi_dict(artifact("sushi/UniswapV2Pair")["abi"], name="UniswapV2Pair")
    return V2_PAIR.at(address)


def add_v2_liquidity(world, factory_index, sym_a, amount_a, sym_b, amount_b):
    """Creates (if needed) and funds a V2 pair: amounts in token units (already scaled)."""
    fac = world.v2_factories[factory_index]
    ta, tb = world.tokens[sym_a], world.tokens[sym_b]
    if fac.getPair(ta.address, tb.address) == "0x" + "00" * 20:
        fac.createPair(ta.address, tb.address)
    pair = v2_pair_at(fac.getPair(ta.address, tb.address))
    ta.mint(pair.address, amount_a)
    tb.mint(pair.address, amount_b)
    pair.mint(world.owner)
    world.pools[("v2", factory_index, *sorted((sym_a, sym_b)))] = pair
    return pair


def add_v3_liquidity(world, fee, sym_a, sym_b, price_b_per_a, liquidity_a, width_ticks=6000):
    """Creates a V3 pool at `price_b_per_a` (token units) and adds a position around it."""
    ta, tb = world.tokens[sym_a], world.tokens[sym_b]
    t0, t1 = sort2(ta, tb)
    # price of token1 in token0, in raw units
    raw = price_b_per_a * 10 ** tb.decimals() / 10 ** ta.decimals()
    price1_per_0 = raw if t0 is ta else 1 / raw
    world.v3_factory.createPool(t0.address, t1.address, fee)
    pool = v3_pool_at(world.v3_factory.getPool(t0.address, t1.address, fee))
    pool.initialize(sqrt_price_x96(price1_per_0))
    spacing = {100: 1, 500: 10, 3000: 60, 10000: 200}[fee]
    tick = pool.slot0()[1]
    lower = (tick - width_ticks) // spacing * spacing
    upper = (tick + width_ticks) // spacing * spacing
    amount_a = liquidity_a
    amount_b = int(liquidity_a * raw)
    a0, a1 = (amount_a, amount_b) if t0 is ta else (amount_b, amount_a)
    for t in (t0, t1):
        t.mint(world.owner, 10**40)
        t.approve(world.npm.address, 2**256 - 1)
    world.npm.mint((t0.address, t1.address, fee, lower, upper, a0, a1, 0, 0, world.owner, FAR))
    world.pools[("v3", fee, *sorted((sym_a, sym_b)))] = pool
    return pool


def build_world():
    owner = boa.env.eoa
    tokens = {
        "WETH": load(MOCKS, "MockERC20", "Wrapped Ether", "WETH", 18),
        "USDC": load(MOCKS, "MockERC20", "USD Coin", "USDC", 6),
        "USDT": load(MOCKS, "MockERC20NoBool", "Tether USD", "USDT", 6),
        "DAI": load(MOCKS, "MockERC20", "Dai Stablecoin", "DAI", 18),
        "WBTC": load(MOCKS, "MockERC20", "Wrapped BTC", "WBTC", 8),
    }
    v2 = [deploy("sushi/UniswapV2Factory", owner), deploy("sushi/UniswapV2Factory", owner)]
    v3 = deploy("uniswap_v3/UniswapV3Factory")
    npm = deploy("uniswap_v3/NonfungiblePositionManager", v3.address, tokens["WETH"].address, boa.env.generate_address())
    world = World(owner, tokens, v2, v3, npm, {}, {}, {})
    world.quoter = deploy("uniswap_v3/QuoterV2", v3.address, tokens["WETH"].address)
    e18, e6 = 10**18, 10**6
    # Venue 0 sells WETH at 2000, venue 1 buys it at 2100: a gap to close.
    add_v2_liquidity(world, 0, "WETH", 1_000 * e18, "USDC", 2_000_000 * e6)
    add_v2_liquidity(world, 1, "WETH", 1_000 * e18, "USDC", 2_100_000 * e6)
    add_v2_liquidity(world, 0, "WETH", 1_000 * e18, "DAI", 2_000_000 * e18)
    add_v2_liquidity(world, 1, "WETH", 1_000 * e18, "DAI", 2_100_000 * e18)
    add_v2_liquidity(world, 0, "WETH", 1_000 * e18, "USDT", 2_000_000 * e6)
    add_v2_liquidity(world, 1, "WETH", 1_000 * e18, "USDT", 2_100_000 * e6)
    add_v2_liquidity(world, 1, "DAI", 1_000_000 * e18, "USDC", 1_000_000 * e6)
    add_v3_liquidity(world, 500, "WETH", "USDC", 2000, 500 * e18)
    add_v3_liquidity(world, 3000, "WETH", "USDC", 2100, 500 * e18)
    add_v3_liquidity(world, 500, "WETH", "DAI", 2000, 500 * e18)
    add_v3_liquidity(world, 3000, "WETH", "DAI", 2100, 500 * e18)
    v3.enableFeeAmount(100, 1)  # the 0.01 % tier, as Uniswap governance enabled on mainnet
    add_v3_liquidity(world, 100, "DAI", "USDC", 1, 1_000_000 * e18, width_ticks=200)  # a lender off the WETH paths
    lenders = {
        "aave": load(MOCKS, "MockAaveV3Pool"),
        "balancer": load(MOCKS, "MockBalancerVault"),
        "syncswap": load(MOCKS, "MockSyncSwapVault"),
        "dss": load(MOCKS, "MockDssFlash", tokens["DAI"].address, 50_000_000 * e18),
    }
    for name in ("aave", "balancer", "syncswap"):
        for sym, t in tokens.items():
            t.mint(lenders[name].address, 10**12 * 10 ** t.decimals())
    world.lenders = lenders
    world.executors = {
        "aave": load(SRC, "AaveV3FlashArbitrage", lenders["aave"].address),
        "balancer": load(SRC, "BalancerV2FlashArbitrage", lenders["balancer"].address),
        "syncswap": load(SRC, "SyncSwapFlashArbitrage", lenders["syncswap"].address),
        "dss": load(SRC, "DaiFlashMintArbitrage", lenders["dss"].address, tokens["DAI"].address),
        "direct": load(SRC, "DirectArbitrage"),
        "v3pool": load(SRC, "UniswapV3FlashArbitrage", v3.address),
        "cross": load(SRC, "CrossChainArbitrage"),
    }
    return world


def step(pool, kind, token_in, token_out, fee):
    return (pool.address, kind, token_in.address, token_out.address, fee)


def balances(world, extra=()):
    """Every token balance of every party, for 'nothing changed' checks."""
    parties = [world.owner, *[x.address for x in world.lenders.values()], *[x.address for x in world.executors.values()],
               *[p.address for p in world.pools.values()], *extra]
    return {(sym, str(p)): t.balanceOf(p) for sym, t in world.tokens.items() for p in parties}
