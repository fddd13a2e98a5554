# pragma version 0.4.3
"""
@title Arbiter executor minting DAI through DssFlash (EIP-3156)
@notice Design item #30. DAI only; the loan must not exceed `max()`. DssFlash pulls
        amount + fee with transferFrom, so the callback approves it.
"""
import flash_arb as base

initializes: base
exports: base.__interface__

interface IDssFlash:
    def flashLoan(receiver: address, token: address, amount: uint256, data: Bytes[base.PARAMS_SIZE]) -> bool: nonpayable
    def max() -> uint256: view

CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")
FLASH: public(immutable(address))
DAI: public(immutable(address))


@deploy
def __init__(flash: address, dai: address):
    base.__init__()
    FLASH = flash
    DAI = dai


@external
@nonreentrant
def execute(asset: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_profit: uint256, deadline: uint256) -> uint256:
    assert asset == DAI, "arbiter: the DAI flash mint lends only DAI"
    base._check_execute(asset, amount, steps, deadline)
    assert amount <= staticcall IDssFlash(FLASH).max(), "arbiter: above DssFlash max()"
    base._begin_loan(FLASH, asset, amount)
    assert extcall IDssFlash(FLASH).flashLoan(self, asset, amount, abi_encode(steps, min_profit)), "arbiter: flash loan refused"
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
    base._safe_approve(token, FLASH, owed)
    return CALLBACK_SUCCESS
