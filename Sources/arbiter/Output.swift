#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered standard output: `--jsonl` prints thousands of lines, one write each is too slow.
enum Output {
    nonisolated(unsafe) private static var buffer: [UInt8] = {
        var b = [UInt8]()
        b.reserveCapacity(1 << 16)
        return b
    }()

    /// Queues `line` and a newline.
    static func line(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0a)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Writes everything queued.
    static func flush() {
        guard !buffer.isEmpty else { return }
        writeAll(fd: 1, buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes `line` and a newline to standard output at once, whole even when tasks print
    /// concurrently (one write call; the buffered path is for one task).
    static func lineNow(_ line: String) {
        writeAll(fd: 1, Array((line + "\n").utf8))
    }

    /// Writes `line` and a newline to standard error at once.
    static func standardError(_ line: String) {
        writeAll(fd: 2, Array((line + "\n").utf8))
    }

    private static func writeAll(fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = write(fd, p.baseAddress! + off, p.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }
}

/// Reading inputs: standard input and files.
enum Input {
    /// All of standard input.
    static func standardInput() -> [UInt8] {
        readAll(fd: 0)
    }

    /// The bytes of the file at `path`.
    static func file(_ path: String) throws(CLIError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return readAll(fd: fd)
    }

    private static func readAll(fd: Int32) -> [UInt8] {
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}
