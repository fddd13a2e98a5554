import ArbiterTestKit
import EVMPrimitives
import Execution
import Foundation
import MarketWatch
import Pipeline
import StreamBus
import Testing

/// A stop never waits on the network: trades still pending when the execution service is
/// stopped are given its drain limit, then journaled as open (their submissions stay
/// `submitted`, with an `open` decision saying what may still land), and the next start's
/// recovery settles them. Also: a chain's several keys each keep their own nonces.
extension ExecutionLabTests {
    @Test func aStopWithATradePendingJournalsItOpenAndTheNextStartSettlesIt() async throws {
        let w = try await Self.world.value
        let (journal, _) = try LabWorld.journal()
        let watcher = w.watcher(), bus = InProcessBus()
        // Trades tip under the node's minimum and wait in its pool; no replacement is tried.
        let (stopped, openAtStop): (Duration, [Journal.Submission]) = try await w.withMinTip(UInt256(50_000_000_000)) {
            let engine = try w.engine(.ethereum, journal: journal, state: WatcherStates([watcher]), sequencer: true,
                                      chain: { $0.replaceAfterBlocks = 1_000 })
            _ = try await engine.recover()
            let detection = w.detection(.ethereum, watcher: watcher, bus: bus)
            let execution = ExecutionService(engine: engine, bus: bus, partitions: ["P1"], name: "lab", drainLimit: .seconds(1), logger: LabWorld.logger)
            let detecting = Task { try await detection.run() }
            let executing = Task { try await execution.run() }
            defer { detecting.cancel() }
            try await LabWorld.wait("the watcher's first state", seconds: 120) { watcher.latest != nil }
            try await w.swap("sushiswap", sell: "WETH", buy: "USDC", amount: UInt256(20) * UInt256(1_000_000_000_000_000_000))
            try await LabWorld.wait("a trade waiting in the pool", seconds: 90) {
                let pooled = try await w.txpool()
                return await engine.snapshot.submitted >= 1 && !pooled.isEmpty
            }
            // The stop: the bus closes, the drain gives up after its limit, the trackers journal what is open.
            let began = ContinuousClock.now
            executing.cancel()
            _ = await executing.result
            let took = ContinuousClock.now - began
            #expect(await engine.snapshot.open >= 1)
            return (took, try journal.openSubmissions())
        }
        #expect(stopped < .seconds(5), "the stop took \(stopped)")
        #expect(!openAtStop.isEmpty && openAtStop.allSatisfy { $0.status == .submitted })
        for s in openAtStop {
            let reason = try journal.latestDecision(opportunity: s.opportunity, outcome: "open")
            #expect(reason?.contains(s.txHash) == true && reason?.contains("next start") == true, "\(s.txHash): \(reason ?? "no open decision"); \((try? journal.allSubmissions()) ?? [])")
        }
        // The minimum is back to zero: the trade lands, and the next start's recovery finds it.
        try await LabWorld.wait("the trade landed", seconds: 60) {
            for s in openAtStop where try await w.devnet.call("eth_getTransactionReceipt", [.string(s.txHash)]) == .null { return false }
            return true
        }
        // Found by the soak: the next start met a rate-limited node (its first reads answered 429)
        // and the process ended; its recovery now waits as the node asks and goes on.
        _ = try await w.devnet.call("devnet_rateLimit", [.number("4"), .number("1")])
        let next = try w.engine(.ethereum, journal: journal, state: WatcherStates([watcher]), sequencer: true)
        let settled = try await next.recover()
        #expect(settled.included == openAtStop.count)
        #expect(try journal.openSubmissions().isEmpty)
        // Found by the soak too: a trade found landed at a start had its submission marked included
        // but no receipt, so what it realized was never journaled. Now its receipt is, read from the
        // chain's receipt as the live path reads it: the executor's transfers of the asset equal its
        // Executed profit, with the decision.
        let receipts = Dictionary(uniqueKeysWithValues: try journal.receipts().map { ($0.txHash, $0) })
        for s in openAtStop {
            let r = try #require(receipts[s.txHash], "no receipt journaled for \(s.txHash)")
            #expect(r.status == 1 && r.realizedProfit == r.eventProfit && r.realizedProfit > .zero, "\(r)")
            #expect(r.expectedProfit.description == s.expectedProfit && r.asset.checksummed == s.asset && r.opportunity == s.opportunity)
            #expect(try journal.latestDecision(opportunity: s.opportunity, outcome: "included")?.contains("settled at a start") == true)
        }
        // Found by the 60-minute soak: the executor killed after marking a landed trade included
        // and before journaling its receipt (the live path read balances in between) left it
        // included with no receipt, and no start looked at it again. The live path now journals the
        // receipt first; a journal left that way (rebuilt here in a fresh one) is settled at a start.
        let (crashed, _) = try LabWorld.journal()
        for s in openAtStop {
            let sender = try Address(hex: s.sender)
            let seq = try crashed.reserveNonce(chain: s.chain, sender: sender, nonce: s.nonce, opportunity: try Hex.decode(s.opportunity), at: 1)
            try crashed.updateSubmission(seq, status: .included, txHash: s.txHash, mode: s.mode, targetBlock: s.targetBlock, lastBlock: s.lastBlock,
                                         strategy: s.strategy, executor: s.executor, expectedProfit: s.expectedProfit, asset: s.asset,
                                         detectedProfit: s.detectedProfit, at: 2)
        }
        #expect(try crashed.receipts().isEmpty)
        _ = try await w.engine(.ethereum, journal: crashed, state: WatcherStates([watcher]), sequencer: true).recover()
        let recovered = Dictionary(uniqueKeysWithValues: try crashed.receipts().map { ($0.txHash, $0) })
        for s in openAtStop {
            let r = try #require(recovered[s.txHash], "no receipt journaled at a start for \(s.txHash), included without one")
            #expect(r == receipts[s.txHash], "\(r) against \(String(describing: receipts[s.txHash]))")
        }
    }
}
