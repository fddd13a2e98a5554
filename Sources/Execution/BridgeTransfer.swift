import EVMPrimitives
import GRDB
import Opportunities

/// One cross-chain trade as the journal keeps it: the recovery record of what is where, from the
/// first leg to the sale.
public struct BridgeTransfer: Equatable, Sendable {
    public enum Status: String, Sendable, CaseIterable {
        /// Leg one signed and sent; nothing is known to have moved yet.
        case sending
        /// Leg one landed: the asset is in the bridge.
        case inFlight
        /// The bridge filled it on the destination: the asset is in our destination executor.
        case arrived
        /// Arrived, and no sale at or above its minimum could be made within the bound
        /// (`maxSaleAttempts`): the asset waits in the destination executor, with the quote it got
        /// in `detail`; the next start (`recover`) tries again.
        case held
        /// Sold back into the quote token: done.
        case sold
        /// Leg one did not land or reverted: nothing moved (gas only).
        case failed
    }

    public var opportunity: Opportunity
    public var amountIn: UInt256
    /// What leg one bought and deposited.
    public var bought: UInt256
    public var depositTx = ""
    public var depositID: UInt256? = nil
    public var depositBlock: UInt64 = 0
    /// What the bridge paid out on the destination.
    public var received: UInt256? = nil
    public var sellTx = ""
    public var proceeds: UInt256? = nil
    public var status: Status
    public var detail = ""

    public init(opportunity: Opportunity, amountIn: UInt256, bought: UInt256, depositTx: String = "", depositID: UInt256? = nil, depositBlock: UInt64 = 0,
                received: UInt256? = nil, sellTx: String = "", proceeds: UInt256? = nil, status: Status, detail: String = "") {
        self.opportunity = opportunity
        self.amountIn = amountIn
        self.bought = bought
        self.depositTx = depositTx
        self.depositID = depositID
        self.depositBlock = depositBlock
        self.received = received
        self.sellTx = sellTx
        self.proceeds = proceeds
        self.status = status
        self.detail = detail
    }

    public var fromChain: UInt64 { opportunity.chains[0] }
    public var toChain: UInt64 { opportunity.chains[1] }
    /// The sale on the destination chain (an EVM hop: the last of the path).
    public var saleHop: Opportunity.Hop { opportunity.path[opportunity.path.count - 1] }
    /// The pool the sale goes through: the sale hop's, or the Solana leg's when it is sold there.
    public var salePool: [UInt8] {
        opportunity.path.last?.chainID == toChain ? saleHop.pool.bytes : opportunity.solana?.legs.last?.pool ?? []
    }
    /// Not yet sold or failed: funds are on their way, held, or leg one's fate is not known.
    public var isOpen: Bool { status == .sending || status == .inFlight || status == .arrived || status == .held }
    /// Open and still being worked on (a held transfer waits for the next start).
    public var isSettling: Bool { isOpen && status != .held }
    /// Proceeds less the quote spent (across the two chains, in the same money); nil until sold.
    public var realizedProfit: Int256? { proceeds.map { Int256(bitPattern: $0) &- Int256(bitPattern: amountIn) } }
}

extension Journal {
    public func record(transfer t: BridgeTransfer, at: UInt64) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO bridge_transfer (opportunity, encoded, from_chain, to_chain, amount_in, bought, deposit_tx, deposit_id,
                    deposit_block, received, sell_tx, proceeds, status, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Hex.encode(t.opportunity.id), Hex.encode(t.opportunity.encoded()), Int64(bitPattern: t.fromChain),
                                 Int64(bitPattern: t.toChain), t.amountIn.description, t.bought.description, t.depositTx,
                                 t.depositID?.description ?? "", Int64(t.depositBlock), t.received?.description ?? "", t.sellTx,
                                 t.proceeds?.description ?? "", t.status.rawValue, t.detail, Int64(bitPattern: at)])
        }
    }

    /// Every transfer, oldest first; `open`: those not yet sold or failed.
    public func transfers(open: Bool = false) throws -> [BridgeTransfer] {
        try db.read { db in
            let sql = "SELECT * FROM bridge_transfer" + (open ? " WHERE status IN ('sending', 'inFlight', 'arrived', 'held')" : "") + " ORDER BY updated_at"
            return try Row.fetchAll(db, sql: sql).compactMap { r -> BridgeTransfer? in
                guard let bytes = try? Hex.decode(r["encoded"] as String), let o = try? Opportunity(encoded: bytes),
                      let status = BridgeTransfer.Status(rawValue: r["status"]) else { return nil }
                func big(_ k: String) -> UInt256? { UInt256(r[k] as String) }
                return BridgeTransfer(opportunity: o, amountIn: big("amount_in") ?? .zero, bought: big("bought") ?? .zero, depositTx: r["deposit_tx"],
                                      depositID: big("deposit_id"), depositBlock: UInt64(r["deposit_block"] as Int64), received: big("received"),
                                      sellTx: r["sell_tx"], proceeds: big("proceeds"), status: status, detail: r["detail"])
            }
        }
    }
}
