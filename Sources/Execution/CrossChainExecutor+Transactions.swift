import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// A leg's transactions: signed, simulated, sent by the chain's route, and their receipts.
extension CrossChainExecutor {

    struct Receipt {
        var txHash: String
        var block: UInt64
        var status: Int
        var logs: [EVMLog]
    }

    /// Signs `data` to the leg's executor with the next nonce, simulates it (it must return exactly
    /// `expect`), sends it by the chain's route and waits for its receipt (status 1).
    func transact(_ leg: CrossChainLeg, opportunity: [UInt8], data: [UInt8], expect: UInt256,
                  whenSigned: (String) -> Void) async -> Result<Receipt, Refusal> {
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
                             maxFeePerGas: fees.maxFeePerGas, gasLimit: configuration.gasLimit, to: leg.executor, value: .zero, data: data)
        let signed = tx.signed(with: leg.key)
        let hash = Hex.encode(signed.hash)
        try? journal.updateSubmission(reservation.submission, status: .reserved, txHash: hash, mode: leg.route.name, strategy: "cross-chain",
                                      executor: leg.executor.checksummed, expectedProfit: expect.description, at: WallClock.nanoseconds())
        whenSigned(hash)
        let sending = Sending(leg: leg, signed: signed, hash: hash, nonce: reservation.nonce, submission: reservation.submission,
                              deadline: ContinuousClock.now + configuration.maxReceiptWait)
        let outcome = leg.route.isBundle ? await sendBundle(sending) : await sendTransaction(sending)
        guard let landed = outcome.landed else { return .failure(await unlanded(sending, sent: outcome.sent, why: outcome.why, nonces: nonces)) }
        let now = WallClock.nanoseconds()
        if landed.status == 1 {
            try? nonces.confirm(submission: reservation.submission, now: now)
            return .success(landed)
        }
        try? journal.updateSubmission(reservation.submission, status: .reverted, at: now)
        return .failure(Refusal("inclusion", "reverted", hash))
    }

    /// A leg's signed transaction on its way, and how long its receipt is waited for.
    struct Sending {
        let leg: CrossChainLeg
        let signed: SignedTransaction
        let hash: String
        let nonce: UInt64
        let submission: Int64
        let deadline: ContinuousClock.Instant
    }

    /// The chain's EIP-1559 fees (its oracle kept for the next one).
    func legFees(_ leg: CrossChainLeg) async -> Result<GasOracle.Quote, Refusal> {
        var oracle = gas[leg.chainID] ?? GasOracle(configuration: configuration.gas)
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
    func takeKey(_ leg: CrossChainLeg) async -> Refusal? {
        let lockDeadline = ContinuousClock.now + configuration.maxLockWait
        while busy.contains(leg.chainID) {
            guard ContinuousClock.now < lockDeadline, !Task.isCancelled else {
                return Refusal("lock", "senderBusy", "the chain's cross-chain key stayed busy for \(configuration.maxLockWait)")
            }
            try? await Task.sleep(for: configuration.poll)
        }
        busy.insert(leg.chainID)
        return nil
    }

    /// Once a bundle has gone to the relay it may land, whatever the answer said (or if none
    /// came): the last block it targeted decides. A target that arrived while sending is another try.
    func sendBundle(_ s: Sending) async -> (landed: Receipt?, sent: Bool, why: String) {
        guard case .flashbots(let relay) = s.leg.route else { return (nil, false, "not a bundle route") }
        var landed: Receipt?, sent = false, why = "", lastTarget: UInt64?
        for _ in 0..<configuration.maxBundleBlocks where landed == nil {
            do {
                let head = try await s.leg.eth.blockNumber()
                let sim = try await relay.callBundle([s.signed.raw], block: head + 1)
                if let f = sim.failure { why = "bundle simulation: \(f)"; break }
                try? journal.updateSubmission(s.submission, status: .submitted, targetBlock: head + 1, lastBlock: head + 1, at: WallClock.nanoseconds())
                lastTarget = head + 1
                _ = try await relay.sendBundle([s.signed.raw], block: head + 1)
                sent = true
                landed = await receipt(s.leg, s.hash, until: head + 1, deadline: s.deadline)
            } catch {
                why = "\(error)"
                if why.contains("in the past") { continue }
                break
            }
        }
        if landed == nil, let lastTarget { landed = await receipt(s.leg, s.hash, until: lastTarget, deadline: s.deadline) }
        return (landed, sent, why)
    }

    /// `eth_sendRawTransaction`, then its receipt for up to `maxPendingBlocks`; no answer to the
    /// send may mean the node took it (followed as sent).
    func sendTransaction(_ s: Sending) async -> (landed: Receipt?, sent: Bool, why: String) {
        guard let rpc = s.leg.route.transactionEndpoint else { return (nil, false, "no transaction endpoint") }
        let start = (try? await s.leg.eth.blockNumber()) ?? 0
        var sent = false, why = ""
        do {
            _ = try await rpc.sendRawTransaction(s.signed.raw)
            sent = true
        } catch {
            why = error.message
            sent = mayHaveBeenAccepted(error)
        }
        guard sent else { return (nil, false, why) }
        try? journal.updateSubmission(s.submission, status: .submitted, targetBlock: start + 1, lastBlock: start + 1, at: WallClock.nanoseconds())
        return (await receipt(s.leg, s.hash, until: start + configuration.maxPendingBlocks, deadline: s.deadline), true, why)
    }

    /// Why a leg transaction has no receipt, and what becomes of its nonce.
    func unlanded(_ s: Sending, sent: Bool, why: String, nonces: NonceManager) async -> Refusal {
        let now = WallClock.nanoseconds()
        if sent && (Task.isCancelled || ContinuousClock.now >= s.deadline) {
            // Stopped (or the chain stalled) before its fate was known: it may land yet. The
            // submission stays open for `recover`; the caller treats it as in doubt.
            return Refusal("inclusion", "pending", s.hash)
        }
        if sent && !s.leg.route.isBundle {
            // Sent and still pending: it may land yet. The nonce stays taken (the chain's count
            // decides it later), and the caller treats the transaction as in doubt.
            try? journal.updateSubmission(s.submission, status: .dropped, at: now)
            try? await nonces.resync()
            return Refusal("inclusion", "pending", s.hash)
        }
        // The chain's count past the nonce with no receipt of ours: something else took it
        // (another holder of the key, a lost record). It is not free: take the chain's count.
        if let count = try? await s.leg.eth.transactionCount(of: s.leg.key.address, at: .latest), count > s.nonce {
            try? journal.updateSubmission(s.submission, status: .dropped, at: now)
            try? await nonces.resync()
            return Refusal("nonce", "taken", "nonce \(s.nonce) is behind the chain's count \(count): \(why)")
        }
        try? nonces.release(s.nonce, submission: s.submission, now: now)
        return Refusal("inclusion", "notIncluded", why)
    }

    /// The receipt of `hash`, polled until the chain passes `until` (or `deadline`, or a stop).
    /// The head is read before the receipt: a receipt missing after the head was past `until` is
    /// missing for good (read the other way round, blocks mined between the two reads would be
    /// taken as empty).
    func receipt(_ leg: CrossChainLeg, _ hash: String, until: UInt64, deadline: ContinuousClock.Instant) async -> Receipt? {
        while true {
            let head = try? await leg.eth.blockNumber()
            if let receipt = await Self.receipt(hash, on: leg.eth) { return receipt }
            guard let head, head <= until, ContinuousClock.now < deadline, !Task.isCancelled else { return nil }
            try? await Task.sleep(for: configuration.poll)
        }
    }

    /// The receipt of `hash`, if it has one yet (an unreadable answer counts as none yet).
    static func receipt(_ hash: String, on eth: EthClient) async -> Receipt? {
        guard let r = try? await eth.rpc.call("eth_getTransactionReceipt", [.string(hash)]), r != .null else { return nil }
        return receipt(r)
    }

    static func receipt(_ r: JSONValue) -> Receipt? {
        guard let h = r["transactionHash"]?.stringValue, let b = r["blockNumber"]?.stringValue, let block = try? UInt256(hex: b) else { return nil }
        return Receipt(txHash: h, block: block.w0, status: r["status"]?.stringValue == "0x1" ? 1 : 0, logs: ExecutorCall.logs(ofReceipt: r))
    }

    /// The bridge's `Deposited` in a receipt: (id, amount).
    static func deposit(_ logs: [EVMLog], bridge: Address) -> (UInt256, UInt256)? {
        for l in logs where l.address == bridge && l.topics.count == 3 && l.topics[0] == deposited && l.data.count == 128 {
            guard let amount = try? UInt256(bigEndian: Array(l.data[0..<32])) else { continue }
            return (l.topics[1], amount)
        }
        return nil
    }

    static let soldTopic = try! UInt256(bigEndian: Keccak256.hash(utf8: "Sold(address,uint256,address,uint256)"))

    /// The executor's `Sold` proceeds in a receipt.
    static func sold(_ logs: [EVMLog], executor: Address) -> UInt256? {
        for l in logs where l.address == executor && l.topics.first == soldTopic && l.data.count == 96 {
            return try? UInt256(bigEndian: Array(l.data[64..<96]))
        }
        return nil
    }
}
