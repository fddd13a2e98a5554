/// A strict, allocation-free JSON scanner over one frame's bytes: the primitives the Binance
/// frame parser is built from. It reads values in place; strings come back as byte ranges.
struct ByteScanner {
    let p: UnsafeBufferPointer<UInt8>
    var i: Int
    let end: Int

    init(_ p: UnsafeBufferPointer<UInt8>, start: Int = 0, end: Int? = nil) {
        self.p = p
        i = start
        self.end = end ?? p.count
    }

    static let maxDepth = 16

    var atEnd: Bool { i >= end }

    @inline(__always)
    mutating func ws() {
        while i < end {
            let c = p[i]
            guard c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 else { return }
            i += 1
        }
    }

    @inline(__always)
    mutating func peek() -> UInt8? {
        ws()
        return i < end ? p[i] : nil
    }

    @inline(__always)
    mutating func expect(_ c: UInt8) throws(FrameError) {
        ws()
        guard i < end, p[i] == c else { throw FrameError(.notJSON) }
        i += 1
    }

    /// `true` and consumed when the next byte is `c`.
    @inline(__always)
    mutating func take(_ c: UInt8) -> Bool {
        ws()
        if i < end, p[i] == c { i += 1; return true }
        return false
    }

    /// A string's contents (escapes left as written, but checked).
    @inline(__always)
    mutating func string() throws(FrameError) -> Range<Int> {
        try expect(0x22)
        let start = i
        while i < end {
            let c = p[i]
            if c == 0x22 { i += 1; return start..<(i - 1) }
            if c == 0x5c {
                guard i + 1 < end else { throw FrameError(.notJSON) }
                switch p[i + 1] {
                case 0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74: i += 2
                case 0x75:
                    guard i + 6 <= end else { throw FrameError(.notJSON) }
                    for k in (i + 2)..<(i + 6) where !Self.isHex(p[k]) { throw FrameError(.notJSON) }
                    i += 6
                default: throw FrameError(.notJSON)
                }
                continue
            }
            guard c >= 0x20 else { throw FrameError(.notJSON) }
            i += 1
        }
        throw FrameError(.notJSON)
    }

    static func isHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66) }

    /// A non-negative integer written without a fraction or exponent.
    @inline(__always)
    mutating func uint() throws(FrameError) -> UInt64 {
        ws()
        guard i < end, p[i] &- 0x30 < 10 else { throw FrameError(.wrongType) }
        guard !(p[i] == 0x30 && i + 1 < end && p[i + 1] &- 0x30 < 10) else { throw FrameError(.notJSON) }
        var v: UInt64 = 0
        while i < end {
            let d = p[i] &- 0x30
            guard d < 10 else { break }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { throw FrameError(.wrongType) }
            v = s
            i += 1
        }
        if i < end, p[i] == 0x2e || p[i] | 0x20 == 0x65 { throw FrameError(.wrongType) }
        return v
    }

    /// A signed integer.
    mutating func int() throws(FrameError) -> Int64 {
        ws()
        let negative = i < end && p[i] == 0x2d
        if negative { i += 1 }
        let m = try uint()
        guard m <= UInt64(Int64.max) else { throw FrameError(.wrongType) }
        return negative ? -Int64(m) : Int64(m)
    }

    mutating func bool() throws(FrameError) -> Bool {
        ws()
        if literal("true") { return true }
        if literal("false") { return false }
        throw FrameError(.wrongType)
    }

    mutating func null() -> Bool { ws(); return literal("null") }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= end else { return false }
        for k in 0..<n where p[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    /// A decimal written as a JSON string, as Binance writes prices and quantities.
    @inline(__always)
    mutating func decimal() throws(FrameError) -> CexDecimal {
        ws()
        guard i < end, p[i] == 0x22 else { throw FrameError(.wrongType) }
        let r = try string()
        guard let d = CexDecimal.parse(p, r.lowerBound, r.upperBound) else { throw FrameError(.badDecimal) }
        return d
    }

    /// Whether the bytes in `r` spell `key`.
    @inline(__always)
    func equals(_ r: Range<Int>, _ key: StaticString) -> Bool {
        let n = key.utf8CodeUnitCount
        guard r.count == n else { return false }
        for k in 0..<n where p[r.lowerBound + k] != key.utf8Start[k] { return false }
        return true
    }

    /// Reads an object's members: `member` reads the value of the key at the range and returns
    /// its bit (0: an unknown key, skipped); a bit seen twice is a duplicate. Returns the bits seen.
    @inline(__always)
    mutating func fields(_ member: (inout ByteScanner, Range<Int>) throws(FrameError) -> UInt16) throws(FrameError) -> UInt16 {
        try expect(0x7b)
        var seen: UInt16 = 0
        if take(0x7d) { return seen }
        repeat {
            let key = try string()
            try expect(0x3a)
            let bit = try member(&self, key)
            if bit == 0 { continue }
            guard seen & bit == 0 else { throw FrameError(.duplicateField) }
            seen |= bit
        } while take(0x2c)
        try expect(0x7d)
        return seen
    }

    /// Skips one value of any kind, checking its syntax.
    mutating func skip(depth: Int = 0) throws(FrameError) {
        guard depth < Self.maxDepth else { throw FrameError(.notJSON) }
        guard let c = peek() else { throw FrameError(.notJSON) }
        switch c {
        case 0x22: _ = try string()
        case 0x7b:
            i += 1
            if take(0x7d) { return }
            repeat {
                _ = try string()
                try expect(0x3a)
                try skip(depth: depth + 1)
            } while take(0x2c)
            try expect(0x7d)
        case 0x5b:
            i += 1
            if take(0x5d) { return }
            repeat { try skip(depth: depth + 1) } while take(0x2c)
            try expect(0x5d)
        case 0x74, 0x66: _ = try bool()
        case 0x6e: guard null() else { throw FrameError(.notJSON) }
        default: try number()
        }
    }

    /// Any JSON number.
    mutating func number() throws(FrameError) {
        if i < end, p[i] == 0x2d { i += 1 }
        var digits = 0
        while i < end, p[i] &- 0x30 < 10 { i += 1; digits += 1 }
        guard digits > 0 else { throw FrameError(.notJSON) }
        if i < end, p[i] == 0x2e {
            i += 1
            var f = 0
            while i < end, p[i] &- 0x30 < 10 { i += 1; f += 1 }
            guard f > 0 else { throw FrameError(.notJSON) }
        }
        if i < end, p[i] | 0x20 == 0x65 {
            i += 1
            if i < end, p[i] == 0x2b || p[i] == 0x2d { i += 1 }
            var e = 0
            while i < end, p[i] &- 0x30 < 10 { i += 1; e += 1 }
            guard e > 0 else { throw FrameError(.notJSON) }
        }
    }
}
