import AMMMath
import Detection
import EVMPrimitives
import MarketState
import MarketWatch
import Opportunities
import Signals

/// One chain's detection on one snapshot, synchronous and deterministic: what changed since the
/// last snapshot taken, the cycles through it (`CycleDetector`), each opportunity scored on the
/// first pool's momentum and activity, and weighed against the CEX's references when there are
/// some. Given the same snapshots and the same clock readings, it finds the same opportunities,
/// byte for byte: the service runs it live, replay runs it on recorded inputs.
public struct DetectionStep {
    public struct Outcome {
        public var found: [Opportunity]
        public var aligned = 0
        public var contradicted = 0
        /// CEX references the opportunities were weighed against (read only when some were found).
        public var references: [CexReference] = []
    }

    let configuration: DetectionService.Configuration
    var detector: CycleDetector
    var known: [WatchedPool] = []
    var previous: [LogPosition] = []
    var momentum: [PriceMomentumTracker] = []
    var activity = PoolActivityTracker()

    public init(configuration: DetectionService.Configuration) {
        self.configuration = configuration
        detector = CycleDetector(configuration: configuration.detector, pools: [])
    }

    public var counters: CycleDetector.Counters { detector.counters }

    /// Detects on `snapshot` at clock reading `now` (epoch ns), weighing what it finds against the
    /// CEX's `references` (asked for only when something was found).
    public mutating func process(_ snapshot: ChainWatcher.Snapshot, now: UInt64, references: () -> [CexReference] = { [] }) -> Outcome {
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
        // Copied into a buffer of our own, not shared with the snapshot's book: sharing it made the
        // watcher's next change copy the whole array (and free the old one) once per block.
        let through = book.appliedThrough
        if previous.count == through.count {
            for i in changed { previous[i] = through[i] }
        } else {
            previous = Array(through[...])
        }
        if let fee = snapshot.baseFee { detector.gasPrice = fee &+ configuration.priorityFee }
        for i in changed where i < momentum.count {
            let price = book.pools.spotPrice(i)
            momentum[i].add(price)
            activity.record(i, price: price, at: snapshot.appliedAt)
        }
        var found: [Opportunity] = []
        detector.process(changed: changed, book: book, block: snapshot.block,
                         timestamps: .init(eventReceived: snapshot.headReceivedAt, stateApplied: snapshot.appliedAt), now: now, into: &found)
        let references = found.isEmpty ? [] : references()
        var outcome = Outcome(found: [], references: references)
        for var o in found {
            // The first hop's pool: its momentum and activity adjust the confidence.
            let first = o.path.first.flatMap { h in known.firstIndex { $0.address == h.pool } }
            let reading = first.flatMap { momentum[$0].reading }
            o.confidence = configuration.scorer.score(o, momentum: reading, activity: first.map { activity.activity($0, at: now) }, now: now).confidence
            if !references.isEmpty {
                let (verdict, weighted) = CexAlignment.check(o, references: references)
                o.confidence = weighted
                if verdict == .aligned { outcome.aligned += 1 } else if verdict == .contradicted { outcome.contradicted += 1 }
            }
            outcome.found.append(o)
        }
        return outcome
    }
}
