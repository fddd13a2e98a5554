import EVMPrimitives
import MarketWatch
import Opportunities

/// Leg one on a `BridgeOrigin` (Solana): the buy and the bridge's transfer are the origin's one
/// transaction; from its landing on, the transfer is followed like any other (`+Settlement`).
extension CrossChainExecutor {
    /// Leg one on an origin chain (Solana): bought and sent across there in one transaction, to our
    /// executor on the destination; journaled `sending` with its transaction before it is sent,
    /// `inFlight` with the bridge's deposit id once it landed, and followed from there as any transfer.
    func firstFromOrigin(_ o: Opportunity, _ origin: any BridgeOrigin, to: CrossChainLeg) async -> Result<Void, Refusal> {
        guard o.expiresAt > WallClock.nanoseconds() else { return .failure(Refusal("stale", "expired")) }
        guard let bought = o.solana?.legs.first?.amountOut else { return .failure(Refusal("validate", "notCrossChain")) }
        seen.insert(o.id)
        let journal = self.journal
        let signed = BridgeTransfer(opportunity: o, amountIn: o.amountIn, bought: UInt256(bought), status: .sending)
        let result = await origin.buyAndBridge(o, toChain: to.chainID, recipient: to.executor, whenSigned: { tx in
            var t = signed
            t.depositTx = tx
            try? journal.record(transfer: t, at: WallClock.nanoseconds())
        })
        var transfer = signed
        switch result {
        case .success(let sent):
            (transfer.depositTx, transfer.depositID, transfer.depositBlock, transfer.bought, transfer.status) = (sent.transaction, sent.deposit, sent.slot, sent.bought, .inFlight)
        case .failure(let r):
            // Never signed: nothing to follow. Signed: sent, or in doubt (followed until its fate is known).
            guard let recorded = try? journal.transfers(open: true).first(where: { $0.opportunity.id == o.id }), !recorded.depositTx.isEmpty else {
                return .failure(r)
            }
            transfer = recorded
            transfer.detail = r.description
            if r.reason != "pending" { transfer.status = .failed }
        }
        try? journal.record(transfer: transfer, at: WallClock.nanoseconds())
        snapshot.transfers.append(transfer)
        if transfer.isOpen { follow(transfer) }
        if case .failure(let r) = result, r.reason != "pending" { return .failure(r) }
        return .success(())
    }

    /// Leg one on an origin chain in doubt: looked at until it landed (in flight with its deposit
    /// id) or cannot land (failed), up to `maxLegOneWait`; past that, or at a stop, it stays
    /// `sending` for the next start. True once it is in flight.
    func settleOrigin(_ t: inout BridgeTransfer, _ origin: any BridgeOrigin) async -> Bool {
        let deadline = ContinuousClock.now + configuration.maxLegOneWait
        while true {
            switch await origin.bridgedFate(t.depositTx) {
            case .landed(let sequence, let slot):
                (t.depositID, t.depositBlock, t.status, t.detail) = (sequence, slot, .inFlight, "")
                update(t)
                return true
            case .never(let why):
                (t.status, t.detail) = (.failed, why)
                update(t)
                return false
            case .undecided(let why):
                guard !Task.isCancelled else { return false }
                guard ContinuousClock.now < deadline else {
                    t.detail = "\(why); followed again at the next start"
                    update(t)
                    return false
                }
                try? await Task.sleep(for: configuration.poll)
            }
        }
    }
}
