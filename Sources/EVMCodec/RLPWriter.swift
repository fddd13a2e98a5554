import EVMPrimitives

/// Builds one RLP list field by field, without an intermediate ``RLPItem`` tree.
public struct RLPWriter: Sendable {
    /// The encoded items so far, without the list header.
    public private(set) var payload: [UInt8] = []

    public init(capacity: Int = 128) { payload.reserveCapacity(capacity) }

    public mutating func append(uint v: UInt256) {
        if v.fitsInUInt64 {
            append(uint: v.w0)
        } else {
            let bytes = v.minimalBigEndianBytes
            payload.append(0x80 + UInt8(bytes.count))
            payload.append(contentsOf: bytes)
        }
    }

    public mutating func append(uint v: UInt64) {
        if v == 0 {
            payload.append(0x80)
        } else if v < 0x80 {
            payload.append(UInt8(v))
        } else {
            let n = 8 - v.leadingZeroBitCount / 8
            payload.append(0x80 + UInt8(n))
            for i in stride(from: n - 1, through: 0, by: -1) { payload.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
        }
    }

    public mutating func append<C: Collection>(bytes b: C) where C.Element == UInt8 {
        RLP.encodeBytes(b, into: &payload)
    }

    /// An address, or the empty string for contract creation.
    public mutating func append(address a: Address?) {
        if let a {
            payload.append(0x94)
            let start = payload.count
            payload.append(contentsOf: repeatElement(0, count: 20))
            payload.withUnsafeMutableBytes { a.write(to: $0.baseAddress! + start) }
        } else {
            payload.append(0x80)
        }
    }

    public mutating func append(_ item: RLPItem) { RLP.encode(item, into: &payload) }

    /// The finished list, optionally preceded by one type byte (EIP-2718).
    public func list(typePrefix: UInt8? = nil) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(payload.count + 10)
        if let typePrefix { out.append(typePrefix) }
        RLP.appendHeader(payload.count, offset: 0xc0, into: &out)
        out.append(contentsOf: payload)
        return out
    }
}
