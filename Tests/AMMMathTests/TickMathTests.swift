import AMMMath
import ArbiterTestKit
import EVMPrimitives
import Testing

@Suite struct TickMathTests {
    /// The published bounds and the unit price.
    @Test func boundsAndUnitPrice() throws {
        #expect(try TickMath.sqrtRatio(atTick: TickMath.minTick) == TickMath.minSqrtRatio)
        #expect(try TickMath.sqrtRatio(atTick: TickMath.maxTick) == TickMath.maxSqrtRatio)
        #expect(try TickMath.sqrtRatio(atTick: 0) == UInt256.one << 96)
        #expect(throws: AMMError.self) { try TickMath.sqrtRatio(atTick: TickMath.maxTick + 1) }
        #expect(try TickMath.tick(atSqrtRatio: TickMath.minSqrtRatio) == TickMath.minTick)
        #expect(try TickMath.tick(atSqrtRatio: TickMath.maxSqrtRatio - 1) == TickMath.maxTick - 1)
        #expect(throws: AMMError.self) { try TickMath.tick(atSqrtRatio: TickMath.maxSqrtRatio) }
    }

    /// tick(atSqrtRatio:) is the greatest tick at or below: exact at every tick's ratio and one
    /// below it, over a seeded sample across the whole range.
    @Test func tickAtRatioInvertsRatioAtTick() throws {
        var rng = SeededGenerator(seed: 6)
        for _ in 0..<3000 {
            let t = Int32(truncatingIfNeeded: Int64(rng.next() % 1_774_544)) - 887_272
            let r = try TickMath.sqrtRatio(atTick: t)
            #expect(try TickMath.tick(atSqrtRatio: r) == t)
            if t > TickMath.minTick { #expect(try TickMath.tick(atSqrtRatio: r - 1) == t - 1) }
        }
    }

    /// The step vector of protocol-facts §2 (from an independent port).
    @Test func swapStepVector() throws {
        let step = try #require(SwapMath.computeSwapStep(
            current: UInt256.one << 96, target: TickMath.minSqrtRatio + 1, liquidity: UInt256(1_000_000_000_000_000_000),
            remaining: Int256(1_000_000_000_000_000), feePips: 3000))
        #expect(step.sqrtPriceNext == (try UInt256(decimal: "79149250711305166342700278159")))
        #expect(step.amountIn == UInt256(997_000_000_000_000))
        #expect(step.amountOut == UInt256(996_006_981_039_903))
        #expect(step.feeAmount == UInt256(3_000_000_000_000))
    }
}
