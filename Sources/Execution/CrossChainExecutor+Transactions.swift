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
        var oracle = gas[leg.chainID] ?? GasOracle(configuration: configuration.gas)
        let fees: GasOracle.Quote
        do {
            let h = try await leg.eth.rpc.call("eth_feeHistory", oracle.parameters)
            fees = try oracle.quote(feeHistory: h)
            gas[leg.chainID] = oracle
        } catch {
            return .failure(Refusal("gas", "gasUnavailable", "\(error)"))
        }
        let lockDeadline = ContinuousClock.now + configuration.maxLockWait
        while busy.contains(leg.chainID) {
            guard ContinuousClock.now < lockDeadline, !Task.isCancelled else {
                return .failure(Refusal("lock", "senderBusy", "the chain's cross-chain key stayed busy for \(configuration.maxLockWait)"))
            }
            try? await Task.sleep(for: configuration.poll)
        }
        busy.insert(leg.chainID)
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
        var landed: Receipt? = nil
        var sent = false
        var why = ""
        let start = (try? await leg.eth.blockNumber()) ?? 0
        let waitDeadline = ContinuousClock.now + configuration.maxReceiptWait
        switch leg.route {
        case .flashbots(let relay):
            // Once a bundle has gone to the relay it may land, whatever the answer said (or if
            // none came): the last block it targeted decides, below.
            var lastTarget: UInt64? = nil
            for _ in 0..<configuration.maxBundleBlocks where landed == nil {
                do {
                    let head = try await leg.eth.blockNumber()
                    let sim = try await relay.callBundle([signed.raw], block: head + 1)
                    if let f = sim.failure { why = "bundle simulation: \(f)"; break }
                    try? journal.updateSubmission(reservation.submission, status: .submitted, targetBlock: head + 1, lastBlock: head + 1, at: WallClock.nanoseconds())
                    lastTarget = head + 1
                    _ = try await relay.sendBundle([signed.raw], block: head + 1)
                    sent = true
                    landed = await receipt(leg, hash, until: head + 1, deadline: waitDeadline)
                } catch {
                    why = "\(error)"
                    // The target block arrived while sending: the next block is another try.
                    if why.contains("in the past") { continue }
                    break
                }
            }
            if landed == nil, let lastTarget { landed = await receipt(leg, hash, until: lastTarget, deadline: waitDeadline) }
        case .privateRPC(let rpc), .publicMempool(let rpc):
            do {
                _ = try await rpc.sendRawTransaction(signed.raw)
                sent = true
            } catch {
                why = error.message
                // No answer: the node may have taken it (followed as sent).
                sent = mayHaveBeenAccepted(error)
            }
            if sent {
                try? journal.updateSubmission(reservation.submission, status: .submitted, targetBlock: start + 1, lastBlock: start + 1, at: WallClock.nanoseconds())
                landed = await receipt(leg, hash, until: start + configuration.maxPendingBlocks, deadline: waitDeadline)
            }
        }
        let now = WallClock.nanoseconds()
        guard let landed else {
            if sent && (Task.isCancelled || ContinuousClock.now >= waitDeadline) {
                // Stopped (or the chain stalled) before its fate was known: it may land yet. The
                // submission stays open for `recover`; the caller treats it as in doubt.
                return .failure(Refusal("inclusion", "pending", hash))
            }
            if sent && !leg.route.isBundle {
                // Sent and still pending: it may land yet. The nonce stays taken (the chain's
                // count decides it later), and the caller treats the transaction as in doubt.
                try? journal.updateSubmission(reservation.submission, status: .dropped, at: now)
                try? await nonces.resync()
                return .failure(Refusal("inclusion", "pending", hash))
            }
            // The chain's count past the nonce with no receipt of ours: something else took it
            // (another holder of the key, a lost record). It is not free: take the chain's count.
            if let count = try? await leg.eth.transactionCount(of: leg.key.address, at: .latest), count > reservation.nonce {
                try? journal.updateSubmission(reservation.submission, status: .dropped, at: now)
                try? await nonces.resync()
                return .failure(Refusal("nonce", "taken", "nonce \(reservation.nonce) is behind the chain's count \(count): \(why)"))
            }
            try? nonces.release(reservation.nonce, submission: reservation.submission, now: now)
            return .failure(Refusal("inclusion", "notIncluded", why))
        }
        if landed.status == 1 {
            try? nonces.confirm(submission: reservation.submission, now: now)
            return .success(landed)
        }
        try? journal.updateSubmission(reservation.submission, status: .reverted, at: now)
        return .failure(Refusal("inclusion", "reverted", hash))
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
