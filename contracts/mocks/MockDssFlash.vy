# pragma version 0.4.3
"""
@title DssFlash double: EIP-3156 DAI flash mint with max(), fee 0, pull repayment
@notice Legacy mode (MCD_FLASH_LEGACY) charges toll: fee = amount·toll / 1e18.
"""

interface IMintableDAI:
    def mint(to: address, amount: uint256): nonpayable
    def burn(owner: address, amount: uint256): nonpayable
    def transferFrom(owner: address, to: address, amount: uint256) -> bool: nonpayable

interface IERC3156FlashBorrower:
    def onFlashLoan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[4096]) -> bytes32: nonpayable

CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")
dai: public(address)
ceiling: public(uint256)
toll: public(uint256)


@deploy
def __init__(dai: address, max_amount: uint256):
    self.dai = dai
    self.ceiling = max_amount


# DssFlash's `max()` (selector 0x6ac5db19) is a Vyper builtin's name, so the fallback answers it.
@view
@external
def __default__() -> uint256:
    assert len(msg.data) == 4 and slice(msg.data, 0, 4) == method_id("max()"), "DssFlash/unknown-call"
    return self.ceiling


@external
def set_toll(toll: uint256):
    self.toll = toll


@view
@external
def maxFlashLoan(token: address) -> uint256:
    if token == self.dai:
        return self.ceiling
    return 0


@view
@external
def flashFee(token: address, amount: uint256) -> uint256:
    assert token == self.dai, "DssFlash/token-unsupported"
    return amount * self.toll // 10**18


@external
def flashLoan(receiver: address, token: address, amount: uint256, data: Bytes[4096]) -> bool:
    assert token == self.dai, "DssFlash/token-unsupported"
    assert amount <= self.ceiling, "DssFlash/ceiling-exceeded"
    fee: uint256 = amount * self.toll // 10**18
    extcall IMintableDAI(self.dai).mint(receiver, amount)
    assert extcall IERC3156FlashBorrower(receiver).onFlashLoan(msg.sender, token, amount, fee, data) == CALLBACK_SUCCESS, "DssFlash/callback-failed"
    assert extcall IMintableDAI(self.dai).transferFrom(receiver, self, amount + fee)
    extcall IMintableDAI(self.dai).burn(self, amount)
    return True
