"""Writes Tests/Fixtures/market/v3-events.json: real Uniswap V3 pools (web3-ethereum-defi bytecode on
titanoboa) driven through random mints, burns and swaps. Each scenario holds the pool's state right
after `initialize`, every raw log the pool emitted (in order), and the state at the end: price,
tick, liquidity, and liquidityGross / liquidityNet of every tick a position ever touched. Market
state must reach the final state from the first by applying the logs alone. `--seed` reproduces."""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boa  # noqa: E402

import amm_oracle as ao  # noqa: E402
import evm_artifacts as ea  # noqa: E402

DEFAULT_SEED = 20261202
OUT = os.path.join(ao.ROOT, "Tests", "Fixtures", "market")


def raw_logs(contract, pool_address):
    """The pool's logs of the last call, in emission order: (address, topics, data)."""
    entries = sorted(contract._computation.get_raw_log_entries())
    want = int(str(pool_address), 16)
    out = []
    for _, address, topics, data in entries:
        emitter = int.from_bytes(address, "big") if isinstance(address, bytes) else int(str(address), 16)
        if emitter == want:
            out.append({"topics": ["0x%064x" % t for t in topics], "data": "0x" + bytes(data).hex()})
    return out


def state(pool, touched):
    slot0 = pool.slot0()
    ticks = []
    for t in sorted(touched):
        info = pool.ticks(t)
        ticks.append({"index": t, "liquidityGross": str(info[0]), "liquidityNet": str(info[1]), "initialized": bool(info[7])})
    return {"sqrtPriceX96": str(slot0[0]), "tick": slot0[1], "liquidity": str(pool.liquidity()), "ticks": ticks}


def scenarios(seed: int, count: int, ops: int):
    r = random.Random(seed)
    tokens = ao.Tokens()
    factory = ea.deploy("uniswap_v3/UniswapV3Factory")
    pool_factory = ea.ABIContractFactory.from_abi_dict(ea.artifact("uniswap_v3/UniswapV3Pool")["abi"], name="UniswapV3Pool")
    driver = boa.load(os.path.join(ao.ROOT, "python", "oracle", "contracts", "PoolDriver.vy"))
    for t in (tokens.t0, tokens.t1):
        t.mint(driver.address, 2**250)
    out = []
    for _ in range(count):
        with boa.env.anchor():
            fee = r.choice([500, 3000, 10000])
            spacing = ao.SPACING[fee]
            factory.createPool(tokens.t0.address, tokens.t1.address, fee)
            pool = pool_factory.at(factory.getPool(tokens.t0.address, tokens.t1.address, fee))
            tick0 = r.randint(-300_000, 300_000)
            pool.initialize(int(1.0001 ** ((tick0 + r.random()) / 2) * 2**96))
            initial = state(pool, set())
            positions, touched, logs = [], set(), []
            for _ in range(ops):
                tick = pool.slot0()[1]
                kind = r.random()
                try:
                    if kind < 0.4 or not positions:
                        width = ao.log_uniform(r, spacing, 20_000)
                        lower = (tick + r.randint(-width, width // 2)) // spacing * spacing
                        upper = lower + max(spacing, (ao.log_uniform(r, spacing, 2 * width) // spacing) * spacing)
                        # Often share a boundary with an existing position: gross then matters.
                        if positions and r.random() < 0.4:
                            lower = r.choice(positions)[0]
                            upper = max(upper, lower + spacing)
                        amount = ao.log_uniform(r, 1e6, 1e24)
                        driver.mint(pool.address, lower, upper, amount)
                        positions.append([lower, upper, amount])
                        touched.update((lower, upper))
                    elif kind < 0.65:
                        p = r.choice(positions)
                        amount = p[2] if r.random() < 0.5 else r.randint(0, p[2])
                        driver.burn(pool.address, p[0], p[1], amount)
                        p[2] -= amount
                        if p[2] == 0:
                            positions.remove(p)
                    else:
                        zero_for_one = r.random() < 0.5
                        ticks_away = ao.log_uniform(r, 1, 4_000)
                        target = tick - ticks_away if zero_for_one else tick + ticks_away
                        limit = int(1.0001 ** (target / 2) * 2**96)
                        amt = ao.log_uniform(r, 1e3, 1e24)
                        driver.swap(pool.address, zero_for_one, -amt if r.random() < 0.3 else amt, limit)
                except Exception:
                    continue  # the pool refused (price limit already passed, nothing to swap): no logs
                logs.extend(raw_logs(driver, pool.address))
            out.append({"pool": {"kind": "uniswapV3", "fee": fee, "tickSpacing": spacing, **initial},
                        "logs": logs, "final": state(pool, touched)})
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    vectors = scenarios(args.seed, 12, 40)
    doc = {"generator": "python/oracle/gen_market_vectors.py", "seed": args.seed, "count": len(vectors), "vectors": vectors}
    with open(os.path.join(args.out, "v3-events.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"v3-events.json: {len(vectors)} scenarios, {sum(len(v['logs']) for v in vectors)} logs")


if __name__ == "__main__":
    main(sys.argv[1:])
