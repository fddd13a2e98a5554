import CZlib
import CZstd

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
/// header (`ARBREC`, 0x00, the version, then the creation time, u64 little-endian), then chunks.
/// A chunk: `CHNK`, the compressed length, the raw length and the event count (u32 LE each), the
/// first event's arrival (u64 LE), a CRC-32 of those 24 bytes and the compressed bytes (u32 LE),
/// then the compressed bytes: a Zstandard frame (version 2, written) or zlib (version 1, still
/// read; zstd inflates these chunks about four times as fast, at twice the ratio). Raw, a chunk is its events one after another: the stream
/// (varint), the kind (one byte), the arrival as a zigzag varint difference from the previous
/// event's (the first: from the chunk's first arrival), the payload's length (varint) and bytes.
public enum RecordingFormat {
    /// How a file's chunks are compressed: its header's version byte.
    public enum Codec: UInt8, Sendable {
        case zlib = 1
        case zstd = 2
    }

    /// The header's first seven bytes; the eighth is the version (`Codec`).
    public static let fileMagicPrefix: [UInt8] = Array("ARBREC".utf8) + [0x00]
    /// What a file written now starts with.
    public static let fileMagic: [UInt8] = fileMagicPrefix + [Codec.zstd.rawValue]
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

    /// A chunk's raw bytes as a Zstandard frame (level 1: chunks are written as inputs arrive).
    static func compress(_ raw: [UInt8]) throws(RecordingError) -> [UInt8] {
        let bound = ZSTD_compressBound(raw.count)
        var failure: Int? = nil
        let out = [UInt8](unsafeUninitializedCapacity: bound) { o, count in
            let n = raw.withUnsafeBufferPointer { ZSTD_compress(o.baseAddress, bound, $0.baseAddress, $0.count, 1) }
            if ZSTD_isError(n) != 0 { failure = n; count = 0 } else { count = n }
        }
        if let failure { throw RecordingError(.io, "zstd compression failed (\(String(cString: ZSTD_getErrorName(failure))))") }
        return out
    }

    /// A chunk's compressed bytes inflated to exactly `rawLength` bytes, or why not.
    static func decompress(_ compressed: ArraySlice<UInt8>, rawLength: Int, codec: Codec, context: OpaquePointer?) throws(RecordingError) -> [UInt8] {
        var problem: String? = nil
        // Not zero-filled first: every byte is written by the codec, or the chunk is refused.
        let out = [UInt8](unsafeUninitializedCapacity: rawLength) { o, count in
            count = 0
            compressed.withUnsafeBufferPointer { i in
                switch codec {
                case .zstd:
                    let n = context.map { ZSTD_decompressDCtx($0, o.baseAddress, rawLength, i.baseAddress, i.count) }
                        ?? ZSTD_decompress(o.baseAddress, rawLength, i.baseAddress, i.count)
                    if ZSTD_isError(n) != 0 {
                        problem = "zstd: \(String(cString: ZSTD_getErrorName(n)))"
                    } else if n != rawLength {
                        problem = "zstd: \(n) bytes"
                    }
                case .zlib:
                    var length = uLong(rawLength)
                    let status = uncompress(o.baseAddress, &length, i.baseAddress, uLong(i.count))
                    if status != Z_OK || Int(length) != rawLength { problem = "zlib \(status), \(length) bytes" }
                }
            }
            if problem == nil { count = rawLength }
        }
        if let problem { throw RecordingError(.corrupt, "the chunk does not inflate to its \(rawLength) bytes (\(problem))") }
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
