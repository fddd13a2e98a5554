import CoreMetrics
import Logging
import MarketWatch
import Opportunities
import StreamBus

extension OpportunityBus {
    /// Publishes each opportunity on `partition`, stamped with the time it went out; how many went
    /// and how many failed (each failure logged with `kind`). A failed publish loses nothing but
    /// that opportunity: the detector finds it again on the next state if it still pays. `sent`
    /// is told each one published, as it went (the recorder's).
    func publishAll(_ found: [Opportunity], partition: String, kind: String, logger: Logger, clock: () -> UInt64 = { WallClock.nanoseconds() },
                    sent: ((Opportunity) -> Void)? = nil) async -> (published: Int, failed: Int) {
        var counts = (published: 0, failed: 0)
        for var o in found {
            o.timestamps.published = clock()
            do {
                try await publish(o, partition: partition)
                counts.published += 1
                sent?(o)
            } catch {
                counts.failed += 1
                Counter(label: "arbiter_opportunities_publish_failures_total", dimensions: [("kind", o.kind.name)]).increment()
                logger.warning("publish failed", metadata: ["arb.opportunity": "\(kind)", "error": "\(error)"])
            }
        }
        return counts
    }
}
