import ArbiterTestKit
import Foundation
import Recording
import Testing

/// The recording's files: written and read back event for event, rotated by size, and damaged
/// the ways a crash or a disk damages them (a cut tail, a flipped byte, a stray file): every intact
/// event still read, never a wrong one, each skip reported with where and why.
@Suite struct RecordingTests {
    func directory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("recording-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    }

    /// Seeded events: several streams, arrivals that mostly rise but sometimes go back (streams
    /// interleave), payloads from empty to a few KiB.
    func events(_ n: Int, seed: UInt64) -> [RecordedEvent] {
        var g = SeededGenerator(seed: seed)
        var t: UInt64 = 1_796_000_000_000_000_000
        return (0..<n).map { _ in
            t = UInt64.random(in: 0...9, using: &g) == 0 ? t - UInt64.random(in: 0...5_000, using: &g) : t + UInt64.random(in: 0...2_000_000, using: &g)
            let size = [0, 1, 40, 300, 4_000][Int.random(in: 0...4, using: &g)]
            return RecordedEvent(stream: UInt32.random(in: 0...5, using: &g) == 5 ? UInt32.max : UInt32.random(in: 0...4, using: &g),
                                 kind: UInt8.random(in: 0...255, using: &g), arrival: t,
                                 payload: (0..<size).map { _ in UInt8.random(in: 0...3, using: &g) })
        }
    }

    func record(_ events: [RecordedEvent], to dir: URL, chunkBytes: Int = 16 << 10, fileBytes: Int = 1 << 20, flushEvery: Int? = nil) throws -> RecordingWriter.Counters {
        var options = RecordingWriter.Options()
        options.chunkBytes = chunkBytes
        options.fileBytes = fileBytes
        let writer = try RecordingWriter(directory: dir, options: options, clock: { 42 })
        for (i, e) in events.enumerated() {
            try writer.append(e)
            if let flushEvery, i % flushEvery == flushEvery - 1 { try writer.flush() }
        }
        try writer.close()
        #expect(throws: RecordingError.self) { try writer.append(events[0]) }
        return writer.counters
    }

    /// Equal event lists; when not, says where they part (the lists are too long to print).
    func same(_ a: [RecordedEvent], _ b: [RecordedEvent]) -> Bool {
        guard a != b else { return true }
        let i = Array(zip(a, b)).firstIndex { $0.0 != $0.1 } ?? min(a.count, b.count)
        Issue.record("\(a.count) events read, \(b.count) expected; first difference at \(i)")
        return false
    }

    @Test func eventsComeBackAsWrittenAcrossChunksAndFiles() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = events(5_000, seed: 7)
        let counters = try record(written, to: dir, fileBytes: 256 << 10, flushEvery: 777)
        #expect(counters.events == 5_000 && counters.files >= 3 && counters.chunks > counters.files)
        let reader = try RecordingReader(directory: dir)
        #expect(reader.files.count == counters.files && reader.files.first == "000001.arbrec")
        let (read, report) = try reader.readAll()
        #expect(same(read, written))
        #expect(report == .init(files: counters.files, chunks: counters.chunks, events: 5_000, skipped: []))
        // Rotation: no file past its limit by more than one chunk's worth.
        for f in reader.files {
            let size = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(f).path)[.size] as! Int
            #expect(size <= 256 << 10 + 64 << 10, "\(f): \(size)")
        }
        // A recording is never written over.
        #expect(throws: RecordingError.self) { _ = try RecordingWriter(directory: dir, clock: { 0 }) }
    }

    /// Chunk boundaries of the last file, from its bytes (the documented layout).
    func chunks(_ bytes: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var at = 16
        while at + 28 <= bytes.count {
            let compressed = (0..<4).reduce(0) { $0 | Int(bytes[at + 4 + $1]) << (8 * $1) }
            out.append(at..<at + 28 + compressed)
            at += 28 + compressed
        }
        return out
    }

    @Test func aCrashCutTailIsSkippedAndEverythingBeforeItRead() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = events(2_000, seed: 11)
        _ = try record(written, to: dir, chunkBytes: 1 << 30, fileBytes: 1 << 30, flushEvery: 100)
        let file = dir.appendingPathComponent("000001.arbrec")
        let bytes = [UInt8](try Data(contentsOf: file))
        let spans = chunks(bytes)
        #expect(spans.count == 20 && spans.last!.upperBound == bytes.count)
        var g = SeededGenerator(seed: 3)
        for _ in 0..<12 {
            // Cut anywhere inside the last chunk (its header or its body), as a crash mid-write does.
            let cut = Int.random(in: spans.last!.lowerBound + 1..<spans.last!.upperBound, using: &g)
            try Data(bytes[0..<cut]).write(to: file)
            let (read, report) = try RecordingReader(directory: dir).readAll()
            #expect(same(read, Array(written.prefix(1_900))), "cut at \(cut)")
            #expect(report.chunks == 19 && report.skipped.count == 1 && report.skipped[0].offset == spans.last!.lowerBound
                    && report.skipped[0].reason.contains("cut short"), "\(report.skipped)")
        }
    }

    @Test func aDamagedChunkIsSkippedAndTheRestRead() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = events(1_000, seed: 5)
        _ = try record(written, to: dir, chunkBytes: 1 << 30, fileBytes: 1 << 30, flushEvery: 100)
        let file = dir.appendingPathComponent("000001.arbrec")
        let bytes = [UInt8](try Data(contentsOf: file))
        let spans = chunks(bytes)
        var g = SeededGenerator(seed: 9)
        for _ in 0..<20 {
            // One bit flipped anywhere in chunk 4 (header, CRC or body): chunk 4 alone is lost.
            let chunk = 4
            let at = Int.random(in: spans[chunk], using: &g)
            var damaged = bytes
            damaged[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &g)
            try Data(damaged).write(to: file)
            let (read, report) = try RecordingReader(directory: dir).readAll()
            #expect(same(read, Array(written[0..<400] + written[500...])), "flip at \(at)")
            #expect(report.skipped.count == 1 && report.skipped[0].offset == spans[chunk].lowerBound && report.skipped[0].bytes == spans[chunk].count,
                    "flip at \(at): \(report.skipped)")
        }
        // A stray file in the directory, and a file that is not a recording.
        try Data(bytes).write(to: file)
        try Data("not a recording at all".utf8).write(to: dir.appendingPathComponent("000002.arbrec"))
        try Data("notes".utf8).write(to: dir.appendingPathComponent("README.txt"))
        let (read, report) = try RecordingReader(directory: dir).readAll()
        #expect(same(read, written))
        #expect(report.skipped.map(\.file) == ["000002.arbrec"] && report.skipped.first?.reason.contains("ARBREC") == true, "\(report.skipped)")
        // A file of a format version this build does not know (a later one): skipped whole, said so.
        var later = bytes
        later[7] = 3
        try Data(later).write(to: dir.appendingPathComponent("000002.arbrec"))
        let (_, newer) = try RecordingReader(directory: dir).readAll()
        #expect(newer.skipped.map(\.file) == ["000002.arbrec"] && newer.skipped.first?.reason.contains("version 3") == true, "\(newer.skipped)")
        #expect(bytes[0..<8].elementsEqual(Array("ARBREC".utf8) + [0, 2]), "written as format version 2 (zstd)")
        let empty = directory()
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: RecordingError.self) { _ = try RecordingReader(directory: empty) }
    }
}
