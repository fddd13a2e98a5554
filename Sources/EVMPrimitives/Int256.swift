/// A signed 256-bit integer in two's complement over a ``UInt256`` bit pattern.
///
/// Division truncates toward zero, as the EVM's `SDIV`/`SMOD` and Swift's integers do.
@frozen
public struct Int256: Sendable, Hashable {
    /// The two's-complement bit pattern.
    public var bitPattern: UInt256

    @inlinable @inline(__always)
    public init(bitPattern: UInt256) { self.bitPattern = bitPattern }

    @inlinable
    public init(_ value: Int64) {
        let fill: UInt64 = value < 0 ? .max : 0
        self.init(bitPattern: UInt256(limbs: UInt64(bitPattern: value), fill, fill, fill))
    }

    @inlinable public static var zero: Int256 { Int256(bitPattern: .zero) }

    /// True when the value is below zero.
    @inlinable public var isNegative: Bool { bitPattern.w3 >> 63 == 1 }

    /// |self| as an unsigned value (|min| = 2^255 is representable).
    @inlinable public var magnitude: UInt256 {
        isNegative ? (~bitPattern) &+ .one : bitPattern
    }

    /// The value with the given sign and magnitude, or nil when it does not fit.
    @inlinable
    public init?(negative: Bool, magnitude: UInt256) {
        let limit = UInt256.one << 255
        if negative {
            guard magnitude <= limit else { return nil }
            self.init(bitPattern: (~magnitude) &+ .one)
        } else {
            guard magnitude < limit else { return nil }
            self.init(bitPattern: magnitude)
        }
    }

    /// The nearest `Double`. For display and statistics only.
    public var doubleValue: Double { isNegative ? -magnitude.doubleValue : magnitude.doubleValue }
}

extension Int256: Comparable {
    // Explicit for the same reason as UInt256's: Strideable's default would trap.
    @inlinable
    public static func == (lhs: Int256, rhs: Int256) -> Bool { lhs.bitPattern == rhs.bitPattern }

    @inlinable
    public static func < (lhs: Int256, rhs: Int256) -> Bool {
        let ln = lhs.isNegative, rn = rhs.isNegative
        if ln != rn { return ln }
        return lhs.bitPattern < rhs.bitPattern
    }
}

extension Int256: ExpressibleByIntegerLiteral {
    @inlinable
    public init(integerLiteral value: StaticBigInt) {
        precondition(value.bitWidth <= 256, "Int256 literal out of range")
        self.init(bitPattern: UInt256(limbs: UInt64(value[0]), UInt64(value[1]), UInt64(value[2]), UInt64(value[3])))
    }
}

extension Int256: CustomStringConvertible, CustomDebugStringConvertible, LosslessStringConvertible {
    public var description: String { isNegative ? "-" + magnitude.description : magnitude.description }
    public var debugDescription: String { description }

    public init?(_ description: String) {
        guard let v = try? Int256(decimal: description) else { return nil }
        self = v
    }

    /// Parses an optionally `-`-signed decimal number.
    public init(decimal text: some StringProtocol) throws(PrimitiveError) {
        let negative = text.hasPrefix("-")
        let m = try UInt256(decimal: negative ? Substring(text).dropFirst() : Substring(text))
        guard let v = Int256(negative: negative, magnitude: m) else {
            throw PrimitiveError(.overflow, "number does not fit in int256", input: String(text))
        }
        self = v
    }

    /// Parses an optionally `-`-signed decimal or `0x`-hex number.
    public init(parsing text: some StringProtocol) throws(PrimitiveError) {
        let negative = text.hasPrefix("-")
        let m = try UInt256(parsing: negative ? Substring(text).dropFirst() : Substring(text))
        guard let v = Int256(negative: negative, magnitude: m) else {
            throw PrimitiveError(.overflow, "number does not fit in int256", input: String(text))
        }
        self = v
    }
}
