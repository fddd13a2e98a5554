import AMMMath
import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import EthClient
import Foundation
import JSONRPC
import MarketState
import MarketWatch
import MetricsTestKit
import Synchronization
import Testing

/// A `ChainWatcher` on the lab while the market driver trades, through everything a live chain does
/// to it: a dropped WebSocket, malformed frames, heads and logs, 429s from its first provider, a
/// 3-block reorg, and pools created by the factories mid-run. Afterwards its last snapshot equals
/// the chain at that block, pool by pool (V3 ticks and liquidityGross included), and the
/// PriceMatrix holds each pool's price from it.
@Suite(.serialized) struct ChainWatcherLabTests {
    static func wait(_ what: String, seconds: Double = 240, state: () -> Any = { "" }, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            guard Date() < deadline else { throw FixtureError("timed out waiting for \(what): \(state())") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func word(_ a: Address) -> String { Hex.encode([UInt8](repeating: 0, count: 12) + a.bytes) }

    @Test func watcherKeepsTheLabExactThroughFaultsReorgsAndNewPools() async throws {
        let devnet = try await Devnet(chainId: 1, lab: true, market: true, blockTime: 0.25, seed: 11, mirrors: 1)
        defer { devnet.stop() }
        let manifest = try #require(devnet.manifest)
        let lab = try LabUniverse(manifest)
        let mirror = try #require(devnet.mirrors.first)

        // CREATE2 derivation finds every pool the lab's factories deployed.
        let derived = Set(lab.pools.map(\.address))
        #expect(lab.deployed.isSubset(of: derived), "pools not derived: \(lab.deployed.subtracting(derived))")
        #expect(lab.deployed.count == 16 && lab.pools.count == 75)

        let pool = ProviderPool([("primary", HTTPTransport(url: devnet.http.absoluteString)), ("mirror", HTTPTransport(url: mirror.http.absoluteString))])
        let session = WebSocketSession(url: devnet.ws.absoluteString)
        let matrix = PriceMatrix(expected: 64)
        let multicall = try Address(hex: try #require(manifest["multicall3"]?.stringValue))
        let metrics = TestMetrics()
        var configuration = ChainWatcher.Configuration(chainID: 1, name: "lab", rpc: RPCClient(pool), heads: .webSocket(session), multicall: multicall,
                                                       pools: lab.pools + [lab.solidly, lab.curve], factories: lab.factories, matrix: matrix)
        // Every step recorded, in its recorded form (the bytes a recording keeps).
        let recorded = Recorded()
        configuration.recorder = { input in recorded.steps.withLock { $0.append((input.kind, try! input.encoded())) } }
        let watcher = ChainWatcher(configuration, metricsFactory: metrics)
        // The test's own reads go to the mirror, which the 429s below do not touch.
        let eth = EthClient(RPCClient(HTTPTransport(url: mirror.http.absoluteString)))
        let reader = PoolStateReader(eth: eth, multicall: multicall)
        let deployer = try #require(manifest["keys"]?["deployer"]?.stringValue)
        let sushi = try #require(lab.factories.first)
        let v3Factory = try #require(lab.factories.last)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watcher.run() }
            try await Self.wait("the first snapshots", seconds: 180, state: { watcher.status }) { (watcher.status.stateBlock ?? 0) >= 3 && session.isConnected }
            let start = try #require(watcher.status.stateBlock)
            #expect(watcher.status.pools == 18 && watcher.status.absent == 59)
            // The doubles' state as the lab set it (eth-abi encoded, independent of our decoding).
            let doubles = try #require(manifest["doubles"])
            func number(_ v: JSONValue?) throws -> UInt256 {
                guard case .number(let text)? = v else { throw FixtureError("not a number: \(String(describing: v))") }
                return try UInt256(decimal: text)
            }
            let balances = try #require(doubles["curve"]?["balances"]?.arrayValue)
            var curve = try CurvePool(balances: (try number(balances.first), try number(balances.last)), decimals: (18, 6),
                                      amplification: try number(doubles["curve"]?["A"]), fee: try number(doubles["curve"]?["fee"]))
            curve.adminFee = try number(doubles["curve"]?["adminFee"])
            let initial = try #require(watcher.latest)
            #expect(initial.book[try #require(initial.book.id(of: lab.curve.address))] == .curve(curve))
            #expect(initial.book[try #require(initial.book.id(of: lab.solidly.address))]
                == .solidly(try SolidlyPool(reserve0: try number(doubles["solidly"]?["reserve0"]), reserve1: try number(doubles["solidly"]?["reserve1"]),
                                            stable: true, decimals: (6, 6), feePips: 500)))

            // A dropped socket: the session reconnects, the watcher catches up from its last block.
            _ = try await devnet.call("devnet_dropWebSockets")
            // Heads still queued from the old socket can move the state on before the new one's
            // subscription is taken, so the frames below wait for the node to confirm it (CI once
            // injected them before it had, and the bad head named no subscription).
            try await Self.wait("a reconnect", state: { (session.counters, session.liveSubscriptions) }) {
                session.counters.connections >= 2 && session.liveSubscriptions == 1 && (watcher.status.stateBlock ?? 0) >= start + 4
            }

            // Malformed frames: one that is not JSON, and a newHeads notification whose header is bad.
            let badHead = #"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"{newHeads}","result":{"number":"0xzz"}}}"#
            let injected = try await devnet.call("devnet_injectFrames", [.array([.string("{not json"), .string(badHead)])])
            #expect(injected == .number("1"), "sockets with a newHeads subscription: \(injected)")
            try await Self.wait("malformed frames counted", state: { (session.counters, session.isConnected, watcher.status) }) { session.counters.malformedFrames >= 1 && watcher.status.malformedHeads >= 1 }

            // A Sync log of a watched pair with one data word: counted by the book, skipped.
            let pair = try #require(lab.pools.first { lab.deployed.contains($0.address) && $0.kind == .uniswapV2(feePips: 3000) })
            let shortSync = JSONValue.object([
                ("address", .string(pair.address.lowercased)), ("topics", .array([.string(Hex.encode(PoolTopics.v2Sync.bigEndianBytes))])),
                ("data", .string(Hex.encode(UInt256(5).bigEndianBytes))), ("blockNumber", .string("auto")), ("blockHash", .string("auto")),
                ("transactionIndex", .string("0x0")), ("logIndex", .string("0x3e7")), ("removed", .bool(false)),
            ])
            _ = try await devnet.call("devnet_injectLogs", [.array([shortSync])])
            try await Self.wait("a malformed log counted") { watcher.status.malformedLogs >= 1 }
            // A log object without its block hash: the whole answer is refused and asked again.
            let noHash = JSONValue.object([("address", .string(pair.address.lowercased)), ("topics", .array([])), ("data", .string("0x"))])
            _ = try await devnet.call("devnet_injectLogs", [.array([noHash])])
            try await Self.wait("a malformed answer counted") { watcher.status.malformedResponses >= 1 }

            // 429s from the first provider: calls fail over to the mirror, then come back.
            // Six 429s: each cools the primary down for a second, so the mirror answers meanwhile.
            let (mirrorCalls, primaryFailures) = (pool.providers[1].calls, pool.providers[0].failures)
            _ = try await devnet.call("devnet_rateLimit", [.number("6")])
            try await Self.wait("failover to the mirror", state: { pool.providers }) {
                pool.providers[0].failures >= primaryFailures + 5 && pool.providers[1].calls > mirrorCalls + 3  // a resubscription may take one
            }
            let answered = pool.providers[0].calls - pool.providers[0].failures
            try await Self.wait("back to the primary", state: { pool.providers }) {
                pool.current == "primary" && pool.providers[0].calls - pool.providers[0].failures > answered && watcher.status.headLag <= 2
            }

            // A 3-block reorg with mining paused: the blocks replaced held swaps; afterwards every pool
            // equals the chain at the new head.
            _ = try await devnet.call("evm_setIntervalMining", [.number("0")])
            let old = try await eth.blockNumber()
            try await Self.wait("caught up", state: { watcher.status }) { watcher.status.stateBlock == old }
            let atOld = try #require(watcher.latest)
            let touched = atOld.book.appliedThrough.filter { $0.block > old - 3 && $0.index != .max }.count
            #expect(touched >= 1, "the blocks the reorg replaces changed pools")
            _ = try await devnet.call("devnet_reorg", [.number("3")])
            let new = try await eth.blockNumber()
            try await Self.wait("the reorg applied", state: { watcher.status }) { watcher.status.reorgs >= 1 && watcher.status.stateBlock == new }
            let afterReorg = try #require(watcher.latest)
            #expect(afterReorg.block == new)
            try await Self.expectEqualsChain(afterReorg, reader: reader, eth: eth, matrix: matrix)
            _ = try await devnet.call("evm_setIntervalMining", [.number("250")])

            // Pools created mid-run: a V2 pair (empty, readable at once) and a V3 pool that stays
            // pending until it is initialised.
            let (link, wbtc, dai) = (try #require(lab.tokens["LINK"]), try #require(lab.tokens["WBTC"]), try #require(lab.tokens["DAI"]))
            // Each transaction is mined before the next is sent (the deployer's nonce).
            func send(_ to: Address, _ data: String) async throws {
                let hash = try await devnet.call("eth_sendTransaction", [.object([("from", .string(deployer)), ("to", .string(to.lowercased)), ("data", .string(data))])])
                var receipt = JSONValue.null
                try await Self.wait("a receipt") {
                    receipt = try await devnet.call("eth_getTransactionReceipt", [hash])
                    return receipt != .null
                }
                #expect(receipt["status"] == .string("0x1"), "transaction to \(to)")
            }
            try await send(sushi.address, "0xc9c65396" + Self.word(link).dropFirst(2) + Self.word(wbtc).dropFirst(2))
            let (t0, t1) = PoolDiscovery.sorted(link, dai)
            try await send(v3Factory.address, "0xa1671295" + Self.word(t0).dropFirst(2) + Self.word(t1).dropFirst(2) + Hex.encode(UInt256(3000).bigEndianBytes).dropFirst(2))
            try await Self.wait("both creations seen", state: { watcher.status }) { watcher.status.discovered >= 2 && watcher.status.pools == 19 && watcher.status.pending == 1 }
            let v3Address = PoolDiscovery.v3Pool(deployer: v3Factory.address, initCodeHash: try UInt256(hex: try #require(manifest["dexes"]?["uniswap_v3"]?["initCodeHash"]?.stringValue)),
                                                 tokenA: link, tokenB: dai, feePips: 3000)
            try await send(v3Address, "0xf637731d" + Hex.encode((UInt256.one << 96).bigEndianBytes).dropFirst(2))
            try await Self.wait("the new V3 pool registered", state: { watcher.status }) { watcher.status.pools == 20 && watcher.status.pending == 0 }
            // The Solidly double's reserves change with a Sync(uint256,uint256) log.
            try await send(lab.solidly.address, "0x2930de40" + Hex.encode(UInt256(1_300_000_000_001).bigEndianBytes).dropFirst(2)
                + Hex.encode(UInt256(1_140_000_000_007).bigEndianBytes).dropFirst(2))
            try await Self.wait("the Solidly Sync applied") {
                guard let snap = watcher.latest, let id = snap.book.id(of: lab.solidly.address) else { return false }
                return snap.book[id] == .solidly(try SolidlyPool(reserve0: 1_300_000_000_001, reserve1: 1_140_000_000_007, stable: true, decimals: (6, 6), feePips: 500))
            }
            let reached = try #require(watcher.status.stateBlock)
            try await Self.wait("a few more blocks") { (watcher.status.stateBlock ?? 0) >= reached + 4 }
            group.cancelAll()
        }

        // The last snapshot equals the chain at its block.
        let snap = try #require(watcher.latest)
        let status = watcher.status
        #expect(snap.book.count == 20 && snap.book.stale.isEmpty && snap.book.counters.malformed >= 1)
        #expect(status.book.applied > 20 && status.reorgs >= 1 && status.rpcErrors >= status.malformedResponses)
        let moved = try await Self.expectEqualsChain(snap, reader: reader, eth: eth, matrix: matrix)
        #expect(moved >= 4, "pools changed by logs")

        // Replayed from its recorded steps into a fresh state: every snapshot again, the last one
        // the live one's equal in every pool, block, hash and time (through reconnects, 429s, a
        // reorg, malformed input and pools created mid-run).
        var replay = WatchReplay(ChainWatcher.Configuration(chainID: 1, name: "lab", rpc: RPCClient(pool), heads: .webSocket(session), multicall: multicall,
                                                            pools: lab.pools + [lab.solidly, lab.curve], factories: lab.factories, matrix: PriceMatrix(expected: 64)))
        var replayed: ChainWatcher.Snapshot? = nil
        let steps = recorded.steps.withLock { $0 }
        for (kind, bytes) in steps {
            if let s = replay.apply(try WatchInput(kind: kind, payload: bytes)) { replayed = s }
        }
        let again = try #require(replayed)
        #expect(steps.count > 50 && replay.published == status.snapshots && again.sequence == snap.sequence)
        #expect(again.block == snap.block && again.hash == snap.hash && again.pools == snap.pools && again.covered == snap.covered)
        #expect(again.headReceivedAt == snap.headReceivedAt && again.appliedAt == snap.appliedAt && again.baseFee == snap.baseFee)
        #expect(again.book.count == snap.book.count && again.book.appliedThrough == snap.book.appliedThrough && again.book.stale == snap.book.stale)
        for i in 0..<snap.book.count {
            let id = PoolBook.PoolID(index: i)
            #expect(again.book[id] == snap.book[id], "pool \(i)")
        }

        // The same figures as metrics.
        let chain = [("chain", "lab")]
        // Updates count across resyncs (a loaded machine may fall far enough behind for one); the
        // book's own counter starts again with each.
        let updates = try metrics.expectCounter("arbiter_market_updates_total", chain).totalValue
        #expect(updates == Int64(status.appliedTotal) && (status.resyncs > 0 || status.appliedTotal == status.book.applied),
                "updates \(updates), applied over the run \(status.appliedTotal), by this book \(status.book.applied), resyncs \(status.resyncs)")
        #expect(try metrics.expectCounter("arbiter_market_reorgs_total", chain).totalValue == Int64(status.reorgs))
        #expect(try metrics.expectCounter("arbiter_market_malformed_total", chain + [("kind", "head")]).totalValue == Int64(status.malformedHeads))
        #expect(try metrics.expectCounter("arbiter_market_malformed_total", chain + [("kind", "log")]).totalValue == Int64(status.malformedLogs))
        #expect(try metrics.expectCounter("arbiter_market_malformed_total", chain + [("kind", "answer")]).totalValue == Int64(status.malformedResponses))
        #expect(try metrics.expectCounter("arbiter_market_rpc_errors_total", chain).totalValue == Int64(status.rpcErrors))
        #expect(try metrics.expectGauge("arbiter_market_pools", chain).lastValue == 20)
        let lag = try metrics.expectGauge("arbiter_market_head_lag_blocks", chain)
        #expect(!lag.values.isEmpty && lag.lastValue == Double(status.headLag))
    }

    /// Without a WebSocket the watcher polls heads over HTTP; a consumer of `snapshots` sees blocks
    /// in rising order, each snapshot equal to the chain at its block.
    @Test func pollingWatcherPublishesEveryBlockInOrder() async throws {
        let devnet = try await Devnet(chainId: 1, lab: true, market: true, blockTime: 0.25, seed: 13)
        defer { devnet.stop() }
        let manifest = try #require(devnet.manifest)
        let lab = try LabUniverse(manifest)
        let multicall = try Address(hex: try #require(manifest["multicall3"]?.stringValue))
        let eth = EthClient(RPCClient(HTTPTransport(url: devnet.http.absoluteString)))
        let watcher = ChainWatcher(.init(chainID: 1, name: "lab", rpc: RPCClient(HTTPTransport(url: devnet.http.absoluteString)),
                                         heads: .polling(.milliseconds(100)), multicall: multicall, pools: lab.pools,
                                         factories: lab.factories, matrix: PriceMatrix(expected: 64)))
        var seen: [ChainWatcher.Snapshot] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            let stream = watcher.snapshots
            group.addTask { try await watcher.run() }
            for await snap in stream {
                seen.append(snap)
                if seen.count >= 10 { break }
            }
            group.cancelAll()
        }
        #expect(watcher.status.droppedSnapshots == 0 && watcher.status.rpcErrors == 0 && watcher.status.connected)
        // A head polled late is backfilled in one step, so blocks may be skipped between snapshots,
        // but never repeated or reordered.
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.block < $1.block })
        // Each carries its place among the watcher's snapshots (consumers skip to the newest by it).
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.sequence + 1 == $1.sequence } && seen[0].sequence >= 1)
        #expect((watcher.latest?.sequence ?? 0) >= seen[9].sequence && watcher.status.snapshots == watcher.latest?.sequence)
        let reader = PoolStateReader(eth: eth, multicall: multicall)
        for snap in [seen[1], seen[5], seen[9]] {
            try await Self.expectEqualsChain(snap, reader: reader, eth: eth, matrix: nil)
        }
    }

    /// Expects every pool of `snap` to equal a fresh read at its block (V3 ticks and liquidityGross
    /// included) and, with `matrix`, the matrix to hold each pool's price from it; returns how many
    /// pools logs changed since they were read.
    @discardableResult
    static func expectEqualsChain(_ snap: ChainWatcher.Snapshot, reader: PoolStateReader, eth: EthClient, matrix: PriceMatrix?) async throws -> Int {
        var v2: [Address] = [], v3: [Address] = [], others: [WatchedPool] = []
        for (i, p) in snap.pools.enumerated() {
            switch p.kind {
            case .uniswapV2: v2.append(p.address)
            case .uniswapV3: v3.append(p.address)
            case .solidly, .curve: others.append(p)
            }
            // The PriceMatrix holds the snapshot's price for every pool (no block has come since).
            guard let matrix else { continue }
            let slot = try #require(matrix.existingSlot(for: .init(chainID: 1, tokenA: p.token0, tokenB: p.token1, venue: p.venue)))
            let entry = try #require(matrix.read(slot))
            // token1 per token0 in address order (a Curve pool's coins may be the other way round).
            let price = snap.book[PoolBook.PoolID(index: i)].spotPrice
            #expect(entry.price == (p.token0 < p.token1 ? price : 1 / price) && entry.source == .dex && entry.block <= snap.block)
        }
        var moved = 0
        for (a, fresh) in zip(v2, try await reader.v2(v2, at: snap.block)) {
            let id = try #require(snap.book.id(of: a))
            #expect(snap.book[id] == .uniswapV2(try #require(fresh)), "pair \(a)")
            if snap.book.appliedThrough[id.index].index != .max { moved += 1 }
        }
        for (a, fresh) in zip(v3, try await reader.v3(v3, at: snap.block)) {
            let fresh = try #require(fresh)
            let id = try #require(snap.book.id(of: a))
            #expect(snap.book[id] == .uniswapV3(fresh.pool), "pool \(a)")
            for t in fresh.pool.ticks { #expect(snap.book.liquidityGross(id, tick: t.index) == fresh.tickGross[t.index]) }
            if snap.book.appliedThrough[id.index].index != .max { moved += 1 }
        }
        for p in others {
            let id = try #require(snap.book.id(of: p.address))
            switch p.kind {
            case .solidly(let fee, let d0, let d1):
                let fresh = try await reader.solidly([(p.address, (d0, d1), fee)], at: snap.block)
                #expect(snap.book[id] == .solidly(try #require(fresh.first ?? nil)), "Solidly pool \(p.address)")
            case .curve(let d0, let d1):
                let fresh = try await reader.curve([(p.address, (d0, d1))], at: snap.block)
                #expect(snap.book[id] == .curve(try #require(fresh.first ?? nil)), "Curve pool \(p.address)")
            default:
                break
            }
        }
        let header = try await eth.header(.number(snap.block))
        #expect(header.hash == snap.hash)
        return moved
    }
}

/// The watcher's steps as a recording keeps them (kind, bytes), gathered from its task.
final class Recorded: Sendable {
    let steps = Mutex<[(UInt8, [UInt8])]>([])
}
