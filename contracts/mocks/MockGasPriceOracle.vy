# pragma version 0.4.3
"""
@title OP-stack GasPriceOracle double (Ecotone formula) for the devnet lab
@notice The views an L2 searcher reads from the predeploy at 0x420000000000000000000000000000000000000F:
        getL1Fee(bytes) over the unsigned RLP transaction, l1BaseFee(), blobBaseFee(), baseFeeScalar(),
        blobBaseFeeScalar(), decimals(). Ecotone: gas = zero bytes·4 + other bytes·16 + 68·16 (the
        signature the unsigned transaction lacks); fee = gas·(16·baseFeeScalar·l1BaseFee +
        blobBaseFeeScalar·blobBaseFee) / (16·10^6). The values are settable so a test can raise the fee.
"""

l1BaseFee: public(uint256)
blobBaseFee: public(uint256)
baseFeeScalar: public(uint32)
blobBaseFeeScalar: public(uint32)


@deploy
def __init__(l1_base_fee: uint256, blob_base_fee: uint256, base_fee_scalar: uint32, blob_base_fee_scalar: uint32):
    self._set(l1_base_fee, blob_base_fee, base_fee_scalar, blob_base_fee_scalar)


@external
def set_fees(l1_base_fee: uint256, blob_base_fee: uint256, base_fee_scalar: uint32, blob_base_fee_scalar: uint32):
    self._set(l1_base_fee, blob_base_fee, base_fee_scalar, blob_base_fee_scalar)


@internal
def _set(l1_base_fee: uint256, blob_base_fee: uint256, base_fee_scalar: uint32, blob_base_fee_scalar: uint32):
    self.l1BaseFee = l1_base_fee
    self.blobBaseFee = blob_base_fee
    self.baseFeeScalar = base_fee_scalar
    self.blobBaseFeeScalar = blob_base_fee_scalar


@pure
@external
def decimals() -> uint256:
    return 6


@view
@external
def getL1GasUsed(data: Bytes[65536]) -> uint256:
    return self._gas(data)


@view
@external
def getL1Fee(data: Bytes[65536]) -> uint256:
    scaled: uint256 = 16 * convert(self.baseFeeScalar, uint256) * self.l1BaseFee + convert(self.blobBaseFeeScalar, uint256) * self.blobBaseFee
    return self._gas(data) * scaled // (16 * 10**6)


@view
@internal
def _gas(data: Bytes[65536]) -> uint256:
    zeros: uint256 = 0
    for i: uint256 in range(65536):
        if i >= len(data):
            break
        if convert(slice(data, i, 1), bytes1) == empty(bytes1):
            zeros += 1
    return zeros * 4 + (len(data) - zeros) * 16 + 68 * 16
