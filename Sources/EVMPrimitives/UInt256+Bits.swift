extension UInt256 {
    /// `self << n` for `0 ≤ n`; zero when `n ≥ 256`. Always inlined: constant counts fold to a
    /// few instructions.
    @inlinable @inline(__always)
    public func shiftedLeft(by n: Int) -> UInt256 {
        if n <= 0 { return n == 0 ? self : shiftedRight(by: -n) }
        if n >= 256 { return .zero }
        let b = UInt64(n & 63)
        var a0 = w0, a1 = w1, a2 = w2, a3 = w3
        if b != 0 {
            let c = 64 &- b
            a3 = a3 &<< b | a2 &>> c
            a2 = a2 &<< b | a1 &>> c
            a1 = a1 &<< b | a0 &>> c
            a0 = a0 &<< b
        }
        switch n >> 6 {
        case 0: return UInt256(limbs: a0, a1, a2, a3)
        case 1: return UInt256(limbs: 0, a0, a1, a2)
        case 2: return UInt256(limbs: 0, 0, a0, a1)
        default: return UInt256(limbs: 0, 0, 0, a0)
        }
    }

    /// `self >> n` for `0 ≤ n`; zero when `n ≥ 256`.
    @inlinable @inline(__always)
    public func shiftedRight(by n: Int) -> UInt256 {
        if n <= 0 { return n == 0 ? self : shiftedLeft(by: -n) }
        if n >= 256 { return .zero }
        let b = UInt64(n & 63)
        var a0 = w0, a1 = w1, a2 = w2, a3 = w3
        if b != 0 {
            let c = 64 &- b
            a0 = a0 &>> b | a1 &<< c
            a1 = a1 &>> b | a2 &<< c
            a2 = a2 &>> b | a3 &<< c
            a3 = a3 &>> b
        }
        switch n >> 6 {
        case 0: return UInt256(limbs: a0, a1, a2, a3)
        case 1: return UInt256(limbs: a1, a2, a3, 0)
        case 2: return UInt256(limbs: a2, a3, 0, 0)
        default: return UInt256(limbs: a3, 0, 0, 0)
        }
    }

    /// The position of the highest set bit (0-based); nil for zero.
    @inlinable public var mostSignificantBit: Int? { isZero ? nil : 255 - leadingZeroBitCount }

    /// The position of the lowest set bit (0-based); nil for zero.
    @inlinable public var leastSignificantBit: Int? { isZero ? nil : trailingZeroBitCount }
}

extension UInt256: FixedWidthInteger, UnsignedInteger {
    public typealias Magnitude = UInt256

    public static var bitWidth: Int { 256 }
    public static var max: UInt256 { UInt256(limbs: .max, .max, .max, .max) }
    public static var min: UInt256 { .zero }

    @inlinable
    public init(_truncatingBits bits: UInt) { self.init(limbs: UInt64(bits), 0, 0, 0) }

    /// Limb-wise view required by `BinaryInteger`.
    public struct Words: RandomAccessCollection, Sendable {
        @usableFromInline let value: UInt256
        @inlinable init(_ value: UInt256) { self.value = value }
        public var startIndex: Int { 0 }
        public var endIndex: Int { 4 }
        @inlinable public subscript(position: Int) -> UInt { UInt(value[limb: position]) }
    }

    @inlinable public var words: Words { Words(self) }

    @inlinable
    public var nonzeroBitCount: Int {
        w0.nonzeroBitCount + w1.nonzeroBitCount + w2.nonzeroBitCount + w3.nonzeroBitCount
    }

    @inlinable
    public var leadingZeroBitCount: Int {
        if w3 != 0 { return w3.leadingZeroBitCount }
        if w2 != 0 { return 64 + w2.leadingZeroBitCount }
        if w1 != 0 { return 128 + w1.leadingZeroBitCount }
        return 192 + w0.leadingZeroBitCount
    }

    @inlinable
    public var trailingZeroBitCount: Int {
        if w0 != 0 { return w0.trailingZeroBitCount }
        if w1 != 0 { return 64 + w1.trailingZeroBitCount }
        if w2 != 0 { return 128 + w2.trailingZeroBitCount }
        return 192 + w3.trailingZeroBitCount
    }

    @inlinable
    public var byteSwapped: UInt256 {
        UInt256(limbs: w3.byteSwapped, w2.byteSwapped, w1.byteSwapped, w0.byteSwapped)
    }

    @inlinable
    public static func &<< (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.shiftedLeft(by: Int(rhs.w0 & 255)) }

    @inlinable
    public static func &>> (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.shiftedRight(by: Int(rhs.w0 & 255)) }

    @inlinable
    public static func &<<= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs &<< rhs }

    @inlinable
    public static func &>>= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs &>> rhs }

    /// Smart shift: negative counts shift the other way, counts ≥ 256 give zero.
    @inlinable @inline(__always)
    public static func << <RHS: BinaryInteger>(lhs: UInt256, rhs: RHS) -> UInt256 {
        guard let n = Int(exactly: rhs) else { return .zero } // |count| ≥ 2^63 shifts everything out
        return lhs.shiftedLeft(by: n)
    }

    /// Smart shift: negative counts shift the other way, counts ≥ 256 give zero.
    @inlinable @inline(__always)
    public static func >> <RHS: BinaryInteger>(lhs: UInt256, rhs: RHS) -> UInt256 {
        guard let n = Int(exactly: rhs) else { return .zero } // |count| ≥ 2^63 shifts everything out
        return lhs.shiftedRight(by: n)
    }

    @inlinable
    public static func <<= <RHS: BinaryInteger>(lhs: inout UInt256, rhs: RHS) { lhs = lhs << rhs }

    @inlinable
    public static func >>= <RHS: BinaryInteger>(lhs: inout UInt256, rhs: RHS) { lhs = lhs >> rhs }

    @inlinable
    public static prefix func ~ (x: UInt256) -> UInt256 { UInt256(limbs: ~x.w0, ~x.w1, ~x.w2, ~x.w3) }

    @inlinable
    public static func & (lhs: UInt256, rhs: UInt256) -> UInt256 {
        UInt256(limbs: lhs.w0 & rhs.w0, lhs.w1 & rhs.w1, lhs.w2 & rhs.w2, lhs.w3 & rhs.w3)
    }

    @inlinable
    public static func | (lhs: UInt256, rhs: UInt256) -> UInt256 {
        UInt256(limbs: lhs.w0 | rhs.w0, lhs.w1 | rhs.w1, lhs.w2 | rhs.w2, lhs.w3 | rhs.w3)
    }

    @inlinable
    public static func ^ (lhs: UInt256, rhs: UInt256) -> UInt256 {
        UInt256(limbs: lhs.w0 ^ rhs.w0, lhs.w1 ^ rhs.w1, lhs.w2 ^ rhs.w2, lhs.w3 ^ rhs.w3)
    }

    @inlinable public static func &= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs & rhs }
    @inlinable public static func |= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs | rhs }
    @inlinable public static func ^= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs ^ rhs }

    @inlinable @inline(__always)
    public static func + (lhs: UInt256, rhs: UInt256) -> UInt256 {
        let (v, o) = lhs.addingReportingOverflow(rhs)
        precondition(!o, "UInt256 addition overflow")
        return v
    }

    @inlinable @inline(__always)
    public static func - (lhs: UInt256, rhs: UInt256) -> UInt256 {
        let (v, o) = lhs.subtractingReportingOverflow(rhs)
        precondition(!o, "UInt256 subtraction underflow")
        return v
    }

    @inlinable
    public static func * (lhs: UInt256, rhs: UInt256) -> UInt256 {
        let (v, o) = lhs.multipliedReportingOverflow(by: rhs)
        precondition(!o, "UInt256 multiplication overflow")
        return v
    }

    @inlinable
    public static func / (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.quotientAndRemainder(dividingBy: rhs).quotient }

    @inlinable
    public static func % (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.quotientAndRemainder(dividingBy: rhs).remainder }

    @inlinable public static func += (lhs: inout UInt256, rhs: UInt256) { lhs = lhs + rhs }
    @inlinable public static func -= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs - rhs }
    @inlinable public static func *= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs * rhs }
    @inlinable public static func /= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs / rhs }
    @inlinable public static func %= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs % rhs }

    @inlinable @inline(__always)
    public static func &+ (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.addingReportingOverflow(rhs).partialValue }

    @inlinable @inline(__always)
    public static func &- (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.subtractingReportingOverflow(rhs).partialValue }
}
