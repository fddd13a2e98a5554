import EVMPrimitives

/// Solidity ABI encoding and strict decoding.
///
/// The decoder rejects out-of-bounds offsets and lengths, truncated data, dirty padding
/// (high bits in a narrow integer, non-zero bytes around an address or after `bytesN`/`bytes`
/// data, bools other than 0/1) and invalid UTF-8 in strings. Extra bytes after the encoded
/// values are allowed, as the EVM allows them in calldata and return data.
public enum ABI {
    /// Encodes `values` as the tuple `types` (the form of function arguments).
    public static func encode(_ values: [ABIValue], as types: [ABIType]) throws(CodecError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(types.reduce(0) { $0 + $1.headSize } + 64)
        try encodeTuple(types, values, into: &out)
        return out
    }

    /// Decodes the tuple `types` from `data`.
    public static func decode(_ types: [ABIType], from data: [UInt8]) throws(CodecError) -> [ABIValue] {
        try data.withUnsafeBufferPointer { (buf) throws(CodecError) -> [ABIValue] in
            let d = Decoder(data: buf, raw: data)
            return try d.tuple(types, at: 0, limit: buf.count)
        }
    }

    // MARK: Encoding

    static func mismatch(_ type: ABIType, _ value: ABIValue) -> CodecError {
        CodecError(.typeMismatch, "value \(String(describing: value).prefix(80)) does not fit type \(type.canonical)")
    }

    static func encodeTuple(_ types: [ABIType], _ values: [ABIValue], into out: inout [UInt8]) throws(CodecError) {
        guard types.count == values.count else {
            throw CodecError(.typeMismatch, "expected \(types.count) values, got \(values.count)")
        }
        let start = out.count
        var headSize = 0
        for t in types { headSize += t.headSize }
        out.append(contentsOf: repeatElement(0, count: headSize))
        var head = start
        for (t, v) in zip(types, values) {
            if t.isDynamic {
                writeWord(UInt256(UInt64(out.count - start)), into: &out, at: head)
                try encodeTail(t, v, into: &out)
            } else {
                try encodeStatic(t, v, into: &out, at: head)
            }
            head += t.headSize
        }
    }

    @inline(__always)
    static func writeWord(_ w: UInt256, into out: inout [UInt8], at offset: Int) {
        out.withUnsafeMutableBytes { w.writeBigEndian(to: $0.baseAddress! + offset) }
    }

    static func encodeStatic(_ t: ABIType, _ v: ABIValue, into out: inout [UInt8], at offset: Int) throws(CodecError) {
        switch (t, v) {
        case (.uint(let n), .uint(let x)):
            guard n == 256 || x >> n == 0 else { throw mismatch(t, v) }
            writeWord(x, into: &out, at: offset)
        case (.int(let n), .int(let x)):
            guard n == 256 || (x >> (n - 1) == 0 || x >> (n - 1) == -1) else { throw mismatch(t, v) }
            writeWord(x.bitPattern, into: &out, at: offset)
        case (.address, .address(let a)):
            writeWord(a.word, into: &out, at: offset)
        case (.bool, .bool(let b)):
            writeWord(b ? .one : .zero, into: &out, at: offset)
        case (.fixedBytes(let n), .fixedBytes(let b)):
            guard b.count == n else { throw mismatch(t, v) }
            for (i, byte) in b.enumerated() { out[offset + i] = byte }
        case (.fixedArray(let et, let k), .array(let items)):
            guard items.count == k else { throw mismatch(t, v) }
            var o = offset
            for item in items {
                try encodeStatic(et, item, into: &out, at: o)
                o += et.headSize
            }
        case (.tuple(let ts), .tuple(let items)):
            guard items.count == ts.count else { throw mismatch(t, v) }
            var o = offset
            for (et, item) in zip(ts, items) {
                try encodeStatic(et, item, into: &out, at: o)
                o += et.headSize
            }
        default:
            throw mismatch(t, v)
        }
    }

    static func appendPadded(_ b: [UInt8], into out: inout [UInt8]) {
        var len = [UInt8](repeating: 0, count: 32)
        len.withUnsafeMutableBytes { UInt256(UInt64(b.count)).writeBigEndian(to: $0.baseAddress!) }
        out.append(contentsOf: len)
        out.append(contentsOf: b)
        let pad = (32 - b.count % 32) % 32
        out.append(contentsOf: repeatElement(0, count: pad))
    }

    static func encodeTail(_ t: ABIType, _ v: ABIValue, into out: inout [UInt8]) throws(CodecError) {
        switch (t, v) {
        case (.bytes, .bytes(let b)):
            appendPadded(b, into: &out)
        case (.string, .string(let s)):
            appendPadded(Array(s.utf8), into: &out)
        case (.array(let et), .array(let items)):
            out.append(contentsOf: repeatElement(0, count: 32))
            writeWord(UInt256(UInt64(items.count)), into: &out, at: out.count - 32)
            try encodeTuple(Array(repeating: et, count: items.count), items, into: &out)
        case (.fixedArray(let et, let k), .array(let items)):
            guard items.count == k else { throw mismatch(t, v) }
            try encodeTuple(Array(repeating: et, count: k), items, into: &out)
        case (.tuple(let ts), .tuple(let items)):
            try encodeTuple(ts, items, into: &out)
        default:
            throw mismatch(t, v)
        }
    }

    // MARK: Decoding

    struct Decoder {
        let data: UnsafeBufferPointer<UInt8>
        let raw: [UInt8]

        func fail(_ code: CodecError.Code, _ message: String) -> CodecError {
            CodecError(code, message, input: raw)
        }

        func word(at offset: Int, limit: Int) throws(CodecError) -> UInt256 {
            guard offset >= 0, offset <= limit - 32 else { throw fail(.truncated, "ABI data ends inside a word at offset \(offset)") }
            return UInt256(bigEndianWordAt: UnsafeRawPointer(data.baseAddress! + offset))
        }

        /// A word used as an offset or length: must be a small number.
        func size(at offset: Int, limit: Int) throws(CodecError) -> Int {
            let w = try word(at: offset, limit: limit)
            guard w.fitsInUInt64, w.w0 <= UInt64(limit) else {
                throw fail(.badOffset, "offset or length \(w) at \(offset) exceeds the data (\(limit) bytes)")
            }
            return Int(w.w0)
        }

        func tuple(_ types: [ABIType], at base: Int, limit: Int) throws(CodecError) -> [ABIValue] {
            var out: [ABIValue] = []
            out.reserveCapacity(types.count)
            var head = base
            for t in types {
                if t.isDynamic {
                    let rel = try size(at: head, limit: limit)
                    let target = base + rel
                    guard target <= limit else { throw fail(.badOffset, "offset \(rel) at \(head) points past the end") }
                    out.append(try dynamic(t, at: target, limit: limit))
                } else {
                    out.append(try staticValue(t, at: head, limit: limit))
                }
                head += t.headSize
            }
            return out
        }

        func staticValue(_ t: ABIType, at offset: Int, limit: Int) throws(CodecError) -> ABIValue {
            switch t {
            case .uint(let n):
                let w = try word(at: offset, limit: limit)
                guard n == 256 || w >> n == 0 else { throw fail(.dirtyPadding, "uint\(n) at \(offset) has high bits set") }
                return .uint(w)
            case .int(let n):
                let w = Int256(bitPattern: try word(at: offset, limit: limit))
                let top = w >> (n - 1)
                guard n == 256 || top == 0 || top == -1 else { throw fail(.dirtyPadding, "int\(n) at \(offset) is not sign-extended") }
                return .int(w)
            case .address:
                let w = try word(at: offset, limit: limit)
                guard w >> 160 == 0 else { throw fail(.dirtyPadding, "address at \(offset) has non-zero upper bytes") }
                return .address(Address(truncating: w))
            case .bool:
                let w = try word(at: offset, limit: limit)
                guard w <= .one else { throw fail(.dirtyPadding, "bool at \(offset) is neither 0 nor 1") }
                return .bool(w == .one)
            case .fixedBytes(let n):
                _ = try word(at: offset, limit: limit)
                for i in n..<32 where data[offset + i] != 0 {
                    throw fail(.dirtyPadding, "bytes\(n) at \(offset) has non-zero padding")
                }
                return .fixedBytes(Array(data[offset..<(offset + n)]))
            case .fixedArray(let et, let k):
                var items: [ABIValue] = []
                items.reserveCapacity(k)
                var o = offset
                for _ in 0..<k {
                    items.append(try staticValue(et, at: o, limit: limit))
                    o += et.headSize
                }
                return .array(items)
            case .tuple(let ts):
                var items: [ABIValue] = []
                var o = offset
                for et in ts {
                    items.append(try staticValue(et, at: o, limit: limit))
                    o += et.headSize
                }
                return .tuple(items)
            case .bytes, .string, .array:
                throw fail(.typeMismatch, "dynamic type \(t.canonical) decoded as static")
            }
        }

        func padded(at offset: Int, limit: Int) throws(CodecError) -> [UInt8] {
            let len = try size(at: offset, limit: limit)
            let start = offset + 32
            let paddedLen = (len + 31) / 32 * 32
            guard start + paddedLen <= limit else { throw fail(.truncated, "\(len) bytes at \(start) run past the end") }
            for i in (start + len)..<(start + paddedLen) where data[i] != 0 {
                throw fail(.dirtyPadding, "non-zero padding after \(len) bytes at \(start)")
            }
            return Array(data[start..<(start + len)])
        }

        func dynamic(_ t: ABIType, at offset: Int, limit: Int) throws(CodecError) -> ABIValue {
            switch t {
            case .bytes:
                return .bytes(try padded(at: offset, limit: limit))
            case .string:
                let b = try padded(at: offset, limit: limit)
                guard let s = String(validating: b, as: UTF8.self) else { throw fail(.invalidValue, "string at \(offset) is not UTF-8") }
                return .string(s)
            case .array(let et):
                let count = try size(at: offset, limit: limit)
                let base = offset + 32
                // Every element takes at least one head word, so a count the data cannot hold is rejected
                // before anything is allocated for it.
                guard count <= (limit - base) / max(et.headSize, 32) else {
                    throw fail(.badOffset, "array of \(count) elements at \(offset) exceeds the data")
                }
                return .array(try tuple(Array(repeating: et, count: count), at: base, limit: limit))
            case .fixedArray(let et, let k):
                return .array(try tuple(Array(repeating: et, count: k), at: offset, limit: limit))
            case .tuple(let ts):
                return .tuple(try tuple(ts, at: offset, limit: limit))
            default:
                return try staticValue(t, at: offset, limit: limit)
            }
        }
    }
}
