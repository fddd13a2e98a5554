import EVMPrimitives
import GRDB

/// What the operator surface reads from the journal: the latest opportunities with their last
/// decision, the latest trades, refusals by reason, on the journal's read-only connection. Rows
/// carry their SQLite rowid, so a reader can follow the journal (`after:`) without reading a row twice.
extension Journal {
    public struct OpportunityRow: Sendable, Equatable {
        public var row: Int64
        public var id: String
        public var chain: UInt64
        public var kind: String
        public var block: UInt64
        public var asset: String
        public var amountIn: String
        public var netProfit: String
        public var netProfitMicroUSD: Int64
        public var hops: Int
        public var receivedAt: UInt64
        /// The latest decision on it ("outcome:reason"), if any yet.
        public var decision: String?
    }

    /// Newest first: at most `limit` opportunities, of `kind` and on `chain` when given, or all
    /// those after row `after` (oldest first then, to be followed in order).
    public func opportunities(limit: Int, kind: String? = nil, chain: UInt64? = nil, after: Int64? = nil) throws -> [OpportunityRow] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let kind { conditions.append("o.kind = ?"); arguments += [kind] }
        if let chain { conditions.append("o.chain = ?"); arguments += [Int64(bitPattern: chain)] }
        if let after { conditions.append("o.rowid > ?"); arguments += [after] }
        let sql = """
            SELECT o.rowid AS row, o.*, (SELECT d.outcome || ':' || d.reason FROM decision d WHERE d.opportunity = o.id ORDER BY d.seq DESC LIMIT 1) AS last
            FROM opportunity o \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY o.rowid \(after == nil ? "DESC" : "ASC") LIMIT ?
            """
        arguments += [limit]
        return try reads.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { r in
                OpportunityRow(row: r["row"], id: r["id"], chain: UInt64(bitPattern: r["chain"]), kind: r["kind"], block: UInt64(r["block"] as Int64),
                               asset: r["asset"], amountIn: r["amount_in"], netProfit: r["net_profit"], netProfitMicroUSD: r["net_profit_micro_usd"],
                               hops: r["hops"], receivedAt: UInt64(bitPattern: r["received_at"]), decision: r["last"])
            }
        }
    }

    public struct TradeRow: Sendable, Equatable {
        public var row: Int64
        public var receipt: Receipt
        /// The opportunity's kind ("" when the journal has no opportunity row for it).
        public var kind: String
        public var at: UInt64
    }

    /// Newest first: at most `limit` trades (receipts), or those after row `after`, oldest first.
    public func trades(limit: Int, after: Int64? = nil) throws -> [TradeRow] {
        let sql = """
            SELECT r.rowid AS row, r.*, COALESCE(o.kind, '') AS kind FROM receipt r LEFT JOIN opportunity o ON o.id = r.opportunity
            \(after == nil ? "" : "WHERE r.rowid > ?") ORDER BY r.rowid \(after == nil ? "DESC" : "ASC") LIMIT ?
            """
        let arguments: StatementArguments = after.map { [$0, limit] } ?? [limit]
        return try reads.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { r in
                func big(_ k: String) -> Int256 { Int256(r[k] as String) ?? .zero }
                let receipt = Receipt(txHash: r["tx_hash"], opportunity: r["opportunity"], chain: UInt64(bitPattern: r["chain"]), block: UInt64(r["block"] as Int64),
                                      status: r["status"], gasUsed: UInt64(r["gas_used"] as Int64), effectiveGasPrice: UInt256(r["effective_gas_price"] as String) ?? .zero,
                                      asset: (try? Address(hex: r["asset"] as String)) ?? .zero, expectedProfit: big("expected_profit"),
                                      detectedProfit: big("detected_profit"), realizedProfit: big("realized_profit"), eventProfit: big("event_profit"))
                return TradeRow(row: r["row"], receipt: receipt, kind: r["kind"], at: UInt64(bitPattern: r["at"]))
            }
        }
    }

    /// Refusals (decisions with outcome `refused`) counted by reason, the most frequent first.
    public func refusalCounts() throws -> [(reason: String, count: Int)] {
        try reads.read { db in
            try Row.fetchAll(db, sql: "SELECT reason, COUNT(*) AS n FROM decision WHERE outcome = 'refused' GROUP BY reason ORDER BY n DESC, reason")
                .map { (reason: $0["reason"], count: $0["n"]) }
        }
    }

    /// The highest rowids of the opportunity and receipt tables (0 when empty): where a follower starts.
    public func lastRows() throws -> (opportunity: Int64, receipt: Int64) {
        try reads.read { db in
            (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM opportunity") ?? 0,
             try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM receipt") ?? 0)
        }
    }
}
