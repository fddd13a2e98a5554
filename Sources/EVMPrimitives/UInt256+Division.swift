import CIntrinsics

extension UInt256 {
    /// (hi·2^64 + lo) / d for hi < d: one machine division.
    @inlinable @inline(__always)
    static func div2by1(_ hi: UInt64, _ lo: UInt64, _ d: UInt64) -> (q: UInt64, r: UInt64) {
        let r = arb_div128by64(hi, lo, d)
        return (r.quotient, r.remainder)
    }

    /// (u2·2^128 + u1·2^64 + u0) / (d1·2^64 + d0) for a normalised divisor (top bit of `d1` set)
    /// and (u2, u1) < (d1, d0): the exact one-limb quotient and the remainder. Knuth's step D3
    /// with two divisor limbs tests the whole divisor, so no add-back is ever needed.
    @inlinable @inline(__always)
    static func div3by2(_ u2: UInt64, _ u1: UInt64, _ u0: UInt64, _ d1: UInt64, _ d0: UInt64) -> (q: UInt64, r: UInt128) {
        var qhat: UInt64
        var rhat: UInt64
        var rhatOverflow = false
        if u2 >= d1 {  // u2 == d1: the quotient digit is b − 1 or less
            qhat = .max
            (rhat, rhatOverflow) = u1.addingReportingOverflow(d1)
        } else {
            (qhat, rhat) = div2by1(u2, u1, d1)
        }
        var (ph, pl) = qhat.multipliedFullWidth(by: d0)
        while !rhatOverflow && (ph > rhat || (ph == rhat && pl > u0)) {
            qhat &-= 1
            (rhat, rhatOverflow) = rhat.addingReportingOverflow(d1)
            (ph, pl) = qhat.multipliedFullWidth(by: d0)
        }
        // The remainder is below the divisor, so arithmetic modulo 2^128 gives it exactly.
        let r = (UInt128(rhat) << 64 | UInt128(u0)) &- (UInt128(ph) << 64 | UInt128(pl))
        return (qhat, r)
    }

    /// One digit of a division by the normalised two-limb divisor (d1, d0): brings limb `u` down
    /// into the running remainder `r` (< divisor) and returns the quotient digit, skipping the
    /// machine division when the digit is zero.
    @inlinable @inline(__always)
    static func step3by2(_ r: inout UInt128, _ u: UInt64, _ d1: UInt64, _ d0: UInt64) -> UInt64 {
        let rh = UInt64(truncatingIfNeeded: r >> 64), rl = UInt64(truncatingIfNeeded: r)
        if rh == 0 && (rl < d1 || (rl == d1 && u < d0)) {
            r = UInt128(rl) << 64 | UInt128(u)
            return 0
        }
        let (q, nr) = div3by2(rh, rl, u, d1, d0)
        r = nr
        return q
    }

    /// (high·2^128 + low) / d for high < d and d ≥ 2^64: the 128-bit quotient and remainder in
    /// at most two machine divisions (one when the quotient fits 64 bits).
    @inlinable @inline(__always)
    static func divide(wideHigh high: UInt128, low: UInt128, by d: UInt128) -> (q: UInt128, r: UInt128) {
        let s = UInt64(truncatingIfNeeded: d >> 64).leadingZeroBitCount
        let dn = d << s
        let d1 = UInt64(truncatingIfNeeded: dn >> 64), d0 = UInt64(truncatingIfNeeded: dn)
        // The dividend shifted by s: (top, low << s); top < dn because high < d.
        let top = s == 0 ? high : high << s | low >> (128 - s)
        let lo = low << s
        let u3 = UInt64(truncatingIfNeeded: top >> 64), u2 = UInt64(truncatingIfNeeded: top)
        let u1 = UInt64(truncatingIfNeeded: lo >> 64), u0 = UInt64(truncatingIfNeeded: lo)
        var r = UInt128(u3) << 64 | UInt128(u2)
        let q1 = step3by2(&r, u1, d1, d0)
        let q0 = step3by2(&r, u0, d1, d0)
        return (UInt128(q1) << 64 | UInt128(q0), r >> s)
    }

    /// (high·2^128 + low) / d for high < d, any nonzero 128-bit d: the 256-by-128 division on the
    /// hot paths of pool math, in two or three machine divisions.
    @inlinable @inline(__always)
    public static func divide128(wideHigh high: UInt128, low: UInt128, by d: UInt128) -> (q: UInt128, r: UInt128) {
        if d >> 64 != 0 { return divide(wideHigh: high, low: low, by: d) }
        let dd = UInt64(truncatingIfNeeded: d)
        // high < d < 2^64: three limbs remain below it.
        let (q2, r2) = div2by1(UInt64(truncatingIfNeeded: high), UInt64(truncatingIfNeeded: low >> 64), dd)
        let (q1, r1) = div2by1(r2, UInt64(truncatingIfNeeded: low), dd)
        return (UInt128(q2) << 64 | UInt128(q1), UInt128(r1))
    }

    /// Divides the `count`-limb number `u` (least significant first) by `v`.
    ///
    /// Writes `count` quotient limbs to `q` and returns the remainder. This is Knuth's
    /// algorithm D (TAOCP vol. 2, 4.3.1) on 64-bit digits, with one- and two-limb fast paths.
    /// `u` is used as scratch and must have room for `count + 1` limbs.
    @inlinable
    static func divideLimbs(
        _ u: UnsafeMutablePointer<UInt64>, count m: Int, by v: UInt256, quotient q: UnsafeMutablePointer<UInt64>
    ) -> UInt256 {
        precondition(!v.isZero, "division by zero")
        for i in 0..<m { q[i] = 0 }
        var n = 4
        while n > 0 && v[limb: n - 1] == 0 { n -= 1 }
        var top = m
        while top > 0 && u[top - 1] == 0 { top -= 1 }
        if top < n { // dividend < divisor
            var r = UInt256()
            for i in 0..<top { r[limb: i] = u[i] }
            return r
        }
        if n == 1 {
            let d = v.w0
            var rem: UInt64 = 0
            var i = top - 1
            while i >= 0 {
                (q[i], rem) = div2by1(rem, u[i], d)
                i -= 1
            }
            return UInt256(rem)
        }
        // Normalize so that the divisor's top bit is set.
        let s = v[limb: n - 1].leadingZeroBitCount
        let vn = v << s
        let vTop = vn[limb: n - 1]
        let vNext = vn[limb: n - 2]
        u[top] = s == 0 ? 0 : u[top - 1] >> UInt64(64 - s)
        var i = top - 1
        while i > 0 {
            u[i] = s == 0 ? u[i] : (u[i] << UInt64(s)) | (u[i - 1] >> UInt64(64 - s))
            i -= 1
        }
        u[0] = u[0] << UInt64(s)

        if n == 2 {
            var r = UInt128(u[top]) << 64 | UInt128(u[top - 1])
            var j = top - 2
            while j >= 0 {
                (q[j], r) = div3by2(UInt64(truncatingIfNeeded: r >> 64), UInt64(truncatingIfNeeded: r), u[j], vTop, vNext)
                j -= 1
            }
            return UInt256(wide: r >> s, 0)
        }

        var j = top - n
        while j >= 0 {
            let hi = u[j + n], mid = u[j + n - 1], lo = u[j + n - 2]
            var qhat: UInt64
            var rhat: UInt64
            var rhatOverflow = false
            if hi >= vTop {
                qhat = UInt64.max
                (rhat, rhatOverflow) = mid.addingReportingOverflow(vTop)
            } else {
                (qhat, rhat) = div2by1(hi, mid, vTop)
            }
            while !rhatOverflow {
                let (ph, pl) = qhat.multipliedFullWidth(by: vNext)
                if ph > rhat || (ph == rhat && pl > lo) {
                    qhat &-= 1
                    (rhat, rhatOverflow) = rhat.addingReportingOverflow(vTop)
                } else {
                    break
                }
            }
            // u[j...j+n] -= qhat · vn
            var carry: UInt64 = 0
            var borrow = false
            for k in 0..<n {
                let (ph, pl) = qhat.multipliedFullWidth(by: vn[limb: k])
                let (plc, o) = pl.addingReportingOverflow(carry)
                carry = ph &+ (o ? 1 : 0)
                u[j + k] = subBorrow(u[j + k], plc, &borrow)
            }
            u[j + n] = subBorrow(u[j + n], carry, &borrow)
            if borrow { // qhat was one too large: add the divisor back
                qhat &-= 1
                var c = false
                for k in 0..<n { u[j + k] = addCarry(u[j + k], vn[limb: k], &c) }
                u[j + n] &+= c ? 1 : 0
            }
            q[j] = qhat
            j -= 1
        }
        var r = UInt256()
        for k in 0..<n { r[limb: k] = u[k] }
        return r >> s
    }

    @inlinable
    public func quotientAndRemainder(dividingBy rhs: UInt256) -> (quotient: UInt256, remainder: UInt256) {
        precondition(!rhs.isZero, "division by zero")
        if fitsInUInt64 && rhs.fitsInUInt64 {
            return (UInt256(w0 / rhs.w0), UInt256(w0 % rhs.w0))
        }
        if self < rhs { return (.zero, self) }
        if rhs.w1 | rhs.w2 | rhs.w3 == 0 {
            // One limb: a machine division per nonzero limb from the top.
            let d = rhs.w0
            var r: UInt64 = 0
            var q3: UInt64 = 0, q2: UInt64 = 0, q1: UInt64 = 0
            if w3 != 0 { (q3, r) = UInt256.div2by1(0, w3, d) }
            if w2 | r != 0 { (q2, r) = UInt256.div2by1(r, w2, d) }
            if w1 | r != 0 { (q1, r) = UInt256.div2by1(r, w1, d) }
            let (q0, r0) = UInt256.div2by1(r, w0, d)
            return (UInt256(limbs: q0, q1, q2, q3), UInt256(r0))
        }
        if rhs.w2 | rhs.w3 == 0 {
            // Two limbs: normalise, then one 3-by-2 step per limb below the top two.
            let s = UInt64(rhs.w1.leadingZeroBitCount)
            var d1 = rhs.w1, d0 = rhs.w0
            var u4: UInt64 = 0, u3 = w3, u2 = w2, u1 = w1, u0 = w0
            if s != 0 {
                let c = 64 &- s
                d1 = d1 &<< s | d0 &>> c
                d0 = d0 &<< s
                u4 = u3 &>> c
                u3 = u3 &<< s | u2 &>> c
                u2 = u2 &<< s | u1 &>> c
                u1 = u1 &<< s | u0 &>> c
                u0 = u0 &<< s
            }
            var r = UInt128(u4) << 64 | UInt128(u3)
            let q2 = UInt256.step3by2(&r, u2, d1, d0)
            let q1 = UInt256.step3by2(&r, u1, d1, d0)
            let q0 = UInt256.step3by2(&r, u0, d1, d0)
            return (UInt256(limbs: q0, q1, q2, 0), UInt256(wide: r >> s, 0))
        }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 10) { buf in
            let u = buf.baseAddress!
            let q = u + 5
            u[0] = w0; u[1] = w1; u[2] = w2; u[3] = w3; u[4] = 0
            let r = UInt256.divideLimbs(u, count: 4, by: rhs, quotient: q)
            return (UInt256(limbs: q[0], q[1], q[2], q[3]), r)
        }
    }

    /// Divides the 512-bit value (high, low) by `self`; the quotient must fit in 256 bits.
    @inlinable
    public func dividingFullWidth(_ dividend: (high: UInt256, low: UInt256)) -> (quotient: UInt256, remainder: UInt256) {
        precondition(dividend.high < self, "quotient overflows UInt256")
        if dividend.high.isZero { return dividend.low.quotientAndRemainder(dividingBy: self) }
        return UInt256.divideWide(dividend.high, dividend.low, by: self)
    }

    /// (high·2^256 + low) / d, for high < d.
    @inlinable
    static func divideWide(_ high: UInt256, _ low: UInt256, by d: UInt256) -> (quotient: UInt256, remainder: UInt256) {
        if d.w2 | d.w3 == 0 {
            // high < d < 2^128: the quotient is two 128-bit digits of a schoolbook division.
            let divisor = UInt128(d.w1) << 64 | UInt128(d.w0)
            let (q1, r1) = divide128(wideHigh: UInt128(high.w1) << 64 | UInt128(high.w0), low: UInt128(low.w3) << 64 | UInt128(low.w2), by: divisor)
            let (q0, r0) = divide128(wideHigh: r1, low: UInt128(low.w1) << 64 | UInt128(low.w0), by: divisor)
            return (UInt256(wide: q0, q1), UInt256(wide: r0, 0))
        }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 17) { buf in
            let u = buf.baseAddress!
            let q = u + 9
            u[0] = low.w0; u[1] = low.w1; u[2] = low.w2; u[3] = low.w3
            u[4] = high.w0; u[5] = high.w1; u[6] = high.w2; u[7] = high.w3; u[8] = 0
            let r = divideLimbs(u, count: 8, by: d, quotient: q)
            return (UInt256(limbs: q[0], q[1], q[2], q[3]), r)
        }
    }

    /// `floor(a·b / d)` with a 512-bit intermediate, as Uniswap's `FullMath.mulDiv`.
    /// Nil when `d` is zero or the result does not fit in 256 bits.
    @inlinable
    public static func mulDiv(_ a: UInt256, _ b: UInt256, _ d: UInt256) -> UInt256? {
        if d.isZero { return nil }
        let (high, low) = a.multipliedFullWidth(by: b)
        if high.isZero { return low.quotientAndRemainder(dividingBy: d).quotient }
        if high >= d { return nil }
        return divideWide(high, low, by: d).quotient
    }

    /// `ceil(a·b / d)` with a 512-bit intermediate, as `FullMath.mulDivRoundingUp`.
    /// Nil when `d` is zero or the result does not fit in 256 bits.
    @inlinable
    public static func mulDivRoundingUp(_ a: UInt256, _ b: UInt256, _ d: UInt256) -> UInt256? {
        if d.isZero { return nil }
        let (high, low) = a.multipliedFullWidth(by: b)
        let (q, r): (UInt256, UInt256)
        if high.isZero {
            (q, r) = low.quotientAndRemainder(dividingBy: d)
        } else {
            if high >= d { return nil }
            (q, r) = divideWide(high, low, by: d)
        }
        if r.isZero { return q }
        return q.checkedAdd(.one)
    }

    /// `ceil(self / d)`; traps when `d` is zero.
    @inlinable
    public func dividedRoundingUp(by d: UInt256) -> UInt256 {
        let (q, r) = quotientAndRemainder(dividingBy: d)
        return r.isZero ? q : q + 1
    }

    /// The integer square root: the largest `r` with `r·r ≤ self`.
    public func squareRoot() -> UInt256 {
        if isZero { return .zero }
        if fitsInUInt64 {
            // Start from the floating estimate and correct it exactly.
            var r = UInt64(Double(w0).squareRoot())
            while r > 0 && r.multipliedFullWidth(by: r) > (0, w0) { r -= 1 }
            while true {
                let n = r + 1
                let (h, l) = n.multipliedFullWidth(by: n)
                if h > 0 || l > w0 { break }
                r = n
            }
            return UInt256(r)
        }
        // Newton's iteration from an over-estimate 2^ceil(bits/2) decreases monotonically to the root.
        let bits = UInt256.bitWidth - leadingZeroBitCount
        var x = UInt256.one << ((bits + 1) / 2)
        while true {
            let y = (x + self / x) >> 1
            if y >= x { return x }
            x = y
        }
    }
}

extension UInt256 {
    /// `low + high·2^128`.
    @inlinable
    init(wide low: UInt128, _ high: UInt128) {
        self.init(limbs: UInt64(truncatingIfNeeded: low), UInt64(truncatingIfNeeded: low >> 64),
                  UInt64(truncatingIfNeeded: high), UInt64(truncatingIfNeeded: high >> 64))
    }
}
