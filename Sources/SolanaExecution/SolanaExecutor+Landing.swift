import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import JSONRPC
import MarketWatch
import Opportunities
import SolanaClient
import SolanaPrimitives

extension SolanaExecutor {
    /// Sends `b` (a Jito bundle; a plain transaction when the engine cannot be reached and that
    /// is allowed), journaled before it goes, then follows it.
    /// `mint`: the token whose change counts with the lamports in the realized profit (a round
    /// trip's input); nil for lamports alone.
    func send(_ o: Opportunity, _ b: Built, mint: PublicKey?) async -> Result<Trade, Refusal> {
        var record = SolanaTradeRecord(signature: b.tx.id, opportunity: Hex.encode(o.id), chainID: chainID, bundle: "", mode: "jito",
                                       slot: b.blockhash.slot, lastValidBlockHeight: b.blockhash.lastValidBlockHeight, status: .pending,
                                       detected: Int64(clamping: o.grossProfit), expected: b.expected, fee: b.fee, tip: b.tip,
                                       raw: Data(b.tx.serialized()).base64EncodedString())
        try? journal.record(solana: record, at: WallClock.nanoseconds())
        var engineDown = jito == nil
        if let jito {
            if let r = risk.take(.jito, now: .now) { return .failure(settle(record, .dropped, r)) }
            do {
                record.bundle = try await jito.sendBundle([b.tx])
            } catch where error.code == .transport || error.code == .timeout || error.code == .unavailable {
                // No answer: the engine may have it. A bundle with this signature can still land
                // until the blockhash expires; a plain send of the same transaction cannot land twice.
                engineDown = true
                record.detail = "block engine: \(error)"
            } catch {
                return .failure(settle(record, .dropped, Refusal("submit", error.code == .rateLimited ? "rateLimited" : "bundleRefused", "\(error)")))
            }
        }
        if engineDown {
            guard configuration.fallbackToRPC else { return .failure(settle(record, .pending, Refusal("submit", "engineUnavailable", record.detail))) }
            record.mode = "rpc"
            do {
                _ = try await rpc.send(b.tx, skipPreflight: true)
            } catch {
                return .failure(settle(record, .pending, Refusal("submit", "rpc", "\(error)")))
            }
        }
        sent += 1
        try? journal.record(solana: record, at: WallClock.nanoseconds())
        try? journal.decision(o.id, chain: chainID, stage: "submit", outcome: "submitted", reason: record.mode,
                              detail: record.bundle.isEmpty ? record.signature : "bundle \(record.bundle)", at: WallClock.nanoseconds())
        return await follow(o, record, mint: mint, simulatedSlot: b.simulatedSlot)
    }

    /// The record settled with `status` (journaled) and the refusal that goes with it.
    func settle(_ r: SolanaTradeRecord, _ status: SolanaTradeRecord.Status, _ refusal: Refusal) -> Refusal {
        var r = r
        (r.status, r.detail) = (status, refusal.description)
        try? journal.record(solana: r, at: WallClock.nanoseconds())
        return refusal
    }

    /// Waits for the signature to land (or its blockhash to expire unseen, or `maxWait`): landed,
    /// its realized profit from the landed transaction's balances; dropped once it cannot land any
    /// more; else pending (the blockhash decides at the next start).
    func follow(_ o: Opportunity, _ record: SolanaTradeRecord, mint: PublicKey?, simulatedSlot: UInt64) async -> Result<Trade, Refusal> {
        let deadline = ContinuousClock.now + configuration.maxWait
        while ContinuousClock.now < deadline, !Task.isCancelled {
            switch await fate(record) {
            case .landed: return await landed(o, record, mint: mint, simulatedSlot: simulatedSlot)
            case .expired:
                // Why, for the journal: the engine's word on the bundle, when it has one.
                if !record.bundle.isEmpty, let jito, let state = (try? await jito.inflightStatuses([record.bundle]))?.first?.state,
                   state == .failed || state == .invalid {
                    return .failure(settle(record, .dropped, Refusal("inclusion", "bundleFailed", "bundle \(record.bundle): \(state.rawValue)")))
                }
                return .failure(settle(record, .dropped, Refusal("inclusion", "expired", "not landed before block height \(record.lastValidBlockHeight)")))
            case .open: await sleep(configuration.poll)
            }
        }
        return .failure(settle(record, .pending, Refusal("inclusion", "pending", record.signature)))
    }

    enum Fate { case landed, expired, open }

    /// One look at a signature: the block height first, then its status. A transaction cannot
    /// land past its last valid height, so no status read after a height beyond it means it never
    /// will (read the other way round, a landing between the two reads would be missed). A read
    /// that fails says nothing.
    func fate(_ r: SolanaTradeRecord) async -> Fate {
        let height = try? await rpc.blockHeight()
        guard let statuses = try? await rpc.statuses([r.signature]) else { return .open }
        if let status = statuses.first ?? nil { return status.confirmation >= .confirmed ? .landed : .open }
        guard let height, height > r.lastValidBlockHeight else { return .open }
        return .expired
    }

    func sleep(_ d: Duration) async { try? await Task.sleep(for: d) }

    /// A landed signature: its realized profit from the transaction's own balances (the wallet's
    /// lamports and its `mint` tokens, before and after), journaled. Landed in the slot it was
    /// simulated on, it ran on the simulated state; landed later, the pools may have moved.
    func landed(_ o: Opportunity, _ record: SolanaTradeRecord, mint: PublicKey?, simulatedSlot: UInt64) async -> Result<Trade, Refusal> {
        var r = record
        guard let tx = try? await rpc.transaction(r.signature), let payer = tx.preBalances.first, let after = tx.postBalances.first else {
            return .failure(settle(r, .pending, Refusal("inclusion", "unread", "\(r.signature) landed but could not be read")))
        }
        let tokens = mint.map { Int128(tx.tokens(of: wallet.publicKey, mint: $0, pre: false)) - Int128(tx.tokens(of: wallet.publicKey, mint: $0, pre: true)) } ?? 0
        let realized = Int64(clamping: Int128(after) - Int128(payer) + tokens)
        (r.slot, r.realized, r.fee) = (tx.slot, realized, tx.fee)
        r.status = tx.err == nil ? .landed : .failed
        r.detail = tx.err.map { "failed on chain: \($0.text)" } ?? ""
        try? journal.record(solana: r, at: WallClock.nanoseconds())
        guard tx.err == nil else { return .failure(Refusal("inclusion", "failed", r.detail)) }
        let trade = Trade(opportunity: o.id, signature: r.signature, bundle: r.bundle, slot: tx.slot, simulatedSlot: simulatedSlot, detected: r.detected,
                          expected: r.expected, realized: realized, fee: tx.fee, tip: r.tip)
        if o.kind == .solana { trades.append(trade) } else if o.chains.first == chainID { bridged.append(trade) } else { sold.append(trade) }
        try? journal.decision(o.id, chain: chainID, stage: "inclusion", outcome: "landed", reason: r.mode,
                              detail: "realized \(realized), expected \(r.expected) (simulated at slot \(simulatedSlot), landed at \(tx.slot))", at: WallClock.nanoseconds())
        logger.info("Solana trade landed", metadata: ["arb.signature": "\(r.signature)", "arb.realized": "\(realized)", "arb.expected": "\(r.expected)"])
        return .success(trade)
    }

    /// Settles what a previous run left pending: landed (with its realized profit), failed, or
    /// dropped once its blockhash has expired unseen. Returns how many are still pending.
    public func recover() async -> Int {
        var open = 0
        for r in (try? journal.solanaTrades(open: true)) ?? [] where r.chainID == chainID {
            let seen = await fate(r)
            if seen == .landed, let tx = try? await rpc.transaction(r.signature), let before = tx.preBalances.first, let after = tx.postBalances.first {
                var s = r
                let mint = (try? journal.roundTripMint(r.opportunity)).flatMap { try? PublicKey(base58: $0) }
                let tokens = mint.map { Int128(tx.tokens(of: wallet.publicKey, mint: $0, pre: false)) - Int128(tx.tokens(of: wallet.publicKey, mint: $0, pre: true)) } ?? 0
                (s.status, s.slot, s.fee) = (tx.err == nil ? .landed : .failed, tx.slot, tx.fee)
                s.realized = Int64(clamping: Int128(after) - Int128(before) + tokens)
                s.detail = "settled at a start"
                try? journal.record(solana: s, at: WallClock.nanoseconds())
            } else if seen == .expired {
                _ = settle(r, .dropped, Refusal("inclusion", "expired", "not landed before block height \(r.lastValidBlockHeight) (settled at a start)"))
            } else {
                open += 1
            }
        }
        return open
    }
}
