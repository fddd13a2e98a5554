import EVMPrimitives

/// Constant-product pools (Uniswap V2 and its forks) with the fee in pips (1e-6): 3000 = 0.3%,
/// 2500 = PancakeSwap's 0.25%. Any fee written as a fraction of 1000, 10000 or 100000 (as the
/// forks do) is the same rational in pips, so floors agree with the pair contract to the wei.
public enum UniswapV2Math {
    public static let feeDenominator = UInt256(1_000_000)
    /// Reserves are `uint112` in the pair.
    public static let maxReserve = (UInt256.one << 112) - 1

    /// `amountIn·(1e6−fee)·reserveOut / (reserveIn·1e6 + amountIn·(1e6−fee))`, floored, as `getAmountOut`.
    public static func amountOut(amountIn: UInt256, reserveIn: UInt256, reserveOut: UInt256, feePips: UInt32) throws(AMMError) -> UInt256 {
        guard !amountIn.isZero else { throw AMMError(.invalidAmount, "amount in is zero") }
        guard !reserveIn.isZero, !reserveOut.isZero else { throw AMMError(.insufficientLiquidity, "empty reserves") }
        guard feePips < 1_000_000 else { throw AMMError(.invalidState, "fee \(feePips) pips is 100% or more") }
        if let out = fast(amountIn: amountIn, reserveIn: reserveIn, reserveOut: reserveOut, gamma: 1_000_000 - UInt64(feePips)) {
            guard out != 0 else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
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

    /// The formula in 128-bit halves when the input is below 2^108 and the denominator fits
    /// 128 bits (every real pair and trade): one 128×128 product, one 256/128 division.
    @inlinable
    static func fast(amountIn: UInt256, reserveIn: UInt256, reserveOut: UInt256, gamma: UInt64) -> UInt128? {
        guard amountIn.w2 | amountIn.w3 | reserveIn.w2 | reserveIn.w3 | reserveOut.w2 | reserveOut.w3 == 0,
              amountIn.w1 >> 44 == 0
        else { return nil }
        let a = UInt128(amountIn.w1) << 64 | UInt128(amountIn.w0)
        let rIn = UInt128(reserveIn.w1) << 64 | UInt128(reserveIn.w0)
        let rOut = UInt128(reserveOut.w1) << 64 | UInt128(reserveOut.w0)
        let inWithFee = a &* UInt128(gamma)  // < 2^108 · 2^20
        let (scaled, o1) = rIn.multipliedReportingOverflow(by: 1_000_000)
        let (denominator, o2) = scaled.addingReportingOverflow(inWithFee)
        guard !o1, !o2, denominator != 0 else { return nil }
        let numerator = inWithFee.multipliedFullWidth(by: rOut)
        guard numerator.high < denominator else { return nil }
        return denominator.dividingFullWidth(numerator).quotient
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
