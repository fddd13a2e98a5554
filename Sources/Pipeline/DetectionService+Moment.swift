import Detection
import EVMPrimitives

extension DetectionService {
    /// A detection moment as recorded: the snapshot taken (its sequence), the clock reading it was
    /// sized at, and the CEX references its opportunities were weighed against. Replayed, it gives
    /// the same opportunities, confidences included.
    ///
    /// Bytes (docs/recording.md): sequence u64, now u64 (little-endian), the reference count u32,
    /// then each reference: symbol (varint length, UTF-8), base and quote (20 bytes each), the
    /// exact price's numerator and denominator (four u64 limbs each, least significant first),
    /// bid, ask, bid depth and ask depth (IEEE-754 binary64 bits, u64), age in ms u64, base
    /// decimals (one byte). A recording made before the references were kept has the count alone.
    public struct Moment: Equatable, Sendable {
        public var sequence: UInt64
        public var now: UInt64
        public var references: [CexReference]
        /// Recorded without its references (their count only): not replayable as it was.
        public var unrecordedReferences = 0

        public init(sequence: UInt64, now: UInt64, references: [CexReference]) {
            self.sequence = sequence
            self.now = now
            self.references = references
        }

        public struct Malformed: Error, Equatable, CustomStringConvertible {
            public var description: String
        }

        public func encoded() -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(20 + references.count * 180)
            Self.put(sequence, &out)
            Self.put(now, &out)
            Self.put(UInt64(references.count), &out, bytes: 4)
            for r in references {
                var n = r.symbol.utf8.count
                while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
                out.append(UInt8(n))
                out += r.symbol.utf8
                out += r.base.bytes
                out += r.quote.bytes
                for v in [r.numerator, r.denominator] { for limb in [v.w0, v.w1, v.w2, v.w3] { Self.put(limb, &out) } }
                for d in [r.bid, r.ask, r.bidDepth, r.askDepth] { Self.put(d.bitPattern, &out) }
                Self.put(r.ageMillis, &out)
                out.append(UInt8(clamping: r.baseDecimals))
            }
            return out
        }

        public init(decoding b: [UInt8]) throws(Malformed) {
            var at = 0
            func take(_ n: Int) throws(Malformed) -> ArraySlice<UInt8> {
                guard n >= 0, at + n <= b.count else { throw Malformed(description: "a detection moment cut short at byte \(at) of \(b.count)") }
                defer { at += n }
                return b[at..<at + n]
            }
            func u64(_ n: Int = 8) throws(Malformed) -> UInt64 { try take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
            sequence = try u64()
            now = try u64()
            let count = Int(try u64(4))
            references = []
            guard at < b.count || count == 0 else {
                unrecordedReferences = count
                return
            }
            for _ in 0..<count {
                var length = 0, shift = 0
                while true {
                    let byte = try take(1).first!
                    length |= Int(byte & 0x7f) << shift
                    if byte < 0x80 { break }
                    shift += 7
                    guard shift < 35 else { throw Malformed(description: "a reference's symbol length does not end") }
                }
                guard let symbol = String(bytes: try take(length), encoding: .utf8) else { throw Malformed(description: "a reference's symbol is not UTF-8") }
                guard let base = try? Address(bytes: try take(20)), let quote = try? Address(bytes: try take(20)) else {
                    throw Malformed(description: "a reference's tokens cut short")
                }
                let numerator = UInt256(limbs: try u64(), try u64(), try u64(), try u64())
                let denominator = UInt256(limbs: try u64(), try u64(), try u64(), try u64())
                let (bid, ask, bidDepth, askDepth) = (Double(bitPattern: try u64()), Double(bitPattern: try u64()),
                                                      Double(bitPattern: try u64()), Double(bitPattern: try u64()))
                let age = try u64()
                let decimals = Int(try take(1).first!)
                references.append(CexReference(symbol: symbol, base: base, quote: quote, numerator: numerator, denominator: denominator, bid: bid, ask: ask,
                                               ageMillis: age, bidDepth: bidDepth, askDepth: askDepth, baseDecimals: decimals))
            }
            guard at == b.count else { throw Malformed(description: "\(b.count - at) byte(s) after a detection moment") }
        }

        static func put(_ v: UInt64, _ out: inout [UInt8], bytes: Int = 8) {
            for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
        }
    }
}
