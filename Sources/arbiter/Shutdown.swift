import Dispatch
import Foundation
import LabKit
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// How a long-running command (`lab`, `run`, `watch`) ends, whatever is in flight:
///
/// - The first SIGINT or SIGTERM asks the running service group to shut down gracefully. The
///   group has `grace` for that (services stop in reverse order: sources first, execution last,
///   which waits for trades in flight and journals what stays open); past it, the services are
///   cancelled.
/// - A second SIGINT or SIGTERM ends the process at once: the child processes are stopped and
///   the process exits with 130. The journal is SQLite: every write is one transaction, so what
///   it holds is consistent at any instant.
/// - Once a stop has begun (by a signal, or by the command itself with `stopping(within:)`), a
///   watchdog ends the process the same way if it has not exited by the stop's deadline.
///
/// The signals are taken here, not by the service group, so they are still heard after the
/// group has begun or finished its own shutdown.
final class Shutdown: @unchecked Sendable {
    private struct State {
        var signals = 0
        var group: ServiceGroup?
        var watchdog: DispatchWorkItem?
    }

    let command: String
    /// Past this after a signal, the process ends itself.
    let hardLimit: Duration
    // Dispatch's sources and work items are not Sendable: everything here is behind `lock`.
    private let lock = NSLock()
    private var state = State()
    private var sources: [any DispatchSourceSignal] = []

    init(command: String, hardLimit: Duration = .seconds(13)) {
        self.command = command
        self.hardLimit = hardLimit
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            // Signals that arrive close together come as one event: `data` says how many. (The
            // source lives as long as the process: the cycle through its handler is harmless.)
            source.setEventHandler { [weak self, source] in self?.caught(sig, times: max(1, Int(source.data))) }
            source.resume()
            sources.append(source)
        }
    }

    /// Whether a signal has asked this process to stop.
    var requested: Bool { lock.withLock { state.signals > 0 } }

    /// Runs `services` in a service group until they end or a signal stops them; graceful
    /// shutdown may take `grace`, then the services are cancelled.
    func run(_ services: [ServiceGroupConfiguration.ServiceConfiguration], grace: Duration = .seconds(10), logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = grace
        let group = ServiceGroup(configuration: configuration)
        let signalled = lock.withLock { () -> Bool in
            state.group = group
            return state.signals > 0
        }
        if signalled { await group.triggerGracefulShutdown() }
        defer { lock.withLock { state.group = nil } }
        try await group.run()
    }

    /// The command begins its own stop: it must be over within `limit`, or the watchdog ends the
    /// process. A later call moves the deadline to its own `limit` from then.
    func stopping(within limit: Duration) {
        arm(limit, why: "did not stop within \(limit)")
    }

    private func caught(_ sig: Int32, times: Int) {
        let (count, group) = lock.withLock { () -> (Int, ServiceGroup?) in
            state.signals += times
            return (state.signals, state.group)
        }
        let name = sig == SIGINT ? "SIGINT" : "SIGTERM"
        if count == 1 {
            Output.standardError("\(command): \(name): stopping (within \(hardLimit.components.seconds) s; again to stop at once)")
            arm(hardLimit, why: "did not stop within \(hardLimit) of \(name)")
            if let group { Task { await group.triggerGracefulShutdown() } }
        } else {
            Output.standardError("\(command): \(name) again: stopping at once")
            Self.exitNow(130)
        }
    }

    private func arm(_ limit: Duration, why: String) {
        let command = command
        let item = DispatchWorkItem {
            Output.standardError("\(command): \(why): ending the process (the journal keeps what is open; the next start settles it)")
            Self.exitNow(1)
        }
        lock.withLock {
            state.watchdog?.cancel()
            state.watchdog = item
        }
        let ms = Int(limit.components.seconds) * 1_000 + Int(limit.components.attoseconds / 1_000_000_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms), execute: item)
    }

    /// Stops the child processes and ends the process without unwinding (`Output` writes
    /// straight to the descriptors: nothing is left in a buffer).
    static func exitNow(_ status: Int32) -> Never {
        ChildProcesses.terminateAll(grace: .seconds(2))
        _exit(status)
    }
}
