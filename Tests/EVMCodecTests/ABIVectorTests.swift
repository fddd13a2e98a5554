import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Testing

/// ABI coding against eth-abi (Tests/Fixtures/evm/abi.json, signatures.json).
@Suite struct ABIVectorTests {
    @Test func decodeAndEncodeEveryVector() throws {
        let vectors = try Fixtures.vectors("evm/abi.json")
        #expect(vectors.count >= 500)
        for v in vectors {
            let typesText = try v.string("types")
            let types = try ABIType.parseList(typesText)
            let encoded = try v.hexBytes("encoded")
            let expected = v["values"]!
            // Decode eth-abi's bytes and compare in the JSON shape of `abi-decode --json`.
            let decoded = try ABI.decode(types, from: encoded)
            #expect("[" + decoded.map(\.json).joined(separator: ",") + "]" == expected.text, "\(typesText)")
            // Encode eth-abi's values and compare bytes.
            guard let items = expected.arrayValue else { Issue.record("values is not an array"); continue }
            let values = try zip(items, types).map { try ABIValue(json: $0, as: $1) }
            #expect(try ABI.encode(values, as: types) == encoded, "\(typesText)")
        }
    }

    @Test func selectorsAndTopicsFromHumanReadableSignatures() throws {
        let vectors = try Fixtures.vectors("evm/signatures.json")
        #expect(vectors.count >= 200)
        for v in vectors {
            let text = try v.string("text")
            let f = try FunctionSignature(text)
            #expect(f.canonical == (try v.string("canonical")), "\(text)")
            #expect(Hex.encode(f.selector) == (try v.string("selector")), "\(text)")
            let e = try EventSignature(try v.string("canonical"))
            #expect(Hex.encode(e.topic0.bigEndianBytes) == (try v.string("topic0")))
        }
    }
}

@Suite struct ABIStrictnessTests {
    static let word = [UInt8](repeating: 0, count: 32)

    func wordOf(_ v: UInt64) -> [UInt8] { UInt256(v).bigEndianBytes }

    @Test func dirtyPaddingIsRejected() throws {
        var addr = wordOf(1)
        addr[0] = 1  // high bytes of an address must be zero
        #expect { try ABI.decode([.address], from: addr) } throws: { ($0 as? CodecError)?.code == .dirtyPadding }
        #expect { try ABI.decode([.bool], from: wordOf(2)) } throws: { ($0 as? CodecError)?.code == .dirtyPadding }
        #expect { try ABI.decode([.uint(8)], from: wordOf(256)) } throws: { ($0 as? CodecError)?.code == .dirtyPadding }
        var b4 = Self.word
        b4[0] = 0xaa
        b4[4] = 1  // bytes4 with a non-zero byte past its length
        #expect { try ABI.decode([.fixedBytes(4)], from: b4) } throws: { ($0 as? CodecError)?.code == .dirtyPadding }
        // int8 -1 sign-extended is fine; a positive value with high bits set is not.
        #expect(try ABI.decode([.int(8)], from: [UInt8](repeating: 0xff, count: 32)) == [.int(-1)])
        var badInt = wordOf(0x80)
        badInt[0] = 0
        #expect { try ABI.decode([.int(8)], from: badInt) } throws: { ($0 as? CodecError)?.code == .dirtyPadding }
        // Trailing bytes of a dynamic `bytes` must be zero.
        let good = try ABI.encode([.bytes([1, 2, 3])], as: [.bytes])
        var dirty = good
        dirty[dirty.count - 1] = 9
        #expect { try ABI.decode([.bytes], from: dirty) } throws: { ($0 as? CodecError)?.code == .dirtyPadding }
    }

    @Test func outOfBoundsAndTruncatedDataAreErrorsNotCrashes() throws {
        let good = try ABI.encode([.string("hello"), .array([.uint(1), .uint(2)])], as: [.string, .array(.uint(256))])
        for cut in 0..<good.count {
            #expect(throws: CodecError.self) { try ABI.decode([.string, .array(.uint(256))], from: Array(good.prefix(cut))) }
        }
        var badOffset = good
        badOffset.replaceSubrange(0..<32, with: UInt256.max.bigEndianBytes)
        #expect(throws: CodecError.self) { try ABI.decode([.string, .array(.uint(256))], from: badOffset) }
        var hugeLength = good
        hugeLength.replaceSubrange(64..<96, with: UInt256(1 << 40).bigEndianBytes)
        #expect(throws: CodecError.self) { try ABI.decode([.string, .array(.uint(256))], from: hugeLength) }
        // An array of 2^32 empty tuples claims little data; decoding must not allocate for it.
        var bomb = wordOf(32)
        bomb += wordOf(1 << 32)
        #expect(throws: CodecError.self) { try ABI.decode([.array(.array(.uint(8)))], from: bomb) }
        #expect(throws: CodecError.self) { try ABI.decode([.string], from: try ABI.encode([.bytes([0xff, 0xfe])], as: [.bytes])) }
    }

    @Test func encodingRejectsValuesThatDoNotFitTheirType() {
        #expect(throws: CodecError.self) { try ABI.encode([.uint(256)], as: [.uint(8)]) }
        #expect(throws: CodecError.self) { try ABI.encode([.int(128)], as: [.int(8)]) }
        #expect(throws: CodecError.self) { try ABI.encode([.fixedBytes([1, 2])], as: [.fixedBytes(4)]) }
        #expect(throws: CodecError.self) { try ABI.encode([.array([.uint(1)])], as: [.fixedArray(.uint(256), 2)]) }
        #expect(throws: CodecError.self) { try ABI.encode([.bool(true)], as: [.address]) }
    }

    @Test func signatureSyntaxErrorsAreTyped() {
        for bad in ["swap(uint257)", "swap(uint256", "f(uint0)", "f(bytes33)", "(", "f(uint256)[", "1f(uint256)", "f(int7)",
                    "f(" + String(repeating: "(", count: 100) + "uint" + String(repeating: ")", count: 100) + ")"] {
            #expect(throws: CodecError.self, "\(bad)") { try FunctionSignature(bad) }
        }
    }

    @Test func castStyleOutputsAndReturnsClause() throws {
        let f = try FunctionSignature("balanceOf(address)(uint256)")
        #expect(f.outputs.map(\.type) == [.uint(256)])
        let g = try FunctionSignature("function getReserves() external view returns (uint112 r0, uint112 r1, uint32 ts)")
        #expect(g.canonical == "getReserves()")
        #expect(Hex.encode(g.selector) == "0x0902f1ac")
        let out = try g.decodeOutput(wordOf(5) + wordOf(7) + wordOf(9))
        #expect(out == [.uint(5), .uint(7), .uint(9)])
    }
}

@Suite struct LogDecodingTests {
    @Test func transferLogIndexedAndData() throws {
        let e = try EventSignature("Transfer(address indexed from, address indexed to, uint256 value)")
        #expect(Hex.encode(e.topic0.bigEndianBytes) == "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
        let from = try Address(hex: "0x000000000000000000000000000000000000dEaD")
        let to = try Address(hex: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
        let params = try e.decodeLog(topics: [e.topic0, from.word, to.word], data: UInt256(1000).bigEndianBytes)
        #expect(params.map(\.value) == [.address(from), .address(to), .uint(1000)])
        #expect(params.map(\.name) == ["from", "to", "value"])
        // Wrong topic count, wrong topic0, dirty indexed address: errors.
        #expect(throws: CodecError.self) { try e.decodeLog(topics: [e.topic0, from.word], data: UInt256(1).bigEndianBytes) }
        #expect(throws: CodecError.self) { try e.decodeLog(topics: [.one, from.word, to.word], data: UInt256(1).bigEndianBytes) }
        #expect(throws: CodecError.self) { try e.decodeLog(topics: [e.topic0, .max, to.word], data: UInt256(1).bigEndianBytes) }
    }

    @Test func dynamicIndexedParametersComeBackAsTheirHash() throws {
        let e = try EventSignature("Named(string indexed name, bytes data, uint256 indexed id)")
        let nameHash = Array("arbiter".utf8).withUnsafeBytes { Keccak256.hashWord($0) }
        let data = try ABI.encode([.bytes([1, 2, 3])], as: [.bytes])
        let params = try e.decodeLog(topics: [e.topic0, nameHash, UInt256(7)], data: data)
        #expect(params[0].isHash && params[0].value == .fixedBytes(nameHash.bigEndianBytes))
        #expect(!params[1].isHash && params[1].value == .bytes([1, 2, 3]))
        #expect(params[2].value == .uint(7))
    }
}
