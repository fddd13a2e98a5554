extension Int256: FixedWidthInteger, SignedInteger {
    public typealias Magnitude = UInt256
    public typealias Words = UInt256.Words

    public static var bitWidth: Int { 256 }
    public static var max: Int256 { Int256(bitPattern: UInt256.max >> 1) }
    public static var min: Int256 { Int256(bitPattern: UInt256.one << 255) }

    @inlinable
    public init(_truncatingBits bits: UInt) { self.init(bitPattern: UInt256(_truncatingBits: bits)) }

    @inlinable public var words: Words { bitPattern.words }
    @inlinable public var nonzeroBitCount: Int { bitPattern.nonzeroBitCount }
    @inlinable public var leadingZeroBitCount: Int { bitPattern.leadingZeroBitCount }
    @inlinable public var trailingZeroBitCount: Int { bitPattern.trailingZeroBitCount }
    @inlinable public var byteSwapped: Int256 { Int256(bitPattern: bitPattern.byteSwapped) }

    @inlinable
    public func addingReportingOverflow(_ rhs: Int256) -> (partialValue: Int256, overflow: Bool) {
        let r = Int256(bitPattern: bitPattern &+ rhs.bitPattern)
        return (r, isNegative == rhs.isNegative && r.isNegative != isNegative)
    }

    @inlinable
    public func subtractingReportingOverflow(_ rhs: Int256) -> (partialValue: Int256, overflow: Bool) {
        let r = Int256(bitPattern: bitPattern &- rhs.bitPattern)
        return (r, isNegative != rhs.isNegative && r.isNegative != isNegative)
    }

    @inlinable
    public func multipliedReportingOverflow(by rhs: Int256) -> (partialValue: Int256, overflow: Bool) {
        let partial = Int256(bitPattern: bitPattern &* rhs.bitPattern)
        let (high, low) = magnitude.multipliedFullWidth(by: rhs.magnitude)
        if !high.isZero { return (partial, true) }
        let negative = isNegative != rhs.isNegative && !low.isZero
        return (partial, Int256(negative: negative, magnitude: low) == nil)
    }

    @inlinable
    public func dividedReportingOverflow(by rhs: Int256) -> (partialValue: Int256, overflow: Bool) {
        if rhs.bitPattern.isZero { return (self, true) }
        if self == .min && rhs == -1 { return (self, true) }
        let q = magnitude / rhs.magnitude
        return (Int256(negative: isNegative != rhs.isNegative && !q.isZero, magnitude: q)!, false)
    }

    @inlinable
    public func remainderReportingOverflow(dividingBy rhs: Int256) -> (partialValue: Int256, overflow: Bool) {
        if rhs.bitPattern.isZero { return (self, true) }
        if self == .min && rhs == -1 { return (.zero, true) }
        let r = magnitude % rhs.magnitude
        return (Int256(negative: isNegative && !r.isZero, magnitude: r)!, false)
    }

    @inlinable
    public func multipliedFullWidth(by other: Int256) -> (high: Int256, low: UInt256) {
        var (high, low) = magnitude.multipliedFullWidth(by: other.magnitude)
        if isNegative != other.isNegative {
            // Negate the 512-bit value: invert and add one.
            high = ~high
            low = ~low
            let (l, carry) = low.addingReportingOverflow(.one)
            low = l
            if carry { high = high &+ .one }
        }
        return (Int256(bitPattern: high), low)
    }

    @inlinable
    public func dividingFullWidth(_ dividend: (high: Int256, low: UInt256)) -> (quotient: Int256, remainder: Int256) {
        var high = dividend.high.bitPattern, low = dividend.low
        let negativeDividend = dividend.high.isNegative
        if negativeDividend {
            high = ~high
            low = ~low
            let (l, carry) = low.addingReportingOverflow(.one)
            low = l
            if carry { high = high &+ .one }
        }
        let (q, r) = magnitude.dividingFullWidth((high, low))
        guard let quotient = Int256(negative: negativeDividend != isNegative && !q.isZero, magnitude: q) else {
            preconditionFailure("quotient overflows Int256")
        }
        return (quotient, Int256(negative: negativeDividend && !r.isZero, magnitude: r)!)
    }

    /// Arithmetic right shift (sign-filling); `n ≥ 256` gives 0 or -1.
    @inlinable
    public func shiftedRight(by n: Int) -> Int256 {
        if n < 0 { return shiftedLeft(by: -n) }
        if isNegative { return Int256(bitPattern: ~((~bitPattern).shiftedRight(by: n))) }
        return Int256(bitPattern: bitPattern.shiftedRight(by: n))
    }

    @inlinable
    public func shiftedLeft(by n: Int) -> Int256 {
        if n < 0 { return shiftedRight(by: -n) }
        return Int256(bitPattern: bitPattern.shiftedLeft(by: n))
    }

    @inlinable
    public static func &<< (lhs: Int256, rhs: Int256) -> Int256 { lhs.shiftedLeft(by: Int(rhs.bitPattern.w0 & 255)) }
    @inlinable
    public static func &>> (lhs: Int256, rhs: Int256) -> Int256 { lhs.shiftedRight(by: Int(rhs.bitPattern.w0 & 255)) }
    @inlinable public static func &<<= (lhs: inout Int256, rhs: Int256) { lhs = lhs &<< rhs }
    @inlinable public static func &>>= (lhs: inout Int256, rhs: Int256) { lhs = lhs &>> rhs }

    @inlinable
    public static func << <RHS: BinaryInteger>(lhs: Int256, rhs: RHS) -> Int256 {
        guard let n = Int(exactly: rhs) else { return rhs < 0 ? (lhs.isNegative ? -1 : 0) : 0 }
        return lhs.shiftedLeft(by: n)
    }

    @inlinable
    public static func >> <RHS: BinaryInteger>(lhs: Int256, rhs: RHS) -> Int256 {
        guard let n = Int(exactly: rhs) else { return rhs < 0 ? 0 : (lhs.isNegative ? -1 : 0) }
        return lhs.shiftedRight(by: n)
    }

    @inlinable public static func <<= <RHS: BinaryInteger>(lhs: inout Int256, rhs: RHS) { lhs = lhs << rhs }
    @inlinable public static func >>= <RHS: BinaryInteger>(lhs: inout Int256, rhs: RHS) { lhs = lhs >> rhs }

    @inlinable public static prefix func ~ (x: Int256) -> Int256 { Int256(bitPattern: ~x.bitPattern) }
    @inlinable public static func & (l: Int256, r: Int256) -> Int256 { Int256(bitPattern: l.bitPattern & r.bitPattern) }
    @inlinable public static func | (l: Int256, r: Int256) -> Int256 { Int256(bitPattern: l.bitPattern | r.bitPattern) }
    @inlinable public static func ^ (l: Int256, r: Int256) -> Int256 { Int256(bitPattern: l.bitPattern ^ r.bitPattern) }
    @inlinable public static func &= (l: inout Int256, r: Int256) { l = l & r }
    @inlinable public static func |= (l: inout Int256, r: Int256) { l = l | r }
    @inlinable public static func ^= (l: inout Int256, r: Int256) { l = l ^ r }

    @inlinable
    public static func + (lhs: Int256, rhs: Int256) -> Int256 {
        let (v, o) = lhs.addingReportingOverflow(rhs)
        precondition(!o, "Int256 addition overflow")
        return v
    }

    @inlinable
    public static func - (lhs: Int256, rhs: Int256) -> Int256 {
        let (v, o) = lhs.subtractingReportingOverflow(rhs)
        precondition(!o, "Int256 subtraction overflow")
        return v
    }

    @inlinable
    public static func * (lhs: Int256, rhs: Int256) -> Int256 {
        let (v, o) = lhs.multipliedReportingOverflow(by: rhs)
        precondition(!o, "Int256 multiplication overflow")
        return v
    }

    @inlinable
    public static func / (lhs: Int256, rhs: Int256) -> Int256 {
        precondition(!rhs.bitPattern.isZero, "division by zero")
        let (v, o) = lhs.dividedReportingOverflow(by: rhs)
        precondition(!o, "Int256 division overflow")
        return v
    }

    @inlinable
    public static func % (lhs: Int256, rhs: Int256) -> Int256 {
        precondition(!rhs.bitPattern.isZero, "division by zero")
        let (v, o) = lhs.remainderReportingOverflow(dividingBy: rhs)
        precondition(!o, "Int256 remainder overflow")
        return v
    }

    @inlinable public static func += (l: inout Int256, r: Int256) { l = l + r }
    @inlinable public static func -= (l: inout Int256, r: Int256) { l = l - r }
    @inlinable public static func *= (l: inout Int256, r: Int256) { l = l * r }
    @inlinable public static func /= (l: inout Int256, r: Int256) { l = l / r }
    @inlinable public static func %= (l: inout Int256, r: Int256) { l = l % r }

    @inlinable public static func &+ (l: Int256, r: Int256) -> Int256 { Int256(bitPattern: l.bitPattern &+ r.bitPattern) }
    @inlinable public static func &- (l: Int256, r: Int256) -> Int256 { Int256(bitPattern: l.bitPattern &- r.bitPattern) }
    @inlinable public static func &* (l: Int256, r: Int256) -> Int256 { Int256(bitPattern: l.bitPattern &* r.bitPattern) }

    /// `self + rhs`, or nil on overflow.
    @inlinable public func checkedAdd(_ rhs: Int256) -> Int256? {
        let (v, o) = addingReportingOverflow(rhs)
        return o ? nil : v
    }

    /// `self - rhs`, or nil on overflow.
    @inlinable public func checkedSub(_ rhs: Int256) -> Int256? {
        let (v, o) = subtractingReportingOverflow(rhs)
        return o ? nil : v
    }

    /// `self * rhs`, or nil on overflow.
    @inlinable public func checkedMul(_ rhs: Int256) -> Int256? {
        let (v, o) = multipliedReportingOverflow(by: rhs)
        return o ? nil : v
    }

    /// `self / rhs`, or nil when `rhs` is zero or the quotient overflows.
    @inlinable public func checkedDiv(_ rhs: Int256) -> Int256? {
        let (v, o) = dividedReportingOverflow(by: rhs)
        return o ? nil : v
    }
}
