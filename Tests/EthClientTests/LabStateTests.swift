import AMMMath
import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import EthClient
import JSONRPC
import MarketState
import Testing

/// Market state against the lab: pools read once, then kept by their logs alone while the
/// market driver trades, equal to what the pool contracts report afterwards.
@Suite(.serialized) struct LabStateTests {
    static func word(_ bytes: [UInt8], _ i: Int) -> UInt256 { bytes.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress! + 32 * i) } }

    /// `getReserves()` as (reserve0, reserve1).
    static func reserves(_ eth: EthClient, _ pair: Address, at block: EthClient.Block) async throws -> (UInt256, UInt256) {
        let r = try await eth.call(to: pair, data: [0x09, 0x02, 0xf1, 0xac], block: block)
        return (word(r, 0), word(r, 1))
    }

    /// `slot0()` price and tick, and `liquidity()`.
    static func v3(_ eth: EthClient, _ pool: Address, at block: EthClient.Block) async throws -> (UInt256, Int32, UInt256) {
        let slot0 = try await eth.call(to: pool, data: [0x38, 0x50, 0xc7, 0xbd], block: block)
        let liquidity = try await eth.call(to: pool, data: [0x1a, 0x68, 0x65, 0x02], block: block)
        return (word(slot0, 0), Int32(truncatingIfNeeded: Int64(bitPattern: word(slot0, 1).w0)), word(liquidity, 0))
    }

    @Test func logsKeepEveryLabPoolEqualToTheChain() async throws {
        let devnet = try Devnet(chainId: 1, lab: true, market: true, blockTime: 0.25, seed: 3)
        defer { devnet.stop() }
        let eth = EthClient(RPCClient(HTTPTransport(url: devnet.http.absoluteString)))
        let manifest = try #require(devnet.manifest)
        var v2: [Address] = [], v3: [Address] = []
        for dex in ["sushiswap", "uniswap_v2"] {
            guard case .object(let pools)? = manifest["dexes"]?[dex]?["pools"] else { continue }
            v2 += try pools.map { try Address(hex: try #require($0.value.stringValue)) }
        }
        if case .object(let pools)? = manifest["dexes"]?["uniswap_v3"]?["pools"] {
            v3 += try pools.map { try Address(hex: try #require($0.value.stringValue)) }
        }
        #expect(v2.count >= 6 && v3.count >= 2)

        // Read every pool at block `start`, as market state does when it begins watching.
        var start = try await eth.blockNumber()
        while start < 2 { try await Task.sleep(for: .milliseconds(200)); start = try await eth.blockNumber() }
        var book = PoolBook()
        for a in v2 {
            let (r0, r1) = try await Self.reserves(eth, a, at: .number(start))
            book.register(a, pool: .uniswapV2(try V2Pool(reserve0: r0, reserve1: r1, feePips: 3000)), at: LogPosition(block: start, index: .max))
        }
        for a in v3 {
            let (price, tick, liquidity) = try await Self.v3(eth, a, at: .number(start))
            let fee = Self.word(try await eth.call(to: a, data: [0xdd, 0xca, 0x3f, 0x43]), 0).w0  // fee()
            let spacing = Self.word(try await eth.call(to: a, data: [0xd0, 0xc9, 0x3a, 0x7c]), 0).w0  // tickSpacing()
            let pool = try V3Pool(sqrtPriceX96: price, tick: tick, liquidity: liquidity, feePips: UInt32(fee), tickSpacing: Int32(spacing), ticks: [])
            book.register(a, pool: .uniswapV3(pool), at: LogPosition(block: start, index: .max))
        }

        // Let the market trade for at least 12 blocks, then follow every log since `start`.
        var head = start
        while head < start + 12 { try await Task.sleep(for: .milliseconds(250)); head = try await eth.blockNumber() }
        let logs = try await eth.logs(addresses: v2 + v3, topics: [PoolTopics.v2Sync, PoolTopics.v3Swap], from: start, to: head)
        let overlap = try await eth.logs(addresses: v2 + v3, topics: [PoolTopics.v2Sync, PoolTopics.v3Swap], from: start - 1, to: head)
        var applied = 0
        for log in logs { if case .applied = book.apply(log) { applied += 1 } }
        // A backfill that overlaps what was applied changes nothing.
        for log in overlap { _ = book.apply(log) }
        #expect(applied > 12 && book.counters.applied == applied && book.counters.malformed == 0 && book.stale.isEmpty)
        #expect(book.counters.duplicates == overlap.count)

        var moved = 0
        for a in v2 {
            let id = try #require(book.id(of: a))
            guard case .uniswapV2(let p) = book[id] else { Issue.record("not V2"); continue }
            let (r0, r1) = try await Self.reserves(eth, a, at: .number(head))
            #expect(p.reserve0 == r0 && p.reserve1 == r1, "pair \(a)")
            if book.appliedThrough[id.index].block > start { moved += 1 }
        }
        for a in v3 {
            let id = try #require(book.id(of: a))
            guard case .uniswapV3(let p) = book[id] else { Issue.record("not V3"); continue }
            let (price, tick, liquidity) = try await Self.v3(eth, a, at: .number(head))
            #expect(p.sqrtPriceX96 == price && p.tick == tick && p.liquidity == liquidity, "pool \(a)")
            if book.appliedThrough[id.index].block > start { moved += 1 }
        }
        #expect(moved >= 4)  // the market traded several pools of both kinds
    }

    /// Logs followed over a WebSocket subscription while the devnet drops every socket twice: on
    /// each (re)subscription the follower backfills with `eth_getLogs` from the last block it
    /// processed. The logs applied are exactly the chain's logs over the run, none twice, and
    /// every pool ends equal to its contract.
    @Test func droppedSocketsLoseNothingAndApplyNothingTwice() async throws {
        let devnet = try Devnet(chainId: 1, lab: true, market: true, blockTime: 0.25, seed: 5)
        defer { devnet.stop() }
        let eth = EthClient(RPCClient(HTTPTransport(url: devnet.http.absoluteString)))
        let manifest = try #require(devnet.manifest)
        var pairs: [Address] = []
        for dex in ["sushiswap", "uniswap_v2"] {
            guard case .object(let pools)? = manifest["dexes"]?[dex]?["pools"] else { continue }
            pairs += try pools.map { try Address(hex: try #require($0.value.stringValue)) }
        }
        var start = try await eth.blockNumber()
        while start < 2 { try await Task.sleep(for: .milliseconds(200)); start = try await eth.blockNumber() }
        var book = PoolBook()
        for a in pairs {
            let (r0, r1) = try await Self.reserves(eth, a, at: .number(start))
            book.register(a, pool: .uniswapV2(try V2Pool(reserve0: r0, reserve1: r1, feePips: 3000)), at: LogPosition(block: start, index: .max))
        }
        let session = WebSocketSession(url: devnet.ws.absoluteString)
        var applied: [LogPosition] = []
        var processed = start  // the last block whose logs are all applied
        var subscriptions = 0, live = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            let filter = JSONValue.object([("address", .array(pairs.map { .string($0.lowercased) })),
                                           ("topics", .array([.array([.string(Hex.encode(PoolTopics.v2Sync.bigEndianBytes))])]))])
            for await event in session.subscribe([.string("logs"), filter]) {
                switch event {
                case .subscribed:
                    subscriptions += 1
                    // Whatever happened while we were not subscribed: everything after `processed`.
                    let head = try await eth.blockNumber()
                    for log in try await eth.logs(addresses: pairs, topics: [PoolTopics.v2Sync], from: processed + 1, to: head) {
                        if case .applied = book.apply(log) { applied.append(log.position) }
                    }
                    processed = max(processed, head)
                case .item(let json):
                    let log = try EthClient.log(json)
                    live += 1
                    if case .applied = book.apply(log) { applied.append(log.position) }
                    processed = max(processed, log.blockNumber - 1)
                }
                let height = try await eth.blockNumber()
                if subscriptions == 1 && height >= start + 6 || subscriptions == 2 && height >= start + 12 {
                    _ = try await devnet.call("devnet_dropWebSockets")
                }
                if subscriptions >= 3 && height >= start + 18 { break }
            }
            group.cancelAll()
        }
        // Everything up to a head we have certainly passed, then compare with the chain's own list.
        let end = try await eth.blockNumber()
        for log in try await eth.logs(addresses: pairs, topics: [PoolTopics.v2Sync], from: processed + 1, to: end) {
            if case .applied = book.apply(log) { applied.append(log.position) }
        }
        let chain = try await eth.logs(addresses: pairs, topics: [PoolTopics.v2Sync], from: start + 1, to: end).map(\.position)
        #expect(subscriptions >= 3 && live > 0)
        #expect(Set(applied).count == applied.count, "a log applied twice")
        #expect(Set(applied) == Set(chain), "applied \(applied.count) of the chain's \(chain.count) logs")
        #expect(book.counters.malformed == 0 && book.stale.isEmpty)
        for a in pairs {
            let id = try #require(book.id(of: a))
            guard case .uniswapV2(let p) = book[id] else { continue }
            let (r0, r1) = try await Self.reserves(eth, a, at: .number(end))
            #expect(p.reserve0 == r0 && p.reserve1 == r1, "pair \(a)")
        }
    }
}
