import EVMCodec
import EVMPrimitives
import EthClient
import JSONRPC
import Logging
import MarketWatch

/// Landed trades watched until they are `confirmations` blocks deep: a reorg that replaces a
/// trade's block must not leave its receipt, and the profit it realized, in the journal.
///
/// Each pass reads the journal's receipts of the chain's trades in the last `confirmations` blocks
/// and compares each block's journaled hash with the chain's, newest block first; the first block
/// still the chain's vouches for every block before it (a hash commits to its ancestors), so a
/// quiet chain costs one header read a pass, and a chain with no receipt within `confirmations`
/// of the last head read (and no trade taken out still followed) costs none. Each trade of a
/// replaced block is looked up again:
/// - in the new chain (the node mined it again): its receipt is journaled anew, with what it
///   realized there, and a `reincluded` decision;
/// - not mined: its receipt is removed and a `reorged` decision keeps what it had said. If the
///   node still holds the transaction (back in its pool, as geth puts it), the submission is open
///   again and each pass looks for it until it lands or the node lets it go; otherwise it is
///   dropped and the key's nonces are taken from the chain again.
/// The journal drives it, so a start watches what the last run landed.
extension ExecutionEngine {
    /// What one pass saw and did.
    public struct LandingCheck: Sendable, Equatable {
        /// Receipts within `confirmations` of the head whose block was compared.
        public var checked = 0
        /// Trades of replaced blocks found mined again in the new chain.
        public var reincluded = 0
        /// Trades of replaced blocks not in the new chain.
        public var reorgedOut = 0
        /// Trades a reorg took out that landed again since.
        public var landedAgain = 0
        /// Trades a reorg took out that the node let go (their nonce is free).
        public var dropped = 0
        /// Reads that failed: the pass stopped there, the next one goes on.
        public var unread = 0
    }

    /// A trade a reorg took out while its node still holds it: watched until it lands or is let go.
    struct Reorged: Sendable {
        var submission: Journal.Submission
        var receipt: Journal.Receipt
        var trade: Trade?
    }

    /// Checks every chain's recent landings every `interval` until cancelled (a stop).
    public func watchLandings(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            await checkLandings()
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass over every chain (see the extension's note).
    @discardableResult
    public func checkLandings() async -> LandingCheck {
        var pass = LandingCheck()
        for chain in chains.values.sorted(by: { $0.chainID < $1.chainID }) where !Task.isCancelled {
            await checkLandings(chain, &pass)
        }
        return pass
    }

    func checkLandings(_ chain: ExecutionChain, _ pass: inout LandingCheck) async {
        // Nothing landed within `confirmations` of the last head read is deeper now (the head only
        // grows): no read until a receipt newer than that is journaled.
        if reorged[chain.chainID, default: [:]].isEmpty, let last = landingHeads[chain.chainID],
           (try? journal.receipts(chain: chain.chainID, after: last > chain.confirmations ? last - chain.confirmations : 0).isEmpty) == true {
            return
        }
        guard let head = try? await chain.eth.blockNumber() else {
            pass.unread += 1
            return
        }
        landingHeads[chain.chainID] = head
        await followReorged(chain, head: head, &pass)
        let floor = head > chain.confirmations ? head - chain.confirmations : 0
        guard let recent = try? journal.receipts(chain: chain.chainID, after: floor), !recent.isEmpty else { return }
        var blocks: [(block: UInt64, receipts: [Journal.Receipt])] = []
        for r in recent {
            if blocks.last?.block == r.block { blocks[blocks.count - 1].receipts.append(r) } else { blocks.append((r.block, [r])) }
        }
        for (block, receipts) in blocks {
            pass.checked += receipts.count
            let journaled = receipts[0].blockHash
            if block <= head, !journaled.isEmpty, receipts.allSatisfy({ $0.blockHash == journaled }) {
                guard let canonical = try? await chain.eth.rpc.call("eth_getBlockByNumber", [.string(UInt256(block).hexQuantity), .bool(false)]) else {
                    pass.unread += 1
                    return
                }
                if canonical["hash"]?.stringValue?.lowercased() == journaled { return }
            }
            for r in receipts {
                guard await resettle(r, chain, head: head, &pass) else { return }
            }
        }
    }

    /// A receipt whose block is no longer the chain's (or whose hash was never journaled): looked
    /// up again and journaled as the chain now has it. False if a read failed.
    func resettle(_ r: Journal.Receipt, _ chain: ExecutionChain, head: UInt64, _ pass: inout LandingCheck) async -> Bool {
        guard let s = try? journal.submission(chain: chain.chainID, txHash: r.txHash), let hash = try? Hex.decode(r.txHash) else { return true }
        let now = WallClock.nanoseconds()
        switch await lookUp(chain, [.init(hash: hash, cancellation: false)]) {
        case .unread:
            pass.unread += 1
            return false
        case .landed(_, let block, let chainReceipt):
            let again = rejournal(r, s, chainReceipt, chain: chain, block: block, now: now)
            // A receipt from before block hashes were journaled, in the same block: only its hash was missing.
            guard again.block != r.block || !r.blockHash.isEmpty else { return true }
            pass.reincluded += 1
            if let i = report.trades.firstIndex(where: { $0.txHash == r.txHash }) {
                if again.status == 1 {
                    (report.trades[i].block, report.trades[i].realizedProfit, report.trades[i].eventProfit) = (block, again.realizedProfit, again.eventProfit)
                    report.trades[i].balanceDelta = await blockDelta(chain, executor: (try? Address(hex: s.executor)) ?? .zero, asset: r.asset, block: block)
                } else {
                    report.trades.remove(at: i)
                }
            }
            try? journal.decision(Self.id(r.opportunity), chain: chain.chainID, stage: "inclusion", outcome: "reincluded", reason: "reorg",
                                  detail: "block \(r.block) (\(r.blockHash)) was replaced; mined again in block \(block) (\(again.blockHash)), "
                                      + "status \(again.status), realized \(r.realizedProfit) → \(again.realizedProfit)", at: now)
            logger.notice("a reorg moved a landed trade", metadata: ["arb.tx": "\(r.txHash)", "arb.block": "\(r.block) → \(block)"])
            return true
        case .absent:
            // Whether the node still holds it (back in its pool) decides what the submission becomes.
            guard let held = try? await chain.eth.knows(transaction: r.txHash) else {
                pass.unread += 1
                return false
            }
            try? journal.removeReceipt(r.txHash)
            pass.reorgedOut += 1
            report.reorgedOut += 1
            let trade = report.trades.firstIndex(where: { $0.txHash == r.txHash }).map { report.trades.remove(at: $0) }
            let fate: String
            if held {
                reopen(s, head: head, now: now)
                reorged[chain.chainID, default: [:]][r.txHash] = Reorged(submission: s, receipt: r, trade: trade)
                fate = "its node holds it again: followed until it lands or is let go (a stop leaves it open for the next start)"
            } else {
                await letGo(s, chain, now: now)
                fate = "its node does not hold it: dropped, nonce \(s.nonce) taken from the chain again"
            }
            try? journal.decision(Self.id(r.opportunity), chain: chain.chainID, stage: "inclusion", outcome: "reorged", reason: "reorgedOut",
                                  detail: "block \(r.block) (\(r.blockHash)) was replaced without \(r.txHash); realized \(r.realizedProfit) no longer; \(fate)",
                                  at: now)
            logger.warning("a reorg took out a landed trade", metadata: ["arb.tx": "\(r.txHash)", "arb.block": "\(r.block)"])
            return true
        }
    }

    /// Trades a reorg took out that their node still held: landed again, let go, or still waiting.
    func followReorged(_ chain: ExecutionChain, head: UInt64, _ pass: inout LandingCheck) async {
        for (txHash, t) in reorged[chain.chainID] ?? [:] {
            guard let hash = try? Hex.decode(txHash) else { continue }
            let now = WallClock.nanoseconds()
            switch await lookUp(chain, [.init(hash: hash, cancellation: false)]) {
            case .unread:
                pass.unread += 1
                continue
            case .landed(_, let block, let chainReceipt):
                let again = rejournal(t.receipt, t.submission, chainReceipt, chain: chain, block: block, now: now)
                if again.status == 1, var trade = t.trade {
                    (trade.block, trade.realizedProfit, trade.eventProfit) = (block, again.realizedProfit, again.eventProfit)
                    trade.balanceDelta = await blockDelta(chain, executor: trade.executor, asset: trade.asset, block: block)
                    report.trades.append(trade)
                }
                report.reorgedOut -= 1
                pass.landedAgain += 1
                try? journal.decision(Self.id(t.receipt.opportunity), chain: chain.chainID, stage: "inclusion", outcome: "reincluded",
                                      reason: "reorg", detail: "taken out of block \(t.receipt.block) by a reorg; landed again in block \(block), "
                                          + "status \(again.status), realized \(again.realizedProfit)", at: now)
            case .absent:
                guard let held = try? await chain.eth.knows(transaction: txHash) else {
                    pass.unread += 1
                    continue
                }
                guard !held else { continue }
                await letGo(t.submission, chain, now: now)
                pass.dropped += 1
                try? journal.decision(Self.id(t.receipt.opportunity), chain: chain.chainID, stage: "inclusion", outcome: "failed",
                                      reason: "reorgedOut", detail: "taken out of block \(t.receipt.block) by a reorg, then let go by its node: "
                                          + "dropped, nonce \(t.submission.nonce) taken from the chain again", at: now)
            }
            reorged[chain.chainID]?[txHash] = nil
        }
    }

    /// The trade's receipt as the chain now gives it, journaled in place of `old` (what it was
    /// expected and detected to make is kept); its submission says where it landed.
    func rejournal(_ old: Journal.Receipt, _ s: Journal.Submission, _ chainReceipt: JSONValue, chain: ExecutionChain, block: UInt64,
                   now: UInt64) -> Journal.Receipt {
        let receipt = Journal.Receipt(chainReceipt: chainReceipt, txHash: old.txHash, opportunity: old.opportunity, chain: chain.chainID, block: block,
                                      asset: old.asset, executor: (try? Address(hex: s.executor)) ?? .zero, expectedProfit: old.expectedProfit,
                                      detectedProfit: old.detectedProfit)
        try? journal.record(receipt: receipt, at: now)
        try? journal.updateSubmission(s.seq, status: receipt.status == 1 ? .included : .reverted, lastBlock: block, at: now)
        return receipt
    }

    /// A trade taken out that its node still holds: its submission open again (`submitted`). The
    /// journal refuses that while another live submission holds its nonce (a trade sent with it
    /// since): then only one of the two can land, and the refusal is logged.
    func reopen(_ s: Journal.Submission, head: UInt64, now: UInt64) {
        do {
            try journal.updateSubmission(s.seq, status: .submitted, lastBlock: head, at: now)
        } catch {
            logger.error("a reorged-out trade's submission could not be reopened", metadata: [
                "arb.tx": "\(s.txHash)", "arb.nonce": "\(s.nonce)", "error": "\(error)",
            ])
        }
    }

    /// A trade taken out that its node no longer holds: dropped, and its key's nonces taken from the chain again.
    func letGo(_ s: Journal.Submission, _ chain: ExecutionChain, now: UInt64) async {
        try? journal.updateSubmission(s.seq, status: .dropped, at: now)
        await resyncNonces(chain, sender: s.sender)
    }

    /// An opportunity's id from its journaled hex.
    static func id(_ hex: String) -> [UInt8] { (try? Hex.decode(hex)) ?? [] }

    /// The nonces of the chain's key `sender` (checksummed, as journaled) taken from the chain again.
    func resyncNonces(_ chain: ExecutionChain, sender: String) async {
        let key = senders[chain.chainID]?.first { $0.key.address.checksummed.lowercased() == sender.lowercased() }
        try? await key?.nonces.resync()
    }
}
