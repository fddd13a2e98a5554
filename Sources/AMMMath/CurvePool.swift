import EVMPrimitives

/// A Curve StableSwap pool of two coins, as the classic pool contracts compute an exchange: balances
/// scaled to 18 decimals by `rates` (10^(36 − decimals)), the invariant D by Newton's method,
/// `y` for the new input balance, then `dy = xp[j] − y − 1`, the fee (1e10 precision) taken from
/// `dy` before it is scaled back. What `exchange` pays; a pool's `get_dy` view rounds the fee after
/// scaling and can differ by a unit of the output coin.
public struct CurvePool: Equatable, Sendable {
    public var balances: (UInt256, UInt256)
    public var rates: (UInt256, UInt256)
    /// The amplification coefficient as the classic pools store it (`A`, no A_PRECISION).
    public var amplification: UInt256
    /// Fee with 1e10 precision: 4_000_000 = 0.04%.
    public var fee: UInt256
    /// The share of the fee taken out of the pool's balances as admin fee (1e10 precision; 50% usual).
    public var adminFee: UInt256 = 5_000_000_000

    static let precision = UInt256(1_000_000_000_000_000_000)
    static let feeDenominator = UInt256(10_000_000_000)
    static let n = UInt256(2)

    public init(balances: (UInt256, UInt256), decimals: (UInt8, UInt8), amplification: UInt256, fee: UInt256) throws(AMMError) {
        guard decimals.0 <= 36, decimals.1 <= 36 else { throw AMMError(.invalidState, "decimals above 36") }
        guard !amplification.isZero, amplification <= UInt256(1_000_000) else { throw AMMError(.invalidState, "A must be in 1…1000000") }
        guard fee < Self.feeDenominator else { throw AMMError(.invalidState, "fee is 100% or more") }
        guard balances.0 < UInt256.one << 128, balances.1 < UInt256.one << 128 else { throw AMMError(.invalidState, "balances beyond 2^128") }
        self.balances = balances
        self.rates = (Self.power10(36 - Int(decimals.0)), Self.power10(36 - Int(decimals.1)))
        self.amplification = amplification
        self.fee = fee
    }

    static func power10(_ e: Int) -> UInt256 { (0..<e).reduce(UInt256.one) { r, _ in r * 10 } }

    public static func == (l: CurvePool, r: CurvePool) -> Bool {
        l.balances == r.balances && l.rates == r.rates && l.amplification == r.amplification && l.fee == r.fee && l.adminFee == r.adminFee
    }

    var xp: (UInt256, UInt256) { (balances.0 * rates.0 / Self.precision, balances.1 * rates.1 / Self.precision) }

    /// The invariant D for scaled balances, or nil if Newton's method does not settle in 255 steps.
    static func invariant(_ xp: (UInt256, UInt256), amplification: UInt256) -> UInt256? {
        let s = xp.0 + xp.1
        if s.isZero { return .zero }
        // Scaled balances below 2^100 (10^12 coins of 18 decimals) keep every product in 256 bits.
        guard !xp.0.isZero, !xp.1.isZero, xp.0 < UInt256.one << 100, xp.1 < UInt256.one << 100 else { return nil }
        let ann = amplification * n
        var d = s
        for _ in 0..<255 {
            var dp = d
            dp = dp * d / (xp.0 * n)
            dp = dp * d / (xp.1 * n)
            let previous = d
            guard let numerator = (ann * s + dp * n).checkedMul(d) else { return nil }
            let denominator = (ann - 1) * d + (n + 1) * dp
            d = numerator / denominator
            if (d > previous ? d - previous : previous - d) <= .one { return d }
        }
        return nil
    }

    /// The new balance of the other coin when the scaled balance of one coin becomes `x`.
    static func otherBalance(x: UInt256, d: UInt256, amplification: UInt256) -> UInt256? {
        guard !x.isZero, x < UInt256.one << 100 else { return nil }
        let ann = amplification * n
        var c = d * d / (x * n)
        guard let cd = c.checkedMul(d) else { return nil }
        c = cd / (n * ann)
        let b = x + d / ann  // the contract's b, with −D applied in the denominator
        var y = d
        for _ in 0..<255 {
            let previous = y
            let denominator = 2 * y + b
            guard denominator > d else { return nil }
            y = (y * y + c) / (denominator - d)
            if (y > previous ? y - previous : previous - y) <= .one { return y }
        }
        return nil
    }

    /// What `exchange` pays for `dx` of coin 0 (`zeroForOne`) or coin 1.
    public func amountOut(amountIn dx: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        try exchange(dx, zeroForOne: zeroForOne).out
    }

    /// The pool after `exchange(dx)`: the input joins its coin's balance; the output and the admin
    /// share of the fee leave the other's.
    public func applying(amountIn dx: UInt256, zeroForOne: Bool) throws(AMMError) -> CurvePool {
        let (out, admin) = try exchange(dx, zeroForOne: zeroForOne)
        var p = self
        if zeroForOne {
            p.balances.0 += dx
            p.balances.1 -= out + admin
        } else {
            p.balances.1 += dx
            p.balances.0 -= out + admin
        }
        return p
    }

    func exchange(_ dx: UInt256, zeroForOne: Bool) throws(AMMError) -> (out: UInt256, adminFee: UInt256) {
        guard !dx.isZero else { throw AMMError(.invalidAmount, "amount in is zero") }
        let scaled = xp
        let (xi, xj, ri, rj) = zeroForOne ? (scaled.0, scaled.1, rates.0, rates.1) : (scaled.1, scaled.0, rates.1, rates.0)
        guard let d = Self.invariant(scaled, amplification: amplification) else { throw AMMError(.invalidState, "the invariant does not converge") }
        guard let add = dx.checkedMul(ri), let x = xi.checkedAdd(add / Self.precision), x < UInt256.one << 100 else {
            throw AMMError(.overflow, "amount in \(dx) is beyond what the pool's arithmetic holds")
        }
        guard let y = Self.otherBalance(x: x, d: d, amplification: amplification), y + 1 < xj else {
            throw AMMError(.insufficientLiquidity, "the pool cannot pay for \(dx)")
        }
        let dy = xj - y - 1
        let feeAmount = dy * fee / Self.feeDenominator
        let out = (dy - feeAmount) * Self.precision / rj
        guard !out.isZero else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
        let admin = feeAmount * adminFee / Self.feeDenominator * Self.precision / rj
        return (out, admin)
    }

    /// The least input that makes `exchange` pay at least `amountOut` (the classic pools have no
    /// exact-output method: this searches `amountOut(amountIn:)`, which only grows with the input).
    public func amountIn(amountOut wanted: UInt256, zeroForOne: Bool) throws(AMMError) -> UInt256 {
        try leastInput(paying: wanted, below: UInt256.one << 127) { x throws(AMMError) in try amountOut(amountIn: x, zeroForOne: zeroForOne) }
    }
}
