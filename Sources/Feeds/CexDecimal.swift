/// A non-negative decimal as Binance writes prices and quantities ("3456.78000000"): an exact
/// integer significand and a power-of-ten scale, so a price is the rational
/// `significand / 10^scale`. Exact at the edge; `double` only for statistics and display.
public struct CexDecimal: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var significand: UInt64
    /// Digits after the point, at most `maxScale`.
    public var scale: UInt8

    public static let maxScale: UInt8 = 18
    public static let zero = CexDecimal(significand: 0, scale: 0)

    public init(significand: UInt64, scale: UInt8) {
        precondition(scale <= Self.maxScale, "scale \(scale) is beyond \(Self.maxScale)")
        self.significand = significand
        self.scale = scale
    }

    /// Parses the digits in `bytes[start..<end]`: digits, at most one point with digits on both
    /// sides, nothing else (no sign, no exponent, no spaces). Nil when the text is not such a
    /// number or does not fit 64 bits.
    @inlinable
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> CexDecimal? {
        guard start < end else { return nil }
        var value: UInt64 = 0
        var scale = 0
        var seenPoint = false
        var digitsBefore = 0
        var i = start
        while i < end {
            let c = bytes[i]
            if c == 0x2e {
                guard !seenPoint, digitsBefore > 0 else { return nil }
                seenPoint = true
            } else {
                let d = c &- 0x30
                guard d < 10 else { return nil }
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(d))
                guard !o1, !o2 else { return nil }
                value = s
                if seenPoint { scale += 1 } else { digitsBefore += 1 }
            }
            i += 1
        }
        guard !seenPoint || scale > 0, scale <= Int(maxScale) else { return nil }
        return CexDecimal(significand: value, scale: UInt8(scale))
    }

    /// Parses a whole string.
    public init?(_ text: String) {
        var t = text
        guard let d = t.withUTF8({ Self.parse($0, 0, $0.count) }) else { return nil }
        self = d
    }

    public var isZero: Bool { significand == 0 }

    /// Approximate, for statistics and display.
    public var double: Double { Double(significand) / Self.powers[Int(scale)] }

    static let powers: [Double] = (0...Int(maxScale)).map { pow10($0) }
    static func pow10(_ n: Int) -> Double { var p = 1.0; for _ in 0..<n { p *= 10 }; return p }

    /// Exact comparison by cross-multiplication (128-bit).
    public static func < (a: CexDecimal, b: CexDecimal) -> Bool {
        let (x, y) = aligned(a, b)
        return x.high < y.high || (x.high == y.high && x.low < y.low)
    }

    public static func == (a: CexDecimal, b: CexDecimal) -> Bool {
        let (x, y) = aligned(a, b)
        return x == y
    }

    public func hash(into h: inout Hasher) {
        // Equal values hash equal: strip trailing zeros first.
        var s = significand, k = scale
        while k > 0, s % 10 == 0 { s /= 10; k -= 1 }
        h.combine(s)
        h.combine(k)
    }

    /// Both values at the larger scale, as 128-bit integers.
    static func aligned(_ a: CexDecimal, _ b: CexDecimal) -> ((high: UInt64, low: UInt64), (high: UInt64, low: UInt64)) {
        let k = max(a.scale, b.scale)
        return (a.significand.multipliedFullWidth(by: tenTo(k - a.scale)), b.significand.multipliedFullWidth(by: tenTo(k - b.scale)))
    }

    /// 10^n for n ≤ 19.
    public static func tenTo(_ n: UInt8) -> UInt64 {
        var p: UInt64 = 1
        for _ in 0..<n { p *= 10 }
        return p
    }

    public var description: String {
        guard scale > 0 else { return String(significand) }
        var digits = String(significand)
        while digits.count <= Int(scale) { digits = "0" + digits }
        let cut = digits.index(digits.endIndex, offsetBy: -Int(scale))
        return digits[..<cut] + "." + digits[cut...]
    }
}
