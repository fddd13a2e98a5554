import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// An account that trades its own capital through one of our executors on a chain: the
/// contract, the chain's route, and a key of its own (its nonces apart from the chain's other
/// trades). Cross-chain legs and statistical positions both send through one.
public struct OwnCapitalAccount: Sendable {
    public var chainID: UInt64
    public var eth: EthClient
    public var route: SubmissionRoute
    public var key: PrivateKey
    public var executor: Address

    public init(chainID: UInt64, eth: EthClient, route: SubmissionRoute, key: PrivateKey, executor: Address) {
        self.chainID = chainID
        self.eth = eth
        self.route = route
        self.key = key
        self.executor = executor
    }
}

/// How an own-capital transaction is sent and waited for.
public struct LegSettings: Sendable {
    public var gas = GasOracle.Configuration()
    public var gasLimit: UInt64 = 400_000
    /// Blocks a transaction may stay pending, or a bundle be retargeted, before it is given up.
    public var maxPendingBlocks: UInt64 = 10
    public var maxBundleBlocks = 3
    /// How long one transaction's receipt is waited for, whatever the chain's head says (a stalled chain).
    public var maxReceiptWait: Duration = .seconds(120)
    /// How long a transaction waits for its chain's key to be free before it is refused (`lock:senderBusy`).
    public var maxLockWait: Duration = .seconds(30)
    public var poll: Duration = .milliseconds(200)
    public init() {}
}

/// An actor that sends own-capital transactions: one at a time per chain (its key), simulated
/// first, sent by the chain's route, followed to a receipt within bounds.
protocol OwnCapitalSender: Actor {
    var journal: Journal { get }
    var nonces: [UInt64: NonceManager] { get }
    var gas: [UInt64: GasOracle] { get set }
    var busy: Set<UInt64> { get set }
    var settings: LegSettings { get }
    /// The journal's name for what its transactions do (a submission's `strategy`).
    var strategyName: String { get }
}

extension OwnCapitalSender {
    /// Signs `data` to the leg's executor with the next nonce, simulates it (it must return exactly
    /// `expect`), sends it by the chain's route and waits for its receipt (status 1).
    func transact(_ leg: OwnCapitalAccount, opportunity: [UInt8], data: [UInt8], expect: UInt256,
                  whenSigned: (String) -> Void) async -> Result<LegReceipt, Refusal> {
        let fees: GasOracle.Quote
        switch await legFees(leg) {
        case .failure(let r): return .failure(r)
        case .success(let q): fees = q
        }
        if let r = await takeKey(leg) { return .failure(r) }
        defer { busy.remove(leg.chainID) }
        // Simulate before taking a nonce: the call must give exactly what was planned.
        do {
            let value = try await leg.eth.simulate(from: leg.key.address, to: leg.executor, data: data, pending: !leg.route.isBundle)
            guard value == expect else {
                return .failure(Refusal("simulate", "mismatch", "the executor returns \(value.map(\.description) ?? "no word"), expected \(expect)"))
            }
        } catch {
            return .failure(Refusal("simulate", "reverted", ExecutorCall.revertReason(error)))
        }
        guard let nonces = nonces[leg.chainID] else { return .failure(Refusal("nonce", "noManager")) }
        let reservation: (nonce: UInt64, submission: Int64)
        do {
            reservation = try await nonces.reserve(opportunity: opportunity, now: WallClock.nanoseconds())
        } catch {
            return .failure(Refusal("nonce", "unavailable", "\(error)"))
        }
        let tx = Transaction(type: .dynamicFee, chainId: leg.chainID, nonce: reservation.nonce, maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
                             maxFeePerGas: fees.maxFeePerGas, gasLimit: settings.gasLimit, to: leg.executor, value: .zero, data: data)
        let signed = tx.signed(with: leg.key)
        let hash = Hex.encode(signed.hash)
        try? journal.updateSubmission(reservation.submission, status: .reserved, txHash: hash, mode: leg.route.name, strategy: strategyName,
                                      executor: leg.executor.checksummed, expectedProfit: expect.description, at: WallClock.nanoseconds())
        whenSigned(hash)
        let sending = LegSending(leg: leg, signed: signed, hash: hash, nonce: reservation.nonce, submission: reservation.submission,
                              deadline: ContinuousClock.now + settings.maxReceiptWait)
        let outcome = leg.route.isBundle ? await sendBundle(sending) : await sendTransaction(sending)
        guard let landed = outcome.landed else { return .failure(await unlanded(sending, outcome, nonces: nonces)) }
        let now = WallClock.nanoseconds()
        if landed.status == 1 {
            try? nonces.confirm(submission: reservation.submission, now: now)
            return .success(landed)
        }
        try? journal.updateSubmission(reservation.submission, status: .reverted, at: now)
        return .failure(Refusal("inclusion", "reverted", hash))
    }

    /// Our state once it has the chain's head (the block a previous swap of ours landed in, say):
    /// a quote must be on the state the swap lands on. nil if it does not get there `within`.
    func caughtUp(_ account: OwnCapitalAccount, state: any ChainStateSource, within: Duration) async -> ChainState? {
        let head = (try? await account.eth.blockNumber()) ?? 0
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if let s = state.state(chain: account.chainID), s.block >= head { return s }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The chain's EIP-1559 fees (its oracle kept for the next one).
    func legFees(_ leg: OwnCapitalAccount) async -> Result<GasOracle.Quote, Refusal> {
        var oracle = gas[leg.chainID] ?? GasOracle(configuration: settings.gas)
        do {
            let h = try await leg.eth.rpc.call("eth_feeHistory", oracle.parameters)
            let fees = try oracle.quote(feeHistory: h)
            gas[leg.chainID] = oracle
            return .success(fees)
        } catch {
            return .failure(Refusal("gas", "gasUnavailable", "\(error)"))
        }
    }

    /// The chain's key, once free (one leg transaction at a time per chain), within `maxLockWait`.
    func takeKey(_ leg: OwnCapitalAccount) async -> Refusal? {
        let lockDeadline = ContinuousClock.now + settings.maxLockWait
        while busy.contains(leg.chainID) {
            guard ContinuousClock.now < lockDeadline, !Task.isCancelled else {
                return Refusal("lock", "senderBusy", "the chain's cross-chain key stayed busy for \(settings.maxLockWait)")
            }
            try? await Task.sleep(for: settings.poll)
        }
        busy.insert(leg.chainID)
        return nil
    }

    /// Once a bundle has gone to the relay it may land, whatever the answer said (or if none
    /// came): the last block it targeted decides. A target that arrived while sending is another
    /// try. Absence is only concluded from the node's answer after that block; a read that fails
    /// leaves the bundle in doubt.
    func sendBundle(_ s: LegSending) async -> LegOutcome {
        guard case .flashbots(let relay) = s.leg.route else { return LegOutcome(why: "not a bundle route") }
        var out = LegOutcome(), lastTarget: UInt64?
        for _ in 0..<settings.maxBundleBlocks {
            let target: UInt64
            do {
                target = try await s.leg.eth.blockNumber() + 1
                let sim = try await relay.callBundle([s.signed.raw], block: target)
                if let f = sim.failure { out.why = "bundle simulation: \(f)"; break }
            } catch {
                out.why = "\(error)"
                break
            }
            try? journal.updateSubmission(s.submission, status: .submitted, targetBlock: target, lastBlock: target, at: WallClock.nanoseconds())
            do {
                _ = try await relay.sendBundle([s.signed.raw], block: target)
            } catch {
                out.why = "\(error)"
                if out.why.contains("in the past") { continue }
                // No answer, or one that could not be read: the relay may have taken it.
                if mayHaveBeenAccepted(error) { (out.sent, lastTarget) = (true, target) }
                break
            }
            (out.sent, lastTarget) = (true, target)
            switch await receipt(s.leg, s.hash, until: target, deadline: s.deadline) {
            case .landed(let r): out.landed = r; return out
            case .absent: continue
            case .unknown: out.doubt = true; return out
            }
        }
        guard let lastTarget else { return out }
        switch await receipt(s.leg, s.hash, until: lastTarget, deadline: s.deadline) {
        case .landed(let r): out.landed = r
        case .absent: break
        case .unknown: out.doubt = true
        }
        return out
    }

    /// `eth_sendRawTransaction`, then its receipt for up to `maxPendingBlocks`; no answer to the
    /// send may mean the node took it (followed as sent).
    func sendTransaction(_ s: LegSending) async -> LegOutcome {
        guard let rpc = s.leg.route.transactionEndpoint else { return LegOutcome(why: "no transaction endpoint") }
        let start = (try? await s.leg.eth.blockNumber()) ?? 0
        var out = LegOutcome()
        do {
            _ = try await rpc.sendRawTransaction(s.signed.raw)
            out.sent = true
        } catch {
            out.why = error.message
            out.sent = mayHaveBeenAccepted(error)
        }
        guard out.sent else { return out }
        try? journal.updateSubmission(s.submission, status: .submitted, targetBlock: start + 1, lastBlock: start + 1, at: WallClock.nanoseconds())
        switch await receipt(s.leg, s.hash, until: start + settings.maxPendingBlocks, deadline: s.deadline) {
        case .landed(let r): out.landed = r
        case .absent: break
        case .unknown: out.doubt = true
        }
        return out
    }

    /// Why a leg transaction has no receipt, and what becomes of its nonce. Its nonce is freed
    /// only when the chain has been read to say it did not land and the nonce is not taken.
    func unlanded(_ s: LegSending, _ o: LegOutcome, nonces: NonceManager) async -> Refusal {
        let now = WallClock.nanoseconds()
        if o.sent && (o.doubt || Task.isCancelled || ContinuousClock.now >= s.deadline) {
            // Stopped (or the chain stalled, or its reads failed) before its fate was known: it
            // may land yet. The submission stays open for `recover`; the caller treats it as in doubt.
            return Refusal("inclusion", "pending", s.hash)
        }
        if o.sent && !s.leg.route.isBundle {
            // Sent and still pending: it may land yet. The nonce stays taken (the chain's count
            // decides it later), and the caller treats the transaction as in doubt.
            try? journal.updateSubmission(s.submission, status: .dropped, at: now)
            try? await nonces.resync()
            return Refusal("inclusion", "pending", s.hash)
        }
        // The chain's count past the nonce with no receipt of ours: something else took it
        // (another holder of the key, a lost record). It is not free: take the chain's count.
        guard let count = try? await s.leg.eth.transactionCount(of: s.leg.key.address, at: .latest) else {
            // Not read: what was sent may still be counted; what never left cannot land.
            if o.sent { return Refusal("inclusion", "pending", s.hash) }
            try? nonces.release(s.nonce, submission: s.submission, now: now)
            return Refusal("inclusion", "notIncluded", o.why)
        }
        if count > s.nonce {
            try? journal.updateSubmission(s.submission, status: .dropped, at: now)
            try? await nonces.resync()
            return Refusal("nonce", "taken", "nonce \(s.nonce) is behind the chain's count \(count): \(o.why)")
        }
        try? nonces.release(s.nonce, submission: s.submission, now: now)
        return Refusal("inclusion", "notIncluded", o.why)
    }

    /// The receipt of `hash`, polled until the chain passes `until` (or `deadline`, or a stop).
    /// The head is read before the receipt: a receipt missing after the head was past `until` is
    /// missing for good (read the other way round, blocks mined between the two reads would be
    /// taken as empty). `.absent` only from a null answer read after such a head.
    func receipt(_ leg: OwnCapitalAccount, _ hash: String, until: UInt64, deadline: ContinuousClock.Instant) async -> LegReceipt.Read {
        while true {
            let head = try? await leg.eth.blockNumber()
            switch await LegReceipt.read(hash, on: leg.eth) {
            case .landed(let r): return .landed(r)
            case .absent: if let head, head > until { return .absent }
            case .unknown: break
            }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return .unknown }
            try? await Task.sleep(for: settings.poll)
        }
    }

}
