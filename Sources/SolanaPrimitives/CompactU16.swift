/// Solana's compact-u16 ("short vec" length): 7 bits a byte, least significant first, the high
/// bit set when another byte follows, at most three bytes. Decoding is strict: the encoding
/// must be the shortest, and the value must fit 16 bits.
public enum CompactU16 {
    public static func encode(_ value: UInt16, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    public static func encode(_ value: UInt16) -> [UInt8] {
        var out: [UInt8] = []
        encode(value, into: &out)
        return out
    }

    /// The value at `at` in `bytes` and the bytes it took; nil when truncated, over 16 bits or not minimal.
    public static func decode(_ bytes: [UInt8], at: Int) -> (value: UInt16, length: Int)? {
        var value: UInt32 = 0
        for i in 0..<3 {
            guard at + i < bytes.count else { return nil }
            let b = bytes[at + i]
            value |= UInt32(b & 0x7f) << (7 * i)
            if b & 0x80 == 0 {
                // Minimal: a last byte of zero is only the value 0 in one byte; the third byte holds at most 2 bits.
                guard b != 0 || i == 0, i < 2 || b <= 0x03, value <= UInt32(UInt16.max) else { return nil }
                return (UInt16(value), i + 1)
            }
            if i == 2 { return nil }
        }
        return nil
    }
}
