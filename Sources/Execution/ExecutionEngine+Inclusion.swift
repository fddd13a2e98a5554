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

    func track(_ t: Signed, target: UInt64) async {
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
    func blockDelta(_ chain: ExecutionChain, _ plan: TradePlan, block: UInt64) async -> Int256? {
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
