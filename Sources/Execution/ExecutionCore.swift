import EVMPrimitives
import Opportunities

/// The execution pipeline's decisions, synchronous, with no I/O and no awaits: what to refuse and
/// why, which locks a trade holds, and when it gives them back. The engine drives it: it reads the
/// chain (state, gas, lenders, simulation) between the steps and hands each result back.
///
/// A trade's locks (its pools, its sender) and its risk-gate slot are taken and released only by
/// these transitions: a check and its lock are one synchronous step, so the engine being
/// re-entered at an await cannot split them. Every refusal returned has already given back what
/// the trade held.
///
/// Steps: `receive` (validate, strategy kinds, dedup, pool and sender locks) → `staleness` (on the
/// state the driver read; `waitFor` while it may still catch up) → `price` (gas price, risk gate,
/// re-quote on that state) → build, L1 fee, nonce, sign, simulate, submit (`+Flow`: `start` and
/// `advance` return each as an action for the driver) → `end` (withdrawn, failed, landed,
/// reverted, or left open).
public struct ExecutionCore: Sendable {
    public struct Configuration: Sendable {
        /// An opportunity sized on a block more than this far behind the state is stale.
        public var maxBlockLag: UInt64 = 2
        public var seenCapacity = 100_000
        public var risk = RiskGate.Configuration()
        /// How long an opportunity sized on a block the state has not reached yet waits for it
        /// (a split executor's own watchers trail the detector's by a moment).
        public var catchUp: Duration = .seconds(3)
        public init() {}

        var catchUpNanoseconds: UInt64 { StageClock.nanoseconds(catchUp) }
    }

    /// What the core knows of a chain: whether it sends bundles (one per sender at a time: a
    /// bundle with a key's next nonce cannot land before the one ahead), how many keys it has, a
    /// trade's gas limit (detection's estimate × `gasHeadroom`, within `gasLimitBounds`), and
    /// whether it charges an L1 data fee (OP stack).
    public struct Chain: Sendable {
        public var bundles: Bool
        public var senders: Int
        public var gasHeadroom: (numerator: UInt64, denominator: UInt64)
        public var gasLimitBounds: ClosedRange<UInt64>
        public var l1Fee: Bool
        public init(bundles: Bool, senders: Int, gasHeadroom: (numerator: UInt64, denominator: UInt64) = (2, 1),
                    gasLimitBounds: ClosedRange<UInt64> = 300_000...1_500_000, l1Fee: Bool = false) {
            self.bundles = bundles
            self.senders = senders
            self.gasHeadroom = gasHeadroom
            self.gasLimitBounds = gasLimitBounds
            self.l1Fee = l1Fee
        }
    }

    /// A trade past the locks: what it holds, carried by the engine to the next steps.
    public struct Lease: Sendable {
        public let id: [UInt8]
        public let chainID: UInt64
        public let pools: Set<Address>
        /// The sender's index among the chain's keys.
        public let sender: Int
        public let strategies: [any Strategy]
        /// Holds a slot of the risk gate (from `price` on).
        public fileprivate(set) var risked = false
    }

    public enum StateVerdict: Sendable {
        case ready(ChainState)
        /// Sized on a block the state has not reached: wait for it (then ask again, `waitedOut` once the wait is over).
        case waitFor(UInt64)
        case refused(Refusal)
    }

    /// How a trade ended, for its locks and the risk gate.
    public enum Ending: Sendable, Equatable {
        /// Given up before anything was signed, or outrun by competition: the slot goes back without a verdict.
        case withdrawn
        /// Signed and failed (simulation, send, not included): a failure for the chain's breaker.
        case failed
        case landed(realisedMicroUSD: Int64)
        /// Landed and reverted (gas lost).
        case reverted
        /// Its fate is not known (a stop, a stalled chain): the slot goes back; the next start settles it.
        case open
    }

    public let configuration: Configuration
    public let chains: [UInt64: Chain]
    public var factory = StrategyFactory()
    public private(set) var risk: RiskGate
    public private(set) var closed = false
    private var seen: Set<[UInt8]> = []
    private var seenOrder: [[UInt8]] = []
    /// The pools our trades are on their way through: this core's and every other executor's that shares it.
    public let claims: PoolClaims
    private var inFlight: [SenderSlot: Int] = [:]
    private struct SenderSlot: Hashable {
        let chain: UInt64, index: Int
    }

    public init(configuration: Configuration = Configuration(), chains: [UInt64: Chain], claims: PoolClaims = PoolClaims()) {
        self.configuration = configuration
        self.chains = chains
        self.claims = claims
        risk = RiskGate(configuration: configuration.risk)
    }

    /// Takes no new trades from now on (`risk:closing`).
    public mutating func close() { closed = true }

    /// Trades the sender holds (between its lock and its end).
    public func trades(chain: UInt64, sender: Int) -> Int { inFlight[SenderSlot(chain: chain, index: sender), default: 0] }

    // MARK: steps

    /// Validate → strategy kinds → dedup → locks (the trade's pools, a free sender).
    public mutating func receive(_ o: Opportunity) -> Result<Lease, Refusal> {
        if closed { return .failure(Refusal("risk", "closing", "no new trades: stopping")) }
        guard let chainID = o.chains.first, let chain = chains[chainID] else { return .failure(Refusal("validate", "unknownChain")) }
        // The strategy first (no I/O): kinds without an executor are refused by name, not as invalid.
        let strategies: [any Strategy]
        switch factory.strategies(for: o) {
        case .failure(let r): return .failure(r)
        case .success(let list): strategies = list
        }
        guard Self.wellFormed(o, chainID) else { return .failure(Refusal("validate", "invalid")) }
        // A backrun is only valid right behind its target: a bundle is the only way to put it there.
        guard o.kind != .backrun || chain.bundles else { return .failure(Refusal("strategy", "backrunNeedsBundles", "the chain sends no bundles")) }
        guard !seen.contains(o.id) else { return .failure(Refusal("dedup", "duplicate")) }
        remember(o.id)
        let pools = Set(o.path.map(\.pool))
        guard claims.claim(pools, chain: chainID) else { return .failure(Refusal("lock", "poolBusy")) }
        guard let sender = freeSender(chainID, chain) else {
            claims.release(pools, chain: chainID)
            return .failure(Refusal("lock", "senderBusy"))
        }
        inFlight[SenderSlot(chain: chainID, index: sender), default: 0] += 1
        return .success(Lease(id: o.id, chainID: chainID, pools: pools, sender: sender, strategies: strategies))
    }

    /// Staleness on `state` (the chain's latest, as the engine read it) at `now`.
    public mutating func staleness(_ lease: Lease, _ o: Opportunity, state: ChainState?, now: UInt64, waitedOut: Bool) -> StateVerdict {
        guard o.expiresAt > now else { return .refused(end(lease, .withdrawn, Refusal("stale", "expired"), now: now)) }
        guard let s = state else { return .refused(end(lease, .withdrawn, Refusal("stale", "noState"), now: now)) }
        if s.block < o.blockNumber {
            if !waitedOut { return .waitFor(o.blockNumber) }
            return .refused(end(lease, .withdrawn, Refusal("stale", "behind", "sized at \(o.blockNumber), state at \(s.block)"), now: now))
        }
        guard s.block <= o.blockNumber &+ configuration.maxBlockLag else {
            return .refused(end(lease, .withdrawn, Refusal("stale", "blockLag", "sized at \(o.blockNumber), state at \(s.block)"), now: now))
        }
        return .ready(s)
    }

    /// The gas price the engine fetched, then the risk gate, then the path re-quoted on `state`:
    /// it must come back exactly as detected (what lands must be what was detected; a moved state
    /// is the detector's to quote again).
    public mutating func price(_ lease: inout Lease, _ o: Opportunity, gas: Result<GasOracle.Quote, GasOracle.Failure>, state: ChainState,
                               now: UInt64) -> Result<(GasOracle.Quote, Requote), Refusal> {
        let fees: GasOracle.Quote
        switch gas {
        case .success(let q): fees = q
        case .failure(let f):
            return .failure(end(lease, .withdrawn, Refusal("gas", f.description.hasPrefix("gas spike") ? "gasSpike" : "gasUnavailable", f.description), now: now))
        }
        if case .refuse(let reason) = risk.admit(o, gasPrice: fees.expectedGasPrice, now: now) {
            return .failure(end(lease, .withdrawn, Refusal("risk", reason.rawValue), now: now))
        }
        lease.risked = true
        let quoted: ChainState
        switch Self.quoteState(o, state) {
        case .failure(let r): return .failure(end(lease, .withdrawn, r, now: now))
        case .success(let s): quoted = s
        }
        switch Requote.quote(o.path, amountIn: o.amountIn, on: quoted) {
        case .failure(let f):
            return .failure(end(lease, .withdrawn, Refusal("requote", "\(f)".components(separatedBy: "(").first ?? "failed", "\(f)"), now: now))
        case .success(let q) where q.amountOut != o.path.last!.amountOut:
            return .failure(end(lease, .withdrawn, Refusal("requote", "moved", "detected \(o.path.last!.amountOut), now \(q.amountOut) at block \(q.block)"), now: now))
        case .success(let q):
            return .success((fees, q))
        }
    }

    /// The state a trade is quoted on: the chain's; for a backrun, the block it was sized on with
    /// its target's effects (pool logs) applied after it, as the bundle runs it. A backrun on any
    /// other block is stale: its target's effect was read on that block's state.
    public static func quoteState(_ o: Opportunity, _ s: ChainState) -> Result<ChainState, Refusal> {
        guard let b = o.backrun else { return .success(s) }
        guard s.block == o.blockNumber else {
            return .failure(Refusal("stale", "targetBase", "sized behind its target on block \(o.blockNumber), the state is at \(s.block)"))
        }
        var after = s
        for (i, e) in b.effects.enumerated() {
            let log = EVMLog(address: e.pool, topics: e.topics, data: e.data, blockNumber: s.block &+ 1, logIndex: UInt32(i))
            switch after.book.apply(log) {
            case .applied, .unknownPool, .ignored: continue
            default: return .failure(Refusal("requote", "targetEffect", "the target's log on \(e.pool.checksummed) does not apply"))
            }
        }
        return .success(after)
    }

    /// The L1 data fee (OP stack) of a planned trade, in its asset at detection's own gas-price
    /// conversion, must leave it profitable.
    public static func l1Fee(_ fee: UInt256, _ o: Opportunity, _ plan: TradePlan) -> Refusal? {
        guard let inAsset = inAsset(wei: fee, o, plan) else { return nil }
        guard Int256(bitPattern: inAsset) >= o.netProfit || inAsset > UInt256.max.shiftedRight(by: 1) else { return nil }
        return Refusal("gas", "l1FeeExceedsProfit", "L1 fee \(fee) wei ≈ \(inAsset) of the asset, net \(o.netProfit)")
    }

    /// `wei` in the trade's asset at detection's own conversion (its gas cost in the asset over
    /// its gas cost in wei), rounded up (`.max` past 256 bits); nil when detection priced no gas.
    public static func inAsset(wei: UInt256, _ o: Opportunity, _ plan: TradePlan) -> UInt256? {
        let gasInAsset = plan.detectedProfit &- o.netProfit
        guard !o.gasCostWei.isZero, !gasInAsset.isNegative, !gasInAsset.magnitude.isZero else { return nil }
        return UInt256.mulDivRoundingUp(wei, gasInAsset.magnitude, o.gasCostWei) ?? .max
    }

    /// The trade is over (or handed back): its locks go, and its risk slot as `ending` says.
    /// Returns `refusal`, for the refusing steps.
    @discardableResult
    public mutating func end(_ lease: Lease, _ ending: Ending, _ refusal: Refusal = Refusal("end", "ended"), now: UInt64) -> Refusal {
        claims.release(lease.pools, chain: lease.chainID)
        let slot = SenderSlot(chain: lease.chainID, index: lease.sender)
        inFlight[slot] = max(0, inFlight[slot, default: 1] - 1)
        if lease.risked {
            switch ending {
            case .withdrawn, .open: risk.cancel(lease.id)
            case .failed: risk.finish(lease.id, landed: false, realisedMicroUSD: 0, now: now)
            case .landed(let micro): risk.finish(lease.id, landed: true, realisedMicroUSD: micro, now: now)
            case .reverted: risk.finish(lease.id, landed: false, realisedMicroUSD: -1, now: now)
            }
        }
        return refusal
    }

    // MARK: helpers

    /// One chain, a cycle from and back to the asset through 1–5 hops that join up.
    static func wellFormed(_ o: Opportunity, _ chainID: UInt64) -> Bool {
        guard o.chains.count == 1, let first = o.path.first, let last = o.path.last, !o.amountIn.isZero else { return false }
        return first.tokenIn == last.tokenOut && zip(o.path, o.path.dropFirst()).allSatisfy { $0.tokenOut == $1.tokenIn }
            && o.path.allSatisfy { $0.chainID == chainID } && o.path.count <= 5
    }

    /// A key of the chain free to send: for bundles one with nothing in flight, else the one with
    /// the fewest trades in flight (first listed on a tie); nil when every bundle key is busy.
    private func freeSender(_ chainID: UInt64, _ chain: Chain) -> Int? {
        let keys = 0..<max(1, chain.senders)
        let load = { (i: Int) in inFlight[SenderSlot(chain: chainID, index: i), default: 0] }
        if chain.bundles { return keys.first { load($0) == 0 } }
        return keys.min { load($0) < load($1) }
    }

    private mutating func remember(_ id: [UInt8]) {
        seen.insert(id)
        seenOrder.append(id)
        if seenOrder.count > configuration.seenCapacity {
            let drop = seenOrder.count / 2
            for old in seenOrder.prefix(drop) { seen.remove(old) }
            seenOrder.removeFirst(drop)
        }
    }
}
