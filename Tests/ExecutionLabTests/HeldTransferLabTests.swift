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

/// An arrived asset whose sale cannot be made is not resimulated forever: after
/// `maxSaleAttempts` the transfer is `held`, journaled with the quote it got, and the executor
/// stops working on it; the next start (`recover`) tries again and sells it once it can.
extension ExecutionLabTests {
    @Test func anArrivedAssetThatCannotBeSoldIsHeldAndSoldAtTheNextStart() async throws {
        let b = try await Chain(10)
        var tasks: [Task<Void, any Error>] = [Task { try await b.watcher.run() }]
        defer {
            for t in tasks { t.cancel() }
            b.devnet.stop()
        }
        let key = try PrivateKey(hex: try #require(b.manifest["crossChainKey"]?.stringValue))  // authorised and funded by the lab
        let executor = try b.address("executors", "crossChain")
        let weth = try #require(b.tokens["WETH"]), usdc = try #require(b.tokens["USDC"])
        let pools = try #require(b.manifest["dexes"]?["sushiswap"]?["pools"])
        let pool = try Address(hex: try #require((pools["WETH/USDC"] ?? pools["USDC/WETH"])?.stringValue))
        try await LabWorld.wait("the watcher's state", seconds: 120) { b.watcher.latest != nil }

        // The record the bridge leaves: 1 WETH arrived in our executor on chain 10 for a trade that
        // spent 1 USDC unit on chain 1 (any price clears that minimum). But the WETH is not there
        // (the fill went astray): every sale simulation reverts.
        let received = UInt256(1_000_000_000_000_000_000)
        let other = try Address(hex: "0x00000000000000000000000000000000000000c3")
        let o = Opportunity(id: [0x48] + Array(repeating: 0, count: 15), kind: .crossChain, chains: [1, 10],
                            path: [.init(chainID: 1, pool: other, tokenIn: usdc, tokenOut: weth, venue: 0, amountOut: received),
                                   .init(chainID: 10, pool: pool, tokenIn: weth, tokenOut: usdc, venue: 0, amountOut: UInt256(1))],
                            amountIn: UInt256(1), grossProfit: Int256(1), netProfit: Int256(1), grossProfitMicroUSD: 1, netProfitMicroUSD: 1, gasUnits: 200_000,
                            gasCostWei: .zero, flashSource: .none, blockNumber: 1, timestamps: .init(), expiresAt: UInt64.max, confidence: 1)
        let (journal, _) = try LabWorld.journal()
        try journal.record(transfer: BridgeTransfer(opportunity: o, amountIn: o.amountIn, bought: received, depositTx: "0x01", depositID: UInt256(1),
                                                    depositBlock: 1, received: received, status: .arrived), at: WallClock.nanoseconds())
        var configuration = CrossChainExecutor.Configuration()
        configuration.maxSaleAttempts = 3
        configuration.poll = .milliseconds(100)
        let legs = [10, 1].map { CrossChainLeg(chainID: $0, eth: b.eth, route: .privateRPC(b.rpc), key: key, executor: executor, bridge: executor) }
        let states = WatcherStates([b.watcher])
        let first = CrossChainExecutor(configuration: configuration, legs: legs, state: states, journal: journal, logger: LabWorld.logger)
        #expect(try await first.recover() == 1)
        try await LabWorld.wait("the transfer held", seconds: 60) { await first.snapshot.transfers.first?.status == .held }
        let held = try #require(try journal.transfers(open: true).first)
        #expect(held.status == .held && held.detail.contains("3 sale attempt(s)") && held.detail.contains("not enough of the asset"), "\(held.detail)")
        // Nothing was sent: the key's nonce on chain 10 is untouched, and the executor has stopped working on it.
        #expect(try await b.eth.transactionCount(of: key.address, at: .latest) == 0)
        await first.drain(until: .now + .seconds(5))
        #expect(await first.snapshot.transfers.first?.status == .held)

        // The asset turns up; the next start sells it.
        let trader = try #require(b.manifest["keys"]?["trader"]?.stringValue)
        try await b.send(from: trader, to: weth, "transfer(address,uint256)", [.address(executor), .uint(received)])
        let balanceOf = try FunctionSignature("balanceOf(address)").calldata([.address(executor)])
        try await LabWorld.wait("the WETH in the executor") { try UInt256(bigEndian: try await b.eth.call(to: weth, data: balanceOf, block: .latest)) == received }
        let second = CrossChainExecutor(configuration: configuration, legs: legs, state: states, journal: journal, logger: LabWorld.logger)
        #expect(try await second.recover() == 1)
        try await LabWorld.wait("the sale after the restart", seconds: 60) { await second.snapshot.transfers.first?.status == .sold }
        await second.stop()
        let sold = try #require(try journal.transfers().first)
        let saleBlock = try await b.receiptBlock(sold.sellTx)
        let proceeds = try await b.balance(usdc, of: executor, at: saleBlock) - b.balance(usdc, of: executor, at: saleBlock - 1)
        #expect(sold.status == .sold && sold.proceeds == proceeds && proceeds > .zero)
        #expect(try journal.transfers(open: true).isEmpty)
        tasks.removeAll()
    }
}
