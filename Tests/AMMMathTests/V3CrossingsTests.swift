@testable import AMMMath
import ArbiterTestKit
import EVMPrimitives
import Foundation
import Synchronization
import Testing

/// Quotes from a V3 pool's kept crossings (`V3Pool+Crossings.swift`) against the real contract's
/// vectors and against the swap loop run from the pool's state (itself equal to the contract in
/// `DifferentialTests`): after other quotes, after the state changes in place, past the steps kept,
/// and from several threads at once.
@Suite struct V3CrossingsTests {
    /// Full steps kept in a direction (the pool's own state counts as one).
    static func kept(_ pool: V3Pool, zeroForOne: Bool) -> Int {
        pool.crossings.sides.withLock { zeroForOne ? $0.down.steps.count : $0.up.steps.count }
    }

    static func fresh(_ pool: V3Pool, _ zeroForOne: Bool, _ x: UInt256) -> Result<V3Pool.SwapResult, AMMError> {
        Result { () throws(AMMError) in try pool.swap(zeroForOne: zeroForOne, amount: x) }
    }

    static func quoted(_ pool: V3Pool, _ zeroForOne: Bool, _ x: UInt256) -> Result<V3Pool.ExactInputQuote, AMMError> {
        Result { () throws(AMMError) in try pool.quoteExactInput(zeroForOne: zeroForOne, amount: x) }
    }

    /// The quote equals the loop's swap: both fail, or amounts, price and liquidity after agree.
    static func agree(_ q: Result<V3Pool.ExactInputQuote, AMMError>, _ f: Result<V3Pool.SwapResult, AMMError>, _ what: String) {
        switch (q, f) {
        case (.success(let a), .success(let b)):
            #expect(a.amountIn == b.amountIn && a.amountOut == b.amountOut, "\(what)")
            #expect(a.sqrtPriceX96After == b.sqrtPriceX96After && a.liquidityAfter == b.liquidityAfter, "\(what)")
        case (.failure, .failure):
            break
        default:
            Issue.record("\(what): quoted \(q) but swapped \(f)")
        }
    }

    /// After a quote of another input (smaller, equal, larger, or one wei) has kept crossings, each
    /// exact-input vector's quote equals the real contract's result.
    @Test func quotesAfterOtherQuotesEqualTheRealContract() throws {
        let vectors = try Fixtures.vectors("amm/uniswapV3.json")
        var rng = SeededGenerator(seed: 77)
        var checked = 0, fromKept = 0
        for (i, v) in vectors.enumerated() where v["exactOut"] != .bool(true) && v["sqrtPriceLimitX96"]?.stringValue == nil {
            guard case .uniswapV3(let pool) = try Pool(json: try #require(v["pool"])) else { continue }
            let amount = try UInt256(decimal: try #require(v["amount"]?.stringValue))
            let zeroForOne = v["zeroForOne"] == .bool(true)
            let expect = try #require(v["expect"])
            let other: UInt256
            switch rng.next() % 5 {
            case 0: other = amount / 2 + 1
            case 1: other = amount - amount / 1000
            case 2: other = amount
            case 3: other = .one
            default: other = amount + amount / 3 + 1
            }
            _ = try? pool.quoteExactInput(zeroForOne: zeroForOne, amount: other)
            if Self.kept(pool, zeroForOne: zeroForOne) > 1 { fromKept += 1 }
            let q = Self.quoted(pool, zeroForOne, amount)
            checked += 1
            if expect["error"] != nil {
                #expect(throws: AMMError.self, "vector \(i): the contract reverts") { try q.get() }
                continue
            }
            let r = try q.get()
            #expect(r.amountIn.description == expect["amountIn"]?.stringValue, "vector \(i) amountIn")
            #expect(r.amountOut.description == expect["amountOut"]?.stringValue, "vector \(i) amountOut")
            #expect(r.sqrtPriceX96After.description == expect["sqrtPriceX96After"]?.stringValue, "vector \(i) sqrtPrice after")
            #expect(r.liquidityAfter.description == expect["liquidityAfter"]?.stringValue, "vector \(i) liquidity after")
        }
        // Both kinds run: many quotes find crossings kept by the other input, the rest build them.
        #expect(checked > 100 && fromKept > 30 && fromKept < checked, "\(fromKept) of \(checked) from kept crossings")
    }

    /// On every other recorded pool state: inputs wandering up and down as a search's do (±1 wei,
    /// ±0.1%, ±30%), quoted on one pool value, equal the loop's swaps.
    @Test func wanderingQuotesEqualSwaps() throws {
        var rng = SeededGenerator(seed: 78)
        var total = 0
        for (i, v) in try Fixtures.vectors("amm/uniswapV3.json").enumerated() where i % 2 == 0 {
            guard case .uniswapV3(let pool) = try Pool(json: try #require(v["pool"])) else { continue }
            let zeroForOne = v["zeroForOne"] == .bool(true)
            var x = try UInt256(decimal: try #require(v["amount"]?.stringValue))
            for _ in 0..<4 {
                switch rng.next() % 6 {
                case 0: x += 1
                case 1: x = x > 1 ? x - 1 : x
                case 2: x += x / 1000
                case 3: x -= x / 1000
                case 4: x += x / 3
                default: x -= x / 3
                }
                guard !x.isZero else { break }
                Self.agree(Self.quoted(pool, zeroForOne, x), Self.fresh(pool, zeroForOne, x), "vector \(i), input \(x)")
                total += 1
            }
        }
        #expect(total > 1000)
    }

    /// A pool at tick 0 with an initialised tick every `every` ticks within ±`span`, each adding
    /// liquidity as the price moves away from 0, so swaps cross many of them.
    static func ladder(span: Int32, every: Int32, spacing: Int32 = 1) throws -> V3Pool {
        let ticks = stride(from: -span, through: span, by: Int(every)).filter { $0 != 0 }.map {
            V3Pool.Tick(index: $0, liquidityNet: Int256($0 < 0 ? -1_000_000_000_000_000 : 1_000_000_000_000_000))
        }
        return try V3Pool(sqrtPriceX96: try TickMath.sqrtRatio(atTick: 0), tick: 0, liquidity: UInt256(10_000_000_000_000_000_000),
                          feePips: 3000, tickSpacing: spacing, ticks: ticks)
    }

    /// A pool changed in place (a Swap's price, tick and liquidity; a fee change) quotes from its
    /// new state, not from crossings its copies kept; `setTick` does the same for the ticks.
    @Test func changesInPlaceStartNewCrossings() throws {
        let pool = try Self.ladder(span: 400, every: 20)
        let probes: [UInt256] = [1_000_000, 10_000_000_000_000_000, 200_000_000_000_000_000, 3_000_000_000_000_000_000]
        for z in [true, false] {
            for x in probes { _ = try pool.quoteExactInput(zeroForOne: z, amount: x) }
        }
        #expect(Self.kept(pool, zeroForOne: true) > 3 && Self.kept(pool, zeroForOne: false) > 3)

        // A Swap event applied in place, on a copy that shares the crossings.
        var moved = pool
        let swap = try pool.swap(zeroForOne: true, amount: 150_000_000_000_000_000)
        moved.sqrtPriceX96 = swap.sqrtPriceX96After
        moved.tick = swap.tickAfter
        moved.liquidity = swap.liquidityAfter
        var feeChanged = pool
        feeChanged.feePips = 500
        var retick = pool  // a tick's liquidity changed, and a tick added
        try retick.setTick(-60, liquidityNet: Int256(-7_000_000_000_000_000_000))
        try retick.setTick(-70, liquidityNet: Int256(-5_000_000_000_000_000_000))
        var untick = pool  // ticks taken out
        for t: Int32 in [-20, -40, 20, 40] { try untick.setTick(t, liquidityNet: nil) }
        // Alternating between the copies: each quote equals its own state's swap.
        for round in 0..<2 {
            for (name, p) in [("moved", moved), ("fee", feeChanged), ("retick", retick), ("untick", untick), ("pool", pool)] {
                for z in [true, false] {
                    for x in probes { Self.agree(Self.quoted(p, z, x), Self.fresh(p, z, x), "\(name) round \(round) zeroForOne \(z) input \(x)") }
                }
            }
        }
        #expect(try moved.quoteExactInput(zeroForOne: true, amount: probes[2]) != pool.quoteExactInput(zeroForOne: true, amount: probes[2]))
    }

    /// Swaps across more than `maxSteps` steps: the crossings stop there and the quote runs the loop
    /// on from the last one, still exact; below it, every input is answered from them.
    @Test func quotesPastTheKeptStepsStayExact() throws {
        // 300 initialised ticks each way, two ticks apart: a deep swap crosses well over 64.
        let pool = try Self.ladder(span: 600, every: 2)
        var rng = SeededGenerator(seed: 79)
        for z in [true, false] {
            for _ in 0..<60 {
                let x = UInt256(UInt64.random(in: 1...UInt64(9_000_000_000_000_000_000), using: &rng))
                Self.agree(Self.quoted(pool, z, x), Self.fresh(pool, z, x), "zeroForOne \(z) input \(x)")
            }
            #expect(Self.kept(pool, zeroForOne: z) == V3Pool.maxSteps)
            let deep = try pool.swap(zeroForOne: z, amount: 9_000_000_000_000_000_000)
            #expect(deep.ticksCrossed > V3Pool.maxSteps, "the deepest swap crosses \(deep.ticksCrossed) ticks")
        }
        // Into the price limit: the quote fills part of the input, as the swap does.
        let all = try pool.quoteExactInput(zeroForOne: true, amount: UInt256.one << 200)
        let swapped = try pool.swap(zeroForOne: true, amount: UInt256.one << 200)
        #expect(all.amountIn == swapped.amountIn && all.amountIn < UInt256.one << 200 && all.sqrtPriceX96After == TickMath.minSqrtRatio + 1)
    }

    /// Four threads quoting one pool value at once (building its crossings as they go) each get the
    /// loop's answers.
    @Test func concurrentQuotesAgree() throws {
        let pool = try Self.ladder(span: 400, every: 4)
        let inputs = (0..<200).map { UInt256(UInt64($0 + 1) * 43_000_000_000_000_000) }
        let expected = try inputs.map { try pool.swap(zeroForOne: $0.w0 & 1 == 0, amount: $0) }
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for k in inputs.indices.reversed() {
                let x = inputs[(k + t * 50) % inputs.count]
                let e = expected[(k + t * 50) % inputs.count]
                let q = try? pool.quoteExactInput(zeroForOne: x.w0 & 1 == 0, amount: x)
                if q?.amountOut != e.amountOut || q?.sqrtPriceX96After != e.sqrtPriceX96After { mismatches.withLock { $0 += 1 } }
            }
        }
        #expect(mismatches.withLock { $0 } == 0)
    }
}
