# pragma version 0.4.3
"""
@title Drives a Uniswap V3 pool directly for the AMM oracle
@notice Mints exact liquidity and swaps with any amountSpecified and price limit, paying the
        pool from its own token balance in the callbacks. A test double: no access control.
"""
from ethereum.ercs import IERC20

interface IPool:
    def swap(recipient: address, zeroForOne: bool, amountSpecified: int256, sqrtPriceLimitX96: uint160, data: Bytes[32]) -> (int256, int256): nonpayable
    def mint(recipient: address, tickLower: int24, tickUpper: int24, amount: uint128, data: Bytes[32]) -> (uint256, uint256): nonpayable
    def burn(tickLower: int24, tickUpper: int24, amount: uint128) -> (uint256, uint256): nonpayable
    def token0() -> address: view
    def token1() -> address: view


@external
def swap(pool: address, zero_for_one: bool, amount_specified: int256, limit: uint160) -> (int256, int256):
    return extcall IPool(pool).swap(self, zero_for_one, amount_specified, limit, b"")


@external
def mint(pool: address, lower: int24, upper: int24, amount: uint128) -> (uint256, uint256):
    return extcall IPool(pool).mint(self, lower, upper, amount, b"")


@external
def burn(pool: address, lower: int24, upper: int24, amount: uint128) -> (uint256, uint256):
    return extcall IPool(pool).burn(lower, upper, amount)


@internal
def _pay(pool: address, amount0: uint256, amount1: uint256):
    if amount0 > 0:
        assert extcall IERC20(staticcall IPool(pool).token0()).transfer(pool, amount0)
    if amount1 > 0:
        assert extcall IERC20(staticcall IPool(pool).token1()).transfer(pool, amount1)


@external
def uniswapV3SwapCallback(amount0: int256, amount1: int256, data: Bytes[32]):
    self._pay(msg.sender, convert(max(amount0, 0), uint256), convert(max(amount1, 0), uint256))


@external
def uniswapV3MintCallback(amount0: uint256, amount1: uint256, data: Bytes[32]):
    self._pay(msg.sender, amount0, amount1)
