import CZstd
import Foundation

/// Reads a recording directory back, chunk by chunk, in order. What does not check out (a file
/// without the header, a chunk cut short by a crash, a chunk whose CRC fails) is skipped, said
/// in the report with where and why, and reading goes on at the next chunk that checks out: a
/// damaged recording gives every event it still holds intact, and never a wrong one.
public struct RecordingReader {
    public struct Skip: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var offset: Int
        public var bytes: Int
        public var reason: String
        public var description: String { "\(file) at byte \(offset): \(bytes) byte(s) skipped (\(reason))" }
    }

    public struct Report: Sendable, Equatable {
        public var files = 0
        public var chunks = 0
        public var events = 0
        public var skipped: [Skip] = []
        public init(files: Int = 0, chunks: Int = 0, events: Int = 0, skipped: [Skip] = []) {
            (self.files, self.chunks, self.events, self.skipped) = (files, chunks, events, skipped)
        }
    }

    public let directory: URL
    public let files: [String]

    public init(directory: URL) throws(RecordingError) {
        self.directory = directory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            throw RecordingError(.notARecording, "\(directory.path) cannot be read as a directory")
        }
        files = names.filter { $0.hasSuffix(".arbrec") }.sorted()
        guard !files.isEmpty else { throw RecordingError(.notARecording, "\(directory.path) holds no .arbrec file") }
    }

    /// Calls `body` with each intact chunk's events, in recording order.
    public func forEachChunk(_ body: ([RecordedEvent]) throws -> Void) throws -> Report {
        var report = Report()
        // One decompression context for every chunk (its tables allocated once).
        let context = ZSTD_createDCtx()
        defer { ZSTD_freeDCtx(context) }
        for name in files {
            let path = directory.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: path, options: .alwaysMapped) else {
                report.skipped.append(.init(file: name, offset: 0, bytes: 0, reason: "unreadable"))
                continue
            }
            let bytes = [UInt8](data)
            report.files += 1
            guard bytes.count >= RecordingFormat.fileHeaderSize, Array(bytes[0..<7]) == RecordingFormat.fileMagicPrefix else {
                report.skipped.append(.init(file: name, offset: 0, bytes: bytes.count, reason: "not a recording file (no ARBREC header)"))
                continue
            }
            guard let codec = RecordingFormat.Codec(rawValue: bytes[7]) else {
                report.skipped.append(.init(file: name, offset: 0, bytes: bytes.count, reason: "recording format version \(bytes[7]), which this build does not read"))
                continue
            }
            var at = RecordingFormat.fileHeaderSize
            while at < bytes.count {
                switch Self.chunk(bytes, at: at, codec: codec, context: context) {
                case .success(let (events, next)):
                    report.chunks += 1
                    report.events += events.count
                    try body(events)
                    at = next
                case .failure(let reason):
                    // Go on at the next chunk magic that starts a chunk which checks out.
                    let resume = Self.nextMagic(bytes, after: at) ?? bytes.count
                    report.skipped.append(.init(file: name, offset: at, bytes: resume - at, reason: reason.message))
                    at = resume
                }
            }
        }
        return report
    }

    /// Every event, with the report.
    public func readAll() throws -> ([RecordedEvent], Report) {
        var all: [RecordedEvent] = []
        let report = try forEachChunk { all += $0 }
        return (all, report)
    }

    static func chunk(_ b: [UInt8], at: Int, codec: RecordingFormat.Codec, context: OpaquePointer?) -> Result<([RecordedEvent], Int), RecordingError> {
        let h = RecordingFormat.chunkHeaderSize
        guard b.count - at >= h else { return .failure(.init(.corrupt, "a chunk header cut short (the last chunk of a crashed recording)")) }
        let header = b[at..<at + h]
        guard Array(header.prefix(4)) == RecordingFormat.chunkMagic else { return .failure(.init(.corrupt, "no chunk magic")) }
        let compressed = Int(RecordingFormat.get32(header, 4)), raw = Int(RecordingFormat.get32(header, 8))
        let count = Int(RecordingFormat.get32(header, 12)), first = RecordingFormat.get64(header, 16), crc = RecordingFormat.get32(header, 24)
        guard compressed <= RecordingFormat.maxChunkBytes, raw <= RecordingFormat.maxChunkBytes else { return .failure(.init(.corrupt, "implausible chunk lengths")) }
        guard b.count - at - h >= compressed else { return .failure(.init(.corrupt, "a chunk cut short (the last chunk of a crashed recording)")) }
        let body = b[at + h..<at + h + compressed]
        guard RecordingFormat.crc(header.prefix(24), body) == crc else { return .failure(.init(.corrupt, "CRC mismatch")) }
        do {
            let events = try RecordingFormat.decode(try RecordingFormat.decompress(body, rawLength: raw, codec: codec, context: context), count: count, first: first)
            return .success((events, at + h + compressed))
        } catch {
            return .failure(error)
        }
    }

    static func nextMagic(_ b: [UInt8], after: Int) -> Int? {
        var i = after + 1
        let m = RecordingFormat.chunkMagic
        while i + m.count <= b.count {
            if b[i] == m[0] && b[i + 1] == m[1] && b[i + 2] == m[2] && b[i + 3] == m[3] { return i }
            i += 1
        }
        return nil
    }
}
