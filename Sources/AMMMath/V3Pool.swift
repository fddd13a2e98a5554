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
    /// Full steps of exact-input swaps from this state, kept as quotes find them (see
    /// `V3Pool+Crossings.swift`). Shared by copies; checked against the state it was built from.
    var crossings = Crossings()

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

    /// Equal swap-relevant state (the crossings kept for quotes are not part of it).
    public static func == (a: V3Pool, b: V3Pool) -> Bool {
        a.sqrtPriceX96 == b.sqrtPriceX96 && a.tick == b.tick && a.liquidity == b.liquidity && a.feePips == b.feePips
            && a.tickSpacing == b.tickSpacing && a.ticks == b.ticks
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
        let limit = sqrtPriceLimitX96 ?? Self.defaultLimit(zeroForOne: zeroForOne)
        if zeroForOne {
            guard limit < sqrtPriceX96, limit > TickMath.minSqrtRatio else { throw AMMError(.invalidPriceLimit, "limit \(limit) not below price \(sqrtPriceX96)") }
        } else {
            guard limit > sqrtPriceX96, limit < TickMath.maxSqrtRatio else { throw AMMError(.invalidPriceLimit, "limit \(limit) not above price \(sqrtPriceX96)") }
        }
        var state = LoopState(remaining: amount, calculated: .zero, price: sqrtPriceX96, tick: tick, liquidity: liquidity, crossed: 0)
        try run(&state, zeroForOne: zeroForOne, exactIn: !exactOutput, limit: limit)
        return result(state, amount: amount, exactIn: !exactOutput)
    }

    /// An exact-input quote at the default price limit: `swap(zeroForOne:amount:)`'s amounts, price
    /// and liquidity after, without the tick after. The full steps (every tick crossed) come from
    /// the pool's crossings, computed once per state and direction; only the last, partial step is
    /// computed per quote. So a search quoting many inputs, or many cycles through one pool, pays
    /// for each tick once.
    public func quoteExactInput(zeroForOne: Bool, amount: UInt256) throws(AMMError) -> ExactInputQuote {
        guard !amount.isZero, amount < (UInt256.one << 255) else { throw AMMError(.invalidAmount, "amount \(amount) is zero or beyond int256") }
        let limit = Self.defaultLimit(zeroForOne: zeroForOne)
        if zeroForOne ? limit >= sqrtPriceX96 : limit <= sqrtPriceX96 {
            throw AMMError(.invalidPriceLimit, "limit \(limit) not beyond price \(sqrtPriceX96)")
        }
        let feeDivisor = LimbDivisor(UInt64(1_000_000 - feePips))
        switch lookUpCrossings(zeroForOne: zeroForOne, amount: amount, limit: limit, feeDivisor: feeDivisor) {
        case .ended(let e):
            return ExactInputQuote(amountIn: amount, amountOut: e.output, sqrtPriceX96After: e.price, liquidityAfter: e.liquidity)
        case .within(let e, let target):
            // Short of `target` by construction: the input left is below the step's full cost.
            var step = SwapMath.Step(sqrtPriceNext: .zero, amountIn: .zero, amountOut: .zero, feeAmount: .zero)
            guard SwapMath.compute(current: e.price, target: target, liquidity: e.liquidity, remaining: amount &- e.consumed,
                                   exactIn: true, feePips: feePips, feeDivisor: feeDivisor, into: &step)
            else { throw AMMError(.overflow, "swap step overflows at sqrt price \(e.price)") }
            let (out, o) = e.output.addingReportingOverflow(step.amountOut)
            guard !o else { throw AMMError(.overflow, "output overflows") }
            return ExactInputQuote(amountIn: amount, amountOut: out, sqrtPriceX96After: step.sqrtPriceNext, liquidityAfter: e.liquidity)
        case .beyond(let e):
            // Past what the crossings hold: the loop goes on from their last step.
            var s = LoopState(remaining: amount &- e.consumed, calculated: e.output, price: e.price, tick: e.tick, liquidity: e.liquidity, crossed: 0)
            try run(&s, zeroForOne: zeroForOne, exactIn: true, limit: limit, needTick: false)
            return ExactInputQuote(amountIn: amount &- s.remaining, amountOut: s.calculated, sqrtPriceX96After: s.price, liquidityAfter: s.liquidity)
        }
    }

    /// The price limit routers pass for a swap with no limit of its own: MIN+1 or MAX−1.
    static func defaultLimit(zeroForOne: Bool) -> UInt256 {
        zeroForOne ? TickMath.minSqrtRatio + 1 : TickMath.maxSqrtRatio - 1
    }

    /// An exact-input quote: `SwapResult` without the tick, which quoting does not need and
    /// which costs a tick search after a swap that ends inside a range.
    public struct ExactInputQuote: Equatable, Sendable {
        public var amountIn: UInt256
        public var amountOut: UInt256
        public var sqrtPriceX96After: UInt256
        public var liquidityAfter: UInt256
    }

    /// The swap loop's variables: `remaining` is the magnitude of `amountSpecifiedRemaining` (its
    /// sign never changes in the contract's loop: exact input never takes more than remains,
    /// exact output never pays more), `calculated` the output (exact in) or input plus fee so far.
    struct LoopState: Equatable, Sendable {
        var remaining: UInt256
        var calculated: UInt256
        var price: UInt256
        var tick: Int32
        var liquidity: UInt256
        var crossed: Int
    }

    private func result(_ s: LoopState, amount: UInt256, exactIn: Bool) -> SwapResult {
        let used = amount &- s.remaining
        let (amountIn, amountOut) = exactIn ? (used, s.calculated) : (s.calculated, used)
        return SwapResult(amountIn: amountIn, amountOut: amountOut, sqrtPriceX96After: s.price, tickAfter: s.tick, liquidityAfter: s.liquidity, ticksCrossed: s.crossed)
    }

    /// `UniswapV3Pool.swap`'s loop from state `s`. Without `needTick` the tick after a final step
    /// that stops inside a range is left as it was (quotes do not need it).
    private func run(_ s: inout LoopState, zeroForOne: Bool, exactIn: Bool, limit: UInt256, needTick: Bool = true) throws(AMMError) {
        var step = SwapMath.Step(sqrtPriceNext: .zero, amountIn: .zero, amountOut: .zero, feeAmount: .zero)
        let feeDivisor = LimbDivisor(UInt64(1_000_000 - feePips))
        // The tick after a step that stops inside a range is computed when something needs it: a
        // next step, or the caller (a step that stops inside a range is almost always the last).
        var tickStale = false
        defer { if tickStale && needTick { s.tick = TickMath.tickUnchecked(s.price) } }
        while !s.remaining.isZero && s.price != limit {
            if tickStale {
                s.tick = TickMath.tickUnchecked(s.price)
                tickStale = false
            }
            let start = s.price
            if try !advance(&s, zeroForOne: zeroForOne, exactIn: exactIn, limit: limit, feeDivisor: feeDivisor, step: &step).onTick,
               s.price != start {
                tickStale = true
            }
        }
    }

    /// One pass of the swap loop's body from `s`, whose tick is current: a step toward the next
    /// initialised tick (or the bitmap word's boundary), stopped at `limit`, and the crossing when
    /// the price reaches that tick. Returns the step's target and whether the price ended on the
    /// tick; when it did not, `s.tick` is left stale.
    @inline(__always)
    func advance(_ s: inout LoopState, zeroForOne: Bool, exactIn: Bool, limit: UInt256, feeDivisor: LimbDivisor,
                 step: inout SwapMath.Step) throws(AMMError) -> (target: UInt256, onTick: Bool) {
        var (tickNext, position) = nextInitializedTickWithinOneWord(s.tick, lte: zeroForOne)
        if tickNext < TickMath.minTick { tickNext = TickMath.minTick; position = nil }
        if tickNext > TickMath.maxTick { tickNext = TickMath.maxTick; position = nil }
        let sqrtNext = position.map { tickSqrt[$0] } ?? TickMath.sqrtRatioUnchecked(tickNext)
        let target = (zeroForOne ? sqrtNext < limit : sqrtNext > limit) ? limit : sqrtNext
        guard SwapMath.compute(current: s.price, target: target, liquidity: s.liquidity, remaining: s.remaining,
                               exactIn: exactIn, feePips: feePips, feeDivisor: feeDivisor, into: &step)
        else { throw AMMError(.overflow, "swap step overflows at sqrt price \(s.price)") }
        s.price = step.sqrtPriceNext
        let paid = step.amountIn &+ step.feeAmount
        if exactIn {
            s.remaining = s.remaining &- paid
            let (c, o) = s.calculated.addingReportingOverflow(step.amountOut)
            guard !o else { throw AMMError(.overflow, "output overflows") }
            s.calculated = c
        } else {
            s.remaining = s.remaining &- step.amountOut
            let (c, o) = s.calculated.addingReportingOverflow(paid)
            guard !o else { throw AMMError(.overflow, "input overflows") }
            s.calculated = c
        }
        guard s.price == sqrtNext else { return (target, false) }
        if let p = position {
            let net = ticks[p].liquidityNet
            // Crossing down subtracts liquidityNet; crossing up adds it.
            if net.isNegative != zeroForOne {
                let m = net.magnitude
                guard m <= s.liquidity else { throw AMMError(.invalidState, "liquidity underflows crossing tick \(tickNext)") }
                s.liquidity = s.liquidity &- m
            } else {
                s.liquidity = s.liquidity &+ net.magnitude
                guard s.liquidity <= Self.maxLiquidity else { throw AMMError(.invalidState, "liquidity overflows crossing tick \(tickNext)") }
            }
            s.crossed += 1
        }
        s.tick = zeroForOne ? tickNext - 1 : tickNext
        return (target, true)
    }

    /// Sets the liquidityNet of tick `index`, or takes the tick out (`nil`: no longer initialised,
    /// its liquidityGross fell to zero), keeping the ticks sorted: what a `Mint` or `Burn` does to
    /// the tick bitmap. The pool's in-range `liquidity` is the caller's to update.
    public mutating func setTick(_ index: Int32, liquidityNet: Int256?) throws(AMMError) {
        guard index >= TickMath.minTick, index <= TickMath.maxTick, index % tickSpacing == 0 else {
            throw AMMError(.invalidState, "tick \(index) is not a multiple of spacing \(tickSpacing) within range")
        }
        let i = lowerBound(index)
        let present = i < ticks.count && ticks[i].index == index
        guard let net = liquidityNet else {
            if present {
                ticks.remove(at: i)
                tickSqrt.remove(at: i)
                crossings = Crossings()
            }
            return
        }
        guard net.magnitude <= Self.maxLiquidity else { throw AMMError(.invalidState, "liquidityNet of tick \(index) exceeds int128") }
        if present {
            ticks[i].liquidityNet = net
        } else {
            ticks.insert(Tick(index: index, liquidityNet: net), at: i)
            tickSqrt.insert(TickMath.sqrtRatioUnchecked(index), at: i)
        }
        // The ticks are not part of the key the crossings are checked against: start new ones.
        crossings = Crossings()
    }

    /// The liquidityNet of tick `index`, nil when it is not initialised.
    public func liquidityNet(at index: Int32) -> Int256? {
        let i = lowerBound(index)
        return i < ticks.count && ticks[i].index == index ? ticks[i].liquidityNet : nil
    }

    /// The pool after a swap computed on it.
    public func applying(_ result: SwapResult) -> V3Pool {
        var p = self
        p.sqrtPriceX96 = result.sqrtPriceX96After
        p.tick = result.tickAfter
        p.liquidity = result.liquidityAfter
        // Its own crossings: sharing this pool's would rebuild both whenever they alternate.
        p.crossings = Crossings()
        return p
    }
}

extension Int256 {
    @inlinable var negatedWrapping: Int256 { Int256.zero &- self }
}
