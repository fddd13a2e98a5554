import ArbiterServer
import ArgumentParser
import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import Logging
import MarketState
import MarketWatch
import Opportunities
import Pipeline
import Registry
import ServiceLifecycle
import SolanaExecution
import SolanaWatch
import StreamBus

/// `arbiter run`: detection on the partitions' chains and the consuming end of the bus, in one
/// ServiceGroup. In one process by default (in-process bus); with Redis, detectors and the
/// consumer can run in separate processes (`--role`).
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Detect arbitrage on the configured chains and publish it on the opportunity bus (in process, or Redis Streams).")

    enum Role: String, ExpressibleByArgument, CaseIterable { case detector, executor, all }

    @OptionGroup var config: ConfigOptions
    @Option(name: .long, help: "P1, P2, P3, P4 or all.")
    var partition = "all"
    @Option(name: .long, help: "detector, executor or all.")
    var role: Role = .all
    @Option(name: .long, help: "Redis URL (redis://host:port[/db]) for the bus; default ARBITER_REDIS_URL, else in process. Entries are signed with ARBITER_BUS_KEYS (id:hex[,previous-id:hex]).")
    var redis: String?
    @Option(name: .long, help: "This consumer's name in its group (the same name after a restart takes back what was pending).")
    var consumer = "executor-1"
    @Option(name: .long, help: "Minimum net profit in basis points of the input (default: per chain, 50 on Ethereum, 20 on most).")
    var minProfitBps: Int?
    @Option(name: .long, help: "Stop after this many seconds (default: until SIGINT or SIGTERM).")
    var seconds: Double?
    @Flag(name: .long, help: "Print every opportunity consumed as a JSON line.")
    var json = false
    @Flag(name: .long, help: "Execute what is consumed (--role all or executor; executor contracts in the registry, and ARBITER_EXECUTOR_KEY or its keystore; statistical positions also need a statArb executor and ARBITER_STAT_ARB_KEY, CEX–DEX legs a cexDex executor and ARBITER_CEX_DEX_KEY, Solana routes the solana chain with execution on and ARBITER_SOLANA_KEY). An executor alone watches its partitions' chains itself.")
    var execute = false
    @Option(name: .long, help: "The execution journal (SQLite), with --execute.")
    var journal = "arbiter-journal.sqlite"
    @Option(name: .long, help: "The operator API (host:port, a port alone for loopback, or off): /health, /ready; keys from ARBITER_API_KEYS.")
    var http = "off"
    @Option(name: .long, help: "Record every input that reaches market state and detection into this directory (a new one), for `arbiter replay` and `arbiter backtest`.")
    var record: String?

    func validate() throws {
        if let seconds, !(seconds > 0) { throw CLIError("--seconds must be positive") }
        guard ["P1", "P2", "P3", "P4", "all"].contains(partition) else { throw CLIError("--partition must be P1, P2, P3, P4 or all") }
        if let minProfitBps, !(0...10_000).contains(minProfitBps) { throw CLIError("--min-profit-bps must be within 0…10000") }
        if execute, role == .detector { throw CLIError("--execute runs where opportunities are consumed: --role executor or all") }
        guard http == "off" || OperatorServer.address(http) != nil else { throw CLIError("--http must be host:port, a port, or off") }
        if record != nil, role == .executor {
            throw CLIError("--record records market state and detection (the EVM chains', Solana's on P4): run it where they run (--role detector or all)")
        }
    }

    func run() async throws {
        if http != "off" { _ = Telemetry.registry }
        let shutdown = Shutdown(command: "arbiter run")
        let environment = ProcessInfo.processInfo.environment
        let registry = try config.registry()
        var logger = Logger(label: "arbiter.run")
        logger.logLevel = .notice
        let bus = try await Self.bus(url: redis ?? environment["ARBITER_REDIS_URL"], keys: environment["ARBITER_BUS_KEYS"])
        if bus is InProcessBus, role != .all {
            throw CLIError("--role \(role.rawValue) splits detection and execution across processes: that needs Redis (--redis or ARBITER_REDIS_URL)")
        }
        let chains = registry.chains.filter { $0.kind == .evm && $0.enabled && (partition == "all" || $0.partition == partition) }
        // The configuration the run starts from is the recording's first word: replay rebuilds from it.
        let recorder = try record.map { try InputRecorder(directory: URL(fileURLWithPath: $0), logger: logger) }
        recorder?.config(try config.config.map { String(decoding: try Input.file($0), as: UTF8.self) } ?? "")
        // The group stops its services last to first: the recorder, first, stops after every
        // watcher and detector (their last steps and publications are kept).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = recorder.map { [.init(service: $0)] } ?? []
        var detection: [DetectionService] = []
        var watchers: [ChainWatcher] = []
        var crossChain: CrossChainService? = nil
        var statDetection: [StatisticalArbitrageService] = []
        var cexPrices: CexPrices? = nil
        var cexDetection: [CexDexService] = []
        var cowDetection: [CowBackrunService] = []
        var solanaDetection: SolanaPoolWatcher? = nil
        // P4 is Solana's alone: no EVM chain is watched for it.
        let evmPartition = partition != "P4"
        if role != .executor {
            if !evmPartition || partition == "all", let w = try SolanaPlan.detection(registry, environment: environment, bus: bus, logger: logger, recorder: recorder) {
                solanaDetection = w
                Output.standardError("solana: detection over Raydium AMM v4 and CLMM, Orca Whirlpool, Meteora DLMM and Phoenix between \(w.configuration.mints?.count ?? 0) listed mint(s), published on P4")
            } else if !evmPartition {
                throw CLIError("--partition P4 detects on Solana: enable the solana chain ([chains.solana] enabled = true)")
            }
            if evmPartition {
                // With Solana's detection in this process, cross-chain routes to and from Solana too.
                (watchers, detection, crossChain) = try RunPlan.detection(registry, chains: chains, environment: environment, minProfitBps: minProfitBps,
                                                                          partition: partition, bus: bus, logger: logger, solana: solanaDetection,
                                                                          recorder: recorder)
            }
            statDetection = StatArbPlan.detection(registry, watchers: watchers, bus: bus, logger: logger)
            // Binance prices ([cex_feed] enabled): into the watchers' PriceMatrix, and CEX–DEX detection.
            if let matrix = watchers.first?.configuration.matrix, let p = CexPlan.prices(registry, chains: chains, matrix: matrix, logger: logger) {
                cexPrices = p
                cexDetection = CexPlan.detection(registry, prices: p, watchers: watchers, bus: bus, logger: logger, recorder: recorder)
                for d in detection { d.align(with: p) }
                Output.standardError("binance: \(p.feed.state.withLock { $0.symbols.count }) symbol(s), \(p.pairs.count) pair(s) on \(cexDetection.count) chain(s)")
            }
            // CoW settlements seen pending ([cow] enabled): backruns.
            cowDetection = try CowPlan.services(registry, watchers: watchers, environment: environment, bus: bus, logger: logger, recorder: recorder)
            if !cowDetection.isEmpty { Output.standardError("cow: settlements watched on \(cowDetection.count) chain(s)") }
        } else if execute && evmPartition {
            // Execution re-quotes on current state: an executor in its own process keeps its own.
            watchers = try RunPlan.watchers(registry, chains: chains, environment: environment, partition: partition, logger: logger)
        }
        let partitions = partition == "all" ? Array(Set(chains.map(\.partition) + (solanaDetection != nil ? ["P4"] : []))).sorted() : [partition]
        var sink: OpportunitySink? = nil
        var execution: ExecutionService? = nil
        var statArb: StatisticalArbitrageStrategy? = nil
        var operatorJournal: Journal? = nil
        if execute {
            // P4 is Solana's alone: no EVM executor key or chain is needed there.
            let key = try KeySource.load(role: "EXECUTOR", environment: environment)
            if evmPartition && key == nil {
                throw CLIError("--execute needs the executor key: ARBITER_EXECUTOR_KEY, or ARBITER_EXECUTOR_KEYSTORE with ARBITER_EXECUTOR_PASSPHRASE")
            }
            let flashbots = try KeySource.load(role: "FLASHBOTS", environment: environment) ?? ExecutionPlan.ephemeralKey()
            let senders = try key.map { [$0] + (try KeySource.extra(role: "EXECUTOR", environment: environment)) } ?? []
            let execChains = evmPartition ? ExecutionPlan.chains(registry, watchers: watchers, executorKeys: { _ in senders }, flashbotsKey: flashbots) : []
            if evmPartition && execChains.isEmpty { throw CLIError("--execute: no chain run here has execution on and executor contracts configured (executors = {…} in arbiter.toml)") }
            let store = try Journal(path: journal)
            operatorJournal = store
            // One set of pool claims for every executor here: no two of our trades meet in a pool.
            let claims = PoolClaims()
            let engine = ExecutionEngine(chains: execChains, state: WatcherStates(watchers), journal: store, logger: logger, claims: claims)
            let settled = try await engine.recover()
            Output.standardError("execution on \(execChains.count) chain(s), journal \(journal); settled from before: \(settled.included) included, \(settled.dropped) dropped")
            // Cross-chain legs, with a key of their own (their nonces apart from the trades'), on
            // the chains that name a bridge and a crossChain executor.
            var crossExecutor: CrossChainExecutor? = nil
            if let crossKey = try KeySource.load(role: "CROSS_CHAIN", environment: environment) {
                let legs = ExecutionPlan.crossChainLegs(registry, watchers: watchers, key: { _ in crossKey }, flashbotsKey: flashbots)
                if legs.count >= 2 {
                    let x = CrossChainExecutor(legs: legs, state: WatcherStates(watchers), journal: store, logger: logger, claims: claims)
                    let resumed = try await x.recover()
                    Output.standardError("cross-chain on \(legs.count) chain(s); \(resumed) open transfer(s) resumed")
                    crossExecutor = x
                }
            }
            // Statistical positions, with a key of their own, on the chains with a statArb executor (its inventory).
            if let statKey = try KeySource.load(role: "STAT_ARB", environment: environment),
               let (strategy, resumed) = try await StatArbPlan.strategy(registry, watchers: watchers, key: { _ in statKey }, flashbotsKey: flashbots,
                                                                        journal: store, logger: logger, claims: claims) {
                Output.standardError("statistical positions on \(strategy.universes.count) chain(s); \(resumed) open position(s) resumed")
                statArb = strategy
            }
            // CEX–DEX legs, with a key of their own, on the chains with a cexDex executor (its inventory).
            var cexExecutor: CexDexExecutor? = nil
            if let cexKey = try KeySource.load(role: "CEX_DEX", environment: environment),
               let x = try await CexPlan.executor(registry, watchers: watchers, keys: [cexKey] + (try KeySource.extra(role: "CEX_DEX", environment: environment)),
                                                  flashbotsKey: flashbots, journal: store, logger: logger, claims: claims) {
                Output.standardError("CEX–DEX legs on \(await x.inventories.count) chain(s)")
                cexExecutor = x
            }
            // Solana routes (P4): Jupiter and Jito, the wallet's key of its own.
            var solanaExecutor: SolanaExecutor? = nil
            if partition == "all" || partition == "P4", let x = try await SolanaPlan.executor(registry, environment: environment, journal: store, logger: logger) {
                let pending = await x.start()
                Output.standardError("solana: execution through \(registry.solana.jupiter) and \(registry.solana.jito); \(pending) trade(s) still pending from before")
                solanaExecutor = x
            } else if !evmPartition {
                throw CLIError("--execute --partition P4: Solana execution needs the solana chain enabled with execution on and ARBITER_SOLANA_KEY (a 32-byte Ed25519 seed, 0x-hex)")
            }
            execution = ExecutionService(engine: engine, crossChain: crossExecutor, statistical: statArb, cexDex: cexExecutor, solana: solanaExecutor, bus: bus,
                                         partitions: partitions + (solanaExecutor != nil && !partitions.contains("P4") ? ["P4"] : []), name: consumer, logger: logger)
            sink = execution!.sink
        } else if role != .detector {
            let json = self.json
            sink = OpportunitySink(bus: bus, partitions: partitions, name: consumer, logger: logger) { delivery, partition, receivedAt in
                Output.lineNow(json ? Self.json(delivery, partition: partition, receivedAt: receivedAt) : Self.text(delivery.opportunity))
            }
        }
        // Shutdown runs in reverse: sources, then detectors, then the consumer, then the printer.
        let printer = RunStatus(watchers: watchers, detection: detection, sink: sink, engine: execution?.engine, bus: bus,
                                stopAfter: seconds.map { .milliseconds(Int($0 * 1000)) }, solana: solanaDetection, solanaExecutor: execution?.solana)
        services.append(.init(service: printer, successTerminationBehavior: .gracefullyShutdownGroup))
        if let execution { services.append(.init(service: execution)) } else if let sink { services.append(.init(service: sink)) }
        if let statArb { services.append(.init(service: statArb)) }
        if let crossChain { services.append(.init(service: crossChain)) }
        services += detection.map { .init(service: $0) }
        services += statDetection.map { .init(service: $0) }
        services += cexDetection.map { .init(service: $0) }
        services += cowDetection.map { .init(service: $0) }
        if let solanaDetection { services.append(.init(service: solanaDetection)) }
        services += watchers.map { .init(service: $0) }
        if let cexPrices { services.append(.init(service: cexPrices.feed)) }
        var symbols: [Address: (String, Int)] = [:]
        for t in registry.tokens where t.enabled {
            if case .evm(let a) = t.address { symbols[a] = (t.symbol, t.decimals) }
        }
        let operatorData = AppOperatorData(watchers: watchers, journal: operatorJournal, engine: execution?.engine, bus: bus, symbols: symbols,
                                           registry: Telemetry.registry)
        for s in OperatorAPI.services(http, data: operatorData, keyFile: nil, command: "arbiter run", logger: logger) {
            services.append(.init(service: s, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        try await shutdown.run(services, logger: logger)
        if let recorder, let record {
            let c = recorder.finish()
            Output.standardError("run: recorded \(c.events) inputs in \(c.chunks) chunk(s), \(c.files) file(s), \(c.writtenBytes) bytes in \(record)"
                                 + (recorder.failures > 0 ? " (\(recorder.failures) failed writes)" : ""))
        }
    }

    /// The bus: Redis when a URL is given (entries signed with ARBITER_BUS_KEYS), else in process.
    static func bus(url: String?, keys: String?) async throws -> any OpportunityBus {
        guard let url, !url.isEmpty else { return InProcessBus() }
        guard let parsed = URL(string: url), parsed.scheme == "redis", let host = parsed.host else {
            throw CLIError("the Redis URL must look like redis://host:port[/db] (got \(url.prefix(80)))")
        }
        guard let keys, !keys.isEmpty else {
            throw CLIError("ARBITER_BUS_KEYS is not set: the Redis bus signs every entry (id:hex-secret[,previous-id:hex-secret])")
        }
        let parts = keys.split(separator: ",").map(String.init)
        var parsedKeys: [EntrySigner.Key] = []
        for (i, part) in parts.enumerated() {
            let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pieces.count == 2, !pieces[0].isEmpty, let secret = try? Hex.decode(pieces[1]), secret.count >= 16 else {
                throw CLIError("ARBITER_BUS_KEYS entry \(i + 1): write id:hex with at least 16 bytes of secret")
            }
            parsedKeys.append(.init(id: pieces[0], secret: secret))
        }
        guard parsedKeys.count <= 2 else { throw CLIError("ARBITER_BUS_KEYS holds the current key and at most one previous key") }
        var configuration = RedisStreamBus.Configuration(host: host, port: parsed.port ?? 6379,
                                                         signer: EntrySigner(current: parsedKeys[0], previous: parsedKeys.count > 1 ? parsedKeys[1] : nil))
        if let db = Int(parsed.path.dropFirst()) { configuration.database = db }
        do {
            return try await RedisStreamBus.connect(configuration)
        } catch {
            throw CLIError("\(error)")
        }
    }

    static func json(_ d: BusDelivery, partition: String, receivedAt: UInt64) -> String {
        JSONValue.object([
            ("partition", .string(partition)), ("entry", .string(d.entryID)), ("deliveries", .number(String(d.deliveries))), ("receivedAt", .number(String(receivedAt))),
            ("opportunity", d.opportunity.json),
        ]).text
    }

    static func text(_ o: Opportunity) -> String {
        let latency = o.timestamps.published > o.timestamps.eventReceived && o.timestamps.eventReceived > 0
            ? String(format: "%.3f ms", Double(o.timestamps.published - o.timestamps.eventReceived) / 1e6) : "-"
        return "\(o.kind.name) chain \(o.chains.map(String.init).joined(separator: "→")) block \(o.blockNumber) hops \(o.path.count) "
            + "in \(o.amountIn) net \(o.netProfit) ($\(String(format: "%.2f", Double(o.netProfitMicroUSD) / 1e6))) latency \(latency)"
    }
}

/// Status on standard error every few seconds, and the deadline of `--seconds`.
final class RunStatus: Service {
    let watchers: [ChainWatcher]
    let detection: [DetectionService]
    let sink: OpportunitySink?
    let engine: ExecutionEngine?
    let bus: any OpportunityBus
    let stopAfter: Duration?
    let solana: SolanaPoolWatcher?
    let solanaExecutor: SolanaExecutor?

    init(watchers: [ChainWatcher], detection: [DetectionService], sink: OpportunitySink?, engine: ExecutionEngine?, bus: any OpportunityBus, stopAfter: Duration?,
         solana: SolanaPoolWatcher? = nil, solanaExecutor: SolanaExecutor? = nil) {
        (self.solana, self.solanaExecutor) = (solana, solanaExecutor)
        self.watchers = watchers
        self.detection = detection
        self.sink = sink
        self.engine = engine
        self.bus = bus
        self.stopAfter = stopAfter
    }

    func run() async throws {
        let start = ContinuousClock.now
        var lastPrint = start
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            let now = ContinuousClock.now
            let done = stopAfter.map { now - start >= $0 } ?? false
            if now - lastPrint >= .seconds(5) || done {
                lastPrint = now
                for (i, w) in watchers.enumerated() {
                    let s = w.status
                    let detected = i < detection.count ? " cycles \(detection[i].status.detector.cyclesEvaluated) published \(detection[i].status.published)" : ""
                    Output.standardError("\(s.name) block \(s.stateBlock ?? 0) pools \(s.pools)\(detected)")
                }
                if let solana {
                    let s = await solana.status
                    Output.standardError("solana pools \(s.pools) (outside the mints \(s.outside)) subscriptions \(s.subscriptions) notifications \(s.notifications) polls \(s.polls) failed \(s.failedPolls) cycles \(s.detector.cycles) sized \(s.detector.sized) published \(s.published) clock \(s.clock)")
                }
                if let x = solanaExecutor {
                    let refused = await x.refusals.sorted { $0.value > $1.value }.prefix(4).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    let trades = await x.trades
                    Output.standardError("solana execution sent \(await x.sent) landed \(trades.count) realized \(trades.reduce(Int64(0)) { $0 + $1.realized }); refused \(refused.isEmpty ? "none" : refused)")
                }
                let c = bus.counters
                if let sink {
                    let ss = sink.status
                    Output.standardError("bus published \(c.published) dropped \(c.dropped) delivered \(c.delivered) rejected \(c.rejectedSignature) dead \(c.deadLettered); consumed \(ss.received) expired \(ss.expired)")
                }
                if let engine {
                    let r = await engine.snapshot
                    let refused = r.refused.sorted { $0.value > $1.value }.prefix(4).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    Output.standardError("execution received \(r.received) submitted \(r.submitted) included \(r.included) failed \(r.failed)\(r.reorgedOut > 0 ? " reorged out \(r.reorgedOut)" : ""); refused \(refused.isEmpty ? "none" : refused)")
                }
            }
            if done { return }
        }
    }
}
