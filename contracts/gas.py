"""Measures executor gas on the test world and rewrites the gas table in docs/contracts.md."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))

import boa  # noqa: E402
from eth_abi import encode  # noqa: E402

from onchain import FAR, ROOT, V2, V3, build_world, step  # noqa: E402

SIG = "execute(address,uint256,(address,uint8,address,address,uint24)[],uint256,uint256)"


def paths(world, sym):
    t = world.tokens
    a, w = t[sym], t["WETH"]
    other = t["USDC"] if sym == "DAI" else t["DAI"]
    return {
        "2-hop V2": [step(world.v2_pair(0, sym, "WETH"), V2, a, w, 3000), step(world.v2_pair(1, sym, "WETH"), V2, w, a, 3000)],
        "2-hop V3": [step(world.v3_pool(500, sym, "WETH"), V3, a, w, 500), step(world.v3_pool(3000, sym, "WETH"), V3, w, a, 3000)],
        "3-hop mixed": [step(world.v3_pool(500, sym, "WETH"), V3, a, w, 500),
                        step(world.v2_pair(1, other_sym(sym), "WETH"), V2, w, other, 3000),
                        step(world.v2_pair(1, "DAI", "USDC"), V2, other, a, 3000)],
    }


def other_sym(sym):
    return "USDC" if sym == "DAI" else "DAI"


def calldata_gas(data: bytes) -> int:
    return sum(4 if b == 0 else 16 for b in data)


def measure():
    world = build_world()
    rows = []
    for lender, sym in [("aave", "USDC"), ("balancer", "USDC"), ("syncswap", "USDC"), ("dss", "DAI"), ("v3pool", "USDC"), ("direct", "USDC")]:
        ex, token = world.executors[lender], world.tokens[sym]
        amount = 10_000 * 10 ** token.decimals()
        cells = []
        for name, steps in paths(world, sym).items():
            with boa.env.anchor():
                if lender == "direct":
                    token.mint(ex.address, amount)
                from eth_utils import function_signature_to_4byte_selector
                args = [token.address, amount, steps, 1, FAR]
                types = ["address", "uint256", "(address,uint8,address,address,uint24)[]", "uint256", "uint256"]
                sig = SIG
                if lender == "v3pool":  # borrowed from the 0.01 % DAI/USDC pool, off every path here
                    args, types, sig = [world.v3_pool(100, "DAI", "USDC").address, *args], ["address", *types], "execute(address," + SIG[8:]
                ex.execute(*args)
                executed = ex._computation.get_gas_used()
                data = function_signature_to_4byte_selector(sig) + encode(types, args)
                cells.append(21_000 + calldata_gas(data) + executed)
        rows.append((lender, sym, cells))
    return rows


def main():
    rows = measure()
    names = {"aave": "Aave V3 (`AaveV3FlashArbitrage`)", "balancer": "Balancer V2 (`BalancerV2FlashArbitrage`)",
             "syncswap": "SyncSwap (`SyncSwapFlashArbitrage`)", "dss": "DAI flash mint (`DaiFlashMintArbitrage`)",
             "v3pool": "Uniswap V3 pool (`UniswapV3FlashArbitrage`)",
             "direct": "Own capital (`DirectArbitrage`)"}
    lines = ["| Lender | Asset | 2-hop V2 | 2-hop V3 | 3-hop mixed (V3, V2, V2) |", "|:--|:--|--:|--:|--:|"]
    for lender, sym, cells in rows:
        lines.append(f"| {names[lender]} | {sym} | " + " | ".join(f"{c:,}" for c in cells) + " |")
    table = "\n".join(lines)
    path = os.path.join(ROOT, "docs", "contracts.md")
    doc = open(path).read()
    doc = re.sub(r"<!-- gas:begin -->.*<!-- gas:end -->", "<!-- gas:begin -->\n" + table + "\n<!-- gas:end -->", doc, flags=re.S)
    open(path, "w").write(doc)
    print(table)


if __name__ == "__main__":
    main()
