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

    /// `remaining` > 0 is exact input, < 0 exact output (the pool's `amountSpecified` convention).
    /// Nil where the contract would revert.
    @inlinable
    public static func computeSwapStep(current: UInt256, target: UInt256, liquidity: UInt256, remaining: Int256, feePips: UInt32) -> Step? {
        guard feePips < 1_000_000 else { return nil }
        var step = Step(sqrtPriceNext: .zero, amountIn: .zero, amountOut: .zero, feeAmount: .zero)
        guard compute(current: current, target: target, liquidity: liquidity, remaining: remaining.magnitude,
                      exactIn: !remaining.isNegative, feePips: feePips, feeDivisor: LimbDivisor(UInt64(1_000_000 - feePips)), into: &step)
        else { return nil }
        return step
    }

    /// The step with the remaining amount as a magnitude and its kind, written into `step`; false
    /// where the contract would revert. The swap loop's form: nothing is copied per step, and the
    /// fee's denominator 10^6 − fee is a precomputed divisor (`feeDivisor`).
    @inlinable @inline(__always)
    static func compute(current: UInt256, target: UInt256, liquidity: UInt256, remaining: UInt256, exactIn: Bool, feePips: UInt32,
                        feeDivisor: LimbDivisor, into step: inout Step) -> Bool {
        let zeroForOne = current >= target
        let next: UInt256
        var amountIn = UInt256.zero
        var amountOut = UInt256.zero
        if exactIn {
            guard let lessFee = LimbDivisor.million.mulDiv(remaining, feeDivisor.divisor)?.quotient else { return false }
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
            guard let (f, exact) = feeDivisor.mulDiv(amountIn, UInt64(feePips)) else { return false }
            if exact {
                step.feeAmount = f
            } else {
                guard let up = f.checkedAdd(.one) else { return false }
                step.feeAmount = up
            }
        }
        step.sqrtPriceNext = next
        step.amountIn = amountIn
        step.amountOut = amountOut
        return true
    }
}
