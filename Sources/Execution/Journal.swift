import CoreMetrics
import EVMPrimitives
import Foundation
import GRDB
import Opportunities
import SolanaPrimitives

/// The execution journal in SQLite (GRDB): every opportunity handled, every decision with its
/// reason, every submission (with the nonce it holds), every receipt with the realized profit
/// and its difference from the expected. Also the durable half of the nonce manager: a nonce is
/// written here before it is signed into anything, so a crash cannot hand it out twice.
///
/// Amounts are decimal text (256-bit values do not fit SQLite integers).
public final class Journal: Sendable {
    let db: DatabaseQueue
    /// Where the operator surface reads: a read-only connection of its own on a file journal
    /// (WAL lets it read while the engine writes, so a dashboard never holds up a trade); the
    /// same queue for an in-memory one.
    let reads: any DatabaseReader

    /// Opens (creating or migrating) the journal at `path`; ":memory:" for a private in-memory one.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        // WAL without a sync per commit: a commit survives the process crashing (what the nonce
        // reservation must survive); only an OS crash can lose the last commits.
        configuration.prepareDatabase { db in
            if db.configuration.readonly == false { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        }
        db = path == ":memory:" ? try DatabaseQueue(configuration: configuration) : try DatabaseQueue(path: path, configuration: configuration)
        if path != ":memory:" { try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") } }
        var migrator = DatabaseMigrator()
        Self.migrateFirstTables(&migrator)
        Self.migratePositions(&migrator)
        Self.migrateHedges(&migrator)
        Self.migrateSolana(&migrator)
        Self.migrateTradeSubmissions(&migrator)
        Self.migrateReceiptBlocks(&migrator)
        try migrator.migrate(db)
        if path == ":memory:" {
            reads = db
        } else {
            var readOnly = Configuration()
            readOnly.readonly = true
            readOnly.busyMode = .timeout(5)
            reads = try DatabaseQueue(path: path, configuration: readOnly)
        }
    }

    /// v1 (opportunities, decisions, nonces, submissions, receipts) and v2 (cross-chain transfers).
    static func migrateFirstTables(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE opportunity (
                    id TEXT PRIMARY KEY, chain INTEGER NOT NULL, kind TEXT NOT NULL, block INTEGER NOT NULL, asset TEXT NOT NULL,
                    amount_in TEXT NOT NULL, gross_profit TEXT NOT NULL, net_profit TEXT NOT NULL, net_profit_micro_usd INTEGER NOT NULL,
                    flash_source TEXT NOT NULL, hops INTEGER NOT NULL, received_at INTEGER NOT NULL);
                CREATE TABLE decision (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, opportunity TEXT NOT NULL, chain INTEGER NOT NULL, stage TEXT NOT NULL,
                    outcome TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL);
                CREATE INDEX decision_by_opportunity ON decision(opportunity);
                CREATE TABLE nonce (chain INTEGER NOT NULL, sender TEXT NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (chain, sender));
                CREATE TABLE submission (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, opportunity TEXT NOT NULL, chain INTEGER NOT NULL, sender TEXT NOT NULL,
                    nonce INTEGER NOT NULL, tx_hash TEXT NOT NULL DEFAULT '', mode TEXT NOT NULL DEFAULT '', target_block INTEGER NOT NULL DEFAULT 0,
                    last_block INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, strategy TEXT NOT NULL DEFAULT '', executor TEXT NOT NULL DEFAULT '',
                    expected_profit TEXT NOT NULL DEFAULT '0', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                CREATE INDEX submission_by_status ON submission(chain, sender, status);
                CREATE UNIQUE INDEX one_live_use_of_a_nonce ON submission(chain, sender, nonce) WHERE status IN ('reserved', 'submitted');
                CREATE TABLE receipt (
                    tx_hash TEXT PRIMARY KEY, opportunity TEXT NOT NULL, chain INTEGER NOT NULL, block INTEGER NOT NULL, status INTEGER NOT NULL,
                    gas_used INTEGER NOT NULL, effective_gas_price TEXT NOT NULL, asset TEXT NOT NULL, expected_profit TEXT NOT NULL,
                    detected_profit TEXT NOT NULL, realized_profit TEXT NOT NULL, event_profit TEXT NOT NULL, difference TEXT NOT NULL,
                    at INTEGER NOT NULL);
                """)
        }
        migrator.registerMigration("v2: bridge transfers") { db in
            // Recovery records of cross-chain trades: one row per trade, from leg one to the sale.
            try db.execute(sql: """
                CREATE TABLE bridge_transfer (
                    opportunity TEXT PRIMARY KEY, encoded TEXT NOT NULL, from_chain INTEGER NOT NULL, to_chain INTEGER NOT NULL,
                    amount_in TEXT NOT NULL, bought TEXT NOT NULL, deposit_tx TEXT NOT NULL DEFAULT '', deposit_id TEXT NOT NULL DEFAULT '',
                    deposit_block INTEGER NOT NULL DEFAULT 0, received TEXT NOT NULL DEFAULT '', sell_tx TEXT NOT NULL DEFAULT '',
                    proceeds TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', updated_at INTEGER NOT NULL);
                """)
        }
    }

    /// v7: what a restart needs to journal the receipt of a trade that landed while it was down.
    static func migrateTradeSubmissions(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7: a trade submission's asset and detected profit") { db in
            try db.execute(sql: """
                ALTER TABLE submission ADD COLUMN asset TEXT NOT NULL DEFAULT '';
                ALTER TABLE submission ADD COLUMN detected_profit TEXT NOT NULL DEFAULT '';
                """)
        }
    }

    // MARK: opportunities and decisions

    public func record(opportunity o: Opportunity, receivedAt: UInt64) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO opportunity (id, chain, kind, block, asset, amount_in, gross_profit, net_profit, net_profit_micro_usd,
                    flash_source, hops, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Hex.encode(o.id), Int64(bitPattern: o.chains.first ?? 0), o.kind.name, Int64(o.blockNumber),
                                 o.solana.map { Base58.encode($0.legs[0].mintIn) } ?? o.path.first?.tokenIn.checksummed ?? "", o.amountIn.description, o.grossProfit.description,
                                 o.netProfit.description, o.netProfitMicroUSD, o.flashSource.name, o.solana?.legs.count ?? o.path.count, Int64(bitPattern: receivedAt)])
        }
    }

    public func decision(_ id: [UInt8], chain: UInt64, stage: String, outcome: String, reason: String, detail: String = "", at: UInt64) throws {
        Counter(label: "arbiter_execution_decisions_total", dimensions: [("chain", String(chain)), ("stage", stage), ("outcome", outcome), ("reason", reason)]).increment()
        try db.write { db in
            try db.execute(sql: "INSERT INTO decision (opportunity, chain, stage, outcome, reason, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [Hex.encode(id), Int64(bitPattern: chain), stage, outcome, reason, String(detail.prefix(500)), Int64(bitPattern: at)])
        }
    }

    /// An opportunity that expired on the bus before it could be handled: received, and refused
    /// `bus:expired` at `now` (every received opportunity has an outcome).
    public func expired(_ o: Opportunity, at now: UInt64) throws {
        try record(opportunity: o, receivedAt: now)
        try decision(o.id, chain: o.chains.first ?? 0, stage: "bus", outcome: "refused", reason: "expired", at: now)
    }

    /// Decisions counted by (outcome, reason).
    public func decisionCounts() throws -> [String: Int] {
        try db.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT outcome, reason, COUNT(*) AS n FROM decision GROUP BY outcome, reason") {
                out["\(row["outcome"] as String):\(row["reason"] as String)"] = row["n"]
            }
            return out
        }
    }

    // MARK: nonces

    /// The stored next nonce of `sender` on `chain`, if any.
    public func storedNonce(chain: UInt64, sender: Address) throws -> UInt64? {
        try db.read { db in
            try Int64.fetchOne(db, sql: "SELECT next FROM nonce WHERE chain = ? AND sender = ?", arguments: [Int64(bitPattern: chain), sender.checksummed])
                .map { UInt64($0) }
        }
    }

    /// Records `nonce` as held for `opportunity` and moves the stored next past it, in one
    /// transaction. Fails if a live submission (reserved or submitted) already holds it: two
    /// trades never share a nonce, whatever the caller does. Returns the submission's row.
    public func reserveNonce(chain: UInt64, sender: Address, nonce: UInt64, opportunity: [UInt8], at: UInt64) throws -> Int64 {
        try db.write { db in
            // Cached statements: this write is on the path from detection to a signed trade.
            try db.cachedStatement(sql: """
                INSERT INTO submission (opportunity, chain, sender, nonce, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'reserved', ?, ?)
                """).execute(arguments: [Hex.encode(opportunity), Int64(bitPattern: chain), sender.checksummed, Int64(nonce), Int64(bitPattern: at), Int64(bitPattern: at)])
            let seq = db.lastInsertedRowID
            try db.cachedStatement(sql: """
                INSERT INTO nonce (chain, sender, next) VALUES (?, ?, ?) ON CONFLICT(chain, sender) DO UPDATE SET next = MAX(next, excluded.next)
                """).execute(arguments: [Int64(bitPattern: chain), sender.checksummed, Int64(nonce + 1)])
            return seq
        }
    }

    /// Sets the stored next nonce (a resync from the chain), only ever moving it to `next`.
    public func setNextNonce(chain: UInt64, sender: Address, next: UInt64) throws {
        try db.write { db in
            try db.execute(sql: "INSERT INTO nonce (chain, sender, next) VALUES (?, ?, ?) ON CONFLICT(chain, sender) DO UPDATE SET next = excluded.next",
                           arguments: [Int64(bitPattern: chain), sender.checksummed, Int64(next)])
        }
    }

    // MARK: submissions

    public enum SubmissionStatus: String, Sendable, CaseIterable {
        /// A nonce is held; nothing signed with it has left the process.
        case reserved
        /// Sent (a bundle for `target_block`, or a transaction): its fate is not known yet.
        case submitted
        case included
        /// Not included (bundle expired, simulation failed, refused after reservation): the nonce is free.
        case dropped
        /// Included but reverted.
        case reverted
        /// Our cancellation took the nonce: the trade never ran (the nonce is used).
        case cancelled
    }

    public struct Submission: Equatable, Sendable {
        public var seq: Int64
        public var opportunity: String
        public var chain: UInt64
        public var sender: String
        public var nonce: UInt64
        public var txHash: String
        public var mode: String
        public var targetBlock: UInt64
        public var lastBlock: UInt64
        public var status: SubmissionStatus
        public var strategy: String
        public var executor: String
        public var expectedProfit: String
        /// A trade's asset and its profit as detected (empty for other submissions, and those from before v7).
        public var asset = ""
        public var detectedProfit = ""
    }

    public func updateSubmission(_ seq: Int64, status: SubmissionStatus, txHash: String? = nil, mode: String? = nil, targetBlock: UInt64? = nil,
                                 lastBlock: UInt64? = nil, strategy: String? = nil, executor: String? = nil, expectedProfit: String? = nil,
                                 asset: String? = nil, detectedProfit: String? = nil, at: UInt64) throws {
        try db.write { db in
            try db.execute(sql: """
                UPDATE submission SET status = ?, tx_hash = COALESCE(?, tx_hash), mode = COALESCE(?, mode), target_block = COALESCE(?, target_block),
                    last_block = COALESCE(?, last_block), strategy = COALESCE(?, strategy), executor = COALESCE(?, executor),
                    expected_profit = COALESCE(?, expected_profit), asset = COALESCE(?, asset), detected_profit = COALESCE(?, detected_profit),
                    updated_at = ? WHERE seq = ?
                """, arguments: [status.rawValue, txHash, mode, targetBlock.map { Int64($0) }, lastBlock.map { Int64($0) }, strategy, executor,
                                 expectedProfit, asset, detectedProfit, Int64(bitPattern: at), seq])
        }
    }

    /// Submissions of `sender` on `chain` whose fate is open (reserved or submitted), oldest first.
    public func openSubmissions(chain: UInt64, sender: Address) throws -> [Submission] {
        try submissions(sql: "WHERE chain = ? AND sender = ? AND status IN ('reserved', 'submitted') ORDER BY seq",
                        arguments: [Int64(bitPattern: chain), sender.checksummed])
    }

    public func allSubmissions() throws -> [Submission] { try submissions(sql: "ORDER BY seq", arguments: []) }

    /// Trade submissions of `sender` on `chain` marked included whose receipt is not journaled
    /// (a process stopped between the two writes, or a journal from before they were ordered).
    public func includedWithoutReceipt(chain: UInt64, sender: Address) throws -> [Submission] {
        try submissions(sql: "WHERE chain = ? AND sender = ? AND status = 'included' AND asset != '' AND tx_hash NOT IN (SELECT tx_hash FROM receipt) ORDER BY seq",
                        arguments: [Int64(bitPattern: chain), sender.checksummed])
    }

    /// Every submission whose fate is open (reserved or submitted), all chains and senders, oldest first.
    public func openSubmissions() throws -> [Submission] {
        try submissions(sql: "WHERE status IN ('reserved', 'submitted') ORDER BY seq", arguments: [])
    }

    /// The detail of the latest decision on `opportunity` (hex id) with `outcome`, if any.
    public func latestDecision(opportunity: String, outcome: String) throws -> String? {
        try db.read { db in
            try String.fetchOne(db, sql: "SELECT detail FROM decision WHERE opportunity = ? AND outcome = ? ORDER BY seq DESC LIMIT 1",
                                arguments: [opportunity, outcome])
        }
    }

    /// The latest submission on `chain` that sent `txHash`, if any.
    public func submission(chain: UInt64, txHash: String) throws -> Submission? {
        try submissions(sql: "WHERE chain = ? AND tx_hash = ? ORDER BY seq DESC LIMIT 1", arguments: [Int64(bitPattern: chain), txHash]).first
    }

    private func submissions(sql: String, arguments: StatementArguments) throws -> [Submission] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM submission " + sql, arguments: arguments).map { r in
                Submission(seq: r["seq"], opportunity: r["opportunity"], chain: UInt64(bitPattern: r["chain"]), sender: r["sender"],
                           nonce: UInt64(r["nonce"] as Int64), txHash: r["tx_hash"], mode: r["mode"], targetBlock: UInt64(r["target_block"] as Int64),
                           lastBlock: UInt64(r["last_block"] as Int64), status: SubmissionStatus(rawValue: r["status"]) ?? .dropped,
                           strategy: r["strategy"], executor: r["executor"], expectedProfit: r["expected_profit"],
                           asset: r["asset"], detectedProfit: r["detected_profit"])
            }
        }
    }
}
