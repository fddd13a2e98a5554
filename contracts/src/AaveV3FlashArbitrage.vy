# pragma version 0.4.3
"""
@title Arbiter executor borrowing from Aave V3
@notice flashLoanSimple → executeOperation; the Pool pulls amount + premium (we approve it).
"""
import flash_arb as base

initializes: base
exports: base.__interface__

interface IAavePool:
    def flashLoanSimple(receiverAddress: address, asset: address, amount: uint256, params: Bytes[base.PARAMS_SIZE], referralCode: uint16): nonpayable

POOL: public(immutable(address))


@deploy
def __init__(pool: address):
    base.__init__()
    POOL = pool


@external
@nonreentrant
def execute(asset: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_profit: uint256, deadline: uint256) -> uint256:
    base._check_execute(asset, amount, steps, deadline)
    base._begin_loan(POOL, asset, amount)
    extcall IAavePool(POOL).flashLoanSimple(self, asset, amount, abi_encode(steps, min_profit), 0)
    return base._finish(asset, amount)


@external
def executeOperation(asset: address, amount: uint256, premium: uint256, initiator: address, params: Bytes[base.PARAMS_SIZE]) -> bool:
    base._check_callback(asset, amount)
    base._check_initiator(initiator)
    steps: DynArray[base.Step, base.MAX_STEPS] = []
    min_profit: uint256 = 0
    steps, min_profit = abi_decode(params, (DynArray[base.Step, base.MAX_STEPS], uint256))
    amount_out: uint256 = base._run_path(amount, steps)
    owed: uint256 = amount + premium
    base._settle(amount_out, owed, min_profit)
    base._safe_approve(asset, POOL, owed)
    return True
