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

    @inlinable static var million: UInt256 { UInt256(1_000_000) }

    /// `remaining` > 0 is exact input, < 0 exact output (the pool's `amountSpecified` convention).
    /// Nil where the contract would revert.
    @inlinable
    public static func computeSwapStep(current: UInt256, target: UInt256, liquidity: UInt256, remaining: Int256, feePips: UInt32) -> Step? {
        var step = Step(sqrtPriceNext: .zero, amountIn: .zero, amountOut: .zero, feeAmount: .zero)
        guard compute(current: current, target: target, liquidity: liquidity, remaining: remaining.magnitude,
                      exactIn: !remaining.isNegative, feePips: feePips, into: &step)
        else { return nil }
        return step
    }

    /// The step with the remaining amount as a magnitude and its kind, written into `step`; false
    /// where the contract would revert. The swap loop's form: nothing is copied per step.
    @inlinable @inline(__always)
    static func compute(current: UInt256, target: UInt256, liquidity: UInt256, remaining: UInt256, exactIn: Bool, feePips: UInt32, into step: inout Step) -> Bool {
        let zeroForOne = current >= target
        let fee = UInt256(UInt64(feePips))
        let oneMinusFee = UInt256(UInt64(1_000_000 - feePips))
        let next: UInt256
        var amountIn = UInt256.zero
        var amountOut = UInt256.zero
        if exactIn {
            guard let lessFee = UInt256.mulDiv(remaining, oneMinusFee, million) else { return false }
            guard let toTarget = zeroForOne
                ? SqrtPriceMath.amount0Delta(target, current, liquidity: liquidity, roundUp: true)
                : SqrtPriceMath.amount1Delta(current, target, liquidity: liquidity, roundUp: true)
            else { return false }
            if lessFee >= toTarget {
                next = target
                amountIn = toTarget
            } else {
                guard let n = SqrtPriceMath.nextSqrtPriceFromInput(current, liquidity: liquidity, amountIn: lessFee, zeroForOne: zeroForOne) else { return false }
                next = n
                guard let a = zeroForOne
                    ? SqrtPriceMath.amount0Delta(next, current, liquidity: liquidity, roundUp: true)
                    : SqrtPriceMath.amount1Delta(current, next, liquidity: liquidity, roundUp: true)
                else { return false }
                amountIn = a
            }
            guard let o = zeroForOne
                ? SqrtPriceMath.amount1Delta(next, current, liquidity: liquidity, roundUp: false)
                : SqrtPriceMath.amount0Delta(current, next, liquidity: liquidity, roundUp: false)
            else { return false }
            amountOut = o
        } else {
            guard let toTarget = zeroForOne
                ? SqrtPriceMath.amount1Delta(target, current, liquidity: liquidity, roundUp: false)
                : SqrtPriceMath.amount0Delta(current, target, liquidity: liquidity, roundUp: false)
            else { return false }
            if remaining >= toTarget {
                next = target
                amountOut = toTarget
            } else {
                guard let n = SqrtPriceMath.nextSqrtPriceFromOutput(current, liquidity: liquidity, amountOut: remaining, zeroForOne: zeroForOne) else { return false }
                next = n
                guard let o = zeroForOne
                    ? SqrtPriceMath.amount1Delta(next, current, liquidity: liquidity, roundUp: false)
                    : SqrtPriceMath.amount0Delta(current, next, liquidity: liquidity, roundUp: false)
                else { return false }
                amountOut = o
            }
            guard let a = zeroForOne
                ? SqrtPriceMath.amount0Delta(next, current, liquidity: liquidity, roundUp: true)
                : SqrtPriceMath.amount1Delta(current, next, liquidity: liquidity, roundUp: true)
            else { return false }
            amountIn = a
            if amountOut > remaining { amountOut = remaining }
        }
        if exactIn && next != target {
            step.feeAmount = remaining - amountIn
        } else {
            guard let f = UInt256.mulDivRoundingUp(amountIn, fee, oneMinusFee) else { return false }
            step.feeAmount = f
        }
        step.sqrtPriceNext = next
        step.amountIn = amountIn
        step.amountOut = amountOut
        return true
    }
}
