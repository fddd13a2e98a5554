# pragma version 0.4.3
"""
@title Arbiter executor borrowing from the SyncSwap Vault (EIP-3156)
@notice flashLoan → onFlashLoan. SyncSwap's vault compares balances after the callback, so the
        repayment is pushed: amount + fee is transferred inside onFlashLoan (an approval alone reverts).
"""
import flash_arb as base

initializes: base
exports: base.__interface__

interface IERC3156Lender:
    def flashLoan(receiver: address, token: address, amount: uint256, data: Bytes[base.PARAMS_SIZE]) -> bool: nonpayable

CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")
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
    assert extcall IERC3156Lender(VAULT).flashLoan(self, asset, amount, abi_encode(steps, min_profit)), "arbiter: flash loan refused"
    return base._finish(asset, amount)


@external
def onFlashLoan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[base.PARAMS_SIZE]) -> bytes32:
    base._check_callback(token, amount)
    base._check_initiator(initiator)
    steps: DynArray[base.Step, base.MAX_STEPS] = []
    min_profit: uint256 = 0
    steps, min_profit = abi_decode(data, (DynArray[base.Step, base.MAX_STEPS], uint256))
    amount_out: uint256 = base._run_path(amount, steps)
    owed: uint256 = amount + fee
    base._settle(amount_out, owed, min_profit)
    base._safe_transfer(token, VAULT, owed)
    return CALLBACK_SUCCESS
