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
public actor ExecutionEngine: ExecutionDriver {
    public struct Configuration: Sendable {
        /// The core's: staleness (`maxBlockLag`, `catchUp`), dedup (`seenCapacity`), the risk gate.
        public var decisions = ExecutionCore.Configuration()
        public var gas = GasOracle.Configuration()
        /// How long a submitted trade is tracked before it is left open (journaled, for the next
        /// start to settle): a chain that stops producing blocks must not hold it forever.
        public var maxTracking: Duration = .seconds(300)
        public init() {}

        public var maxBlockLag: UInt64 {
            get { decisions.maxBlockLag }
            set { decisions.maxBlockLag = newValue }
        }
        public var catchUp: Duration {
            get { decisions.catchUp }
            set { decisions.catchUp = newValue }
        }
        public var risk: RiskGate.Configuration {
            get { decisions.risk }
            set { decisions.risk = newValue }
        }
        public var seenCapacity: Int {
            get { decisions.seenCapacity }
            set { decisions.seenCapacity = newValue }
        }
    }

    /// Counters and per-stage timings (nanoseconds, last `timingWindow` samples per stage).
    public struct Report: Sendable {
        public var received = 0
        public var submitted = 0
        public var included = 0
        public var failed = 0
        /// Bundles sent again for a later block after their target passed without them.
        public var retargeted = 0
        /// Backrun bundles sent (each behind its target).
        public var backruns = 0
        /// Pending transactions sent again at a higher fee.
        public var replaced = 0
        /// Submissions whose fate was not known when tracking stopped (a stop, or `maxTracking`):
        /// journaled as open, settled by the next start's recovery.
        public var open = 0
        /// Landed trades a reorg took out of the chain and that have not landed again (their
        /// receipts are no longer journaled; see `checkLandings`).
        public var reorgedOut = 0
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
        /// A backrun's target transaction (hash), which landed right ahead of it.
        public var target: String? = nil
    }

    public let configuration: Configuration
    let chains: [UInt64: ExecutionChain]
    let state: any ChainStateSource
    let journal: Journal
    let logger: Logger
    /// The decisions: dedup, locks, staleness, risk, re-quote (and the strategy kinds it offers).
    public var core: ExecutionCore
    var gas: [UInt64: (block: UInt64, oracle: GasOracle, quote: Result<GasOracle.Quote, GasOracle.Failure>)] = [:]
    var senders: [UInt64: [Sender]] = [:]
    var report = Report()
    /// The trades being tracked; each removes itself when it ends.
    var tracking = Followers()
    /// Trades a reorg took out while their node still holds them, by chain and hash (`followReorged`).
    var reorged: [UInt64: [String: Reorged]] = [:]
    /// The head each chain's last landing check read (`checkLandings`).
    var landingHeads: [UInt64: UInt64] = [:]
    static let timingWindow = 4_096

    /// `claims`: the pools our trades are on their way through, shared with the process's other
    /// executors (CEX–DEX legs, positions, cross-chain legs) so that no two of our trades meet in a pool.
    public init(configuration: Configuration = Configuration(), chains: [ExecutionChain], state: any ChainStateSource, journal: Journal, logger: Logger,
                claims: PoolClaims = PoolClaims()) {
        self.configuration = configuration
        self.chains = Dictionary(uniqueKeysWithValues: chains.map { ($0.chainID, $0) })
        self.state = state
        self.journal = journal
        self.logger = logger
        core = ExecutionCore(configuration: configuration.decisions, chains: Dictionary(uniqueKeysWithValues: chains.map {
            ($0.chainID, ExecutionCore.Chain(bundles: $0.route.isBundle, senders: $0.keys.count, gasHeadroom: $0.gasHeadroom,
                                             gasLimitBounds: $0.gasLimitBounds, l1Fee: $0.l1FeeOracle != nil))
        }), claims: claims)
        for c in chains {
            senders[c.chainID] = c.keys.map { Sender(key: $0, nonces: NonceManager(chain: c.chainID, sender: $0.address, journal: journal, eth: c.eth)) }
        }
    }

    /// One signing key of a chain and its nonces.
    struct Sender: Sendable {
        let key: PrivateKey
        let nonces: NonceManager
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
        await Followers.drain(until: deadline, isEmpty: { self.tracking.isEmpty }, cancel: { self.tracking.cancelAll() })
    }

    // MARK: the pipeline

    /// Handles one opportunity up to submission; inclusion is tracked in the background.
    /// Returns the refusal, if it was refused.
    @discardableResult
    public func handle(_ o: Opportunity, receivedAt: UInt64) async -> Refusal? {
        report.received += 1
        try? journal.record(opportunity: o, receivedAt: receivedAt)
        if case .failure(let r) = await drive(o) {
            refuse(o, r)
            return r
        }
        return nil
    }

    // MARK: the driver

    public nonisolated func now() -> UInt64 { WallClock.nanoseconds() }

    public func timed(_ stage: String, nanoseconds: UInt64) {
        var samples = report.stages[stage, default: []]
        if samples.count >= Self.timingWindow { samples.removeFirst(samples.count / 2) }
        samples.append(nanoseconds)
        report.stages[stage] = samples
    }

    /// Each action on the chain, the keys or the journal, bounded by the RPC client's timeouts.
    public func perform(_ action: ExecutionCore.Action, _ f: ExecutionCore.Flow) async -> ExecutionCore.Event {
        let chain = chains[f.lease.chainID]!, sender = senders[f.lease.chainID]![f.lease.sender]
        switch action {
        case .readState(let waiting):
            if waiting { try? await Task.sleep(for: .milliseconds(10)) }
            return .state(state.state(chain: chain.chainID))
        case .fetchGas(let block): return .gas(await gasQuote(chain, block: block))
        case .plan(let q): return .planned(await planTrade(f.opportunity, f.lease.strategies, q, chain: chain, now: f.startedAt))
        case .l1Fee(let tx): return .l1Fee(await chain.eth.word(chain.l1FeeOracle!, Self.getL1Fee, [.bytes(tx.signingPayload)]))
        case .reserveNonce:
            if let fee = f.l1Fee { report.l1Fees.append(fee) }
            do {
                if sender.nonces.nextNonce == nil { try await sender.nonces.resync() }
                let r = try sender.nonces.reserveSynced(opportunity: f.opportunity.id, now: f.startedAt)
                return .reserved(.success(.init(nonce: r.nonce, submission: r.submission)))
            } catch {
                return .reserved(.failure(Refusal("nonce", "unavailable", "\(error)")))
            }
        case .sign(let tx): return .signed(tx.signed(with: sender.key))
        case .simulate(let target):
            let t = Signed(f, chain: chain, sender: sender)
            if f.outruns == 0 {
                // The signed transaction journaled with its reservation (after the signature: detected → signed is in-process work only).
                try? journal.updateSubmission(t.submission, status: .reserved, txHash: Hex.encode(t.signed.hash), mode: chain.route.name,
                                              strategy: t.plan.strategy, executor: t.plan.executor.checksummed,
                                              expectedProfit: t.plan.expectedProfit.description, asset: t.plan.asset.checksummed,
                                              detectedProfit: t.plan.detectedProfit.description, at: f.startedAt)
            }
            return .simulated(await simulate(t, target: target))
        case .readHead: return .head(try? await chain.eth.blockNumber())
        case .readStateAt(let block): return .state(await state(chain.chainID, atLeast: block))
        case .submit(let target): return .submitted(await send(Signed(f, chain: chain, sender: sender), target: target))
        }
    }

    /// Journaled as submitted and tracked in the background (the tracker ends its lease).
    public func follow(_ f: ExecutionCore.Flow, unanswered: Refusal?) {
        let t = Signed(f, chain: chains[f.lease.chainID]!, sender: senders[f.lease.chainID]![f.lease.sender])
        if let unanswered {
            // No answer to the send: the relay or node may have taken it, and then it can land.
            // It is followed as sent (the tracker finds it landed, or gives it up past its block).
            logger.warning("no answer to the send: following it as sent", metadata: ["arb.tx": "\(Hex.encode(t.signed.hash))", "error": "\(unanswered.detail)"])
        }
        try? journal.updateSubmission(t.submission, status: .submitted, targetBlock: f.target, lastBlock: f.target, at: WallClock.nanoseconds())
        if t.o.backrun != nil { journalTarget(t, block: f.target) }
        report.submitted += 1
        tracking.add { serial in
            Task {
                await self.track(t, target: f.target)
                self.tracking.remove(serial)
            }
        }
    }

    public func release(_ r: ExecutionCore.Reservation, _ f: ExecutionCore.Flow) {
        try? senders[f.lease.chainID]![f.lease.sender].nonces.release(r.nonce, submission: r.submission, now: WallClock.nanoseconds())
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

        init(_ f: ExecutionCore.Flow, chain: ExecutionChain, sender: Sender) {
            (o, lease, plan, tx, signed, submission) = (f.opportunity, f.lease, f.plan!, f.transaction!, f.signed!, f.reservation!.submission)
            self.chain = chain
            self.sender = sender
        }
    }

    // MARK: helpers

    /// `getL1Fee(unsigned RLP)` on the chain's oracle (its active fork's formula, whatever it is).
    static let getL1Fee = try! FunctionSignature("getL1Fee(bytes) returns (uint256)")

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
