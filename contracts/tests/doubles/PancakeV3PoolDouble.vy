# pragma version 0.4.3
"""
@title A PancakeSwap V3 pool's flash, for tests (no PancakeSwap bytecode ships here)
@notice What PancakeV3Pool.flash does (v3-core fork): fee = mulDivRoundingUp(amount, fee, 1e6)
        per side, transfer out, call pancakeV3FlashCallback(fee0, fee1, data) on the sender,
        then require each balance ≥ before + its fee ("F0" / "F1"). Also its own factory's
        getPool mapping (register), so FACTORY checks have something to ask.
"""
from ethereum.ercs import IERC20

interface IPancakeV3FlashCallback:
    def pancakeV3FlashCallback(fee0: uint256, fee1: uint256, data: Bytes[4096]): nonpayable

interface IPool:
    def token0() -> address: view
    def token1() -> address: view
    def fee() -> uint24: view

token0: public(address)
token1: public(address)
fee: public(uint24)
getPool: public(HashMap[address, HashMap[address, HashMap[uint24, address]]])


@deploy
def __init__(token0: address, token1: address, fee: uint24):
    self.token0 = token0
    self.token1 = token1
    self.fee = fee


@external
def register(pool: address):
    """As a factory: records `pool` under its own tokens and tier, both orders."""
    a: address = staticcall IPool(pool).token0()
    b: address = staticcall IPool(pool).token1()
    f: uint24 = staticcall IPool(pool).fee()
    self.getPool[a][b][f] = pool
    self.getPool[b][a][f] = pool


@internal
@pure
def _fee(amount: uint256, tier: uint24) -> uint256:
    return (amount * convert(tier, uint256) + 999_999) // 1_000_000


@external
def flash(recipient: address, amount0: uint256, amount1: uint256, data: Bytes[4096]):
    fee0: uint256 = self._fee(amount0, self.fee)
    fee1: uint256 = self._fee(amount1, self.fee)
    before0: uint256 = staticcall IERC20(self.token0).balanceOf(self)
    before1: uint256 = staticcall IERC20(self.token1).balanceOf(self)
    if amount0 > 0:
        assert extcall IERC20(self.token0).transfer(recipient, amount0)
    if amount1 > 0:
        assert extcall IERC20(self.token1).transfer(recipient, amount1)
    extcall IPancakeV3FlashCallback(msg.sender).pancakeV3FlashCallback(fee0, fee1, data)
    assert staticcall IERC20(self.token0).balanceOf(self) >= before0 + fee0, "F0"
    assert staticcall IERC20(self.token1).balanceOf(self) >= before1 + fee1, "F1"
