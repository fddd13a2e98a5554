import EVMPrimitives

/// A Solidly-family pair (Velodrome V2, Aerodrome): volatile (x·y ≥ k) or stable
/// (x³y + xy³ ≥ k, on balances scaled to 18 decimals), fee taken from the input first. The stable
/// branch follows the pair's `_get_y` Newton iteration exactly, including its `_k(x0, y + 1)`
/// check, which rescales already-scaled balances by the tokens' decimals as the contract does.
public struct SolidlyPool: Equatable, Sendable {
    public var reserve0: UInt256
    public var reserve1: UInt256
    public var stable: Bool
    /// 10^decimals of each token, as the pair stores them.
    public var decimals0: UInt256
    public var decimals1: UInt256
    /// Fee in pips (the factory's basis points × 100: 5 bp = 500).
    public var feePips: UInt32

    static let e18 = UInt256(1_000_000_000_000_000_000)

    public init(reserve0: UInt256, reserve1: UInt256, stable: Bool, decimals: (UInt8, UInt8), feePips: UInt32) throws(AMMError) {
        guard decimals.0 <= 36, decimals.1 <= 36 else { throw AMMError(.invalidState, "decimals above 36") }
        guard feePips < 1_000_000 else { throw AMMError(.invalidState, "fee is 100% or more") }
        self.reserve0 = reserve0
        self.reserve1 = reserve1
        self.stable = stable
        self.decimals0 = (0..<Int(decimals.0)).reduce(UInt256.one) { r, _ in r * 10 }
        self.decimals1 = (0..<Int(decimals.1)).reduce(UInt256.one) { r, _ in r * 10 }
        self.feePips = feePips
    }

    /// What the pair pays for `amountIn` of token0 (`zeroForOne`) or token1, as `getAmountOut`.
    public func amountOut(amountIn: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        let (rIn, rOut) = zeroForOne ? (reserve0, reserve1) : (reserve1, reserve0)
        guard stable else { return try Self.volatileAmountOut(amountIn: amountIn, reserveIn: rIn, reserveOut: rOut, feePips: feePips) }
        guard !amountIn.isZero else { throw AMMError(.invalidAmount, "amount in is zero") }
        return try Self.checked(try stableOut(amountIn - fee(on: amountIn), zeroForOne: zeroForOne), reserveOut: rOut)
    }

    /// What a volatile pair with these reserves pays for `amountIn`: the fee taken first, rounded
    /// down, then `⌊afterFee·rOut / (rIn + afterFee)⌋`.
    public static func volatileAmountOut(amountIn: UInt256, reserveIn rIn: UInt256, reserveOut rOut: UInt256, feePips: UInt32) throws(AMMError) -> UInt256 {
        guard !amountIn.isZero else { throw AMMError(.invalidAmount, "amount in is zero") }
        let afterFee = amountIn - fee(on: amountIn, feePips: feePips)
        guard let num = afterFee.checkedMul(rOut), let den = rIn.checkedAdd(afterFee), !den.isZero else {
            throw AMMError(.overflow, "amount in \(amountIn) overflows the pair's arithmetic")
        }
        return try checked(num / den, reserveOut: rOut)
    }

    /// An output the pair pays: not zero, and below its reserve.
    static func checked(_ out: UInt256, reserveOut rOut: UInt256) throws(AMMError) -> UInt256 {
        guard !out.isZero else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
        guard out < rOut else { throw AMMError(.insufficientLiquidity, "output exceeds the reserve") }
        return out
    }

    /// The least input that makes the pair pay at least `amountOut` (searched: the pair has no
    /// exact-output formula for stable pools).
    public func amountIn(amountOut wanted: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        try leastInput(paying: wanted, below: UInt256.one << 200) { x throws(AMMError) in try amountOut(amountIn: x, zeroForOne: zeroForOne) }
    }

    /// The pair after a swap: Velodrome V2 and Aerodrome send the fee to the pool's fee contract
    /// before `_update`, so the input's reserve grows by the input less the fee.
    public func applying(amountIn: UInt256, zeroForOne: Bool) throws(AMMError) -> SolidlyPool {
        let out = try amountOut(amountIn: amountIn, zeroForOne: zeroForOne)
        let kept = amountIn - fee(on: amountIn)
        var p = self
        if zeroForOne {
            p.reserve0 += kept
            p.reserve1 -= out
        } else {
            p.reserve1 += kept
            p.reserve0 -= out
        }
        return p
    }

    /// `amountIn · fee / 1e6`, floored (the factory's `amountIn · bp / 10000`).
    func fee(on amountIn: UInt256) -> UInt256 { Self.fee(on: amountIn, feePips: feePips) }

    static func fee(on amountIn: UInt256, feePips: UInt32) -> UInt256 {
        UInt256.mulDiv(amountIn, UInt256(UInt64(feePips)), 1_000_000) ?? amountIn
    }

    // MARK: stable invariant, in the pair's integer steps

    static func mul(_ a: UInt256, _ b: UInt256) throws(AMMError) -> UInt256 {
        guard let p = a.checkedMul(b) else { throw AMMError(.overflow, "stable invariant overflows") }
        return p
    }

    /// `_k(x, y)`: x³y + xy³ on balances scaled to 18 decimals.
    func k(_ x: UInt256, _ y: UInt256) throws(AMMError) -> UInt256 {
        let sx = try Self.mul(x, Self.e18) / decimals0
        let sy = try Self.mul(y, Self.e18) / decimals1
        let a = try Self.mul(sx, sy) / Self.e18
        let b = try Self.mul(sx, sx) / Self.e18 + (try Self.mul(sy, sy)) / Self.e18
        return try Self.mul(a, b) / Self.e18
    }

    static func f(_ x0: UInt256, _ y: UInt256) throws(AMMError) -> UInt256 {
        let a = try mul(x0, y) / e18
        let b = try mul(x0, x0) / e18 + (try mul(y, y)) / e18
        return try mul(a, b) / e18
    }

    static func d(_ x0: UInt256, _ y: UInt256) throws(AMMError) -> UInt256 {
        let yy = try mul(y, y) / e18
        let first = try mul(try mul(3, x0), yy) / e18
        let x3 = try mul(try mul(x0, x0) / e18, x0) / e18
        return first + x3
    }

    func getY(_ x0: UInt256, _ xy: UInt256, _ start: UInt256) throws(AMMError) -> UInt256 {
        var y = start
        for _ in 0..<255 {
            let kk = try Self.f(x0, y)
            let slope = try Self.d(x0, y)
            guard !slope.isZero else { throw AMMError(.insufficientLiquidity, "reserves too small for the stable curve") }
            if kk < xy {
                var dy = try Self.mul(xy - kk, Self.e18) / slope
                if dy.isZero {
                    if kk == xy { return y }
                    if try k(x0, y + 1) > xy { return y + 1 }
                    dy = 1
                }
                y = y + dy
            } else {
                var dy = try Self.mul(kk - xy, Self.e18) / slope
                if dy.isZero {
                    if kk == xy { return y }
                    guard y > .zero else { throw AMMError(.insufficientLiquidity, "no y") }
                    if try Self.f(x0, y - 1) < xy { return y }
                    dy = 1
                }
                guard dy <= y else { throw AMMError(.insufficientLiquidity, "the stable curve has no solution here") }
                y = y - dy
            }
        }
        throw AMMError(.invalidState, "the stable curve did not converge (the pair reverts with !y)")
    }

    func stableOut(_ afterFee: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        let xy = try k(reserve0, reserve1)
        let s0 = try Self.mul(reserve0, Self.e18) / decimals0
        let s1 = try Self.mul(reserve1, Self.e18) / decimals1
        let (rA, rB) = zeroForOne ? (s0, s1) : (s1, s0)
        let scaledIn = try Self.mul(afterFee, Self.e18) / (zeroForOne ? decimals0 : decimals1)
        let y = try getY(scaledIn + rA, xy, rB)
        guard y <= rB else { throw AMMError(.insufficientLiquidity, "the stable curve moved the wrong way") }
        return try Self.mul(rB - y, zeroForOne ? decimals1 : decimals0) / Self.e18
    }
}
