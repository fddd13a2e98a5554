import AMMMath
import Detection
import EVMPrimitives
import Foundation
import Logging
import MarketState
import MarketWatch
import Opportunities
import ServiceLifecycle
import StreamBus
import Synchronization

/// CEX–DEX spreads on one chain as a service (design item #32): whenever the chain's state or
/// the exchange's books change, every V2/V3 pool whose pair the exchange prices is checked
/// against the mid (`CexDexSpreadDetector`), and what it finds is published as a
/// `cexDexSpread` opportunity on the chain's partition: at most one per pool and direction per
/// block, so that a book that ticks every 100 ms does not repeat the same trade.
public final class CexDexService: Service {
    public struct Configuration: Sendable {
        public var partition: String
        public var wrappedNative: Address
        public var detector = CexDexSpreadDetector.Configuration()
        public var priorityFee: UInt256 = 1_000_000_000
        public var interval: Duration = .milliseconds(50)

        public init(partition: String, wrappedNative: Address) {
            self.partition = partition
            self.wrappedNative = wrappedNative
        }
    }

    public struct Status: Sendable {
        public var block: UInt64 = 0
        public var evaluations = 0
        public var published = 0
        public var publishFailures = 0
        /// Found again for a pool and direction already published at that block.
        public var repeats = 0
        public var detector = CexDexSpreadDetector.Counts()
    }

    public let watcher: ChainWatcher
    public let prices: CexPrices
    let configuration: Configuration
    let bus: any OpportunityBus
    let logger: Logger
    private let shared = Mutex(Status())

    /// What detection takes from outside, recorded when asked (as `DetectionService`'s): each
    /// moment it ran (the snapshot's sequence, the clock reading, the references) and each
    /// opportunity as published.
    let recorder: (@Sendable (DetectionService.Recorded) -> Void)?
    let clock: @Sendable () -> UInt64

    public init(watcher: ChainWatcher, prices: CexPrices, configuration: Configuration, bus: any OpportunityBus, logger: Logger,
                recorder: (@Sendable (DetectionService.Recorded) -> Void)? = nil, clock: @escaping @Sendable () -> UInt64 = { WallClock.nanoseconds() }) {
        self.watcher = watcher
        self.prices = prices
        self.configuration = configuration
        self.bus = bus
        self.logger = logger
        self.recorder = recorder
        self.clock = clock
    }

    public var status: Status { shared.withLock { $0 } }

    public func run() async throws {
        let chainID = watcher.configuration.chainID
        var step = CexDexStep(configuration: configuration)
        var seen = (block: UInt64(0), version: -1)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: configuration.interval)
            guard let s = watcher.latest else { continue }
            let version = prices.version
            guard s.block != seen.block || version != seen.version else { continue }
            seen = (s.block, version)
            let refs = prices.references(chain: chainID)
            guard !refs.isEmpty else { continue }
            let now = clock()
            recorder?(.detect(DetectionService.Moment(sequence: s.sequence, now: now, references: refs)))
            let (fresh, repeats) = step.process(s, references: refs, now: now)
            let counts = step.counts
            shared.withLock {
                $0.block = s.block
                $0.evaluations += 1
                $0.repeats += repeats
                $0.detector = counts
            }
            let recorder = recorder
            let sent = await bus.publishAll(fresh, partition: configuration.partition, kind: "cexDexSpread", logger: logger, clock: clock,
                                            sent: recorder.map { r in { r(.published($0)) } })
            shared.withLock {
                $0.published += sent.published
                $0.publishFailures += sent.failed
            }
        }
    }

    /// The chain's V2 and V3 pools whose pair a reference prices.
    static func candidates(_ s: ChainWatcher.Snapshot, _ refs: [CexReference]) -> [CexDexSpreadDetector.Candidate] {
        var out: [CexDexSpreadDetector.Candidate] = []
        for (i, p) in s.pools.enumerated() {
            switch p.kind {
            case .uniswapV2, .uniswapV3: break
            case .solidly, .curve: continue
            }
            guard refs.contains(where: { ($0.base == p.token0 && $0.quote == p.token1) || ($0.base == p.token1 && $0.quote == p.token0) }) else { continue }
            out.append(.init(ref: PoolRef(address: p.address, token0: p.token0, token1: p.token1, venue: p.venue), pool: s.book.pools[i]))
        }
        return out
    }
}
