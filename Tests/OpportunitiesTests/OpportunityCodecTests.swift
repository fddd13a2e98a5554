import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Opportunities
import Testing

/// The binary and JSON forms over seeded random opportunities that reach every field's extremes,
/// and the binary decoder over truncated, extended and mutated input: it refuses or decodes a value
/// whose own encoding is exactly that input (one encoding per value), and never crashes.
struct OpportunityCodecTests {
    static func uint256(_ g: inout SeededGenerator) -> UInt256 {
        switch Int.random(in: 0..<5, using: &g) {
        case 0: return .zero
        case 1: return UInt256(UInt64.random(in: 0...UInt64.max, using: &g))
        case 2: return UInt256.max
        default: return UInt256(limbs: g.next(), g.next(), g.next(), g.next()) >> Int.random(in: 0...255, using: &g)
        }
    }

    static func int256(_ g: inout SeededGenerator) -> Int256 {
        switch Int.random(in: 0..<4, using: &g) {
        case 0: return Int256(bitPattern: UInt256.one << 255)  // the minimum
        case 1: return Int256(bitPattern: (UInt256.one << 255) - 1)  // the maximum
        default: return Int256(bitPattern: uint256(&g))
        }
    }

    static func u64(_ g: inout SeededGenerator) -> UInt64 {
        [0, 1, 127, 128, UInt64.max, g.next() >> UInt64.random(in: 0...63, using: &g)][Int.random(in: 0..<6, using: &g)]
    }

    static func address(_ g: inout SeededGenerator) -> Address { try! Address(bytes: g.bytes(20)) }

    static func random(_ g: inout SeededGenerator, as chosen: Opportunity.Kind? = nil) -> Opportunity {
        let hops = (0..<Int.random(in: 1...Opportunity.maxHops, using: &g)).map { _ in
            Opportunity.Hop(chainID: u64(&g), pool: address(&g), tokenIn: address(&g), tokenOut: address(&g),
                            venue: UInt32.random(in: 0...UInt32.max, using: &g), amountOut: uint256(&g))
        }
        let micro: [Int64] = [0, -1, .min, .max, Int64(bitPattern: g.next())]
        let kind = chosen ?? Opportunity.Kind.allCases.randomElement(using: &g)!
        var o = Opportunity(
            id: g.bytes(16), kind: kind,
            chains: (0..<Int.random(in: 1...Opportunity.maxChains, using: &g)).map { _ in u64(&g) }, path: hops, amountIn: uint256(&g),
            grossProfit: int256(&g), netProfit: int256(&g), grossProfitMicroUSD: micro.randomElement(using: &g)!,
            netProfitMicroUSD: micro.randomElement(using: &g)!, gasUnits: u64(&g), gasCostWei: uint256(&g),
            flashSource: Opportunity.FlashSource.allCases.randomElement(using: &g)!, blockNumber: u64(&g),
            timestamps: .init(eventReceived: u64(&g), stateApplied: u64(&g), detected: u64(&g), published: u64(&g)),
            expiresAt: u64(&g), confidence: [0, 1, 0.5, Double.random(in: 0...1, using: &g)].randomElement(using: &g)!)
        if kind == .statistical {
            // Extremes too: ±0, the largest and smallest finite values, and ordinary statistics.
            func x() -> Double {
                [0, -0.0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, Double.random(in: -10...10, using: &g)].randomElement(using: &g)!
            }
            o.statistical = .init(pair: UInt32.random(in: 0...UInt32.max, using: &g), tokenA: address(&g), tokenB: address(&g), longA: Bool.random(using: &g),
                                  spread: x(), mean: x(), deviation: x(), z: x(), hedgeRatio: x(), correlation: x(), pValue: x(), hurst: x())
        }
        if kind == .cexDexSpread {
            let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            let symbol = String((0..<Int.random(in: 1...20, using: &g)).map { _ in letters.randomElement(using: &g)! })
            var num = uint256(&g), den = uint256(&g)
            if num.isZero { num = 1 }
            if den.isZero { den = 1 }
            o.cexDex = .init(symbol: symbol, base: address(&g), quote: address(&g), fairNumerator: num, fairDenominator: den,
                             bid: [0, 1e-9, 3456.78, .greatestFiniteMagnitude].randomElement(using: &g)!, ask: Double.random(in: 0...1e6, using: &g),
                             bookAgeMillis: u64(&g), hedgeSellsBase: Bool.random(using: &g), hedgeQuantity: uint256(&g),
                             depth: Double.random(in: 0...1e9, using: &g))
        }
        if kind == .backrun { o.backrun = backrun(&g) }
        if kind == .crossChain && Bool.random(using: &g) {
            // A side on Solana: one leg beside the EVM hop(s).
            o.solana = .init(legs: [.init(pool: g.bytes(32), mintIn: g.bytes(32), mintOut: g.bytes(32), amountOut: u64(&g))])
        }
        if kind == .solana {
            o.solana = solana(&g)
            o.path = []
            o.amountIn = UInt256(u64(&g))
        }
        return o
    }

    /// A chained Solana route of 1–4 legs (its input mint comes back at the end, or not).
    static func solana(_ g: inout SeededGenerator) -> Opportunity.Solana {
        let count = Int.random(in: 1...Opportunity.Solana.maxLegs, using: &g)
        var mints = (0...count).map { _ in g.bytes(32) }
        if Bool.random(using: &g) && count > 1 { mints[count] = mints[0] }
        return .init(legs: (0..<count).map { i in .init(pool: g.bytes(32), mintIn: mints[i], mintOut: mints[i + 1], amountOut: u64(&g)) })
    }

    @Test func theSolanaRouteIsStrict() throws {
        var g = SeededGenerator(seed: 29)
        var o = Self.random(&g, as: .solana)
        (o.kind, o.statistical, o.cexDex, o.backrun, o.path, o.amountIn) = (.solana, nil, nil, nil, [], UInt256(5_000_000_000))
        let sol = Array(repeating: UInt8(6), count: 32), usdc = Array(repeating: UInt8(7), count: 32)
        o.solana = .init(legs: [.init(pool: g.bytes(32), mintIn: sol, mintOut: usdc, amountOut: 750_000_000),
                                .init(pool: g.bytes(32), mintIn: usdc, mintOut: sol, amountOut: 5_010_000_000)])
        let good = o.encoded()
        #expect(try Opportunity(encoded: good) == o && (try Opportunity(json: o.json)) == o)
        // The tail: 2 legs of pool, mints (96 bytes) and the output varint (5 bytes for 5,010,000,000).
        #expect(good[good.count - 2 * 96 - 5 - 5 - 1] == 2)
        // A broken chain (the second leg's input is not the first's output) is refused both ways.
        var broken = good
        broken[good.count - 5 - 64] ^= 1
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: broken) }
        var wrong = o
        wrong.solana!.legs[1].mintIn = sol
        guard case .object(let fields) = wrong.json else { Issue.record("not an object"); return }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(fields)) }
        // A path on a Solana opportunity, no route, a route on another kind, an input past 64 bits.
        guard case .object(let f) = o.json else { return }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(f.filter { $0.key != "solana" })) }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(f.map { $0.key == "kind" ? ($0.key, .string("crossDex")) : $0 })) }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(f.map { $0.key == "amountIn" ? ($0.key, .string("18446744073709551616")) : $0 })) }
        var other = good
        other[17] = Opportunity.Kind.crossDex.rawValue  // zero hops on another kind
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: other) }
        #expect(Opportunity.makeID(slot: 9, legs: o.solana!.legs, amountIn: 1) != Opportunity.makeID(slot: 10, legs: o.solana!.legs, amountIn: 1))
    }

    static func backrun(_ g: inout SeededGenerator) -> Opportunity.Backrun {
        let effects = (0..<Int.random(in: 0...3, using: &g)).map { _ in
            Opportunity.Backrun.Effect(pool: address(&g), topics: (0..<Int.random(in: 1...4, using: &g)).map { _ in uint256(&g) },
                                       data: g.bytes(Int.random(in: 0...96, using: &g)))
        }
        return .init(targetRaw: g.bytes(Int.random(in: 1...300, using: &g)), sender: address(&g), volumeMicroUSD: u64(&g), effects: effects)
    }

    @Test func theBackrunTargetIsStrict() throws {
        var g = SeededGenerator(seed: 28)
        var o = Self.random(&g, as: .backrun)
        (o.kind, o.statistical, o.cexDex) = (.backrun, nil, nil)
        o.backrun = .init(targetRaw: [0x02, 0xf8, 0x01], sender: Self.address(&g), volumeMicroUSD: 123_000_000,
                          effects: [.init(pool: Self.address(&g), topics: [1, 2], data: [9, 9])])
        let good = o.encoded()
        #expect(try Opportunity(encoded: good) == o)
        #expect(try Opportunity(json: o.json) == o)
        #expect(o.backrun!.targetHash == Keccak256.hash([0x02, 0xf8, 0x01]))
        // The tail: effect count 1, pool (20), 2 topics (1 + 64), data length 2 and the data.
        #expect(Array(good.suffix(2)) == [9, 9] && good[good.count - 3] == 2 && good[good.count - 3 - 64 - 1] == 2)
        var noTopics = good
        noTopics[good.count - 3 - 64 - 1] = 0
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: noTopics) }
        var truncated = good
        truncated.removeLast()
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: truncated) }
        var other = good
        other[17] = Opportunity.Kind.crossDex.rawValue  // the section on another kind: trailing bytes
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: other) }
        // JSON: a hash that is not the bytes', no section on a backrun, a section on another kind.
        guard case .object(let fields) = o.json, case .object(var section)? = fields.first(where: { $0.key == "backrun" })?.value else {
            Issue.record("no backrun section")
            return
        }
        section = section.map { $0.key == "targetHash" ? ($0.key, .string("0x" + String(repeating: "00", count: 32))) : $0 }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(fields.map { $0.key == "backrun" ? ($0.key, .object(section)) : $0 })) }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(fields.filter { $0.key != "backrun" })) }
        #expect(throws: OpportunityDecodeError.self) {
            try Opportunity(json: .object(fields.map { $0.key == "kind" ? ($0.key, .string("crossDex")) : $0 }))
        }
    }

    @Test func bothFormsRoundTrip() throws {
        var g = SeededGenerator(seed: 20261201)
        for _ in 0..<2_000 {
            let o = Self.random(&g)
            #expect(try Opportunity(encoded: o.encoded()) == o)
            #expect(try Opportunity(json: o.json) == o)
            #expect(try Opportunity(json: try JSONValue.parse(Array(o.json.text.utf8))) == o)
        }
    }

    @Test func truncatedExtendedAndMutatedInputIsRefusedOrCanonical() throws {
        var g = SeededGenerator(seed: 7)
        var refused = 0, accepted = 0
        for round in 0..<300 {
            let bytes = Self.random(&g).encoded()
            if round < 60 {
                for n in 0..<bytes.count { #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: Array(bytes.prefix(n))) } }
            }
            #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: bytes + [0]) }
            for _ in 0..<20 {
                let mutated = g.mutate(bytes)
                if let o = try? Opportunity(encoded: mutated) {
                    #expect(o.encoded() == mutated, "a value with two encodings")
                    accepted += 1
                } else {
                    refused += 1
                }
            }
        }
        #expect(refused > 1_000 && accepted > 100)
    }

    @Test func nonCanonicalAndOutOfRangeEncodingsAreRefused() throws {
        var g = SeededGenerator(seed: 11)
        var o = Self.random(&g, as: .crossDex)
        (o.kind, o.statistical, o.cexDex, o.backrun, o.solana) = (.crossDex, nil, nil, nil, nil)  // the byte offsets below are of a tail without a signal
        o.chains = [1]
        o.path = [Opportunity.Hop(chainID: 1, pool: Self.address(&g), tokenIn: Self.address(&g), tokenOut: Self.address(&g), venue: 0, amountOut: 5)]
        o.path[0].chainID = 1
        let good = o.encoded()
        #expect(try Opportunity(encoded: good) == o)
        // Bytes: version, 16 id bytes, kind, chain count, chain 1 (one byte), hop count, hop chain.
        var b = good
        #expect(good[0] == Opportunity.version)
        b[0] = Opportunity.version &+ 1
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: b) }  // another version
        b[0] = Opportunity.version &- 1
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: b) }
        b = good
        b.replaceSubrange(19...19, with: [0x81, 0x00])  // chain id 1 as a two-byte varint
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: b) }
        b = good
        b[17] = 0
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: b) }  // no kind 0
        b = good
        b[18] = 0
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: b) }  // no chains

        // 256-bit values: a leading zero byte, and a negative zero, are not canonical. With every
        // field after the path zero, the tail is 22 bytes: amount in, gross, net (a header byte
        // each), two zigzags, gas units, gas cost, flash source, block, five stamps (a byte each),
        // and the 8-byte confidence.
        var z = o
        (z.amountIn, z.grossProfit, z.netProfit, z.grossProfitMicroUSD, z.netProfitMicroUSD) = (0, .zero, .zero, 0, 0)
        (z.gasUnits, z.gasCostWei, z.flashSource, z.blockNumber, z.expiresAt, z.confidence) = (0, 0, .none, 0, 0, 0)
        z.timestamps = .init()
        let enc = z.encoded()
        let gross = enc.count - 21
        #expect(enc[(enc.count - 22)...].prefix(14).allSatisfy { $0 == 0 })
        #expect(try Opportunity(encoded: enc) == z)
        var negZero = enc
        negZero[gross] = 0x80  // -0
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: negZero) }
        var padded = enc
        padded.replaceSubrange(gross...gross, with: [0x01, 0x00])  // 0 as one zero byte
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: padded) }
        var one = enc
        one.replaceSubrange(gross...gross, with: [0x81, 0x01])  // -1: fine
        #expect(try Opportunity(encoded: one).grossProfit == Int256(-1))
        var tooLong = enc
        tooLong.replaceSubrange(gross...gross, with: [0x21] + [UInt8](repeating: 1, count: 33))  // 33 bytes
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: tooLong) }
        var nanBytes = enc
        nanBytes.replaceSubrange((nanBytes.count - 8)..., with: withUnsafeBytes(of: Double.nan.bitPattern.bigEndian, Array.init))
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: nanBytes) }
    }

    /// A statistical opportunity's signal section: required on that kind, refused on any other,
    /// with a side of 0 or 1 and finite numbers only; in JSON the same.
    @Test func theStatisticalSignalIsStrict() throws {
        var g = SeededGenerator(seed: 19)
        var o = Self.random(&g, as: .statistical)
        o.statistical = .init(pair: 3, tokenA: Self.address(&g), tokenB: Self.address(&g), longA: true, spread: -0.031, mean: 0.002, deviation: 0.011,
                              z: -3.0, hedgeRatio: 0.98, correlation: 0.91, pValue: 0.004, hurst: 0.31)
        let good = o.encoded()
        #expect(try Opportunity(encoded: good) == o)
        #expect(try Opportunity(json: o.json) == o)
        let signal = good.count - 8 * 8 - 1 - 40 - 1  // pair 3 is one byte
        #expect(good[signal] == 3 && good[signal + 41] == 1)
        var side = good
        side[signal + 41] = 2
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: side) }
        for k in 0..<8 {
            var nan = good
            nan.replaceSubrange((signal + 42 + 8 * k)..<(signal + 50 + 8 * k), with: withUnsafeBytes(of: Double.infinity.bitPattern.bigEndian, Array.init))
            #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: nan) }
        }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: Array(good[..<signal])) }  // no signal
        var other = good
        other[17] = Opportunity.Kind.crossDex.rawValue  // the signal on another kind: trailing bytes
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: other) }
        guard case .object(let fields) = o.json else { Issue.record("not an object"); return }
        let relabeled = fields.map { $0.key == "kind" ? (key: "kind", value: JSONValue.string("triangular")) : $0 }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(relabeled)) }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(fields.filter { $0.key != "statistical" })) }
    }

    /// A CEX–DEX opportunity's reference: required on that kind, refused on any other; a zero
    /// fair value, a symbol outside [A-Z0-9]{1,20}, a side other than 0/1 or a non-finite price is refused.
    @Test func theCexReferenceIsStrict() throws {
        var g = SeededGenerator(seed: 32)
        var o = Self.random(&g, as: .cexDexSpread)
        (o.kind, o.statistical) = (.cexDexSpread, nil)
        o.cexDex = .init(symbol: "ETHUSDT", base: Self.address(&g), quote: Self.address(&g), fairNumerator: 3_456_780_000, fairDenominator: 1_000_000_000_000_000_000,
                         bid: 3456.77, ask: 3456.79, bookAgeMillis: 120, hedgeSellsBase: true, hedgeQuantity: 5_000_000_000_000_000, depth: 12.5)
        let good = o.encoded()
        #expect(try Opportunity(encoded: good) == o)
        #expect(try Opportunity(json: o.json) == o)
        // The section's tail: side byte, hedge quantity (header 0x07 + 7 bytes), depth (8 bytes).
        let side = good.count - 8 - 8 - 1
        #expect(good[side] == 1)
        var bad = good
        bad[side] = 2
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: bad) }
        var inf = good
        inf.replaceSubrange((good.count - 8)..., with: withUnsafeBytes(of: Double.infinity.bitPattern.bigEndian, Array.init))
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: inf) }
        // After the symbol: base, quote (20 each), 3456780000 (1 + 4), 1e18 (1 + 8), bid, ask (8 each),
        // the age (1), the side (1), the hedge quantity (1 + 7), the depth (8): 88 bytes.
        let symbolAt = good.count - 88 - 7 - 1
        #expect(good[symbolAt] == 7 && Array(good[(symbolAt + 1)...(symbolAt + 7)]) == Array("ETHUSDT".utf8))
        var lower = good
        lower[symbolAt + 1] = UInt8(ascii: "e")
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: lower) }
        var other = good
        other[17] = Opportunity.Kind.crossDex.rawValue
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(encoded: other) }
        var zero = o
        zero.cexDex?.fairDenominator = .zero
        guard case .object(let fields) = zero.json else { Issue.record("not an object"); return }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(fields)) }
        guard case .object(let goodFields) = o.json else { return }
        #expect(throws: OpportunityDecodeError.self) { try Opportunity(json: .object(goodFields.filter { $0.key != "cexDex" })) }
        // Valued at the fair price: 0.005 base (18 decimals) is 17.2839 quote (6 decimals), floored.
        let c = o.cexDex!
        #expect(c.value(of: 5_000_000_000_000_000, token: c.base) == 17_283_900)
        #expect(c.value(of: 17_283_900, token: c.quote) == 5_000_000_000_000_000)
        #expect(c.profit(paid: 17_000_000, got: 5_000_000_000_000_000, gotToken: c.base) == Int256(283_900))
    }

    @Test func idsAreDeterministic() {
        let hop = Opportunity.Hop(chainID: 1, pool: Address(truncating: UInt256(7)), tokenIn: Address(truncating: UInt256(8)),
                                  tokenOut: Address(truncating: UInt256(9)), venue: 0, amountOut: 10)
        let a = Opportunity.makeID(kind: .crossDex, blockNumber: 5, path: [hop], amountIn: 100)
        #expect(a.count == 16 && a == Opportunity.makeID(kind: .crossDex, blockNumber: 5, path: [hop], amountIn: 100))
        #expect(a != Opportunity.makeID(kind: .crossDex, blockNumber: 5, path: [hop], amountIn: 101))
        #expect(a != Opportunity.makeID(kind: .crossDex, blockNumber: 6, path: [hop], amountIn: 100))
        #expect(a != Opportunity.makeID(kind: .triangular, blockNumber: 5, path: [hop], amountIn: 100))
    }
}
