import ArbiterTestKit
import Detection
import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import Execution
import Foundation
import JSONRPC
import MarketState
import MarketWatch
import Opportunities
import Pipeline
import StreamBus
import Testing

/// A cross-chain trade between two lab devnets joined by the lab's bridge relayer: detection sees
/// WETH cheaper on one chain, buys it there and deposits it into the bridge in one transaction
/// (a Flashbots bundle), the relayer fills it on the other chain, and it is sold there (a
/// sequencer transaction). The executor is stopped as soon as the asset is in flight; a new one
/// on the same journal must find the recovery record and finish the trade, through a sale that
/// waits in the pool longer than the executor waits for it. Part of the serialized
/// lab suite: its two devnets never run beside the other lab tests' trades (two cores).
extension ExecutionLabTests {
    struct Chain {
        let devnet: Devnet
        let manifest: JSONValue
        let tokens: [String: Address]
        let rpc: RPCClient
        let eth: EthClient
        let watcher: ChainWatcher

        init(_ id: UInt64) async throws {
            devnet = try await Devnet(chainId: id, lab: true, market: false, blockTime: 1)
            manifest = try #require(devnet.manifest)
            tokens = try LabWorld.tokens(manifest)
            rpc = RPCClient(HTTPTransport(url: devnet.http.absoluteString))
            eth = EthClient(rpc)
            watcher = ChainWatcher(.init(chainID: id, name: "lab-\(id)", rpc: rpc, heads: .polling(.milliseconds(100)),
                                         multicall: try Address(hex: try #require(manifest["multicall3"]?.stringValue)),
                                         pools: try LabWorld.pools(manifest, tokens: tokens), matrix: PriceMatrix(expected: 64)), logger: LabWorld.logger)
        }

        func address(_ path: String...) throws -> Address {
            var v: JSONValue? = manifest
            for p in path { v = v?[p] }
            return try Address(hex: try #require(v?.stringValue))
        }

        func send(from: String, to: Address, _ signature: String, _ args: [ABIValue]) async throws {
            let data = try FunctionSignature(signature).calldata(args)
            _ = try await devnet.call("eth_sendTransaction", [.object([
                ("from", .string(from)), ("to", .string(to.checksummed)), ("data", .string(Hex.encode(data))), ("gas", .string("0x7a120")),
            ])])
        }

        func balance(_ token: Address, of holder: Address, at block: UInt64) async throws -> UInt256 {
            let data = try FunctionSignature("balanceOf(address)").calldata([.address(holder)])
            return try UInt256(bigEndian: try await eth.call(to: token, data: data, block: .number(block)))
        }

        func receiptBlock(_ hash: String) async throws -> UInt64 {
            let r = try await devnet.call("eth_getTransactionReceipt", [.string(hash)])
            return try UInt256(hex: try #require(r["blockNumber"]?.stringValue)).w0
        }
    }

    @Test func aCrossChainTradeBuysBridgesAndSellsAndSurvivesARestartWhileInFlight() async throws {
        let a = try await Chain(1), b = try await Chain(10)
        // The relayer fills 12 s after a deposit: well past chain 1's late receipts below (two
        // reads of 2.2 s each, more on a loaded machine), so the asset is seen in flight before it
        // arrives. At 6 s a loaded CI run read leg one's receipt after the fill: the transfer went
        // straight to arrived, the wait below missed it, and a second trade was taken.
        let relayer = try await BridgeRelayer(root: Devnet.root, devnets: [a.devnet, b.devnet], latency: 12)
        var tasks: [Task<Void, any Error>] = []
        defer {
            for t in tasks { t.cancel() }
            relayer.stop()
            a.devnet.stop()
            b.devnet.stop()
        }
        tasks += [Task { try await a.watcher.run() }, Task { try await b.watcher.run() }]
        // The legs' own key, authorised on both executors by their owner (the deployer) and given gas.
        let key = try PrivateKey(hex: "0x" + String(repeating: "5c", count: 32))
        for c in [a, b] {
            let deployer = try #require(c.manifest["keys"]?["deployer"]?.stringValue)
            let executor = try c.address("executors", "crossChain")
            try await c.send(from: deployer, to: executor, "set_executor(address,bool)", [.address(key.address), .bool(true)])
            // The deployer also funds: one of its transactions per block (the devnet's queue takes one per sender).
            let isExecutor = try FunctionSignature("executors(address)").calldata([.address(key.address)])
            try await LabWorld.wait("the key authorised") { try await c.eth.call(to: executor, data: isExecutor, block: .latest).last == 1 }
            _ = try await c.devnet.call("devnet_fund", [.string(key.address.checksummed), .string(UInt256(10_000_000_000_000_000_000).hexQuantity)])
        }
        // Own capital on the buy chain: 400,000 USDC.
        let executorA = try a.address("executors", "crossChain"), executorB = try b.address("executors", "crossChain")
        let usdcA = try #require(a.tokens["USDC"]), usdcB = try #require(b.tokens["USDC"]), wethA = try #require(a.tokens["WETH"]), wethB = try #require(b.tokens["WETH"])
        try await a.send(from: try #require(a.manifest["keys"]?["trader"]?.stringValue), to: usdcA, "transfer(address,uint256)",
                         [.address(executorA), .uint(UInt256(400_000_000_000))])

        let (journal, _) = try LabWorld.journal()
        let legs = [
            CrossChainLeg(chainID: 1, eth: a.eth, route: .flashbots(relay: RPCClient(FlashbotsSigner(key: try PrivateKey(hex: "0x" + String(repeating: "42", count: 32)))
                                                                                    .transport(relay: a.devnet.http.absoluteString + "relay"))),
                          key: key, executor: executorA, bridge: try a.address("bridge", "address")),
            CrossChainLeg(chainID: 10, eth: b.eth, route: .privateRPC(b.rpc), key: key, executor: executorB, bridge: try b.address("bridge", "address")),
        ]
        let states = WatcherStates([a.watcher, b.watcher])
        let first = CrossChainExecutor(legs: legs, state: states, journal: journal, logger: LabWorld.logger)
        _ = try await first.recover()
        var route = CrossChainDetector.Route(fromChain: 1, toChain: 10, asset: (wethA, wethB), quote: (usdcA, usdcB), quoteDecimals: 6, feePips: 500,
                                             fixedFeeMicroUSD: 0, latencySeconds: 6)
        route.quoteUSD = 1
        let bus = InProcessBus()
        let detection = CrossChainService(watchers: [a.watcher, b.watcher], partitions: [1: "P1", 10: "P1"],
                                          configuration: .init(routes: [route], wrappedNative: [1: wethA, 10: wethB]), bus: bus, logger: LabWorld.logger)
        let engine = ExecutionEngine(chains: [], state: states, journal: journal, logger: LabWorld.logger)
        let service = ExecutionService(engine: engine, crossChain: first, bus: bus, partitions: ["P1"], name: "cross", logger: LabWorld.logger)
        // The gap first (nothing moves the pools after it but our own trades): WETH bought up on
        // chain 10 where its price is made, its deep Uniswap V3 pools (400,000 USDC into each
        // tier), dearer there than on chain 1. (A gap on a shallow pool alone is chain 10's own
        // arbitrage, not a cross-chain one.)
        let trader = try #require(b.manifest["keys"]?["trader"]?.stringValue)
        let before = try await b.eth.blockNumber()
        for tier in [500, 3000] {
            try await b.send(from: trader, to: try b.address("dexes", "uniswap_v3", "router"), "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))",
                             [.tuple([.address(usdcB), .address(wethB), .uint(UInt256(UInt64(tier))), .address(try Address(hex: trader)),
                                      .uint(UInt256(UInt64(1) << 40)), .uint(UInt256(400_000_000_000)), .uint(.zero), .uint(.zero)])])
        }
        try await LabWorld.wait("the swaps' block") { try await b.eth.blockNumber() > before + 1 }
        try await LabWorld.wait("both watchers past it", seconds: 120) { (a.watcher.latest != nil) && (b.watcher.latest?.block ?? 0) > before + 1 }
        // Chain 1's receipts come back late (computed when asked, delivered two blocks on): a
        // receipt read as missing must not be taken for a bundle that did not land once the head
        // read after it has passed the bundle's block.
        _ = try await a.devnet.call("devnet_slowAnswers", [.number("2200"), .array([.string("eth_getTransactionReceipt")])])
        let pipeline = [Task { try await detection.run() }, Task { try await service.run() }]

        do {
            try await LabWorld.wait("an asset in flight", seconds: 90) { await first.snapshot.transfers.contains { $0.status == .inFlight } }
        } catch {
            let r = await first.snapshot
            throw FixtureError("\(error): detection \(detection.counters), received \(r.received), refused \(r.refused) (last: \(r.lastRefusal.map(\.description) ?? "none")), transfers \(r.transfers.map(\.status))")
        }
        // The process goes away with the asset in the bridge. One trade at most: the gap left is
        // still priced on chain 10's pool as it is, but our open transfer sells into it first, so
        // no second one is taken (`risk:saleInFlight`).
        for t in pipeline { t.cancel() }
        await first.stop()
        #expect(await first.snapshot.transfers.filter(\.isOpen).count == 1)
        let inFlight = try #require(await first.snapshot.transfers.first { $0.status == .inFlight })
        let id = inFlight.opportunity.id

        // After the restart the sale waits in chain 10's pool (its tip under the node's minimum)
        // past the executor's wait: it is in doubt, and no second sale may go out while the node
        // holds the first (it would take another nonce and could only revert). The minimum goes up
        // once the relayer has filled the transfer (its fill would wait in the pool too).
        let filled = try FunctionSignature("filled(uint256,uint256)").calldata([.uint(UInt256(1)), .uint(try #require(inFlight.depositID))])
        try await LabWorld.wait("the relayer's fill on chain 10", seconds: 60) {
            try await b.eth.call(to: try b.address("bridge", "address"), data: filled, block: .latest).last == 1
        }
        _ = try await b.devnet.call("devnet_setMinTip", [.string(UInt256(1_000_000_000_000).hexQuantity)])
        var patient = CrossChainExecutor.Configuration()
        patient.maxPendingBlocks = 3
        let second = CrossChainExecutor(configuration: patient, legs: legs, state: states, journal: journal, logger: LabWorld.logger)
        #expect(try await second.recover() >= 1)
        try await LabWorld.wait("the sale pending past the wait", seconds: 90) {
            await second.snapshot.transfers.contains { $0.opportunity.id == id && $0.detail.contains("inclusion: pending") }
        }
        let waitedFrom = try await b.eth.blockNumber()
        try await LabWorld.wait("three more blocks") { try await b.eth.blockNumber() >= waitedFrom + 3 }
        let pooled = try await b.devnet.call("devnet_txpool", []).arrayValue ?? []
        #expect(pooled.count == 1)
        _ = try await b.devnet.call("devnet_setMinTip", [.string("0x0")])
        try await LabWorld.wait("the sale after the restart", seconds: 90) {
            await second.snapshot.transfers.contains { $0.opportunity.id == id && $0.status == .sold }
        }
        await second.stop()
        let sales = try UInt256(hex: try #require(try await b.devnet.call("eth_getTransactionCount", [.string(key.address.checksummed), .string("latest")]).stringValue))
        if sales != UInt256(1) {
            // Which transactions of the key chain 10 has (for the failure's record).
            var sent: [String] = []
            for n in 0...(try await b.eth.blockNumber()) {
                let block = try await b.devnet.call("eth_getBlockByNumber", [.string(UInt256(n).hexQuantity), .bool(true)])
                for tx in block["transactions"]?.arrayValue ?? [] where tx["from"]?.stringValue?.lowercased() == key.address.checksummed.lowercased() {
                    let h = tx["hash"]?.stringValue ?? "?"
                    let r = try await b.devnet.call("eth_getTransactionReceipt", [.string(h)])
                    sent.append("block \(n) nonce \(tx["nonce"]?.stringValue ?? "?") \(h) input \(String((tx["input"]?.stringValue ?? "").prefix(10))) status \(r["status"]?.stringValue ?? "?")")
                }
            }
            let firstDetails = await first.snapshot.transfers.map { "\($0.status) \($0.sellTx) \($0.detail)" }
            let secondDetails = await second.snapshot.transfers.map { "\($0.status) \($0.sellTx) \($0.detail)" }
            Issue.record("chain 10 has \(sales) transactions of the key: \(sent); first \(firstDetails); second \(secondDetails); submissions \(try journal.allSubmissions())")
        }
        let t = try #require(await second.snapshot.transfers.first { $0.opportunity.id == id })
        let o = t.opportunity

        // Leg one bought exactly what detection said and put all of it in the bridge; the bridge
        // paid out that less its fee, rounded as it rounds; the sale fetched exactly detection's
        // price: realized profit = detection's gross profit, to the unit.
        #expect(t.bought == o.path[0].amountOut && t.amountIn == o.amountIn)
        #expect(t.received == t.bought - t.bought * UInt256(500) / UInt256(1_000_000))
        #expect(t.proceeds == o.path[1].amountOut)
        #expect(t.realizedProfit == o.grossProfit && o.grossProfit > .zero)
        // The chains agree: over the deposit's block chain 1's executor paid the input and its
        // bridge took what was bought; over the sale's block chain 10's executor got the proceeds.
        let depositBlock = try await a.receiptBlock(t.depositTx), saleBlock = try await b.receiptBlock(t.sellTx)
        let paid = try await a.balance(usdcA, of: executorA, at: depositBlock - 1) - a.balance(usdcA, of: executorA, at: depositBlock)
        #expect(paid == t.amountIn)
        let bridged = try await a.balance(wethA, of: try a.address("bridge", "address"), at: depositBlock)
            - a.balance(wethA, of: try a.address("bridge", "address"), at: depositBlock - 1)
        #expect(bridged == t.bought)
        let proceeds = try await b.balance(usdcB, of: executorB, at: saleBlock) - b.balance(usdcB, of: executorB, at: saleBlock - 1)
        #expect(proceeds == t.proceeds)
        // The journal's record walked to `sold` and names both transactions.
        let record = try #require(try journal.transfers().first { $0.opportunity.id == id })
        #expect(record.status == .sold && record.depositTx == t.depositTx && record.sellTx == t.sellTx && record.proceeds == t.proceeds)
        #expect(pooled.first?.stringValue?.lowercased() == t.sellTx.lowercased())
        #expect(try journal.transfers(open: true).allSatisfy { $0.opportunity.id != id })
    }
}

/// Leg one in doubt: sent on a sequencer chain, still pending when its wait ended (or when the
/// process restarted). While its nonce is free it may still land, so it must not be written off;
/// the executor settles it with a cancellation at that nonce (again if the node evicts both), and
/// only the chain's count moving past the nonce without the deposit makes it `failed`.
extension ExecutionLabTests {
    @Test func aLegOneStillPendingIsCancelledNotWrittenOffWhileItCouldLand() async throws {
        let devnet = try await Devnet(chainId: 10, lab: true, market: false, blockTime: 1)
        defer { devnet.stop() }
        let rpc = RPCClient(HTTPTransport(url: devnet.http.absoluteString)), eth = EthClient(rpc)
        let key = try PrivateKey(hex: "0x" + String(repeating: "6d", count: 32))
        _ = try await devnet.call("devnet_fund", [.string(key.address.checksummed), .string(UInt256(10_000_000_000_000_000_000).hexQuantity)])
        try await LabWorld.wait("the funding") {
            let balance = try await devnet.call("eth_getBalance", [.string(key.address.checksummed), .string("latest")])
            return (balance.stringValue ?? "0x0") != "0x0"
        }

        // The record a crash leaves: a cross-chain trade from chain 10 whose leg one was sent
        // (nonce reserved and journaled) and has no receipt.
        let (journal, _) = try LabWorld.journal()
        let weth = try Address(hex: "0x00000000000000000000000000000000000000a1"), usdc = try Address(hex: "0x00000000000000000000000000000000000000b2")
        let o = Opportunity(id: [0x4c] + Array(repeating: 0, count: 15), kind: .crossChain, chains: [10, 1],
                            path: [.init(chainID: 10, pool: try Address(hex: "0x00000000000000000000000000000000000000c3"), tokenIn: usdc, tokenOut: weth, venue: 0, amountOut: UInt256(1_000)),
                                   .init(chainID: 1, pool: try Address(hex: "0x00000000000000000000000000000000000000d4"), tokenIn: weth, tokenOut: usdc, venue: 0, amountOut: UInt256(1_020))],
                            amountIn: UInt256(1_000), grossProfit: Int256(20), netProfit: Int256(10), grossProfitMicroUSD: 20, netProfitMicroUSD: 10, gasUnits: 200_000,
                            gasCostWei: .zero, flashSource: .none, blockNumber: 1, timestamps: .init(), expiresAt: UInt64.max, confidence: 1)
        let nonces = NonceManager(chain: 10, sender: key.address, journal: journal, eth: eth)
        let (nonce, seq) = try await nonces.reserve(opportunity: o.id, now: WallClock.nanoseconds())
        // It tips 1 gwei where the node asks 2: it waits in the pool.
        _ = try await devnet.call("devnet_setMinTip", [.string(UInt256(2_000_000_000).hexQuantity)])
        let stuck = Transaction(type: .dynamicFee, chainId: 10, nonce: nonce, maxPriorityFeePerGas: UInt256(1_000_000_000), maxFeePerGas: UInt256(100_000_000_000),
                                gasLimit: 21_000, to: try Address(hex: "0x000000000000000000000000000000000000dEaD"), value: .zero, data: []).signed(with: key)
        let hash = Hex.encode(stuck.hash)
        _ = try await rpc.call("eth_sendRawTransaction", [.string(Hex.encode(stuck.raw))])
        try journal.updateSubmission(seq, status: .dropped, txHash: hash, mode: "private", at: WallClock.nanoseconds())
        try journal.record(transfer: BridgeTransfer(opportunity: o, amountIn: o.amountIn, bought: o.path[0].amountOut, depositTx: hash, status: .sending),
                           at: WallClock.nanoseconds())
        func pool() async throws -> [String] { (try await devnet.call("devnet_txpool", []).arrayValue ?? []).compactMap(\.stringValue) }
        #expect(try await pool() == [hash])

        var configuration = CrossChainExecutor.Configuration()
        configuration.sendingBlocks = 2
        configuration.poll = .milliseconds(100)
        let executor = try Address(hex: "0x00000000000000000000000000000000000000e1"), bridge = try Address(hex: "0x00000000000000000000000000000000000000b1")
        let legs = [10, 1].map { CrossChainLeg(chainID: $0, eth: eth, route: .privateRPC(rpc), key: key, executor: executor, bridge: bridge) }
        let x = CrossChainExecutor(configuration: configuration, legs: legs, state: WatcherStates([]), journal: journal, logger: LabWorld.logger)
        defer { Task { await x.stop() } }
        #expect(try await x.recover() == 1)
        func status() async -> BridgeTransfer? { await x.snapshot.transfers.first { $0.opportunity.id == o.id } }

        // Two blocks on, the cancellation replaces it in the pool (fees +50 %: still under 2 gwei).
        try await LabWorld.wait("the cancellation in the pool", seconds: 30) { let p = try await pool(); return p.count == 1 && p[0] != hash }
        let cancellation = try await pool()[0]
        let from = try await eth.blockNumber()
        try await LabWorld.wait("three more blocks") { try await eth.blockNumber() >= from + 3 }
        // The nonce is free and something of ours holds it: not written off.
        #expect(await status()?.status == .sending)

        // The node evicts both (they waited past its pool's lifetime): the nonce is free and
        // nothing of ours holds it. Another cancellation must go, or the leg stays open for good.
        #expect(try await devnet.call("devnet_dropPool", []).arrayValue?.count == 1)
        try await LabWorld.wait("another cancellation", seconds: 30) {
            let p = try await pool()
            if p.count == 1 && p[0] != cancellation { return true }
            return try await eth.transactionCount(of: key.address, at: .latest) > nonce
        }
        _ = try await devnet.call("devnet_setMinTip", [.string("0x0")])
        try await LabWorld.wait("the transfer settled", seconds: 30) { await status()?.status == .failed }
        let t = try #require(await status())
        let journaled = try #require(try journal.allSubmissions().first { $0.seq == seq })
        let taker = journaled.txHash
        #expect(journaled.status == .cancelled && taker != cancellation && taker != hash)
        #expect(t.detail.contains("cancelled") && t.detail.contains(taker))
        // The chain: nonce used once, by the 0-value self-transfer; the original never landed.
        #expect(try await eth.transactionCount(of: key.address, at: .latest) == nonce + 1)
        let landed = try await devnet.call("eth_getTransactionByHash", [.string(taker)])
        #expect(landed["to"]?.stringValue?.lowercased() == key.address.checksummed.lowercased() && landed["value"]?.stringValue == "0x0")
        #expect(landed["nonce"]?.stringValue == UInt256(nonce).hexQuantity)
        #expect(try await devnet.call("eth_getTransactionReceipt", [.string(hash)]) == .null)
        #expect(try journal.transfers().first { $0.opportunity.id == o.id }?.status == .failed)
    }
}
