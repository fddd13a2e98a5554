/// An unsigned 256-bit integer stored as four 64-bit limbs, least significant first.
///
/// This is the EVM word. It conforms to `FixedWidthInteger`, so `+`, `-`, `*`, `/` and `%` trap
/// on overflow exactly as the standard integers do, `&+`, `&-` and `&*` wrap, and the
/// `…ReportingOverflow` methods give checked arithmetic. Money never goes through `Double`;
/// ``doubleValue`` exists for display and statistics only.
@frozen
public struct UInt256: Sendable, Hashable {
    /// Limbs, least significant first.
    public var w0: UInt64
    public var w1: UInt64
    public var w2: UInt64
    public var w3: UInt64

    /// Builds a value from its limbs, least significant first.
    @inlinable @inline(__always)
    public init(limbs w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    @inlinable @inline(__always)
    public init() { self.init(limbs: 0, 0, 0, 0) }

    @inlinable @inline(__always)
    public init(_ value: UInt64) { self.init(limbs: value, 0, 0, 0) }

    // Computed, not stored: a stored static is a lazy global behind `swift_once` on every read.
    @inlinable public static var zero: UInt256 { UInt256() }
    @inlinable public static var one: UInt256 { UInt256(1) }

    /// True when the value fits in one limb.
    @inlinable public var fitsInUInt64: Bool { w1 | w2 | w3 == 0 }

    /// True when the value is zero.
    @inlinable public var isZero: Bool { w0 | w1 | w2 | w3 == 0 }

    /// Limb `i` (0 = least significant).
    @inlinable
    public subscript(limb i: Int) -> UInt64 {
        get {
            switch i {
            case 0: return w0
            case 1: return w1
            case 2: return w2
            default: return w3
            }
        }
        set {
            switch i {
            case 0: w0 = newValue
            case 1: w1 = newValue
            case 2: w2 = newValue
            default: w3 = newValue
            }
        }
    }

    /// The nearest `Double`, rounded to nearest-even. For display and statistics only.
    /// From the highest non-zero limb down, without a 256-bit shift (hot: prices and rates).
    @inlinable
    public var doubleValue: Double {
        if w3 != 0 { return Self.double(w3, w2, w1 | w0 != 0, limb: 3) }
        if w2 != 0 { return Self.double(w2, w1, w0 != 0, limb: 2) }
        if w1 != 0 { return Self.double(w1, w0, false, limb: 1) }
        return Double(w0)
    }

    /// `hi · 2^(64·limb) + lo · 2^(64·(limb − 1)) + rest`: the 64 bits from hi's leading one,
    /// with a sticky bit when anything below them is not zero (round-to-nearest stays correct),
    /// rounded once to a double, then scaled by 2^(64·limb − lz), built from its bits: exact
    /// (a power of two, and every value here is far from the double's range limits).
    @inlinable
    static func double(_ hi: UInt64, _ lo: UInt64, _ rest: Bool, limb: Int) -> Double {
        let lz = hi.leadingZeroBitCount
        let top = lz == 0 ? hi : hi << lz | lo >> (64 - lz)
        let below = lz == 0 ? lo : lo << lz
        let sticky: UInt64 = below != 0 || rest ? 1 : 0
        let scale = Double(bitPattern: UInt64(1023 + 64 * limb - lz) << 52)
        return Double(top | sticky) * scale
    }
}

extension UInt256: Comparable {
    // Explicit: Strideable's default `==` (via `distance(to:)`, an `Int`) would otherwise
    // shadow the synthesized one and trap on values more than Int.max apart.
    @inlinable @inline(__always)
    public static func == (lhs: UInt256, rhs: UInt256) -> Bool {
        (lhs.w0 ^ rhs.w0) | (lhs.w1 ^ rhs.w1) | (lhs.w2 ^ rhs.w2) | (lhs.w3 ^ rhs.w3) == 0
    }

    @inlinable @inline(__always)
    public static func < (lhs: UInt256, rhs: UInt256) -> Bool {
        if lhs.w3 != rhs.w3 { return lhs.w3 < rhs.w3 }
        if lhs.w2 != rhs.w2 { return lhs.w2 < rhs.w2 }
        if lhs.w1 != rhs.w1 { return lhs.w1 < rhs.w1 }
        return lhs.w0 < rhs.w0
    }
}

extension UInt256: ExpressibleByIntegerLiteral {
    /// Literals of any size up to 256 bits: `let max: UInt256 = 0xffff…ffff`.
    @inlinable
    public init(integerLiteral value: StaticBigInt) {
        precondition(value.signum() >= 0 && value.bitWidth <= 257, "UInt256 literal out of range")
        self.init(limbs: UInt64(value[0]), UInt64(value[1]), UInt64(value[2]), UInt64(value[3]))
    }
}
