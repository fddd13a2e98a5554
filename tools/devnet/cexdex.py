"""The lab's CEX: a Binance stand-in (tools/binance) whose prices lead the lab market.

ETHUSDT is the statistical-arbitrage market's factor one round ahead (`StatArbMarket.lead`: the
price the WETH/USDC venues are swapped to at the next round), BTCUSDT the same in BTC (a WBTC is
20 WETH at the lab's start), USDCUSDT 1. So when a round's factor step is large, the WETH pools
are away from the CEX mid for about a block before the market brings them there: a CEX–DEX
spread a searcher can trade first.

The CEX–DEX trades' own capital is an executor of its own (`executors.cexDex`, the
CrossChainArbitrage contract's `sell`) holding WETH, USDC and USDT, with keys of their own."""
import math

INVENTORY = {"WETH": 1_000, "USDC": 2_000_000, "USDT": 2_000_000}
SENDERS = 2
SYMBOLS = {"ETHUSDT": 2000.0, "BTCUSDT": 40000.0, "USDCUSDT": 1.0}
PLACES = {"ETHUSDT": 2, "BTCUSDT": 2, "USDCUSDT": 4}


def deploy_inventory(lab, seed):
    """The cexDex executor, its keys (authorised, funded with gas: legs at once, each key with its
    own nonces) and its inventory; into the manifest."""
    from eth_account import Account
    from eth_utils import keccak
    from .lab import ours
    m = lab.m
    keys = ["0x" + keccak(text=f"arbiter-lab-cex-dex-{seed}-{i}").hex() for i in range(SENDERS)]
    executor = m["executors"]["cexDex"] = lab.deploy(ours("CrossChainArbitrage"))
    for key in keys:
        sender = Account.from_key(key).address
        lab.send(executor, "set_executor(address,bool)", ["address", "bool"], [sender, True])
        lab.node.fund(sender, 100 * 10**18)
    for sym, units in INVENTORY.items():
        lab.mint(sym, executor, units * 10 ** m["tokens"][sym]["decimals"])
    m["cexDexKeys"] = keys
    return keys


def source(statarb):
    """symbol → the CEX mid: the factor a round ahead."""
    def price(symbol):
        f = statarb.lead if statarb.lead is not None else statarb.factor
        return SYMBOLS[symbol] * (math.exp(f) if symbol != "USDCUSDT" else 1.0)
    return price
