import EVMPrimitives
import Synchronization

/// The full steps of exact-input swaps from one pool state, found once and kept for every quote.
///
/// An exact-input swap at the default price limit takes the same steps, in the same order, as
/// every larger one in the same direction: a step reaches its target (the next initialised tick,
/// or a bitmap word's boundary) when `⌊remaining·(10⁶ − fee)/10⁶⌋` covers its input `T`, and `T`
/// depends only on the step's prices and the range's liquidity. So step k's cost, fee included, is
/// `⌈T·10⁶/(10⁶ − fee)⌉ = T + ⌈T·fee/(10⁶ − fee)⌉` (what the contract charges for a full step),
/// and a swap of `amount` completes exactly the steps whose running cost is at most `amount`, then
/// takes one partial step. The running costs and outputs are the crossings; a quote looks up its
/// place among them and computes only the partial step.
///
/// They are built as far as quotes ask (at most `maxSteps` steps each way; past that a quote runs
/// the loop on from the last), and checked against the state they were built from on every
/// quote: a pool whose price, tick, liquidity, fee or spacing changed in place starts new ones.
/// `setTick` and `applying` give the pool new ones outright.
extension V3Pool {
    final class Crossings: Sendable {
        let sides = Mutex(Sides())
    }

    /// The state the crossings were built from; the ticks are covered by `setTick`.
    struct Key: Equatable, Sendable {
        var price: UInt256
        var tick: Int32
        var liquidity: UInt256
        var feePips: UInt32
        var tickSpacing: Int32
    }

    struct Sides: Sendable {
        var key: Key?
        /// zeroForOne (price falling) and oneForZero.
        var down = Side()
        var up = Side()
    }

    struct Side: Sendable {
        /// `steps[0]` is the pool's own state; each next one the state after one more full step.
        var steps: [Step] = []
        /// No further full step: the price limit was reached, or the next step reverts or overflows
        /// (the loop run on from the last step reports that).
        var ended = false

        mutating func reset() {
            steps.removeAll(keepingCapacity: true)
            ended = false
        }
    }

    /// The state after a run of full steps: what they took (fees included) and paid, and where the
    /// price, liquidity and tick stand.
    struct Step: Sendable {
        var consumed: UInt256
        var output: UInt256
        var price: UInt256
        var liquidity: UInt256
        var tick: Int32
    }

    /// Where an exact-input swap of some amount stands among the crossings.
    enum Place {
        /// The input runs out exactly at the end of a full step.
        case ended(Step)
        /// The input runs out inside the next step, whose target is given.
        case within(Step, target: UInt256)
        /// Past the crossings kept: the loop goes on from this step.
        case beyond(Step)
    }

    /// Steps kept each way, at most: 64 steps cover any swap a sizing search asks about on a pool
    /// with initialised ticks every few spacings; a quote past them is still exact.
    static let maxSteps = 64

    /// Input far beyond any step's cost (below int256, as the contract's amounts), so that each
    /// step computed with it reaches its target.
    private static let unbounded = (UInt256.one << 255) - 1

    func lookUpCrossings(zeroForOne: Bool, amount: UInt256, limit: UInt256, feeDivisor: LimbDivisor) -> Place {
        let key = Key(price: sqrtPriceX96, tick: tick, liquidity: liquidity, feePips: feePips, tickSpacing: tickSpacing)
        return crossings.sides.withLock { sides -> Place in
            if sides.key != key {
                sides.key = key
                sides.down.reset()
                sides.up.reset()
            }
            return zeroForOne
                ? place(in: &sides.down, zeroForOne: true, amount: amount, limit: limit, feeDivisor: feeDivisor)
                : place(in: &sides.up, zeroForOne: false, amount: amount, limit: limit, feeDivisor: feeDivisor)
        }
    }

    private func place(in side: inout Side, zeroForOne: Bool, amount: UInt256, limit: UInt256, feeDivisor: LimbDivisor) -> Place {
        if side.steps.isEmpty {
            side.steps.append(Step(consumed: .zero, output: .zero, price: sqrtPriceX96, liquidity: liquidity, tick: tick))
        }
        while !side.ended, side.steps[side.steps.count - 1].consumed < amount, side.steps.count < Self.maxSteps {
            extend(&side, zeroForOne: zeroForOne, limit: limit, feeDivisor: feeDivisor)
        }
        // The last step whose running cost is at most `amount` (the first costs nothing).
        var lo = 0, hi = side.steps.count
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if side.steps[mid].consumed <= amount { lo = mid } else { hi = mid }
        }
        if side.steps[lo].consumed == amount {
            // Steps that cost nothing (a price already on a tick) are taken only while input
            // remains: the swap stops at the first step that uses its last wei.
            while lo > 0 && side.steps[lo - 1].consumed == amount { lo -= 1 }
            return .ended(side.steps[lo])
        }
        if lo + 1 < side.steps.count { return .within(side.steps[lo], target: side.steps[lo + 1].price) }
        return .beyond(side.steps[lo])
    }

    /// One more full step from the last, or `ended` when there is none.
    private func extend(_ side: inout Side, zeroForOne: Bool, limit: UInt256, feeDivisor: LimbDivisor) {
        let last = side.steps[side.steps.count - 1]
        guard last.price != limit else { side.ended = true; return }
        var s = LoopState(remaining: Self.unbounded, calculated: last.output, price: last.price, tick: last.tick, liquidity: last.liquidity, crossed: 0)
        var step = SwapMath.Step(sqrtPriceNext: .zero, amountIn: .zero, amountOut: .zero, feeAmount: .zero)
        guard let (target, _) = try? advance(&s, zeroForOne: zeroForOne, exactIn: true, limit: limit, feeDivisor: feeDivisor, step: &step),
              s.price == target
        else { side.ended = true; return }
        let (consumed, o) = last.consumed.addingReportingOverflow(Self.unbounded &- s.remaining)
        guard !o, consumed < (UInt256.one << 255) else { side.ended = true; return }
        side.steps.append(Step(consumed: consumed, output: s.calculated, price: s.price, liquidity: s.liquidity, tick: s.tick))
    }
}
