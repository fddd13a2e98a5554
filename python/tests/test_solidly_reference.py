"""Arbiter's Solidly volatile and stable pairs against degenbot's port of Aerodrome's Pool.sol,
through `arbiter util quote --jsonl`: 800 seeded pairs and trades (decimals 6/8/18, imbalanced
reserves, fees 1 bp to 1%, dust to ten times the reserve), equal to the unit."""
import json
import math
import random

import solidly_reference


def test_solidly_amount_out_equals_the_reference(arbiter):
    r = random.Random(20261201)
    cases = []
    while len(cases) < 800:
        stable = r.random() < 0.6
        decimals = [r.choice([6, 8, 18]), r.choice([6, 8, 18])]
        coins = math.exp(r.uniform(math.log(1e2), math.log(1e9)))
        skew = math.exp(r.uniform(-math.log(20), math.log(20))) if stable else math.exp(r.uniform(-10, 10))
        reserves = [int(coins * 10 ** decimals[0]) + 1, int(coins * skew * 10 ** decimals[1]) + 1]
        fee = r.choice([100, 500, 3000, 10000])
        token_in = r.randint(0, 1)
        dx = r.randint(1, 1000) if r.random() < 0.1 else max(1, int(reserves[token_in] * math.exp(r.uniform(math.log(1e-9), math.log(10)))))
        cases.append((reserves, decimals, stable, fee, token_in, dx))
    lines = [json.dumps({"pool": {"kind": "solidly", "stable": st, "reserve0": str(res[0]), "reserve1": str(res[1]),
                                  "decimals": dec, "fee": fee}, "amount": str(dx), "zeroForOne": t == 0})
             for res, dec, st, fee, t, dx in cases]
    answers = [json.loads(l) for l in arbiter("util", "quote", "--jsonl", stdin="\n".join(lines) + "\n").stdout.splitlines()]
    assert len(answers) == len(cases)
    compared = stable_compared = 0
    for n, ((res, dec, st, fee, t, dx), a) in enumerate(zip(cases, answers)):
        expected = solidly_reference.amount_out(res, dec, st, fee, t, dx)
        reserve_out = res[1 - t]
        if expected is None or expected <= 0 or expected >= reserve_out:
            assert "error" in a, f"case {n}: the pair would revert, arbiter quoted {a}"
            continue
        assert "error" not in a, f"case {n}: {a}"
        assert int(a["amountOut"]) == expected, f"case {n}: {a['amountOut']} != {expected}"
        compared += 1
        stable_compared += st
    assert compared >= 650 and stable_compared >= 350
