# pragma version 0.4.3
"""
@title Arbiter executor borrowing from a Uniswap V3 (or PancakeSwap V3) pool
@notice pool.flash → uniswapV3FlashCallback (PancakeSwap V3 pools call pancakeV3FlashCallback,
        with the same arguments); we push amount + fee back to the pool before returning (the
        pool checks its balance). The pool is named per trade, so it is verified against FACTORY
        (getPool of its own tokens and tier must be it: one deployment per factory, Uniswap's or
        PancakeSwap's), and it may not be on the path: it is locked during its own flash, and a
        path through it would revert anyway.
"""
import flash_arb as base

initializes: base
exports: base.__interface__

interface IUniswapV3FlashPool:
    def token0() -> address: view
    def token1() -> address: view
    def fee() -> uint24: view
    def flash(recipient: address, amount0: uint256, amount1: uint256, data: Bytes[base.PARAMS_SIZE]): nonpayable

interface IUniswapV3Factory:
    def getPool(tokenA: address, tokenB: address, fee: uint24) -> address: view

FACTORY: public(immutable(address))


@deploy
def __init__(factory: address):
    base.__init__()
    FACTORY = factory


@external
@nonreentrant
def execute(pool: address, asset: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_profit: uint256,
            deadline: uint256) -> uint256:
    base._check_execute(asset, amount, steps, deadline)
    assert pool.is_contract, "arbiter: pool has no code"
    token0: address = staticcall IUniswapV3FlashPool(pool).token0()
    token1: address = staticcall IUniswapV3FlashPool(pool).token1()
    tier: uint24 = staticcall IUniswapV3FlashPool(pool).fee()
    assert staticcall IUniswapV3Factory(FACTORY).getPool(token0, token1, tier) == pool, "arbiter: pool not from the factory"
    assert asset == token0 or asset == token1, "arbiter: the pool does not hold the asset"
    for s: base.Step in steps:
        assert s.pool != pool, "arbiter: the lending pool is on the path"
    base._begin_loan(pool, asset, amount)
    if asset == token0:
        extcall IUniswapV3FlashPool(pool).flash(self, amount, 0, abi_encode(steps, min_profit))
    else:
        extcall IUniswapV3FlashPool(pool).flash(self, 0, amount, abi_encode(steps, min_profit))
    return base._finish(asset, amount)


@external
def uniswapV3FlashCallback(fee0: uint256, fee1: uint256, data: Bytes[base.PARAMS_SIZE]):
    self._on_flash(fee0, fee1, data)


@external
def pancakeV3FlashCallback(fee0: uint256, fee1: uint256, data: Bytes[base.PARAMS_SIZE]):
    self._on_flash(fee0, fee1, data)


@internal
def _on_flash(fee0: uint256, fee1: uint256, data: Bytes[base.PARAMS_SIZE]):
    # Only the pool we called, only during our own loan. One side was borrowed, so one fee is zero.
    base._check_lender()
    steps: DynArray[base.Step, base.MAX_STEPS] = []
    min_profit: uint256 = 0
    steps, min_profit = abi_decode(data, (DynArray[base.Step, base.MAX_STEPS], uint256))
    amount: uint256 = base._amount
    amount_out: uint256 = base._run_path(amount, steps)
    owed: uint256 = amount + fee0 + fee1
    base._settle(amount_out, owed, min_profit)
    base._safe_transfer(base._asset, msg.sender, owed)
