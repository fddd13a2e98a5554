"""Curve Research's StableSwap model (curvesim.pool.stableswap.pool.CurvePool), loaded without
curvesim's package __init__ (which pulls in pandas, scipy and the simulator): the reference for
Arbiter's Curve math. curvesim ports the pool contracts in exact integers."""
import importlib.util
import os
import sys
import types



def _load():
    spec = importlib.util.find_spec("curvesim")
    root = os.path.dirname(spec.origin)
    # Empty packages stand in for curvesim, curvesim.pool and curvesim.pool.stableswap, so that
    # only the modules the pool needs are executed.
    for name, path in [("curvesim", root), ("curvesim.pool", os.path.join(root, "pool")),
                       ("curvesim.pool.stableswap", os.path.join(root, "pool", "stableswap"))]:
        if name not in sys.modules or not getattr(sys.modules[name], "_arbiter_stub", False):
            m = types.ModuleType(name)
            m.__path__ = [path]
            m._arbiter_stub = True
            sys.modules[name] = m
    from curvesim.pool.stableswap.pool import CurvePool
    return CurvePool


CurvePool = _load()


def exchange(balances, decimals, A, fee, i, dx):
    """What the pool pays for `dx` of coin i (the other coin out), or None if it cannot."""
    rates = [10 ** (36 - d) for d in decimals]
    pool = CurvePool(A=A, D=list(balances), n=2, rates=rates, fee=fee)
    try:
        dy, _fee = pool.exchange(i, 1 - i, dx)
    except Exception:
        return None
    return int(dy)
