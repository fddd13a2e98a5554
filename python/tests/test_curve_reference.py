"""Arbiter's Curve StableSwap exchange against Curve Research's integer model (curvesim), through
`arbiter util quote --jsonl`: 600 seeded pools and trades (decimals 6/8/18, imbalanced balances,
A from 1 to 5000, fees up to 1%, dust to ten times the pool), equal to the unit of the output coin."""
import json
import math
import random

import curve_reference


def test_curve_exchange_equals_curvesim(arbiter):
    r = random.Random(20261201)
    cases = []
    while len(cases) < 600:
        decimals = [r.choice([6, 8, 18]), r.choice([6, 8, 18])]
        coins = math.exp(r.uniform(math.log(1e3), math.log(1e10)))
        skew = math.exp(r.uniform(-math.log(100), math.log(100)))
        balances = [int(coins * 10 ** decimals[0]), int(coins * skew * 10 ** decimals[1])]
        A = r.choice([1, 10, 50, 100, 200, 1000, 5000])
        fee = r.choice([0, 1_000_000, 4_000_000, 30_000_000, 100_000_000])
        i = r.randint(0, 1)
        k = r.random()
        dx = r.randint(1, 1000) if k < 0.1 else int(balances[i] * math.exp(r.uniform(math.log(1e-9), math.log(10))))
        dx = max(dx, 1)
        cases.append((balances, decimals, A, fee, i, dx))
    lines = [json.dumps({"pool": {"kind": "curve", "balances": [str(b) for b in bal], "decimals": dec, "A": str(A), "fee": str(fee)},
                         "amount": str(dx), "zeroForOne": i == 0}) for bal, dec, A, fee, i, dx in cases]
    answers = [json.loads(l) for l in arbiter("util", "quote", "--jsonl", stdin="\n".join(lines) + "\n").stdout.splitlines()]
    assert len(answers) == len(cases)
    compared = 0
    for n, ((bal, dec, A, fee, i, dx), a) in enumerate(zip(cases, answers)):
        expected = curve_reference.exchange(bal, dec, A, fee, i, dx)
        if expected is None or expected <= 0:
            assert "error" in a, f"case {n}: curvesim cannot trade, arbiter quoted {a}"
            continue
        assert "error" not in a, f"case {n}: {a}"
        assert int(a["amountOut"]) == expected, f"case {n}: {a['amountOut']} != {expected}"
        compared += 1
    assert compared >= 550
