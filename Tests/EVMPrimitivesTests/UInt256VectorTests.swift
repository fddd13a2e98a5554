import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Testing

/// UInt256 and Int256 against Python's arbitrary-precision integers (Tests/Fixtures/evm).
@Suite struct UInt256VectorTests {
    static func u(_ v: JSONValue, _ key: String) throws -> UInt256 { try UInt256(decimal: try v.string(key)) }
    static func i(_ v: JSONValue, _ key: String) throws -> Int256 { try Int256(decimal: try v.string(key)) }

    @Test func arithmeticMatchesPython() throws {
        let vectors = try Fixtures.vectors("evm/uint256.json")
        #expect(vectors.count >= 300)
        for v in vectors {
            let a = try Self.u(v, "a"), b = try Self.u(v, "b"), c = try Self.u(v, "c")
            let shift = Int(v["shift"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? -1)
            #expect(try UInt256(hex: try v.string("aHex")) == a)
            #expect(a.description == (try v.string("a")))

            let add = a.addingReportingOverflow(b)
            #expect(add.partialValue == (try Self.u(v, "add")))
            #expect(add.overflow == (v["addOverflow"] == .bool(true)))
            #expect((a &+ b) == add.partialValue)
            #expect((a.checkedAdd(b) == nil) == add.overflow)

            let sub = a.subtractingReportingOverflow(b)
            #expect(sub.partialValue == (try Self.u(v, "sub")))
            #expect(sub.overflow == (v["subOverflow"] == .bool(true)))
            #expect((a.checkedSub(b) == nil) == sub.overflow)

            let mul = a.multipliedReportingOverflow(by: b)
            #expect(mul.partialValue == (try Self.u(v, "mul")))
            #expect(mul.overflow == (v["mulOverflow"] == .bool(true)))
            #expect(a.multipliedFullWidth(by: b).high == (try Self.u(v, "mulHigh")))
            #expect((a &* b) == mul.partialValue)

            if v["div"]?.isNull == false {
                #expect(a / b == (try Self.u(v, "div")))
                #expect(a % b == (try Self.u(v, "rem")))
            } else {
                #expect(a.checkedDiv(b) == nil)
            }
            #expect(a.shiftedLeft(by: shift) == (try Self.u(v, "shl")))
            #expect(a.shiftedRight(by: shift) == (try Self.u(v, "shr")))
            #expect(a.squareRoot() == (try Self.u(v, "sqrt")))
            #expect(v["leadingZeros"] == .number(String(a.leadingZeroBitCount)))
            #expect(v["trailingZeros"] == .number(String(a.trailingZeroBitCount)))

            if let expected = v["mulDiv"] {
                #expect(UInt256.mulDiv(a, b, c) == (expected.isNull ? nil : try Self.u(v, "mulDiv")))
                let up = v["mulDivUp"]!
                #expect(UInt256.mulDivRoundingUp(a, b, c) == (up.isNull ? nil : try Self.u(v, "mulDivUp")))
            } else {
                #expect(UInt256.mulDiv(a, b, c) == nil)  // c == 0
            }
        }
    }

    @Test func signedArithmeticMatchesPython() throws {
        let vectors = try Fixtures.vectors("evm/int256.json")
        #expect(vectors.count >= 200)
        for v in vectors {
            let a = try Self.i(v, "a"), b = try Self.i(v, "b")
            #expect(a.bitPattern == (try UInt256(hex: try v.string("bitPattern"))))
            #expect(a.description == (try v.string("a")))
            let add = a.addingReportingOverflow(b)
            #expect(add.partialValue == (try Self.i(v, "add")) && add.overflow == (v["addOverflow"] == .bool(true)))
            let sub = a.subtractingReportingOverflow(b)
            #expect(sub.partialValue == (try Self.i(v, "sub")) && sub.overflow == (v["subOverflow"] == .bool(true)))
            let mul = a.multipliedReportingOverflow(by: b)
            #expect(mul.partialValue == (try Self.i(v, "mul")) && mul.overflow == (v["mulOverflow"] == .bool(true)))
            if v["div"]?.isNull == false {
                #expect(a / b == (try Self.i(v, "div")))
                #expect(a % b == (try Self.i(v, "rem")))
            } else {
                #expect(a.checkedDiv(b) == nil)
            }
        }
    }
}

@Suite struct UInt256Tests {
    /// Divisors of one to four limbs, quotient digits of b − 1, the add-back step, and 512-bit
    /// dividends: every branch of the division, against Python.
    @Test func divisionMatchesPython() throws {
        let vectors = try Fixtures.vectors("evm/uint256-division.json")
        #expect(vectors.count >= 500)
        for v in vectors {
            let a = try UInt256VectorTests.u(v, "a"), d = try UInt256VectorTests.u(v, "d")
            let (q, r) = a.quotientAndRemainder(dividingBy: d)
            #expect(q == (try UInt256VectorTests.u(v, "div")), "\(a) / \(d)")
            #expect(r == (try UInt256VectorTests.u(v, "rem")), "\(a) % \(d)")
            let high = try UInt256VectorTests.u(v, "wideHigh"), low = try UInt256VectorTests.u(v, "wideLow")
            let (wq, wr) = d.dividingFullWidth((high, low))
            #expect(wq == (try UInt256VectorTests.u(v, "wideDiv")), "(\(high), \(low)) / \(d)")
            #expect(wr == (try UInt256VectorTests.u(v, "wideRem")), "(\(high), \(low)) % \(d)")
        }
    }

    @Test func uniswapFullMathEdgeCases() {
        let max = UInt256.max
        // FullMath.mulDiv(max, max, max) == max: the 512-bit intermediate must not overflow.
        #expect(UInt256.mulDiv(max, max, max) == max)
        #expect(UInt256.mulDiv(max, max, max - 1) == nil)
        #expect(UInt256.mulDivRoundingUp(max, 1, 1) == max)
        #expect(UInt256.mulDivRoundingUp(max, 2, 2) == max)
        #expect(UInt256.mulDivRoundingUp(max - 1, max, max - 1) == max)
        // Q128 * 50% → Q127; ceil of 1/3 of Q128.
        let q128 = UInt256.one << 128
        #expect(UInt256.mulDiv(q128, 50, 100) == UInt256.one << 127)
        #expect(UInt256.mulDivRoundingUp(q128, 1, 3) == UInt256.mulDiv(q128, 1, 3)! + 1)
        #expect(UInt256.mulDiv(1, 1, 0) == nil)
    }

    @Test func textRoundTripsAndRejectsBadInput() throws {
        #expect(try UInt256(parsing: "0x0") == .zero)
        #expect(try UInt256(parsing: "115792089237316195423570985008687907853269984665640564039457584007913129639935") == .max)
        #expect(throws: PrimitiveError.self) { try UInt256(parsing: "115792089237316195423570985008687907853269984665640564039457584007913129639936") }
        #expect(throws: PrimitiveError.self) { try UInt256(hex: "0x1" + String(repeating: "0", count: 64)) }
        #expect(throws: PrimitiveError.self) { try UInt256(decimal: "12a") }
        #expect(throws: PrimitiveError.self) { try UInt256(decimal: "") }
        #expect(throws: PrimitiveError.self) { try UInt256(hex: "0x") }
        #expect(UInt256(1_000_000).hexQuantity == "0xf4240")
        #expect(UInt256.zero.hexQuantity == "0x0")
        #expect(try Int256(parsing: "-57896044618658097711785492504343953926634992332820282019728792003956564819968") == .min)
        #expect(throws: PrimitiveError.self) { try Int256(parsing: "57896044618658097711785492504343953926634992332820282019728792003956564819968") }
    }

    @Test func doubleConversionIsCorrectlyRounded() {
        #expect(UInt256.max.doubleValue == 1.157920892373162e77)
        #expect(UInt256((1 << 53) + 1).doubleValue == Double(1 << 53))
        #expect(UInt256(UInt64.max).doubleValue == Double(UInt64.max))
        #expect(Int256(-5).doubleValue == -5)
        // Seeded values of every length, halfway cases included (a 54-bit pattern followed by
        // zeros or by a lone low bit), against the standard library's correctly rounded decimal
        // parse of the same number.
        var rng = SeededGenerator(seed: 0xD0B1E)
        for i in 0..<4_000 {
            let bits = 1 + i % 256
            var v = UInt256(limbs: rng.next(), rng.next(), rng.next(), rng.next()) >> (256 - bits)
            if i % 3 == 0, bits > 60 { v = (v >> (bits - 54)) << (bits - 54) | (i % 2 == 0 ? .zero : .one) }
            #expect(v.doubleValue == Double(v.description)!, "\(v)")
        }
    }
}
