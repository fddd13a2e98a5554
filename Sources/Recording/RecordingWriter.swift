import Foundation
import Synchronization

/// Appends events to a recording directory (the layout in `RecordingFormat`). Events gather
/// in memory until a chunk's worth (`chunkBytes`, raw) or a `flush()`; a chunk is then
/// compressed and written with one `write`, so a crash loses at most the chunk being gathered
/// (and a chunk cut by the crash is found and skipped by the reader). A new file starts when
/// the current one would pass `fileBytes`. Safe to share between tasks.
public final class RecordingWriter: Sendable {
    public struct Options: Sendable {
        /// Raw bytes gathered before a chunk is written.
        public var chunkBytes = 256 << 10
        /// A file's size past which the next chunk goes to a new file.
        public var fileBytes = 256 << 20
        public init() {}
    }

    public struct Counters: Sendable, Equatable {
        public var events = 0
        public var chunks = 0
        public var files = 0
        public var rawBytes = 0
        public var writtenBytes = 0
    }

    struct State {
        var fd: Int32 = -1
        var fileIndex = 0
        var fileSize = 0
        var pending: [RecordedEvent] = []
        var pendingBytes = 0
        var counters = Counters()
        var closed = false
    }

    public let directory: URL
    public let options: Options
    let state: Mutex<State>
    let clock: @Sendable () -> UInt64

    /// Starts a recording in `directory` (created if needed; it must hold no recording yet).
    public init(directory: URL, options: Options = .init(), clock: @escaping @Sendable () -> UInt64) throws(RecordingError) {
        self.directory = directory
        self.options = options
        self.clock = clock
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RecordingError(.io, "cannot create \(directory.path): \(error)")
        }
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.filter { $0.hasSuffix(".arbrec") } ?? []
        guard existing.isEmpty else { throw RecordingError(.io, "\(directory.path) already holds a recording (\(existing.count) file(s)): record into a new directory") }
        state = Mutex(State())
    }

    public var counters: Counters { state.withLock { $0.counters } }

    /// Adds one event; writes a chunk when enough has gathered.
    public func append(_ event: RecordedEvent) throws(RecordingError) {
        try state.withLock { s throws(RecordingError) in
            guard !s.closed else { throw RecordingError(.io, "the recording is closed") }
            s.pending.append(event)
            s.pendingBytes += event.payload.count + 12
            s.counters.events += 1
            if s.pendingBytes >= options.chunkBytes { try writeChunk(&s) }
        }
    }

    /// Writes what has gathered as a chunk (nothing when nothing has).
    public func flush() throws(RecordingError) {
        try state.withLock { s throws(RecordingError) in try writeChunk(&s) }
    }

    /// Flushes and closes; further appends throw.
    public func close() throws(RecordingError) {
        try state.withLock { s throws(RecordingError) in
            guard !s.closed else { return }
            defer {
                if s.fd >= 0 { _ = Glibc.close(s.fd) }
                s.fd = -1
                s.closed = true
            }
            try writeChunk(&s)
            if s.fd >= 0 { _ = fsync(s.fd) }
        }
    }

    private func writeChunk(_ s: inout State) throws(RecordingError) {
        guard !s.pending.isEmpty else { return }
        let first = s.pending[0].arrival
        var raw: [UInt8] = []
        raw.reserveCapacity(s.pendingBytes)
        RecordingFormat.encode(s.pending, first: first, into: &raw)
        let compressed = try RecordingFormat.compress(raw)
        var chunk = RecordingFormat.chunkMagic
        RecordingFormat.put32(UInt32(compressed.count), &chunk)
        RecordingFormat.put32(UInt32(raw.count), &chunk)
        RecordingFormat.put32(UInt32(s.pending.count), &chunk)
        RecordingFormat.put64(first, &chunk)
        RecordingFormat.put32(RecordingFormat.crc(chunk[...], compressed[...]), &chunk)
        chunk += compressed
        if s.fd < 0 || s.fileSize + chunk.count > options.fileBytes && s.fileSize > RecordingFormat.fileHeaderSize { try openNext(&s) }
        try write(s.fd, chunk)
        s.fileSize += chunk.count
        s.counters.chunks += 1
        s.counters.rawBytes += raw.count
        s.counters.writtenBytes += chunk.count
        s.pending.removeAll(keepingCapacity: true)
        s.pendingBytes = 0
    }

    private func openNext(_ s: inout State) throws(RecordingError) {
        if s.fd >= 0 {
            _ = fsync(s.fd)
            _ = Glibc.close(s.fd)
        }
        s.fileIndex += 1
        let path = directory.appendingPathComponent(RecordingFormat.fileName(s.fileIndex)).path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o644)
        guard fd >= 0 else { throw RecordingError(.io, "cannot create \(path): errno \(errno)") }
        s.fd = fd
        var header = RecordingFormat.fileMagic
        RecordingFormat.put64(clock(), &header)
        try write(fd, header)
        s.fileSize = header.count
        s.counters.files += 1
        s.counters.writtenBytes += header.count
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) throws(RecordingError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RecordingError(.io, "write failed: errno \(errno)")
            }
            done += n
        }
    }
}
