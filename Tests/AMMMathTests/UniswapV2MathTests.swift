import AMMMath
import ArbiterTestKit
import EVMPrimitives
import Testing

/// `getAmountOut`'s 128-bit fast path (limb products, one 256-by-128 division) against the formula
/// in plain 256-bit arithmetic, on seeded values of every magnitude up to and past the fast path's
/// limits (uint112 balances, a·γ or the denominator past 128 bits), and every kind of fee.
@Suite struct UniswapV2MathTests {
    /// The fast path's contract: the formula's answer where every value is in its range, nil elsewhere.
    static func expected(_ a: UInt256, _ rIn: UInt256, _ rOut: UInt256, _ fee: UInt32) -> UInt256? {
        let limit = UInt256.one << 112, wide = UInt256.one << 128
        guard !a.isZero, !rIn.isZero, !rOut.isZero, a + rIn < limit, rOut < limit, fee < 1_000_000 else { return nil }
        let inWithFee = a * UInt256(UInt64(1_000_000 - fee))
        let denominator = rIn * 1_000_000 + inWithFee
        guard inWithFee < wide, denominator < wide else { return nil }
        let out = inWithFee * rOut / denominator
        return out.isZero ? nil : out
    }

    static func fast(_ a: UInt256, _ rIn: UInt256, _ rOut: UInt256, _ fee: UInt32) -> UInt256? {
        UniswapV2Math.amountOut128(amountIn: a, reserveIn: rIn, reserveOut: rOut, feePips: fee)
            .map { UInt256(limbs: UInt64(truncatingIfNeeded: $0), UInt64(truncatingIfNeeded: $0 >> 64), 0, 0) }
    }

    static func value(_ g: inout SeededGenerator) -> UInt256 {
        // Magnitudes spread over 0…2^116, a third of them within 2^104…2^113 where the limits are.
        let bits = g.next() % 3 == 0 ? Int(104 + g.next() % 10) : Int(g.next() % 117)
        let raw = UInt256(limbs: g.next(), g.next(), 0, 0)
        return bits == 0 ? .zero : raw >> (128 - bits) | (UInt256.one << (bits - 1))
    }

    @Test func fastPathEqualsTheFormulaIn256Bits() {
        var g = SeededGenerator(seed: 27)
        var fast = 0, refused = 0
        for i in 0..<200_000 {
            let a = Self.value(&g), rIn = Self.value(&g), rOut = Self.value(&g)
            let fee: UInt32 = [0, 1, 3000, 2500, 999_999, UInt32(g.next() % 1_000_000)][i % 6]
            let want = Self.expected(a, rIn, rOut, fee)
            #expect(Self.fast(a, rIn, rOut, fee) == want, "a \(a) rIn \(rIn) rOut \(rOut) fee \(fee)")
            if want == nil { refused += 1 } else { fast += 1 }
        }
        // Both outcomes are exercised in bulk: the fast answer and the hand-over to the general path.
        #expect(fast > 50_000 && refused > 50_000, "fast \(fast), refused \(refused)")
    }

    @Test func theLimitsOfTheFastPath() {
        let fee: UInt32 = 3000
        let g = UInt256(UInt64(1_000_000 - fee))
        // The largest input whose a·γ fits 128 bits: 2,000 below it the denominator (rIn·1e6 =
        // 1e9 more) still fits and the fast path answers; one above it, it hands over.
        let largest = ((UInt256.one << 128) - 1) / g
        let rIn = UInt256(1_000), rOut = UInt256(1) << 100
        #expect(Self.fast(largest - 2_000, rIn, rOut, fee) != nil)
        #expect(Self.fast(largest - 2_000, rIn, rOut, fee) == Self.expected(largest - 2_000, rIn, rOut, fee))
        #expect(Self.fast(largest + 1, rIn, rOut, fee) == nil)
    }

    /// Past the fast path (reserves near uint112, where rIn·1e6 passes 128 bits), the pair's own
    /// limit still holds: a balance of 2^112 − 1 after the trade is quoted, 2^112 is refused.
    @Test func theBalanceLimitPastTheFastPath() throws {
        let top = (UInt256.one << 112) - 1
        let pair = try V2Pool(reserve0: top - 1_000_000, reserve1: top, feePips: 3000)
        let inWithFee = UInt256(1_000_000) * 997_000
        #expect(try pair.amountOut(amountIn: 1_000_000, zeroForOne: true) == inWithFee * top / ((top - 1_000_000) * 1_000_000 + inWithFee))
        #expect(throws: AMMError.self) { try pair.amountOut(amountIn: 1_000_001, zeroForOne: true) }
    }
}
