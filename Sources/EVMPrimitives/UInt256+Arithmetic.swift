extension UInt256 {
    /// `a·b + c + carry` split into (low limb, new carry). Never overflows 128 bits.
    @inlinable @inline(__always)
    static func mulAdd(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ carry: inout UInt64) -> UInt64 {
        let (h, l) = a.multipliedFullWidth(by: b)
        let (l1, o1) = l.addingReportingOverflow(c)
        let (l2, o2) = l1.addingReportingOverflow(carry)
        carry = h &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
        return l2
    }

    @inlinable @inline(__always)
    static func addCarry(_ a: UInt64, _ b: UInt64, _ carry: inout Bool) -> UInt64 {
        let (s1, o1) = a.addingReportingOverflow(b)
        let (s2, o2) = s1.addingReportingOverflow(carry ? 1 : 0)
        carry = o1 || o2
        return s2
    }

    @inlinable @inline(__always)
    static func subBorrow(_ a: UInt64, _ b: UInt64, _ borrow: inout Bool) -> UInt64 {
        let (d1, o1) = a.subtractingReportingOverflow(b)
        let (d2, o2) = d1.subtractingReportingOverflow(borrow ? 1 : 0)
        borrow = o1 || o2
        return d2
    }

    /// `self · m` modulo 2^256 for one limb `m`: four machine multiplies (the general `&*` is a
    /// 4×4 schoolbook).
    @inlinable @inline(__always)
    public func wrappingProduct(byLimb m: UInt64) -> UInt256 { multipliedFullWidth(byLimb: m).low }

    /// `self · m` for one limb `m`: the 320-bit product as (high limb, low 256 bits).
    @inlinable @inline(__always)
    func multipliedFullWidth(byLimb m: UInt64) -> (high: UInt64, low: UInt256) {
        var c: UInt64 = 0
        let r0 = UInt256.mulAdd(w0, m, 0, &c)
        let r1 = UInt256.mulAdd(w1, m, 0, &c)
        let r2 = UInt256.mulAdd(w2, m, 0, &c)
        let r3 = UInt256.mulAdd(w3, m, 0, &c)
        return (c, UInt256(limbs: r0, r1, r2, r3))
    }

    /// The 256-bit product of two 128-bit values (a1·2^64 + a0)(b1·2^64 + b0), as limbs.
    @inlinable @inline(__always)
    static func multiply128(_ a0: UInt64, _ a1: UInt64, _ b0: UInt64, _ b1: UInt64) -> UInt256 {
        var c: UInt64 = 0
        let r0 = mulAdd(a0, b0, 0, &c)
        var r1 = mulAdd(a0, b1, 0, &c)
        var r2 = c
        c = 0
        r1 = mulAdd(a1, b0, r1, &c)
        r2 = mulAdd(a1, b1, r2, &c)
        return UInt256(limbs: r0, r1, r2, c)
    }

    /// The full 256-bit product of two `UInt128`s as (high, low): four machine multiplies.
    @inlinable @inline(__always)
    public static func multiplyFullWidth(_ a: UInt128, _ b: UInt128) -> (high: UInt128, low: UInt128) {
        let p = multiply128(UInt64(truncatingIfNeeded: a), UInt64(truncatingIfNeeded: a >> 64),
                            UInt64(truncatingIfNeeded: b), UInt64(truncatingIfNeeded: b >> 64))
        return (UInt128(p.w3) << 64 | UInt128(p.w2), UInt128(p.w1) << 64 | UInt128(p.w0))
    }

    /// The full 512-bit product as (high, low). Operands of one or two limbs (prices, liquidity,
    /// fees) take the short schoolbook, inline.
    @inlinable @inline(__always)
    public func multipliedFullWidth(by other: UInt256) -> (high: UInt256, low: UInt256) {
        if other.w1 | other.w2 | other.w3 == 0 {
            let (h, l) = multipliedFullWidth(byLimb: other.w0)
            return (UInt256(h), l)
        }
        if w1 | w2 | w3 == 0 {
            let (h, l) = other.multipliedFullWidth(byLimb: w0)
            return (UInt256(h), l)
        }
        if w2 | w3 | other.w2 | other.w3 == 0 {
            return (.zero, UInt256.multiply128(w0, w1, other.w0, other.w1))
        }
        return multipliedFullWidth4x4(other)
    }

    @inlinable
    func multipliedFullWidth4x4(_ other: UInt256) -> (high: UInt256, low: UInt256) {
        let a0 = w0, a1 = w1, a2 = w2, a3 = w3
        let b0 = other.w0, b1 = other.w1, b2 = other.w2, b3 = other.w3
        var c: UInt64 = 0
        let r0 = UInt256.mulAdd(a0, b0, 0, &c)
        var r1 = UInt256.mulAdd(a0, b1, 0, &c)
        var r2 = UInt256.mulAdd(a0, b2, 0, &c)
        var r3 = UInt256.mulAdd(a0, b3, 0, &c)
        var r4 = c
        c = 0
        r1 = UInt256.mulAdd(a1, b0, r1, &c)
        r2 = UInt256.mulAdd(a1, b1, r2, &c)
        r3 = UInt256.mulAdd(a1, b2, r3, &c)
        r4 = UInt256.mulAdd(a1, b3, r4, &c)
        var r5 = c
        c = 0
        r2 = UInt256.mulAdd(a2, b0, r2, &c)
        r3 = UInt256.mulAdd(a2, b1, r3, &c)
        r4 = UInt256.mulAdd(a2, b2, r4, &c)
        r5 = UInt256.mulAdd(a2, b3, r5, &c)
        var r6 = c
        c = 0
        r3 = UInt256.mulAdd(a3, b0, r3, &c)
        r4 = UInt256.mulAdd(a3, b1, r4, &c)
        r5 = UInt256.mulAdd(a3, b2, r5, &c)
        r6 = UInt256.mulAdd(a3, b3, r6, &c)
        let r7 = c
        return (UInt256(limbs: r4, r5, r6, r7), UInt256(limbs: r0, r1, r2, r3))
    }

    /// The low 256 bits of the product (wrapping multiply), without computing the high half.
    @inlinable
    func wrappingProduct(_ other: UInt256) -> UInt256 {
        let a0 = w0, a1 = w1, a2 = w2, a3 = w3
        let b0 = other.w0, b1 = other.w1, b2 = other.w2, b3 = other.w3
        var c: UInt64 = 0
        let r0 = UInt256.mulAdd(a0, b0, 0, &c)
        var r1 = UInt256.mulAdd(a0, b1, 0, &c)
        var r2 = UInt256.mulAdd(a0, b2, 0, &c)
        var r3 = a0 &* b3 &+ c
        c = 0
        r1 = UInt256.mulAdd(a1, b0, r1, &c)
        r2 = UInt256.mulAdd(a1, b1, r2, &c)
        r3 = r3 &+ a1 &* b2 &+ c
        c = 0
        r2 = UInt256.mulAdd(a2, b0, r2, &c)
        r3 = r3 &+ a2 &* b1 &+ c
        r3 = r3 &+ a3 &* b0
        return UInt256(limbs: r0, r1, r2, r3)
    }

    @inlinable @inline(__always)
    public func addingReportingOverflow(_ rhs: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        var carry = false
        let r0 = UInt256.addCarry(w0, rhs.w0, &carry)
        let r1 = UInt256.addCarry(w1, rhs.w1, &carry)
        let r2 = UInt256.addCarry(w2, rhs.w2, &carry)
        let r3 = UInt256.addCarry(w3, rhs.w3, &carry)
        return (UInt256(limbs: r0, r1, r2, r3), carry)
    }

    @inlinable @inline(__always)
    public func subtractingReportingOverflow(_ rhs: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        var borrow = false
        let r0 = UInt256.subBorrow(w0, rhs.w0, &borrow)
        let r1 = UInt256.subBorrow(w1, rhs.w1, &borrow)
        let r2 = UInt256.subBorrow(w2, rhs.w2, &borrow)
        let r3 = UInt256.subBorrow(w3, rhs.w3, &borrow)
        return (UInt256(limbs: r0, r1, r2, r3), borrow)
    }

    @inlinable
    public func multipliedReportingOverflow(by rhs: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        if fitsInUInt64 && rhs.fitsInUInt64 {
            let (h, l) = w0.multipliedFullWidth(by: rhs.w0)
            return (UInt256(limbs: l, h, 0, 0), false)
        }
        let (high, low) = multipliedFullWidth(by: rhs)
        return (low, !high.isZero)
    }

    @inlinable
    public func dividedReportingOverflow(by rhs: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        if rhs.isZero { return (self, true) }
        return (quotientAndRemainder(dividingBy: rhs).quotient, false)
    }

    @inlinable
    public func remainderReportingOverflow(dividingBy rhs: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        if rhs.isZero { return (self, true) }
        return (quotientAndRemainder(dividingBy: rhs).remainder, false)
    }

    // Checked variants return nil instead of trapping: the form money paths use.

    /// `self + rhs`, or nil on overflow.
    @inlinable @inline(__always) public func checkedAdd(_ rhs: UInt256) -> UInt256? {
        let (v, o) = addingReportingOverflow(rhs)
        return o ? nil : v
    }

    /// `self - rhs`, or nil on underflow.
    @inlinable public func checkedSub(_ rhs: UInt256) -> UInt256? {
        let (v, o) = subtractingReportingOverflow(rhs)
        return o ? nil : v
    }

    /// `self * rhs`, or nil on overflow.
    @inlinable public func checkedMul(_ rhs: UInt256) -> UInt256? {
        let (v, o) = multipliedReportingOverflow(by: rhs)
        return o ? nil : v
    }

    /// `self / rhs`, or nil when `rhs` is zero.
    @inlinable public func checkedDiv(_ rhs: UInt256) -> UInt256? {
        rhs.isZero ? nil : quotientAndRemainder(dividingBy: rhs).quotient
    }

    /// `self % rhs`, or nil when `rhs` is zero.
    @inlinable public func checkedRem(_ rhs: UInt256) -> UInt256? {
        rhs.isZero ? nil : quotientAndRemainder(dividingBy: rhs).remainder
    }

    /// `max(self - rhs, 0)`.
    @inlinable public func saturatingSub(_ rhs: UInt256) -> UInt256 {
        let (v, o) = subtractingReportingOverflow(rhs)
        return o ? .zero : v
    }

    @inlinable
    public static func &* (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.wrappingProduct(rhs) }

    @inlinable
    public static func &*= (lhs: inout UInt256, rhs: UInt256) { lhs = lhs.wrappingProduct(rhs) }
}
