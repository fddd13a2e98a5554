"""The lab's OP-stack GasPriceOracle double: getL1Fee over random unsigned transactions equals
the Ecotone formula computed here (zero bytes ·4, others ·16, plus 68·16 for the signature)."""
import os
import random

import boa
import rlp

from onchain import ROOT


def ecotone(data: bytes, l1_base_fee, blob_base_fee, scalar, blob_scalar):
    zeros = data.count(0)
    gas = zeros * 4 + (len(data) - zeros) * 16 + 68 * 16
    return gas * (16 * scalar * l1_base_fee + blob_scalar * blob_base_fee) // (16 * 10**6)


def test_get_l1_fee_is_the_ecotone_formula():
    r = random.Random(3)
    params = (20 * 10**9, 10**9, 1368, 810949)  # OP mainnet's Ecotone scalars
    oracle = boa.load(os.path.join(ROOT, "contracts", "mocks", "MockGasPriceOracle.vy"), *params)
    assert oracle.decimals() == 6
    for _ in range(25):
        # An unsigned EIP-1559 transaction: 0x02 ‖ rlp([...]) with random calldata (some zero runs).
        calldata = bytes(r.choice([0, 0, r.randrange(256)]) for _ in range(r.randrange(0, 600)))
        unsigned = b"\x02" + rlp.encode([10, r.randrange(1000), 10**9, 3 * 10**9, 500_000, bytes(20), 0, calldata, []])
        assert oracle.getL1GasUsed(unsigned) == unsigned.count(0) * 4 + (len(unsigned) - unsigned.count(0)) * 16 + 68 * 16
        assert oracle.getL1Fee(unsigned) == ecotone(unsigned, *params)
    oracle.set_fees(10**15, 0, 1368, 0)
    assert oracle.getL1Fee(b"\x01" * 100) == ecotone(b"\x01" * 100, 10**15, 0, 1368, 0)
