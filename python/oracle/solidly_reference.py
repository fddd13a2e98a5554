"""degenbot's Solidly / Aerodrome pair math (degenbot.aerodrome.functions, ported from Aerodrome's
Pool.sol and checked by its authors against the chain), loaded without degenbot's package
__init__: the reference for Arbiter's Solidly math."""
import importlib.util
import os
import sys
import types
from fractions import Fraction


def _load():
    root = os.path.dirname(importlib.util.find_spec("degenbot").origin)
    for name, path in [("degenbot", root), ("degenbot.solidly", os.path.join(root, "solidly")),
                       ("degenbot.aerodrome", os.path.join(root, "aerodrome"))]:
        m = types.ModuleType(name)
        m.__path__ = [path]
        sys.modules[name] = m
    # Only what the pair math uses of degenbot.functions: stand it in, leaving its web3 imports out.
    functions = types.ModuleType("degenbot.functions")

    def raise_if_invalid_uint256(number):
        if not 0 <= number < 2**256:
            raise OverflowError(f"underflow/overflow for {number}")

    functions.raise_if_invalid_uint256 = raise_if_invalid_uint256
    functions.eip_1167_clone_address = lambda *a, **k: None
    sys.modules["degenbot.functions"] = functions
    from degenbot.aerodrome import functions as aerodrome
    from degenbot.solidly import solidly_functions as solidly
    return aerodrome, solidly


aerodrome, solidly = _load()


def amount_out(reserves, decimals, stable, fee_pips, token_in, amount_in):
    """What the pair pays, or None where the contract would revert."""
    fee = Fraction(fee_pips, 1_000_000)
    try:
        if stable:
            out = aerodrome.calc_exact_in_stable(amount_in, token_in, reserves[0], reserves[1],
                                                 10 ** decimals[0], 10 ** decimals[1], fee)
        else:
            out = solidly.general_calc_exact_in_volatile(amount_in, token_in, reserves[0], reserves[1], fee)
    except Exception:
        return None
    return out
