import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Testing

/// RLP against pyrlp (Tests/Fixtures/evm/rlp.json, rlp-mutated.json).
@Suite struct RLPVectorTests {
    @Test func encodeAndDecodeEveryVector() throws {
        let vectors = try Fixtures.vectors("evm/rlp.json")
        #expect(vectors.count >= 300)
        for v in vectors {
            let item = try RLPItem(json: v["json"]!)
            let encoded = try v.hexBytes("encoded")
            #expect(RLP.encode(item) == encoded)
            #expect(RLP.encodedLength(item) == encoded.count)
            #expect(try RLP.decode(encoded) == item)
        }
    }

    /// Mutated encodings: strict pyrlp's verdict (valid or not, and what it decodes to) must be ours.
    @Test func agreeWithPyrlpOnMutatedInput() throws {
        let vectors = try Fixtures.vectors("evm/rlp-mutated.json")
        #expect(vectors.count >= 200)
        var accepted = 0
        for v in vectors {
            let data = try v.hexBytes("encoded")
            if v["valid"] == .bool(true) {
                accepted += 1
                #expect(try RLP.decode(data).json == v["json"]!, "\(Hex.encode(data))")
            } else {
                #expect(throws: CodecError.self, "\(Hex.encode(data))") { try RLP.decode(data) }
            }
        }
        #expect(accepted > 0 && accepted < vectors.count)
    }

    @Test func nonCanonicalFormsAreRejected() throws {
        let cases: [(String, CodecError.Code)] = [
            ("0x8105", .nonCanonical),  // single byte < 0x80 wrapped in a string header
            ("0xb80180", .nonCanonical),  // long-form length for a short string
            ("0xf80180", .nonCanonical),  // long-form length for a short list
            ("0xb90001" + String(repeating: "00", count: 1), .nonCanonical),  // length with a leading zero byte
            ("0xc18000", .trailingBytes),  // list payload longer than declared
            ("0x8000", .trailingBytes),
            ("0x82aa", .truncated),
            ("0xc2c1", .truncated),
            ("0x", .truncated),
        ]
        for (hex, code) in cases {
            let data = try Hex.decode(hex)
            #expect("\(hex)") { try RLP.decode(data) } throws: { ($0 as? CodecError)?.code == code }
        }
        #expect { try RLPItem.bytes([0, 1]).uint256Value() } throws: { ($0 as? CodecError)?.code == .nonCanonical }
        #expect(try RLPItem.bytes([]).uint256Value() == .zero)
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() throws {
        // 100,000 nested empty lists, each header 0xf8/0xf9/0xfa…: built back to front.
        var encoded: [UInt8] = [0xc0]
        for _ in 0..<100_000 {
            var next: [UInt8] = []
            RLP.appendHeader(encoded.count, offset: 0xc0, into: &next)
            next += encoded
            encoded = next
            if encoded.count > 1_000_000 { break }
        }
        #expect { try RLP.decode(encoded) } throws: { ($0 as? CodecError)?.code == .tooDeep }
    }
}

@Suite struct JSONValueTests {
    @Test func numbersKeepEveryDigit() throws {
        let v = try JSONValue.parse(#"{"value": 115792089237316195423570985008687907853269984665640564039457584007913129639935, "x": -1.5e3}"#)
        #expect(v["value"] == .number("115792089237316195423570985008687907853269984665640564039457584007913129639935"))
        #expect(v["x"] == .number("-1.5e3"))
    }

    @Test func roundTripsAndEscapes() throws {
        let text = #"{"a":[true,false,null,"\u00e9\ud83e\udd84\n\"\\"],"b":{}}"#
        let v = try JSONValue.parse(text)
        #expect(v["a"]?.arrayValue?[3] == .string("é🦄\n\"\\"))
        #expect(try JSONValue.parse(v.text) == v)
    }

    @Test func malformedInputIsAnError() {
        for bad in ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"", "\"\u{01}\"", "{\"a\":1,\"a\":2}",
                    "tru", "[1] 2", "\"\\ud800\"", String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)] {
            #expect(throws: CodecError.self, "\(bad.prefix(20))") { try JSONValue.parse(bad) }
        }
    }
}
