import EVMPrimitives

/// One RLP item: a byte string or a list of items.
public enum RLPItem: Hashable, Sendable {
    case bytes([UInt8])
    case list([RLPItem])

    /// An integer as RLP stores it: minimal big-endian bytes, empty for zero.
    public static func uint(_ value: UInt256) -> RLPItem { .bytes(value.minimalBigEndianBytes) }

    /// An integer as RLP stores it.
    public static func uint(_ value: UInt64) -> RLPItem { .uint(UInt256(value)) }

    /// An address as 20 bytes.
    public static func address(_ value: Address) -> RLPItem { .bytes(value.bytes) }

    /// The byte string, or an error if this is a list.
    public func bytesValue() throws(CodecError) -> [UInt8] {
        guard case .bytes(let b) = self else { throw CodecError(.unexpectedShape, "expected an RLP string, found a list") }
        return b
    }

    /// The items, or an error if this is a byte string.
    public func listValue() throws(CodecError) -> [RLPItem] {
        guard case .list(let l) = self else { throw CodecError(.unexpectedShape, "expected an RLP list, found a string") }
        return l
    }

    /// The integer; leading zero bytes and more than 32 bytes are errors.
    public func uint256Value() throws(CodecError) -> UInt256 {
        let b = try bytesValue()
        guard b.count <= 32 else { throw CodecError(.invalidValue, "integer longer than 32 bytes", input: b) }
        guard b.first != 0 else { throw CodecError(.nonCanonical, "integer with a leading zero byte", input: b) }
        return try! UInt256(bigEndian: b)
    }

    /// The integer, which must fit in 64 bits.
    public func uint64Value() throws(CodecError) -> UInt64 {
        let v = try uint256Value()
        guard v.fitsInUInt64 else { throw CodecError(.invalidValue, "integer does not fit in 64 bits", input: v.minimalBigEndianBytes) }
        return v.w0
    }
}

/// Recursive Length Prefix encoding, with a strict decoder.
public enum RLP {
    /// Deepest list nesting the decoder accepts; deeper input is rejected, not recursed into.
    public static let maxDepth = 256

    public static func encode(_ item: RLPItem) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(encodedLength(item))
        encode(item, into: &out)
        return out
    }

    /// Appends the encoding of `item`.
    public static func encode(_ item: RLPItem, into out: inout [UInt8]) {
        switch item {
        case .bytes(let b):
            encodeBytes(b, into: &out)
        case .list(let items):
            var payload = 0
            for i in items { payload += encodedLength(i) }
            appendHeader(payload, offset: 0xc0, into: &out)
            for i in items { encode(i, into: &out) }
        }
    }

    /// Appends one byte string.
    public static func encodeBytes<C: Collection>(_ b: C, into out: inout [UInt8]) where C.Element == UInt8 {
        if b.count == 1, let first = b.first, first < 0x80 {
            out.append(first)
        } else {
            appendHeader(b.count, offset: 0x80, into: &out)
            out.append(contentsOf: b)
        }
    }

    /// Appends a string or list header for a payload of `length` bytes.
    public static func appendHeader(_ length: Int, offset: UInt8, into out: inout [UInt8]) {
        if length <= 55 {
            out.append(offset + UInt8(length))
        } else {
            let lenBytes = UInt256(UInt64(length)).minimalBigEndianBytes
            out.append(offset + 55 + UInt8(lenBytes.count))
            out.append(contentsOf: lenBytes)
        }
    }

    /// Size of a header for a payload of `length` bytes.
    @inlinable
    public static func headerLength(_ length: Int) -> Int {
        length <= 55 ? 1 : 1 + (8 - (UInt64(length).leadingZeroBitCount / 8))
    }

    /// Encoded size of a byte string.
    public static func encodedLength<C: Collection>(bytes b: C) -> Int where C.Element == UInt8 {
        if b.count == 1, let first = b.first, first < 0x80 { return 1 }
        return headerLength(b.count) + b.count
    }

    public static func encodedLength(_ item: RLPItem) -> Int {
        switch item {
        case .bytes(let b): return encodedLength(bytes: b)
        case .list(let items):
            var payload = 0
            for i in items { payload += encodedLength(i) }
            return headerLength(payload) + payload
        }
    }

    /// Decodes exactly one item spanning all of `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> RLPItem {
        var pos = 0
        let item = try bytes.withUnsafeBufferPointer { (buf) throws(CodecError) -> RLPItem in
            try decodeItem(buf, &pos, end: buf.count, depth: 0)
        }
        guard pos == bytes.count else {
            throw CodecError(.trailingBytes, "\(bytes.count - pos) bytes after the RLP item", input: bytes)
        }
        return item
    }

    /// Reads one header at `pos`: (isList, payload start, payload length).
    static func readHeader(_ b: UnsafeBufferPointer<UInt8>, _ pos: Int, end: Int) throws(CodecError) -> (isList: Bool, start: Int, length: Int) {
        guard pos < end else { throw CodecError(.truncated, "RLP input ended where an item was expected", input: Array(b)) }
        let p = b[pos]
        switch p {
        case 0x00...0x7f:
            return (false, pos, 1)
        case 0x80...0xb7:
            let len = Int(p - 0x80)
            guard pos + 1 + len <= end else { throw CodecError(.truncated, "RLP string runs past the end", input: Array(b)) }
            if len == 1 && b[pos + 1] < 0x80 {
                throw CodecError(.nonCanonical, "single byte below 0x80 must encode as itself", input: Array(b))
            }
            return (false, pos + 1, len)
        case 0xb8...0xbf:
            let len = try readLongLength(b, pos + 1, count: Int(p - 0xb7), end: end)
            return (false, pos + 1 + Int(p - 0xb7), len)
        case 0xc0...0xf7:
            let len = Int(p - 0xc0)
            guard pos + 1 + len <= end else { throw CodecError(.truncated, "RLP list runs past the end", input: Array(b)) }
            return (true, pos + 1, len)
        default:
            let len = try readLongLength(b, pos + 1, count: Int(p - 0xf7), end: end)
            return (true, pos + 1 + Int(p - 0xf7), len)
        }
    }

    private static func readLongLength(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, count: Int, end: Int) throws(CodecError) -> Int {
        guard at + count <= end else { throw CodecError(.truncated, "RLP length runs past the end", input: Array(b)) }
        guard b[at] != 0 else { throw CodecError(.nonCanonical, "RLP length with a leading zero", input: Array(b)) }
        guard count <= 7 else { throw CodecError(.invalidValue, "RLP length too large", input: Array(b)) }
        var len = 0
        for i in 0..<count { len = len << 8 | Int(b[at + i]) }
        guard len > 55 else { throw CodecError(.nonCanonical, "long RLP form used for a length ≤ 55", input: Array(b)) }
        guard len <= end - at - count else { throw CodecError(.truncated, "RLP payload runs past the end", input: Array(b)) }
        return len
    }

    private static func decodeItem(_ b: UnsafeBufferPointer<UInt8>, _ pos: inout Int, end: Int, depth: Int) throws(CodecError) -> RLPItem {
        let h = try readHeader(b, pos, end: end)
        let payloadEnd = h.start + h.length
        if !h.isList {
            pos = payloadEnd
            return .bytes(Array(b[h.start..<payloadEnd]))
        }
        guard depth < maxDepth else { throw CodecError(.tooDeep, "RLP lists nested deeper than \(maxDepth)") }
        var items: [RLPItem] = []
        var p = h.start
        while p < payloadEnd {
            items.append(try decodeItem(b, &p, end: payloadEnd, depth: depth + 1))
        }
        pos = payloadEnd
        return .list(items)
    }
}
