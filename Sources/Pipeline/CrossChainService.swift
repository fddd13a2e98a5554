import Detection
import EVMPrimitives
import Logging
import MarketWatch
import Opportunities
import ServiceLifecycle
import StreamBus
import Synchronization

/// Cross-chain detection as a service: every `interval` it takes each watcher's latest snapshot
/// (and Solana's pools, when a Solana source is given), hands the chains that moved to the
/// `CrossChainDetector`, and publishes what it finds on the buy chain's partition.
public final class CrossChainService: Service {
    /// Solana's pools as the detector sees them, at the slot they were read.
    public struct SolanaState: Sendable {
        public var chainID: UInt64
        public var listings: [CrossChainDetector.Listing]
        /// A Solana leg's cost in lamports (fees and tip).
        public var legLamports: UInt64
        public var slot: UInt64
        public var appliedAt: UInt64
        public init(chainID: UInt64, listings: [CrossChainDetector.Listing], legLamports: UInt64, slot: UInt64, appliedAt: UInt64) {
            (self.chainID, self.listings, self.legLamports, self.slot, self.appliedAt) = (chainID, listings, legLamports, slot, appliedAt)
        }
    }

    let watchers: [ChainWatcher]
    let solana: (@Sendable () async -> SolanaState?)?
    let partitions: [UInt64: String]
    let bus: any OpportunityBus
    let interval: Duration
    let priorityFee: UInt256
    let logger: Logger
    private let detector: Mutex<CrossChainDetector>

    public init(watchers: [ChainWatcher], partitions: [UInt64: String], configuration: CrossChainDetector.Configuration,
                bus: any OpportunityBus, interval: Duration = .milliseconds(500), priorityFee: UInt256 = 1_000_000_000, logger: Logger,
                solana: (@Sendable () async -> SolanaState?)? = nil) {
        self.watchers = watchers
        self.solana = solana
        self.partitions = partitions
        self.bus = bus
        self.interval = interval
        self.priorityFee = priorityFee
        self.logger = logger
        detector = Mutex(CrossChainDetector(configuration: configuration))
    }

    public var counters: CrossChainDetector.Counters { detector.withLock { $0.counters } }

    public func run() async throws {
        var seen: [UInt64: UInt64] = [:]
        var found: [Opportunity] = []
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            found.removeAll(keepingCapacity: true)
            let sol = await solana?()
            let now = WallClock.nanoseconds()
            detector.withLock { d in
                var moved: [UInt64] = []
                if let sol, seen[sol.chainID] != sol.slot {
                    seen[sol.chainID] = sol.slot
                    d.update(solana: sol.chainID, listings: sol.listings, legLamports: sol.legLamports, slot: sol.slot, at: sol.appliedAt)
                    moved.append(sol.chainID)
                }
                for w in watchers {
                    guard let s = w.latest, seen[s.chainID] != s.block else { continue }
                    seen[s.chainID] = s.block
                    let refs = s.pools.map { Optional(PoolRef(address: $0.address, token0: $0.token0, token1: $0.token1, venue: $0.venue)) }
                    d.update(chain: s.chainID, book: s.book, refs: refs, gasPrice: (s.baseFee ?? .zero) &+ priorityFee, block: s.block, at: s.appliedAt)
                    moved.append(s.chainID)
                }
                for chain in moved { d.process(changed: chain, now: now, into: &found) }
            }
            // One with a side on Solana goes to Solana's partition (its strategy trades that side).
            for o in found {
                _ = await bus.publishAll([o], partition: partitions[o.solana == nil ? o.chains[0] : Opportunity.solanaChainID] ?? "P1", kind: "crossChain",
                                         logger: logger)
            }
        }
    }
}
