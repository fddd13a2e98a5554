import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Testing

/// Division by a precomputed reciprocal against Python's quotients and against `UInt256.mulDiv`.
@Suite struct LimbDivisorTests {
    @Test func constantsAreTheComputedReciprocals() {
        #expect(LimbDivisor(1_000_000) == .million)
    }

    @Test func quotientsMatchPython() throws {
        var checked = 0
        for v in try Fixtures.vectors("evm/uint256-division.json") {
            let d = try UInt256(decimal: try v.string("d"))
            guard d.fitsInUInt64 else { continue }
            let a = try UInt256(decimal: try v.string("a"))
            let r = try #require(LimbDivisor(d.w0).mulDiv(a, 1))
            #expect(r.quotient == (try UInt256(decimal: try v.string("div"))), "\(a) / \(d)")
            #expect(r.exact == (try v.string("rem") == "0"), "\(a) % \(d)")
            checked += 1
        }
        #expect(checked > 100)
    }

    @Test func productsMatchMulDiv() {
        var rng = SeededGenerator(seed: 64)
        let tops: [UInt64] = [1, 2, 3, 999_000, 1_000_000, 1 << 63, (1 << 63) + 1, .max - 1, .max]
        for i in 0..<20_000 {
            let d = i % 3 == 0 ? tops[i % tops.count] : rng.next() >> (rng.next() % 64) | 1
            let m = i % 5 == 0 ? tops[(i / 5) % tops.count] : rng.next() >> (rng.next() % 64)
            let bits = Int(rng.next() % 257)
            var a = UInt256(limbs: rng.next(), rng.next(), rng.next(), rng.next())
            a = bits == 256 ? a : a & ((UInt256.one << bits) - 1)
            let got = LimbDivisor(d).mulDiv(a, m)
            let floor = UInt256.mulDiv(a, UInt256(m), UInt256(d))
            #expect(got?.quotient == floor, "\(a)·\(m) / \(d)")
            if let got { #expect(got.exact == (UInt256.mulDivRoundingUp(a, UInt256(m), UInt256(d)) == floor)) }
        }
    }
}
