import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// After leg one: the bridge, the fill, the sale, and leg one in doubt.
extension CrossChainExecutor {

    func follow(_ t: BridgeTransfer) {
        // Stopped (a trade that was sending while the stop came): its record stays open for `recover`.
        guard !stopped else { return }
        taskSerial += 1
        let serial = taskSerial
        tasks[serial] = Task {
            await self.finish(t)
            self.tasks[serial] = nil
        }
    }

    func finish(_ start: BridgeTransfer) async {
        var t = start
        guard let to = legs[t.toChain] else { return }
        if t.status == .sending {
            guard let from = legs[t.fromChain] else { return }
            switch await settleLegOne(t, on: from) {
            case .undecided(let why):
                // Cancelled by a stop, or past its bound: the record stays `sending`.
                if !Task.isCancelled {
                    t.detail = why
                    update(t)
                }
                return
            case .never(let why):
                t.status = .failed
                t.detail = why
                update(t)
                return
            case .landed(let receipt):
                guard receipt.status == 1, let (id, _) = Self.deposit(receipt.logs, bridge: from.bridge) else {
                    t.status = .failed
                    t.detail = "leg one reverted"
                    update(t)
                    return
                }
                (t.depositID, t.depositBlock, t.status) = (id, receipt.block, .inFlight)
                update(t)
            }
        }
        if t.status == .inFlight {
            guard await awaitFill(&t, on: to) else { return }
        }
        if t.status == .arrived || t.status == .held { await sellArrived(&t, on: to) }
    }

    /// Waits for the bridge's fill of a transfer in flight, up to `maxFillWait`; true once it arrived.
    func awaitFill(_ t: inout BridgeTransfer, on to: CrossChainLeg) async -> Bool {
        let deadline = ContinuousClock.now + configuration.maxFillWait
        while !Task.isCancelled {
            if let amount = await fill(of: t, on: to) {
                t.received = amount
                t.status = .arrived
                update(t)
                return true
            }
            guard ContinuousClock.now < deadline else {
                t.detail = "no fill within \(configuration.maxFillWait); followed again at the next start"
                update(t)
                return false
            }
            try? await Task.sleep(for: configuration.poll)
        }
        return false
    }

    /// Sells an arrived asset at exactly what the chain says it fetches now (`sell` simulated with
    /// no minimum), once that returns at least the quote spent, or anything once the position has
    /// been held past `maxHoldNanoseconds`. A sale that fails (simulation or send) counts as an
    /// attempt; after `maxSaleAttempts` the transfer is `held` with the last quote it got.
    func sellArrived(_ t: inout BridgeTransfer, on to: CrossChainLeg) async {
        guard let received = t.received else { return }
        let began = WallClock.nanoseconds()
        let sale = t.opportunity.path[1]
        var attempts = 0
        var lastQuote = "none"
        // Sales sent that were still pending when their wait ended: one may land yet, and then the
        // asset is gone. While the node holds one, no other sale is sent (it would spend a second
        // nonce on a sale that can only revert); past `maxReceiptWait` they count as an attempt.
        var pendingSales: [(hash: String, expect: UInt256, since: ContinuousClock.Instant)] = []
        while attempts < configuration.maxSaleAttempts, !Task.isCancelled {
            if let landed = await pendingSale(pendingSales, on: to) {
                (t.sellTx, t.proceeds, t.status) = (landed.hash, landed.proceeds, .sold)
                update(t)
                return
            }
            if let oldest = pendingSales.first, await anyKnown(pendingSales.map(\.hash), on: to) {
                if ContinuousClock.now - oldest.since > configuration.maxReceiptWait {
                    attempts += 1
                    pendingSales.removeAll()
                }
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            pendingSales.removeAll()
            guard let s = state.state(chain: to.chainID), case .success(let q) = Requote.quote([sale], amountIn: received, on: s) else {
                attempts += 1
                lastQuote = "no state to quote the sale on"
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            let heldTooLong = WallClock.nanoseconds() &- began >= configuration.maxHoldNanoseconds
            if q.amountOut < t.amountIn && !heldTooLong {
                // At a loss by our own state: wait for the price (no call to the chain), up to the hold limit.
                lastQuote = "\(q.amountOut) by our state (minimum \(t.amountIn))"
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            let deadline = UInt256(WallClock.nanoseconds() / 1_000_000_000 + 300)
            func calldata(_ minimum: UInt256) -> [UInt8] {
                try! Self.sell.calldata([.address(sale.tokenIn), .uint(received), ExecutorCall.steps(q.steps), .uint(minimum), .uint(deadline)])
            }
            // What the chain gives for it now (our state may trail the state the sale lands on).
            let fetches: UInt256
            do {
                guard let v = try await to.eth.simulate(from: to.key.address, to: to.executor, data: calldata(.zero), pending: !to.route.isBundle) else {
                    attempts += 1
                    lastQuote = "the sale's eth_call answer is not one word"
                    try? await Task.sleep(for: configuration.poll)
                    continue
                }
                fetches = v
            } catch {
                attempts += 1
                lastQuote = "sale simulation failed: \(ExecutorCall.revertReason(error))"
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            lastQuote = "\(fetches) (our state: \(q.amountOut); minimum \(t.amountIn))"
            if fetches < t.amountIn && !heldTooLong {
                // At a loss on the chain's state (ours trails it): an attempt; the price is awaited.
                attempts += 1
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            switch await transact(to, opportunity: t.opportunity.id, data: calldata(fetches), expect: fetches, whenSigned: { _ in }) {
            case .success(let receipt):
                // The sale landed (status 1): it is never sent again. Without our `Sold` event
                // (a contract other than ours) the simulated proceeds stand, said so.
                let event = Self.sold(receipt.logs, executor: to.executor)
                t.sellTx = receipt.txHash
                t.proceeds = event ?? fetches
                if event == nil { t.detail = "no Sold event in the sale's receipt: proceeds as simulated" }
                t.status = .sold
                update(t)
                return
            case .failure(let r):
                attempts += 1
                if t.detail != r.description {
                    t.detail = r.description
                    update(t)
                }
                if r.stage == "inclusion", r.reason == "pending" { pendingSales.append((r.detail, fetches, .now)) }
                try? await Task.sleep(for: configuration.poll)
            }
        }
        guard !Task.isCancelled else { return }
        t.status = .held
        t.detail = "held after \(attempts) sale attempt(s): last quote \(lastQuote); sold at the next start"
        update(t)
        logger.notice("cross-chain: arrived asset held", metadata: ["arb.opportunity": "\(Hex.encode(t.opportunity.id))", "arb.detail": "\(t.detail)"])
    }

    /// The first of `sales` that landed with status 1: its hash and proceeds.
    func pendingSale(_ sales: [(hash: String, expect: UInt256, since: ContinuousClock.Instant)], on to: CrossChainLeg) async -> (hash: String, proceeds: UInt256)? {
        for p in sales {
            guard let receipt = await Self.receipt(p.hash, on: to.eth), receipt.status == 1 else { continue }
            return (receipt.txHash, Self.sold(receipt.logs, executor: to.executor) ?? p.expect)
        }
        return nil
    }

    /// Leg one's fate, as far as it can be told.
    enum LegOneFate {
        /// It has a receipt (reverted or not).
        case landed(Receipt)
        /// It can no longer land: why.
        case never(String)
        /// Not known within the bound (or a stop came first): the record stays open, and why.
        case undecided(String)
    }

    /// Leg one's fate when it is not known (pending when last seen, or a restart came first).
    /// A receipt decides. A bundle that has no receipt `sendingBlocks` blocks on never lands. A
    /// transaction may land as long as its nonce is free, so it counts as never landed only once
    /// the chain's count has passed its nonce without it; `sendingBlocks` blocks on, a
    /// cancellation (same nonce, fees +50 %) is sent to settle it either way, up to
    /// `maxCancellations`. Past `maxLegOneWait` it is left undecided.
    func settleLegOne(_ t: BridgeTransfer, on leg: CrossChainLeg) async -> LegOneFate {
        let submission = try? journal.submission(chain: leg.chainID, txHash: t.depositTx)
        let until = ((try? await leg.eth.blockNumber()) ?? 0) + configuration.sendingBlocks
        let deadline = ContinuousClock.now + configuration.maxLegOneWait
        var cancellations: [String] = []
        while !Task.isCancelled {
            guard ContinuousClock.now < deadline else {
                return .undecided("leg one not settled within \(configuration.maxLegOneWait) (\(cancellations.count) cancellation(s) sent); followed again at the next start")
            }
            // The head and the count first: a receipt missing after they were read is missing at them.
            let head = (try? await leg.eth.blockNumber()) ?? 0
            let count = try? await leg.eth.transactionCount(of: leg.key.address, at: .latest)
            if let receipt = await Self.receipt(t.depositTx, on: leg.eth) {
                if let submission { try? journal.updateSubmission(submission.seq, status: receipt.status == 1 ? .included : .reverted, lastBlock: receipt.block, at: WallClock.nanoseconds()) }
                return .landed(receipt)
            }
            guard !leg.route.isBundle, let submission else {
                // A bundle past its blocks (or a transaction whose nonce the journal lost): gone.
                if head > until { return .never("leg one did not land") }
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            if let count, count > submission.nonce {
                for c in cancellations.reversed() where await Self.receipt(c, on: leg.eth) != nil {
                    try? journal.updateSubmission(submission.seq, status: .cancelled, txHash: c, at: WallClock.nanoseconds())
                    return .never("leg one cancelled: \(c) took nonce \(submission.nonce)")
                }
                try? journal.updateSubmission(submission.seq, status: .dropped, at: WallClock.nanoseconds())
                return .never("leg one never landed: nonce \(submission.nonce) was taken by another transaction")
            }
            // A cancellation goes once the wait is over, and again whenever the node has forgotten
            // it and the original both (evicted from its pool): the nonce is free then, and only
            // something landing on it settles the leg.
            if head > until, cancellations.count < configuration.maxCancellations, let rpc = leg.route.transactionEndpoint {
                let held = cancellations.isEmpty ? false : await anyKnown([t.depositTx] + cancellations, on: leg)
                if !held, let c = await cancel(t.depositTx, nonce: submission.nonce, on: leg, via: rpc) { cancellations.append(c) }
            }
            try? await Task.sleep(for: configuration.poll)
        }
        return .undecided("stopped while leg one was in doubt")
    }

    /// Whether the node still knows any of `hashes` (mined or waiting); an unread answer counts as known.
    func anyKnown(_ hashes: [String], on leg: CrossChainLeg) async -> Bool {
        for h in hashes where (try? await leg.eth.rpc.call("eth_getTransactionByHash", [.string(h)])) != .null { return true }
        return false
    }

    /// Sends the cancellation of our transaction `hash` (nonce `nonce`): fees +50 % over what the
    /// node says it bid, or twice the current quote when the node no longer knows it.
    func cancel(_ hash: String, nonce: UInt64, on leg: CrossChainLeg, via rpc: RPCClient) async -> String? {
        var tip = UInt256.zero, cap = UInt256.zero
        if let known = try? await leg.eth.rpc.call("eth_getTransactionByHash", [.string(hash)]), known != .null,
           let t = known["maxPriorityFeePerGas"]?.stringValue.flatMap({ try? UInt256(hex: $0) }),
           let c = known["maxFeePerGas"]?.stringValue.flatMap({ try? UInt256(hex: $0) }) {
            (tip, cap) = (t, c)
        } else {
            var oracle = gas[leg.chainID] ?? GasOracle(configuration: configuration.gas)
            guard let h = try? await leg.eth.rpc.call("eth_feeHistory", oracle.parameters), let q = try? oracle.quote(feeHistory: h) else { return nil }
            (tip, cap) = (q.maxPriorityFeePerGas &* UInt256(2), q.maxFeePerGas &* UInt256(2))
        }
        let original = Transaction(type: .dynamicFee, chainId: leg.chainID, nonce: nonce, maxPriorityFeePerGas: tip, maxFeePerGas: cap,
                                   gasLimit: 21_000, to: leg.key.address, value: .zero, data: [])
        let signed = original.cancellation(signedWith: leg.key)
        do {
            _ = try await rpc.sendRawTransaction(signed.raw)
        } catch {
            logger.warning("cross-chain: cancellation of leg one failed", metadata: ["arb.tx": "\(hash)", "error": "\(error)"])
            return nil
        }
        logger.notice("cross-chain: leg one still pending; cancellation sent", metadata: ["arb.tx": "\(hash)", "arb.nonce": "\(nonce)"])
        return Hex.encode(signed.hash)
    }

    func update(_ t: BridgeTransfer) {
        try? journal.record(transfer: t, at: WallClock.nanoseconds())
        if let i = snapshot.transfers.firstIndex(where: { $0.opportunity.id == t.opportunity.id }) { snapshot.transfers[i] = t } else { snapshot.transfers.append(t) }
    }

    /// The destination bridge's `Filled` for this transfer (source chain and deposit id), if any yet.
    func fill(of t: BridgeTransfer, on to: CrossChainLeg) async -> UInt256? {
        guard let id = t.depositID else { return nil }
        let filter = JSONValue.object([
            ("address", .string(to.bridge.checksummed)), ("fromBlock", .string("earliest")), ("toBlock", .string("latest")),
            ("topics", .array([Self.filled, UInt256(t.fromChain), id].map { .string(Hex.encode($0.bigEndianBytes)) })),
        ])
        guard let logs = (try? await to.eth.rpc.call("eth_getLogs", [filter]))?.arrayValue else { return nil }
        for l in logs {
            guard let log = try? EthClient.log(l), log.data.count == 96,
                  let recipient = try? UInt256(bigEndian: Array(log.data[32..<64])), recipient == (try? UInt256(bigEndian: to.executor.bytes)) else { continue }
            return try? UInt256(bigEndian: Array(log.data[64..<96]))
        }
        return nil
    }
}
