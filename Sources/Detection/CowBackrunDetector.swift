import AMMMath
import CowProtocol
import EVMPrimitives
import MarketState
import Opportunities

/// Backruns of CoW settlements (design item #28). A large pending settlement moves the pools its
/// interactions swap on; the detector applies that move (the settlement's pool logs, read from its
/// call data or from a simulation) to a copy of the chain's exact state, runs the cycle detector on
/// the displaced pools, and turns what it finds into `backrun` opportunities sized at their exact
/// optimum on the post-settlement state, each naming the settlement as its target (its signed
/// bytes and its effect travel with it, for execution to bundle and re-quote).
///
/// Synchronous and deterministic, like the other detectors: the service brings the state, the
/// settlement and the clock.
public struct CowBackrunDetector: Sendable {
    public struct Configuration: Sendable {
        /// The chain's cycle detection (assets, minimum profit, gas, limits).
        public var cycles: CycleDetector.Configuration
        /// Settlements trading less than this (US dollars) are not worth a look.
        public var minVolumeUSD: Double = 50_000
        /// A backrun lives for its target's next block only; this bounds it in time as well.
        public var ttlNanoseconds: UInt64 = 12_000_000_000

        public init(cycles: CycleDetector.Configuration) { self.cycles = cycles }
    }

    public typealias Target = PendingSettlement

    public struct Counters: Equatable, Sendable {
        public var settlements = 0
        public var belowThreshold = 0
        public var unpriced = 0
        public var noDisplacement = 0
        public var evaluated = 0
        public var published = 0
        public init() {}
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()

    public init(configuration: Configuration) { self.configuration = configuration }

    /// The settlement's traded value in dollars: each trade's sell or buy amount at the executed
    /// clearing prices, valued through `usdPerRaw` (dollars per raw unit of a token, nil when
    /// unknown); nil when a trade has neither token priced.
    public static func volumeUSD(_ call: SettleCall, usdPerRaw: (Address) -> Double?) -> Double? {
        var total = 0.0
        for t in call.trades {
            guard let (sold, bought) = call.executedAmounts(t) else { continue }
            if let p = usdPerRaw(call.tokens[t.sellTokenIndex]) {
                total += sold.doubleValue * p
            } else if let p = usdPerRaw(call.tokens[t.buyTokenIndex]) {
                total += bought.doubleValue * p
            } else {
                return nil
            }
        }
        return total
    }

    /// Whether the settlement is large enough to look at; counts it either way.
    public mutating func admit(_ call: SettleCall, usdPerRaw: (Address) -> Double?) -> Double? {
        counters.settlements += 1
        guard let volume = Self.volumeUSD(call, usdPerRaw: usdPerRaw) else {
            counters.unpriced += 1
            return nil
        }
        guard volume >= configuration.minVolumeUSD else {
            counters.belowThreshold += 1
            return nil
        }
        return volume
    }

    /// The backruns of `target` whose effect on the pools is `effects` (pool logs, in order), on
    /// `book` as of `block` (the state the settlement runs on: it lands in `block + 1`).
    public mutating func backruns(of target: Target, effects: [EVMLog], volumeUSD: Double, book: PoolBook, pools: [PoolRef?],
                                  gasPrice: UInt256, block: UInt64, timestamps: Opportunity.Timestamps, now: UInt64) -> [Opportunity] {
        var after = book
        var displaced: [Int] = []
        var kept: [Opportunity.Backrun.Effect] = []
        for (i, e) in effects.prefix(Opportunity.Backrun.maxEffects).enumerated() {
            var log = e
            log.blockNumber = block &+ 1
            log.logIndex = UInt32(i)
            log.removed = false
            if case .applied(let id) = after.apply(log) {
                if !displaced.contains(id.index) { displaced.append(id.index) }
                kept.append(.init(pool: e.address, topics: e.topics, data: e.data))
            }
        }
        guard !displaced.isEmpty else {
            counters.noDisplacement += 1
            return []
        }
        counters.evaluated += 1
        // A detector of its own for each settlement (they are rare): its rates and dedup start from this state.
        var cycles = CycleDetector(configuration: configuration.cycles, pools: pools)
        cycles.gasPrice = gasPrice
        cycles.refresh(after)
        var found: [Opportunity] = []
        cycles.process(changed: displaced, book: after, block: block, timestamps: timestamps, now: now, into: &found)
        let section = Opportunity.Backrun(targetRaw: target.raw, sender: target.sender,
                                          volumeMicroUSD: UInt64(max(0, min(volumeUSD * 1e6, 9e18))), effects: kept)
        let out = found.map { o in
            var b = o
            b.kind = .backrun
            b.backrun = section
            // The target is part of its identity: two settlements opening the same cycle are two backruns.
            b.id = Array(Keccak256.hash(Opportunity.makeID(kind: .backrun, blockNumber: block, path: o.path, amountIn: o.amountIn) + target.hash).prefix(16))
            b.expiresAt = min(o.expiresAt, now &+ configuration.ttlNanoseconds)
            return b
        }
        counters.published += out.count
        return out
    }
}
