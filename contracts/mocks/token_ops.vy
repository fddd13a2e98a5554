# pragma version 0.4.3
"""
@title Token calls tolerant of no-bool ERC-20s, shared by the lender doubles
"""

@internal
def transfer(token: address, to: address, amount: uint256):
    response: Bytes[32] = raw_call(token, abi_encode(to, amount, method_id=method_id("transfer(address,uint256)")), max_outsize=32)
    if len(response) > 0:
        assert convert(response, bool), "transfer failed"


@internal
def transfer_from(token: address, owner: address, to: address, amount: uint256):
    response: Bytes[32] = raw_call(
        token, abi_encode(owner, to, amount, method_id=method_id("transferFrom(address,address,uint256)")), max_outsize=32)
    if len(response) > 0:
        assert convert(response, bool), "transferFrom failed"


@internal
@view
def balance_of(token: address, owner: address) -> uint256:
    response: Bytes[32] = raw_call(token, abi_encode(owner, method_id=method_id("balanceOf(address)")), max_outsize=32, is_static_call=True)
    return convert(response, uint256)
