#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Detection
import MarketState
import Opportunities
import StreamBus

/// Replays a synthetic event stream through the real hot path, per event: the log is decoded and
/// applied to the chain's `PoolBook`, the chain's `CycleDetector` evaluates the cycles through the
/// pool it changed, and what it finds is published on an `InProcessBus`. Each event is timed from
/// the log's arrival to the end of publication.
public final class DetectReplay {
    public struct Result: Sendable {
        public var events: Int
        public var seconds: Double
        /// Nanoseconds per event, sorted.
        public var latencies: [UInt64]
        public var published: Int
        public var applied: Int
        public var cyclesEvaluated: Int
        /// The most cycles any pool is in (the index's cap when reached).
        public var maxCyclesPerPool: Int
        /// Heap allocations during the replay loop (0 when not counted).
        public var allocations: UInt64
        /// Seconds to build every chain's cycle index.
        public var indexSeconds: Double
        /// Mean cycles through the updated pool per applied event.
        public var cyclesPerEvent: Double { applied > 0 ? Double(cyclesEvaluated) / Double(applied) : 0 }
        public var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }
        public func percentile(_ p: Double) -> UInt64 {
            guard !latencies.isEmpty else { return 0 }
            return latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
    }

    var books: [PoolBook]
    var detectors: [CycleDetector]
    var heads: [UInt64]
    /// Seconds to build every chain's cycle index.
    public let indexSeconds: Double
    let maxCycles: Int

    /// Builds every chain's book and detector (its cycle index) once.
    public init(_ market: SyntheticMarket) {
        let built = Self.now()
        books = market.chains.map(\.book)
        detectors = market.chains.map { c in
            var d = CycleDetector(configuration: c.detector, pools: c.refs)
            d.refresh(c.book)
            return d
        }
        indexSeconds = Double(Self.now() - built) / 1e9
        maxCycles = detectors.map { $0.index.byPool.map(\.count).max() ?? 0 }.max() ?? 0
        heads = books.map { _ in 0 }
    }

    /// Replays `events` (which continue the state left by earlier runs). `allocations`: the
    /// process's allocation count, read around the replay loop only.
    public func run(_ events: [SyntheticMarket.Event], bus: InProcessBus, allocations: () -> UInt64 = { 0 }) async -> Result {
        var latencies = [UInt64](repeating: 0, count: events.count)
        var found: [Opportunity] = []
        found.reserveCapacity(64)
        var published = 0, applied = 0
        let evaluatedBefore = detectors.reduce(0) { $0 + $1.counters.cyclesEvaluated }
        let allocationsBefore = allocations()
        let start = Self.now()
        for (i, e) in events.enumerated() {
            let t0 = Self.now()
            let c = e.chain
            if e.log.blockNumber != heads[c] {
                heads[c] = e.log.blockNumber
                books[c].finalize(head: heads[c])
            }
            if case .applied(let id) = books[c].apply(e.log) {
                applied += 1
                detectors[c].process(changed: CollectionOfOne(id.index), book: books[c], block: e.log.blockNumber,
                                     timestamps: .init(eventReceived: t0, stateApplied: t0), now: t0, into: &found)
                for o in found {
                    try? await bus.publish(o, partition: "P1")
                    published += 1
                }
                found.removeAll(keepingCapacity: true)
            }
            latencies[i] = Self.now() - t0
        }
        let seconds = Double(Self.now() - start) / 1e9
        let allocated = allocations() - allocationsBefore
        latencies.sort()
        return Result(events: events.count, seconds: seconds, latencies: latencies, published: published, applied: applied,
                      cyclesEvaluated: detectors.reduce(0) { $0 + $1.counters.cyclesEvaluated } - evaluatedBefore, maxCyclesPerPool: maxCycles,
                      allocations: allocated, indexSeconds: indexSeconds)
    }

    @inline(__always) static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}
