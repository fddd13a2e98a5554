import EVMPrimitives
import Opportunities

/// The risk gate before execution: every opportunity is admitted or refused with a reason, and
/// every decision is counted. A value type on the caller's clock (nanoseconds since the epoch).
///
/// - minimum net profit in dollars per chain (after gas and fees, as detection computed them);
/// - maximum gas price per chain;
/// - a per-chain `CircuitBreaker`;
/// - a daily loss limit (realised, UTC day) and a halt after a streak of losses;
/// - at most `maxInFlight` trades at once, one per opportunity id;
/// - a per-asset cap on the input in flight (exposure).
public struct RiskGate: Sendable {
    public struct Configuration: Sendable {
        /// Chain id → minimum net profit in micro-dollars (default `defaultMinNetProfitMicroUSD`).
        public var minNetProfitMicroUSD: [UInt64: Int64] = [:]
        public var defaultMinNetProfitMicroUSD: Int64 = 1_000_000
        /// Chain id → highest gas price (wei) at which to trade; absent: no cap.
        public var maxGasPrice: [UInt64: UInt256] = [:]
        /// Realised losses (micro-dollars) in one UTC day after which nothing is admitted.
        public var dailyLossLimitMicroUSD: Int64 = 500_000_000
        /// Consecutive losing trades after which trading halts for `haltNanoseconds`.
        public var lossStreakLimit = 8
        public var haltNanoseconds: UInt64 = 3_600_000_000_000
        public var maxInFlight = 3
        /// Asset address → most raw units in flight at once; absent: no cap.
        public var maxExposure: [Address: UInt256] = [:]
        public var breakerFailures = 5
        public var breakerOpenNanoseconds: UInt64 = 300_000_000_000
        public init() {}
    }

    public enum Reason: String, Sendable, CaseIterable {
        case expired, belowMinimum, gasPriceTooHigh, circuitOpen, dailyLossLimit, lossStreak, tooManyInFlight, alreadyInFlight,
             exposureLimit
    }

    public enum Decision: Sendable, Equatable {
        case admit
        case refuse(Reason)
    }

    public let configuration: Configuration
    /// Refusals by reason, and admissions.
    public private(set) var refused: [Reason: Int] = [:]
    public private(set) var admitted = 0
    public private(set) var breakers: [UInt64: CircuitBreaker] = [:]
    private var inFlight: [[UInt8]: (chain: UInt64, asset: Address, amount: UInt256)] = [:]
    private var exposure: [Address: UInt256] = [:]
    private var day: UInt64 = 0
    private var lossToday: Int64 = 0
    private var lossStreak = 0
    private var haltedUntil: UInt64 = 0

    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    public var tradesInFlight: Int { inFlight.count }
    public func exposure(of asset: Address) -> UInt256 { exposure[asset] ?? .zero }
    public var realisedLossToday: Int64 { lossToday }

    /// Decides on `o` at `gasPrice` (wei) and `now`; an admitted trade is in flight until `finish`.
    public mutating func admit(_ o: Opportunity, gasPrice: UInt256, now: UInt64) -> Decision {
        let decision = decide(o, gasPrice: gasPrice, now: now)
        switch decision {
        case .admit:
            admitted += 1
            let asset = o.path.first?.tokenIn ?? .zero
            inFlight[o.id] = (o.chains.first ?? 0, asset, o.amountIn)
            exposure[asset] = (exposure[asset] ?? .zero) &+ o.amountIn
        case .refuse(let reason):
            refused[reason, default: 0] += 1
        }
        return decision
    }

    private mutating func decide(_ o: Opportunity, gasPrice: UInt256, now: UInt64) -> Decision {
        rollDay(now)
        let chain = o.chains.first ?? 0
        if o.expiresAt <= now { return .refuse(.expired) }
        if inFlight[o.id] != nil { return .refuse(.alreadyInFlight) }
        if o.netProfitMicroUSD < configuration.minNetProfitMicroUSD[chain, default: configuration.defaultMinNetProfitMicroUSD] {
            return .refuse(.belowMinimum)
        }
        if let cap = configuration.maxGasPrice[chain], gasPrice > cap { return .refuse(.gasPriceTooHigh) }
        if lossToday >= configuration.dailyLossLimitMicroUSD { return .refuse(.dailyLossLimit) }
        if now < haltedUntil { return .refuse(.lossStreak) }
        if inFlight.count >= configuration.maxInFlight { return .refuse(.tooManyInFlight) }
        let asset = o.path.first?.tokenIn ?? .zero
        if let cap = configuration.maxExposure[asset] {
            let (sum, overflow) = (exposure[asset] ?? .zero).addingReportingOverflow(o.amountIn)
            if overflow || sum > cap { return .refuse(.exposureLimit) }
        }
        // Last: claiming the breaker's half-open trial must not be wasted on a refusal above.
        var breaker = breakers[chain] ?? CircuitBreaker(failureThreshold: configuration.breakerFailures,
                                                        openForNanoseconds: configuration.breakerOpenNanoseconds)
        let allowed = breaker.allow(now: now)
        breakers[chain] = breaker
        return allowed ? .admit : .refuse(.circuitOpen)
    }

    /// The end of an admitted trade: `landed` false is a failure for the chain's breaker (a revert,
    /// a failed simulation, no inclusion); `realisedMicroUSD` is what it made (negative: lost).
    public mutating func finish(_ id: [UInt8], landed: Bool, realisedMicroUSD: Int64, now: UInt64) {
        guard let t = inFlight.removeValue(forKey: id) else { return }
        exposure[t.asset] = (exposure[t.asset] ?? .zero) &- t.amount
        rollDay(now)
        var breaker = breakers[t.chain] ?? CircuitBreaker(failureThreshold: configuration.breakerFailures,
                                                          openForNanoseconds: configuration.breakerOpenNanoseconds)
        if landed { breaker.recordSuccess() } else { breaker.recordFailure(now: now) }
        breakers[t.chain] = breaker
        if realisedMicroUSD < 0 {
            lossToday += -realisedMicroUSD
            lossStreak += 1
            if lossStreak >= configuration.lossStreakLimit {
                haltedUntil = now &+ configuration.haltNanoseconds
                lossStreak = 0
            }
        } else if landed {
            lossStreak = 0
        }
    }

    /// An admitted trade given up before anything was signed or sent (its quote no longer pays,
    /// no lender): frees its slot and exposure without counting for or against the breaker.
    public mutating func cancel(_ id: [UInt8]) {
        guard let t = inFlight.removeValue(forKey: id) else { return }
        exposure[t.asset] = (exposure[t.asset] ?? .zero) &- t.amount
    }

    private mutating func rollDay(_ now: UInt64) {
        let d = now / 86_400_000_000_000
        if d != day {
            day = d
            lossToday = 0
        }
    }
}
