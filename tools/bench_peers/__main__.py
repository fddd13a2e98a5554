"""`python -m tools.bench_peers --arbiter BIN [--seed S] [--json FILE] [--pass-ms MS]`

Arbiter against degenbot on the same pool states (tools/bench_peers/fixture.py, seeded): V2 quotes,
V3 quotes crossing 10 initialised ticks, 2-hop V2 cycle optima and 3-hop mixed (V3, V2, V2) optima.
Each side runs every case of a group in turn, in passes of at least --pass-ms, and the median pass
gives its time per case; the ratio is degenbot's time over ours.

The V3 quotes are timed twice. First as the issue's goal is set, each case's one input over and over:
degenbot caches its step math by argument (functools.lru_cache), so that is its best case. Then with
an input not asked before in every call (64 per case, `amountIn + j·(amountIn // 10⁶ + 1)`), as a
sizing search asks: its caches miss on the amount, while ours keeps each pool state's tick
crossings (crossed once per state, whatever the input).

Answers are checked, and a difference fails the run (exit 1):
- quotes: our amount out equals degenbot's (its exact V3 is the judge for V3), and every V3 case
  crossed 10 initialised ticks in ours;
- cycles: our output for our input equals degenbot's exact pool math for that input, and our profit
  is at least the exact profit of degenbot's input (its optimum is scipy's bounded Brent search on
  a float, and the profit it reports is that float; ours is exact).
"""
import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from . import degenbot_side
from .fixture import generate

GOALS = {"v2Quote": 34, "v3Quote": 15, "v3QuoteNewInputs": None, "cycles2": 100, "cycles3": 10}
NEW_INPUTS = 64
NAMES = {"v2Quote": "V2 quote", "v3Quote": "V3 quote crossing 10 initialised ticks",
         "v3QuoteNewInputs": "V3 quote crossing 10 ticks, a new input every call",
         "cycles2": "Optimum of a 2-hop V2 cycle", "cycles3": "Optimum of a 3-hop mixed cycle (V3, V2, V2)"}


def timed(calls, passes, pass_ns):
    """Nanoseconds per case in each pass (every case in turn until pass_ns has passed)."""
    for call in calls:  # warm-up
        call()
    times = []
    for _ in range(passes):
        rounds = 0
        began = time.perf_counter_ns()
        while True:
            for call in calls:
                call()
            rounds += 1
            elapsed = time.perf_counter_ns() - began
            if elapsed >= pass_ns:
                break
        times.append(elapsed / (rounds * len(calls)))
    return times


def main():
    p = argparse.ArgumentParser(prog="scripts/bench-peers", description=__doc__.split("\n\n")[1])
    p.add_argument("--arbiter", required=True, help="the arbiter binary (a release build)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--passes", type=int, default=5)
    p.add_argument("--pass-ms", type=int, default=500)
    p.add_argument("--json", help="write the results here too")
    a = p.parse_args()
    logging.disable(logging.WARNING)  # degenbot warns on every cycle built without a node

    fixture = generate(a.seed)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(fixture, f)
        path = f.name
    try:
        ours = json.loads(subprocess.run([a.arbiter, "bench", "peers", "--fixture", path, "--passes", str(a.passes), "--pass-ms", str(a.pass_ms)],
                                         check=True, capture_output=True, text=True).stdout)
    finally:
        os.unlink(path)

    tokens = degenbot_side.Tokens()
    problems = []
    results = {}
    pass_ns = a.pass_ms * 1_000_000

    for group in ("v2Quote", "v3Quote"):
        key = "v2Quotes" if group == "v2Quote" else "v3Quotes"
        cases = [degenbot_side.quote_case(c, tokens) for c in fixture[key]]
        theirs = [pool.calculate_tokens_out_from_tokens_in(token_in=t, token_in_quantity=x) for pool, t, x in cases]
        for i, (mine, amount) in enumerate(zip(ours[group]["answers"], theirs)):
            if mine.get("amountOut") != str(amount):
                problems.append(f"{key}[{i}]: arbiter {mine}, degenbot {amount}")
            if group == "v3Quote" and mine.get("ticksCrossed") != fixture[key][i]["ticksCrossed"]:
                problems.append(f"{key}[{i}]: crossed {mine.get('ticksCrossed')} ticks, not {fixture[key][i]['ticksCrossed']}")
        calls = [lambda pool=pool, t=t, x=x: pool.calculate_tokens_out_from_tokens_in(token_in=t, token_in_quantity=x) for pool, t, x in cases]
        results[group] = {"cases": len(cases), "theirs": timed(calls, a.passes, pass_ns), "checked": len(cases)}

    cases = [degenbot_side.quote_case(c, tokens) for c in fixture["v3Quotes"]]
    varied = [(pool, t, [x + j * (x // 1_000_000 + 1) for j in range(NEW_INPUTS)]) for pool, t, x in cases]
    for i, ((pool, t, inputs), mine) in enumerate(zip(varied, ours["v3QuoteNewInputs"]["answers"])):
        theirs = [str(pool.calculate_tokens_out_from_tokens_in(token_in=t, token_in_quantity=x)) for x in inputs]
        if mine != theirs:
            problems.append(f"v3Quotes[{i}] at new inputs: arbiter {mine[:3]}…, degenbot {theirs[:3]}…")
    calls = [lambda pool=pool, t=t, x=x: pool.calculate_tokens_out_from_tokens_in(token_in=t, token_in_quantity=x)
             for pool, t, inputs in varied for x in inputs]
    # A pass's calls take more distinct swap steps than degenbot's caches hold (1,024 entries a
    # function, least recently used out first), so each input's steps are gone before it comes round
    # again; what a step shares with the case's other inputs (its tick's sqrt price, a full step's
    # amounts) may still hit, as it would in a search.
    results["v3QuoteNewInputs"] = {"cases": len(calls), "theirs": timed(calls, a.passes, pass_ns), "checked": len(calls)}

    for group in ("cycles2", "cycles3"):
        cycles = [degenbot_side.cycle(c, tokens, n) for n, c in enumerate(fixture[group])]
        found = [c.calculate() for c in cycles]
        better, gains = 0, []
        for i, (c, mine, theirs) in enumerate(zip(cycles, ours[group]["answers"], found)):
            if mine is None:
                problems.append(f"{group}[{i}]: arbiter found no profit, degenbot {theirs.profit_amount}")
                continue
            amount_in, amount_out, profit = int(mine["amountIn"]), int(mine["amountOut"]), int(mine["profit"])
            judged = degenbot_side.cycle_output(c, amount_in)
            if judged != amount_out or profit != amount_out - amount_in:
                problems.append(f"{group}[{i}]: arbiter {amount_in} → {amount_out}, degenbot's pools give {judged}")
            # degenbot reports the float its search minimised; its input's exact profit is compared.
            their_out = degenbot_side.cycle_output(c, theirs.input_amount)
            their_profit = their_out - theirs.input_amount if their_out is not None else 0
            if profit < their_profit:
                problems.append(f"{group}[{i}]: arbiter's profit {profit} below degenbot's {their_profit} (input {theirs.input_amount})")
            elif profit > their_profit:
                better += 1
                gains.append(profit - their_profit)
        calls = [c.calculate for c in cycles]
        results[group] = {"cases": len(cycles), "theirs": timed(calls, a.passes, pass_ns), "checked": len(cycles),
                          "arbiterMoreProfitable": better, "largestGainWei": str(max(gains, default=0))}

    rows = []
    for group in ("v2Quote", "v3Quote", "v3QuoteNewInputs", "cycles2", "cycles3"):
        mine = float(ours[group]["nsPerCase"])
        theirs = statistics.median(results[group]["theirs"])
        ratio = theirs / mine
        rows.append({"group": group, "name": NAMES[group], "cases": results[group]["cases"],
                     "arbiterNs": mine, "arbiterPasses": [float(x) for x in ours[group]["passes"]],
                     "degenbotNs": theirs, "degenbotPasses": results[group]["theirs"],
                     "ratio": ratio, "goal": GOALS[group], "met": None if GOALS[group] is None else ratio >= GOALS[group],
                     **{k: v for k, v in results[group].items() if k not in ("cases", "theirs")}})

    def show(ns):
        return f"{ns / 1000:,.2f} µs" if ns >= 1000 else f"{ns:,.1f} ns"

    print(f"{'':52} {'arbiter':>12} {'degenbot':>12} {'ratio':>8}  goal")
    for r in rows:
        goal = "" if r["goal"] is None else f"≥ {r['goal']}× {'met' if r['met'] else 'NOT met'}"
        print(f"{r['name']:52} {show(r['arbiterNs']):>12} {show(r['degenbotNs']):>12} {r['ratio']:>7,.0f}×  {goal}")
    for r in rows:
        if "arbiterMoreProfitable" in r:
            print(f"{r['name']}: {r['checked']} cycles, arbiter's optimum more profitable in {r['arbiterMoreProfitable']} "
                  f"(by up to {int(r['largestGainWei']):,} wei), never less")
    report = {"seed": a.seed, "python": platform.python_version(), "passes": a.passes, "passMs": a.pass_ms, "rows": rows, "problems": problems}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    if problems:
        print(f"{len(problems)} answers differ:", file=sys.stderr)
        for line in problems[:20]:
            print("  " + line, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
