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

    /// The lab's V2 pairs (both venues) and V3 pools, from its manifest.
    static func labPools(_ manifest: JSONValue) throws -> (v2: [Address], v3: [Address]) {
        func addresses(_ dex: String) throws -> [Address] {
            guard case .object(let pools)? = manifest["dexes"]?[dex]?["pools"] else { return [] }
            return try pools.map { try Address(hex: try #require($0.value.stringValue)) }
        }
        return (try addresses("sushiswap") + addresses("uniswap_v2"), try addresses("uniswap_v3"))
    }

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
        let devnet = try await Devnet(chainId: 1, lab: true, market: true, blockTime: 0.25, seed: 3)
        defer { devnet.stop() }
        let eth = EthClient(RPCClient(HTTPTransport(url: devnet.http.absoluteString)))
        let manifest = try #require(devnet.manifest)
        let (v2, v3) = try Self.labPools(manifest)
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
        // Block `start`'s own logs are already in the state read at `start`: duplicates too.
        let atStart = logs.filter { $0.blockNumber == start }.count
        #expect(applied > 12 && applied == logs.count - atStart && book.counters.applied == applied && book.counters.malformed == 0 && book.stale.isEmpty)
        #expect(book.counters.duplicates == overlap.count + atStart)

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
        let devnet = try await Devnet(chainId: 1, lab: true, market: true, blockTime: 0.25, seed: 5)
        defer { devnet.stop() }
        let eth = EthClient(RPCClient(HTTPTransport(url: devnet.http.absoluteString)))
        let manifest = try #require(devnet.manifest)
        let pairs = try Self.labPools(manifest).v2
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
        // Each subscription must also carry live logs before its socket is dropped (under load
        // the backfill alone could otherwise pass every height mark, and nothing live be tested).
        var subscriptions = 0, live = 0, liveHere = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            let filter = JSONValue.object([("address", .array(pairs.map { .string($0.lowercased) })),
                                           ("topics", .array([.array([.string(Hex.encode(PoolTopics.v2Sync.bigEndianBytes))])]))])
            for await event in session.subscribe([.string("logs"), filter]) {
                switch event {
                case .subscribed:
                    subscriptions += 1
                    liveHere = 0
                    // Whatever happened while we were not subscribed: everything after `processed`.
                    let head = try await eth.blockNumber()
                    for log in try await eth.logs(addresses: pairs, topics: [PoolTopics.v2Sync], from: processed + 1, to: head) {
                        if case .applied = book.apply(log) { applied.append(log.position) }
                    }
                    processed = max(processed, head)
                case .item(let json):
                    let log = try EthClient.log(json)
                    live += 1
                    liveHere += 1
                    if case .applied = book.apply(log) { applied.append(log.position) }
                    processed = max(processed, log.blockNumber - 1)
                }
                let height = try await eth.blockNumber()
                guard liveHere > 0 else { continue }
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

    /// Initial state through Multicall3 (V3 with its tick bitmap and ticks), kept by logs while the
    /// market trades: every pool then equals a fresh read at the head, ticks and liquidityGross
    /// included, and V3 quotes on it equal the real QuoterV2's at the head, to the wei.
    @Test func multicallStateWithTicksQuotesLikeTheRealQuoter() async throws {
        let devnet = try await Devnet(chainId: 1, lab: true, market: true, blockTime: 0.25, seed: 9)
        defer { devnet.stop() }
        let eth = EthClient(RPCClient(HTTPTransport(url: devnet.http.absoluteString)))
        let manifest = try #require(devnet.manifest)
        let reader = PoolStateReader(eth: eth, multicall: try Address(hex: try #require(manifest["multicall3"]?.stringValue)), batchSize: 7)
        let quoter = try Address(hex: try #require(manifest["dexes"]?["uniswap_v3"]?["quoter"]?.stringValue))
        let (v2, v3) = try Self.labPools(manifest)
        var start = try await eth.blockNumber()
        while start < 2 { try await Task.sleep(for: .milliseconds(200)); start = try await eth.blockNumber() }
        var book = PoolBook()
        for (a, p) in zip(v2, try await reader.v2(v2, at: start)) {
            book.register(a, pool: .uniswapV2(try #require(p)), at: LogPosition(block: start, index: .max))
        }
        let initial = try await reader.v3(v3, at: start)
        for (a, s) in zip(v3, initial) {
            let s = try #require(s)
            #expect(!s.pool.ticks.isEmpty, "pool \(a) has initialised ticks")
            book.register(a, pool: .uniswapV3(s.pool), at: LogPosition(block: start, index: .max), tickGross: s.tickGross)
        }
        var head = start
        while head < start + 10 { try await Task.sleep(for: .milliseconds(250)); head = try await eth.blockNumber() }
        let topics = [PoolTopics.v2Sync, PoolTopics.v3Swap, PoolTopics.v3Mint, PoolTopics.v3Burn]
        for log in try await eth.logs(addresses: v2 + v3, topics: topics, from: start + 1, to: head) { _ = book.apply(log) }
        #expect(book.counters.malformed == 0 && book.stale.isEmpty && book.counters.applied > 10)

        for (a, p) in zip(v2, try await reader.v2(v2, at: head)) {
            #expect(book[try #require(book.id(of: a))] == .uniswapV2(try #require(p)), "pair \(a)")
        }
        var quoted = 0
        for (a, fresh) in zip(v3, try await reader.v3(v3, at: head)) {
            let fresh = try #require(fresh)
            let id = try #require(book.id(of: a))
            #expect(book[id] == .uniswapV3(fresh.pool), "pool \(a)")
            for t in fresh.pool.ticks { #expect(book.liquidityGross(id, tick: t.index) == fresh.tickGross[t.index]) }
            guard case .uniswapV3(let ours) = book[id] else { continue }
            let token0 = Self.word(try await eth.call(to: a, data: [0x0d, 0xfe, 0x16, 0x81], block: .number(head)), 0)
            let token1 = Self.word(try await eth.call(to: a, data: [0xd2, 0x12, 0x20, 0xa7], block: .number(head)), 0)
            // Trades of 0.001% to 1% of the input side's virtual reserve (L/√P or L·√P). Only quotes
            // whose price stays within the bitmap words read are compared: beyond them the state is
            // incomplete by design (the reader's `covered`).
            let s = ours.sqrtPriceX96.doubleValue / 79_228_162_514_264_337_593_543_950_336.0
            for zeroForOne in [true, false] {
                let reserve = zeroForOne ? ours.liquidity.doubleValue / s : ours.liquidity.doubleValue * s
                for fraction in [1e-5, 1e-4, 1e-3, 1e-2] {
                    let amount = UInt256(UInt64(min(reserve * fraction, 1.8e19)))
                    guard !amount.isZero else { continue }
                    let (tIn, tOut) = zeroForOne ? (token0, token1) : (token1, token0)
                    let args = tIn.bigEndianBytes + tOut.bigEndianBytes + amount.bigEndianBytes + UInt256(UInt64(ours.feePips)).bigEndianBytes + UInt256.zero.bigEndianBytes
                    let real = try await eth.call(to: quoter, data: [0xc6, 0xa5, 0x02, 0x6a] + args, block: .number(head))
                    let mine = try ours.swap(zeroForOne: zeroForOne, amount: amount)
                    guard fresh.covered.contains(mine.tickAfter) else { continue }
                    #expect(mine.amountOut == Self.word(real, 0) && mine.sqrtPriceX96After == Self.word(real, 1),
                            "pool \(a) \(zeroForOne) \(amount): ours \(mine.amountOut) to tick \(mine.tickAfter), the quoter's \(String(describing: Self.word(real, 0)))")
                    quoted += 1
                }
            }
        }
        #expect(quoted >= 20)
    }
}
