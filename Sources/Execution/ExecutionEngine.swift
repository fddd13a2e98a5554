import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// One chain as execution uses it.
public struct ExecutionChain: Sendable {
    public var chainID: UInt64
    public var eth: EthClient
    public var route: SubmissionRoute
    /// The signing keys trades go out from, each with its own nonces: trades on disjoint pools
    /// go concurrently from different keys (a bundle with a key's next nonce cannot land before
    /// the one ahead of it, so a key sends one bundle at a time). All must be authorised on the executors.
    public var keys: [PrivateKey]
    /// The first signing key.
    public var key: PrivateKey {
        get { keys[0] }
        set { keys[0] = newValue }
    }
    public var flash: FlashProviders?
    public var direct: Address?
    /// An OP-stack GasPriceOracle: each trade's L1 data fee is read from it and must leave a profit.
    public var l1FeeOracle: Address? = nil
    /// Gas limit of a trade: detection's estimate × this, within the bounds.
    public var gasHeadroom: (numerator: UInt64, denominator: UInt64) = (2, 1)
    public var gasLimitBounds: ClosedRange<UInt64> = 300_000...1_500_000
    /// Blocks a bundle is retargeted before it is given up.
    public var maxBundleBlocks = 3
    /// Blocks a sent transaction may stay pending before a replacement at a higher fee (or, when
    /// that no longer pays, a cancellation) is sent.
    public var replaceAfterBlocks: UInt64 = 3
    public var maxReplacements = 2
    /// Blocks a cancellation may stay pending before the nonce is taken from the chain again.
    public var maxPendingBlocks: UInt64 = 10

    public init(chainID: UInt64, eth: EthClient, route: SubmissionRoute, key: PrivateKey, flash: FlashProviders?, direct: Address?) {
        self.chainID = chainID
        self.eth = eth
        self.route = route
        self.keys = [key]
        self.flash = flash
        self.direct = direct
    }
}

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
    private var core: ExecutionCore
    private var gas: [UInt64: (block: UInt64, oracle: GasOracle, quote: Result<GasOracle.Quote, GasOracle.Failure>)] = [:]
    private var senders: [UInt64: [Sender]] = [:]
    private var report = Report()
    /// The trades being tracked, by a serial number; each removes itself when it ends.
    private var tracking: [Int: Task<Void, Never>] = [:]
    private var trackingSerial = 0
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
    private func run(_ o: Opportunity, _ clock: inout StageClock) async -> Result<Void, Refusal> {
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
    private func caughtUpState(_ lease: ExecutionCore.Lease, _ o: Opportunity, now: UInt64) async -> Result<ChainState, Refusal> {
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
    private func execute(_ o: Opportunity, _ lease: ExecutionCore.Lease, chain: ExecutionChain, sender: Sender, fees: GasOracle.Quote, q: Requote,
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
    private func planTrade(_ o: Opportunity, _ strategies: [any Strategy], _ q: Requote, chain: ExecutionChain, now: UInt64) async -> Result<TradePlan, Refusal> {
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
    private func submit(_ t: Signed, target first: UInt64, clock: inout StageClock) async -> Result<Void, Refusal> {
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

    private func simulateAndSubmit(_ chain: ExecutionChain, sender: Sender, plan: TradePlan, signed: SignedTransaction, submission: Int64, target: UInt64,
                                   clock: inout StageClock) async -> Result<Void, Refusal> {
        // The call itself, from our key, on the latest state: the contract must return exactly
        // what the re-quote expects (a difference means our state and the chain's disagree).
        // A bundle lands at the top of the next block: the latest state. A transaction joins the
        // block being built: the pending state, after what is already in it.
        let bundled = chain.route.isBundle
        do {
            guard let profit = try await chain.eth.simulate(from: sender.key.address, to: plan.executor, data: plan.calldata, pending: !bundled) else {
                return .failure(Refusal("simulate", "malformed", "eth_call answer is not one word"))
            }
            guard profit == plan.expectedProfit else {
                return .failure(Refusal("simulate", bundled ? "mismatch" : "pendingMoved",
                                        "the executor returns \(profit), the re-quote expects \(plan.expectedProfit)"))
            }
        } catch {
            // On the pending state, a revert means transactions ahead of ours took the gap.
            return .failure(Refusal("simulate", error.code == .server ? (bundled ? "reverted" : "pendingMoved") : "failed", ExecutorCall.revertReason(error)))
        }
        switch chain.route {
        case .flashbots(let relay):
            let txs = plan.bundlePrefix + [signed.raw]
            do {
                let sim = try await relay.callBundle(txs, block: target)
                if let f = sim.failure { return .failure(Refusal("simulate", "bundleReverted", f)) }
            } catch {
                return .failure(Refusal("simulate", "bundleFailed", "\(error)"))
            }
            clock.mark("simulate", &report, rpc: true)
            // The chain moved while simulating: the state it was simulated on is gone.
            if let head = try? await chain.eth.blockNumber(), head >= target {
                return .failure(Refusal("simulate", "outrun", "block \(head) arrived during simulation for \(target)"))
            }
            // Journaled as sent first: a restart between here and the answer waits the target out
            // (a bundle may land without us hearing back).
            try? journal.updateSubmission(submission, status: .submitted, targetBlock: target, lastBlock: target, at: WallClock.nanoseconds())
            do {
                _ = try await relay.sendBundle(txs, block: target)
            } catch {
                // The target block arrived between the check above and the send: outrun, as above.
                if "\(error)".contains("in the past") { return .failure(Refusal("simulate", "outrun", "\(error)")) }
                if mayHaveBeenAccepted(error) { return .failure(Refusal("submit", "unanswered", "\(error)")) }
                return .failure(Refusal("submit", "relayRefused", "\(error)"))
            }
        case .privateRPC(let rpc), .publicMempool(let rpc):
            clock.mark("simulate", &report, rpc: true)
            do {
                _ = try await rpc.sendRawTransaction(signed.raw)
            } catch {
                let m = error.message.lowercased()
                if m.contains("nonce too low") || m.contains("invalid transaction nonce") {
                    // The chain is past our nonce (another sender of the key, a lost record): take the chain's.
                    try? await sender.nonces.resync()
                    return .failure(Refusal("submit", "nonceTooLow", error.message))
                }
                if mayHaveBeenAccepted(error) { return .failure(Refusal("submit", "unanswered", error.message)) }
                return .failure(Refusal("submit", m.contains("underpriced") ? "underpriced" : "rejected", error.message))
            }
        }
        clock.mark("submit", &report, rpc: true)
        return .success(())
    }

    // MARK: inclusion

    private func track(_ t: Signed, target: UInt64) async {
        let (o, chain, sender, plan, tx, signed, submission) = (t.o, t.chain, t.sender, t.plan, t.tx, t.signed, t.submission)
        let deadline = ContinuousClock.now + configuration.maxTracking
        var target = target
        var attempts = 1
        // Every version of the transaction sent with this nonce (replacements, the cancellation): any may land.
        var sent: [(hash: [UInt8], cancellation: Bool)] = [(signed.hash, false)]
        var current = tx
        var pendingSince = target - 1, replacements = 0
        var cancelled = false
        var landed: (block: UInt64, receipt: JSONValue, cancellation: Bool)? = nil
        while landed == nil {
            // A stop, or a chain that has not settled it in `maxTracking`: its fate is left to the next start.
            if Task.isCancelled || ContinuousClock.now >= deadline {
                await leaveOpen(t, hashes: sent.map(\.hash), nonce: current.nonce,
                                why: Task.isCancelled ? "stopped while tracking it" : "not settled within \(configuration.maxTracking)")
                return
            }
            // Wait for the target block.
            var head: UInt64 = 0
            for _ in 0..<600 {
                head = (try? await chain.eth.blockNumber()) ?? head
                if head >= target || Task.isCancelled || ContinuousClock.now >= deadline { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            // Stopped while waiting: nothing more is sent (the top of the loop leaves it open).
            if Task.isCancelled || ContinuousClock.now >= deadline { continue }
            for version in sent.reversed() {
                if let r = try? await chain.eth.rpc.call("eth_getTransactionReceipt", [.string(Hex.encode(version.hash))]), r != .null,
                   let b = r["blockNumber"]?.stringValue, let n = try? UInt256(hex: b) {
                    landed = (n.w0, r, version.cancellation)
                    break
                }
            }
            if landed != nil { break }
            guard case .flashbots(let relay) = chain.route else {
                // A transaction stays pending until it lands or is replaced. After
                // `replaceAfterBlocks`, the same trade goes again at a higher fee while the path
                // still quotes as detected and the fee leaves a profit; otherwise it is cancelled.
                guard let rpc = chain.route.transactionEndpoint else { break }
                let waited = head > pendingSince ? head - pendingSince : 0
                if cancelled {
                    if waited < chain.maxPendingBlocks { target = head + 1; continue }
                    break
                }
                if waited < chain.replaceAfterBlocks { target = head + 1; continue }
                if replacements < chain.maxReplacements, let bumped = await replacement(o, chain: chain, plan: plan, of: current, head: head) {
                    let again = bumped.signed(with: sender.key)
                    do {
                        _ = try await rpc.sendRawTransaction(again.raw)
                        current = bumped
                        sent.append((again.hash, false))
                        replacements += 1
                        pendingSince = head
                        target = head + 1
                        report.replaced += 1
                        try? journal.updateSubmission(submission, status: .submitted, txHash: Hex.encode(again.hash), lastBlock: head, at: WallClock.nanoseconds())
                        continue
                    } catch {
                        // A version already landed (its receipt shows next time round); anything else: cancel.
                        if error.message.lowercased().contains("nonce too low") { target = head + 1; continue }
                    }
                }
                cancelled = true
                let cancel = current.cancellation(signedWith: sender.key)
                _ = try? await rpc.sendRawTransaction(cancel.raw)
                sent.append((cancel.hash, true))
                pendingSince = head
                target = head + 1
                continue
            }
            guard attempts < chain.maxBundleBlocks, head >= target else { break }
            // Not included (a builder left it out): if the path still quotes as detected on the
            // new state, the same signed bundle goes for the next block; otherwise the detector's
            // quote on the new state supersedes it and the nonce is released.
            attempts += 1
            guard let s = await stillAsDetected(o, chain: chain, head: head) else { break }
            target = s.block + 1
            let txs = plan.bundlePrefix + [signed.raw]
            guard let sim = try? await relay.callBundle(txs, block: target), sim.failure == nil else { break }
            // Journaled before the send, as the first one: a restart waits the new target out.
            try? journal.updateSubmission(submission, status: .submitted, lastBlock: target, at: WallClock.nanoseconds())
            do {
                _ = try await relay.sendBundle(txs, block: target)
            } catch {
                // Without an answer the relay may have taken it: it is looked for at `target` as sent.
                guard mayHaveBeenAccepted(error) else { break }
            }
            report.retargeted += 1
        }
        let now = WallClock.nanoseconds()
        guard let landed, !landed.cancellation else {
            core.end(t.lease, .failed, now: now)
            report.failed += 1
            let reason: String
            if landed != nil {
                // Our cancellation took the nonce: the trade never ran.
                try? journal.updateSubmission(submission, status: .cancelled, txHash: Hex.encode(sent.last!.hash), at: now)
                reason = "cancelled"
            } else if cancelled {
                // Neither landed yet (or the original landed late): the chain says which.
                try? journal.updateSubmission(submission, status: .dropped, at: now)
                try? await sender.nonces.resync()
                reason = "notIncluded"
            } else {
                try? sender.nonces.release(current.nonce, submission: submission, now: now)
                reason = "notIncluded"
            }
            try? journal.decision(o.id, chain: chain.chainID, stage: "inclusion", outcome: "failed", reason: reason, at: now)
            report.refused["inclusion:\(reason)", default: 0] += 1
            return
        }
        // The version that landed (the original or a replacement) is the one journaled.
        let landedHash = landed.receipt["transactionHash"]?.stringValue ?? Hex.encode(signed.hash)
        try? sender.nonces.confirm(submission: submission, now: now)
        if sent.count > 1 { try? journal.updateSubmission(submission, status: .included, txHash: landedHash, at: now) }
        let status = landed.receipt["status"]?.stringValue == "0x1" ? 1 : 0
        let logs = ExecutorCall.logs(ofReceipt: landed.receipt)
        let realized = ExecutorCall.netTransfers(logs, token: plan.asset, holder: plan.executor)
        let micro = o.grossProfit.isNegative || o.grossProfit.magnitude.isZero ? 0
            : Int64(Double(o.grossProfitMicroUSD) * (realized.doubleValue / o.grossProfit.doubleValue))
        core.end(t.lease, status == 1 ? .landed(realisedMicroUSD: micro) : .reverted, now: now)
        // The executor's balance of the asset after the block less before it (all its trades there).
        let balanceDelta = await blockDelta(chain, plan, block: landed.block)
        let event = ExecutorCall.executedProfit(logs, executor: plan.executor, asset: plan.asset).map { Int256(bitPattern: $0) } ?? .zero
        let gasUsed = landed.receipt["gasUsed"]?.stringValue.flatMap { try? UInt256(hex: $0) }?.w0 ?? 0
        let price = landed.receipt["effectiveGasPrice"]?.stringValue.flatMap { try? UInt256(hex: $0) } ?? .zero
        let receipt = Journal.Receipt(txHash: landedHash, opportunity: Hex.encode(o.id), chain: chain.chainID, block: landed.block, status: status,
                                      gasUsed: gasUsed, effectiveGasPrice: price, asset: plan.asset, expectedProfit: Int256(bitPattern: plan.expectedProfit),
                                      detectedProfit: plan.detectedProfit, realizedProfit: realized, eventProfit: event)
        try? journal.record(receipt: receipt, at: now)
        try? journal.updateSubmission(submission, status: status == 1 ? .included : .reverted, lastBlock: landed.block, at: now)
        if status == 1 {
            report.included += 1
            report.trades.append(Trade(chainID: chain.chainID, opportunity: Hex.encode(o.id), kind: o.kind, strategy: plan.strategy,
                                       source: plan.flash?.lender.source ?? .none, txHash: receipt.txHash, block: landed.block,
                                       expectedProfit: receipt.expectedProfit, detectedProfit: plan.detectedProfit, realizedProfit: realized,
                                       eventProfit: event, balanceDelta: balanceDelta, asset: plan.asset, executor: plan.executor,
                                       lender: plan.flash.map { $0.pool ?? $0.lender.lender }, bundled: chain.route.isBundle))
            try? journal.decision(o.id, chain: chain.chainID, stage: "inclusion", outcome: "included", reason: plan.strategy, detail: "block \(landed.block)", at: now)
        } else {
            report.failed += 1
            try? journal.decision(o.id, chain: chain.chainID, stage: "inclusion", outcome: "failed", reason: "reverted", at: now)
        }
    }

    /// The executor's balance of the trade's asset after `block` less before it, each read tried
    /// three times (a busy node may not answer one); nil if a read never came back.
    private func blockDelta(_ chain: ExecutionChain, _ plan: TradePlan, block: UInt64) async -> Int256? {
        func read(_ at: UInt64) async -> UInt256? {
            for attempt in 0..<3 {
                if let v = await chain.eth.balance(of: plan.executor, token: plan.asset, block: at) { return v }
                if attempt < 2 { try? await Task.sleep(for: .milliseconds(200)) }
            }
            return nil
        }
        guard let after = await read(block), let before = await read(block - 1) else { return nil }
        return Int256(bitPattern: after) &- Int256(bitPattern: before)
    }

    /// Stops tracking a submission whose fate is not known: it stays `submitted` in the journal
    /// (the next start's recovery settles it), with an `open` decision saying what is pending;
    /// its pools and sender are freed, and the sender's nonces taken from the chain again.
    private func leaveOpen(_ t: Signed, hashes: [[UInt8]], nonce: UInt64, why: String) async {
        let (o, chain, sender) = (t.o, t.chain, t.sender)
        let sent = hashes.map { Hex.encode($0) }.joined(separator: ", ")
        core.end(t.lease, .open, now: WallClock.nanoseconds())
        report.open += 1
        try? journal.decision(o.id, chain: chain.chainID, stage: "inclusion", outcome: "open", reason: "unsettled",
                              detail: "\(why): \(sent) (nonce \(nonce) of \(sender.key.address.checksummed), \(chain.route.name)) "
                                  + "may still land; the next start settles it", at: WallClock.nanoseconds())
        logger.notice("trade left open", metadata: ["arb.tx": "\(sent)", "arb.reason": "\(why)"])
        if !Task.isCancelled { try? await sender.nonces.resync() }
    }

    // MARK: helpers

    static let getL1Fee = try! FunctionSignature("getL1Fee(bytes) returns (uint256)")

    /// `getL1Fee(unsigned RLP)` from the chain's oracle (its active fork's formula, whatever it is).
    private func l1Fee(_ chain: ExecutionChain, oracle: Address, tx: Transaction) async -> UInt256? {
        await chain.eth.word(oracle, Self.getL1Fee, [.bytes(tx.signingPayload)])
    }

    /// The chain's state once it has reached `block` (waiting up to a second for the watcher).
    private func state(_ chain: UInt64, atLeast block: UInt64) async -> ChainState? {
        for _ in 0..<40 {
            if let s = state.state(chain: chain), s.block >= block { return s }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    /// The state at `head` or later if the path still quotes there exactly as detected.
    private func stillAsDetected(_ o: Opportunity, chain: ExecutionChain, head: UInt64) async -> ChainState? {
        guard let s = await state(chain.chainID, atLeast: head), case .success(let q) = Requote.quote(o.path, amountIn: o.amountIn, on: s),
              q.amountOut == o.path.last!.amountOut else { return nil }
        return s
    }

    /// `tx` again with both fee caps raised by an eighth (nodes ask at least a tenth more to
    /// replace), if the path still quotes as detected and the trade's gas at the new cap, in the
    /// asset at detection's conversion, leaves a profit; nil otherwise.
    private func replacement(_ o: Opportunity, chain: ExecutionChain, plan: TradePlan, of tx: Transaction, head: UInt64) async -> Transaction? {
        guard await stillAsDetected(o, chain: chain, head: head) != nil else { return nil }
        var b = tx
        b.maxFeePerGas = tx.maxFeePerGas &+ tx.maxFeePerGas / 8 &+ 1
        b.maxPriorityFeePerGas = tx.maxPriorityFeePerGas &+ tx.maxPriorityFeePerGas / 8 &+ 1
        guard let gasWei = b.maxFeePerGas.checkedMul(UInt256(o.gasUnits)), let cost = ExecutionCore.inAsset(wei: gasWei, o, plan),
              cost < plan.expectedProfit else { return nil }
        return b
    }

    private func gasQuote(_ chain: ExecutionChain, block: UInt64) async -> Result<GasOracle.Quote, GasOracle.Failure> {
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

    private func refuse(_ o: Opportunity, _ r: Refusal) {
        report.refused["\(r.stage):\(r.reason)", default: 0] += 1
        try? journal.decision(o.id, chain: o.chains.first ?? 0, stage: r.stage, outcome: "refused", reason: r.reason, detail: r.detail, at: WallClock.nanoseconds())
        logger.debug("refused", metadata: ["arb.opportunity": "\(Hex.encode(o.id))", "arb.reason": "\(r)"])
    }

}

/// Per-stage timing on the monotonic clock; RPC stages are named apart so the in-process path
/// can be reported without round trips.
struct StageClock {
    var last: ContinuousClock.Instant = .now
    var inProcess: Duration = .zero

    static func nanoseconds(_ d: Duration) -> UInt64 {
        UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000)
    }

    mutating func mark(_ stage: String, _ report: inout ExecutionEngine.Report, rpc: Bool = false) {
        let now = ContinuousClock.now
        let d = now - last
        last = now
        let ns = Self.nanoseconds(d)
        if !rpc { inProcess += d }
        var samples = report.stages[rpc ? "rpc:" + stage : stage, default: []]
        if samples.count >= ExecutionEngine.timingWindow { samples.removeFirst(samples.count / 2) }
        samples.append(ns)
        report.stages[rpc ? "rpc:" + stage : stage] = samples
    }

    /// The in-process time so far (RPC stages excluded) under `name`.
    func total(_ name: String, _ report: inout ExecutionEngine.Report) {
        let ns = Self.nanoseconds(inProcess)
        report.stages[name, default: []].append(ns)
    }
}
