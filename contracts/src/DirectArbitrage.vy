# pragma version 0.4.3
"""
@title Arbiter executor trading the contract's own capital
@notice No loan: the path starts from the contract's balance and must end above it by min_profit.
"""
import flash_arb as base

initializes: base
exports: base.__interface__

interface IERC20:
    def balanceOf(owner: address) -> uint256: view


@deploy
def __init__():
    base.__init__()


@external
@nonreentrant
def execute(asset: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_profit: uint256, deadline: uint256) -> uint256:
    base._check_execute(asset, amount, steps, deadline)
    assert staticcall IERC20(asset).balanceOf(self) >= amount, "arbiter: not enough capital"
    amount_out: uint256 = base._run_path(amount, steps)
    base._settle(amount_out, amount, min_profit)
    return base._finish(asset, amount)
