# pragma version 0.4.3
"""
@title Aave V3 Pool double: flashLoanSimple with the real callback and pull repayment
@notice premium = percentMul(amount, 5 bps) = (amount·5 + 5000) / 10000 (half-up, as Aave's PercentageMath).
"""
import token_ops

interface IFlashLoanSimpleReceiver:
    def executeOperation(asset: address, amount: uint256, premium: uint256, initiator: address, params: Bytes[4096]) -> bool: nonpayable

event FlashLoan:
    target: indexed(address)
    initiator: address
    asset: indexed(address)
    amount: uint256
    interestRateMode: uint8
    premium: uint256
    referralCode: indexed(uint16)

FLASHLOAN_PREMIUM_TOTAL: public(uint128)
# Test hook: when set, the callback reports this initiator instead of msg.sender.
initiator_override: public(address)


@deploy
def __init__():
    self.FLASHLOAN_PREMIUM_TOTAL = 5


@external
def set_initiator_override(who: address):
    self.initiator_override = who


@external
def flashLoanSimple(receiverAddress: address, asset: address, amount: uint256, params: Bytes[4096], referralCode: uint16):
    premium: uint256 = (amount * convert(self.FLASHLOAN_PREMIUM_TOTAL, uint256) + 5000) // 10000
    token_ops.transfer(asset, receiverAddress, amount)
    initiator: address = msg.sender
    if self.initiator_override != empty(address):
        initiator = self.initiator_override
    ok: bool = extcall IFlashLoanSimpleReceiver(receiverAddress).executeOperation(asset, amount, premium, initiator, params)
    assert ok, "INVALID_FLASHLOAN_EXECUTOR_RETURN"
    token_ops.transfer_from(asset, receiverAddress, self, amount + premium)
    log FlashLoan(target=receiverAddress, initiator=initiator, asset=asset, amount=amount, interestRateMode=0, premium=premium, referralCode=referralCode)
