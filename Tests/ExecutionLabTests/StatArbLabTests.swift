import ArbiterTestKit
import Detection
import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import Execution
import Foundation
import JSONRPC
import MarketState
import MarketWatch
import Opportunities
import Pipeline
import StreamBus
import Testing

/// Statistical arbitrage through the whole pipeline on the lab's statistical market (real
/// SushiSwap V2 pools; a USDC/WETH factor and two pairs whose spread reverts, with dips and
/// breaks; 125 blocks of history): the detector warms up from history and publishes on the bus,
/// the execution service routes the signals to the strategy, which opens positions and closes
/// them. Shown: a position closed on reversion, one at its stop-loss, a restart with a position
/// open (recovered from the journal and closed by the new process), and the inventory's balances
/// moved by exactly what the journaled positions say, to the wei.
extension ExecutionLabTests {
    /// One process's worth of the pipeline on `watcher`'s chain.
    struct StatArbProcess {
        let strategy: StatisticalArbitrageStrategy
        let detector: StatisticalArbitrageService
        let recovered: Int
        let tasks: [Task<Void, any Error>]

        init(watcher: ChainWatcher, configuration: StatisticalArbitrageService.Configuration, account: OwnCapitalAccount, journal: Journal) async throws {
            let bus = InProcessBus()
            var positions = PositionExecutor.Configuration()
            positions.legs.poll = .milliseconds(100)
            let executor = PositionExecutor(configuration: positions, accounts: [account], state: WatcherStates([watcher]), journal: journal, logger: LabWorld.logger)
            recovered = try await executor.recover()
            strategy = StatisticalArbitrageStrategy(executor: executor, watchers: [watcher], universes: [account.chainID: configuration], logger: LabWorld.logger)
            detector = StatisticalArbitrageService(watcher: watcher, configuration: configuration, bus: bus, logger: LabWorld.logger)
            let engine = ExecutionEngine(chains: [], state: WatcherStates([watcher]), journal: journal, logger: LabWorld.logger)
            let execution = ExecutionService(engine: engine, statistical: strategy, bus: bus, partitions: [configuration.partition], name: "test",
                                             logger: LabWorld.logger)
            let (s, d) = (strategy, detector)
            tasks = [Task { try await execution.run() }, Task { try await s.run() }, Task { try await d.run() }]
        }

        /// A stop: the services cancelled and waited for (openings under way drained by the execution service).
        func stop() async {
            for t in tasks { t.cancel() }
            for t in tasks { _ = await t.result }
        }
    }

    @Test func statisticalPositionsRevertStopAndSurviveARestart() async throws {
        let id: UInt64 = 900_001
        let devnet = try await Devnet(chainId: id, lab: true, market: true, blockTime: 1, seed: 4, statArb: 125)
        defer { devnet.stop() }
        let manifest = try #require(devnet.manifest)
        let tokens = try LabWorld.tokens(manifest)
        let rpc = RPCClient(HTTPTransport(url: devnet.http.absoluteString))
        let eth = EthClient(rpc)
        let watcher = ChainWatcher(.init(chainID: id, name: "lab", rpc: rpc, heads: .polling(.milliseconds(100)),
                                         multicall: try Address(hex: try #require(manifest["multicall3"]?.stringValue)),
                                         pools: try LabWorld.pools(manifest, tokens: tokens), matrix: PriceMatrix(expected: 64)), logger: LabWorld.logger)
        let watching = Task { try await watcher.run() }
        defer { watching.cancel() }
        try await LabWorld.wait("the watcher's state", seconds: 120) { watcher.latest != nil }
        let stable: Set<String> = ["USDC", "DAI", "USDT"]
        var configuration = StatisticalArbitrageService.Configuration(
            partition: "P3", pairs: [("WETH", "WBTC"), ("stETH", "WETH")],
            tokens: tokens.map { StatArbUniverse.Token(symbol: $0.key, address: $0.value, stable: stable.contains($0.key)) }.sorted { $0.symbol < $1.symbol },
            wrappedNative: try #require(tokens["WETH"]))
        configuration.backfill = 120
        let inventory = try Address(hex: try #require(manifest["executors"]?["statArb"]?.stringValue))
        let account = OwnCapitalAccount(chainID: id, eth: eth, route: .privateRPC(rpc), key: try PrivateKey(hex: try #require(manifest["statArbKey"]?.stringValue)),
                                        executor: inventory)
        let (journal, _) = try LabWorld.journal()
        let symbols = ["WETH", "WBTC", "stETH"]
        let start = try await eth.blockNumber()
        var before: [String: UInt256] = [:]
        for s in symbols { before[s] = try #require(await eth.balance(of: inventory, token: try #require(tokens[s]), block: start)) }

        // The first process runs until a position is open, and stops with it open (a close racing
        // the stop sends it round again).
        var first = try await StatArbProcess(watcher: watcher, configuration: configuration, account: account, journal: journal)
        #expect(first.recovered == 0)
        var held: StatPosition? = nil
        let deadline = ContinuousClock.now + .seconds(300)
        while held == nil, ContinuousClock.now < deadline {
            try await LabWorld.wait("a position open", seconds: 200) { try journal.positions(open: true).contains { $0.status == .open } }
            await first.stop()
            held = try journal.positions(open: true).first { $0.status == .open }
            if held == nil { first = try await StatArbProcess(watcher: watcher, configuration: configuration, account: account, journal: journal) }
        }
        let open = try #require(held, "no position was open at a stop")
        #expect(first.detector.status.backfilled == 120 && first.detector.status.published >= 1)

        // The restart: the position is recovered from the journal, and the new process closes it.
        let second = try await StatArbProcess(watcher: watcher, configuration: configuration, account: account, journal: journal)
        defer { Task { await second.stop() } }
        #expect(second.recovered >= 1)
        #expect(await second.strategy.executor.positions.contains { $0.id == open.id && $0.status == .open })
        do {
            try await LabWorld.wait("positions closed on reversion and at the stop, and the recovered one closed", seconds: 300) {
                let all = try journal.positions()
                let reasons = Set(all.filter { $0.status == .closed }.compactMap(\.closeReason))
                return reasons.isSuperset(of: [.reverted, .stopLoss]) && all.contains { $0.id == open.id && $0.status == .closed }
            }
        } catch {
            // What there was, for the failure's reader.
            for p in try journal.positions() { print("position pair \(p.pair) \(p.status) \(p.closeReason?.rawValue ?? "-") z \(p.entryZ) block \(p.openedBlock): \(p.detail)") }
            print("detector \(second.detector.status); refusals \(await second.strategy.executor.refusals)")
            throw error
        }
        await second.stop()

        // Every position journaled; the inventory moved by exactly what they say.
        let positions = try journal.positions()
        let changes = try #require(StatPosition.inventoryChanges(positions), "a swap still in doubt")
        let end = try await eth.blockNumber()
        for s in symbols {
            let token = try #require(tokens[s])
            let after = try #require(await eth.balance(of: inventory, token: token, block: end))
            #expect(Int256(bitPattern: after) &- Int256(bitPattern: before[s]!) == changes[token] ?? .zero, "\(s)")
        }
        for p in positions where p.status == .closed {
            #expect(p.realized == Int256(bitPattern: p.proceeds!) &- Int256(bitPattern: p.amountSold))
            #expect(!p.openTx.isEmpty && !p.closeTx.isEmpty && p.entryDeviation > 0)
        }
        let stopped = try #require(positions.first { $0.closeReason == .stopLoss })
        #expect(abs(stopped.entryZ) >= 2 && abs(stopped.entryZ) < 4)
    }
}
