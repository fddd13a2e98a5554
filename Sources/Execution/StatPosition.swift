import EVMCodec
import EVMPrimitives
import GRDB

/// A statistical-arbitrage position, held across blocks: opened by selling the pair's dear token
/// for its cheap one, closed by selling back what was bought. Both legs are swaps of our own
/// inventory in one executor, so the position is hedged: its P&L is counted in the token sold
/// (what came back less what went), and the executor's balance changes over the two legs are
/// exactly that (the bought token nets to zero). Journaled at every step (`stat_position`), so a
/// restart resumes it.
public struct StatPosition: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// The opening swap is on its way.
        case opening
        case open
        /// The closing swap is on its way.
        case closing
        case closed
        /// The opening swap never ran: nothing moved.
        case failed
    }

    public enum CloseReason: String, Sendable, CaseIterable {
        /// The spread crossed back over its mean.
        case reverted
        /// The spread moved on against the position past the stop (default 4σ).
        case stopLoss
        /// Held for the maximum number of blocks.
        case expired
    }

    /// 16 bytes: the signal's opportunity id.
    public var id: [UInt8]
    public var chainID: UInt64
    /// The pair, as the detector numbers it, and its tokens (A, B).
    public var pair: Int
    public var tokenA: Address
    public var tokenB: Address
    /// Long A (A was cheap: B sold for A) or short A.
    public var longA: Bool
    public var amountSold: UInt256
    /// What the opening swap bought (from its receipt).
    public var amountBought: UInt256?
    /// What the closing swap brought back, in the sold token.
    public var proceeds: UInt256?
    public var entryZ: Double
    public var hedgeRatio: Double
    /// The band at entry: the spread's mean and deviation. A position is judged against them (the
    /// mean it bet on, not one that drifts after the spread): reversion is the spread back at
    /// `entryMean`, the stop `stopLossZ` deviations beyond it.
    public var entryMean = 0.0
    public var entryDeviation = 0.0
    public var openedBlock: UInt64
    public var status: Status
    public var closeReason: CloseReason?
    public var openTx = ""
    public var closeTx = ""
    public var detail = ""

    public init(id: [UInt8], chainID: UInt64, pair: Int, tokenA: Address, tokenB: Address, longA: Bool, amountSold: UInt256, entryZ: Double,
                hedgeRatio: Double, openedBlock: UInt64, status: Status) {
        self.id = id
        self.chainID = chainID
        self.pair = pair
        self.tokenA = tokenA
        self.tokenB = tokenB
        self.longA = longA
        self.amountSold = amountSold
        self.entryZ = entryZ
        self.hedgeRatio = hedgeRatio
        self.openedBlock = openedBlock
        self.status = status
    }

    /// The token sold to open (and bought back to close).
    public var sold: Address { longA ? tokenB : tokenA }
    /// The token bought to open (and sold to close).
    public var bought: Address { longA ? tokenA : tokenB }
    public var isOpen: Bool { status == .opening || status == .open || status == .closing }

    /// Proceeds less the amount sold, in the sold token; nil until closed.
    public var realized: Int256? { proceeds.map { Int256(bitPattern: $0) &- Int256(bitPattern: amountSold) } }

    /// The spread's z against the entry band (nil without one).
    public func z(spread: Double) -> Double? {
        entryDeviation > 0 && entryDeviation.isFinite ? (spread - entryMean) / entryDeviation : nil
    }

    /// What closing now would realize, given what the bought amount fetches in the sold token now.
    public func markToMarket(fetches: UInt256) -> Int256 { Int256(bitPattern: fetches) &- Int256(bitPattern: amountSold) }
}

extension StatPosition {
    /// What `positions` (on one inventory) moved its balances by, per token: a closed position its
    /// realized P&L in the sold token, an open one −sold and +bought, a failed one nothing. nil
    /// while one is opening or closing (its swap's fate is not known yet).
    public static func inventoryChanges(_ positions: [StatPosition]) -> [Address: Int256]? {
        var out: [Address: Int256] = [:]
        for p in positions {
            switch p.status {
            case .closed: out[p.sold, default: .zero] = out[p.sold, default: .zero] &+ (p.realized ?? .zero)
            case .open:
                out[p.sold, default: .zero] = out[p.sold, default: .zero] &- Int256(bitPattern: p.amountSold)
                out[p.bought, default: .zero] = out[p.bought, default: .zero] &+ Int256(bitPattern: p.amountBought ?? .zero)
            case .failed: break
            case .opening, .closing: return nil
            }
        }
        return out
    }
}

extension Journal {
    static func migratePositions(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3: statistical positions") { db in
            try db.execute(sql: """
                CREATE TABLE stat_position (
                    id TEXT PRIMARY KEY, chain INTEGER NOT NULL, pair INTEGER NOT NULL, token_a TEXT NOT NULL, token_b TEXT NOT NULL,
                    long_a INTEGER NOT NULL, amount_sold TEXT NOT NULL, amount_bought TEXT NOT NULL, proceeds TEXT NOT NULL,
                    entry_z REAL NOT NULL, hedge_ratio REAL NOT NULL, opened_block INTEGER NOT NULL, status TEXT NOT NULL,
                    close_reason TEXT NOT NULL, open_tx TEXT NOT NULL, close_tx TEXT NOT NULL, detail TEXT NOT NULL, updated_at INTEGER NOT NULL)
                """)
        }
        migrator.registerMigration("v4: a position's entry band") { db in
            try db.execute(sql: "ALTER TABLE stat_position ADD COLUMN entry_mean REAL NOT NULL DEFAULT 0")
            try db.execute(sql: "ALTER TABLE stat_position ADD COLUMN entry_deviation REAL NOT NULL DEFAULT 0")
        }
    }

    public func record(position p: StatPosition, at: UInt64) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO stat_position (id, chain, pair, token_a, token_b, long_a, amount_sold, amount_bought, proceeds, entry_z,
                    hedge_ratio, opened_block, status, close_reason, open_tx, close_tx, detail, updated_at, entry_mean, entry_deviation)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Hex.encode(p.id), Int64(bitPattern: p.chainID), p.pair, p.tokenA.checksummed, p.tokenB.checksummed, p.longA ? 1 : 0,
                                 p.amountSold.description, p.amountBought?.description ?? "", p.proceeds?.description ?? "", p.entryZ, p.hedgeRatio,
                                 Int64(bitPattern: p.openedBlock), p.status.rawValue, p.closeReason?.rawValue ?? "", p.openTx, p.closeTx, p.detail,
                                 Int64(bitPattern: at), p.entryMean, p.entryDeviation])
        }
    }

    /// Every position, oldest first; `open`: those opening, open or closing.
    public func positions(open: Bool = false) throws -> [StatPosition] {
        try db.read { db in
            let sql = "SELECT * FROM stat_position" + (open ? " WHERE status IN ('opening', 'open', 'closing')" : "") + " ORDER BY updated_at, id"
            return try Row.fetchAll(db, sql: sql).compactMap(Self.position)
        }
    }

    static func position(_ r: Row) -> StatPosition? {
        guard let id = try? Hex.decode(r["id"] as String), let a = try? Address(hex: r["token_a"] as String), let b = try? Address(hex: r["token_b"] as String),
              let status = StatPosition.Status(rawValue: r["status"]), let sold = UInt256(r["amount_sold"] as String) else { return nil }
        var p = StatPosition(id: id, chainID: UInt64(bitPattern: r["chain"]), pair: r["pair"], tokenA: a, tokenB: b, longA: (r["long_a"] as Int) == 1,
                             amountSold: sold, entryZ: r["entry_z"], hedgeRatio: r["hedge_ratio"], openedBlock: UInt64(bitPattern: r["opened_block"]),
                             status: status)
        p.amountBought = UInt256(r["amount_bought"] as String)
        p.proceeds = UInt256(r["proceeds"] as String)
        p.closeReason = StatPosition.CloseReason(rawValue: r["close_reason"])
        (p.openTx, p.closeTx, p.detail) = (r["open_tx"], r["close_tx"], r["detail"])
        (p.entryMean, p.entryDeviation) = (r["entry_mean"], r["entry_deviation"])
        return p
    }
}
