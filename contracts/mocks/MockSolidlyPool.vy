# pragma version 0.4.3
"""
@title Solidly-family pool state double for the devnet lab
@notice The views market state reads from a Velodrome V2 / Aerodrome pool, with their ABI:
        getReserves() -> (uint256, uint256, uint256), stable() -> bool, token0(), token1(), and
        the Sync(uint256,uint256) event. No swapping: Arbiter's Solidly math is checked against a
        reference model elsewhere; this double checks that state is read and followed right.
"""

event Sync:
    reserve0: uint256
    reserve1: uint256

token0: public(address)
token1: public(address)
stable: public(bool)
reserve0: uint256
reserve1: uint256
blockTimestampLast: uint256


@deploy
def __init__(token0: address, token1: address, stable: bool, reserve0: uint256, reserve1: uint256):
    self.token0 = token0
    self.token1 = token1
    self.stable = stable
    self._set(reserve0, reserve1)


@view
@external
def getReserves() -> (uint256, uint256, uint256):
    return self.reserve0, self.reserve1, self.blockTimestampLast


@external
def set_reserves(reserve0: uint256, reserve1: uint256):
    """@notice What a swap, mint or burn leaves behind: new reserves and a Sync log."""
    self._set(reserve0, reserve1)


@internal
def _set(reserve0: uint256, reserve1: uint256):
    self.reserve0 = reserve0
    self.reserve1 = reserve1
    self.blockTimestampLast = block.timestamp
    log Sync(reserve0=reserve0, reserve1=reserve1)
