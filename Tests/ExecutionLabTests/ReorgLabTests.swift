import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import JSONRPC
import MarketWatch
import Pipeline
import StreamBus
import Testing

/// A landed trade is not final until it is `confirmations` deep: a reorg that replaces its block
/// must leave the journal's landed set the chain's. The devnet's reorg replaces blocks with empty
/// ones (the transactions in them are gone, as from a node that never saw them); the test sends the
/// same signed transactions again to play a node that put them back in its pool.
extension ExecutionLabTests {
    @Test func aReorgThatReplacesATradesBlockLeavesTheJournalsLandedSetTheChains() async throws {
        let w = try await Self.world.value
        let (journal, _) = try LabWorld.journal()
        let watcher = w.watcher(), bus = InProcessBus()
        let engine = try w.engine(.ethereum, journal: journal, state: WatcherStates([watcher]), sequencer: true)
        _ = try await engine.recover()
        let detection = w.detection(.ethereum, watcher: watcher, bus: bus)
        let execution = ExecutionService(engine: engine, bus: bus, partitions: ["P1"], name: "lab", logger: LabWorld.logger)
        let tasks = [Task { try await detection.run() }, Task { try await execution.run() }]
        try await LabWorld.wait("the watcher's first state", seconds: 120) { watcher.latest != nil }
        try await w.swap("sushiswap", sell: "WETH", buy: "USDC", amount: UInt256(20) * UInt256(1_000_000_000_000_000_000))
        try await LabWorld.wait("a landed trade", seconds: 90) { await !engine.snapshot.trades.isEmpty }
        // No more trades: the test runs the checks from here.
        for t in tasks { t.cancel() }
        for t in tasks { _ = await t.result }
        await engine.drain()
        let trades = await engine.snapshot.trades
        let landed = try journal.receipts().filter { $0.status == 1 }
        #expect(Set(landed.map(\.txHash)) == Set(trades.map(\.txHash)))
        #expect(!trades.isEmpty)
        let submissions = try journal.receipts().map { try #require(try journal.submission(chain: w.chainID, txHash: $0.txHash)) }.sorted { $0.nonce < $1.nonce }
        var raws: [String] = []
        for s in submissions { raws.append(try #require(try await w.devnet.call("eth_getRawTransactionByHash", [.string(s.txHash)]).stringValue)) }

        /// Each receipt journaled is the chain's: its block, block hash and status; and what it
        /// realized is the executor's balance change over that block as the test reads it.
        func journalIsTheChains(_ what: String) async throws {
            let journaled = try journal.receipts()
            #expect(journaled.count == submissions.count, "\(what): \(journaled.count) receipts for \(submissions.count) trades")
            for r in journaled {
                let chain = try await w.devnet.call("eth_getTransactionReceipt", [.string(r.txHash)])
                let block = try #require(chain["blockNumber"]?.stringValue.flatMap { try? UInt256(hex: $0) }?.w0, "\(what): \(r.txHash) not on the chain")
                #expect(r.block == block && r.blockHash == chain["blockHash"]?.stringValue?.lowercased(), "\(what): \(r) against \(chain)")
                #expect(r.status == (chain["status"]?.stringValue == "0x1" ? 1 : 0))
                if r.status == 1 {
                    let after = try await w.balance(r.asset, of: trades[0].executor, at: block), before = try await w.balance(r.asset, of: trades[0].executor, at: block - 1)
                    let inBlock = journaled.filter { $0.block == block && $0.asset == r.asset }.reduce(Int256.zero) { $0 &+ $1.realizedProfit }
                    #expect(Int256(bitPattern: after) &- Int256(bitPattern: before) == inBlock, "\(what): block \(block)")
                }
                let s = try #require(try journal.submission(chain: w.chainID, txHash: r.txHash))
                #expect(s.status == (r.status == 1 ? .included : .reverted) && s.lastBlock == block, "\(what): \(s)")
            }
            let reported = await engine.snapshot.trades
            #expect(Set(reported.map(\.txHash)) == Set(journaled.filter { $0.status == 1 }.map(\.txHash)))
            for t in reported { #expect(journaled.contains { $0.txHash == t.txHash && $0.block == t.block && $0.realizedProfit == t.realizedProfit }) }
        }
        /// Replaces every block from the oldest journaled trade's up.
        func reorg() async throws {
            let oldest = try #require(try journal.receipts().map(\.block).min())
            let head = try await w.blockNumber()
            _ = try await w.devnet.call("devnet_reorg", [.number(String(head - oldest + 1))])
        }
        func send(_ raws: [String]) async throws {
            for raw in raws { _ = try await w.devnet.call("eth_sendRawTransaction", [.string(raw)]) }
        }
        func landedOnChain() async throws -> Bool {
            for s in submissions where try await w.devnet.call("eth_getTransactionReceipt", [.string(s.txHash)]) == .null { return false }
            return true
        }

        // No reorg: nothing changes.
        try await journalIsTheChains("before any reorg")
        let quiet = await engine.checkLandings()
        #expect(quiet.reincluded == 0 && quiet.reorgedOut == 0 && quiet.checked >= 1 && quiet.unread == 0, "\(quiet)")
        let before = try journal.receipts()

        // A reorg replaces the trades' blocks and the node mines them again: each receipt is the new block's.
        try await reorg()
        try await send(raws)
        try await LabWorld.wait("the trades mined again", seconds: 30) { try await landedOnChain() }
        let moved = await engine.checkLandings()
        #expect(moved.reincluded == submissions.count && moved.reorgedOut == 0, "\(moved)")
        try await journalIsTheChains("after they were mined again")
        for new in try journal.receipts() {
            let old = try #require(before.first { $0.txHash == new.txHash })
            #expect(old.blockHash != new.blockHash, "\(old) then \(new)")
        }
        for s in submissions {
            #expect(try journal.latestDecision(opportunity: s.opportunity, outcome: "reincluded")?.contains("was replaced; mined again in block") == true)
        }

        // A reorg takes them out while the node holds them (they tip under its minimum): no receipt
        // is journaled, the submissions are open again; once the minimum is lowered they land and
        // are journaled where they landed.
        try await w.withMinTip(UInt256(50_000_000_000)) {
            try await reorg()
            try await send(raws)
            try await LabWorld.wait("the trades waiting in the node's pool", seconds: 10) { try await w.txpool().count == raws.count }
            let out = await engine.checkLandings()
            #expect(out.reorgedOut == submissions.count && out.reincluded == 0, "\(out)")
            #expect(try journal.receipts().isEmpty)
            let report = await engine.snapshot
            #expect(report.trades.isEmpty && report.reorgedOut == submissions.count)
            for s in submissions {
                #expect(try journal.submission(chain: w.chainID, txHash: s.txHash)?.status == .submitted)
                #expect(try journal.latestDecision(opportunity: s.opportunity, outcome: "reorged")?.contains("its node holds it again") == true)
            }
        }
        try await LabWorld.wait("the trades mined from the pool", seconds: 30) { try await landedOnChain() }
        let again = await engine.checkLandings()
        #expect(again.landedAgain == submissions.count, "\(again)")
        #expect(await engine.snapshot.reorgedOut == 0)
        try await journalIsTheChains("after they landed again")

        // A start watches what the last run landed (the journal drives the check). A reorg takes
        // them out and the node does not hold them: dropped, and the key's next nonce is the
        // chain's again (the oldest trade's, free once more).
        // Found by CI: a trade still open when the first engine stopped, mined in a block the first
        // reorg replaced, was neither mined nor held by the node, and the next start waited 120 s
        // for its nonce and failed. Such a submission is dropped at a start (one made up here, on
        // a nonce ahead of the chain's, with a hash the node has never seen; the trade left open
        // at the stop, if any, holds the next one).
        let count = try await w.eth.transactionCount(of: w.executorKey.address, at: .pending)
        let lost = try journal.reserveNonce(chain: w.chainID, sender: w.executorKey.address, nonce: count + 100, opportunity: [0x0f], at: 1)
        try journal.updateSubmission(lost, status: .submitted, txHash: Hex.encode(Keccak256.hash(Array("lost".utf8))), mode: "private", at: 2)
        let next = try w.engine(.ethereum, journal: journal, state: WatcherStates([watcher]), sequencer: true)
        let began = ContinuousClock.now
        let settled = try await next.recover()
        #expect(settled.dropped >= 1 && ContinuousClock.now - began < .seconds(15), "\(settled)")
        #expect(try journal.openSubmissions().isEmpty)
        try await reorg()
        let gone = await next.checkLandings()
        #expect(gone.reorgedOut == submissions.count, "\(gone)")
        #expect(try journal.receipts().isEmpty)
        for s in submissions {
            #expect(try journal.submission(chain: w.chainID, txHash: s.txHash)?.status == .dropped)
            #expect(try journal.latestDecision(opportunity: s.opportunity, outcome: "reorged")?.contains("dropped, nonce \(s.nonce)") == true)
        }
        let pending = try await w.eth.transactionCount(of: w.executorKey.address, at: .pending)
        #expect(await next.nonceManager(w.chainID)?.nextNonce == pending && pending == submissions[0].nonce)

        // Nothing journaled within `confirmations` of the last head read: a pass reads nothing
        // (eth_blockNumber failing goes unseen), while an engine that never read the head reads it.
        _ = await next.checkLandings()
        _ = try await w.devnet.call("devnet_failMethods", [.array([.string("eth_blockNumber")])])
        let idle = await next.checkLandings()
        let fresh = try await w.engine(.ethereum, journal: journal, state: WatcherStates([watcher]), sequencer: true).checkLandings()
        _ = try await w.devnet.call("devnet_failMethods", [.array([])])
        #expect(idle.unread == 0 && idle.checked == 0 && fresh.unread == 1, "\(idle); \(fresh)")
    }
}
