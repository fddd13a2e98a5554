import EVMPrimitives

/// One step of a V3 swap within a single liquidity range, as `SwapMath.computeSwapStep`.
public enum SwapMath {
    public struct Step: Equatable, Sendable {
        public var sqrtPriceNext: UInt256
        public var amountIn: UInt256
        public var amountOut: UInt256
        public var feeAmount: UInt256

        @inlinable
        public init(sqrtPriceNext: UInt256, amountIn: UInt256, amountOut: UInt256, feeAmount: UInt256) {
            self.sqrtPriceNext = sqrtPriceNext
            self.amountIn = amountIn
            self.amountOut = amountOut
            self.feeAmount = feeAmount
        }
    }

    @usableFromInline static let million = UInt256(1_000_000)

    /// `remaining` > 0 is exact input, < 0 exact output (the pool's `amountSpecified` convention).
    /// Nil where the contract would revert.
    @inlinable
    public static func computeSwapStep(current: UInt256, target: UInt256, liquidity: UInt256, remaining: Int256, feePips: UInt32) -> Step? {
        let zeroForOne = current >= target
        let exactIn = !remaining.isNegative
        let fee = UInt256(UInt64(feePips))
        let oneMinusFee = million - fee
        var next: UInt256
        var amountIn = UInt256.zero
        var amountOut = UInt256.zero
        if exactIn {
            guard let lessFee = UInt256.mulDiv(remaining.magnitude, oneMinusFee, million) else { return nil }
            guard let toTarget = zeroForOne
                ? SqrtPriceMath.amount0Delta(target, current, liquidity: liquidity, roundUp: true)
                : SqrtPriceMath.amount1Delta(current, target, liquidity: liquidity, roundUp: true)
            else { return nil }
            amountIn = toTarget
            if lessFee >= toTarget {
                next = target
            } else {
                guard let n = SqrtPriceMath.nextSqrtPriceFromInput(current, liquidity: liquidity, amountIn: lessFee, zeroForOne: zeroForOne) else { return nil }
                next = n
            }
        } else {
            guard let toTarget = zeroForOne
                ? SqrtPriceMath.amount1Delta(target, current, liquidity: liquidity, roundUp: false)
                : SqrtPriceMath.amount0Delta(current, target, liquidity: liquidity, roundUp: false)
            else { return nil }
            amountOut = toTarget
            if remaining.magnitude >= toTarget {
                next = target
            } else {
                guard let n = SqrtPriceMath.nextSqrtPriceFromOutput(current, liquidity: liquidity, amountOut: remaining.magnitude, zeroForOne: zeroForOne) else { return nil }
                next = n
            }
        }
        let max = target == next
        if zeroForOne {
            if !(max && exactIn) {
                guard let a = SqrtPriceMath.amount0Delta(next, current, liquidity: liquidity, roundUp: true) else { return nil }
                amountIn = a
            }
            if !(max && !exactIn) {
                guard let a = SqrtPriceMath.amount1Delta(next, current, liquidity: liquidity, roundUp: false) else { return nil }
                amountOut = a
            }
        } else {
            if !(max && exactIn) {
                guard let a = SqrtPriceMath.amount1Delta(current, next, liquidity: liquidity, roundUp: true) else { return nil }
                amountIn = a
            }
            if !(max && !exactIn) {
                guard let a = SqrtPriceMath.amount0Delta(current, next, liquidity: liquidity, roundUp: false) else { return nil }
                amountOut = a
            }
        }
        if !exactIn && amountOut > remaining.magnitude { amountOut = remaining.magnitude }
        let feeAmount: UInt256
        if exactIn && next != target {
            feeAmount = remaining.magnitude - amountIn
        } else {
            guard let f = UInt256.mulDivRoundingUp(amountIn, fee, oneMinusFee) else { return nil }
            feeAmount = f
        }
        return Step(sqrtPriceNext: next, amountIn: amountIn, amountOut: amountOut, feeAmount: feeAmount)
    }
}
