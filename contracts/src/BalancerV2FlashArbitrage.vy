# pragma version 0.4.3
"""
@title Arbiter executor borrowing from the Balancer V2 Vault
@notice flashLoan → receiveFlashLoan; we push amount + fee back to the Vault before returning.
        The Vault passes no initiator, so the in-flight check is what stops a stranger's loan.
"""
import flash_arb as base

initializes: base
exports: base.__interface__

interface IBalancerVault:
    def flashLoan(recipient: address, tokens: DynArray[address, 1], amounts: DynArray[uint256, 1], userData: Bytes[base.PARAMS_SIZE]): nonpayable

VAULT: public(immutable(address))


@deploy
def __init__(vault: address):
    base.__init__()
    VAULT = vault


@external
@nonreentrant
def execute(asset: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_profit: uint256, deadline: uint256) -> uint256:
    base._check_execute(asset, amount, steps, deadline)
    base._begin_loan(VAULT, asset, amount)
    extcall IBalancerVault(VAULT).flashLoan(self, [asset], [amount], abi_encode(steps, min_profit))
    return base._finish(asset, amount)


@external
def receiveFlashLoan(tokens: DynArray[address, 8], amounts: DynArray[uint256, 8], feeAmounts: DynArray[uint256, 8], userData: Bytes[base.PARAMS_SIZE]):
    assert len(tokens) == 1 and len(amounts) == 1 and len(feeAmounts) == 1, "arbiter: one token per loan"
    base._check_callback(tokens[0], amounts[0])
    steps: DynArray[base.Step, base.MAX_STEPS] = []
    min_profit: uint256 = 0
    steps, min_profit = abi_decode(userData, (DynArray[base.Step, base.MAX_STEPS], uint256))
    amount_out: uint256 = base._run_path(amounts[0], steps)
    owed: uint256 = amounts[0] + feeAmounts[0]
    base._settle(amount_out, owed, min_profit)
    base._safe_transfer(tokens[0], VAULT, owed)
