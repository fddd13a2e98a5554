import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// Inclusion: a submitted trade followed until it lands, is left out, replaced, cancelled, or left
/// open at a stop; its lease ends in the core.
extension ExecutionEngine {
    // MARK: inclusion

    /// Drives an `InclusionTracker` for the trade until it ends; a stop, or `maxTracking` without
    /// an end, leaves it open (journaled, for the next start to settle).
    func track(_ t: Signed, target: UInt64) async {
        let deadline = ContinuousClock.now + configuration.maxTracking
        var limits = InclusionTracker.Limits()
        (limits.maxBundleBlocks, limits.replaceAfterBlocks) = (t.chain.maxBundleBlocks, t.chain.replaceAfterBlocks)
        (limits.maxReplacements, limits.maxPendingBlocks) = (t.chain.maxReplacements, t.chain.maxPendingBlocks)
        var tracker = InclusionTracker(limits: limits, bundled: t.chain.route.isBundle, canReplace: t.chain.route.transactionEndpoint != nil,
                                       target: target, transaction: t.tx, hash: t.signed.hash)
        var action = tracker.start, head: UInt64 = 0
        var landing: (block: UInt64, receipt: JSONValue)?
        while true {
            if case .end(let verdict) = action {
                await finish(t, verdict, tracker: tracker, landing: landing)
                return
            }
            // A stop, or a chain that has not settled it in `maxTracking`: nothing more is sent.
            if Task.isCancelled || ContinuousClock.now >= deadline {
                await leaveOpen(t, hashes: tracker.sent.map(\.hash), nonce: tracker.current.nonce,
                                why: Task.isCancelled ? "stopped while tracking it" : "not settled within \(configuration.maxTracking)")
                return
            }
            let event: InclusionTracker.Event
            switch action {
            case .awaitBlock(let block):
                head = await awaitHead(t.chain, block, since: head, deadline: deadline)
                event = .head(head)
            case .findReceipt(let versions):
                landing = nil
                switch await lookUp(t.chain, versions) {
                case .landed(let version, let block, let receipt):
                    landing = (block, receipt)
                    event = .receipt(version)
                case .absent: event = .receipt(nil)
                case .unread: event = .unread
                }
            case .resendBundle(let head): event = .resent(target: await resendBundle(t, head: head))
            case .replace(let head): event = await replace(t, tracker.current, head: head)
            case .cancel:
                let cancel = tracker.current.cancellation(signedWith: t.sender.key)
                _ = try? await t.chain.route.transactionEndpoint?.sendRawTransaction(cancel.raw)
                event = .cancelSent(.init(hash: cancel.hash, cancellation: true))
            case .end: return
            }
            action = tracker.advance(event)
        }
    }

    /// The head once it reaches `block` (polled every 50 ms, at most 30 s), or whatever it is at a stop.
    func awaitHead(_ chain: ExecutionChain, _ block: UInt64, since: UInt64, deadline: ContinuousClock.Instant) async -> UInt64 {
        var head = since
        for _ in 0..<600 {
            head = (try? await chain.eth.blockNumber()) ?? head
            if head >= block || Task.isCancelled || ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return head
    }

    /// What the node says of a trade's versions: one landed (the first of `versions` with a
    /// receipt, and the receipt), none did, or it could not be asked.
    enum ReceiptLookup {
        case landed(InclusionTracker.Version, block: UInt64, receipt: JSONValue)
        case absent
        /// A read failed (after its retries): a failed read is not "no receipt" (the soak saw a
        /// landed bundle judged left out while its node answered 429, and one that landed while
        /// its node was down).
        case unread
    }

    /// Looks up each of `versions`' receipts, each read tried four times (0.25 s doubling, or as
    /// long as the node asks, up to 2 s).
    func lookUp(_ chain: ExecutionChain, _ versions: [InclusionTracker.Version]) async -> ReceiptLookup {
        var unread = false
        for version in versions {
            var r: JSONValue? = nil
            for attempt in 0..<4 {
                do {
                    r = try await chain.eth.rpc.call("eth_getTransactionReceipt", [.string(Hex.encode(version.hash))])
                    break
                } catch {
                    guard attempt < 3 else { break }
                    try? await Task.sleep(for: min(error.retryAfter ?? .milliseconds(250 << attempt), .seconds(2)))
                }
            }
            guard let r else {
                unread = true
                continue
            }
            if r != .null, let b = r["blockNumber"]?.stringValue, let n = try? UInt256(hex: b) { return .landed(version, block: n.w0, receipt: r) }
        }
        return unread ? .unread : .absent
    }

    /// Not included (a builder left it out): if the path still quotes as detected on the new state,
    /// the same signed bundle goes for the next block; otherwise the detector's quote on the new
    /// state supersedes it. The new target, or nil.
    func resendBundle(_ t: Signed, head: UInt64) async -> UInt64? {
        // A backrun is not sent again: its target landed without it, or is still pending (the detector judges it again on the new block).
        guard case .flashbots(let relay) = t.chain.route, t.o.backrun == nil, let s = await stillAsDetected(t.o, chain: t.chain, head: head) else { return nil }
        let target = s.block + 1, txs = t.plan.bundlePrefix + [t.signed.raw]
        guard let sim = try? await relay.callBundle(txs, block: target), sim.failure == nil else { return nil }
        // Journaled before the send, as the first one: a restart waits the new target out.
        try? journal.updateSubmission(t.submission, status: .submitted, lastBlock: target, at: WallClock.nanoseconds())
        do {
            _ = try await relay.sendBundle(txs, block: target)
        } catch {
            // Without an answer the relay may have taken it: it is looked for at `target` as sent.
            guard mayHaveBeenAccepted(error) else { return nil }
        }
        report.retargeted += 1
        return target
    }

    /// The same trade at higher fees, if it still pays (`replacement`), sent with the same nonce.
    func replace(_ t: Signed, _ current: Transaction, head: UInt64) async -> InclusionTracker.Event {
        guard let rpc = t.chain.route.transactionEndpoint,
              let bumped = await replacement(t.o, chain: t.chain, plan: t.plan, of: current, head: head) else { return .replacementRefused }
        let again = bumped.signed(with: t.sender.key)
        do {
            _ = try await rpc.sendRawTransaction(again.raw)
        } catch {
            // A version already landed (its receipt shows next time round); anything else: cancel.
            return error.message.lowercased().contains("nonce too low") ? .replacementLate : .replacementRefused
        }
        report.replaced += 1
        try? journal.updateSubmission(t.submission, status: .submitted, txHash: Hex.encode(again.hash), lastBlock: head, at: WallClock.nanoseconds())
        return .replaced(bumped, .init(hash: again.hash, cancellation: false))
    }

    /// The trade's end as the tracker judged it: its lease ends in the core, the journal and the report say how.
    func finish(_ t: Signed, _ judged: InclusionTracker.Verdict, tracker: InclusionTracker, landing found: (block: UInt64, receipt: JSONValue)?) async {
        let now = WallClock.nanoseconds()
        // Judged not landed: every version sent looked up once more before the nonce goes back, so
        // that one that landed late is journaled as landed; if the node cannot say, the trade is
        // left open (journaled; the next start settles it) rather than its nonce given back.
        var (verdict, landing) = (judged, found)
        if case .landed = judged {} else {
            switch await lookUp(t.chain, tracker.sent) {
            case .landed(let version, let block, let receipt): (verdict, landing) = (.landed(version), (block, receipt))
            case .absent: break
            case .unread:
                await leaveOpen(t, hashes: tracker.sent.map(\.hash), nonce: tracker.current.nonce, why: "its node did not answer when it was judged left out")
                return
            }
        }
        guard case .landed(let version) = verdict, !version.cancellation, let landing else {
            core.end(t.lease, .failed, now: now)
            report.failed += 1
            let reason: String
            switch verdict {
            case .landed:
                // Our cancellation took the nonce: the trade never ran.
                try? journal.updateSubmission(t.submission, status: .cancelled, txHash: Hex.encode(tracker.sent.last!.hash), at: now)
                reason = "cancelled"
            case .dropped:
                // Neither landed yet (or the original landed late): the chain says which.
                try? journal.updateSubmission(t.submission, status: .dropped, at: now)
                try? await t.sender.nonces.resync()
                reason = "notIncluded"
            case .notIncluded:
                try? t.sender.nonces.release(tracker.current.nonce, submission: t.submission, now: now)
                reason = "notIncluded"
            }
            try? journal.decision(t.o.id, chain: t.chain.chainID, stage: "inclusion", outcome: "failed", reason: reason, at: now)
            report.refused["inclusion:\(reason)", default: 0] += 1
            return
        }
        await landed(t, block: landing.block, receipt: landing.receipt, replaced: tracker.sent.count > 1, now: now)
    }

    /// A landed trade: the receipt journaled with what it realized (the executor's net transfers
    /// of the asset in its logs), its `Executed` profit and the executor's balance change over the block.
    func landed(_ t: Signed, block: UInt64, receipt r: JSONValue, replaced: Bool, now: UInt64) async {
        let (o, chain, plan) = (t.o, t.chain, t.plan)
        // The version that landed (the original or a replacement) is the one journaled.
        let landedHash = r["transactionHash"]?.stringValue ?? Hex.encode(t.signed.hash)
        let receipt = Journal.Receipt(chainReceipt: r, txHash: landedHash, opportunity: Hex.encode(o.id), chain: chain.chainID, block: block,
                                      asset: plan.asset, executor: plan.executor, expectedProfit: Int256(bitPattern: plan.expectedProfit),
                                      detectedProfit: plan.detectedProfit)
        // The receipt before the submission is marked included: a process stopped between the two
        // leaves the trade open for the next start to settle, never included without a receipt.
        try? journal.record(receipt: receipt, at: now)
        try? t.sender.nonces.confirm(submission: t.submission, now: now)
        if replaced { try? journal.updateSubmission(t.submission, status: .included, txHash: landedHash, at: now) }
        let (status, realized, event) = (receipt.status, receipt.realizedProfit, receipt.eventProfit)
        let micro = o.grossProfit.isNegative || o.grossProfit.magnitude.isZero ? 0
            : Int64(Double(o.grossProfitMicroUSD) * (realized.doubleValue / o.grossProfit.doubleValue))
        core.end(t.lease, status == 1 ? .landed(realisedMicroUSD: micro) : .reverted, now: now)
        let balanceDelta = await blockDelta(chain, executor: plan.executor, asset: plan.asset, block: block)
        try? journal.updateSubmission(t.submission, status: status == 1 ? .included : .reverted, lastBlock: block, at: now)
        guard status == 1 else {
            report.failed += 1
            try? journal.decision(o.id, chain: chain.chainID, stage: "inclusion", outcome: "failed", reason: "reverted", at: now)
            return
        }
        report.included += 1
        // A reorg seen while the balances were read may have taken it out again (`checkLandings`).
        guard (try? journal.hasReceipt(receipt.txHash)) != false else { return }
        report.trades.append(Trade(chainID: chain.chainID, opportunity: Hex.encode(o.id), kind: o.kind, strategy: plan.strategy,
                                   source: plan.flash?.lender.source ?? .none, txHash: receipt.txHash, block: block,
                                   expectedProfit: receipt.expectedProfit, detectedProfit: plan.detectedProfit, realizedProfit: realized,
                                   eventProfit: event, balanceDelta: balanceDelta, asset: plan.asset, executor: plan.executor,
                                   lender: plan.flash.map { $0.pool ?? $0.lender.lender }, bundled: chain.route.isBundle,
                                   target: o.backrun.map { Hex.encode($0.targetHash) }))
        let behind = o.backrun.map { ", behind \(Hex.encode($0.targetHash))" } ?? ""
        try? journal.decision(o.id, chain: chain.chainID, stage: "inclusion", outcome: "included", reason: plan.strategy, detail: "block \(block)\(behind)", at: now)
    }

    /// The executor's balance of the trade's asset after `block` less before it, each read tried
    /// three times (a busy node may not answer one); nil if a read never came back.
    func blockDelta(_ chain: ExecutionChain, executor: Address, asset: Address, block: UInt64) async -> Int256? {
        func read(_ at: UInt64) async -> UInt256? {
            for attempt in 0..<3 {
                if let v = await chain.eth.balance(of: executor, token: asset, block: at) { return v }
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
    func leaveOpen(_ t: Signed, hashes: [[UInt8]], nonce: UInt64, why: String) async {
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

    /// The chain's state once it has reached `block` (waiting up to a second for the watcher).
    func state(_ chain: UInt64, atLeast block: UInt64) async -> ChainState? {
        for _ in 0..<40 {
            if let s = state.state(chain: chain), s.block >= block { return s }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    /// The state at `head` or later if the path still quotes there exactly as detected.
    func stillAsDetected(_ o: Opportunity, chain: ExecutionChain, head: UInt64) async -> ChainState? {
        guard let s = await state(chain.chainID, atLeast: head), case .success(let q) = Requote.quote(o.path, amountIn: o.amountIn, on: s),
              q.amountOut == o.path.last!.amountOut else { return nil }
        return s
    }

    /// `tx` again with both fee caps raised by an eighth (nodes ask at least a tenth more to
    /// replace), if the path still quotes as detected and the trade's gas at the new cap, in the
    /// asset at detection's conversion, leaves a profit; nil otherwise.
    func replacement(_ o: Opportunity, chain: ExecutionChain, plan: TradePlan, of tx: Transaction, head: UInt64) async -> Transaction? {
        guard await stillAsDetected(o, chain: chain, head: head) != nil else { return nil }
        var b = tx
        b.maxFeePerGas = tx.maxFeePerGas &+ tx.maxFeePerGas / 8 &+ 1
        b.maxPriorityFeePerGas = tx.maxPriorityFeePerGas &+ tx.maxPriorityFeePerGas / 8 &+ 1
        guard let gasWei = b.maxFeePerGas.checkedMul(UInt256(o.gasUnits)), let cost = ExecutionCore.inAsset(wei: gasWei, o, plan),
              cost < plan.expectedProfit else { return nil }
        return b
    }
}
