import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port for a test suite, with no persistence. Fails with
/// an install hint when the binary is missing; never skips.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    /// On `port` when given (a server started again where a stopped one was), else a free one.
    public init(port: Int? = nil) throws {
        let candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"]
        guard let binary = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw FixtureError("redis-server is not installed: run ./scripts/setup (it installs the Debian package redis-server)")
        }
        self.port = try port ?? Devnet.freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--port", String(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        // If the test process dies without stopping it (a timeout, a crash), a watchdog does.
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(p.processIdentifier) 2>/dev/null; do sleep 1; done; kill -9 \(p.processIdentifier) 2>/dev/null"]
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try? watchdog.run()
        // Ready when it accepts a connection.
        let deadline = Date().addingTimeInterval(20)
        while !Self.accepts(self.port) {
            guard Date() < deadline, p.isRunning else {
                p.terminate()
                throw FixtureError("redis-server did not start on port \(self.port) (run \(binary) --port \(self.port) to see why)")
            }
            usleep(20_000)
        }
    }

    deinit { stop() }

    public func stop() {
        guard process.isRunning else { return }
        // SIGKILL: a child of the test process may inherit a mask that blocks SIGTERM, and a
        // server without persistence has nothing to save.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
