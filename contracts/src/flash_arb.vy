# pragma version 0.4.3
"""
@title Arbiter flash-arbitrage core
@notice Shared state and logic of every Arbiter executor (the design's BaseFlashArbitrage):
        ownership, authorised executors, pause, withdrawals, path validation, direct swaps
        against Uniswap V2 pairs and V3 pools, and the profit check. Each lender's contract
        is a thin layer that borrows, calls `_run_path`, repays and reports.
"""

# A path step. Swaps go straight to pools, never through routers.
struct Step:
    pool: address
    kind: uint8         # KIND_V2 (Uniswap V2-style pair) or KIND_V3 (Uniswap V3-style pool)
    token_in: address
    token_out: address
    fee: uint24         # V2: the pair's fee in pips (3000 = 0.3%); V3: the pool's tier, informational

KIND_V2: constant(uint8) = 0
KIND_V3: constant(uint8) = 1
MAX_STEPS: constant(uint256) = 5
PARAMS_SIZE: constant(uint256) = 1024
PIPS: constant(uint256) = 1_000_000
# TickMath bounds, one step inside, as swap price limits (protocol-facts §2).
MIN_SQRT_RATIO_PLUS_ONE: constant(uint160) = 4295128740
MAX_SQRT_RATIO_MINUS_ONE: constant(uint160) = 1461446703485210103287273052203988822378723970341

interface IUniswapV2Pair:
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[1]): nonpayable

interface IUniswapV3Pool:
    def swap(recipient: address, zeroForOne: bool, amountSpecified: int256, sqrtPriceLimitX96: uint160, data: Bytes[1]) -> (int256, int256): nonpayable

event Executed:
    asset: indexed(address)
    amount: uint256
    profit: uint256

event ExecutorSet:
    executor: indexed(address)
    allowed: bool

event OwnershipTransferStarted:
    previous_owner: indexed(address)
    new_owner: indexed(address)

event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)

event Paused:
    account: address

event Unpaused:
    account: address

owner: public(address)
pending_owner: public(address)
executors: public(HashMap[address, bool])
paused: public(bool)

# Live only while one `execute` runs (transient storage): who may call back and with what.
_lender: transient(address)
_asset: transient(address)
_amount: transient(uint256)
_profit: transient(uint256)
_v3_pool: transient(address)
_v3_token_in: transient(address)


@deploy
def __init__():
    self.owner = msg.sender


# ---------------------------------------------------------------- administration

@internal
def _only_owner():
    assert msg.sender == self.owner, "arbiter: not owner"


@external
def set_executor(executor: address, allowed: bool):
    self._only_owner()
    self.executors[executor] = allowed
    log ExecutorSet(executor=executor, allowed=allowed)


@external
def transfer_ownership(new_owner: address):
    self._only_owner()
    self.pending_owner = new_owner
    log OwnershipTransferStarted(previous_owner=self.owner, new_owner=new_owner)


@external
def accept_ownership():
    assert msg.sender == self.pending_owner, "arbiter: not pending owner"
    log OwnershipTransferred(previous_owner=self.owner, new_owner=msg.sender)
    self.owner = msg.sender
    self.pending_owner = empty(address)


@external
def pause():
    self._only_owner()
    self.paused = True
    log Paused(account=msg.sender)


@external
def unpause():
    self._only_owner()
    self.paused = False
    log Unpaused(account=msg.sender)


@external
@nonreentrant
def withdraw(token: address, amount: uint256, to: address):
    """
    @notice Sends `amount` of `token` (the zero address for ETH) to `to`. Owner only.
    """
    self._only_owner()
    assert to != empty(address), "arbiter: zero recipient"
    if token == empty(address):
        send(to, amount)
    else:
        self._safe_transfer(token, to, amount)


@external
@payable
def __default__():
    pass


# ---------------------------------------------------------------- tokens

@internal
def _safe_transfer(token: address, to: address, amount: uint256):
    # Tokens such as USDT return nothing; a present return value must be true.
    assert token.is_contract, "arbiter: token has no code"
    response: Bytes[32] = raw_call(
        token, abi_encode(to, amount, method_id=method_id("transfer(address,uint256)")), max_outsize=32)
    if len(response) > 0:
        assert convert(response, bool), "arbiter: transfer failed"


@internal
def _safe_approve(token: address, spender: address, amount: uint256):
    assert token.is_contract, "arbiter: token has no code"
    # USDT-style tokens refuse to change a non-zero allowance; reset it first.
    current: Bytes[32] = raw_call(
        token, abi_encode(self, spender, method_id=method_id("allowance(address,address)")), max_outsize=32, is_static_call=True)
    if len(current) == 32 and convert(current, uint256) != 0:
        self._raw_approve(token, spender, 0)
    self._raw_approve(token, spender, amount)


@internal
def _raw_approve(token: address, spender: address, amount: uint256):
    response: Bytes[32] = raw_call(
        token, abi_encode(spender, amount, method_id=method_id("approve(address,uint256)")), max_outsize=32)
    if len(response) > 0:
        assert convert(response, bool), "arbiter: approve failed"


# ---------------------------------------------------------------- execution

@internal
def _check_caller(deadline: uint256):
    assert msg.sender == self.owner or self.executors[msg.sender], "arbiter: not authorised"
    assert not self.paused, "arbiter: paused"
    assert block.timestamp <= deadline, "arbiter: deadline passed"


@internal
def _check_path(token_in: address, token_out: address, steps: DynArray[Step, MAX_STEPS]):
    # A continuous path of known pool kinds from token_in to token_out.
    n: uint256 = len(steps)
    assert n > 0, "arbiter: empty path"
    assert steps[0].token_in == token_in, "arbiter: path must start with the asset"
    assert steps[n - 1].token_out == token_out, "arbiter: path must return to the asset"
    for i: uint256 in range(MAX_STEPS):
        if i >= n:
            break
        s: Step = steps[i]
        assert s.kind == KIND_V2 or s.kind == KIND_V3, "arbiter: unknown pool kind"
        assert s.pool != empty(address), "arbiter: zero pool"
        assert s.token_in != s.token_out, "arbiter: step swaps a token for itself"
        assert convert(s.fee, uint256) < PIPS, "arbiter: fee out of range"
        if i + 1 < n:
            assert s.token_out == steps[i + 1].token_in, "arbiter: path is not continuous"


@internal
def _check_execute(asset: address, amount: uint256, steps: DynArray[Step, MAX_STEPS], deadline: uint256):
    self._check_caller(deadline)
    assert amount > 0, "arbiter: zero amount"
    self._check_path(asset, asset, steps)


@internal
def _begin_loan(lender: address, asset: address, amount: uint256):
    self._lender = lender
    self._asset = asset
    self._amount = amount
    self._profit = 0


@internal
def _check_lender():
    # Only the lender we called, only while our own loan is in flight.
    assert self._lender != empty(address), "arbiter: no loan in flight"
    assert msg.sender == self._lender, "arbiter: callback not from the lender"


@internal
def _check_callback(asset: address, amount: uint256):
    # ... and only for what we asked.
    self._check_lender()
    assert asset == self._asset and amount == self._amount, "arbiter: callback for another loan"


@internal
def _check_initiator(initiator: address):
    assert initiator == self, "arbiter: loan not initiated by this contract"


@internal
def _settle(amount_out: uint256, owed: uint256, min_profit: uint256):
    assert amount_out >= owed + min_profit, "arbiter: unprofitable"
    self._profit = amount_out - owed


@internal
def _finish(asset: address, amount: uint256) -> uint256:
    profit: uint256 = self._profit
    self._lender = empty(address)
    self._asset = empty(address)
    self._amount = 0
    self._profit = 0
    log Executed(asset=asset, amount=amount, profit=profit)
    return profit


@internal
def _run_path(amount: uint256, steps: DynArray[Step, MAX_STEPS]) -> uint256:
    out: uint256 = amount
    for s: Step in steps:
        if s.kind == KIND_V2:
            out = self._swap_v2(s, out)
        else:
            out = self._swap_v3(s, out)
    return out


@internal
def _swap_v2(s: Step, amount_in: uint256) -> uint256:
    r0: uint112 = 0
    r1: uint112 = 0
    ts: uint32 = 0
    r0, r1, ts = staticcall IUniswapV2Pair(s.pool).getReserves()
    zero_for_one: bool = convert(s.token_in, uint160) < convert(s.token_out, uint160)
    reserve_in: uint256 = convert(r1, uint256)
    reserve_out: uint256 = convert(r0, uint256)
    if zero_for_one:
        reserve_in = convert(r0, uint256)
        reserve_out = convert(r1, uint256)
    # getAmountOut with the pair's fee in pips: floor(in·(1e6−fee)·rOut / (rIn·1e6 + in·(1e6−fee))).
    in_with_fee: uint256 = amount_in * (PIPS - convert(s.fee, uint256))
    amount_out: uint256 = in_with_fee * reserve_out // (reserve_in * PIPS + in_with_fee)
    assert amount_out > 0, "arbiter: V2 output is zero"
    self._safe_transfer(s.token_in, s.pool, amount_in)
    if zero_for_one:
        extcall IUniswapV2Pair(s.pool).swap(0, amount_out, self, b"")
    else:
        extcall IUniswapV2Pair(s.pool).swap(amount_out, 0, self, b"")
    return amount_out


@internal
def _swap_v3(s: Step, amount_in: uint256) -> uint256:
    zero_for_one: bool = convert(s.token_in, uint160) < convert(s.token_out, uint160)
    limit: uint160 = MAX_SQRT_RATIO_MINUS_ONE
    if zero_for_one:
        limit = MIN_SQRT_RATIO_PLUS_ONE
    self._v3_pool = s.pool
    self._v3_token_in = s.token_in
    amount0: int256 = 0
    amount1: int256 = 0
    amount0, amount1 = extcall IUniswapV3Pool(s.pool).swap(self, zero_for_one, convert(amount_in, int256), limit, b"")
    self._v3_pool = empty(address)
    paid: int256 = amount1
    received: int256 = amount0
    if zero_for_one:
        paid = amount0
        received = amount1
    # Running out of liquidity would leave part of the input unspent: treat as failure.
    assert paid == convert(amount_in, int256), "arbiter: V3 swap filled partially"
    assert received < 0, "arbiter: V3 output is zero"
    return convert(-received, uint256)


@external
def uniswapV3SwapCallback(amount0Delta: int256, amount1Delta: int256, data: Bytes[PARAMS_SIZE]):
    """
    @notice Pays a V3 pool during our own swap. Any other caller, or a call outside a swap, reverts.
    """
    assert self._v3_pool != empty(address) and msg.sender == self._v3_pool, "arbiter: unexpected swap callback"
    pay: int256 = amount1Delta
    if amount0Delta > 0:
        pay = amount0Delta
    assert pay > 0, "arbiter: nothing owed"
    self._safe_transfer(self._v3_token_in, msg.sender, convert(pay, uint256))
