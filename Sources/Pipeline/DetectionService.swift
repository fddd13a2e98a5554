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

    /// What detection takes from outside, recorded when asked: the snapshot taken (by its
    /// sequence) with the clock reading it was sized at, and each opportunity as published.
    public enum Recorded: Sendable {
        case detect(Moment)
        case published(Opportunity)
    }

    let recorder: (@Sendable (Recorded) -> Void)?
    let clock: @Sendable () -> UInt64

    public init(watcher: ChainWatcher, configuration: Configuration, bus: any OpportunityBus, logger: Logger,
                metricsFactory: (any MetricsFactory)? = nil, recorder: (@Sendable (Recorded) -> Void)? = nil,
                clock: @escaping @Sendable () -> UInt64 = { WallClock.nanoseconds() }) {
        self.recorder = recorder
        self.clock = clock
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
        var step = DetectionStep(configuration: configuration)
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
            let now = clock()
            let prices = cex.withLock { $0 }
            let outcome = step.process(snapshot, now: now, references: { prices?.references(chain: snapshot.chainID) ?? [] })
            recorder?(.detect(Moment(sequence: snapshot.sequence, now: now, references: outcome.references)))
            let (published, failures) = await bus.publishAll(outcome.found, partition: configuration.partition, kind: "chain \(snapshot.chainID)",
                                                             logger: logger, clock: clock) { o in
                self.recorder?(.published(o))
                self.record(o.timestamps)
            }
            let counters = step.counters
            let last = outcome.found.last.map { $0.timestamps.published &- $0.timestamps.eventReceived }
            shared.withLock {
                $0.snapshots += 1
                $0.block = snapshot.block
                $0.published += published
                $0.publishFailures += failures
                $0.cexAligned += outcome.aligned
                $0.cexContradicted += outcome.contradicted
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
