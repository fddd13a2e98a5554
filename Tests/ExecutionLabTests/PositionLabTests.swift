import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import EVMSigning
import Execution
import Foundation
import JSONRPC
import MarketWatch
import Opportunities
import Pipeline
import Testing

/// Statistical positions on a devnet with the real SushiSwap V2 bytecode: one opened and closed
/// on reversion across a restart, one closed at its stop; each realizes exactly the executor's
/// balance change over its two swaps, to the wei.
extension ExecutionLabTests {
    @Test func positionsOpenCloseOnReversionOrStopAndSurviveARestart() async throws {
        let b = try await Chain(10)
        var tasks: [Task<Void, any Error>] = [Task { try await b.watcher.run() }]
        defer {
            for t in tasks { t.cancel() }
            b.devnet.stop()
        }
        let key = try PrivateKey(hex: try #require(b.manifest["crossChainKey"]?.stringValue))  // authorised and funded by the lab
        let executor = try b.address("executors", "crossChain")  // holds 1,000,000 USDC of own capital
        let weth = try #require(b.tokens["WETH"]), usdc = try #require(b.tokens["USDC"])
        let pool = try b.address("dexes", "sushiswap", "pools", "WETH/USDC")
        let router = try b.address("dexes", "sushiswap", "router")
        let trader = try #require(b.manifest["keys"]?["trader"]?.stringValue)
        let states = WatcherStates([b.watcher])
        try await LabWorld.wait("the watcher's state", seconds: 120) { b.watcher.latest != nil }
        let account = OwnCapitalAccount(chainID: 10, eth: b.eth, route: .privateRPC(b.rpc), key: key, executor: executor)
        let (journal, _) = try LabWorld.journal()
        var configuration = PositionExecutor.Configuration()
        configuration.legs.poll = .milliseconds(100)
        configuration.limits.maxPerPosition[usdc] = UInt256(5_000_000_000)  // 5,000 USDC
        let buy = [Opportunity.Hop(chainID: 10, pool: pool, tokenIn: usdc, tokenOut: weth, venue: 0, amountOut: .zero)]
        let sell = [Opportunity.Hop(chainID: 10, pool: pool, tokenIn: weth, tokenOut: usdc, venue: 0, amountOut: .zero)]
        func entry(_ id: UInt8, pair: Int) async throws -> PositionBook.Entry {
            // Long WETH against USDC (WETH cheap): sell USDC for WETH; sized above the cap, which applies.
            .init(id: [id] + Array(repeating: 0, count: 15), chainID: 10, pair: pair, tokenA: weth, tokenB: usdc, longA: true, z: -2.4, hedgeRatio: 1,
                  confidence: 0.6, block: try await b.eth.blockNumber(), amount: UInt256(9_000_000_000))
        }
        /// The trader swaps `amount` of `token` through the router; returns once our state has that block.
        func market(sell token: Address, _ amount: UInt256) async throws {
            let other = token == usdc ? weth : usdc
            try await b.send(from: trader, to: router, "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
                             [.uint(amount), .uint(.zero), .array([.address(token), .address(other)]), .address(try Address(hex: trader)), .uint(UInt256(UInt64.max))])
            let head = try await b.eth.blockNumber()
            try await LabWorld.wait("the swap mined and in our state", seconds: 60) {
                guard let latest = try? await b.eth.blockNumber(), latest > head else { return false }
                return (states.state(chain: 10)?.block ?? 0) >= latest
            }
        }
        func usdcDelta(_ p: StatPosition) async throws -> Int256 {
            let opened = try await b.receiptBlock(p.openTx), closed = try await b.receiptBlock(p.closeTx)
            return Int256(bitPattern: try await b.balance(usdc, of: executor, at: closed)) &- Int256(bitPattern: try await b.balance(usdc, of: executor, at: opened - 1))
        }

        // A trade of another executor of ours (sharing the claims) on its way through the pool: the
        // swap waits its turn (refused, nothing sent); the pool given back, the position opens.
        let claims = PoolClaims()
        let first = PositionExecutor(configuration: configuration, accounts: [account], state: states, journal: journal, logger: LabWorld.logger,
                                     claims: claims)
        #expect(claims.claim([pool], chain: 10))
        #expect(await first.open(try await entry(8, pair: 4), path: buy).failureReason == "poolBusy")
        #expect(try journal.positions(open: true).isEmpty)
        claims.release([pool], chain: 10)
        // Opened on a stretched spread: 5,000 USDC (the cap) for what our state quotes in WETH.
        let opened = try await first.open(try await entry(1, pair: 0), path: buy).get()
        #expect(opened.status == .open && opened.amountSold == UInt256(5_000_000_000) && (opened.amountBought ?? .zero) > .zero)
        #expect(claims.count == 0)  // given back once the swap settled
        #expect(try journal.positions(open: true) == [opened])
        // The same pair again is refused while it is open.
        #expect(await first.open(try await entry(2, pair: 0), path: buy).failureReason == "pairOpen")

        // WETH rises against USDC (the spread reverts); a restart in between.
        try await market(sell: usdc, UInt256(100_000_000_000))
        let second = PositionExecutor(configuration: configuration, accounts: [account], state: states, journal: journal, logger: LabWorld.logger)
        #expect(try await second.recover() == 1)
        #expect(await second.review(chainID: 10, pair: 0, z: -1.0, block: try await b.eth.blockNumber(), back: sell).isEmpty)  // not yet
        let reverted = try #require(await second.review(chainID: 10, pair: 0, z: 0.2, block: try await b.eth.blockNumber(), back: sell).first)
        #expect(reverted.status == .closed && reverted.closeReason == .reverted)
        let gain = try #require(reverted.realized)
        let gainDelta = try await usdcDelta(reverted)
        #expect(gain > .zero && gain == gainDelta, "realized \(gain), balance change \(gainDelta)")

        // A second position, and WETH falls on: closed at the stop, at a loss that is exactly the balance change.
        let another = try await second.open(try await entry(3, pair: 1), path: buy).get()
        try await market(sell: weth, UInt256(60) * UInt256(1_000_000_000_000_000_000))
        let stopped = try #require(await second.review(chainID: 10, pair: 1, z: -4.3, block: try await b.eth.blockNumber(), back: sell).first)
        #expect(stopped.id == another.id && stopped.closeReason == .stopLoss && stopped.status == .closed)
        let loss = try #require(stopped.realized)
        let lossDelta = try await usdcDelta(stopped)
        #expect(loss < .zero && loss == lossDelta, "realized \(loss), balance change \(lossDelta)")
        #expect(try journal.positions(open: true).isEmpty && (try journal.positions().filter { $0.status == .closed }.count) == 2)

        // Swaps a stop left in doubt, settled at the next start: an opening whose transaction
        // the chain never saw failed; a closing never sent is open again; one that landed is closed.
        var lost = StatPosition(id: [9] + Array(repeating: 0, count: 15), chainID: 10, pair: 5, tokenA: weth, tokenB: usdc, longA: true,
                                amountSold: UInt256(1), entryZ: -2.1, hedgeRatio: 1, openedBlock: 1, status: .opening)
        lost.openTx = "0x" + String(repeating: "ab", count: 32)
        var unsent = another
        (unsent.id, unsent.pair, unsent.status, unsent.closeTx, unsent.proceeds) = ([10] + Array(repeating: 0, count: 15), 6, .closing, "", nil)
        var landed = stopped
        (landed.id, landed.pair, landed.status, landed.proceeds) = ([11] + Array(repeating: 0, count: 15), 7, .closing, nil)
        for p in [lost, unsent, landed] { try journal.record(position: p, at: WallClock.nanoseconds()) }
        let third = PositionExecutor(configuration: configuration, accounts: [account], state: states, journal: journal, logger: LabWorld.logger)
        #expect(try await third.recover() == 1)
        let settled = Dictionary(uniqueKeysWithValues: try journal.positions().map { ($0.pair, $0) })
        #expect(settled[5]?.status == .failed && settled[6]?.status == .open)
        #expect(settled[7]?.status == .closed && settled[7]?.proceeds == stopped.proceeds)
        tasks.removeAll()
    }
}

/// A leg whose fate cannot be read (every receipt and nonce read fails, as when every provider
/// cools down at a stop) is in doubt, never "not included": its nonce stays taken, no second
/// swap goes out, and the next start finds it landed.
extension ExecutionLabTests {
    @Test func aBundledLegWhoseReadsFailStaysInDoubtWithItsNonceTaken() async throws {
        let b = try await Chain(10)
        var tasks: [Task<Void, any Error>] = [Task { try await b.watcher.run() }]
        defer {
            for t in tasks { t.cancel() }
            b.devnet.stop()
        }
        let key = try PrivateKey(hex: try #require(b.manifest["crossChainKey"]?.stringValue))
        let executor = try b.address("executors", "crossChain")
        let weth = try #require(b.tokens["WETH"]), usdc = try #require(b.tokens["USDC"])
        let pool = try b.address("dexes", "sushiswap", "pools", "WETH/USDC")
        let states = WatcherStates([b.watcher])
        try await LabWorld.wait("the watcher's state", seconds: 120) { b.watcher.latest != nil }
        let relay = RPCClient(FlashbotsSigner(key: try PrivateKey(hex: "0x" + String(repeating: "42", count: 32))).transport(relay: b.devnet.http.absoluteString + "relay"))
        let account = OwnCapitalAccount(chainID: 10, eth: b.eth, route: .flashbots(relay: relay), key: key, executor: executor)
        let (journal, _) = try LabWorld.journal()
        var configuration = PositionExecutor.Configuration()
        configuration.legs.poll = .milliseconds(100)
        configuration.legs.maxReceiptWait = .seconds(6)
        configuration.limits.maxPerPosition[usdc] = UInt256(5_000_000_000)
        let buy = [Opportunity.Hop(chainID: 10, pool: pool, tokenIn: usdc, tokenOut: weth, venue: 0, amountOut: .zero)]
        let entry = PositionBook.Entry(id: [0x5d] + Array(repeating: 0, count: 15), chainID: 10, pair: 0, tokenA: weth, tokenB: usdc, longA: true, z: -2.4,
                                       hedgeRatio: 1, confidence: 0.6, block: try await b.eth.blockNumber(), amount: UInt256(5_000_000_000))
        let first = PositionExecutor(configuration: configuration, accounts: [account], state: states, journal: journal, logger: LabWorld.logger)
        #expect(try await first.recover() == 0)
        let before = try await b.eth.transactionCount(of: key.address, at: .latest)

        let blind = [JSONValue.string("eth_getTransactionReceipt"), .string("eth_getTransactionCount")]
        _ = try await b.devnet.call("devnet_failMethods", [.array(blind)])
        let result = await first.open(entry, path: buy)
        _ = try await b.devnet.call("devnet_failMethods", [.array([])])
        #expect(result.failureReason == "pending", "\(result)")
        let sent = try journal.allSubmissions().filter { $0.strategy == "statistical" }
        #expect(sent.count == 1, "one swap signed, no retry on a nonce it gave up: \(sent)")
        #expect(sent.first?.status == .submitted && sent.first?.nonce == before)
        #expect(try journal.positions(open: true).first?.status == .opening)
        // It landed (the bundle's block): the chain counts exactly one more transaction.
        #expect(try await b.eth.transactionCount(of: key.address, at: .latest) == before + 1)
        let second = PositionExecutor(configuration: configuration, accounts: [account], state: states, journal: journal, logger: LabWorld.logger)
        #expect(try await second.recover() == 1)
        let settled = try #require(try journal.positions(open: true).first)
        #expect(settled.status == .open && (settled.amountBought ?? .zero) > .zero)
        tasks.removeAll()
    }
}

extension Result where Failure == Refusal {
    var failureReason: String? { if case .failure(let r) = self { r.reason } else { nil } }
}
