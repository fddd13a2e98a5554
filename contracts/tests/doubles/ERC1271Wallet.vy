# pragma version 0.4.3
"""
@title Test EIP-1271 wallet: a signature is valid when its bytes are the ones it was built with
"""
interface IERC20:
    def approve(spender: address, amount: uint256) -> bool: nonpayable

accepted: public(Bytes[64])


@deploy
def __init__(accepted: Bytes[64]):
    self.accepted = accepted


@external
@view
def isValidSignature(digest: bytes32, signature: Bytes[256]) -> bytes4:
    if keccak256(signature) == keccak256(self.accepted):
        return 0x1626ba7e
    return 0xffffffff


@external
def approve(token: address, spender: address):
    extcall IERC20(token).approve(spender, max_value(uint256))
