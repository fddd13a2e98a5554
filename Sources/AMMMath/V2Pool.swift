import EVMPrimitives

/// A constant-product pair: reserves and the fee charged on the input, per direction (equal for
/// Uniswap V2 and most forks; Camelot-style pairs charge each token its own fee).
public struct V2Pool: Equatable, Sendable {
    public var reserve0: UInt256
    public var reserve1: UInt256
    /// Fee in pips when token0 goes in.
    public var fee0Pips: UInt32
    /// Fee in pips when token1 goes in.
    public var fee1Pips: UInt32

    public init(reserve0: UInt256, reserve1: UInt256, feePips: UInt32 = 3000) throws(AMMError) {
        try self.init(reserve0: reserve0, reserve1: reserve1, fee0Pips: feePips, fee1Pips: feePips)
    }

    public init(reserve0: UInt256, reserve1: UInt256, fee0Pips: UInt32, fee1Pips: UInt32) throws(AMMError) {
        guard reserve0 <= UniswapV2Math.maxReserve, reserve1 <= UniswapV2Math.maxReserve else {
            throw AMMError(.invalidState, "reserves exceed uint112")
        }
        guard fee0Pips < 1_000_000, fee1Pips < 1_000_000 else { throw AMMError(.invalidState, "fee is 100% or more") }
        self.reserve0 = reserve0
        self.reserve1 = reserve1
        self.fee0Pips = fee0Pips
        self.fee1Pips = fee1Pips
    }

    /// Exact input: what the pair pays for `amountIn`. The pair reverts when its balance would pass
    /// uint112 or the output rounds to zero; so does this.
    @inlinable
    public func amountOut(amountIn: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        let (rIn, rOut, fee) = zeroForOne ? (reserve0, reserve1, fee0Pips) : (reserve1, reserve0, fee1Pips)
        return try UniswapV2Math.pairAmountOut(amountIn: amountIn, reserveIn: rIn, reserveOut: rOut, feePips: fee)
    }

    /// Exact output: the least input for which the pair pays `amountOut`.
    @inlinable
    public func amountIn(amountOut: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        let (rIn, rOut, fee) = zeroForOne ? (reserve0, reserve1, fee0Pips) : (reserve1, reserve0, fee1Pips)
        let a = try UniswapV2Math.amountIn(amountOut: amountOut, reserveIn: rIn, reserveOut: rOut, feePips: fee)
        guard let balance = rIn.checkedAdd(a), balance <= UniswapV2Math.maxReserve else {
            throw AMMError(.overflow, "the pair's balance would exceed uint112")
        }
        return a
    }

    /// The pair after a swap of `amountIn` for `amountOut`.
    public func applying(amountIn: UInt256, amountOut: UInt256, zeroForOne: Bool) -> V2Pool {
        var p = self
        if zeroForOne {
            p.reserve0 += amountIn
            p.reserve1 -= amountOut
        } else {
            p.reserve1 += amountIn
            p.reserve0 -= amountOut
        }
        return p
    }
}
