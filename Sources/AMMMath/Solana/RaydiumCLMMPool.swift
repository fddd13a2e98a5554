/// A Raydium CLMM pool (concentrated liquidity, Q64.64) with the tick arrays we hold, quoted as
/// the program swaps (`swap_internal` in raydium-io/raydium-clmm `instructions/swap.rs`): from the
/// current tick to the next initialized tick, then on through the next tick array the pool's
/// bitmap marks initialized (arrays it marks empty are skipped, not read), liquidity changed at
/// every initialized tick crossed, the fee from the input or, for pools collecting their fee in
/// one token, from the output when the input is the other.
///
/// What is not modelled is refused, never guessed: a swap that needs a tick array we do not hold
/// or one past the pool's own bitmap (the extension account's range), and a swap reaching a tick
/// holding limit orders (matched there by rules of their own). Pools with a dynamic fee are
/// refused by the decoder.
public struct RaydiumCLMMPool: Equatable, Sendable {
    public static let ticksPerArray: Int32 = 60
    /// The pool account's bitmap: 1,024 arrays, bit `start / width + 512`.
    public static let bitmapArrays: Int32 = 1_024

    public enum FeeOn: UInt8, Sendable {
        /// From the input token.
        case input = 0
        case token0 = 1
        case token1 = 2
    }

    /// One tick slot of a tick array.
    public struct Tick: Equatable, Sendable {
        public var liquidityNet: Int128
        public var liquidityGross: UInt128
        /// Limit orders wait at this tick (unmatched or part filled).
        public var limitOrders: Bool
        public init(liquidityNet: Int128, liquidityGross: UInt128, limitOrders: Bool = false) {
            (self.liquidityNet, self.liquidityGross, self.limitOrders) = (liquidityNet, liquidityGross, limitOrders)
        }
        public static let empty = Tick(liquidityNet: 0, liquidityGross: 0)
        public var initialized: Bool { liquidityGross > 0 || limitOrders }
    }

    public private(set) var sqrtPrice: UInt128
    public private(set) var tickCurrent: Int32
    public private(set) var liquidity: UInt128
    public let tickSpacing: UInt16
    /// The pool's `AmmConfig` trade fee, millionths.
    public private(set) var feeRate: UInt32
    public let feeOn: FeeOn
    /// The pool's tick array bitmap (16 words, bit `start / width + 512` set for an initialized array).
    public private(set) var bitmap: [UInt64]
    /// Tick arrays by start index, each `ticksPerArray` slots.
    public let tickArrays: [Int32: [Tick]]
    /// Per held array, bit i set when its slot i is initialized: the next initialized tick is a
    /// bit scan, not a walk over up to 60 slots an array.
    let initializedSlots: [Int32: UInt64]

    public init(sqrtPrice: UInt128, tickCurrent: Int32, liquidity: UInt128, tickSpacing: UInt16, feeRate: UInt32, feeOn: FeeOn = .input,
                bitmap: [UInt64], tickArrays: [Int32: [Tick]] = [:]) throws(AMMError) {
        guard tickSpacing > 0 else { throw AMMError(.invalidState, "tick spacing 0") }
        guard tickArrays.values.allSatisfy({ $0.count == Int(Self.ticksPerArray) }) else {
            throw AMMError(.invalidState, "a tick array without \(Self.ticksPerArray) ticks")
        }
        try Self.check(sqrtPrice: sqrtPrice, tickCurrent: tickCurrent, feeRate: feeRate, bitmap: bitmap)
        (self.tickSpacing, self.feeOn, self.tickArrays) = (tickSpacing, feeOn, tickArrays)
        initializedSlots = tickArrays.mapValues { ticks in
            ticks.enumerated().reduce(UInt64(0)) { m, t in t.element.initialized ? m | UInt64(1) << UInt64(t.offset) : m }
        }
        (self.sqrtPrice, self.tickCurrent, self.liquidity, self.feeRate, self.bitmap) = (sqrtPrice, tickCurrent, liquidity, feeRate, bitmap)
    }

    static func check(sqrtPrice: UInt128, tickCurrent: Int32, feeRate: UInt32, bitmap: [UInt64]) throws(AMMError) {
        guard sqrtPrice >= RaydiumCLMMMath.minSqrtPrice && sqrtPrice < RaydiumCLMMMath.maxSqrtPrice else {
            throw AMMError(.invalidState, "sqrt price \(sqrtPrice) out of bounds")
        }
        guard (RaydiumCLMMMath.minTick...RaydiumCLMMMath.maxTick).contains(tickCurrent) else {
            throw AMMError(.invalidState, "tick \(tickCurrent) out of range")
        }
        guard feeRate < RaydiumCLMMMath.feeRateDenominator else { throw AMMError(.invalidState, "fee rate \(feeRate)") }
        guard bitmap.count == 16 else { throw AMMError(.invalidState, "a bitmap of \(bitmap.count) words, not 16") }
    }

    /// The pool at another price, liquidity, fee and bitmap over the same tick arrays (what a swap
    /// writes to the pool's own account).
    public func moved(sqrtPrice: UInt128, tickCurrent: Int32, liquidity: UInt128, feeRate: UInt32, bitmap: [UInt64]) throws(AMMError) -> RaydiumCLMMPool {
        try Self.check(sqrtPrice: sqrtPrice, tickCurrent: tickCurrent, feeRate: feeRate, bitmap: bitmap)
        var p = self
        (p.sqrtPrice, p.tickCurrent, p.liquidity, p.feeRate, p.bitmap) = (sqrtPrice, tickCurrent, liquidity, feeRate, bitmap)
        return p
    }

    /// Ticks one array spans.
    public var arrayWidth: Int32 { Self.ticksPerArray * Int32(tickSpacing) }

    /// The start index of the tick array holding `tick`.
    public static func arrayStart(_ tick: Int32, tickSpacing: UInt16) -> Int32 {
        concentratedArrayStart(tick, ticksPerArray: ticksPerArray, tickSpacing: tickSpacing)
    }

    /// Whether the pool's bitmap marks the array at `start` initialized; nil past the bitmap's range.
    public func arrayInitialized(_ start: Int32) -> Bool? {
        Self.marked(bitmap, bit: Int64(start) / Int64(arrayWidth) + 512)
    }

    /// Bit `bit` of a pool's bitmap; nil past its 1,024.
    static func marked(_ bitmap: [UInt64], bit: Int64) -> Bool? {
        guard (0..<Int64(bitmapArrays)).contains(bit) else { return nil }
        return bitmap[Int(bit / 64)] >> UInt64(bit % 64) & 1 == 1
    }

    /// The arrays `bitmap` marks initialized that a swap from `tick` reads first in a direction,
    /// up to `count` of them (what the book follows and a swap names); the one holding `tick`
    /// first when it is marked.
    public static func initializedArrays(from tick: Int32, tickSpacing: UInt16, bitmap: [UInt64], zeroForOne: Bool, count: Int) -> [Int32] {
        guard tickSpacing > 0, bitmap.count == 16 else { return [] }
        let width = ticksPerArray * Int32(tickSpacing)
        var out: [Int32] = []
        var bit = Int64(arrayStart(tick, tickSpacing: tickSpacing) / width) + 512
        while out.count < count, let set = marked(bitmap, bit: bit) {
            if set { out.append(Int32(bit - 512) * width) }
            bit += zeroForOne ? -1 : 1
        }
        return out
    }

    public typealias Swap = ConcentratedSwap

    /// An exact-input swap of `amount` (`zeroForOne`: token 0 in, price down) with the program's
    /// widest price limit.
    public func swap(amount: UInt64, zeroForOne: Bool) throws(AMMError) -> Swap {
        try run(amount: amount, zeroForOne: zeroForOne, tracking: true)
    }

    /// The output of an exact-input swap, as `swap` gives it.
    public func amountOut(amount: UInt64, zeroForOne: Bool) throws(AMMError) -> UInt64 {
        try run(amount: amount, zeroForOne: zeroForOne, tracking: false).amountOut
    }

    func run(amount: UInt64, zeroForOne: Bool, tracking: Bool) throws(AMMError) -> Swap {
        guard amount > 0 else { throw AMMError(.invalidAmount, "zero input") }
        // What a router passes for "no limit": one past the extremes.
        let limit = zeroForOne ? RaydiumCLMMMath.minSqrtPrice + 1 : RaydiumCLMMMath.maxSqrtPrice - 1
        let feeOnInput = switch feeOn {
        case .input: true
        case .token0: zeroForOne
        case .token1: !zeroForOne
        }
        var remaining = amount, out: UInt64 = 0, fees: UInt64 = 0
        var price = sqrtPrice, tick = tickCurrent, l = liquidity
        while remaining > 0 && price != limit {
            let (next, slot) = try nextInitialized(from: tick, zeroForOne: zeroForOne)
            let clamped = min(max(next, RaydiumCLMMMath.minTick), RaydiumCLMMMath.maxTick)
            let nextPrice = RaydiumCLMMMath.sqrtPrice(tick: clamped)!
            let target = zeroForOne ? max(nextPrice, limit) : min(nextPrice, limit)
            let step = try RaydiumCLMMMath.step(remaining: remaining, feeRate: feeRate, feeOnInput: feeOnInput, liquidity: l, current: price,
                                                target: target, zeroForOne: zeroForOne)
            remaining -= step.consumed
            let (sum, overflow) = out.addingReportingOverflow(step.amountOut)
            guard !overflow else { throw AMMError(.overflow, "the output passes u64") }
            out = sum
            fees += step.fee
            if step.nextSqrtPrice == nextPrice {
                if slot.limitOrders { throw AMMError(.insufficientLiquidity, "the swap reaches limit orders at tick \(next)") }
                if slot.liquidityGross > 0 {
                    let net = zeroForOne ? -slot.liquidityNet : slot.liquidityNet
                    let updated = Int128(clamping: l) + net
                    guard updated >= 0 else { throw AMMError(.invalidState, "liquidity below zero at tick \(next)") }
                    l = UInt128(updated)
                }
                tick = zeroForOne ? next - 1 : next
            } else if step.nextSqrtPrice != price && tracking {
                tick = RaydiumCLMMMath.tick(sqrtPrice: step.nextSqrtPrice) ?? tick
            }
            price = step.nextSqrtPrice
        }
        guard remaining == 0 else { throw AMMError(.insufficientLiquidity, "the swap reaches the price limit with \(remaining) left") }
        guard out > 0 else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
        return Swap(amountIn: amount, amountOut: out, fee: fees, sqrtPrice: price, tickCurrent: tick, liquidity: l)
    }

    /// The first initialized tick at or below `tick` (price down) or above it (price up), found
    /// in the arrays the bitmap marks initialized, each of which must be held.
    func nextInitialized(from tick: Int32, zeroForOne: Bool) throws(AMMError) -> (index: Int32, tick: Tick) {
        let spacing = Int32(tickSpacing)
        var start = Self.arrayStart(tick, tickSpacing: tickSpacing)
        var first = true
        while true {
            guard let marked = arrayInitialized(start) else {
                throw AMMError(.insufficientLiquidity, "the swap goes past the pool's tick array bitmap")
            }
            if marked {
                guard let ticks = tickArrays[start], let slots = initializedSlots[start] else {
                    throw AMMError(.insufficientLiquidity, "the swap needs tick array \(start), not held")
                }
                // In the array holding the current tick, only the slots on the swap's side of it:
                // at or below it going down, above it going up.
                let offset = first ? (tick - start) / spacing : (zeroForOne ? Self.ticksPerArray - 1 : -1)
                if zeroForOne {
                    let side = slots & ((UInt64(2) << UInt64(offset)) &- 1)  // bits 0…offset (offset ≥ 0 going down)
                    if side != 0 {
                        let i = 63 - side.leadingZeroBitCount
                        return (start + Int32(i) * spacing, ticks[i])
                    }
                } else {
                    let side = offset < 0 ? slots : slots & ~((UInt64(2) << UInt64(offset)) &- 1)
                    if side != 0 {
                        let i = side.trailingZeroBitCount
                        return (start + Int32(i) * spacing, ticks[i])
                    }
                }
            }
            first = false
            start += zeroForOne ? -arrayWidth : arrayWidth
        }
    }

    /// The pool after an exact-input swap.
    public func applying(_ swap: Swap) -> RaydiumCLMMPool {
        var p = self
        (p.sqrtPrice, p.tickCurrent, p.liquidity) = (swap.sqrtPrice, swap.tickCurrent, swap.liquidity)
        return p
    }
}
