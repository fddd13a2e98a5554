import EVMPrimitives
import Execution
import Foundation
import Opportunities
import Testing

/// The journal as the operator surface reads it, on a file journal (its own read-only connection):
/// filters, newest first, following by rowid with nothing twice or skipped, the last decision,
/// trades with their opportunity's kind, refusals by reason.
@Suite struct JournalOperatorTests {
    @Test func readsWhatTheEngineWroteNewestFirstAndFollowsItByRow() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-op-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let journal = try Journal(path: path)
        #expect(try journal.lastRows() == (0, 0))
        let kinds: [Opportunity.Kind] = [.crossDex, .triangular, .crossDex, .crossChain, .crossDex]
        var ids: [String] = []
        for (i, kind) in kinds.enumerated() {
            let o = try ExecutionCoreTests.opportunity(id: UInt8(i + 1), kind: kind, chain: i % 2 == 0 ? 1 : 10)
            try journal.record(opportunity: o, receivedAt: UInt64(100 + i))
            ids.append(Hex.encode(o.id))
        }
        try journal.decision(try Hex.decode(ids[0]), chain: 1, stage: "lock", outcome: "refused", reason: "poolBusy", at: 200)
        try journal.decision(try Hex.decode(ids[2]), chain: 1, stage: "risk", outcome: "refused", reason: "poolBusy", at: 201)
        try journal.decision(try Hex.decode(ids[2]), chain: 1, stage: "simulate", outcome: "refused", reason: "outrun", at: 202)
        try journal.decision(try Hex.decode(ids[4]), chain: 1, stage: "submit", outcome: "submitted", reason: "bundle", at: 203)

        let newest = try journal.opportunities(limit: 3)
        #expect(newest.map(\.id) == [ids[4], ids[3], ids[2]])
        #expect(newest.map(\.decision) == ["submitted:bundle", nil, "refused:outrun"])
        #expect(try journal.opportunities(limit: 10, kind: "crossDex").map(\.id) == [ids[4], ids[2], ids[0]])
        #expect(try journal.opportunities(limit: 10, kind: "crossDex", chain: 10).isEmpty)
        #expect(try journal.opportunities(limit: 10, chain: 10).map(\.id) == [ids[3], ids[1]])
        // Followed by row: oldest first after the row given, in pages, none twice or skipped.
        let first = try journal.opportunities(limit: 2, after: 0)
        let rest = try journal.opportunities(limit: 10, after: first.last!.row)
        #expect((first + rest).map(\.id) == ids)
        #expect(try journal.opportunities(limit: 10, after: rest.last!.row).isEmpty)
        #expect(try journal.refusalCounts().map { "\($0.reason)=\($0.count)" } == ["poolBusy=2", "outrun=1"])

        let asset = try Address(hex: "0x00000000000000000000000000000000000000aa")
        for (n, id) in [ids[4], ids[0]].enumerated() {
            try journal.record(receipt: .init(txHash: "0x0\(n)", opportunity: id, chain: 1, block: UInt64(20 + n), status: 1, gasUsed: 100_000,
                                              effectiveGasPrice: UInt256(7), asset: asset, expectedProfit: Int256(1_000 + n),
                                              detectedProfit: Int256(1_000), realizedProfit: Int256(1_000), eventProfit: Int256(1_000)), at: UInt64(300 + n))
        }
        let trades = try journal.trades(limit: 10)
        #expect(trades.map(\.receipt.txHash) == ["0x01", "0x00"] && trades.map(\.kind) == ["crossDex", "crossDex"] && trades.map(\.at) == [301, 300])
        #expect(trades[0].receipt.expectedProfit == Int256(1_001) && trades[0].receipt.realizedProfit == Int256(1_000))
        #expect(try journal.trades(limit: 10, after: trades[1].row).map(\.receipt.txHash) == ["0x01"])
        #expect(try journal.lastRows() == (first.first!.row + 4, trades[0].row))
    }
}
