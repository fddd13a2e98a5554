import EVMPrimitives

/// A pool of any kind Arbiter can price, as one value: what detection and sizing work on.
public enum Pool: Equatable, Sendable {
    case uniswapV2(V2Pool)
    /// Uniswap V3, PancakeSwap V3 and Algebra share the concentrated-liquidity step math.
    case uniswapV3(V3Pool)
    /// Curve StableSwap, two coins. Boxed, as Solidly's: their states are two to three times a
    /// V2 or V3 pool's, and every `Pool` copy (the book's undo entries, detection's paths) would
    /// carry the largest case's size.
    indirect case curve(CurvePool)
    /// Solidly-family volatile or stable pair.
    indirect case solidly(SolidlyPool)
    /// Raydium AMM v4 (token0 = coin, token1 = pc).
    case raydiumAMM(RaydiumAMMPool)
    /// Orca Whirlpool (token0 = A, token1 = B).
    case whirlpool(WhirlpoolPool)
    /// Meteora DLMM (token0 = X, token1 = Y), quoted at the cluster time `timestamp`.
    case meteoraDLMM(DLMMPool, timestamp: Int64)
    /// Raydium CLMM (token0 = mint 0, token1 = mint 1).
    case raydiumCLMM(RaydiumCLMMPool)
    /// A Phoenix order book (token0 = base, token1 = quote: zeroForOne sells base), at its clock.
    case phoenix(PhoenixBook)

    /// The outcome of a quote. For concentrated liquidity, the state after the swap too.
    public struct Quote: Equatable, Sendable {
        public var amountIn: UInt256
        public var amountOut: UInt256
        public var v3After: V3Pool.SwapResult?
    }

    /// Quotes a swap. `exactOutput` asks for `amount` out; a price limit applies to V3 only.
    /// A V3 swap may stop at the limit, using less input (or giving less output) than asked.
    public func quote(zeroForOne: Bool, amount: UInt256, exactOutput: Bool = false, sqrtPriceLimitX96: UInt256? = nil) throws(AMMError) -> Quote {
        switch self {
        case .uniswapV2(let p):
            if exactOutput {
                return Quote(amountIn: try p.amountIn(amountOut: amount, zeroForOne: zeroForOne), amountOut: amount, v3After: nil)
            }
            return Quote(amountIn: amount, amountOut: try p.amountOut(amountIn: amount, zeroForOne: zeroForOne), v3After: nil)
        case .uniswapV3(let p):
            let r = try p.swap(zeroForOne: zeroForOne, amount: amount, exactOutput: exactOutput, sqrtPriceLimitX96: sqrtPriceLimitX96)
            return Quote(amountIn: r.amountIn, amountOut: r.amountOut, v3After: r)
        case .curve, .solidly, .raydiumAMM, .whirlpool, .meteoraDLMM, .raydiumCLMM, .phoenix:
            // No exact-output method on these pools: the least input that pays, and what it pays.
            let input = exactOutput ? try amountIn(amount, zeroForOne: zeroForOne) : amount
            return Quote(amountIn: input, amountOut: try amountOut(input, zeroForOne: zeroForOne), v3After: nil)
        }
    }

    /// Exact-input output only: the hot path of sizing. Partial fills (a V3 pool that runs out of
    /// range) are refused, since a path's next hop would receive less than planned.
    @inlinable
    public func amountOut(_ amountIn: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        switch self {
        case .uniswapV2(let p):
            return try p.amountOut(amountIn: amountIn, zeroForOne: zeroForOne)
        case .uniswapV3(let p):
            let r = try p.quoteExactInput(zeroForOne: zeroForOne, amount: amountIn)
            guard r.amountIn == amountIn else { throw AMMError(.insufficientLiquidity, "the pool fills only \(r.amountIn) of \(amountIn)") }
            guard !r.amountOut.isZero else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
            return r.amountOut
        case .curve(let p):
            return try p.amountOut(amountIn: amountIn, zeroForOne: zeroForOne)
        case .solidly(let p):
            return try p.amountOut(amountIn: amountIn, zeroForOne: zeroForOne)
        case .raydiumAMM(let p):
            return UInt256(try p.amountOut(amountIn: try Self.u64(amountIn), coinToPc: zeroForOne))
        case .whirlpool(let p):
            return UInt256(try p.amountOut(amount: try Self.u64(amountIn), aToB: zeroForOne))
        case .meteoraDLMM(let p, let t):
            return UInt256(try p.amountOut(amount: try Self.u64(amountIn), swapForY: zeroForOne, timestamp: t))
        case .raydiumCLMM(let p):
            return UInt256(try p.amountOut(amount: try Self.u64(amountIn), zeroForOne: zeroForOne))
        case .phoenix(let p):
            // What is not taken of the input (less than an order's lot, or past the book) stays with the taker.
            return UInt256(try p.swap(try Self.u64(amountIn), buy: !zeroForOne).amountOut)
        }
    }

    /// Solana amounts are u64: a larger input is refused, as the program would refuse it.
    @inlinable
    static func u64(_ x: UInt256) throws(AMMError) -> UInt64 {
        guard x.w1 | x.w2 | x.w3 == 0 else { throw AMMError(.invalidAmount, "\(x) passes u64") }
        return x.w0
    }

    /// The pool after swapping `amountIn` (exact input).
    public func applying(amountIn: UInt256, zeroForOne: Bool) throws(AMMError) -> Pool {
        switch self {
        case .uniswapV2(let p):
            let out = try p.amountOut(amountIn: amountIn, zeroForOne: zeroForOne)
            return .uniswapV2(p.applying(amountIn: amountIn, amountOut: out, zeroForOne: zeroForOne))
        case .uniswapV3(let p):
            return .uniswapV3(p.applying(try p.swap(zeroForOne: zeroForOne, amount: amountIn)))
        case .curve(let p):
            return .curve(try p.applying(amountIn: amountIn, zeroForOne: zeroForOne))
        case .solidly(let p):
            return .solidly(try p.applying(amountIn: amountIn, zeroForOne: zeroForOne))
        case .raydiumAMM(let p):
            let x = try Self.u64(amountIn)
            return .raydiumAMM(try p.applying(amountIn: x, amountOut: try p.amountOut(amountIn: x, coinToPc: zeroForOne), coinToPc: zeroForOne))
        case .whirlpool(let p):
            return .whirlpool(p.applying(try p.swap(amount: try Self.u64(amountIn), aToB: zeroForOne)))
        case .meteoraDLMM(let p, let t):
            return .meteoraDLMM(try p.swap(amount: try Self.u64(amountIn), swapForY: zeroForOne, timestamp: t).after, timestamp: t)
        case .raydiumCLMM(let p):
            return .raydiumCLMM(p.applying(try p.swap(amount: try Self.u64(amountIn), zeroForOne: zeroForOne)))
        case .phoenix(let p):
            return .phoenix(try p.applying(try Self.u64(amountIn), buy: !zeroForOne))
        }
    }
}

extension Pool {
    /// token1 per token0 in raw units: a screening signal for the PriceMatrix, not for sizing.
    /// Inlinable for the V2 and V3 cases (read for every log applied): inlined where the state is
    /// boxed, it reads the fields it needs in place instead of copying the pool out first.
    @inlinable @inline(__always)
    public var spotPrice: Double {
        switch self {
        case .uniswapV2(let p):
            return p.reserve0.isZero ? 0 : p.reserve1.doubleValue / p.reserve0.doubleValue
        case .uniswapV3(let p):
            let s = p.sqrtPriceX96.doubleValue / 79_228_162_514_264_337_593_543_950_336.0
            return s * s
        default:
            return otherSpotPrice
        }
    }

    /// `spotPrice` of the other kinds.
    @usableFromInline
    var otherSpotPrice: Double {
        switch self {
        case .uniswapV2, .uniswapV3:
            return spotPrice
        case .solidly(let p):
            return p.reserve0.isZero ? 0 : p.reserve1.doubleValue / p.reserve0.doubleValue
        case .curve(let p):
            return p.balances.0.isZero ? 0 : p.balances.1.doubleValue / p.balances.0.doubleValue
        case .raydiumAMM(let p):
            return p.coinReserve == 0 ? 0 : Double(p.pcReserve) / Double(p.coinReserve)
        case .whirlpool(let p):
            let s = p.sqrtPrice.approximateDouble / 18_446_744_073_709_551_616.0
            return s * s
        case .meteoraDLMM(let p, _):
            return p.spotPrice
        case .raydiumCLMM(let p):
            let s = p.sqrtPrice.approximateDouble / 18_446_744_073_709_551_616.0
            return s * s
        case .phoenix(let p):
            // The mid of the best bid and ask (either alone when the other side is empty).
            let tops = [p.best(buy: true), p.best(buy: false)].compactMap { $0.map { p.price(ticks: $0.priceInTicks) } }
            guard !tops.isEmpty else { return 0 }
            return tops.reduce(0.0) { $0 + Double($1.numerator) / Double($1.denominator) } / Double(tops.count)
        }
    }
}
