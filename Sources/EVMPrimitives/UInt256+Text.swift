extension UInt256: CustomStringConvertible, CustomDebugStringConvertible, LosslessStringConvertible {
    /// Decimal digits.
    public var description: String {
        if fitsInUInt64 { return String(w0) }
        // Peel off 19 decimal digits at a time with one-limb divisions.
        let chunk: UInt64 = 10_000_000_000_000_000_000
        var parts: [UInt64] = []
        var v = self
        while !v.isZero {
            var rem: UInt64 = 0
            var q = UInt256()
            for i in stride(from: 3, through: 0, by: -1) {
                let (qi, r) = chunk.dividingFullWidth((rem, v[limb: i]))
                q[limb: i] = qi
                rem = r
            }
            parts.append(rem)
            v = q
        }
        var out = String(parts.removeLast())
        for part in parts.reversed() {
            let digits = String(part)
            out += String(repeating: "0", count: 19 - digits.count) + digits
        }
        return out
    }

    public var debugDescription: String { description }

    /// Parses decimal digits; nil on anything else or on overflow.
    public init?(_ description: String) {
        guard let v = try? UInt256(decimal: description) else { return nil }
        self = v
    }

    /// Parses decimal digits (no sign, no separators).
    public init(decimal text: some StringProtocol) throws(PrimitiveError) {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { throw PrimitiveError(.invalidNumber, "empty decimal number") }
        var v = UInt256()
        for c in utf8 {
            guard c >= 0x30 && c <= 0x39 else {
                throw PrimitiveError(.invalidNumber, "not a decimal number", input: String(text))
            }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt256(UInt64(c - 0x30)))
            if o1 || o2 { throw PrimitiveError(.overflow, "number does not fit in 256 bits", input: String(text)) }
            v = s
        }
        self = v
    }

    /// Parses hex digits with or without a `0x` prefix; any length up to 64 digits, odd allowed.
    public init(hex text: some StringProtocol) throws(PrimitiveError) {
        var utf8 = Substring(text).utf8[...]
        if utf8.count >= 2, utf8.first == 0x30, utf8.dropFirst().first == 0x78 || utf8.dropFirst().first == 0x58 {
            utf8 = utf8.dropFirst(2)
        }
        guard !utf8.isEmpty else { throw PrimitiveError(.invalidHex, "empty hex number", input: String(text)) }
        var v = UInt256()
        var count = 0
        for c in utf8 {
            guard let nibble = Hex.nibble(c) else {
                throw PrimitiveError(.invalidHex, "not a hex number", input: String(text))
            }
            if count == 0 && nibble == 0 { continue } // leading zeros do not count toward the width
            count += 1
            if count > 64 { throw PrimitiveError(.overflow, "number does not fit in 256 bits", input: String(text)) }
            v = v.shiftedLeft(by: 4) | UInt256(UInt64(nibble))
        }
        self = v
    }

    /// Parses `0x`-prefixed hex or plain decimal, the two forms JSON-RPC and users write.
    public init(parsing text: some StringProtocol) throws(PrimitiveError) {
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            try self.init(hex: text)
        } else {
            try self.init(decimal: text)
        }
    }

    /// Minimal lowercase hex digits without prefix ("0" for zero).
    public var hexDigits: String {
        if isZero { return "0" }
        var out = ""
        var started = false
        for i in stride(from: 3, through: 0, by: -1) {
            let limb = self[limb: i]
            if !started {
                if limb == 0 { continue }
                out += String(limb, radix: 16)
                started = true
            } else {
                let digits = String(limb, radix: 16)
                out += String(repeating: "0", count: 16 - digits.count) + digits
            }
        }
        return out
    }

    /// `0x`-prefixed minimal hex, the JSON-RPC quantity encoding.
    public var hexQuantity: String { "0x" + hexDigits }
}

extension UInt256 {
    /// 32 big-endian bytes.
    @inlinable
    public var bigEndianBytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { writeBigEndian(to: $0.baseAddress!) }
        return out
    }

    /// The big-endian bytes with leading zeros removed (empty for zero), as RLP encodes integers.
    public var minimalBigEndianBytes: [UInt8] {
        let bytes = bigEndianBytes
        let skip = leadingZeroBitCount / 8
        return Array(bytes[skip...])
    }

    /// Writes 32 big-endian bytes.
    @inlinable
    public func writeBigEndian(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: w3.bigEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: w2.bigEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: w1.bigEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: w0.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// Reads up to 32 big-endian bytes (shorter input is left-padded with zeros).
    @inlinable
    public init<C: Collection>(bigEndian bytes: C) throws(PrimitiveError) where C.Element == UInt8 {
        guard bytes.count <= 32 else {
            throw PrimitiveError(.invalidLength, "\(bytes.count) bytes do not fit in 256 bits")
        }
        var v = UInt256()
        for b in bytes { v = v.shiftedLeft(by: 8) | UInt256(UInt64(b)) }
        self = v
    }

    /// Reads exactly 32 big-endian bytes from raw memory.
    @inlinable
    public init(bigEndianWordAt p: UnsafeRawPointer) {
        self.init(
            limbs: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
            UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
    }
}
