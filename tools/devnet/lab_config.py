"""An arbiter.toml that points Arbiter at lab devnets instead of mainnet: every bundled chain
disabled, each lab chain added with its tokens, DEXs (factory and init-code hash, for CREATE2
derivation) and Multicall3 from its manifest, and its RPC endpoints.

With a profile (`NAME[@PARTITION][+PROFILE]`), the chain also gets the MEV mode, relay, lenders
and executor contracts of that kind of chain, so Arbiter executes on it:

- `ethereum`: Flashbots bundles to the devnet's /relay; Aave V3 (any asset), Balancer V2 (not
  DAI: the DAI flash mint is DAI's lender here, as on mainnet where its ceiling dwarfs the Vault's
  DAI), the DAI flash mint;
- `optimism`: a sequencer (private RPC); Aave V3 and Uniswap V3 pools (`pool.flash`, the pool's
  tier as fee: a 0.05 % pool costs what Aave's 5 bps does, and wins on gas); the L1 data fee
  from the lab's GasPriceOracle double;
- `blast`: a sequencer; SyncSwap and Aave V3; the L1 data fee as on `optimism`.

A manifest with a Binance stand-in (`binance`) turns the CEX feed on (`[cex_feed]`), and its
chain's `cexDex` executor is named with the others. A profiled chain with a relay gets the lab's
settlement contract as its `cow_settlement`, and `[cow]` is turned on (backruns of its settlements).

Profiled chains also get the lab bridge (`bridge`, the `crossChain` executor) and, between every
two of them, a `lab` bridge route for WETH and USDC (0.05 %, 2 s), so cross-chain trades run.

`python -m tools.devnet.lab_config NAME[@PARTITION][+PROFILE]=MANIFEST.json [...] > lab.toml`"""
import glob
import json
import os
import sys
import tomllib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHAINS = os.path.join(ROOT, "Sources", "Registry", "Data", "chains")


# Detection starts cycles in the wrapped native token and the stablecoins.
TAGS = {"WETH": ["wrapped"], "USDC": ["stable"], "DAI": ["stable"], "USDT": ["stable"]}


# Per profile: MEV mode, whether bundles go to the devnet's /relay, and lenders (protocol → the
# symbols it lends, None for any).
PROFILES = {
    "ethereum": {"mev": "flashbots", "relay": True,
                 "lenders": {"aaveV3": None, "balancerV2": ["WETH", "USDC", "USDT", "WBTC", "LINK"], "daiFlashMint": ["DAI"]}},
    "optimism": {"mev": "sequencer", "relay": False, "l1Fee": True, "lenders": {"aaveV3": None, "uniswapV3Flash": None}},
    "blast": {"mev": "sequencer", "relay": False, "l1Fee": True, "lenders": {"syncswap": None, "aaveV3": None}},
}

# Each lender as the registry describes it: fee (read on-chain where the protocol says it) and repayment.
LENDERS = {
    "aaveV3": {"fee_call": "FLASHLOAN_PREMIUM_TOTAL()", "fee_pips": 500, "repayment": "lender-pulls"},
    "balancerV2": {"fee_call": "getProtocolFeesCollector().getFlashLoanFeePercentage()", "fee_pips": 0, "repayment": "borrower-pushes"},
    "syncswap": {"fee_call": "flashFee(address,uint256)", "fee_pips": 500, "repayment": "borrower-pushes"},
    "daiFlashMint": {"fee_call": "flashFee(address,uint256)", "fee_pips": 0, "repayment": "lender-pulls"},
    "uniswapV3Flash": {"fee": "pool-tier", "repayment": "borrower-pushes"},
}


def profile_lines(name, m, profile):
    p = PROFILES[profile]
    out = []
    for proto, assets in p["lenders"].items():
        spec = LENDERS[proto]
        fee = [f"fee = {q(spec['fee'])}"] if "fee" in spec else [f"fee_call = {q(spec['fee_call'])}", f"fee_pips = {spec['fee_pips']}"]
        out += ["[[add_flash]]", f"chain = {q(name)}", f"name = {q(proto)}", f"protocol = {q(proto)}", f"contract = {q(m['lenders'][proto])}",
                *fee, f"repayment = {q(spec['repayment'])}", 'status = "active"']
        if assets is not None:
            out.append(f"assets = {json.dumps(assets)}")
        out.append("")
    executors = {proto: m["executors"][proto] for proto in p["lenders"]} | {"direct": m["executors"]["direct"]}
    if "bridge" in m:
        executors["crossChain"] = m["executors"]["crossChain"]
    for own in ("statArb", "cexDex"):
        if own in m["executors"]:
            executors[own] = m["executors"][own]
    keys = [f"mev = {q(p['mev'])}", "flash_loans = true",
            "executors = { " + ", ".join(f"{k} = {q(v)}" for k, v in executors.items()) + " }"]
    if "bridge" in m:
        keys.append(f"bridge = {q(m['bridge']['address'])}")
    if p["relay"]:
        keys.append(f"relay = {q(m['rpc']['http'].rstrip('/') + '/relay')}")
    if p.get("l1Fee"):
        keys.append(f"l1_fee_oracle = {q(m['gasPriceOracle'])}")
    if p["relay"] and "cow" in m:
        # CoW backruns go as bundles: on the chains with a relay, the lab's settlement contract is CoW's.
        keys.append(f"cow_settlement = {q(m['cow']['settlement'])}")
    return keys, out


def bundled_chains():
    names = []
    for path in sorted(glob.glob(os.path.join(CHAINS, "*.toml"))):
        with open(path, "rb") as f:
            names.append(tomllib.load(f)["chain"]["name"])
    return names


def q(s):
    return json.dumps(s)


def lab_config(chains, extra_rpc=None, partitions=None, profiles=None):
    """`chains`: (name, manifest) pairs; `extra_rpc`: name → more {http, ws} endpoints (mirrors);
    `partitions`: name → partition (default P3); `profiles`: name → a PROFILES key."""
    out = ["# Generated by tools/devnet/lab_config.py: Arbiter on lab devnets.", ""]
    tail = []
    for name in bundled_chains():
        out += [f"[chains.{name}]", "enabled = false", ""]
    for name, m in chains:
        out += ["[[add_chain]]", f"name = {q(name)}", f"id = {m['chainId']}", 'kind = "evm"', 'native = "ETH"', 'wrapped_native = "WETH"',
                "block_time_ms = 1000", "reorg_depth = 64", f"multicall3 = {q(m['multicall3'])}",
                f"partition = {q((partitions or {}).get(name, 'P3'))}",
                "execution = true", 'mev = "public"', "flash_loans = false",
                'flash_loan_note = "the lab\'s lenders are in its manifest; the registry cannot add flash sources yet"', ""]
        for sym, t in sorted(m["tokens"].items()):
            out += ["[[add_token]]", f"chain = {q(name)}", f"symbol = {q(sym)}", f"address = {q(t['address'])}", f"decimals = {t['decimals']}"]
            if sym in TAGS:
                out.append(f"tags = {json.dumps(TAGS[sym])}")
            out.append("")
        for dex_name, d in m["dexes"].items():
            fees = [int(p.split("/")[2]) for p in d["pools"]] if d["kind"] == "uniswapV3" else [d.get("feePips", 3000)]
            out += ["[[add_dex]]", f"chain = {q(name)}", f"name = {q(dex_name)}", f"kind = {q(d['kind'])}", f"factory = {q(d['factory'])}",
                    f"router = {q(d['router'])}", f"init_code_hash = {q(d['initCodeHash'])}", f"fees = {sorted(set(fees))}", "priceable = true"]
            if d.get("quoter"):
                out.append(f"quoter = {q(d['quoter'])}")
            out.append("")
    for name, m in chains:
        endpoints = [m["rpc"]] + list((extra_rpc or {}).get(name, []))
        rpc = ", ".join("{ http = %s, ws = %s }" % (q(e["http"]), q(e["ws"])) for e in endpoints)
        keys, flash = profile_lines(name, m, profiles[name]) if (profiles or {}).get(name) else ([], [])
        out += [f"[chains.{name}]", f"rpc = [{rpc}]", *keys, ""]
        tail += flash
    # The lab's CEX (a Binance stand-in served by a devnet, tools/devnet/cexdex.py): the feed on.
    cex = next((m["binance"] for _, m in chains if "binance" in m), None)
    if cex:
        out += ["[cex_feed]", "enabled = true", f"stream = {q(cex['ws'])}", f"rest = {q(cex['rest'])}", ""]
    # CoW settlement backruns (the lab's devnets announce pending transactions).
    if any((profiles or {}).get(name) and "cow" in m for name, m in chains):
        out += ["[cow]", "enabled = true", ""]
    bridged = [(name, m) for name, m in chains if (profiles or {}).get(name) and "bridge" in m]
    for a, ma in bridged:
        for b, mb in bridged:
            if a != b:
                tail += ["[[add_bridge]]", 'protocol = "lab"', f"from = {q(a)}", f"to = {q(b)}", 'tokens = ["WETH", "USDC"]',
                         f"fee_pips = {mb['bridge']['feePips']}", "fixed_fee_cents = 0", "latency_s = 2", ""]
    return "\n".join(out + tail)


def main(argv):
    chains, partitions, profiles = [], {}, {}
    for arg in argv:
        name, _, path = arg.partition("=")
        if not path:
            sys.exit(f"usage: lab_config NAME[@PARTITION][+PROFILE]=MANIFEST.json ... (got {arg!r})")
        name, _, profile = name.partition("+")
        name, _, partition = name.partition("@")
        if profile:
            if profile not in PROFILES:
                sys.exit(f"lab_config: unknown profile {profile!r} (one of {', '.join(PROFILES)})")
            profiles[name] = profile
        if partition:
            partitions[name] = partition
        with open(path) as f:
            chains.append((name, json.load(f)))
    sys.stdout.write(lab_config(chains, partitions=partitions, profiles=profiles))


if __name__ == "__main__":
    main(sys.argv[1:])
