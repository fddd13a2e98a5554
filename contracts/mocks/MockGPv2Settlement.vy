# pragma version 0.4.3
"""
@title GPv2Settlement double for CoW backrun work
@notice Emits the real Trade, Interaction and Settlement events (protocol-facts §4) and can
        execute one order against a Uniswap V2-style pair, moving its price as a real
        settlement's interaction would.
"""
import token_ops

interface IUniswapV2Pair:
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[1]): nonpayable

event Trade:
    owner: indexed(address)
    sellToken: address
    buyToken: address
    sellAmount: uint256
    buyAmount: uint256
    feeAmount: uint256
    orderUid: Bytes[56]

event Interaction:
    target: indexed(address)
    value: uint256
    selector: bytes4

event Settlement:
    solver: indexed(address)


@external
def settle_against_v2(owner: address, sell_token: address, buy_token: address, sell_amount: uint256,
                      pool: address, fee_pips: uint256, valid_to: uint32) -> uint256:
    """
    @notice Fills `owner`'s sell order on `pool`: pulls sell_amount (owner must approve this
            contract), swaps it on the pair, pays the output to the owner, and logs as GPv2 does.
    """
    token_ops.transfer_from(sell_token, owner, pool, sell_amount)
    r0: uint112 = 0
    r1: uint112 = 0
    ts: uint32 = 0
    r0, r1, ts = staticcall IUniswapV2Pair(pool).getReserves()
    zero_for_one: bool = convert(sell_token, uint160) < convert(buy_token, uint160)
    reserve_in: uint256 = convert(r1, uint256)
    reserve_out: uint256 = convert(r0, uint256)
    if zero_for_one:
        reserve_in = convert(r0, uint256)
        reserve_out = convert(r1, uint256)
    in_with_fee: uint256 = sell_amount * (1_000_000 - fee_pips)
    buy_amount: uint256 = in_with_fee * reserve_out // (reserve_in * 1_000_000 + in_with_fee)
    if zero_for_one:
        extcall IUniswapV2Pair(pool).swap(0, buy_amount, owner, b"")
    else:
        extcall IUniswapV2Pair(pool).swap(buy_amount, 0, owner, b"")
    log Interaction(target=pool, value=0, selector=method_id("swap(uint256,uint256,address,bytes)", output_type=bytes4))
    digest: bytes32 = keccak256(abi_encode(owner, sell_token, buy_token, sell_amount, buy_amount, block.number))
    uid: Bytes[56] = concat(digest, convert(owner, bytes20), convert(valid_to, bytes4))
    log Trade(owner=owner, sellToken=sell_token, buyToken=buy_token, sellAmount=sell_amount, buyAmount=buy_amount, feeAmount=0, orderUid=uid)
    log Settlement(solver=msg.sender)
    return buy_amount
