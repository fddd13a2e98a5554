import AMMMath
import CowProtocol
import Detection
import EVMPrimitives
import EthClient
import JSONRPC
import Logging
import MarketState
import MarketWatch
import Opportunities
import ServiceLifecycle
import StreamBus
import Synchronization

/// CoW settlements as a backrun source on one chain (design item #28): each settlement the
/// `CowSettlementWatcher` sees pending is valued in dollars (its trades at the PriceMatrix's
/// prices, stablecoins at one dollar), and one past the threshold has its effect on the watched
/// pools read from its call data (`SettlementEffect`) or, when the call data does not say, from a
/// simulation on the latest state (`debug_traceCall`, the logs it would emit); the
/// `CowBackrunDetector` turns the displaced pools into `backrun` opportunities, published on the
/// chain's partition. Landed settlements are counted (their displacement reaches the ordinary
/// detector through the pools' own logs).
public final class CowBackrunService: Service {
    public struct Configuration: Sendable {
        public var partition: String
        public var detector: CowBackrunDetector.Configuration
        /// Dollars per raw unit of the chain's stablecoins (the anchors of every valuation).
        public var stableUSDPerRaw: [Address: Double]
        public var priorityFee: UInt256 = 1_000_000_000
        /// Gas for a simulation of the settlement.
        public var simulationGas: UInt64 = 3_000_000
        /// A settlement still pending this many blocks after it was seen is given up (dropped, or replaced).
        public var maxPendingBlocks: UInt64 = 8
        /// Pending settlements followed at once (the oldest goes first).
        public var maxLive = 64

        public init(partition: String, detector: CowBackrunDetector.Configuration, stableUSDPerRaw: [Address: Double]) {
            self.partition = partition
            self.detector = detector
            self.stableUSDPerRaw = stableUSDPerRaw
        }
    }

    public struct Status: Equatable, Sendable {
        public var pending = 0
        /// Settlements followed now, and evaluations (one per settlement and block).
        public var live = 0
        public var evaluations = 0
        public var belowThreshold = 0
        public var unpriced = 0
        /// Effects read from the call data, from a simulation; neither (counted, skipped); would revert.
        public var decoded = 0
        public var simulated = 0
        public var unreadable = 0
        public var reverting = 0
        /// Large settlements that displaced no watched pool, or no cycle that pays.
        public var noDisplacement = 0
        public var noBackrun = 0
        public var published = 0
        public var publishFailures = 0
        public var landed = 0
        /// Dollars traded by the settlements looked at.
        public var volumeUSD = 0.0
    }

    public let watcher: ChainWatcher
    public let settlements: CowSettlementWatcher
    let configuration: Configuration
    let bus: any OpportunityBus
    let rpc: RPCClient?
    let logger: Logger
    /// `--record`: each evaluation as it runs and each backrun as published.
    let recorder: (@Sendable (CowBackrunStep.Recorded) -> Void)?
    private let shared = Mutex(Status())
    /// Settlements seen since the loop last looked, and the hashes of those that landed.
    private let inbox = Mutex<[PendingSettlement]>([])
    private let landedHashes = Mutex<Set<UInt256>>([])

    /// `rpc`: the node to simulate settlements on (nil: effects only from call data).
    public init(watcher: ChainWatcher, settlements: CowSettlementWatcher, configuration: Configuration, bus: any OpportunityBus, rpc: RPCClient?,
                logger: Logger, recorder: (@Sendable (CowBackrunStep.Recorded) -> Void)? = nil) {
        self.watcher = watcher
        self.settlements = settlements
        self.configuration = configuration
        self.bus = bus
        self.rpc = rpc
        self.logger = logger
        self.recorder = recorder
    }

    public var status: Status { shared.withLock { $0 } }

    /// A settlement still pending: the block it was first seen at, its volume, the last block it was evaluated on.
    struct Live {
        var settlement: PendingSettlement
        var firstBlock: UInt64
        var volumeUSD: Double
        var evaluatedAt: UInt64
    }

    public func run() async throws {
        var step = CowBackrunStep(configuration: configuration, settlement: settlements.configuration.settlement)
        await withTaskGroup(of: Void.self) { group in
            // The watcher runs with this service: it ends (and ends its streams) at shutdown.
            group.addTask { try? await self.settlements.run() }
            group.addTask {
                for await s in self.settlements.landed {
                    self.landedHashes.withLock {
                        // Followed settlements expire within blocks: an old hash need not be kept.
                        if $0.count >= 10_000 { $0.removeAll() }
                        $0.insert(s.transactionHash)
                    }
                    self.shared.withLock { $0.landed += 1 }
                }
            }
            group.addTask {
                for await p in self.settlements.pending { self.inbox.withLock { $0.append(p) } }
            }
            // A pending settlement is looked at when it is seen and again on every block while it
            // stays pending (at most `maxPendingBlocks`): each block's state is a new backrun.
            var live: [Live] = []
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let fresh = inbox.withLock { x in
                    defer { x.removeAll() }
                    return x
                }
                if let snapshot = watcher.latest {
                    let gone = landedHashes.withLock { $0 }
                    live.removeAll { gone.contains($0.settlement.hash.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) }) || snapshot.block > $0.firstBlock &+ configuration.maxPendingBlocks }
                    for p in fresh {
                        shared.withLock { $0.pending += 1 }
                        guard let volume = step.admit(p, usdPerRaw: { self.usdPerRaw($0, snapshot) }) else { continue }
                        shared.withLock { $0.volumeUSD += volume }
                        live.append(Live(settlement: p, firstBlock: snapshot.block, volumeUSD: volume, evaluatedAt: 0))
                        if live.count > configuration.maxLive { live.removeFirst() }
                    }
                    let c = step.detector.counters
                    shared.withLock {
                        $0.belowThreshold = c.belowThreshold
                        $0.unpriced = c.unpriced
                        $0.live = live.count
                    }
                    for i in live.indices where live[i].evaluatedAt != snapshot.block {
                        live[i].evaluatedAt = snapshot.block
                        // Landed in the meantime (its logs not heard yet): its effect is in this state already.
                        if snapshot.block > live[i].firstBlock, await landedOnChain(live[i].settlement) { continue }
                        await evaluate(live[i].settlement, volume: live[i].volumeUSD, snapshot, &step)
                    }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
    }

    /// Whether the node has a receipt for the settlement (it landed).
    func landedOnChain(_ p: PendingSettlement) async -> Bool {
        guard let rpc, let r = try? await rpc.call("eth_getTransactionReceipt", [.string(Hex.encode(p.hash))]) else { return false }
        return r != .null
    }

    func evaluate(_ p: PendingSettlement, volume: Double, _ snapshot: ChainWatcher.Snapshot, _ step: inout CowBackrunStep) async {
        shared.withLock { $0.evaluations += 1 }
        let effects: [EVMLog]
        var simulated = false
        switch CowBackrunStep.predicted(p, on: snapshot) {
        case .logs(let logs):
            shared.withLock { $0.decoded += 1 }
            effects = logs
        case .reverts(let why):
            shared.withLock { $0.reverting += 1 }
            logger.debug("settlement would revert", metadata: ["arb.tx": "\(Hex.encode(p.hash))", "arb.reason": "\(why)"])
            return
        case .unknown(let why):
            guard let logs = await simulate(p, book: snapshot.book) else {
                shared.withLock { $0.unreadable += 1 }
                logger.debug("settlement effect unreadable", metadata: ["arb.tx": "\(Hex.encode(p.hash))", "arb.reason": "\(why)"])
                return
            }
            shared.withLock { $0.simulated += 1 }
            effects = logs
            simulated = true
        }
        let now = WallClock.nanoseconds()
        recorder?(.evaluated(.init(sequence: snapshot.sequence, now: now, volumeUSD: volume, seenAt: p.seenAt, raw: p.raw,
                                   simulated: simulated ? effects : nil)))
        let found = step.backruns(of: p, effects: effects, volumeUSD: volume, on: snapshot, now: now)
        let counters = step.detector.counters
        shared.withLock {
            $0.noDisplacement = counters.noDisplacement
            if found.isEmpty && !effects.isEmpty { $0.noBackrun += 1 }
        }
        let recorder = recorder
        let sent = await bus.publishAll(found, partition: configuration.partition, kind: "backrun", logger: logger,
                                        sent: recorder.map { r in { r(.published($0)) } })
        shared.withLock {
            $0.published += sent.published
            $0.publishFailures += sent.failed
        }
    }

    /// The settlement's logs on watched pools, from a trace on the latest state; nil when the node
    /// cannot trace or the settlement reverts there.
    func simulate(_ p: PendingSettlement, book: PoolBook) async -> [EVMLog]? {
        guard let rpc, let logs = try? await EthClient(rpc).traceLogs(from: p.sender, to: watcherSettlement, data: p.callData,
                                                                      gas: configuration.simulationGas) else { return nil }
        return logs.filter { book.id(of: $0.address) != nil }
    }

    var watcherSettlement: Address { settlements.configuration.settlement }

    /// Dollars per raw unit of `token`: a stablecoin's, else its price in a stablecoin in the
    /// PriceMatrix (the watched pool pairing them, as the watcher last wrote it).
    func usdPerRaw(_ token: Address, _ snapshot: ChainWatcher.Snapshot) -> Double? {
        if let usd = configuration.stableUSDPerRaw[token] { return usd }
        let matrix = watcher.configuration.matrix
        for pool in snapshot.pools where pool.token0 == token || pool.token1 == token {
            let other = pool.token0 == token ? pool.token1 : pool.token0
            guard let usd = configuration.stableUSDPerRaw[other],
                  let slot = matrix.existingSlot(for: .init(chainID: snapshot.chainID, tokenA: token, tokenB: other, venue: pool.venue)),
                  let e = matrix.read(slot), e.price > 0, e.price.isFinite else { continue }
            // The matrix prices token1 per token0 (raw units, by address order).
            let otherPerToken = token < other ? e.price : 1 / e.price
            return otherPerToken * usd
        }
        return nil
    }
}
