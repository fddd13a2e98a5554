import EVMPrimitives

/// A swap path: each hop sells the previous hop's output into a pool. For an arbitrage cycle the
/// last hop's output token is the first hop's input token.
public struct Path: Equatable, Sendable {
    public struct Hop: Equatable, Sendable {
        public var pool: Pool
        public var zeroForOne: Bool
        public init(pool: Pool, zeroForOne: Bool) {
            self.pool = pool
            self.zeroForOne = zeroForOne
        }
    }

    public var hops: [Hop]
    public init(_ hops: [Hop]) { self.hops = hops }

    /// The amounts along the path for `amountIn`: `[amountIn, out₁, …, outₙ]`, exact.
    @inlinable
    public func amounts(_ amountIn: UInt256) throws(AMMError) -> [UInt256] {
        var out = [UInt256]()
        out.reserveCapacity(hops.count + 1)
        out.append(amountIn)
        var x = amountIn
        for hop in hops {
            x = try hop.pool.amountOut(x, zeroForOne: hop.zeroForOne)
            out.append(x)
        }
        return out
    }

    /// The path's output for `amountIn`, exact.
    @inlinable
    public func amountOut(_ amountIn: UInt256) throws(AMMError) -> UInt256 {
        var x = amountIn
        for hop in hops { x = try hop.pool.amountOut(x, zeroForOne: hop.zeroForOne) }
        return x
    }

    /// The least input at hop 0 that delivers at least `amount` into hop `boundary`
    /// (`boundary` = 0 returns `amount`): exact-output quotes chained backwards.
    public func leastInput(delivering amount: UInt256, at boundary: Int) throws(AMMError) -> UInt256 {
        var v = amount
        var j = boundary
        while j > 0 {
            j -= 1
            v = try hops[j].pool.amountIn(v, zeroForOne: hops[j].zeroForOne)
        }
        return v
    }
}

extension Pool {
    /// Exact output: the least input that makes the pool pay `amountOut` in full.
    public func amountIn(_ amountOut: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        switch self {
        case .uniswapV2(let p):
            return try p.amountIn(amountOut: amountOut, zeroForOne: zeroForOne)
        case .uniswapV3(let p):
            let r = try p.swap(zeroForOne: zeroForOne, amount: amountOut, exactOutput: true)
            guard r.amountOut == amountOut else { throw AMMError(.insufficientLiquidity, "the pool pays only \(r.amountOut) of \(amountOut)") }
            return r.amountIn
        case .curve(let p):
            return try p.amountIn(amountOut: amountOut, zeroForOne: zeroForOne)
        case .solidly(let p):
            return try p.amountIn(amountOut: amountOut, zeroForOne: zeroForOne)
        case .raydiumAMM, .whirlpool, .meteoraDLMM, .raydiumCLMM, .phoenix:
            // Started from the local constant-product model's answer (exact for Raydium up to rounding).
            let (rIn, rOut, g) = local(zeroForOne: zeroForOne)
            let v = amountOut.doubleValue
            let guess = v < rOut && g > 0 ? v * rIn / (g * (rOut - v)) : nil
            return try leastInput(paying: amountOut, below: UInt256(UInt64.max), guess: guess) { x throws(AMMError) in try self.amountOut(x, zeroForOne: zeroForOne) }
        }
    }

    /// A Q64.64 concentrated-liquidity pool within its range: a V2 pair with virtual reserves
    /// L/√P and L·√P, the fee in millionths.
    static func virtualPair(sqrtPrice: UInt128, liquidity: UInt128, feeRate: UInt32, zeroForOne: Bool) -> (reserveIn: Double, reserveOut: Double, gamma: Double) {
        let s = sqrtPrice.approximateDouble / 18_446_744_073_709_551_616.0
        let l = liquidity.approximateDouble
        let (a, b) = (l / s, l * s)
        let gamma = 1 - Double(feeRate) / 1e6
        return zeroForOne ? (a, b, gamma) : (b, a, gamma)
    }

    /// A constant-product stand-in for a curve flatter than x·y: `depth` times the input reserve,
    /// with the marginal rate of a small exact quote (fee included). An estimate only: sizing checks it.
    static func probed(_ reserveIn: UInt256, depth: Double, _ quote: (UInt256) throws(AMMError) -> UInt256) -> (reserveIn: Double, reserveOut: Double, gamma: Double) {
        let probe = Swift.max(reserveIn / 1_000_000, .one)
        guard let out = try? quote(probe) else { return (0, 0, 1) }
        let virtualIn = reserveIn.doubleValue * depth
        return (virtualIn, virtualIn * out.doubleValue / probe.doubleValue, 1)
    }

    /// The marginal rate (output per unit input, fee included) both ways: `γ · reserveOut /
    /// reserveIn` of `local(zeroForOne:)` for each direction (0 where the input reserve is empty),
    /// the same doubles, with the state's words converted once for both (detection screens every
    /// changed pool with them).
    @inlinable @inline(__always)
    public func marginalRates() -> (zeroForOne: Double, oneForZero: Double) {
        // Inlinable, as `spotPrice`: read in place for every changed pool.
        func rate(_ a: (reserveIn: Double, reserveOut: Double, gamma: Double)) -> Double { a.reserveIn > 0 ? a.gamma * a.reserveOut / a.reserveIn : 0 }
        switch self {
        case .uniswapV2(let p):
            let (r0, r1) = (p.reserve0.doubleValue, p.reserve1.doubleValue)
            return (rate((r0, r1, 1 - Double(p.fee0Pips) / 1e6)), rate((r1, r0, 1 - Double(p.fee1Pips) / 1e6)))
        case .uniswapV3(let p):
            let s = p.sqrtPriceX96.doubleValue / 79_228_162_514_264_337_593_543_950_336.0
            let l = p.liquidity.doubleValue
            let (x, y, gamma) = (l / s, l * s, 1 - Double(p.feePips) / 1e6)
            return (rate((x, y, gamma)), rate((y, x, gamma)))
        default:
            return (rate(local(zeroForOne: true)), rate(local(zeroForOne: false)))
        }
    }

    /// The marginal rate (output per unit input, fee included) at the current state, and the
    /// constant-product reserves that have it locally: V3 within its range is a V2 pair with
    /// virtual reserves L/√P and L·√P. Doubles: for estimates only.
    public func local(zeroForOne: Bool) -> (reserveIn: Double, reserveOut: Double, gamma: Double) {
        switch self {
        case .uniswapV2(let p):
            let fee = zeroForOne ? p.fee0Pips : p.fee1Pips
            let (rIn, rOut) = zeroForOne ? (p.reserve0, p.reserve1) : (p.reserve1, p.reserve0)
            return (rIn.doubleValue, rOut.doubleValue, 1 - Double(fee) / 1e6)
        case .uniswapV3(let p):
            let s = p.sqrtPriceX96.doubleValue / 79_228_162_514_264_337_593_543_950_336.0
            let l = p.liquidity.doubleValue
            let (x, y) = (l / s, l * s)  // virtual token0 and token1 reserves
            return zeroForOne ? (x, y, 1 - Double(p.feePips) / 1e6) : (y, x, 1 - Double(p.feePips) / 1e6)
        case .curve(let p):
            // Near balance a StableSwap pool is a constant-product pair about A times deeper.
            let bIn = zeroForOne ? p.balances.0 : p.balances.1
            return Self.probed(bIn, depth: Swift.max(p.amplification.doubleValue, 1)) { x throws(AMMError) in try p.amountOut(amountIn: x, zeroForOne: zeroForOne) }
        case .solidly(let p):
            let (rIn, rOut) = zeroForOne ? (p.reserve0, p.reserve1) : (p.reserve1, p.reserve0)
            if !p.stable { return (rIn.doubleValue, rOut.doubleValue, 1 - Double(p.feePips) / 1e6) }
            // A stable pair is locally far flatter than x·y.
            return Self.probed(rIn, depth: 50) { x throws(AMMError) in try p.amountOut(amountIn: x, zeroForOne: zeroForOne) }
        case .raydiumAMM(let p):
            let (rIn, rOut) = zeroForOne ? (p.coinReserve, p.pcReserve) : (p.pcReserve, p.coinReserve)
            return (Double(rIn), Double(rOut), 1 - Double(p.swapFeeNumerator) / Double(p.swapFeeDenominator))
        case .whirlpool(let p):
            return Self.virtualPair(sqrtPrice: p.sqrtPrice, liquidity: p.liquidity, feeRate: UInt32(p.feeRate), zeroForOne: zeroForOne)
        case .raydiumCLMM(let p):
            return Self.virtualPair(sqrtPrice: p.sqrtPrice, liquidity: p.liquidity, feeRate: p.feeRate, zeroForOne: zeroForOne)
        case .phoenix(let p):
            return p.local(sell: zeroForOne)
        case .meteoraDLMM(let p, let t):
            // Bins are flat: a pair as deep as what the held bins on the swap's side can pay.
            let rIn = UInt256(UInt64(min(p.inputDepth(swapForY: zeroForOne), 1.8e19)))
            return Self.probed(rIn, depth: 1) { x throws(AMMError) in UInt256(try p.amountOut(amount: try Self.u64(x), swapForY: zeroForOne, timestamp: t)) }
        }
    }
}
