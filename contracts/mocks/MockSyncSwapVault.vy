# pragma version 0.4.3
"""
@title SyncSwap Vault double: EIP-3156 flashLoan, fee 0.05%, repayment checked by balance (push)
"""
import token_ops

interface IERC3156FlashBorrower:
    def onFlashLoan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[4096]) -> bytes32: nonpayable

CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")
flashLoanFeePercentage: public(uint256)
# Test hook: when set, the callback reports this initiator instead of msg.sender.
initiator_override: public(address)


@deploy
def __init__():
    self.flashLoanFeePercentage = 5 * 10**14


@external
def set_initiator_override(who: address):
    self.initiator_override = who


@view
@external
def maxFlashLoan(token: address) -> uint256:
    return token_ops.balance_of(token, self)


@view
@external
def flashFee(token: address, amount: uint256) -> uint256:
    return amount * self.flashLoanFeePercentage // 10**18


@external
def flashLoan(receiver: address, token: address, amount: uint256, data: Bytes[4096]) -> bool:
    before: uint256 = token_ops.balance_of(token, self)
    assert amount <= before, "amount exceeds vault balance"
    fee: uint256 = amount * self.flashLoanFeePercentage // 10**18
    token_ops.transfer(token, receiver, amount)
    initiator: address = msg.sender
    if self.initiator_override != empty(address):
        initiator = self.initiator_override
    assert extcall IERC3156FlashBorrower(receiver).onFlashLoan(initiator, token, amount, fee, data) == CALLBACK_SUCCESS, "callback failed"
    assert token_ops.balance_of(token, self) >= before + fee, "insufficient repayment"
    return True
