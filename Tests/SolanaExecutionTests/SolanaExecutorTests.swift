import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import JSONRPC
import LabKit
import Logging
import Opportunities
import SolanaClient
import SolanaExecution
import SolanaPrimitives
import Testing

/// The Solana strategy against the stand-ins (a ledger running the programs, Jupiter, a Jito
/// block engine): a round trip between the two SOL/USDC pools lands as a Jito bundle whose
/// realized profit (the landed transaction's balances) equals the simulated expectation and the
/// wallet's balance change; every fault is a journaled refusal that loses nothing.
@Suite(.serialized) struct SolanaExecutorTests {
    static let chainID: UInt64 = 101
    let wallet = try! Keypair(seed: Array(repeating: 21, count: 32))

    struct World {
        let cluster: SolanaStandIn
        let rpc: SolanaRPC
        let sol: PublicKey
        let journal: Journal
        let executor: SolanaExecutor
        let jupiter: JupiterClient
    }

    func world(slotMillis: Int = 200, jupiterBurst: Double = 20, _ configure: (inout SolanaExecutor.Configuration) -> Void = { _ in }) async throws -> World {
        let cluster = try await SolanaStandIn(slotMillis: slotMillis, fund: [wallet.publicKey.base58: 20_000_000_000], tokens: [wallet.publicKey.base58: ["SOL": 40_000_000_000]])
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let sol = try PublicKey(base58: try #require(cluster.market["mints"]?["SOL"]?["mint"]?.stringValue))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("solana-\(UUID().uuidString).sqlite").path
        let journal = try Journal(path: path)
        var c = SolanaExecutor.Configuration()
        c.poll = .milliseconds(50)
        configure(&c)
        let jupiter = JupiterClient(base: cluster.jupiter, perSecond: 50, burst: jupiterBurst)
        let executor = SolanaExecutor(configuration: c, chainID: Self.chainID, wallet: wallet, rpc: rpc, jupiter: jupiter,
                                      jito: JitoClient(engine: cluster.engine), journal: journal, logger: Logger(label: "test.solana"))
        return World(cluster: cluster, rpc: rpc, sol: sol, journal: journal, executor: executor, jupiter: jupiter)
    }

    /// SOL → USDC on the pool paying most, USDC → SOL on the other, sized `amount`, with each
    /// leg's output by the constant-product formula on the pools' vaults as read now.
    func roundTrip(_ w: World, amount: UInt64, skew: Int64 = 0) async throws -> Opportunity {
        // The constant-product ones (Raydium's, and the Whirlpool with one full-range position).
        let pools = try #require(w.cluster.market["pools"]?.arrayValue).filter {
            $0["mintA"]?.stringValue == w.sol.base58 && $0["mintB"]?.stringValue == (w.cluster.market["mints"]?["USDC"]?["mint"]?.stringValue)
                && ["raydium", "whirlpool"].contains($0["venue"]?.stringValue ?? "")
        }
        var quoted: [(pool: JSONValue, solReserve: UInt64, usdcReserve: UInt64, fee: UInt64)] = []
        for p in pools {
            let va = try PublicKey(base58: p["vaultA"]?.stringValue ?? ""), vb = try PublicKey(base58: p["vaultB"]?.stringValue ?? "")
            let a = try #require(try await w.rpc.account(va)?.tokenAccount?.amount)
            let b = try #require(try await w.rpc.account(vb)?.tokenAccount?.amount)
            guard case .number(let f)? = p["feeBps"] else { throw CancellationError() }
            quoted.append((p, a, b, UInt64(f)!))
        }
        func out(_ x: UInt64, _ rin: UInt64, _ rout: UInt64, _ fee: UInt64) -> UInt64 {
            let net = x.multipliedFullWidth(by: 10_000 - fee)
            let n = UInt256(net.low) | (UInt256(net.high) << 64)
            return ((n * UInt256(rout)) / (UInt256(rin) * UInt256(10_000) + n)).w0
        }
        let sell = quoted.max { out(amount, $0.solReserve, $0.usdcReserve, $0.fee) < out(amount, $1.solReserve, $1.usdcReserve, $1.fee) }!
        let usdc = out(amount, sell.solReserve, sell.usdcReserve, sell.fee)
        let buy = quoted.max { out(usdc, $0.usdcReserve, $0.solReserve, $0.fee) < out(usdc, $1.usdcReserve, $1.solReserve, $1.fee) }!
        let back = out(usdc, buy.usdcReserve, buy.solReserve, buy.fee)
        let usdcMint = try #require(Base58.decode(w.cluster.market["mints"]?["USDC"]?["mint"]?.stringValue ?? ""))
        let legs = [Opportunity.Solana.Leg(pool: Base58.decode(sell.pool["pool"]!.stringValue!)!, mintIn: w.sol.bytes, mintOut: usdcMint, amountOut: usdc),
                    Opportunity.Solana.Leg(pool: Base58.decode(buy.pool["pool"]!.stringValue!)!, mintIn: usdcMint, mintOut: w.sol.bytes,
                                           amountOut: UInt64(Int64(back) + skew))]
        let slot = try await w.rpc.slot()
        return Opportunity(id: Opportunity.makeID(slot: slot, legs: legs, amountIn: amount), kind: .solana, chains: [Self.chainID], path: [],
                           amountIn: UInt256(amount), grossProfit: Int256(Int64(back) - Int64(amount)), netProfit: Int256(Int64(back) - Int64(amount)),
                           grossProfitMicroUSD: 0, netProfitMicroUSD: 0, gasUnits: 0, gasCostWei: .zero, flashSource: .none, blockNumber: slot,
                           timestamps: .init(), expiresAt: UInt64.max, confidence: 1, solana: .init(legs: legs))
    }

    func holdings(_ w: World) async throws -> Int64 {
        let ata = try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: w.sol)
        let accounts = try await w.rpc.accounts([wallet.publicKey, ata])
        return Int64(try #require(accounts[0]).lamports) + Int64(try #require(accounts[1]?.tokenAccount).amount)
    }

    @Test func aRoundTripLandsAsAJitoBundleRealizingExactlyTheExpectedProfit() async throws {
        let w = try await world()
        defer { w.cluster.stop() }
        let o = try await roundTrip(w, amount: 20_000_000_000)
        #expect(o.grossProfit > .zero)
        // Jupiter routes each leg where it pays most (the Phoenix book among the venues): the
        // round trip as it quotes it now, the pools standing still until the bundle lands.
        let usdc = try PublicKey(bytes: o.solana!.legs[0].mintOut)
        let there = try await w.jupiter.quote(input: w.sol, output: usdc, amount: 20_000_000_000, slippageBps: 50)
        let back = try await w.jupiter.quote(input: usdc, output: w.sol, amount: there.outAmount, slippageBps: 50)
        let before = try await holdings(w)
        let trade = try await w.executor.execute(o).get()
        let after = try await holdings(w)
        #expect(trade.realized == trade.expected && trade.realized == after - before, "realized \(trade.realized), expected \(trade.expected), balances \(after - before)")
        #expect(trade.realized > 0 && !trade.bundle.isEmpty && trade.tip >= 1_000)
        // Exactly Jupiter's round trip less the transaction's fee and the tip.
        #expect(trade.realized == Int64(back.outAmount) - 20_000_000_000 - Int64(trade.fee) - Int64(trade.tip), "\(trade)")
        let journaled = try #require(try w.journal.solanaTrades().first)
        #expect(journaled.status == .landed && journaled.realized == trade.realized && journaled.mode == "jito" && journaled.signature == trade.signature)
        #expect(try w.journal.solanaTrades(open: true).isEmpty)
    }

    /// A round trip of two legs needs five Jupiter calls (a quote and instructions a leg, a
    /// protecting quote): with four left in the plan's window it is refused before any is spent.
    @Test func aTradeThePlansWindowCannotFinishIsRefusedBeforeAnyCall() async throws {
        let w = try await world(jupiterBurst: 4)
        defer { w.cluster.stop() }
        let r = await w.executor.execute(try await roundTrip(w, amount: 20_000_000_000))
        #expect(r.failureReason == "rateLimited" && "\(r)".contains("needs 5"), "\(r)")
        #expect(await w.jupiter.calls == 0)
        #expect(try w.journal.solanaTrades().isEmpty)
    }

    @Test func refusalsAndFaultsAreJournaledAndLoseNothing() async throws {
        let w = try await world { $0.maxWait = .seconds(20) }
        defer { w.cluster.stop() }
        #expect(await w.executor.start() == 0)  // the tip accounts read once
        let start = try await holdings(w)
        // Detection's expectation 5 % off the fresh quote: refused before anything is built.
        let skewed = try await roundTrip(w, amount: 20_000_000_000, skew: 1_000_000_000)
        #expect(await w.executor.execute(skewed).failureReason == "quoteDeviation")
        // The block engine answers 429: refused, nothing sent.
        try await w.cluster.control("standin_fault", [.object([("bundleRateLimit", .number("1"))])])
        #expect(await w.executor.execute(try await roundTrip(w, amount: 20_000_000_000)).failureReason == "rateLimited")
        // The engine drops the bundle: followed until its blockhash expires, then dropped.
        try await w.cluster.control("standin_fault", [.object([("dropBundles", .number("1"))])])
        let stepper = Task {
            // Once the engine has taken the bundle (journaled open with its id), the cluster
            // moves past the blockhash's last valid height.
            let deadline = ContinuousClock.now + .seconds(15)
            while try !w.journal.solanaTrades(open: true).contains(where: { !$0.bundle.isEmpty }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await w.cluster.control("standin_step", [.number("170")])
        }
        // (Another size than the refused one: the same trade in the same slot would be the same
        // signed transaction, journaled once.)
        #expect(await w.executor.execute(try await roundTrip(w, amount: 19_000_000_000)).failureReason == "expired")
        _ = try await stepper.value
        #expect(try await holdings(w) == start)  // nothing landed, nothing paid
        let trades = try w.journal.solanaTrades()
        #expect(trades.map(\.status) == [.dropped, .dropped] && trades.allSatisfy { $0.realized == nil }, "\(trades.map { ($0.status, $0.detail) })")
        // A lagging node hands out a blockhash the cluster no longer takes: the simulation says so, nothing is sent.
        try await w.cluster.control("standin_fault", [.object([("staleBlockhash", .number("1"))])])
        let stale = await w.executor.execute(try await roundTrip(w, amount: 20_000_000_000))
        #expect(stale.failureReason == "failed" && "\(stale)".contains("BlockhashNotFound"), "\(stale)")
        // The engine is down: the same transaction goes as a plain one, and lands.
        try await w.cluster.control("standin_fault", [.object([("engineDown", .bool(true))])])
        let viaRPC = try await w.executor.execute(try await roundTrip(w, amount: 10_000_000_000)).get()
        #expect(viaRPC.bundle.isEmpty && viaRPC.realized == viaRPC.expected)
        #expect(try await holdings(w) - start == viaRPC.realized)
        #expect(try w.journal.solanaTrades().last?.mode == "rpc")
        let refused = await w.executor.refusals
        #expect(refused.isEmpty)  // execute() returns refusals; submit() counts them
    }

    @Test func theTipIsAtLeastTheTipFloorAndAnExpiredQuoteIsQuotedAgain() async throws {
        var w: World! = nil
        w = try await world { _ in }
        defer { w.cluster.stop() }
        let floored = SolanaExecutor(configuration: { var c = SolanaExecutor.Configuration(); c.tipFloorURL = w.cluster.engine + "/api/v1/bundles/tip_floor"
                                                      c.tipBps = 0; c.poll = .milliseconds(50); return c }(),
                                     chainID: Self.chainID, wallet: wallet, rpc: w.rpc, jupiter: JupiterClient(base: w.cluster.jupiter, perSecond: 50, burst: 20),
                                     jito: JitoClient(engine: w.cluster.engine), journal: w.journal, logger: Logger(label: "test.solana"))
        // No bundle has landed yet: the floor is Jito's minimum.
        let first = try await floored.execute(try await roundTrip(w, amount: 10_000_000_000)).get()
        #expect(first.tip == 1_000 && first.realized == first.expected)
        // The next quote's instructions are refused as expired once: quoted again, it lands.
        try await w.cluster.control("standin_fault", [.object([("expireQuotes", .number("1"))])])
        let second = try await w.executor.execute(try await roundTrip(w, amount: 10_000_000_000)).get()
        #expect(second.realized == second.expected)
        #expect(try w.journal.solanaTrades().filter { $0.status == .landed }.count == 2)
    }

    /// Every bundle carries its own guard: the last leg's minimum out covers what went in, the tip
    /// and the most the fee can be. A round trip whose quote cannot cover them (here a tip floor
    /// of 2 SOL on a trade grossing far less) is refused before anything is signed.
    @Test func aRoundTripTheLastLegCannotProtectIsRefused() async throws {
        let w = try await world { $0.minTip = 2_000_000_000; $0.maxTip = 2_000_000_000 }
        defer { w.cluster.stop() }
        let start = try await holdings(w)
        let refused = await w.executor.execute(try await roundTrip(w, amount: 10_000_000_000))
        #expect(refused.failureReason == "unprotected", "\(refused)")
        #expect(try w.journal.solanaTrades().isEmpty)
        #expect(try await holdings(w) == start)
    }

    @Test func aTradeLeftPendingAtAStopIsSettledAtTheNextStart() async throws {
        // Slots of 3 s: the bundle lands at the next one, long after the executor stopped following it.
        let w = try await world(slotMillis: 3_000) { $0.maxWait = .milliseconds(1) }
        defer { w.cluster.stop() }
        let o = try await roundTrip(w, amount: 10_000_000_000)
        // Followed for no time at all: it is left pending, journaled.
        let left = await w.executor.execute(o)
        #expect(left.failureReason == "pending", "\(left)")
        #expect(try w.journal.solanaTrades(open: true).count == 1)
        try await Task.sleep(for: .milliseconds(7_500))  // landed at the next slot, confirmed one later
        let next = SolanaExecutor(configuration: .init(), chainID: Self.chainID, wallet: wallet, rpc: w.rpc, jupiter: JupiterClient(base: w.cluster.jupiter),
                                  jito: JitoClient(engine: w.cluster.engine), journal: w.journal, logger: Logger(label: "test.solana"))
        #expect(await next.recover() == 0)
        let settled = try #require(try w.journal.solanaTrades().first)
        #expect(settled.status == .landed && settled.realized == settled.expected)
    }
}

extension Result where Failure == Refusal {
    var failureReason: String? { if case .failure(let r) = self { r.reason } else { nil } }
}
