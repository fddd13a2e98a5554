# pragma version 0.4.3
"""
@title Multicall3-compatible batcher for the devnet lab
@notice The subset Arbiter uses of Multicall3's public interface (protocol-facts §9):
        aggregate3, aggregate and getEthBalance, with the same selectors and encodings.
        Bounded (256 calls, 4 KiB per call and per result) as any Vyper contract must be.
"""

struct Call3:
    target: address
    allowFailure: bool
    callData: Bytes[4096]

struct Call:
    target: address
    callData: Bytes[4096]

struct Result:
    success: bool
    returnData: Bytes[4096]


@external
def aggregate3(calls: DynArray[Call3, 256]) -> DynArray[Result, 256]:
    results: DynArray[Result, 256] = []
    for c: Call3 in calls:
        ok: bool = False
        response: Bytes[4096] = b""
        ok, response = raw_call(c.target, c.callData, max_outsize=4096, revert_on_failure=False)
        assert ok or c.allowFailure, "Multicall3: call failed"
        results.append(Result(success=ok, returnData=response))
    return results


@external
def aggregate(calls: DynArray[Call, 256]) -> (uint256, DynArray[Bytes[4096], 256]):
    out: DynArray[Bytes[4096], 256] = []
    for c: Call in calls:
        out.append(raw_call(c.target, c.callData, max_outsize=4096))
    return block.number, out


@view
@external
def getEthBalance(addr: address) -> uint256:
    return addr.balance
