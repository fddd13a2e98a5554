import ArbiterServer
import ArgumentParser
import EVMCodec
import EVMPrimitives
import EVMSigning
import Execution
import Foundation
import LabKit
import Logging
import MarketWatch
import Opportunities
import Pipeline
import Registry
import ServiceLifecycle
import StreamBus

/// `arbiter lab`: the main job on its embedded default. Starts the devnet lab (an Ethereum-like
/// chain with Flashbots bundles, an OP-stack-like L2 and a Blast-like chain, both behind a
/// sequencer), deploys everything, runs the market driver and Arbiter in one process (in-process
/// bus, SQLite journal), shows a status table, and after `--blocks` blocks prints a summary.
struct Lab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Arbiter end to end on local devnets: market, detection, execution through flash loans, a journal.")

    @Option(name: .long, help: "How many lab chains: 1 (Ethereum-like), 2 (+ OP-like), 3 (+ Blast-like).")
    var chains = 3
    @Option(name: .long, help: "Stop after this many blocks of the first chain.")
    var blocks = 50
    @Option(name: .long, help: "Seed of the market driver (chain i uses seed + i).")
    var seed = 1
    @Option(name: .long, help: "Where the lab's files go (devnet logs, manifests, config, journal); default a new temporary directory.")
    var dir: String?
    @Option(name: .long, help: "The Arbiter checkout (its scripts/devnet and .venv); default: found from the current directory.")
    var root: String?
    @Flag(name: .long, help: "Print the summary as JSON on stdout (the status table still goes to stderr).")
    var json = false
    @Option(name: .long, help: "After the last block, how long open cross-chain transfers may take to settle; what is still open then is journaled as open.")
    var settleSeconds = 30
    @Option(name: .long, help: "Signing keys per chain, each with its own nonces (1…4; default: all the lab's funded keys).")
    var senders: Int?
    @Option(name: .long, help: "Trades in flight at once, all chains together (the risk gate's cap; default 3 per chain).")
    var maxInFlight: Int?
    @Option(name: .long, help: "Blocks of the first chain's statistical-arbitrage market mined before the lab starts (its detector warms up on them); 0: no statistical market.")
    var statArbHistory = 125
    @Flag(name: .long, help: "Without the lab's Binance stand-in (its prices lead the first chain's statistical market; it needs that market).")
    var noCex = false
    @Flag(name: .long, help: "Without the first chain's CoW settlements (a solver settles a large order every few blocks; Arbiter backruns them).")
    var noCow = false
    @Flag(name: .long, help: "Add the Solana stand-in (a cluster running the programs, Jupiter, a Jito block engine, drifting pools): round trips traded through Jupiter routes in Jito bundles.")
    var solana = false
    @Option(name: .long, help: "Record every input that reaches market state into this directory (a new one), for `arbiter replay`.")
    var record: String?
    @Option(name: .long, help: "The operator API (host:port, a port alone for loopback, or off): /health, /ready; keys from ARBITER_API_KEYS, else one made for the run and printed.")
    var http = "127.0.0.1:8080"

    static let profiles: [(name: String, profile: String, chainID: UInt64, partition: String)] = [
        ("ethereum-lab", "ethereum", 900_001, "P3"), ("optimism-lab", "optimism", 900_010, "P3"), ("blast-lab", "blast", 981_457, "P3"),
    ]

    func validate() throws {
        guard (1...3).contains(chains) else { throw CLIError("--chains must be 1, 2 or 3") }
        guard http == "off" || OperatorServer.address(http) != nil else { throw CLIError("--http must be host:port, a port, or off") }
        guard (1...100_000).contains(blocks) else { throw CLIError("--blocks must be within 1…100000") }
        guard (0...3_600).contains(settleSeconds) else { throw CLIError("--settle-seconds must be within 0…3600") }
        if let maxInFlight, !(1...100).contains(maxInFlight) { throw CLIError("--max-in-flight must be within 1…100") }
        guard (0...128).contains(statArbHistory) else { throw CLIError("--stat-arb-history must be within 0…128 (a node keeps 128 blocks of state)") }
        if let senders, !(1...4).contains(senders) { throw CLIError("--senders must be within 1…4 (the lab funds four keys per chain)") }
    }

    func run() async throws {
        _ = Telemetry.registry
        let shutdown = Shutdown(command: "arbiter lab")
        let root = try Self.checkout(root)
        let dir = URL(fileURLWithPath: dir ?? NSTemporaryDirectory() + "arbiter-lab-\(getpid())-\(UInt64(Date().timeIntervalSince1970))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let chosen = Array(Self.profiles.prefix(chains))
        Output.standardError("lab: starting \(chains) devnet(s) in \(dir.path) (deploying Uniswap V2/V3, lenders, executors: about a minute)")
        var devnets: [Devnet] = []
        defer { for d in devnets { d.stop() } }
        devnets = try await withThrowingTaskGroup(of: (Int, Devnet).self) { group in
            for (i, c) in chosen.enumerated() {
                let seed = self.seed + i
                group.addTask {
                    // The first chain also runs the statistical-arbitrage market, with history to warm up on.
                    // It also serves the lab's Binance stand-in, whose prices lead that market's factor.
                    (i, try await Devnet(root: root, chainId: c.chainID, lab: true, market: true, blockTime: 1, seed: seed,
                                   statArb: i == 0 && statArbHistory > 0 ? statArbHistory : nil, binance: i == 0 && statArbHistory > 0 && !noCex,
                                   cow: i == 0 && !noCow, log: dir.appendingPathComponent("devnet-\(c.name).log")))
                }
            }
            var out: [(Int, Devnet)] = []
            for try await d in group { out.append(d) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
        guard !shutdown.requested else { throw CLIError("stopped before the lab started") }
        // The registry: bundled chains off, the lab chains on, with their lenders and executors.
        var args: [String] = ["-m", "tools.devnet.lab_config"]
        for (c, d) in zip(chosen, devnets) {
            let manifest = dir.appendingPathComponent("\(c.name).json")
            try Data(d.manifest!.text.utf8).write(to: manifest)
            args.append("\(c.name)@\(c.partition)+\(c.profile)=\(manifest.path)")
        }
        let configText = try Self.python(root: root, args)
        let configPath = dir.appendingPathComponent("lab.toml")
        try Data(configText.utf8).write(to: configPath)
        var registry = try Registry.bundled().applying(overrides: configText, file: configPath.path)
        if solana {
            // The Solana stand-in's Ether (Wormhole) against the first lab chain's WETH, by Wormhole both ways.
            // Into the chain the lab's bridge takes its fee on the fill; into Solana the stand-in's takes none.
            let feePips: Int = devnets[0].manifest?["bridge"]?["feePips"].flatMap { Int($0.text) } ?? 0
            registry = try registry.applying(overrides: Self.wormholeRoutes(chosen[0].name, feePips: feePips), file: configPath.path + " (solana)")
        }
        let environment = ProcessInfo.processInfo.environment
        // ARBITER_EXECUTOR_KEY (or its keystore) if set; else each lab chain's own throwaway key from its manifest.
        let configured = try KeySource.load(role: "EXECUTOR", environment: environment)
        var labKeys: [UInt64: [PrivateKey]] = [:]
        for (c, d) in zip(chosen, devnets) {
            let listed = d.manifest?["executorKeys"]?.arrayValue?.compactMap(\.stringValue) ?? d.manifest?["executorKey"]?.stringValue.map { [$0] } ?? []
            guard !listed.isEmpty else { throw CLIError("the lab manifest of \(c.name) has no executor key") }
            labKeys[c.chainID] = try listed.prefix(senders ?? listed.count).map { try PrivateKey(hex: $0) }
        }
        let flashbotsKey = try KeySource.load(role: "FLASHBOTS", environment: environment) ?? ExecutionPlan.ephemeralKey()

        var logger = Logger(label: "arbiter.lab")
        logger.logLevel = .notice
        let bus = InProcessBus()
        let labChains = registry.chains.filter { c in chosen.contains { $0.name == c.name } }
        let journalPath = dir.appendingPathComponent("journal.sqlite").path
        let journal = try Journal(path: journalPath)
        // Solana first: its pools are also the Solana side of cross-chain detection.
        let recorder = try record.map { try InputRecorder(directory: URL(fileURLWithPath: $0), logger: logger) }
        recorder?.config(configText)
        let solanaLab = solana ? try await SolanaLab.start(root: root, dir: dir, seed: seed, journal: journal, bus: bus, logger: logger, recorder: recorder) : nil
        defer { solanaLab?.cluster.stop() }
        let (watchers, detection, crossChain) = try RunPlan.detection(registry, chains: labChains, environment: environment, minProfitBps: nil,
                                                                      partition: "all", bus: bus, logger: logger, solana: solanaLab?.scanner, recorder: recorder)
        let execChains = ExecutionPlan.chains(registry, watchers: watchers, executorKeys: { configured.map { [$0] } ?? labKeys[$0] ?? [] },
                                              flashbotsKey: flashbotsKey)
        // The risk gate's in-flight cap is for the whole process (3 by default); the lab's chains
        // each get that many, so one busy chain does not starve the others.
        var engineConfiguration = ExecutionEngine.Configuration()
        engineConfiguration.risk.maxInFlight = maxInFlight ?? 3 * chains
        // One set of pool claims for every executor here: no two of our trades meet in a pool.
        let claims = PoolClaims()
        let engine = ExecutionEngine(configuration: engineConfiguration, chains: execChains, state: WatcherStates(watchers), journal: journal, logger: logger,
                                     claims: claims)
        let recovered = try await engine.recover()
        let partitions = Array(Set(labChains.map(\.partition))).sorted()
        // Cross-chain: the lab bridge's relayer between the devnets, and the legs' own keys.
        var relayer: BridgeRelayer? = nil
        defer { relayer?.stop() }
        var crossKeys: [UInt64: PrivateKey] = [:]
        for (c, d) in zip(chosen, devnets) { crossKeys[c.chainID] = try d.manifest?["crossChainKey"]?.stringValue.map { try PrivateKey(hex: $0) } }
        let legs = ExecutionPlan.crossChainLegs(registry, watchers: watchers, key: { crossKeys[$0] }, flashbotsKey: flashbotsKey)
        var crossExecutor: CrossChainExecutor? = nil
        // With --solana, Solana–EVM trades either way with the first chain: the relayer also relays
        // the stand-in's token bridge, and the Solana executor is their origin or destination.
        if legs.count >= 2 || solanaLab != nil && !legs.isEmpty {
            relayer = try await BridgeRelayer(root: root, devnets: devnets, latency: 2, log: dir.appendingPathComponent("bridge.log"), solana: solanaLab?.cluster)
            var c = CrossChainExecutor.Configuration()
            c.maxHoldNanoseconds = 20_000_000_000  // the lab ends: an arrived asset is sold within 20 s
            let executor = CrossChainExecutor(configuration: c, legs: legs, origins: solanaLab.map { [$0.executor] } ?? [],
                                              destinations: solanaLab.map { [$0.executor] } ?? [], state: WatcherStates(watchers), journal: journal, logger: logger,
                                              claims: claims)
            _ = try await executor.recover()
            crossExecutor = executor
        }
        // Statistical arbitrage: a detector per chain with pairs; positions on the chains whose
        // manifest has an inventory executor and its key.
        let statDetection = StatArbPlan.detection(registry, watchers: watchers, bus: bus, logger: logger)
        var statKeys: [UInt64: PrivateKey] = [:]
        for (c, d) in zip(chosen, devnets) { statKeys[c.chainID] = try d.manifest?["statArbKey"]?.stringValue.map { try PrivateKey(hex: $0) } }
        let statArb = try await StatArbPlan.strategy(registry, watchers: watchers, key: { statKeys[$0] }, flashbotsKey: flashbotsKey, journal: journal,
                                                     logger: logger, claims: claims)?.0
        let inventories = await statArb?.executor.inventories ?? []
        let priorPositions = Set(((try? journal.positions()) ?? []).map(\.id))
        // CEX–DEX: the first chain's prices from the stand-in it serves; legs on its cexDex inventory.
        var cexPrices: CexPrices? = nil
        var cexDetection: [CexDexService] = []
        var cexExecutor: CexDexExecutor? = nil
        if let first = labChains.first(where: { $0.name == chosen[0].name }), let matrix = watchers.first?.configuration.matrix,
           let p = CexPlan.prices(registry, chains: [first], matrix: matrix, logger: logger) {
            cexPrices = p
            cexDetection = CexPlan.detection(registry, prices: p, watchers: watchers, bus: bus, logger: logger, recorder: recorder)
            for d in detection where d.status.chainID == first.id { d.align(with: p) }
            let keys = try (devnets[0].manifest?["cexDexKeys"]?.arrayValue ?? []).compactMap(\.stringValue).map { try PrivateKey(hex: $0) }
            if !keys.isEmpty {
                cexExecutor = try await CexPlan.executor(registry, watchers: watchers, keys: keys, flashbotsKey: flashbotsKey, journal: journal, logger: logger,
                                                         claims: claims)
            }
        }
        // CoW: the first chain's settlements, seen pending, backrun in bundles by the engine.
        let cow = try CowPlan.services(registry, watchers: watchers, environment: environment, bus: bus, logger: logger, recorder: recorder)
        let cexInventories = await cexExecutor?.inventories ?? []
        let cexLegs = cexExecutor
        let execution = ExecutionService(engine: engine, crossChain: crossExecutor, statistical: statArb, cexDex: cexExecutor, solana: solanaLab?.executor,
                                         bus: bus, partitions: partitions + (solanaLab == nil ? [] : ["P4"]), name: "lab", logger: logger)
        var symbols: [Address: (String, Int)] = [:]
        for d in devnets {
            if case .object(let tokens)? = d.manifest?["tokens"] {
                for (sym, t) in tokens {
                    if let a = t["address"]?.stringValue.flatMap({ try? Address(hex: $0) }), case .number(let dec)? = t["decimals"], let n = Int(dec) { symbols[a] = (sym, n) }
                }
            }
        }
        // After the last block: open transfers get `--settle-seconds`, then everything else 10 s
        // (trades in flight 5 s of it); the watchdog ends the process 3 s past that.
        let settleFor = Duration.seconds(settleSeconds)
        let inventoryTokens = Array(symbols.keys).sorted()
        let balancesBefore = await PositionReport.balances(inventories, tokens: inventoryTokens)
        let cexBalancesBefore = await PositionReport.balances(cexInventories, tokens: inventoryTokens)
        let status = LabStatus(chains: chosen.map { ($0.name, $0.chainID) }, watchers: watchers, detection: detection, engine: engine, blocks: UInt64(blocks),
                               symbols: symbols, settle: { [crossExecutor] in
                                   shutdown.stopping(within: settleFor + .seconds(13))
                                   // The run is `--blocks` long: no new trades of any kind after it.
                                   await engine.close()
                                   await statArb?.executor.stopOpening()
                                   await cexLegs?.stopAccepting()
                                   await solanaLab?.executor.stopAccepting()
                                   await crossExecutor?.settle(within: settleFor)
                               })
        // The group stops its services last to first: the recorder, first, stops after every
        // watcher and detector, so no detection moment is recorded without its publications.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = recorder.map { [.init(service: $0)] } ?? []
        services.append(.init(service: status, successTerminationBehavior: .gracefullyShutdownGroup))
        services.append(.init(service: execution))
        if let statArb { services.append(.init(service: statArb)) }
        if let crossChain { services.append(.init(service: crossChain)) }
        services += detection.map { .init(service: $0) }
        services += statDetection.map { .init(service: $0) }
        services += cexDetection.map { .init(service: $0) }
        services += cow.map { .init(service: $0) }
        if let solanaLab { services.append(.init(service: solanaLab.scanner)) }
        let operatorData = AppOperatorData(watchers: watchers, journal: journal, engine: engine, bus: bus, symbols: symbols, registry: Telemetry.registry)
        for s in OperatorAPI.services(http, data: operatorData, keyFile: dir.appendingPathComponent("api-key"), command: "lab", logger: logger) {
            services.append(.init(service: s, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        services += watchers.map { .init(service: $0) }
        if let cexPrices { services.append(.init(service: cexPrices.feed)) }
        try await shutdown.run(services, logger: logger)
        if let recorder {
            let c = recorder.finish()
            Output.standardError("lab: recorded \(c.events) inputs in \(c.chunks) chunk(s), \(c.files) file(s), \(c.writtenBytes) bytes in \(record!)"
                                 + (recorder.failures > 0 ? " (\(recorder.failures) failed writes)" : ""))
        }
        await crossExecutor?.stop(reason: shutdown.requested ? "the lab was interrupted" : "not settled within \(settleFor) of the last block")

        let report = await engine.snapshot
        var summary = LabSummary(report: report, chains: chosen.map { ($0.name, $0.chainID) }, symbols: symbols, detection: detection, journal: journalPath,
                                 directory: dir.path, decisions: (try? journal.decisionCounts()) ?? [:], recovered: recovered)
        summary.crossChain = await crossExecutor?.snapshot
        summary.open = LabSummary.openItems(journal)
        summary.interrupted = shutdown.requested
        var positions = PositionReport(detection: statDetection)
        positions.positions = ((try? journal.positions()) ?? []).filter { !priorPositions.contains($0.id) }
        positions.marks = statArb?.markToMarket ?? [:]
        positions.refusals = await statArb?.executor.refusals ?? [:]
        if !inventories.isEmpty {
            positions.check(inventories, tokens: inventoryTokens, before: balancesBefore,
                            after: await PositionReport.balances(inventories, tokens: inventoryTokens))
        }
        summary.positions = positions
        if let cexPrices {
            var cex = CexDexReport(detection: cexDetection, feed: cexPrices.feed.status)
            await cexLegs?.settleInDoubt()
            cex.trades = await cexLegs?.trades ?? []
            cex.refusals = await cexLegs?.refusals ?? [:]
            cex.hedges = (try? journal.hedges().count) ?? 0
            if !cexInventories.isEmpty {
                cex.check(cexInventories, tokens: inventoryTokens, before: cexBalancesBefore,
                          after: await PositionReport.balances(cexInventories, tokens: inventoryTokens),
                          inDoubt: await cexLegs?.inDoubt.map(\.txHash) ?? [])
            }
            summary.cexDex = cex
        }
        if !cow.isEmpty { summary.cow = CowReport(services: cow, report: report) }
        summary.solana = await solanaLab?.report()
        if json { Output.lineNow(summary.json.text) } else { Output.lineNow(summary.text) }
        if summary.mismatches > 0 {
            throw CLIError("\(summary.mismatches) trade(s) realized a profit different from the expected one (see \(journalPath)): "
                           + summary.mismatchNotes.joined(separator: "; "))
        }
    }

    /// The checkout: `--root`, else the first directory up from here with scripts/devnet.
    static func checkout(_ given: String?) throws -> URL {
        if let given { return URL(fileURLWithPath: given) }
        var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        while true {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("scripts/devnet").path) { return dir }
            let up = dir.deletingLastPathComponent()
            if up.path == dir.path { throw CLIError("cannot find the Arbiter checkout (scripts/devnet) from here: run from the checkout, or pass --root") }
            dir = up
        }
    }

    /// Runs the checkout's Python with `args`; its standard output.
    static func python(root: URL, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = root.appendingPathComponent(".venv/bin/python")
        p.arguments = args
        p.currentDirectoryURL = root
        // Standard error to a file, not a second pipe: a child filling one pipe while we wait on
        // the other would never end.
        let out = Pipe()
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-python-\(UUID().uuidString).err")
        guard FileManager.default.createFile(atPath: errPath.path, contents: nil) else { throw CLIError("cannot write \(errPath.path)") }
        defer { try? FileManager.default.removeItem(at: errPath) }
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: errPath)
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let errors = (try? Data(contentsOf: errPath)) ?? Data()
        guard p.terminationStatus == 0 else { throw CLIError("python \(args.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self).suffix(400))") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The live table (stderr, every 2 s) and the stop after `blocks` blocks of the first chain.
final class LabStatus: Service {
    let chains: [(name: String, id: UInt64)]
    let watchers: [ChainWatcher]
    let detection: [DetectionService]
    let engine: ExecutionEngine
    let blocks: UInt64
    let symbols: [Address: (String, Int)]
    /// Runs after the last block, while the chains are still watched (open cross-chain trades finish).
    let settle: @Sendable () async -> Void

    init(chains: [(String, UInt64)], watchers: [ChainWatcher], detection: [DetectionService], engine: ExecutionEngine, blocks: UInt64,
         symbols: [Address: (String, Int)], settle: @escaping @Sendable () async -> Void = {}) {
        self.symbols = symbols
        self.settle = settle
        self.chains = chains.map { (name: $0.0, id: $0.1) }
        self.watchers = watchers
        self.detection = detection
        self.engine = engine
        self.blocks = blocks
    }

    func run() async throws {
        var first: UInt64? = nil
        var lastPrint = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            let block = watchers.first?.status.stateBlock
            if first == nil, let block { first = block }
            let done = first.flatMap { f in block.map { $0 >= f + blocks } } ?? false
            if ContinuousClock.now - lastPrint >= .seconds(2) || done {
                lastPrint = .now
                let r = await engine.snapshot
                Output.standardError(String(repeating: "-", count: 96))
                Output.standardError(pad(["chain", "block", "opportunities", "executed", "realized profit"], [14, 8, 15, 10, 40]))
                for (w, d) in zip(watchers, detection) {
                    let s = w.status
                    let name = chains.first { $0.id == s.chainID }?.name ?? s.name
                    let trades = r.trades.filter { $0.chainID == s.chainID }
                    Output.standardError(pad([name, "\(s.stateBlock ?? 0)", "\(d.status.published)", "\(trades.count)",
                                              LabSummary.profits(trades, symbols)], [14, 8, 15, 10, 40]))
                }
                let refused = r.refused.sorted { $0.value > $1.value }.prefix(6).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                Output.standardError("submitted \(r.submitted), included \(r.included), failed \(r.failed)\(r.reorgedOut > 0 ? ", reorged out \(r.reorgedOut)" : ""); refused: \(refused.isEmpty ? "none" : refused)")
            }
            if done {
                // A signal during the settling ends it (its transfers are journaled open).
                await cancelWhenGracefulShutdown { await self.settle() }
                return
            }
        }
    }

    private func pad(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).map { c, w in c.count >= w ? c + " " : c + String(repeating: " ", count: w - c.count) }.joined()
    }
}

/// What `arbiter lab` prints at the end.
struct LabSummary {
    let report: ExecutionEngine.Report
    let chains: [(name: String, id: UInt64)]
    let symbols: [Address: (String, Int)]
    let detection: [DetectionService]
    let journal: String
    let directory: String
    let decisions: [String: Int]
    let recovered: (included: Int, dropped: Int)
    /// Cross-chain trades (when two or more chains are bridged).
    var crossChain: CrossChainExecutor.Report? = nil
    /// What the journal still has open at the end (the next start settles it).
    var open: [OpenItem] = []
    /// Stopped by a signal before its last block.
    var interrupted = false
    /// Statistical arbitrage: detection, positions, and the inventory check.
    var positions = PositionReport()
    /// CEX–DEX trading (with the lab's Binance stand-in).
    var cexDex: CexDexReport? = nil
    var solana: SolanaReport? = nil
    /// CoW settlement backruns.
    var cow: CowReport? = nil

    /// A submission or a cross-chain transfer whose fate was not settled when the lab stopped.
    struct OpenItem {
        var kind: String
        var chain: UInt64
        var reference: String
        var status: String
        var reason: String
    }

    /// The journal's open submissions (with their `open` decision's reason) and open transfers.
    static func openItems(_ journal: Journal) -> [OpenItem] {
        var out: [OpenItem] = []
        for s in (try? journal.openSubmissions()) ?? [] {
            let reason = (try? journal.latestDecision(opportunity: s.opportunity, outcome: "open")) ?? nil
            out.append(OpenItem(kind: "submission", chain: s.chain, reference: s.txHash.isEmpty ? "nonce \(s.nonce)" : s.txHash, status: s.status.rawValue,
                                reason: reason ?? "nonce \(s.nonce) of \(s.sender), \(s.mode): its fate was not known at the stop"))
        }
        for t in (try? journal.transfers(open: true)) ?? [] {
            out.append(OpenItem(kind: "transfer", chain: t.fromChain, reference: Hex.encode(t.opportunity.id), status: t.status.rawValue,
                                reason: "\(t.fromChain) → \(t.toChain): \(t.detail)"))
        }
        return out
    }

    /// Realized profit per asset, in the asset's units ("1.25 WETH, 310.5 DAI").
    static func profits(_ trades: [ExecutionEngine.Trade], _ symbols: [Address: (String, Int)]) -> String {
        var by: [Address: Int256] = [:]
        for t in trades { by[t.asset] = (by[t.asset] ?? .zero) &+ t.realizedProfit }
        if by.isEmpty { return "-" }
        return by.map { a, v -> String in
            let (sym, dec) = symbols[a] ?? (a.checksummed, 0)
            return String(format: "%.6g %@", v.doubleValue / pow(10, Double(dec)), sym)
        }.sorted().joined(separator: ", ")
    }

    /// Trades whose realized profit (from their receipt's transfers) is not what they were sent
    /// for, plus blocks where the executor's balance moved by other than the sum of its trades'
    /// realized profits. A bundle must realize exactly the expected and detected profit. A
    /// transaction (sequencer, mempool) may be preceded by transactions that arrived after our
    /// simulation: its contract guarantees at least the expected profit, so more is not a
    /// mismatch (it is counted as `improved`), less is; either way the `Executed` event must agree.
    var mismatches: Int {
        tradeMismatches.count + blockMismatches.count + positions.mismatches + (cexDex?.mismatches ?? 0) + (solana?.mismatches ?? 0)
    }

    var tradeMismatches: [ExecutionEngine.Trade] {
        report.trades.filter { t in
            t.eventProfit != t.realizedProfit || t.expectedProfit != t.detectedProfit
                || (t.bundled ? t.realizedProfit != t.expectedProfit : t.realizedProfit < t.expectedProfit)
        }
    }

    /// Each mismatch named, for the error the lab ends with (a log cut to its tail still says which).
    var mismatchNotes: [String] {
        var out = tradeMismatches.map { t in
            "chain \(t.chainID) block \(t.block) \(t.kind) \(t.txHash): detected \(t.detectedProfit), expected \(t.expectedProfit), "
                + "realized \(t.realizedProfit), event \(t.eventProfit)\(t.bundled ? " (bundle)" : "")"
        }
        out += blockMismatches.map { "\($0.key): its trades realized \($0.sum), the balance moved \($0.delta)" }
        if positions.mismatches > 0 { out.append("statistical arbitrage: \(positions.mismatches) inventory check(s) off") }
        if let c = cexDex, c.mismatches > 0 { out.append("CEX–DEX: \(c.mismatches) trade(s) or inventory check(s) off") }
        if let s = solana { out += s.mismatchNotes }
        return out
    }

    /// Per chain, block, executor and asset whose balance change was read: the trades' realized
    /// profits summed, against that change, where they differ.
    var blockMismatches: [(key: String, sum: Int256, delta: Int256)] {
        var blocks: [String: (sum: Int256, delta: Int256)] = [:]
        for t in report.trades {
            guard let delta = t.balanceDelta else { continue }
            let k = "chain \(t.chainID) block \(t.block) executor \(t.executor.checksummed) asset \(t.asset.checksummed)"
            blocks[k] = ((blocks[k]?.sum ?? .zero) &+ t.realizedProfit, delta)
        }
        return blocks.filter { $0.value.sum != $0.value.delta }.map { ($0.key, $0.value.sum, $0.value.delta) }.sorted { $0.key < $1.key }
    }

    /// Trades whose block balance change could not be read (not checked against it).
    var unverified: Int { report.trades.filter { $0.balanceDelta == nil }.count }

    /// Transactions that realized more than expected: the state moved our way ahead of them.
    var improved: Int { report.trades.filter { !$0.bundled && $0.realizedProfit > $0.expectedProfit }.count }

    /// Per in-process stage (and the whole detected → signed path): count, p50, p99 in µs.
    var stages: [(String, Int, Double, Double)] {
        report.stages.keys.sorted().map { k in
            let v = report.stages[k]!.sorted()
            func q(_ p: Double) -> Double { v.isEmpty ? 0 : Double(v[min(v.count - 1, Int(Double(v.count) * p))]) / 1_000 }
            return (k, v.count, q(0.5), q(0.99))
        }
    }

    var json: JSONValue {
        guard case .object(var fields) = tradesJSON else { return tradesJSON }
        fields.append((key: "statistical", value: positions.json(symbols)))
        fields.append((key: "cexDex", value: cexDex?.json(symbols) ?? .null))
        fields.append((key: "solana", value: solana?.json ?? .null))
        fields.append((key: "cow", value: cow?.json(symbols) ?? .null))
        return .object(fields)
    }

    var tradesJSON: JSONValue {
        .object([
            ("chains", .array(chains.map { c in
                let trades = report.trades.filter { $0.chainID == c.id }
                let published = detection.first { $0.status.chainID == c.id }?.status.published ?? 0
                return .object([
                    ("name", .string(c.name)), ("chainId", .number(String(c.id))), ("opportunities", .number(String(published))),
                    ("executed", .number(String(trades.count))), ("realizedProfit", .string(Self.profits(trades, symbols))),
                ])
            })),
            ("trades", .array(report.trades.map { t in
                .object([
                    ("chainId", .number(String(t.chainID))), ("opportunity", .string(t.opportunity)), ("kind", .string(t.kind.name)),
                    ("strategy", .string(t.strategy)), ("flashSource", .string(t.source.name)), ("tx", .string(t.txHash)),
                    ("symbol", .string(symbols[t.asset]?.0 ?? "")),
                    ("block", .number(String(t.block))), ("asset", .string(t.asset.checksummed)), ("executor", .string(t.executor.checksummed)),
                    ("lender", t.lender.map { .string($0.checksummed) } ?? .null), ("bundled", .bool(t.bundled)),
                    ("expectedProfit", .string(t.expectedProfit.description)), ("detectedProfit", .string(t.detectedProfit.description)),
                    ("realizedProfit", .string(t.realizedProfit.description)), ("eventProfit", .string(t.eventProfit.description)),
                    ("balanceDelta", t.balanceDelta.map { .string($0.description) } ?? .null),
                    ("target", t.target.map(JSONValue.string) ?? .null),
                ])
            })),
            ("submitted", .number(String(report.submitted))), ("included", .number(String(report.included))), ("failed", .number(String(report.failed))),
            ("refused", .object(report.refused.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })),
            ("stagesMicroseconds", .object(stages.map { s in
                (s.0, .object([("count", .number(String(s.1))), ("p50", .number(String(format: "%.1f", s.2))), ("p99", .number(String(format: "%.1f", s.3)))]))
            })),
            ("mismatches", .number(String(mismatches))), ("improved", .number(String(improved))), ("unverified", .number(String(unverified))),
            ("blockMismatches", .array(blockMismatches.map { .string("\($0.key): trades \($0.sum), balance \($0.delta)") })),
            ("journal", .string(journal)), ("directory", .string(directory)),
            ("interrupted", .bool(interrupted)),
            ("open", .array(open.map { i in
                .object([("kind", .string(i.kind)), ("chainId", .number(String(i.chain))), ("reference", .string(i.reference)),
                         ("status", .string(i.status)), ("reason", .string(i.reason))])
            })),
            ("recovered", .object([("included", .number(String(recovered.included))), ("dropped", .number(String(recovered.dropped)))])),
            ("crossChain", .object([
                ("received", .number(String(crossChain?.received ?? 0))),
                ("refused", .object((crossChain?.refused ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })),
                ("transfers", .array((crossChain?.transfers ?? []).map { t in
                    .object([
                        ("opportunity", .string(Hex.encode(t.opportunity.id))), ("from", .number(String(t.fromChain))), ("to", .number(String(t.toChain))),
                        ("status", .string(t.status.rawValue)), ("amountIn", .string(t.amountIn.description)), ("bought", .string(t.bought.description)),
                        ("received", t.received.map { .string($0.description) } ?? .null), ("proceeds", t.proceeds.map { .string($0.description) } ?? .null),
                        ("detectedProfit", .string(t.opportunity.grossProfit.description)),
                        ("realizedProfit", t.realizedProfit.map { .string($0.description) } ?? .null),
                        ("depositTx", .string(t.depositTx)), ("sellTx", .string(t.sellTx)),
                    ])
                })),
            ])),
        ])
    }

    var text: String {
        var lines = ["lab summary (journal \(journal))"]
        for c in chains {
            let trades = report.trades.filter { $0.chainID == c.id }
            lines.append("  \(c.name): \(trades.count) executed, realized \(Self.profits(trades, symbols))")
        }
        for t in report.trades {
            let sym = symbols[t.asset]?.0 ?? t.asset.checksummed
            lines.append("  block \(t.block) \(t.kind.name) via \(t.strategy)/\(t.source.name): expected \(t.expectedProfit), realized \(t.realizedProfit) \(sym) units"
                         + (t.realizedProfit == t.expectedProfit && t.realizedProfit == t.detectedProfit ? " (equal)"
                            : !t.bundled && t.realizedProfit > t.expectedProfit && t.expectedProfit == t.detectedProfit ? " (more: moved our way ahead of us)" : " (DIFFERENT)"))
        }
        for t in crossChain?.transfers ?? [] {
            lines.append("  cross-chain \(t.fromChain) → \(t.toChain): \(t.status.rawValue), spent \(t.amountIn), bought \(t.bought), received \(t.received.map(\.description) ?? "-"), "
                         + "proceeds \(t.proceeds.map(\.description) ?? "-"); realized \(t.realizedProfit.map(\.description) ?? "-") vs detected \(t.opportunity.grossProfit) quote units")
        }
        lines += positions.lines(symbols)
        lines += cexDex?.lines(symbols) ?? []
        lines += cow?.lines(symbols) ?? []
        lines += solana?.lines() ?? []
        lines.append("  submitted \(report.submitted), included \(report.included), failed \(report.failed)")
        for m in blockMismatches { lines.append("  BLOCK DIFFERENT: \(m.key): trades realized \(m.sum), the balance changed by \(m.delta)") }
        if unverified > 0 { lines.append("  \(unverified) trade(s) not checked against their block's balance change (the chain did not answer the reads)") }
        for (k, v) in report.refused.sorted(by: { $0.value > $1.value }) { lines.append("  refused \(k): \(v)") }
        lines.append("  open at the end: \(open.isEmpty ? "none" : "\(open.count) (journaled; the next start settles them)")" + (interrupted ? " (interrupted)" : ""))
        for i in open { lines.append("    \(i.kind) on chain \(i.chain) \(i.reference): \(i.status): \(i.reason)") }
        if let s = stages.first(where: { $0.0 == "detectedToSigned" }) {
            lines.append(String(format: "  detected → signed (in process): p50 %.1f µs, p99 %.1f µs over %d signed transactions", s.2, s.3, s.1))
        }
        return lines.joined(separator: "\n")
    }
}
