import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import EthClient
import EVMSigning
import Execution
import Foundation
import JSONRPC
import LabKit
import MarketState
import Logging
import Opportunities
import SolanaClient
import SolanaExecution
import SolanaPrimitives
import Synchronization
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
        let cluster = try await SolanaStandIn(slotMillis: slotMillis, fund: [wallet.publicKey.base58: 20_000_000_000],
                                              tokens: [wallet.publicKey.base58: ["SOL": 40_000_000_000, "USDC": 50_000_000_000]])
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

    /// A trade bought on the stand-in's one WETH pool with 4,000 USDC (its output by the constant
    /// product on the pool's vaults as read now) and sold on chain 900001: its opportunity for a
    /// given detected output, the output, and the EVM address it is sent to.
    func bridgedBuy(_ w: World) async throws -> (opportunity: (UInt64) async throws -> Opportunity, bought: UInt64, recipient: Address, usdc: PublicKey,
                                                  weth: PublicKey) {
        let mint = { (s: String) in try PublicKey(base58: try #require(w.cluster.market["mints"]?[s]?["mint"]?.stringValue)) }
        let usdc = try mint("USDC"), weth = try mint("WETH")
        let pool = try #require(w.cluster.market["pools"]?.arrayValue?.first { $0["mintA"]?.stringValue == weth.base58 })
        // What the pool pays for 4,000 USDC, by the constant product on its vaults as read now.
        let reserve = { (k: String) in try #require(try await w.rpc.account(try PublicKey(base58: pool[k]?.stringValue ?? ""))?.tokenAccount?.amount) }
        let (wethReserve, usdcReserve) = (try await reserve("vaultA"), try await reserve("vaultB"))
        guard case .number(let f)? = pool["feeBps"], let fee = UInt64(f) else { throw CancellationError() }
        let amountIn: UInt64 = 4_000_000_000
        let net = UInt256(amountIn) * UInt256(10_000 - fee)
        let bought = (net * UInt256(wethReserve) / (UInt256(usdcReserve) * UInt256(10_000) + net)).w0
        let recipient = try Address(hex: "0x66c933da617c9368c36540c58d504c7e4138c3e5")
        func opportunity(_ amountOut: UInt64) async throws -> Opportunity {
            let legs = [Opportunity.Solana.Leg(pool: Base58.decode(pool["pool"]!.stringValue!)!, mintIn: usdc.bytes, mintOut: weth.bytes, amountOut: amountOut)]
            let sale = Opportunity.Hop(chainID: 900_001, pool: recipient, tokenIn: recipient, tokenOut: recipient, venue: 0, amountOut: UInt256(amountIn + 1))
            let slot = try await w.rpc.slot()
            return Opportunity(id: Opportunity.makeID(slot: slot, legs: legs, amountIn: amountIn), kind: .crossChain, chains: [Self.chainID, 900_001],
                               path: [sale], amountIn: UInt256(amountIn), grossProfit: Int256(1), netProfit: Int256(1), grossProfitMicroUSD: 0,
                               netProfitMicroUSD: 0, gasUnits: 0, gasCostWei: .zero, flashSource: .none, blockNumber: slot, timestamps: .init(),
                               expiresAt: UInt64.max, confidence: 1, solana: .init(legs: legs))
        }
        return (opportunity, bought, recipient, usdc, weth)
    }

    /// Leg one of a trade bought on Solana and sold on an EVM chain: USDC → Ether (Wormhole) on the
    /// stand-in's one WETH pool and the token bridge's transfer of what detection sized the sale on,
    /// in one transaction. The bridge posts one message for it (its sequence read back from the
    /// landed transaction's logs), to the EVM executor's address; exactly the input is spent, and
    /// the lamports it cost are what the simulation said. A buy that no longer fetches the detected
    /// amount is refused with nothing sent, and without a bridge configured nothing is tried.
    @Test func aBuyOnSolanaIsSentAcrossTheTokenBridgeInTheSameTransaction() async throws {
        let program = { (w: World) in try PublicKey(base58: try #require(w.cluster.market["bridge"]?["program"]?.stringValue)) }
        let bare = try await world()
        defer { bare.cluster.stop() }
        let w = try await world { c in c.bridge = try? TokenBridgeProgram(program: program(bare)) }
        defer { w.cluster.stop() }
        let (opportunity, bought, recipient, usdc, weth) = try await bridgedBuy(w)
        let amountIn: UInt64 = 4_000_000_000
        // Nothing tried without a bridge program.
        let refused = await bare.executor.buyAndBridge(try await opportunity(bought), toChain: 900_001, recipient: recipient, whenSigned: { _ in })
        #expect(refused.failureReason == "noBridge")
        // More than the pool gives: refused, nothing sent or posted.
        let moved = await w.executor.buyAndBridge(try await opportunity(bought + 1), toChain: 900_001, recipient: recipient, whenSigned: { _ in })
        #expect(moved.failureReason == "moved", "\(moved)")
        #expect(try await w.cluster.control("standin_bridgeMessages", [.number("0")])["result"]?.arrayValue?.isEmpty == true)
        let holder = try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: usdc)
        let before = try await w.rpc.accounts([wallet.publicKey, holder])
        let signed = Mutex<String?>(nil)
        let sent = try await w.executor.buyAndBridge(try await opportunity(bought), toChain: 900_001, recipient: recipient,
                                                     whenSigned: { tx in signed.withLock { $0 = tx } }).get()
        let after = try await w.rpc.accounts([wallet.publicKey, holder])
        #expect(sent.bought == UInt256(bought) && sent.deposit == UInt256(1) && signed.withLock { $0 } == sent.transaction)
        let messages = try #require(try await w.cluster.control("standin_bridgeMessages", [.number("0")])["result"]?.arrayValue)
        #expect(messages.count == 1)
        let m = try #require(messages.first)
        #expect(m["amount"] == .number(String(bought)) && m["targetChain"] == .number("900001") && m["mint"]?.stringValue == weth.base58)
        #expect(m["recipient"]?.stringValue == "0x" + String(repeating: "00", count: 12) + Hex.encode(recipient.bytes).dropFirst(2))
        #expect(m["signature"]?.stringValue == sent.transaction && m["sequence"] == .number("1"))
        #expect(try #require(before[1]?.tokenAccount).amount - (try #require(after[1]?.tokenAccount).amount) == amountIn)
        // Its cost in lamports, as simulated and as landed, is the wallet's; it is no round trip.
        let landed = try #require(await w.executor.bridged.first)
        let lamports = Int64(try #require(after[0]).lamports) - Int64(try #require(before[0]).lamports)
        let roundTrips = await w.executor.trades
        #expect(landed.realized == landed.expected && landed.realized == lamports && lamports < 0 && roundTrips.isEmpty, "\(landed)")
        #expect(await w.executor.bridgedFate(sent.transaction) == .landed(sequence: UInt256(1), slot: sent.slot))
        #expect(try w.journal.solanaTrade(sent.transaction)?.status == .landed)
    }

    /// A buy-and-bridge whose transaction is still unseen when the Solana executor stops following
    /// it: the cross-chain executor has journaled the transfer `sending` with its signature before
    /// it was sent, follows it from the Solana journal until it lands, and records it in flight
    /// under its message's sequence; stopped before that, a new executor on the same journal
    /// resumes it and does the same. (The destination is a bare devnet: the transfer then waits for
    /// its fill there, which is the EVM side's business.)
    @Test func aBuyAndBridgeInDoubtIsFollowedToItsMessageAlsoAfterARestart() async throws {
        let program = { (w: World) in try PublicKey(base58: try #require(w.cluster.market["bridge"]?["program"]?.stringValue)) }
        // Slots of 2 s, followed for no time: each buy-and-bridge is left pending.
        let probe = try await world()
        let bridgeProgram = try TokenBridgeProgram(program: program(probe))
        probe.cluster.stop()
        let w = try await world(slotMillis: 2_000) { c in
            c.bridge = bridgeProgram
            c.maxWait = .milliseconds(1)
        }
        defer { w.cluster.stop() }
        let (opportunity, bought, recipient, _, _) = try await bridgedBuy(w)
        // A bare devnet as the destination: it answers for the leg's nonces, and no fill ever comes.
        let chain = try await Devnet(chainId: 900_001, lab: false)
        defer { chain.stop() }
        let rpc = RPCClient(HTTPTransport(url: chain.http.absoluteString))
        let leg = CrossChainLeg(chainID: 900_001, eth: EthClient(rpc), route: .privateRPC(rpc), key: try PrivateKey(hex: "0x" + String(repeating: "5c", count: 32)),
                                executor: recipient, bridge: recipient)
        struct NoState: ChainStateSource { func state(chain: UInt64) -> ChainState? { nil } }
        var c = CrossChainExecutor.Configuration()
        c.poll = .milliseconds(100)
        let first = CrossChainExecutor(configuration: c, legs: [leg], origins: [w.executor], state: NoState(), journal: w.journal, logger: Logger(label: "test.cross"))
        let o = try await opportunity(bought)
        // Sent and left pending by the Solana side: accepted, journaled `sending` with its signature.
        try await first.execute(o).get()
        let sending = try #require(try w.journal.transfers(open: true).first)
        #expect(sending.status == .sending && !sending.depositTx.isEmpty && sending.bought == UInt256(bought))
        #expect(try w.journal.solanaTrade(sending.depositTx)?.status == .pending)
        // Stopped at once: the record stays open, `sending`.
        await first.stop(reason: "a test restart")
        #expect(try w.journal.transfers(open: true).first?.status == .sending)
        // A new executor on the same journal resumes it and follows it to its message.
        let second = CrossChainExecutor(configuration: c, legs: [leg], origins: [w.executor], state: NoState(), journal: w.journal, logger: Logger(label: "test.cross"))
        #expect(try await second.recover() == 1)
        let deadline = ContinuousClock.now + .seconds(120)
        while try w.journal.transfers(open: true).first?.status == .sending, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let inFlight = try #require(try w.journal.transfers(open: true).first)
        #expect(inFlight.status == .inFlight && inFlight.depositID == UInt256(1) && inFlight.depositTx == sending.depositTx, "\(inFlight)")
        let message = try #require(try await w.cluster.control("standin_bridgeMessages", [.number("0")])["result"]?.arrayValue?.first)
        #expect(message["signature"]?.stringValue == sending.depositTx && message["amount"] == .number(String(bought)))
        await second.stop(reason: "the test ends")
        // Signed but never journaled (a stop between the two): it never left, nothing moved.
        guard case .never = await w.executor.bridgedFate("4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T") else {
            Issue.record("a transaction never journaled is not one that can still land")
            return
        }
    }

    /// A world whose executor sends through the stand-in's token bridge (its program read from a
    /// first stand-in's manifest: it is the same on every one).
    func bridgedWorld() async throws -> (World, TokenBridgeProgram) {
        let probe = try await world()
        defer { probe.cluster.stop() }
        let bridge = try TokenBridgeProgram(program: PublicKey(base58: try #require(probe.cluster.market["bridge"]?["program"]?.stringValue)))
        return (try await world { c in c.bridge = bridge }, bridge)
    }

    /// Leg two of a trade bought on an EVM chain: the transfer's claim account says when the bridge
    /// has paid (nothing before, nothing for another source chain), and the amount is what crosses
    /// at 8 decimals (Wormhole's rule, the dust left on the source). What arrived is sold through
    /// Jupiter in a Jito bundle: a price short of the minimum is refused with nothing sent; the sale
    /// fetches exactly the constant product on the pool's vaults, read back from the landed
    /// transaction as its proceeds, the wallet's tokens move by exactly that, and its lamports by
    /// exactly the simulated cost.
    @Test func whatTheBridgePaysIsFoundByItsClaimAndSoldThroughJupiter() async throws {
        let (w, bridge) = try await bridgedWorld()
        defer { w.cluster.stop() }
        let (_, _, evm, usdc, weth) = try await bridgedBuy(w)
        let sent = UInt256(150_000_000) * UInt256(10_000_000_000) + UInt256(987_654_321)  // 1.5 WETH and dust, at 18 decimals
        let arrivalNow = { (chain: UInt64) in try await w.executor.arrival(fromChain: chain, deposit: UInt256(5), sent: sent, sentDecimals: 18, asset: weth.bytes).get() }
        #expect(try await arrivalNow(900_001) == nil)
        let paid = try await w.cluster.control("standin_bridgeComplete", [.object([
            ("srcChain", .number("900001")), ("sequence", .number("5")), ("mint", .string(weth.base58)), ("owner", .string(wallet.publicKey.base58)),
            ("amount", .number("150000000")),
        ])])
        #expect(paid["result"]?["paid"] == .number("150000000"), "\(paid)")
        let (arrived, elsewhere) = (try await arrivalNow(900_001), try await arrivalNow(900_002))
        #expect(arrived == UInt256(150_000_000) && elsewhere == nil, "\(String(describing: arrived))")
        #expect(try bridge.claim(sourceChain: 900_001, sequence: 5).base58 == paid["result"]?["claim"]?.stringValue)
        // The sale's expected output: the constant product on the pool's vaults as read now.
        let pool = try #require(w.cluster.market["pools"]?.arrayValue?.first { $0["mintA"]?.stringValue == weth.base58 })
        let reserve = { (k: String) in try #require(try await w.rpc.account(try PublicKey(base58: pool[k]?.stringValue ?? ""))?.tokenAccount?.amount) }
        let (wethReserve, usdcReserve) = (try await reserve("vaultA"), try await reserve("vaultB"))
        guard case .number(let f)? = pool["feeBps"], let fee = UInt64(f) else { throw CancellationError() }
        let net = UInt256(150_000_000) * UInt256(10_000 - fee)
        let fetches = (net * UInt256(usdcReserve) / (UInt256(wethReserve) * UInt256(10_000) + net)).w0
        let legs = [Opportunity.Solana.Leg(pool: Base58.decode(pool["pool"]!.stringValue!)!, mintIn: weth.bytes, mintOut: usdc.bytes, amountOut: fetches)]
        let buy = Opportunity.Hop(chainID: 900_001, pool: evm, tokenIn: evm, tokenOut: evm, venue: 0, amountOut: sent)
        let slot = try await w.rpc.slot()
        let o = Opportunity(id: Opportunity.makeID(slot: slot, legs: legs, amountIn: 1), kind: .crossChain, chains: [900_001, Self.chainID],
                            path: [buy], amountIn: UInt256(fetches - 1), grossProfit: Int256(1), netProfit: Int256(1), grossProfitMicroUSD: 0,
                            netProfitMicroUSD: 0, gasUnits: 0, gasCostWei: .zero, flashSource: .none, blockNumber: slot, timestamps: .init(),
                            expiresAt: UInt64.max, confidence: 1, solana: .init(legs: legs))
        let short = await w.executor.sellArrived(o, amount: UInt256(150_000_000), minimum: UInt256(fetches + 1), whenSigned: { _ in })
        #expect(short.failureReason == "moved", "\(short)")
        let accounts = [wallet.publicKey, try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: usdc),
                        try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: weth)]
        let before = try await w.rpc.accounts(accounts)
        let signed = Mutex<String?>(nil)
        // Not a new trade: it goes also once the executor takes no new ones.
        await w.executor.stopAccepting()
        let sale = try await w.executor.sellArrived(o, amount: UInt256(150_000_000), minimum: UInt256(fetches), whenSigned: { tx in signed.withLock { $0 = tx } }).get()
        let after = try await w.rpc.accounts(accounts)
        let tokens = { (a: [SolanaAccount?], i: Int) in Int64(try #require(a[i]?.tokenAccount).amount) }
        #expect(sale.proceeds == UInt256(fetches) && signed.withLock { $0 } == sale.transaction)
        #expect(try tokens(after, 1) - tokens(before, 1) == Int64(fetches) && (try tokens(after, 2) - tokens(before, 2)) == -150_000_000)
        let landed = try #require(await w.executor.sold.first)
        let lamports = Int64(try #require(after[0]).lamports) - Int64(try #require(before[0]).lamports)
        #expect(landed.signature == sale.transaction && landed.realized == landed.expected && landed.realized == lamports && lamports < 0, "\(landed)")
        #expect(await w.executor.saleFate(sale.transaction, quote: usdc.bytes) == .sold(proceeds: UInt256(fetches)))
        let (bridged, roundTrips) = (await w.executor.bridged, await w.executor.trades)
        #expect(bridged.isEmpty && roundTrips.isEmpty)
    }

    /// A transfer that arrived on Solana and was left unsold at a stop: the cross-chain executor
    /// resumes it from the journal (no EVM leg is needed for it) and sells exactly what arrived
    /// there; a record left `arrived` with its sale already signed and landed (a crash between the
    /// sale and its record) is settled from that sale's fate, never sold twice.
    @Test func anArrivedTransferIsSoldOnSolanaAfterARestartAndNeverTwice() async throws {
        let (w, _) = try await bridgedWorld()
        defer { w.cluster.stop() }
        let (_, _, evm, usdc, weth) = try await bridgedBuy(w)
        _ = try await w.cluster.control("standin_bridgeComplete", [.object([
            ("srcChain", .number("900001")), ("sequence", .number("3")), ("mint", .string(weth.base58)), ("owner", .string(wallet.publicKey.base58)),
            ("amount", .number("80000000")),
        ])])
        let pool = try #require(w.cluster.market["pools"]?.arrayValue?.first { $0["mintA"]?.stringValue == weth.base58 })
        let legs = [Opportunity.Solana.Leg(pool: Base58.decode(pool["pool"]!.stringValue!)!, mintIn: weth.bytes, mintOut: usdc.bytes, amountOut: 1)]
        let sent = UInt256(80_000_000) * UInt256(10_000_000_000)
        let o = Opportunity(id: Opportunity.makeID(slot: 1, legs: legs, amountIn: 2), kind: .crossChain, chains: [900_001, Self.chainID],
                            path: [Opportunity.Hop(chainID: 900_001, pool: evm, tokenIn: evm, tokenOut: evm, venue: 0, amountOut: sent)],
                            amountIn: UInt256(1_000_000), grossProfit: Int256(1), netProfit: Int256(1), grossProfitMicroUSD: 0, netProfitMicroUSD: 0,
                            gasUnits: 0, gasCostWei: .zero, flashSource: .none, blockNumber: 1, timestamps: .init(), expiresAt: UInt64.max,
                            confidence: 1, solana: .init(legs: legs))
        var arrived = BridgeTransfer(opportunity: o, amountIn: UInt256(1_000_000), bought: sent, depositTx: "0x01", depositID: UInt256(3),
                                     received: UInt256(80_000_000), status: .arrived)
        try w.journal.record(transfer: arrived, at: 1)
        struct NoState: ChainStateSource { func state(chain: UInt64) -> ChainState? { nil } }
        var c = CrossChainExecutor.Configuration()
        c.poll = .milliseconds(50)
        let resume = { () async throws -> BridgeTransfer in
            let x = CrossChainExecutor(configuration: c, legs: [], destinations: [w.executor], state: NoState(), journal: w.journal, logger: Logger(label: "test.cross"))
            #expect(try await x.recover() == 1)
            let deadline = ContinuousClock.now + .seconds(60)
            while try w.journal.transfers(open: true).contains(where: { $0.opportunity.id == o.id }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            await x.stop(reason: "the test ends")
            return try #require(try w.journal.transfers(open: false).first { $0.opportunity.id == o.id })
        }
        let holder = try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: usdc)
        let before = try #require(try await w.rpc.account(holder)?.tokenAccount).amount
        let sold = try await resume()
        let after = try #require(try await w.rpc.account(holder)?.tokenAccount).amount
        #expect(sold.status == .sold && sold.proceeds == UInt256(after - before) && !sold.sellTx.isEmpty, "\(sold)")
        #expect(await w.executor.sold.map(\.signature) == [sold.sellTx])
        // Back to `arrived` with its sale signed (as if the record of the sale was lost): settled from the sale, nothing sold again.
        arrived.sellTx = sold.sellTx
        try w.journal.record(transfer: arrived, at: 2)
        let again = try await resume()
        #expect(again.status == .sold && again.proceeds == sold.proceeds && again.sellTx == sold.sellTx, "\(again)")
        let (sales, still) = (await w.executor.sold.count, try await w.rpc.account(holder)?.tokenAccount?.amount)
        #expect(sales == 1 && still == after)
    }
}

extension Result where Failure == Refusal {
    var failureReason: String? { if case .failure(let r) = self { r.reason } else { nil } }
}
