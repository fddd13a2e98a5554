import CZlib

/// One recorded input: which component's stream it belongs to, what it is (the stream's own
/// numbering), when it arrived (epoch nanoseconds), and its bytes (the stream's encoding).
public struct RecordedEvent: Sendable, Equatable {
    public var stream: UInt32
    public var kind: UInt8
    public var arrival: UInt64
    public var payload: [UInt8]

    public init(stream: UInt32, kind: UInt8, arrival: UInt64, payload: [UInt8]) {
        (self.stream, self.kind, self.arrival, self.payload) = (stream, kind, arrival, payload)
    }
}

/// The recording's layout on disk (docs/recording.md). A recording is a directory of files
/// `000001.arbrec`, `000002.arbrec`, … (a new one past the size limit). Each file: a 16-byte
/// header (`ARBREC`, 0x00, version 1, then the creation time, u64 little-endian), then chunks.
/// A chunk: `CHNK`, the compressed length, the raw length and the event count (u32 LE each), the
/// first event's arrival (u64 LE), a CRC-32 of those 24 bytes and the compressed bytes (u32 LE),
/// then the compressed bytes (zlib). Raw, a chunk is its events one after another: the stream
/// (varint), the kind (one byte), the arrival as a zigzag varint difference from the previous
/// event's (the first: from the chunk's first arrival), the payload's length (varint) and bytes.
public enum RecordingFormat {
    public static let fileMagic: [UInt8] = Array("ARBREC".utf8) + [0x00, 0x01]
    public static let chunkMagic: [UInt8] = Array("CHNK".utf8)
    public static let fileHeaderSize = 16
    public static let chunkHeaderSize = 28
    /// A chunk larger than this (raw or compressed) is refused as corrupt on reading.
    public static let maxChunkBytes = 64 << 20

    static func fileName(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".arbrec"
    }

    // MARK: events

    static func encode(_ events: [RecordedEvent], first: UInt64, into out: inout [UInt8]) {
        var previous = first
        for e in events {
            varint(UInt64(e.stream), &out)
            out.append(e.kind)
            let delta = Int64(bitPattern: e.arrival &- previous)
            varint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)), &out)
            previous = e.arrival
            varint(UInt64(e.payload.count), &out)
            out += e.payload
        }
    }

    static func decode(_ raw: [UInt8], count: Int, first: UInt64) throws(RecordingError) -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        events.reserveCapacity(count)
        var at = 0
        var previous = first
        func fail(_ m: String) -> RecordingError { RecordingError(.corrupt, "chunk event \(events.count): \(m) at byte \(at)") }
        func next() throws(RecordingError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard at < raw.count else { throw fail("a varint runs past the chunk") }
                let b = raw[at]
                at += 1
                guard shift < 64, shift < 63 || b <= 1 else { throw fail("a varint longer than 64 bits") }
                value |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while at < raw.count {
            let stream = try next()
            guard stream <= UInt64(UInt32.max) else { throw fail("stream \(stream) out of range") }
            guard at < raw.count else { throw fail("no kind") }
            let kind = raw[at]
            at += 1
            let zigzag = try next()
            let delta = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
            previous = previous &+ UInt64(bitPattern: delta)
            let length = try next()
            guard length <= UInt64(raw.count - at) else { throw fail("a payload of \(length) bytes past the chunk's end") }
            events.append(RecordedEvent(stream: UInt32(stream), kind: kind, arrival: previous, payload: Array(raw[at..<at + Int(length)])))
            at += Int(length)
        }
        guard events.count == count else { throw RecordingError(.corrupt, "chunk holds \(events.count) events, its header says \(count)") }
        return events
    }

    static func varint(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    // MARK: little-endian fields

    static func put32(_ v: UInt32, _ out: inout [UInt8]) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    static func put64(_ v: UInt64, _ out: inout [UInt8]) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    static func get32(_ b: ArraySlice<UInt8>, _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[b.startIndex + at + $1]) << (8 * $1) } }
    static func get64(_ b: ArraySlice<UInt8>, _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[b.startIndex + at + $1]) << (8 * $1) } }

    // MARK: zlib

    static func crc(_ parts: ArraySlice<UInt8>...) -> UInt32 {
        var c = crc32(0, nil, 0)
        for p in parts { p.withUnsafeBufferPointer { c = crc32(c, $0.baseAddress, uInt($0.count)) } }
        return UInt32(c)
    }

    static func compress(_ raw: [UInt8]) throws(RecordingError) -> [UInt8] {
        var length = compressBound(uLong(raw.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = out.withUnsafeMutableBufferPointer { o in raw.withUnsafeBufferPointer { i in compress2(o.baseAddress, &length, i.baseAddress, uLong(i.count), 1) } }
        guard status == Z_OK else { throw RecordingError(.io, "zlib compress2 failed (\(status))") }
        out.removeLast(out.count - Int(length))
        return out
    }

    static func decompress(_ compressed: ArraySlice<UInt8>, rawLength: Int) throws(RecordingError) -> [UInt8] {
        var length = uLong(rawLength)
        var out = [UInt8](repeating: 0, count: rawLength)
        let status = out.withUnsafeMutableBufferPointer { o in compressed.withUnsafeBufferPointer { i in uncompress(o.baseAddress, &length, i.baseAddress, uLong(i.count)) } }
        guard status == Z_OK, Int(length) == rawLength else {
            throw RecordingError(.corrupt, "the chunk does not inflate to its \(rawLength) bytes (zlib \(status), \(length) bytes)")
        }
        return out
    }
}

public struct RecordingError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String { case io, corrupt, notARecording }
        let value: Value
        public static let io = Code(value: .io)
        public static let corrupt = Code(value: .corrupt)
        public static let notARecording = Code(value: .notARecording)
        public var description: String { value.rawValue }
    }

    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) { (self.code, self.message) = (code, message) }
    public var description: String { "recording \(code): \(message)" }
}
