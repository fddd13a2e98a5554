import ArgumentParser
import EVMCodec
import Feeds
import Foundation
import Logging
import MarketState
import MarketWatch
import Pipeline
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
        // Binance ([cex_feed] enabled): its books into the same PriceMatrix, a row per symbol.
        let watched = registry.chains.filter { c in plans.contains { $0.chainID == c.id } }
        let cex = CexPlan.prices(registry, chains: watched, matrix: matrix, logger: logger)
        let printer = StatusPrinter(watchers: watchers, cex: cex?.feed, interval: .milliseconds(Int(interval * 1000)), json: json,
                                    stopAfter: seconds.map { .milliseconds(Int($0 * 1000)) })
        // Sources stop first: the printer is last, so its final line sees the watchers' last state.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = watchers.map { .init(service: $0) }
        if let cex { services.append(.init(service: cex.feed)) }
        try await shutdown.run(services + [.init(service: printer, successTerminationBehavior: .gracefullyShutdownGroup)], logger: logger)
    }
}

/// Prints a status line per chain every interval; with a deadline, ends the run when it passes.
final class StatusPrinter: Service {
    let watchers: [ChainWatcher]
    let cex: BinanceFeed?
    let interval: Duration
    let json: Bool
    let stopAfter: Duration?

    init(watchers: [ChainWatcher], cex: BinanceFeed? = nil, interval: Duration, json: Bool, stopAfter: Duration?) {
        self.watchers = watchers
        self.cex = cex
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
            if let cex {
                let s = cex.status
                if json { Output.line(Self.json(s)) } else { Self.text(s).forEach(Output.line) }
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

    /// The feed's integrity line, then a row per symbol.
    static func text(_ s: BinanceFeed.Status) -> [String] {
        var head = "binance      messages \(s.counters.frames)  age p99 \(s.ageP99Millis.map { "\($0) ms" } ?? "-")  gaps/h \(s.gapsLastHour)"
        head += "  reconnects \(s.reconnects)  frozen \(s.frozenBooks)"
        if s.counters.malformed > 0 { head += "  malformed \(s.counters.malformed)" }
        if s.slotsDown > 0 { head += "  DOWN \(s.slotsDown)" }
        return [head] + s.symbols.map { row in
            "  \(row.symbol.padding(toLength: 10, withPad: " ", startingAt: 0)) \(row.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) bid \(row.bid)  ask \(row.ask)"
        }
    }

    static func json(_ s: BinanceFeed.Status) -> String {
        func i(_ v: Int) -> JSONValue { .number(String(v)) }
        return JSONValue.object([
            ("cex", .string("binance")), ("messages", i(s.counters.frames)), ("applied", i(s.counters.applied)), ("malformed", i(s.counters.malformed)),
            ("ageP99Ms", s.ageP99Millis.map { .number(String($0)) } ?? .null), ("gapsLastHour", i(s.gapsLastHour)), ("gaps", i(s.counters.gaps)),
            ("resyncs", i(s.counters.resyncs)), ("reconnects", i(s.reconnects)), ("frozenBooks", i(s.frozenBooks)), ("slotsDown", i(s.slotsDown)),
            ("symbols", .array(s.symbols.map { row in
                .object([("symbol", .string(row.symbol)), ("status", .string(row.status.rawValue)), ("bid", .string(row.bid.description)),
                         ("ask", .string(row.ask.description))])
            })),
        ]).text
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
