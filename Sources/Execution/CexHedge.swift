import EVMPrimitives
import GRDB

/// The exchange leg of a CEX–DEX trade: what would be sold or bought on the exchange, at what
/// fair value, after which DEX transaction. Journaled as an intent; nothing trades on an exchange here.
public struct CexHedge: Equatable, Sendable {
    public var opportunity: String
    public var chainID: UInt64
    public var symbol: String
    public var sellsBase: Bool
    /// Base raw units.
    public var quantity: UInt256
    public var fairNumerator: UInt256
    public var fairDenominator: UInt256
    public var txHash: String
    public var status: String
}

extension Journal {
    static func migrateHedges(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5: CEX hedge intents") { db in
            try db.execute(sql: """
                CREATE TABLE cex_hedge (
                    opportunity TEXT PRIMARY KEY, chain INTEGER NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, quantity TEXT NOT NULL,
                    fair_numerator TEXT NOT NULL, fair_denominator TEXT NOT NULL, tx_hash TEXT NOT NULL, status TEXT NOT NULL, at INTEGER NOT NULL)
                """)
        }
    }

    public func record(hedge h: CexHedge, at: UInt64) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO cex_hedge (opportunity, chain, symbol, side, quantity, fair_numerator, fair_denominator, tx_hash, status, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [h.opportunity, Int64(bitPattern: h.chainID), h.symbol, h.sellsBase ? "sell" : "buy", h.quantity.description,
                                 h.fairNumerator.description, h.fairDenominator.description, h.txHash, h.status, Int64(bitPattern: at)])
        }
    }

    public func hedges() throws -> [CexHedge] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM cex_hedge ORDER BY at").map { r in
                CexHedge(opportunity: r["opportunity"], chainID: UInt64(bitPattern: r["chain"]), symbol: r["symbol"], sellsBase: (r["side"] as String) == "sell",
                         quantity: UInt256(r["quantity"] as String) ?? .zero, fairNumerator: UInt256(r["fair_numerator"] as String) ?? .zero,
                         fairDenominator: UInt256(r["fair_denominator"] as String) ?? .zero, txHash: r["tx_hash"], status: r["status"])
            }
        }
    }
}
