import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// What a start settles before trading, and what the bus let expire: both journaled.
extension ExecutionEngine {
    /// Settles what a previous run left open, chain by chain (see `NonceManager.recover`).
    ///
    /// A key's recovery that fails on a retryable read (a rate limit, a node restarting) is tried
    /// again after the wait the node asked for (Retry-After) or 0.5 s doubling to 8 s, each retry
    /// logged, for up to `patience`; then its error ends the start (a process that cannot settle
    /// its journal must not trade over it).
    public func recover(patience: Duration = .seconds(90)) async throws -> (included: Int, dropped: Int) {
        var total = (0, 0)
        for m in senders.values.joined().map(\.nonces) {
            let deadline = ContinuousClock.now + patience
            var attempt = 1
            while true {
                do {
                    let r = try await m.recover()
                    total.0 += r.included
                    total.1 += r.dropped
                    break
                } catch let e as RPCError where e.retryable {
                    let wait = e.retryAfter ?? .milliseconds(500 << min(attempt - 1, 4))
                    guard ContinuousClock.now + wait < deadline else { throw e }
                    logger.notice("execution recovery: a read failed, again in \(wait) (attempt \(attempt))",
                                  metadata: ["arb.chain": "\(m.chain)", "error": "\(e)"])
                    try await Task.sleep(for: wait)
                    attempt += 1
                }
            }
        }
        return total
    }

    /// Opportunities that expired on the bus before they could be handled (the executor was busy,
    /// or down while they waited): journaled, each refused `bus:expired`, so that everything
    /// received has an outcome in the journal.
    public func expired(_ opportunities: [Opportunity], at now: UInt64) {
        for o in opportunities {
            try? journal.expired(o, at: now)
            report.refused["bus:expired", default: 0] += 1
        }
    }
}
