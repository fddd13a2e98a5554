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
        tasks.add { serial in
            Task {
                await self.finish(t)
                self.tasks.remove(serial)
            }
        }
    }

    func finish(_ start: BridgeTransfer) async {
        var t = start
        let to = legs[t.toChain], destination = destinations[t.toChain]
        guard to != nil || destination != nil else { return }
        if t.status == .sending, let origin = origins[t.fromChain] {
            guard await settleOrigin(&t, origin) else { return }
        }
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
            if let destination {
                guard await awaitArrival(&t, at: destination) else { return }
            } else if let to {
                guard await awaitFill(&t, on: to) else { return }
            }
        }
        guard t.status == .arrived || t.status == .held else { return }
        if let destination { await sellOnDestination(&t, destination) } else if let to { await sellArrived(&t, on: to) }
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

    /// Sells an arrived asset as `CrossChainSale` decides: this reads our state, the chain and the
    /// node for it and sends the sale; sold, or held after its attempts (a stop leaves it as it is).
    func sellArrived(_ t: inout BridgeTransfer, on to: CrossChainLeg) async {
        guard let received = t.received else { return }
        var limits = CrossChainSale.Limits()
        (limits.maxAttempts, limits.maxHoldNanoseconds) = (configuration.maxSaleAttempts, configuration.maxHoldNanoseconds)
        limits.maxReceiptWaitNanoseconds = StageClock.nanoseconds(configuration.maxReceiptWait)
        var sale = CrossChainSale(limits: limits, spent: t.amountIn, began: WallClock.nanoseconds())
        let hop = t.saleHop
        var action = sale.next
        while !Task.isCancelled {
            let event: CrossChainSale.Event
            switch action {
            case .sold(let hash, let proceeds, let note):
                (t.sellTx, t.proceeds, t.status) = (hash, proceeds, .sold)
                if let note { t.detail = note }
                update(t)
                return
            case .held(let detail):
                (t.status, t.detail) = (.held, detail)
                update(t)
                logger.notice("cross-chain: arrived asset held", metadata: ["arb.opportunity": "\(Hex.encode(t.opportunity.id))", "arb.detail": "\(detail)"])
                return
            case .findPending(let sales): event = .pendingLanded(await pendingSale(sales, on: to))
            case .knowsPending(let hashes): event = .known(await anyKnown(hashes, on: to))
            case .quote:
                event = .quoted(state.state(chain: to.chainID).flatMap { try? Requote.quote([hop], amountIn: received, on: $0).get() })
            case .fetch(let q, let deadline): event = .fetched(await fetch(to, Self.sale(hop, received, q, minimum: .zero, deadline: deadline)))
            case .sell(let q, let minimum, let deadline):
                let data = Self.sale(hop, received, q, minimum: minimum, deadline: deadline)
                // Another trade of ours on its way through the pool: the sale waits its turn (quoted again after).
                guard await claims.claim([hop.pool], chain: to.chainID, waiting: configuration.poll) else {
                    event = .poolBusy
                    break
                }
                let result = await transact(to.account, opportunity: t.opportunity.id, data: data, expect: minimum, whenSigned: { _ in })
                claims.release([hop.pool], chain: to.chainID)
                if case .failure(let r) = result, t.detail != r.description {
                    t.detail = r.description
                    update(t)
                }
                event = .sent(result.map { ($0.txHash, LegReceipt.sold($0.logs, executor: to.executor)) })
            case .pause:
                try? await Task.sleep(for: configuration.poll)
                event = .paused
            }
            action = sale.advance(event, now: WallClock.nanoseconds())
        }
    }

    /// `sell(token, amount, steps, minimum, deadline)` calldata.
    static func sale(_ hop: Opportunity.Hop, _ amount: UInt256, _ q: Requote, minimum: UInt256, deadline: UInt64) -> [UInt8] {
        try! sell.calldata([.address(hop.tokenIn), .uint(amount), ExecutorCall.steps(q.steps), .uint(minimum), .uint(UInt256(deadline))])
    }

    /// What the chain gives for the sale now (`eth_call`; our state may trail the state it lands on).
    func fetch(_ to: CrossChainLeg, _ data: [UInt8]) async -> Result<UInt256, Refusal> {
        do {
            guard let v = try await to.eth.simulate(from: to.key.address, to: to.executor, data: data, pending: !to.route.isBundle) else {
                return .failure(Refusal("simulate", "malformed", "the sale's eth_call answer is not one word"))
            }
            return .success(v)
        } catch {
            return .failure(Refusal("simulate", "reverted", "sale simulation failed: \(ExecutorCall.revertReason(error))"))
        }
    }

    /// The first of `sales` that landed with status 1: its hash and proceeds.
    func pendingSale(_ sales: [CrossChainSale.Pending], on to: CrossChainLeg) async -> (hash: String, proceeds: UInt256)? {
        for p in sales {
            guard let receipt = await LegReceipt.fetch(p.hash, on: to.eth), receipt.status == 1 else { continue }
            return (receipt.txHash, LegReceipt.sold(receipt.logs, executor: to.executor) ?? p.proceeds)
        }
        return nil
    }

    /// Leg one's fate, as far as it can be told.
    enum LegOneFate {
        /// It has a receipt (reverted or not).
        case landed(LegReceipt)
        /// It can no longer land: why.
        case never(String)
        /// Not known within the bound (or a stop came first): the record stays open, and why.
        case undecided(String)
    }

    /// Leg one's fate when it is not known, as `LegOneInDoubt` decides it: this observes the chain,
    /// sends the cancellations it asks for and journals the end. Past `maxLegOneWait` (or at a
    /// stop) it is left undecided.
    func settleLegOne(_ t: BridgeTransfer, on leg: CrossChainLeg) async -> LegOneFate {
        let submission = try? journal.submission(chain: leg.chainID, txHash: t.depositTx)
        let until = ((try? await leg.eth.blockNumber()) ?? 0) + configuration.sendingBlocks
        let deadline = ContinuousClock.now + configuration.maxLegOneWait
        var doubt = LegOneInDoubt(depositTx: t.depositTx, until: until, nonce: leg.route.isBundle ? nil : submission?.nonce,
                                  canCancel: leg.route.transactionEndpoint != nil, maxCancellations: configuration.maxCancellations)
        var action = LegOneInDoubt.Action.observe, receipt: LegReceipt?
        while !Task.isCancelled {
            guard ContinuousClock.now < deadline else {
                return .undecided("leg one not settled within \(configuration.maxLegOneWait) (\(doubt.cancellations.count) cancellation(s) sent); followed again at the next start")
            }
            let event: LegOneInDoubt.Event
            switch action {
            case .end(let fate): return ended(fate, receipt: receipt, submission: submission)
            case .observe:
                let head = (try? await leg.eth.blockNumber()) ?? 0
                let count = try? await leg.eth.transactionCount(of: leg.key.address, at: .latest)
                receipt = await LegReceipt.fetch(t.depositTx, on: leg.eth)
                event = .observed(head: head, count: count, receipt: receipt != nil)
            case .findCancellation(let hashes):
                var landed: String?
                for c in hashes where await LegReceipt.fetch(c, on: leg.eth) != nil {
                    landed = c
                    break
                }
                event = .cancellationLanded(landed)
            case .knows(let hashes): event = .known(await anyKnown(hashes, on: leg))
            case .cancel:
                guard let rpc = leg.route.transactionEndpoint, let nonce = submission?.nonce else { event = .cancelSent(nil); break }
                event = .cancelSent(await cancel(t.depositTx, nonce: nonce, on: leg, via: rpc))
            case .pause:
                try? await Task.sleep(for: configuration.poll)
                event = .paused
            }
            action = doubt.advance(event)
        }
        return .undecided("stopped while leg one was in doubt")
    }

    /// Leg one's end journaled on its submission, and what it means for the transfer.
    func ended(_ fate: LegOneInDoubt.Fate, receipt: LegReceipt?, submission: Journal.Submission?) -> LegOneFate {
        let now = WallClock.nanoseconds()
        switch fate {
        case .landed:
            let r = receipt!
            if let submission { try? journal.updateSubmission(submission.seq, status: r.status == 1 ? .included : .reverted, lastBlock: r.block, at: now) }
            return .landed(r)
        case .gone: return .never("leg one did not land")
        case .cancelled(let c):
            if let submission { try? journal.updateSubmission(submission.seq, status: .cancelled, txHash: c, at: now) }
            return .never("leg one cancelled: \(c) took nonce \(submission?.nonce ?? 0)")
        case .dropped:
            if let submission { try? journal.updateSubmission(submission.seq, status: .dropped, at: now) }
            return .never("leg one never landed: nonce \(submission?.nonce ?? 0) was taken by another transaction")
        }
    }

    /// Whether the node still knows any of `hashes` (mined or waiting); an unread answer counts as known.
    func anyKnown(_ hashes: [String], on leg: CrossChainLeg) async -> Bool {
        for h in hashes where (try? await leg.eth.knows(transaction: h)) ?? true { return true }
        return false
    }

    /// Sends the cancellation of our transaction `hash` (nonce `nonce`): fees +50 % over what the
    /// node says it bid, or twice the current quote when the node no longer knows it.
    func cancel(_ hash: String, nonce: UInt64, on leg: CrossChainLeg, via rpc: RPCClient) async -> String? {
        var tip = UInt256.zero, cap = UInt256.zero
        if let known = try? await leg.eth.transaction(hash),
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
