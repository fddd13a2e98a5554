import EVMPrimitives

/// Constant-product pools (Uniswap V2 and its forks) with the fee in pips (1e-6): 3000 = 0.3%,
/// 2500 = PancakeSwap's 0.25%. Any fee written as a fraction of 1000, 10000 or 100000 (as the
/// forks do) is the same rational in pips, so floors agree with the pair contract to the wei.
public enum UniswapV2Math {
    @inlinable public static var feeDenominator: UInt256 { UInt256(1_000_000) }
    /// Reserves are `uint112` in the pair.
    @inlinable public static var maxReserve: UInt256 { UInt256(limbs: .max, (1 << 48) - 1, 0, 0) }

    /// `amountIn·(1e6−fee)·reserveOut / (reserveIn·1e6 + amountIn·(1e6−fee))`, floored, as `getAmountOut`.
    public static func amountOut(amountIn: UInt256, reserveIn: UInt256, reserveOut: UInt256, feePips: UInt32) throws(AMMError) -> UInt256 {
        guard !amountIn.isZero else { throw AMMError(.invalidAmount, "amount in is zero") }
        guard !reserveIn.isZero, !reserveOut.isZero else { throw AMMError(.insufficientLiquidity, "empty reserves") }
        guard feePips < 1_000_000 else { throw AMMError(.invalidState, "fee \(feePips) pips is 100% or more") }
        if let out = amountOut128(amountIn: amountIn, reserveIn: reserveIn, reserveOut: reserveOut, feePips: feePips) {
            return UInt256(limbs: UInt64(truncatingIfNeeded: out), UInt64(truncatingIfNeeded: out >> 64), 0, 0)
        }
        let gamma = feeDenominator - UInt256(UInt64(feePips))
        guard let inWithFee = amountIn.checkedMul(gamma),
              let numerator = inWithFee.checkedMul(reserveOut),
              let scaled = reserveIn.checkedMul(feeDenominator),
              let denominator = scaled.checkedAdd(inWithFee)
        else {
            return try wide(amountIn: amountIn, gamma: gamma, reserveIn: reserveIn, reserveOut: reserveOut)
        }
        let out = numerator / denominator
        guard !out.isZero else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
        return out
    }

    /// What a pair with these reserves pays for `amountIn`: `amountOut`, refused where the pair's
    /// balance would pass uint112 (the pair reverts).
    @inlinable @inline(__always)
    public static func pairAmountOut(amountIn: UInt256, reserveIn: UInt256, reserveOut: UInt256, feePips: UInt32) throws(AMMError) -> UInt256 {
        if let out = amountOut128(amountIn: amountIn, reserveIn: reserveIn, reserveOut: reserveOut, feePips: feePips) {
            return UInt256(limbs: UInt64(truncatingIfNeeded: out), UInt64(truncatingIfNeeded: out >> 64), 0, 0)
        }
        guard let balance = reserveIn.checkedAdd(amountIn), balance <= maxReserve else {
            throw AMMError(.overflow, "the pair's balance would exceed uint112")
        }
        return try amountOut(amountIn: amountIn, reserveIn: reserveIn, reserveOut: reserveOut, feePips: feePips)
    }

    /// `getAmountOut` in 128-bit arithmetic for a pair whose balance after the trade stays within
    /// uint112 (every trade a pair accepts): one 128×128 product and one 256/128 division. Nil
    /// when a value is outside that range or the trade would fail; the general path then decides.
    @inlinable @inline(__always)
    public static func amountOut128(amountIn: UInt256, reserveIn: UInt256, reserveOut: UInt256, feePips: UInt32) -> UInt128? {
        guard amountIn.w2 | amountIn.w3 | reserveIn.w2 | reserveIn.w3 | reserveOut.w2 | reserveOut.w3 == 0,
              (amountIn.w1 | reserveIn.w1 | reserveOut.w1) >> 48 == 0, feePips < 1_000_000
        else { return nil }
        let a = UInt128(amountIn.w1) << 64 | UInt128(amountIn.w0)
        let rIn = UInt128(reserveIn.w1) << 64 | UInt128(reserveIn.w0)
        let rOut = UInt128(reserveOut.w1) << 64 | UInt128(reserveOut.w0)
        guard a != 0, rIn != 0, rOut != 0, (a + rIn) >> 112 == 0 else { return nil }  // both < 2^112
        // a·γ and rIn·1e6 limb by limb (128-bit multiplies reporting overflow cost about a tenth
        // more instructions per quote), then their sum; any carry out of 128 bits leaves the trade
        // to the general path.
        let g = UInt64(1_000_000 - feePips)
        let (fee1, fee0) = amountIn.w0.multipliedFullWidth(by: g)
        let (feeCarry, feeTop) = amountIn.w1.multipliedFullWidth(by: g)
        let (f1, o1) = feeTop.addingReportingOverflow(fee1)
        let (scaled1, scaled0) = reserveIn.w0.multipliedFullWidth(by: 1_000_000)
        let (scaledCarry, scaledTop) = reserveIn.w1.multipliedFullWidth(by: 1_000_000)
        let (s1, o2) = scaledTop.addingReportingOverflow(scaled1)
        let (d0, carry) = scaled0.addingReportingOverflow(fee0)
        let (sum1, o3) = s1.addingReportingOverflow(f1)
        let (d1, o4) = sum1.addingReportingOverflow(carry ? 1 : 0)
        guard !(o1 || o2 || o3 || o4), feeCarry | scaledCarry == 0 else { return nil }
        let inWithFee = UInt128(f1) << 64 | UInt128(fee0)
        let denominator = UInt128(d1) << 64 | UInt128(d0)
        let numerator = UInt256.multiplyFullWidth(inWithFee, rOut)
        // numerator / denominator < rOut < 2^128, so numerator.high < denominator.
        let out = UInt256.divide128(wideHigh: numerator.high, low: numerator.low, by: denominator).q
        return out == 0 ? nil : out
    }

    /// The same formula when `amountIn·γ·reserveOut` exceeds 256 bits (the pair would revert on its
    /// balance overflow anyway, but sizing searches probe such amounts).
    private static func wide(amountIn: UInt256, gamma: UInt256, reserveIn: UInt256, reserveOut: UInt256) throws(AMMError) -> UInt256 {
        guard let inWithFee = amountIn.checkedMul(gamma),
              let denominator = (reserveIn.checkedMul(feeDenominator)).flatMap({ $0.checkedAdd(inWithFee) }),
              let out = UInt256.mulDiv(inWithFee, reserveOut, denominator)
        else { throw AMMError(.overflow, "amount in \(amountIn) overflows the pair's arithmetic") }
        guard !out.isZero else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
        return out
    }

    /// `reserveIn·amountOut·1e6 / ((reserveOut−amountOut)·(1e6−fee)) + 1`, as `getAmountIn`.
    public static func amountIn(amountOut: UInt256, reserveIn: UInt256, reserveOut: UInt256, feePips: UInt32) throws(AMMError) -> UInt256 {
        guard !amountOut.isZero else { throw AMMError(.invalidAmount, "amount out is zero") }
        guard amountOut < reserveOut, !reserveIn.isZero else {
            throw AMMError(.insufficientLiquidity, "amount out \(amountOut) ≥ reserve \(reserveOut)")
        }
        guard feePips < 1_000_000 else { throw AMMError(.invalidState, "fee \(feePips) pips is 100% or more") }
        let gamma = feeDenominator - UInt256(UInt64(feePips))
        guard let numerator = reserveIn.checkedMul(feeDenominator),
              let denominator = (reserveOut - amountOut).checkedMul(gamma),
              let q = UInt256.mulDiv(numerator, amountOut, denominator),
              let result = q.checkedAdd(.one)
        else { throw AMMError(.overflow, "amount in for \(amountOut) overflows") }
        return result
    }
}
