/// Hex text ⇄ bytes.
public enum Hex {
    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The value of one ASCII hex digit, or nil.
    @inlinable @inline(__always)
    public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c &- 0x30
        case 0x61...0x66: return c &- 0x61 &+ 10
        case 0x41...0x46: return c &- 0x41 &+ 10
        default: return nil
        }
    }

    /// Decodes hex text, with or without a `0x` prefix. An odd number of digits is an error.
    public static func decode(_ text: some StringProtocol) throws(PrimitiveError) -> [UInt8] {
        var utf8 = Substring(text).utf8[...]
        if utf8.count >= 2, utf8.first == 0x30, let x = utf8.dropFirst().first, x == 0x78 || x == 0x58 {
            utf8 = utf8.dropFirst(2)
        }
        guard utf8.count % 2 == 0 else {
            throw PrimitiveError(.invalidHex, "odd number of hex digits", input: String(text))
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var it = utf8.makeIterator()
        while let hi = it.next(), let lo = it.next() {
            guard let h = nibble(hi), let l = nibble(lo) else {
                throw PrimitiveError(.invalidHex, "not hex", input: String(text))
            }
            out.append(h << 4 | l)
        }
        return out
    }

    /// Decodes `0x`-prefixed hex; text without the prefix is an error.
    public static func decodePrefixed(_ text: some StringProtocol) throws(PrimitiveError) -> [UInt8] {
        guard text.hasPrefix("0x") || text.hasPrefix("0X") else {
            throw PrimitiveError(.invalidHex, "expected 0x-prefixed hex", input: String(text))
        }
        return try decode(text)
    }

    /// Lowercase hex, `0x`-prefixed unless `prefix` is false.
    public static func encode<C: Collection>(_ bytes: C, prefix: Bool = true) -> String where C.Element == UInt8 {
        let count = bytes.count * 2 + (prefix ? 2 : 0)
        return String(unsafeUninitializedCapacity: count) { buf in
            var i = 0
            if prefix {
                buf[0] = 0x30
                buf[1] = 0x78
                i = 2
            }
            for b in bytes {
                buf[i] = digits[Int(b >> 4)]
                buf[i + 1] = digits[Int(b & 0x0f)]
                i += 2
            }
            return count
        }
    }
}

extension Collection where Element == UInt8 {
    /// Lowercase `0x`-prefixed hex.
    public var hexString: String { Hex.encode(self) }
}
