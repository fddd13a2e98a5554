import AMMMath
import CoreMetrics
import Detection
import EVMPrimitives
import Logging
import MarketState
import MarketWatch
import Opportunities
import ServiceLifecycle
import Signals
import StreamBus
import Synchronization

/// One chain's detection as a service: each snapshot of the chain's watcher goes through the
/// chain's `CycleDetector` (only the cycles through pools that changed since the last one detected;
/// a snapshot with a newer one already waiting is passed over), the
/// opportunities found are scored and published on the partition's stream. Every opportunity
/// carries its stage timestamps (head received, state applied, detected, published), which are
/// also recorded as metrics (`arbiter_opportunity_stage_seconds{stage,chain}`).
public final class DetectionService: Service {
    public struct Configuration: Sendable {
        public var partition: String
        public var detector: CycleDetector.Configuration
        /// Added to the head's base fee for the gas price (wei).
        public var priorityFee: UInt256 = 1_000_000_000
        public var scorer = OpportunityScorer()

        public init(partition: String, detector: CycleDetector.Configuration) {
            self.partition = partition
            self.detector = detector
        }
    }

    public struct Status: Equatable, Sendable {
        public var chainID: UInt64
        public var snapshots = 0
        /// Snapshots passed over because a newer one was already there.
        public var coalesced = 0
        public var block: UInt64 = 0
        public var published = 0
        public var publishFailures = 0
        public var detector = CycleDetector.Counters()
        /// Nanoseconds from the head's arrival to publication, of the last opportunity.
        public var lastLatency: UInt64 = 0
        /// Opportunities the CEX's mids agreed with, and those they contradicted (marked down).
        public var cexAligned = 0
        public var cexContradicted = 0
    }

    let watcher: ChainWatcher
    let configuration: Configuration
    let bus: any OpportunityBus
    let logger: Logger
    private let shared: Mutex<Status>
    /// The exchange's prices, when the CEX feed runs: a fair-value check on what is published.
    private let cex = Mutex<CexPrices?>(nil)
    private let stages: [(name: String, timer: CoreMetrics.Timer)]

    public init(watcher: ChainWatcher, configuration: Configuration, bus: any OpportunityBus, logger: Logger,
                metricsFactory: (any MetricsFactory)? = nil) {
        self.watcher = watcher
        self.configuration = configuration
        self.bus = bus
        self.logger = logger
        shared = Mutex(Status(chainID: configuration.detector.chainID))
        let chain = String(configuration.detector.chainID)
        stages = ["applied", "detected", "published"].map { stage in
            let dimensions = [("stage", stage), ("chain", chain)]
            let timer = metricsFactory.map { CoreMetrics.Timer(label: "arbiter_opportunity_stage_seconds", dimensions: dimensions, factory: $0) }
                ?? CoreMetrics.Timer(label: "arbiter_opportunity_stage_seconds", dimensions: dimensions)
            return (stage, timer)
        }
    }

    public var status: Status { shared.withLock { $0 } }

    /// From now on, weights each opportunity's confidence by its agreement with `prices` (`CexAlignment`).
    public func align(with prices: CexPrices) { cex.withLock { $0 = prices } }

    public func run() async throws {
        var detector = CycleDetector(configuration: configuration.detector, pools: [])
        var known: [WatchedPool] = []
        var previous: [LogPosition] = []
        var momentum: [PriceMomentumTracker] = []
        var activity = PairActivityTracker<UInt64>()
        var found: [Opportunity] = []
        var processed: UInt64 = 0
        for await next in watcher.snapshots.cancelOnGracefulShutdown() {
            // Only the newest state is worth sizing on: execution refuses what a newer block has
            // passed (`stale:blockLag`). When the watcher applied several blocks while the last one
            // was being detected (a catch-up, a slow node), the ones in between are skipped; what
            // changed is still measured against the last snapshot detected.
            guard next.sequence > processed else {
                shared.withLock { $0.coalesced += 1 }
                continue
            }
            let snapshot = watcher.latest.flatMap { $0.sequence > next.sequence ? $0 : nil } ?? next
            processed = snapshot.sequence
            if snapshot.sequence != next.sequence { shared.withLock { $0.coalesced += 1 } }
            let book = snapshot.book
            var changed: [Int] = []
            if snapshot.pools != known {
                // New pools (or a resync): a new cycle index, every pool evaluated.
                known = snapshot.pools
                detector.setPools(known.map { PoolRef(address: $0.address, token0: $0.token0, token1: $0.token1, venue: $0.venue) })
                detector.refresh(book)
                momentum = Array(repeating: PriceMomentumTracker(), count: known.count)
                changed = Array(known.indices)
            } else {
                for i in 0..<book.count where i >= previous.count || book.appliedThrough[i] != previous[i] { changed.append(i) }
            }
            previous = book.appliedThrough
            if let fee = snapshot.baseFee { detector.gasPrice = fee &+ configuration.priorityFee }
            for i in changed where i < momentum.count {
                let price = book.pools[i].spotPrice
                momentum[i].add(price)
                activity.record(UInt64(i), price: price, at: snapshot.appliedAt)
            }
            found.removeAll(keepingCapacity: true)
            let now = WallClock.nanoseconds()
            detector.process(changed: changed, book: book, block: snapshot.block,
                             timestamps: .init(eventReceived: snapshot.headReceivedAt, stateApplied: snapshot.appliedAt), now: now, into: &found)
            var published = 0, failures = 0, aligned = 0, contradicted = 0
            let references = found.isEmpty ? [] : cex.withLock { $0 }?.references(chain: snapshot.chainID) ?? []
            for var o in found {
                // The first hop's pool: its momentum and activity adjust the confidence.
                let first = o.path.first.flatMap { h in known.firstIndex { $0.address == h.pool } }
                let reading = first.flatMap { momentum[$0].reading }
                o.confidence = configuration.scorer.score(o, momentum: reading, activity: first.map { activity.activity(UInt64($0), at: now) }, now: now).confidence
                if !references.isEmpty {
                    let (verdict, weighted) = CexAlignment.check(o, references: references)
                    o.confidence = weighted
                    if verdict == .aligned { aligned += 1 } else if verdict == .contradicted { contradicted += 1 }
                }
                o.timestamps.published = WallClock.nanoseconds()
                do {
                    try await bus.publish(o, partition: configuration.partition)
                    published += 1
                    record(o.timestamps)
                } catch {
                    failures += 1
                    logger.warning("publish failed", metadata: ["arb.chain": "\(snapshot.chainID)", "error": "\(error)"])
                }
            }
            let counters = detector.counters
            let last = found.last.map { $0.timestamps.published &- $0.timestamps.eventReceived }
            shared.withLock {
                $0.snapshots += 1
                $0.block = snapshot.block
                $0.published += published
                $0.publishFailures += failures
                $0.cexAligned += aligned
                $0.cexContradicted += contradicted
                $0.detector = counters
                if let last { $0.lastLatency = last }
            }
        }
        // The watcher stops first at shutdown, which ends its snapshots: wait for our own turn.
        try? await gracefulShutdown()
    }

    private func record(_ t: Opportunity.Timestamps) {
        let marks = [t.stateApplied, t.detected, t.published]
        var from = t.eventReceived
        for (i, mark) in marks.enumerated() where mark >= from && from > 0 {
            stages[i].timer.recordNanoseconds(Int64(mark - from))
            from = mark
        }
    }
}
