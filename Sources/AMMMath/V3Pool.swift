import EVMPrimitives

/// A concentrated-liquidity pool's swap-relevant state: Uniswap V3, PancakeSwap V3 (the same math
/// with its own fee tiers), and Algebra (the same step math; the fee is read from the pool's
/// state and passed in as `feePips`).
public struct V3Pool: Equatable, Sendable {
    /// An initialised tick and the liquidity that enters when the price crosses it upwards.
    public struct Tick: Equatable, Sendable {
        public var index: Int32
        public var liquidityNet: Int256
        public init(index: Int32, liquidityNet: Int256) {
            self.index = index
            self.liquidityNet = liquidityNet
        }
    }

    public var sqrtPriceX96: UInt256
    public var tick: Int32
    public var liquidity: UInt256
    public var feePips: UInt32
    public var tickSpacing: Int32
    /// Initialised ticks, sorted by index, each a multiple of `tickSpacing`.
    public private(set) var ticks: [Tick]
    /// The sqrt ratio at each initialised tick, computed once.
    private var tickSqrt: [UInt256]

    @inlinable static var maxLiquidity: UInt256 { UInt256(limbs: .max, .max, 0, 0) }

    public init(sqrtPriceX96: UInt256, tick: Int32, liquidity: UInt256, feePips: UInt32, tickSpacing: Int32, ticks: [Tick]) throws(AMMError) {
        guard sqrtPriceX96 >= TickMath.minSqrtRatio, sqrtPriceX96 < TickMath.maxSqrtRatio else {
            throw AMMError(.invalidState, "sqrtPriceX96 \(sqrtPriceX96) out of range")
        }
        guard tick >= TickMath.minTick, tick <= TickMath.maxTick else { throw AMMError(.invalidState, "tick \(tick) out of range") }
        guard liquidity <= Self.maxLiquidity else { throw AMMError(.invalidState, "liquidity exceeds uint128") }
        guard feePips < 1_000_000 else { throw AMMError(.invalidState, "fee \(feePips) pips is 100% or more") }
        guard tickSpacing > 0, tickSpacing <= 16384 else { throw AMMError(.invalidState, "tick spacing \(tickSpacing)") }
        let sorted = ticks.sorted { $0.index < $1.index }
        for (i, t) in sorted.enumerated() {
            guard t.index >= TickMath.minTick, t.index <= TickMath.maxTick, t.index % tickSpacing == 0 else {
                throw AMMError(.invalidState, "tick \(t.index) is not a multiple of spacing \(tickSpacing) within range")
            }
            guard i == 0 || sorted[i - 1].index != t.index else { throw AMMError(.invalidState, "tick \(t.index) listed twice") }
            guard t.liquidityNet.magnitude <= Self.maxLiquidity else { throw AMMError(.invalidState, "liquidityNet of tick \(t.index) exceeds int128") }
        }
        self.sqrtPriceX96 = sqrtPriceX96
        self.tick = tick
        self.liquidity = liquidity
        self.feePips = feePips
        self.tickSpacing = tickSpacing
        self.ticks = sorted
        self.tickSqrt = sorted.map { TickMath.sqrtRatioUnchecked($0.index) }
    }

    /// The result of a swap: what goes in, what comes out, and the pool's state afterwards.
    public struct SwapResult: Equatable, Sendable {
        public var amountIn: UInt256
        public var amountOut: UInt256
        public var sqrtPriceX96After: UInt256
        public var tickAfter: Int32
        public var liquidityAfter: UInt256
        public var ticksCrossed: Int
    }

    // MARK: - Tick bitmap semantics over the sorted array

    /// Index of the first initialised tick with index ≥ `t`.
    @inline(__always)
    private func lowerBound(_ t: Int32) -> Int {
        var lo = 0, hi = ticks.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if ticks[mid].index < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// `TickBitmap.nextInitializedTickWithinOneWord`: the next initialised tick in the current
    /// 256-tick bitmap word, else that word's boundary (the swap loop stops there, which the
    /// contract's rounding depends on). Returns the array position when initialised.
    @inline(__always)
    func nextInitializedTickWithinOneWord(_ tick: Int32, lte: Bool) -> (next: Int32, position: Int?) {
        var compressed = tick / tickSpacing
        if tick < 0 && tick % tickSpacing != 0 { compressed -= 1 }
        if lte {
            let bitPos = compressed & 255
            let wordStart = compressed - bitPos
            // Greatest initialised compressed tick in [wordStart, compressed].
            let i = lowerBound((compressed + 1) * tickSpacing) - 1
            if i >= 0, ticks[i].index >= wordStart * tickSpacing { return (ticks[i].index, i) }
            return (wordStart * tickSpacing, nil)
        }
        let c = compressed + 1
        let bitPos = c & 255
        let wordEnd = c + (255 - bitPos)
        let i = lowerBound(c * tickSpacing)
        if i < ticks.count, ticks[i].index <= wordEnd * tickSpacing { return (ticks[i].index, i) }
        return (wordEnd * tickSpacing, nil)
    }

    // MARK: - Swap

    /// A swap as `UniswapV3Pool.swap` computes it: exact input when `exactOutput` is false.
    /// `sqrtPriceLimitX96` defaults to MIN+1 / MAX−1 as routers pass. The pool state is not changed;
    /// use `applying(_:)` for the state after.
    public func swap(zeroForOne: Bool, amount: UInt256, exactOutput: Bool = false, sqrtPriceLimitX96: UInt256? = nil) throws(AMMError) -> SwapResult {
        guard !amount.isZero, amount < (UInt256.one << 255) else { throw AMMError(.invalidAmount, "amount \(amount) is zero or beyond int256") }
        let limit = sqrtPriceLimitX96 ?? (zeroForOne ? TickMath.minSqrtRatio + 1 : TickMath.maxSqrtRatio - 1)
        if zeroForOne {
            guard limit < sqrtPriceX96, limit > TickMath.minSqrtRatio else { throw AMMError(.invalidPriceLimit, "limit \(limit) not below price \(sqrtPriceX96)") }
        } else {
            guard limit > sqrtPriceX96, limit < TickMath.maxSqrtRatio else { throw AMMError(.invalidPriceLimit, "limit \(limit) not above price \(sqrtPriceX96)") }
        }
        let exactIn = !exactOutput
        // The contract's amountSpecifiedRemaining keeps its sign through the loop (exact input:
        // a step never takes more than what remains; exact output: never pays more), so its
        // magnitude is all the state needed.
        var remaining = amount
        var calculated = UInt256.zero  // out (exact in) or in + fee (exact out)
        var price = sqrtPriceX96
        var tick = self.tick
        var liquidity = self.liquidity
        var crossed = 0
        var step = SwapMath.Step(sqrtPriceNext: .zero, amountIn: .zero, amountOut: .zero, feeAmount: .zero)
        while !remaining.isZero && price != limit {
            let start = price
            var (tickNext, position) = nextInitializedTickWithinOneWord(tick, lte: zeroForOne)
            if tickNext < TickMath.minTick { tickNext = TickMath.minTick; position = nil }
            if tickNext > TickMath.maxTick { tickNext = TickMath.maxTick; position = nil }
            let sqrtNext = position.map { tickSqrt[$0] } ?? TickMath.sqrtRatioUnchecked(tickNext)
            let target = (zeroForOne ? sqrtNext < limit : sqrtNext > limit) ? limit : sqrtNext
            guard SwapMath.compute(current: price, target: target, liquidity: liquidity, remaining: remaining,
                                   exactIn: exactIn, feePips: feePips, into: &step)
            else { throw AMMError(.overflow, "swap step overflows at sqrt price \(price)") }
            price = step.sqrtPriceNext
            let paid = step.amountIn &+ step.feeAmount
            if exactIn {
                remaining = remaining &- paid
                let (c, o) = calculated.addingReportingOverflow(step.amountOut)
                guard !o else { throw AMMError(.overflow, "output overflows") }
                calculated = c
            } else {
                remaining = remaining &- step.amountOut
                let (c, o) = calculated.addingReportingOverflow(paid)
                guard !o else { throw AMMError(.overflow, "input overflows") }
                calculated = c
            }
            if price == sqrtNext {
                if let p = position {
                    let net = ticks[p].liquidityNet
                    // Crossing down subtracts liquidityNet; crossing up adds it.
                    if net.isNegative != zeroForOne {
                        let m = net.magnitude
                        guard m <= liquidity else { throw AMMError(.invalidState, "liquidity underflows crossing tick \(tickNext)") }
                        liquidity = liquidity &- m
                    } else {
                        liquidity = liquidity &+ net.magnitude
                        guard liquidity <= Self.maxLiquidity else { throw AMMError(.invalidState, "liquidity overflows crossing tick \(tickNext)") }
                    }
                    crossed += 1
                }
                tick = zeroForOne ? tickNext - 1 : tickNext
            } else if price != start {
                tick = TickMath.tickUnchecked(price)
            }
        }
        let used = amount &- remaining
        let (amountIn, amountOut) = exactIn ? (used, calculated) : (calculated, used)
        return SwapResult(amountIn: amountIn, amountOut: amountOut, sqrtPriceX96After: price, tickAfter: tick, liquidityAfter: liquidity, ticksCrossed: crossed)
    }

    /// The pool after a swap computed on it.
    public func applying(_ result: SwapResult) -> V3Pool {
        var p = self
        p.sqrtPriceX96 = result.sqrtPriceX96After
        p.tick = result.tickAfter
        p.liquidity = result.liquidityAfter
        return p
    }
}

extension Int256 {
    @inlinable var negatedWrapping: Int256 { Int256.zero &- self }
}
