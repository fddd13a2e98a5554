/// Division by a fixed one-limb divisor with a precomputed reciprocal (Möller and Granlund,
/// "Improved division by invariant integers", 2011): each limb costs two multiplies instead of a
/// machine division. For divisors used again and again, as a pool's fee denominators are.
public struct LimbDivisor: Sendable, Equatable {
    /// The divisor.
    public let divisor: UInt64
    /// `divisor << shift`, top bit set.
    @usableFromInline let normalized: UInt64
    /// ⌊(2^128 − 1) / normalized⌋ − 2^64.
    @usableFromInline let reciprocal: UInt64
    @usableFromInline let shift: UInt64

    /// Precomputes the reciprocal of `d` (one machine division). `d` must not be zero.
    public init(_ d: UInt64) {
        precondition(d != 0, "division by zero")
        let s = UInt64(d.leadingZeroBitCount)
        let n = d &<< s
        self.init(divisor: d, normalized: n, reciprocal: UInt256.div2by1(~n, .max, n).q, shift: s)
    }

    /// A divisor whose reciprocal is known (constants; `LimbDivisorTests` checks them).
    @inlinable
    public init(divisor: UInt64, normalized: UInt64, reciprocal: UInt64, shift: UInt64) {
        self.divisor = divisor
        self.normalized = normalized
        self.reciprocal = reciprocal
        self.shift = shift
    }

    /// 10^6, the pip denominator of Uniswap V3 fees.
    @inlinable public static var million: LimbDivisor {
        LimbDivisor(divisor: 1_000_000, normalized: 0xf424_0000_0000_0000, reciprocal: 0x0c6f_7a0b_5ed8_d36b, shift: 44)
    }

    /// (u1·2^64 + u0) / normalized for u1 < normalized: quotient and remainder.
    @inlinable @inline(__always)
    func step(_ u1: UInt64, _ u0: UInt64) -> (q: UInt64, r: UInt64) {
        let (ph, pl) = reciprocal.multipliedFullWidth(by: u1)
        let (q0, c) = pl.addingReportingOverflow(u0)
        var q1 = ph &+ u1 &+ (c ? 1 : 0) &+ 1
        var r = u0 &- q1 &* normalized
        if r > q0 {
            q1 &-= 1
            r &+= normalized
        }
        if r >= normalized {
            q1 &+= 1
            r &-= normalized
        }
        return (q1, r)
    }

    /// ⌊a·m / d⌋ and whether it was exact; nil when the quotient passes 256 bits (as `FullMath`).
    @inlinable
    public func mulDiv(_ a: UInt256, _ m: UInt64) -> (quotient: UInt256, exact: Bool)? {
        let (h, l) = a.multipliedFullWidth(byLimb: m)
        // The 320-bit product shifted by `shift`: six limbs, the top one below 2^shift.
        let s = shift
        var u5: UInt64 = 0, u4 = h, u3 = l.w3, u2 = l.w2, u1 = l.w1, u0 = l.w0
        if s != 0 {
            let c = 64 &- s
            u5 = u4 &>> c
            u4 = u4 &<< s | u3 &>> c
            u3 = u3 &<< s | u2 &>> c
            u2 = u2 &<< s | u1 &>> c
            u1 = u1 &<< s | u0 &>> c
            u0 = u0 &<< s
        }
        // u5 < 2^shift ≤ normalized: the first digit is zero. The second must be, for 256 bits.
        var r = u5
        var q: UInt64
        (q, r) = digit(r, u4)
        guard q == 0 else { return nil }
        let q3: UInt64, q2: UInt64, q1: UInt64, q0: UInt64
        (q3, r) = digit(r, u3)
        (q2, r) = digit(r, u2)
        (q1, r) = digit(r, u1)
        (q0, r) = step(r, u0)
        return (UInt256(limbs: q0, q1, q2, q3), r == 0)
    }

    /// A quotient digit, skipping the multiplies while the running remainder and limb are small.
    @inlinable @inline(__always)
    func digit(_ r: UInt64, _ u: UInt64) -> (q: UInt64, r: UInt64) {
        if r == 0 && u < normalized { return (0, u) }
        return step(r, u)
    }
}
