import EVMCodec
import CoreMetrics
import EVMPrimitives
import Foundation
import GRDB
import Opportunities
import SolanaPrimitives

/// A landed trade's receipt as journaled: expected, detected, realized and its `Executed` profit.
extension Journal {
    public struct Receipt: Equatable, Sendable {
        public var txHash: String
        public var opportunity: String
        public var chain: UInt64
        public var block: UInt64
        /// The hash of `block` as the receipt gave it: a reorg that replaces the block changes it
        /// (empty for receipts journaled before v8, and for CEX–DEX legs).
        public var blockHash: String
        public var status: Int
        public var gasUsed: UInt64
        public var effectiveGasPrice: UInt256
        public var asset: Address
        /// What the simulation said the executor would keep, what detection said (gross less
        /// the flash fee), the executor's balance delta, and the `Executed` event's profit.
        public var expectedProfit: Int256
        public var detectedProfit: Int256
        public var realizedProfit: Int256
        public var eventProfit: Int256

        public init(txHash: String, opportunity: String, chain: UInt64, block: UInt64, status: Int, gasUsed: UInt64, effectiveGasPrice: UInt256,
                    asset: Address, expectedProfit: Int256, detectedProfit: Int256, realizedProfit: Int256, eventProfit: Int256, blockHash: String = "") {
            self.txHash = txHash
            self.opportunity = opportunity
            self.chain = chain
            self.block = block
            self.blockHash = blockHash
            self.status = status
            self.gasUsed = gasUsed
            self.effectiveGasPrice = effectiveGasPrice
            self.asset = asset
            self.expectedProfit = expectedProfit
            self.detectedProfit = detectedProfit
            self.realizedProfit = realizedProfit
            self.eventProfit = eventProfit
        }

        /// A trade's receipt as the chain gave it (`r`): its status, gas, what it realized (the
        /// executor's net transfers of `asset` in its logs) and its `Executed` profit. The live
        /// path and a start's recovery both journal what this reads.
        public init(chainReceipt r: JSONValue, txHash: String, opportunity: String, chain: UInt64, block: UInt64, asset: Address, executor: Address,
                    expectedProfit: Int256, detectedProfit: Int256) {
            let logs = ExecutorCall.logs(ofReceipt: r)
            self.init(txHash: txHash, opportunity: opportunity, chain: chain, block: block, status: r["status"]?.stringValue == "0x1" ? 1 : 0,
                      gasUsed: r["gasUsed"]?.stringValue.flatMap { try? UInt256(hex: $0) }?.w0 ?? 0,
                      effectiveGasPrice: r["effectiveGasPrice"]?.stringValue.flatMap { try? UInt256(hex: $0) } ?? .zero, asset: asset,
                      expectedProfit: expectedProfit, detectedProfit: detectedProfit,
                      realizedProfit: ExecutorCall.netTransfers(logs, token: asset, holder: executor),
                      eventProfit: ExecutorCall.executedProfit(logs, executor: executor, asset: asset).map { Int256(bitPattern: $0) } ?? .zero,
                      blockHash: r["blockHash"]?.stringValue?.lowercased() ?? "")
        }
    }

    /// v8: each receipt's block hash, so that a reorg replacing its block is seen (see
    /// `ExecutionEngine.checkLandings`), and receipts found by chain and block.
    static func migrateReceiptBlocks(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8: a receipt's block hash") { db in
            try db.execute(sql: """
                ALTER TABLE receipt ADD COLUMN block_hash TEXT NOT NULL DEFAULT '';
                CREATE INDEX receipt_by_block ON receipt(chain, block);
                """)
        }
    }

    public func record(receipt r: Receipt, at: UInt64) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO receipt (tx_hash, opportunity, chain, block, block_hash, status, gas_used, effective_gas_price, asset, expected_profit,
                    detected_profit, realized_profit, event_profit, difference, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [r.txHash, r.opportunity, Int64(bitPattern: r.chain), Int64(r.block), r.blockHash, r.status, Int64(r.gasUsed),
                                 r.effectiveGasPrice.description, r.asset.checksummed, r.expectedProfit.description, r.detectedProfit.description,
                                 r.realizedProfit.description, r.eventProfit.description, (r.realizedProfit &- r.expectedProfit).description,
                                 Int64(bitPattern: at)])
        }
    }

    /// Whether a receipt of `txHash` is journaled.
    public func hasReceipt(_ txHash: String) throws -> Bool {
        try db.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM receipt WHERE tx_hash = ?", arguments: [txHash]) ?? false }
    }

    /// A receipt a reorg took out of the chain: no longer journaled (the decision that says so keeps what it had said).
    public func removeReceipt(_ txHash: String) throws {
        try db.write { db in try db.execute(sql: "DELETE FROM receipt WHERE tx_hash = ?", arguments: [txHash]) }
    }

    public func receipts() throws -> [Receipt] { try receipts(sql: "ORDER BY block, tx_hash", arguments: []) }

    /// The receipts of trades (submissions that carry an asset: not CEX–DEX legs or other
    /// own-capital transactions) on `chain` in blocks after `block`, newest first: those a reorg may still replace.
    public func receipts(chain: UInt64, after block: UInt64) throws -> [Receipt] {
        try receipts(sql: """
            WHERE chain = ? AND block > ? AND tx_hash IN (SELECT tx_hash FROM submission WHERE chain = ? AND asset != '')
            ORDER BY block DESC, tx_hash
            """, arguments: [Int64(bitPattern: chain), Int64(block), Int64(bitPattern: chain)])
    }

    private func receipts(sql: String, arguments: StatementArguments) throws -> [Receipt] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM receipt " + sql, arguments: arguments).map { r in
                func big(_ k: String) -> Int256 { Int256(r[k] as String) ?? .zero }
                return Receipt(txHash: r["tx_hash"], opportunity: r["opportunity"], chain: UInt64(bitPattern: r["chain"]), block: UInt64(r["block"] as Int64),
                               status: r["status"], gasUsed: UInt64(r["gas_used"] as Int64), effectiveGasPrice: UInt256(r["effective_gas_price"] as String) ?? .zero,
                               asset: (try? Address(hex: r["asset"] as String)) ?? .zero, expectedProfit: big("expected_profit"),
                               detectedProfit: big("detected_profit"), realizedProfit: big("realized_profit"), eventProfit: big("event_profit"),
                               blockHash: r["block_hash"])
            }
        }
    }
}
