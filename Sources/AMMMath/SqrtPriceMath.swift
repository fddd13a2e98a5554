import EVMPrimitives

/// Uniswap V3's `SqrtPriceMath`: token amounts between two sqrt prices and the price reached by
/// adding or removing an amount, with the contract's rounding directions. Failures the contract
/// reverts on come back as `nil`.
public enum SqrtPriceMath {
    @inlinable public static var q96: UInt256 { UInt256(limbs: 0, 1 << 32, 0, 0) }
    @inlinable static var maxUInt160: UInt256 { UInt256(limbs: .max, .max, (1 << 32) - 1, 0) }

    /// `amount0 = L·2^96·(B−A) / B / A` (ceil or floor), for A < B, A > 0.
    @inlinable
    public static func amount0Delta(_ a: UInt256, _ b: UInt256, liquidity: UInt256, roundUp: Bool) -> UInt256? {
        let (lo, hi) = a < b ? (a, b) : (b, a)
        guard !lo.isZero, liquidity.w2 | liquidity.w3 == 0 else { return nil }
        // (L << 96)·(B − A) as L·(B − A) shifted: the product of two short numbers, then a shift.
        let (h, l) = liquidity.multipliedFullWidth(by: hi - lo)
        let high = h << 96 | l >> 160, low = l << 96
        let q: UInt256, r: UInt256
        if high.isZero {
            (q, r) = low.quotientAndRemainder(dividingBy: hi)
        } else {
            guard high < hi else { return nil }  // the product over B passes 256 bits: FullMath reverts
            (q, r) = hi.dividingFullWidth((high, low))
        }
        if roundUp {
            guard let x = r.isZero ? q : q.checkedAdd(.one) else { return nil }
            return x.dividedRoundingUp(by: lo)
        }
        return q / lo
    }

    /// `amount1 = L·(B−A) / 2^96` (ceil or floor).
    @inlinable
    public static func amount1Delta(_ a: UInt256, _ b: UInt256, liquidity: UInt256, roundUp: Bool) -> UInt256? {
        let (lo, hi) = a < b ? (a, b) : (b, a)
        let diff = hi - lo
        // L < 2^128 and diff < 2^160: the product may pass 256 bits only in degenerate states.
        let (h, l) = liquidity.multipliedFullWidth(by: diff)
        if h.isZero {
            let q = l >> 96
            if roundUp && l.w0 | (l.w1 & 0xffff_ffff) != 0 { return q + 1 }
            return q
        }
        return roundUp ? UInt256.mulDivRoundingUp(liquidity, diff, q96) : UInt256.mulDiv(liquidity, diff, q96)
    }

    /// The price after adding (`add`) or removing `amount` of token0, rounded up.
    @inlinable
    public static func nextSqrtPriceFromAmount0RoundingUp(_ price: UInt256, liquidity: UInt256, amount: UInt256, add: Bool) -> UInt256? {
        if amount.isZero { return price }
        let numerator1 = liquidity << 96
        let (product, overflow) = amount.multipliedReportingOverflow(by: price)
        if add {
            if !overflow {
                let (denominator, carry) = numerator1.addingReportingOverflow(product)
                if !carry { return UInt256.mulDivRoundingUp(numerator1, price, denominator) }
            }
            let q = numerator1 / price
            guard let d = q.checkedAdd(amount) else { return nil }
            return numerator1.dividedRoundingUp(by: d)
        }
        guard !overflow, numerator1 > product else { return nil }
        guard let r = UInt256.mulDivRoundingUp(numerator1, price, numerator1 - product), r <= maxUInt160 else { return nil }
        return r
    }

    /// The price after adding (`add`) or removing `amount` of token1, rounded down.
    @inlinable
    public static func nextSqrtPriceFromAmount1RoundingDown(_ price: UInt256, liquidity: UInt256, amount: UInt256, add: Bool) -> UInt256? {
        guard !liquidity.isZero else { return nil }
        if add {
            let quotient = amount <= maxUInt160 ? (amount << 96) / liquidity : UInt256.mulDiv(amount, q96, liquidity)
            guard let q = quotient, let r = price.checkedAdd(q), r <= maxUInt160 else { return nil }
            return r
        }
        let quotient = amount <= maxUInt160 ? (amount << 96).dividedRoundingUp(by: liquidity)
            : UInt256.mulDivRoundingUp(amount, q96, liquidity)
        guard let q = quotient, price > q else { return nil }
        return price - q
    }

    /// `getNextSqrtPriceFromInput`.
    @inlinable
    public static func nextSqrtPriceFromInput(_ price: UInt256, liquidity: UInt256, amountIn: UInt256, zeroForOne: Bool) -> UInt256? {
        guard !price.isZero, !liquidity.isZero else { return nil }
        return zeroForOne
            ? nextSqrtPriceFromAmount0RoundingUp(price, liquidity: liquidity, amount: amountIn, add: true)
            : nextSqrtPriceFromAmount1RoundingDown(price, liquidity: liquidity, amount: amountIn, add: true)
    }

    /// `getNextSqrtPriceFromOutput`.
    @inlinable
    public static func nextSqrtPriceFromOutput(_ price: UInt256, liquidity: UInt256, amountOut: UInt256, zeroForOne: Bool) -> UInt256? {
        guard !price.isZero, !liquidity.isZero else { return nil }
        return zeroForOne
            ? nextSqrtPriceFromAmount1RoundingDown(price, liquidity: liquidity, amount: amountOut, add: false)
            : nextSqrtPriceFromAmount0RoundingUp(price, liquidity: liquidity, amount: amountOut, add: false)
    }
}
