import EVMCodec
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The helper processes this process has started and not yet stopped (devnets, the bridge
/// relayer), so that a process ending at once (a second Ctrl-C, a shutdown past its deadline) can
/// still stop them. Each child is also started with `--parent <our pid>` and exits by itself when
/// we are gone, which covers the one end nothing here can act on: SIGKILL.
public enum ChildProcesses {
    private static let live = Mutex<Set<pid_t>>([])

    static func started(_ pid: pid_t) { _ = live.withLock { $0.insert(pid) } }
    static func stopped(_ pid: pid_t) { _ = live.withLock { $0.remove(pid) } }

    /// The children still running, by pid.
    public static var running: [pid_t] { live.withLock { Array($0) }.filter { kill($0, 0) == 0 } }

    /// SIGTERM to every child, up to `grace` for them to exit, then SIGKILL to any left.
    /// Safe to call from any thread, also while the rest of the process is stuck.
    public static func terminateAll(grace: Duration = .seconds(2)) {
        let pids = live.withLock { Array($0) }
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        var left = pids
        while !left.isEmpty, ContinuousClock.now < deadline {
            left = left.filter { waitpid($0, nil, WNOHANG) == 0 }
            if !left.isEmpty { usleep(20_000) }
        }
        for pid in left { kill(pid, SIGKILL) }
    }

    /// Stops one child: SIGTERM, then SIGKILL if it has not exited within 5 s.
    static func stop(_ process: Process) {
        defer { stopped(process.processIdentifier) }
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The argument that makes a child exit once this process is gone.
    static var parentArguments: [String] { ["--parent", String(getpid())] }

    /// Starts `executable` with `arguments` (and `--parent <our pid>`), its standard error to
    /// `log`, and waits up to `within` for its one-line `{"ready": true, …}` announcement on
    /// standard output: the running process and that line. `what` names it in the error. The
    /// wait blocks a thread of its own, never one of the concurrency pool's (a child deploying
    /// contracts takes a while; on two cores two such waits would stall every task).
    static func launch(_ executable: URL, in directory: URL, _ arguments: [String], log: URL?, within: TimeInterval,
                       what: String) async throws -> (Process, JSONValue) {
        let p = Process()
        p.executableURL = executable
        p.currentDirectoryURL = directory
        p.arguments = arguments + parentArguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = log.flatMap { FileManager.default.createFile(atPath: $0.path, contents: nil) ? try? FileHandle(forWritingTo: $0) : nil }
            ?? FileHandle.nullDevice
        try p.run()
        started(p.processIdentifier)
        let deadline = Date().addingTimeInterval(within)
        let ready: JSONValue? = await withCheckedContinuation { c in
            Thread.detachNewThread {
                var buffer = Data()
                let handle = out.fileHandleForReading
                while Date() < deadline, p.isRunning {
                    // Read only what is there: a child alive and silent must not hold us past the deadline.
                    var pending = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
                    guard poll(&pending, 1, 100) > 0 else { continue }
                    let chunk = handle.availableData
                    if chunk.isEmpty { usleep(50_000); continue }
                    buffer.append(chunk)
                    for line in buffer.split(separator: 0x0a) {
                        if let v = try? JSONValue.parse([UInt8](line)), v["ready"] == .bool(true) { return c.resume(returning: v) }
                    }
                }
                c.resume(returning: nil)
            }
        }
        guard let ready else {
            stop(p)
            throw DevnetError("\(what) did not start within \(Int(within)) s")
        }
        return (p, ready)
    }
}
