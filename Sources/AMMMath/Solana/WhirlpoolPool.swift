/// An Orca Whirlpool (concentrated liquidity, Q64.64) with the tick arrays we hold, quoted as the
/// program swaps: at most three consecutive tick arrays from the one holding the current tick, the
/// fee taken from each step's input, liquidity changed at every initialized tick crossed. A swap
/// that would need a tick array we do not hold (or past the three a swap may pass) is refused, as
/// the program refuses it.
///
/// Fixed-fee pools only: a pool on an adaptive fee tier is refused by the decoder (its fee moves
/// with an oracle account we do not model).
public struct WhirlpoolPool: Equatable, Sendable {
    public static let ticksPerArray: Int32 = 88
    /// What one swap instruction may pass through.
    public static let maxSwapArrays = 3

    /// One tick slot of a tick array.
    public struct Tick: Equatable, Sendable {
        public var initialized: Bool
        public var liquidityNet: Int128
        public init(initialized: Bool, liquidityNet: Int128) {
            self.initialized = initialized
            self.liquidityNet = liquidityNet
        }
        public static let empty = Tick(initialized: false, liquidityNet: 0)
    }

    public private(set) var sqrtPrice: UInt128
    public private(set) var tickCurrent: Int32
    public private(set) var liquidity: UInt128
    public private(set) var tickSpacing: UInt16
    /// Millionths of the input (the account's hundredths of a basis point).
    public private(set) var feeRate: UInt16
    /// Tick arrays by start index, each `ticksPerArray` slots.
    public let tickArrays: [Int32: [Tick]]
    /// The initialized ticks of every held array, ascending: a swap walks them by index.
    let initialized: [SequenceTick]
    /// What a swap from the current tick may pass, price down and up (nil: no array holds the
    /// tick it starts in): found when the pool is made, not per quote.
    var reachDown: Reach?, reachUp: Reach?

    public init(sqrtPrice: UInt128, tickCurrent: Int32, liquidity: UInt128, tickSpacing: UInt16, feeRate: UInt16,
                tickArrays: [Int32: [Tick]] = [:]) throws(AMMError) {
        guard tickSpacing > 0 else { throw AMMError(.invalidState, "tick spacing 0") }
        guard (WhirlpoolMath.minSqrtPrice...WhirlpoolMath.maxSqrtPrice).contains(sqrtPrice) else {
            throw AMMError(.invalidState, "sqrt price \(sqrtPrice) out of bounds")
        }
        guard (WhirlpoolMath.minTick...WhirlpoolMath.maxTick).contains(tickCurrent) else {
            throw AMMError(.invalidState, "tick \(tickCurrent) out of range")
        }
        guard UInt64(feeRate) < WhirlpoolMath.feeRateDenominator else { throw AMMError(.invalidState, "fee rate \(feeRate)") }
        guard tickArrays.values.allSatisfy({ $0.count == Int(Self.ticksPerArray) }) else {
            throw AMMError(.invalidState, "a tick array without \(Self.ticksPerArray) ticks")
        }
        self.sqrtPrice = sqrtPrice
        self.tickCurrent = tickCurrent
        self.liquidity = liquidity
        self.tickSpacing = tickSpacing
        self.feeRate = feeRate
        self.tickArrays = tickArrays
        let spacing = Int32(tickSpacing)
        initialized = tickArrays.keys.sorted().flatMap { start in
            tickArrays[start]!.enumerated().compactMap { i, t in
                t.initialized ? SequenceTick(index: start + Int32(i) * spacing, initialized: true, liquidityNet: t.liquidityNet) : nil
            }
        }
        (reachDown, reachUp) = (findReach(aToB: true), findReach(aToB: false))
    }

    /// The pool at another price, liquidity and fee over the same tick arrays (what a swap or a
    /// fee change writes to the pool's own account): the arrays are shared, not rebuilt.
    public func moved(sqrtPrice: UInt128, tickCurrent: Int32, liquidity: UInt128, feeRate: UInt16) throws(AMMError) -> WhirlpoolPool {
        guard (WhirlpoolMath.minSqrtPrice...WhirlpoolMath.maxSqrtPrice).contains(sqrtPrice) else {
            throw AMMError(.invalidState, "sqrt price \(sqrtPrice) out of bounds")
        }
        guard (WhirlpoolMath.minTick...WhirlpoolMath.maxTick).contains(tickCurrent) else {
            throw AMMError(.invalidState, "tick \(tickCurrent) out of range")
        }
        guard UInt64(feeRate) < WhirlpoolMath.feeRateDenominator else { throw AMMError(.invalidState, "fee rate \(feeRate)") }
        var p = self
        (p.sqrtPrice, p.tickCurrent, p.liquidity, p.feeRate) = (sqrtPrice, tickCurrent, liquidity, feeRate)
        if tickCurrent != self.tickCurrent { (p.reachDown, p.reachUp) = (p.findReach(aToB: true), p.findReach(aToB: false)) }
        return p
    }

    /// The start index of the tick array holding `tick`.
    public static func arrayStart(_ tick: Int32, tickSpacing: UInt16) -> Int32 {
        concentratedArrayStart(tick, ticksPerArray: ticksPerArray, tickSpacing: tickSpacing)
    }

    public typealias Swap = ConcentratedSwap

    /// An exact-input swap of `amount` (`aToB`: token A in, price down). The whole amount must be
    /// used: a swap that reaches its price limit or the held tick arrays with input left is refused.
    public func swap(amount: UInt64, aToB: Bool) throws(AMMError) -> Swap {
        try run(amount: amount, aToB: aToB, tracking: true)
    }

    /// The output of an exact-input swap, as `swap` gives it (the tick it ends on is not computed).
    public func amountOut(amount: UInt64, aToB: Bool) throws(AMMError) -> UInt64 {
        try run(amount: amount, aToB: aToB, tracking: false).amountOut
    }

    /// `tracking`: also find the tick the swap ends on when it stops between two (only the state
    /// after the swap needs it, and it costs a logarithm).
    func run(amount: UInt64, aToB: Bool, tracking: Bool) throws(AMMError) -> Swap {
        guard amount > 0 else { throw AMMError(.invalidAmount, "zero input") }
        let limit = aToB ? WhirlpoolMath.minSqrtPrice : WhirlpoolMath.maxSqrtPrice
        guard let reach = aToB ? reachDown : reachUp else { throw AMMError(.insufficientLiquidity, "no tick array holds tick \(tickCurrent)") }
        var remaining = amount, out: UInt64 = 0, fees: UInt64 = 0
        var price = sqrtPrice, tick = tickCurrent, l = liquidity
        while remaining > 0 && price != limit {
            // The next initialized tick (or the reach's end) in the swap's direction.
            guard let next = nextTick(from: tick, aToB: aToB, reach: reach) else {
                throw AMMError(.insufficientLiquidity, "the swap needs a tick array past those held")
            }
            let nextPrice = WhirlpoolMath.sqrtPrice(tick: next.index)
            let target = aToB ? max(nextPrice, limit) : min(nextPrice, limit)
            let step = try WhirlpoolMath.step(remaining: remaining, feeRate: UInt32(feeRate), liquidity: l, current: price,
                                              target: target, exactInput: true, aToB: aToB)
            remaining -= step.amountIn + step.fee
            let (sum, overflow) = out.addingReportingOverflow(step.amountOut)
            guard !overflow else { throw AMMError(.overflow, "the output passes u64") }
            out = sum
            fees += step.fee
            if step.nextSqrtPrice == nextPrice {
                if next.initialized {
                    let net = aToB ? -next.liquidityNet : next.liquidityNet
                    let updated = Int128(l) + net
                    guard updated >= 0, l <= UInt128(Int128.max) else { throw AMMError(.invalidState, "liquidity below zero at tick \(next.index)") }
                    l = UInt128(updated)
                }
                tick = aToB ? next.index - 1 : next.index
            } else if step.nextSqrtPrice != price && tracking {
                tick = WhirlpoolMath.tick(sqrtPrice: step.nextSqrtPrice)
            }
            price = step.nextSqrtPrice
        }
        guard remaining == 0 else { throw AMMError(.insufficientLiquidity, "the swap reaches the price limit with \(remaining) left") }
        guard out > 0 else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
        return Swap(amountIn: amount, amountOut: out, fee: fees, sqrtPrice: price, tickCurrent: tick, liquidity: l)
    }

    /// The pool after an exact-input swap.
    public func applying(_ swap: Swap) -> WhirlpoolPool {
        var p = self
        (p.sqrtPrice, p.tickCurrent, p.liquidity) = (swap.sqrtPrice, swap.tickCurrent, swap.liquidity)
        if swap.tickCurrent != tickCurrent { (p.reachDown, p.reachUp) = (p.findReach(aToB: true), p.findReach(aToB: false)) }
        return p
    }

    struct SequenceTick: Equatable, Sendable {
        var index: Int32
        var initialized: Bool
        var liquidityNet: Int128
    }

    /// The ticks a swap from the current tick may pass: up to three consecutive held arrays in its
    /// direction, from the one holding the current tick (price up: the next tick up, as the
    /// program shifts it), ending at the last array's edge, which it may reach but not pass.
    struct Reach: Equatable, Sendable {
        var low: Int32
        var high: Int32
        /// The last array's edge in the swap's direction.
        var boundary: Int32
    }

    func findReach(aToB: Bool) -> Reach? {
        let spacing = Int32(tickSpacing), width = Self.ticksPerArray * spacing
        let first = Self.arrayStart(aToB ? tickCurrent : tickCurrent + spacing, tickSpacing: tickSpacing)
        var start = first, last = first, held = 0
        while held < Self.maxSwapArrays, tickArrays[start] != nil {
            last = start
            held += 1
            start += aToB ? -width : width
        }
        guard held > 0 else { return nil }
        return aToB ? Reach(low: last, high: first + width - 1, boundary: max(last, WhirlpoolMath.minTick))
                    : Reach(low: first, high: last + width - 1, boundary: min(last + width - 1, WhirlpoolMath.maxTick))
    }

    /// The first initialized tick within `reach` at or below `tick` (price down) or above it
    /// (price up), else the reach's boundary if the swap has not passed it.
    func nextTick(from tick: Int32, aToB: Bool, reach: Reach) -> SequenceTick? {
        // The first initialized tick above `tick`.
        var lo = 0, hi = initialized.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if initialized[mid].index <= tick { lo = mid + 1 } else { hi = mid }
        }
        if aToB {
            if lo > 0, initialized[lo - 1].index >= reach.low, initialized[lo - 1].index <= reach.high { return initialized[lo - 1] }
            return reach.boundary <= tick ? SequenceTick(index: reach.boundary, initialized: false, liquidityNet: 0) : nil
        }
        if lo < initialized.count, initialized[lo].index <= reach.high, initialized[lo].index >= reach.low { return initialized[lo] }
        return reach.boundary > tick ? SequenceTick(index: reach.boundary, initialized: false, liquidityNet: 0) : nil
    }
}
