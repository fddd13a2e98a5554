import ArgumentParser
import EVMCodec
import Foundation
import Logging
import MarketState
import MarketWatch
import ServiceLifecycle

/// `arbiter watch`: market state for the configured chains, with a live line per chain.
struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow the configured chains' pools live: a line per chain (head, head lag, pools, updates/s, provider).")

    @OptionGroup var config: ConfigOptions
    @Option(name: .long, parsing: .upToNextOption, help: "Chains to watch (default: every enabled EVM chain).")
    var chains: [String] = []
    @Option(name: .long, help: "Stop after this many seconds (default: until SIGINT or SIGTERM).")
    var seconds: Double?
    @Option(name: .long, help: "Seconds between status lines.")
    var interval: Double = 1
    @Flag(name: .long, help: "Print each status line as JSON.")
    var json = false

    func validate() throws {
        if let seconds, !(seconds > 0) { throw CLIError("--seconds must be positive") }
        guard interval >= 0.05 else { throw CLIError("--interval must be at least 0.05") }
    }

    func run() async throws {
        let shutdown = Shutdown(command: "arbiter watch")
        let registry = try config.registry()
        let matrix = PriceMatrix(expected: 4_096)
        let plans = try WatchPlan.configurations(registry, chains: chains, environment: ProcessInfo.processInfo.environment, matrix: matrix)
        guard !plans.isEmpty else { throw CLIError("no enabled EVM chain has an RPC endpoint to watch") }
        var logger = Logger(label: "arbiter.watch")
        logger.logLevel = .notice
        let watchers = plans.map { ChainWatcher($0, logger: logger) }
        let printer = StatusPrinter(watchers: watchers, interval: .milliseconds(Int(interval * 1000)), json: json, stopAfter: seconds.map { .milliseconds(Int($0 * 1000)) })
        // Sources stop first: the printer is last, so its final line sees the watchers' last state.
        try await shutdown.run(watchers.map { .init(service: $0) } + [.init(service: printer, successTerminationBehavior: .gracefullyShutdownGroup)],
                               logger: logger)
    }
}

/// Prints a status line per chain every interval; with a deadline, ends the run when it passes.
final class StatusPrinter: Service {
    let watchers: [ChainWatcher]
    let interval: Duration
    let json: Bool
    let stopAfter: Duration?

    init(watchers: [ChainWatcher], interval: Duration, json: Bool, stopAfter: Duration?) {
        self.watchers = watchers
        self.interval = interval
        self.json = json
        self.stopAfter = stopAfter
    }

    func run() async throws {
        let start = ContinuousClock.now
        var last = (at: start, applied: watchers.map { _ in 0 })
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = ContinuousClock.now
            let elapsed = (now - last.at) / .seconds(1)
            for (i, w) in watchers.enumerated() {
                let s = w.status
                // A resync starts a new book whose counters restart: count from zero then.
                let delta = s.book.applied >= last.applied[i] ? s.book.applied - last.applied[i] : s.book.applied
                let rate = elapsed > 0 ? Double(delta) / elapsed : 0
                Output.line(json ? Self.json(s, rate: rate, provider: w.provider) : Self.text(s, rate: rate, provider: w.provider))
                last.applied[i] = s.book.applied
            }
            Output.flush()
            last.at = now
            if let stopAfter, now - start >= stopAfter { return }
        }
    }

    static func text(_ s: ChainWatcher.Status, rate: Double, provider: String?) -> String {
        let head = s.head.map(String.init) ?? "-"
        var line = "\(s.name.padding(toLength: 12, withPad: " ", startingAt: 0)) head \(head)  lag \(s.headLag)  pools \(s.pools)"
        if s.absent + s.pending > 0 { line += " (+\(s.absent + s.pending) absent)" }
        line += "  updates/s \(String(format: "%.1f", rate))  provider \(provider ?? "-")  heads \(s.connected ? "live" : "down")"
        if s.chainStale() { line += "  STALE (no head)" }
        if s.reorgs > 0 { line += "  reorgs \(s.reorgs)" }
        if s.stalePools > 0 { line += "  stale \(s.stalePools)" }
        if s.rpcErrors > 0 { line += "  rpc errors \(s.rpcErrors)" }
        if s.malformedLogs + s.malformedHeads > 0 { line += "  malformed \(s.malformedLogs + s.malformedHeads)" }
        return line
    }

    static func json(_ s: ChainWatcher.Status, rate: Double, provider: String?) -> String {
        func n(_ v: UInt64?) -> JSONValue { v.map { .number(String($0)) } ?? .null }
        func i(_ v: Int) -> JSONValue { .number(String(v)) }
        return JSONValue.object([
            ("chain", .string(s.name)), ("chainId", n(s.chainID)), ("head", n(s.head)), ("stateBlock", n(s.stateBlock)),
            ("headLag", n(s.headLag)), ("pools", i(s.pools)), ("absent", i(s.absent)), ("pending", i(s.pending)),
            ("stalePools", i(s.stalePools)), ("updates", i(s.book.applied)), ("updatesPerSecond", .number(String(format: "%.2f", rate))),
            ("provider", provider.map(JSONValue.string) ?? .null), ("connected", .bool(s.connected)), ("chainStale", .bool(s.chainStale())), ("reorgs", i(s.reorgs)),
            ("backfills", i(s.backfills)), ("discovered", i(s.discovered)), ("rpcErrors", i(s.rpcErrors)),
            ("malformedLogs", i(s.malformedLogs)), ("malformedHeads", i(s.malformedHeads)),
        ]).text
    }
}
