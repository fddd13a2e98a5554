/// A cursor over bytes read little-endian, every read bounded by what is left: what the recorded
/// streams' codecs read with. A read past the end, or a count the bytes left could not hold,
/// throws the codec's own error (`fail` makes it from a description).
public struct ByteReader<Failure: Error> {
    public let bytes: [UInt8]
    public private(set) var at = 0
    let what: String
    let fail: (String) -> Failure

    /// `what` names the thing read in errors ("a feed input (kind 3)").
    public init(_ bytes: [UInt8], what: String, fail: @escaping (String) -> Failure) {
        (self.bytes, self.what, self.fail) = (bytes, what, fail)
    }

    public var remaining: Int { bytes.count - at }

    public mutating func take(_ n: Int) throws(Failure) -> ArraySlice<UInt8> {
        guard n >= 0, remaining >= n else { throw fail("\(what) cut short at byte \(at)") }
        defer { at += n }
        return bytes[at..<at + n]
    }

    /// Everything left.
    public mutating func rest() -> ArraySlice<UInt8> {
        defer { at = bytes.count }
        return bytes[at...]
    }

    public mutating func u8() throws(Failure) -> UInt8 { try take(1).first! }
    public mutating func u32() throws(Failure) -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    public mutating func u64() throws(Failure) -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }

    /// A u32 count of items at least `itemSize` bytes each: never more than the bytes left hold.
    public mutating func count(itemSize: Int) throws(Failure) -> Int {
        let n = Int(try u32())
        guard n <= remaining / max(1, itemSize) else { throw fail("a count of \(n) past \(what)") }
        return n
    }

    /// Throws unless every byte was read.
    public func end() throws(Failure) {
        guard remaining == 0 else { throw fail("\(remaining) byte(s) after \(what)") }
    }
}

/// Bytes written little-endian: the writing side of `ByteReader`.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    /// A count or index written as u32 (truncated: callers write what fits).
    public mutating func u32(_ v: Int) { u32(UInt32(truncatingIfNeeded: v)) }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    public mutating func append(_ b: some Sequence<UInt8>) { bytes += b }
    /// `b` after its length (u32).
    public mutating func sized(_ b: [UInt8]) {
        u32(b.count)
        bytes += b
    }
}
