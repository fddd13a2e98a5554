import GRDB
import Opportunities

/// One Solana transaction of ours, as journaled: sent (as a Jito bundle or a plain transaction),
/// then landed, failed on chain, or dropped (its blockhash expired unseen); `pending` while its
/// fate is open (the next start settles it from the cluster).
public struct SolanaTradeRecord: Equatable, Sendable {
    public enum Status: String, Sendable { case pending, landed, failed, dropped }

    public var signature: String
    public var opportunity: String
    public var chainID: UInt64
    /// The Jito bundle id, or "" when sent as a plain transaction.
    public var bundle: String
    /// "jito" or "rpc".
    public var mode: String
    public var slot: UInt64
    /// The last block height at which its blockhash lets it land.
    public var lastValidBlockHeight: UInt64
    public var status: Status
    /// In the route's input mint's raw units: detection's gross, the simulation's net, the landed one's net.
    public var detected: Int64
    public var expected: Int64
    public var realized: Int64?
    public var fee: UInt64
    public var tip: UInt64
    public var detail: String
    /// The signed transaction as sent, base64.
    public var raw: String

    public init(signature: String, opportunity: String, chainID: UInt64, bundle: String, mode: String, slot: UInt64, lastValidBlockHeight: UInt64,
                status: Status, detected: Int64, expected: Int64, realized: Int64? = nil, fee: UInt64, tip: UInt64, detail: String = "", raw: String = "") {
        (self.signature, self.opportunity, self.chainID, self.bundle, self.mode) = (signature, opportunity, chainID, bundle, mode)
        (self.slot, self.lastValidBlockHeight, self.status, self.detected, self.expected) = (slot, lastValidBlockHeight, status, detected, expected)
        (self.realized, self.fee, self.tip, self.detail, self.raw) = (realized, fee, tip, detail, raw)
    }
}

extension Journal {
    static func migrateSolana(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6: Solana trades") { db in
            try db.execute(sql: """
                CREATE TABLE solana_trade (
                    signature TEXT PRIMARY KEY, opportunity TEXT NOT NULL, chain INTEGER NOT NULL, bundle TEXT NOT NULL, mode TEXT NOT NULL,
                    slot INTEGER NOT NULL, last_valid INTEGER NOT NULL, status TEXT NOT NULL, detected TEXT NOT NULL, expected TEXT NOT NULL,
                    realized TEXT, fee INTEGER NOT NULL, tip INTEGER NOT NULL, detail TEXT NOT NULL, raw TEXT NOT NULL, at INTEGER NOT NULL)
                """)
        }
    }

    public func record(solana t: SolanaTradeRecord, at: UInt64) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO solana_trade (signature, opportunity, chain, bundle, mode, slot, last_valid, status, detected, expected, realized, fee, tip, detail, raw, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [t.signature, t.opportunity, Int64(bitPattern: t.chainID), t.bundle, t.mode, Int64(bitPattern: t.slot),
                                 Int64(bitPattern: t.lastValidBlockHeight), t.status.rawValue, String(t.detected), String(t.expected),
                                 t.realized.map(String.init), Int64(bitPattern: t.fee), Int64(bitPattern: t.tip), String(t.detail.prefix(500)), t.raw,
                                 Int64(bitPattern: at)])
        }
    }

    /// Every Solana trade, oldest first; `open` only those still pending.
    public func solanaTrades(open: Bool = false) throws -> [SolanaTradeRecord] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM solana_trade" + (open ? " WHERE status = 'pending'" : "") + " ORDER BY at, signature").map(Self.solanaTrade)
        }
    }

    /// The Solana trade sent as `signature`, if one was journaled.
    public func solanaTrade(_ signature: String) throws -> SolanaTradeRecord? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM solana_trade WHERE signature = ?", arguments: [signature]).map(Self.solanaTrade) }
    }

    static func solanaTrade(_ r: Row) -> SolanaTradeRecord {
        SolanaTradeRecord(signature: r["signature"], opportunity: r["opportunity"], chainID: UInt64(bitPattern: r["chain"]), bundle: r["bundle"],
                          mode: r["mode"], slot: UInt64(bitPattern: r["slot"]), lastValidBlockHeight: UInt64(bitPattern: r["last_valid"]),
                          status: SolanaTradeRecord.Status(rawValue: r["status"]) ?? .pending, detected: Int64(r["detected"] as String) ?? 0,
                          expected: Int64(r["expected"] as String) ?? 0, realized: (r["realized"] as String?).flatMap { Int64($0) },
                          fee: UInt64(bitPattern: r["fee"]), tip: UInt64(bitPattern: r["tip"]), detail: r["detail"], raw: r["raw"])
    }

    /// The input mint (base58) of a Solana round trip journaled as `id`: what its realized profit
    /// counts with the lamports. Nil for anything else (a buy-and-bridge counts lamports alone).
    public func roundTripMint(_ id: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT asset FROM opportunity WHERE id = ? AND kind = ?", arguments: [id, Opportunity.Kind.solana.name]) }
    }
}
