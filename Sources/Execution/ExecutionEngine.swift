import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities


/// The execution pipeline: validate → deduplicate and lock → staleness → gas price (EIP-1559,
/// spike guard) → risk gate → re-quote on current state → strategy (flash source) → build →
/// nonce → sign → simulate (eth_call; eth_callBundle for bundles) → submit → track inclusion →
/// journal. Every stage is timed; every refusal is counted and journaled with its reason.
public actor ExecutionEngine {
    public struct Configuration: Sendable {
        /// An opportunity sized on a block more than this far behind the state is stale.
        public var maxBlockLag: UInt64 = 2
        /// How long an opportunity sized on a block this process has not seen yet waits for it
        /// (a split executor's own watchers trail the detector's by a moment).
        public var catchUp: Duration = .seconds(3)
        public var risk = RiskGate.Configuration()
        public var gas = GasOracle.Configuration()
        public var seenCapacity = 100_000
        /// How long a submitted trade is tracked before it is left open (journaled, for the next
        /// start to settle): a chain that stops producing blocks must not hold it forever.
        public var maxTracking: Duration = .seconds(300)
        public init() {}
    }

    /// Counters and per-stage timings (nanoseconds, last `timingWindow` samples per stage).
    public struct Report: Sendable {
        public var received = 0
        public var submitted = 0
        public var included = 0
        public var failed = 0
        /// Bundles sent again for a later block after their target passed without them.
        public var retargeted = 0
        /// Pending transactions sent again at a higher fee.
        public var replaced = 0
        /// Submissions whose fate was not known when tracking stopped (a stop, or `maxTracking`):
        /// journaled as open, settled by the next start's recovery.
        public var open = 0
        /// L1 data fees read for trades that went ahead (wei).
        public var l1Fees: [UInt256] = []
        public var refused: [String: Int] = [:]
        public var stages: [String: [UInt64]] = [:]
        public var trades: [Trade] = []
    }

    /// A landed trade, for reports and tests.
    public struct Trade: Equatable, Sendable {
        public var chainID: UInt64
        public var opportunity: String
        public var kind: Opportunity.Kind
        public var strategy: String
        public var source: Opportunity.FlashSource
        public var txHash: String
        public var block: UInt64
        public var expectedProfit: Int256
        public var detectedProfit: Int256
        public var realizedProfit: Int256
        public var eventProfit: Int256
        /// The executor's balance of the asset after the block less before it (all its trades in
        /// that block); nil when the chain did not answer the reads (then it is not a check).
        public var balanceDelta: Int256?
        public var asset: Address
        public var executor: Address
        /// Who lent (the lender contract, or the V3 pool); nil on own capital.
        public var lender: Address?
        /// Sent as a bundle (top of its block: what lands is exactly what was simulated), else as a
        /// transaction, which transactions arriving after our simulation may precede (the
        /// contract's minimum profit then guarantees at least the expected profit, not equality).
        public var bundled: Bool
    }

    public let configuration: Configuration
    let chains: [UInt64: ExecutionChain]
    let state: any ChainStateSource
    let journal: Journal
    let logger: Logger
    /// The decisions: dedup, locks, staleness, risk, re-quote (and the strategy kinds it offers).
    var core: ExecutionCore
    var gas: [UInt64: (block: UInt64, oracle: GasOracle, quote: Result<GasOracle.Quote, GasOracle.Failure>)] = [:]
    var senders: [UInt64: [Sender]] = [:]
    var report = Report()
    /// The trades being tracked, by a serial number; each removes itself when it ends.
    var tracking: [Int: Task<Void, Never>] = [:]
    var trackingSerial = 0
    static let timingWindow = 4_096

    public init(configuration: Configuration = Configuration(), chains: [ExecutionChain], state: any ChainStateSource, journal: Journal, logger: Logger) {
        self.configuration = configuration
        self.chains = Dictionary(uniqueKeysWithValues: chains.map { ($0.chainID, $0) })
        self.state = state
        self.journal = journal
        self.logger = logger
        var decisions = ExecutionCore.Configuration()
        decisions.maxBlockLag = configuration.maxBlockLag
        decisions.seenCapacity = configuration.seenCapacity
        decisions.risk = configuration.risk
        core = ExecutionCore(configuration: decisions, chains: Dictionary(uniqueKeysWithValues: chains.map {
            ($0.chainID, ExecutionCore.Chain(bundles: $0.route.isBundle, senders: $0.keys.count))
        }))
        for c in chains {
            senders[c.chainID] = c.keys.map { Sender(key: $0, nonces: NonceManager(chain: c.chainID, sender: $0.address, journal: journal, eth: c.eth)) }
        }
    }

    /// One signing key of a chain and its nonces.
    struct Sender: Sendable {
        let key: PrivateKey
        let nonces: NonceManager
    }

    public func setBackrunTarget(_ raw: [UInt8], for id: [UInt8]) { core.factory.backrunTargets[id] = raw }

    /// Settles what a previous run left open, chain by chain (see `NonceManager.recover`).
    public func recover() async throws -> (included: Int, dropped: Int) {
        var total = (0, 0)
        for m in senders.values.joined().map(\.nonces) {
            let r = try await m.recover()
            total.0 += r.included
            total.1 += r.dropped
        }
        return total
    }

    public var snapshot: Report { report }
    public var riskGate: RiskGate { core.risk }
    /// Takes no new trades from now on (each is refused `risk:closing`); trades in flight go on.
    public func close() { core.close() }

    /// The nonces of the chain's first key.
    public func nonceManager(_ chain: UInt64) -> NonceManager? { senders[chain]?.first?.nonces }
    /// The nonces of each of the chain's keys.
    public func nonceManagers(_ chain: UInt64) -> [NonceManager] { senders[chain]?.map(\.nonces) ?? [] }

    /// Waits for every trade being tracked to settle, until `deadline` (or the caller's
    /// cancellation); then stops tracking: each trade still open is journaled as open (its
    /// submission stays `submitted`, and the next start's recovery settles it). Returns within
    /// 2 s of the deadline whatever the network does.
    public func drain(until deadline: ContinuousClock.Instant? = nil) async {
        while !tracking.isEmpty, !Task.isCancelled, deadline.map({ ContinuousClock.now < $0 }) ?? true {
            await pause(.milliseconds(50))
        }
        guard !tracking.isEmpty else { return }
        for t in tracking.values { t.cancel() }
        let hard = ContinuousClock.now + .seconds(2)
        while !tracking.isEmpty, ContinuousClock.now < hard { await pause(.milliseconds(20)) }
    }

    // MARK: the pipeline

    /// Handles one opportunity up to submission; inclusion is tracked in the background.
    /// Returns the refusal, if it was refused.
    @discardableResult
    public func handle(_ o: Opportunity, receivedAt: UInt64) async -> Refusal? {
        report.received += 1
        try? journal.record(opportunity: o, receivedAt: receivedAt)
        var clock = StageClock()
        let result = await run(o, &clock)
        if case .failure(let r) = result {
            refuse(o, r)
            return r
        }
        return nil
    }

    /// The decisions are the core's (`ExecutionCore`); this drives them: reads the state and the
    /// gas price between them, then plans, signs and submits what they admit.
    func run(_ o: Opportunity, _ clock: inout StageClock) async -> Result<Void, Refusal> {
        var lease: ExecutionCore.Lease
        switch core.receive(o) {
        case .failure(let r): return .failure(r)
        case .success(let l): lease = l
        }
        clock.mark("validate", &report)
        let chain = chains[lease.chainID]!, sender = senders[lease.chainID]![lease.sender]
        let now = WallClock.nanoseconds()
        let s: ChainState
        switch await caughtUpState(lease, o, now: now) {
        case .failure(let r): return .failure(r)
        case .success(let state): s = state
        }
        clock.mark("staleness", &report)
        let gas = await gasQuote(chain, block: s.block)
        clock.mark("gas", &report, rpc: true)
        let (fees, q): (GasOracle.Quote, Requote)
        switch core.price(&lease, o, gas: gas, state: s, now: now) {
        case .failure(let r): return .failure(r)
        case .success(let priced): (fees, q) = priced
        }
        clock.mark("requote", &report)
        return await execute(o, lease, chain: chain, sender: sender, fees: fees, q: q, block: s.block, now: now, clock: &clock)
    }

    /// The chain's state once the core finds it fresh: an executor in its own process keeps its
    /// own state, which may be a moment behind the detector's, so a state short of the detected
    /// block is waited for up to `catchUp` (re-quoting on an older one would only report the path as moved).
    func caughtUpState(_ lease: ExecutionCore.Lease, _ o: Opportunity, now: UInt64) async -> Result<ChainState, Refusal> {
        let wait = ContinuousClock.now + configuration.catchUp
        while true {
            switch core.staleness(lease, o, state: state.state(chain: lease.chainID), now: now, waitedOut: ContinuousClock.now >= wait) {
            case .ready(let s): return .success(s)
            case .refused(let r): return .failure(r)
            case .waitFor: try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Strategy → build → L1 data fee → nonce → sign, then simulate and submit. Every refusal ends
    /// the lease in the core: withdrawn before anything is signed, failed after.
    func execute(_ o: Opportunity, _ lease: ExecutionCore.Lease, chain: ExecutionChain, sender: Sender, fees: GasOracle.Quote, q: Requote,
                         block: UInt64, now: UInt64, clock: inout StageClock) async -> Result<Void, Refusal> {
        func withdraw(_ r: Refusal) -> Result<Void, Refusal> { .failure(core.end(lease, .withdrawn, r, now: WallClock.nanoseconds())) }
        let plan: TradePlan
        switch await planTrade(o, lease.strategies, q, chain: chain, now: now) {
        case .failure(let r): return withdraw(r)
        case .success(let p): plan = p
        }
        clock.mark("strategy", &report, rpc: true)
        let gasLimit = min(max(o.gasUnits * chain.gasHeadroom.numerator / chain.gasHeadroom.denominator, chain.gasLimitBounds.lowerBound), chain.gasLimitBounds.upperBound)
        var tx = Transaction(type: .dynamicFee, chainId: chain.chainID, nonce: 0, maxPriorityFeePerGas: fees.maxPriorityFeePerGas, maxFeePerGas: fees.maxFeePerGas,
                             gasLimit: gasLimit, to: plan.executor, value: .zero, data: plan.calldata)
        clock.mark("build", &report)
        // L1 data fee (OP stack): what posting this transaction to L1 costs must leave the trade profitable.
        if let oracle = chain.l1FeeOracle {
            guard let fee = await l1Fee(chain, oracle: oracle, tx: tx) else {
                return withdraw(Refusal("gas", "l1FeeUnavailable", "getL1Fee on \(oracle.checksummed) failed"))
            }
            if let r = ExecutionCore.l1Fee(fee, o, plan) { return withdraw(r) }
            report.l1Fees.append(fee)
            clock.mark("l1fee", &report, rpc: true)
        }
        let reservation: (nonce: UInt64, submission: Int64)
        do {
            if sender.nonces.nextNonce == nil { try await sender.nonces.resync() }
            reservation = try sender.nonces.reserveSynced(opportunity: o.id, now: now)
        } catch {
            return withdraw(Refusal("nonce", "unavailable", "\(error)"))
        }
        tx.nonce = reservation.nonce
        clock.mark("nonce", &report)
        let signed = tx.signed(with: sender.key)
        clock.mark("sign", &report)
        clock.total("detectedToSigned", &report)
        try? journal.updateSubmission(reservation.submission, status: .reserved, txHash: Hex.encode(signed.hash), mode: chain.route.name, strategy: plan.strategy,
                                      executor: plan.executor.checksummed, expectedProfit: plan.expectedProfit.description, at: now)
        let trade = Signed(o: o, lease: lease, chain: chain, sender: sender, plan: plan, tx: tx, signed: signed, submission: reservation.submission)
        return await submit(trade, target: block + 1, clock: &clock)
    }

    /// The first strategy that plans the trade, else the last refusal.
    func planTrade(_ o: Opportunity, _ strategies: [any Strategy], _ q: Requote, chain: ExecutionChain, now: UInt64) async -> Result<TradePlan, Refusal> {
        let context = StrategyContext(flash: chain.flash, direct: chain.direct, directBalance: { [eth = chain.eth, direct = chain.direct] asset, block in
            guard let direct else { return nil }
            return await eth.balance(of: direct, token: asset, block: block)
        }, deadline: now / 1_000_000_000 + 300)
        var last = Refusal("strategy", "none")
        for strategy in strategies {
            switch await strategy.plan(o, q, context) {
            case .success(let p): return .success(p)
            case .failure(let r): last = r
            }
        }
        return .failure(last)
    }

    /// A trade signed with its nonce, on its way to the chain.
    struct Signed: Sendable {
        let o: Opportunity
        let lease: ExecutionCore.Lease
        let chain: ExecutionChain
        let sender: Sender
        let plan: TradePlan
        let tx: Transaction
        let signed: SignedTransaction
        let submission: Int64
    }

    /// Simulates and submits for `target`; outrun by a block while simulating, the same signed
    /// trade goes again for the next block if the path still quotes as detected (twice at most).
    /// Submitted, it is tracked in the background (the tracker ends its lease).
    func submit(_ t: Signed, target first: UInt64, clock: inout StageClock) async -> Result<Void, Refusal> {
        var target = first
        var outcome = await simulateAndSubmit(t.chain, sender: t.sender, plan: t.plan, signed: t.signed, submission: t.submission, target: target, clock: &clock)
        for _ in 0..<2 {
            guard case .failure(let r) = outcome, r.reason == "outrun", let head = try? await t.chain.eth.blockNumber(),
                  let fresh = await stillAsDetected(t.o, chain: t.chain, head: head) else { break }
            target = fresh.block + 1
            outcome = await simulateAndSubmit(t.chain, sender: t.sender, plan: t.plan, signed: t.signed, submission: t.submission, target: target, clock: &clock)
        }
        if case .failure(let r) = outcome, r.reason == "unanswered" {
            // No answer to the send: the relay or node may have taken it, and then it can land.
            // It is followed as sent (the tracker finds it landed, or gives it up past its block).
            logger.warning("no answer to the send: following it as sent", metadata: ["arb.tx": "\(Hex.encode(t.signed.hash))", "error": "\(r.detail)"])
        } else if case .failure(let r) = outcome {
            try? t.sender.nonces.release(t.tx.nonce, submission: t.submission, now: WallClock.nanoseconds())
            // Being outrun by the next block, or by transactions ahead of ours, is competition, not a fault of this chain's setup.
            let ending: ExecutionCore.Ending = r.reason == "outrun" || r.reason == "pendingMoved" ? .withdrawn : .failed
            return .failure(core.end(t.lease, ending, r, now: WallClock.nanoseconds()))
        }
        try? journal.updateSubmission(t.submission, status: .submitted, targetBlock: target, lastBlock: target, at: WallClock.nanoseconds())
        report.submitted += 1
        trackingSerial += 1
        let serial = trackingSerial
        tracking[serial] = Task {
            await self.track(t, target: target)
            self.tracking[serial] = nil
        }
        return .success(())
    }


    // MARK: helpers

    static let getL1Fee = try! FunctionSignature("getL1Fee(bytes) returns (uint256)")

    /// `getL1Fee(unsigned RLP)` from the chain's oracle (its active fork's formula, whatever it is).
    func l1Fee(_ chain: ExecutionChain, oracle: Address, tx: Transaction) async -> UInt256? {
        await chain.eth.word(oracle, Self.getL1Fee, [.bytes(tx.signingPayload)])
    }

    func gasQuote(_ chain: ExecutionChain, block: UInt64) async -> Result<GasOracle.Quote, GasOracle.Failure> {
        if let g = gas[chain.chainID], g.block == block { return g.quote }
        var oracle = gas[chain.chainID]?.oracle ?? GasOracle(configuration: configuration.gas)
        let result: Result<GasOracle.Quote, GasOracle.Failure>
        do {
            let h = try await chain.eth.rpc.call("eth_feeHistory", oracle.parameters)
            result = Result { () throws(GasOracle.Failure) in try oracle.quote(feeHistory: h) }
        } catch {
            result = .failure(.malformed("\(error)"))
        }
        gas[chain.chainID] = (block, oracle, result)
        return result
    }

    func refuse(_ o: Opportunity, _ r: Refusal) {
        report.refused["\(r.stage):\(r.reason)", default: 0] += 1
        try? journal.decision(o.id, chain: o.chains.first ?? 0, stage: r.stage, outcome: "refused", reason: r.reason, detail: r.detail, at: WallClock.nanoseconds())
        logger.debug("refused", metadata: ["arb.opportunity": "\(Hex.encode(o.id))", "arb.reason": "\(r)"])
    }

}
