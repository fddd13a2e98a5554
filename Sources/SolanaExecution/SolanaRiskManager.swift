import Execution
import SolanaClient

/// The Solana trade's gates, each a refusal with its reason as the EVM ones are journaled: a
/// fresh quote too far from what detection saw, a profit after fee and tip below the minimum, a
/// blockhash too close to its last valid block height, an endpoint over its rate.
public struct SolanaRiskManager: Sendable {
    public struct Limits: Sendable {
        /// The round trip's quoted output may differ from detection's by at most this (basis points).
        public var maxDeviationBps: UInt64 = 100
        /// The least net profit (input mint's raw units) after fee and tip.
        public var minProfit: Int64 = 10_000
        /// Blocks a transaction must still have before its blockhash expires.
        public var blockhashMargin: UInt64 = 20
        /// Calls a second to each endpoint (the cluster allows 100 TPS per IP; Jito 5/s per region).
        public var rpcPerSecond: Double = 40
        public var jitoPerSecond: Double = 5
        public init() {}
    }

    public enum Endpoint: String, Sendable { case rpc, jito }

    public let limits: Limits
    var buckets: [Endpoint: RateBucket]

    public init(limits: Limits = .init()) {
        self.limits = limits
        buckets = [.rpc: RateBucket(perSecond: limits.rpcPerSecond, burst: limits.rpcPerSecond), .jito: RateBucket(perSecond: limits.jitoPerSecond, burst: limits.jitoPerSecond)]
    }

    /// Detection expected `detected` out of the round trip; the fresh quote says `quoted`.
    public func quote(detected: UInt64, quoted: UInt64) -> Refusal? {
        let gap = detected > quoted ? detected - quoted : quoted - detected
        // gap / detected ≤ bps / 10,000, in 128-bit products.
        let a = gap.multipliedFullWidth(by: 10_000), b = detected.multipliedFullWidth(by: limits.maxDeviationBps)
        guard detected > 0, a.high < b.high || (a.high == b.high && a.low <= b.low) else {
            return Refusal("risk", "quoteDeviation", "the quote gives \(quoted) where detection saw \(detected) (more than \(limits.maxDeviationBps) bps apart)")
        }
        return nil
    }

    /// The simulated net profit, after fee and tip.
    public func profit(_ net: Int64, fee: UInt64, tip: UInt64) -> Refusal? {
        net >= limits.minProfit ? nil : Refusal("risk", "belowMinimum", "net \(net) after fee \(fee) and tip \(tip), below \(limits.minProfit)")
    }

    public func blockhash(_ b: Blockhash, height: UInt64) -> Refusal? {
        b.isFresh(atBlockHeight: height, margin: limits.blockhashMargin) ? nil
            : Refusal("stale", "blockhash", "block height \(height), the blockhash is valid until \(b.lastValidBlockHeight) (margin \(limits.blockhashMargin))")
    }

    /// Takes one call's token for `endpoint` at `now`, or refuses.
    public mutating func take(_ endpoint: Endpoint, now: ContinuousClock.Instant) -> Refusal? {
        buckets[endpoint]!.take(now: now) ? nil : Refusal("rate", endpoint.rawValue, "over \(endpoint == .rpc ? limits.rpcPerSecond : limits.jitoPerSecond) calls a second")
    }
}
