import ArbiterTestKit
import EVMPrimitives
import JSONRPC
import LabKit
import Logging
import Opportunities
import SolanaClient
import SolanaDetection
import SolanaPrimitives
import SolanaWatch
import StreamBus
import Testing

/// Partition P4's detector against the stand-in cluster: it finds the Raydium AMM v4 pools, the
/// Orca Whirlpool, the Meteora DLMM pair and the Raydium CLMM pool by `getProgramAccounts`
/// (accounts the stand-in builds in the programs' layouts), decodes them with their vaults, tick
/// arrays, bin arrays and config, and the Phoenix book, and publishes the round trips between the
/// SOL/USDC pools the market prices apart, each leg's output what the stand-in's Jupiter quotes
/// through that one pool (Raydium's formula; Orca's own swap simulator; the CLMM and Phoenix
/// transcriptions), not our quoting;
/// a triangle through the DLMM pair is quoted the same way.
@Suite(.serialized) struct SolanaPoolWatcherTests {
    let sol = try! PublicKey(base58: "So11111111111111111111111111111111111111112")

    @Test func findsThePoolsByProgramAndPublishesTheRoundTripBetweenThem() async throws {
        let cluster = try await SolanaStandIn(slotMillis: 200)
        defer { cluster.stop() }
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let start = SolanaCycleDetector.Start(minProfit: 1_000_000, maxIn: 30_000_000_000, costs: 10_000)
        let watcher = SolanaPoolWatcher(rpc: rpc, bus: InProcessBus(), configuration: .init(venues: SolanaPoolBook.Venue.allCases, detector: .init(starts: [sol: start])),
                                        logger: Logger(label: "test.solana.watch"), clock: { 1_000 })
        let pools = try #require(cluster.market["pools"]?.arrayValue)
        #expect(try await watcher.discover() == pools.count)
        #expect(try await watcher.discover() == 0, "a pool already followed is not new")
        let published = try await watcher.poll(now: 1_000)
        let status = await watcher.status
        #expect(status.pools == pools.count && status.book.undecodable == 0 && status.failedPolls == 0)

        // SOL/USDC at 150 in one pool and 151.5 in the other: sell SOL where it is dear, buy back
        // where cheap; and triangles through USDT (one through the DLMM pair). Every published
        // cycle is checked leg by leg.
        let jupiter = JupiterClient(base: cluster.jupiter, perSecond: 50, burst: 20)
        let labels = ["raydium": "Raydium", "whirlpool": "Whirlpool", "dlmm": "Meteora DLMM", "clmm": "Raydium CLMM", "phoenix": "Phoenix"]
        var venues = Set<String>()
        #expect(published.count >= 2)
        for o in published {
            let legs = try #require(o.solana?.legs)
            #expect(o.kind == .solana && legs.count >= 2 && legs.first?.mintIn == sol.bytes && legs.last?.mintOut == sol.bytes)
            var amount = o.amountIn.w0
            for leg in legs {
                let pool = try #require(pools.first { Base58.decode($0["pool"]?.stringValue ?? "") == leg.pool })
                let venue = pool["venue"]?.stringValue ?? "?"
                venues.insert(venue)
                // The venue's direct route only: the others excluded.
                let q = try await jupiter.quote(input: try PublicKey(bytes: leg.mintIn), output: try PublicKey(bytes: leg.mintOut), amount: amount,
                                                slippageBps: 0, onlyDirectRoutes: true, excludeDexes: labels.filter { $0.key != venue }.map(\.value))
                #expect(q.pools == [try PublicKey(bytes: leg.pool)])
                amount = q.outAmount
                #expect(leg.amountOut == amount, "leg through \(venue)")
            }
            #expect(Int256(bitPattern: UInt256(amount)) - Int256(bitPattern: o.amountIn) == o.grossProfit && o.grossProfit > .zero)
        }
        #expect(venues == ["raydium", "whirlpool", "dlmm", "clmm", "phoenix"], "published cycles went through \(venues)")

        // Nothing moved: the same state is not published again.
        #expect(try await watcher.poll(now: 2_000).isEmpty)
        // The cluster gone: the poll fails (the service counts it and tries again next interval).
        cluster.stop()
        await #expect(throws: RPCError.self) { _ = try await watcher.poll(now: 3_000) }
    }

    /// With a mint list (what `arbiter run` passes: the registry's Solana tokens), discovery asks
    /// the node only for pools holding one of those mints at a mint position, and follows those
    /// whose other mint is listed too; the rest are counted, not followed.
    @Test func discoveryByMintsFollowsOnlyPoolsBetweenListedMints() async throws {
        let cluster = try await SolanaStandIn(slotMillis: 200)
        defer { cluster.stop() }
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let mints = try #require(cluster.market["mints"])
        let usdc = try PublicKey(base58: try #require(mints["USDC"]?["mint"]?.stringValue))
        let listed: Set<PublicKey> = [sol, usdc]
        let pools = try #require(cluster.market["pools"]?.arrayValue)
        let between = try pools.filter { p in
            try listed.contains(PublicKey(base58: p["mintA"]?.stringValue ?? "")) && listed.contains(PublicKey(base58: p["mintB"]?.stringValue ?? ""))
        }
        let touching = try pools.filter { p in
            try listed.contains(PublicKey(base58: p["mintA"]?.stringValue ?? "")) || listed.contains(PublicKey(base58: p["mintB"]?.stringValue ?? ""))
        }
        #expect(between.count >= 2 && touching.count > between.count, "the market has pools on both sides of the list")
        let start = SolanaCycleDetector.Start(minProfit: 1_000_000, maxIn: 30_000_000_000, costs: 10_000)
        let watcher = SolanaPoolWatcher(rpc: rpc, bus: InProcessBus(), configuration: .init(detector: .init(starts: [sol: start]), mints: listed),
                                        logger: Logger(label: "test.solana.watch"), clock: { 1_000 })
        #expect(try await watcher.discover() == between.count)
        #expect(await watcher.status.outside == touching.count - between.count)
        // Once read with their vaults and arrays, those pools and no other; the SOL/USDC round
        // trip is still there to find.
        let published = try await watcher.poll(now: 1_000)
        let followed = Set(await watcher.pools().keys)
        #expect(try followed == Set(between.map { try PublicKey(base58: $0["pool"]?.stringValue ?? "") }))
        #expect(!published.isEmpty && published.allSatisfy { o in o.solana?.legs.allSatisfy { followed.contains(try! PublicKey(bytes: $0.pool)) } ?? false })
    }

    /// Kept fresh by subscriptions alone (the fallback poll ten minutes away), by program or account
    /// by account: the stand-in's slots are stepped by hand, each with a random trade on one pool
    /// (a Raydium trade moves two vaults, a Whirlpool's its price and perhaps its tick arrays, a
    /// DLMM pair's its active bin and bins); once the notifications are in, every pool the
    /// follower holds equals what a fresh watcher reads from the cluster.
    @Test(arguments: [SolanaPoolWatcher.Following.programs, .accounts(limit: 1_000)])
    func subscriptionsKeepEveryPoolAsTheClusterHasIt(_ following: SolanaPoolWatcher.Following) async throws {
        let cluster = try await SolanaStandIn(slotMillis: 600_000, drift: true)
        defer { cluster.stop() }
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let start = SolanaCycleDetector.Start(minProfit: 1_000_000, maxIn: 30_000_000_000, costs: 10_000)
        let configuration = SolanaPoolWatcher.Configuration(detector: .init(starts: [sol: start]), following: following)
        let follower = SolanaPoolWatcher(rpc: rpc, bus: InProcessBus(), configuration: configuration, logger: Logger(label: "test.solana.watch"), clock: { 1 })
        let session = WebSocketSession(url: cluster.ws)
        let connection = Task { await session.run() }
        defer { connection.cancel() }
        let follows = Task { await follower.follow(SolanaSubscriptions(session), fallback: .seconds(600)) }
        defer { follows.cancel() }
        // Subscribed: the programs, the three Raydium pools' six vaults and the Clock sysvar, or
        // every followed account (pools, vaults, tick and bin arrays), each confirmed. Waited for by deadline.
        func until(_ what: String, _ done: () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(240)
            while try await !done() {
                guard ContinuousClock.now < deadline else { Issue.record("timed out waiting for \(what): \(await follower.status)"); return }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        // Each subscription confirmed now, counted once (a count of confirmations can reach its
        // mark with one confirmed twice and another not yet: the step's writes then go unseen).
        let venues = configuration.venues.count
        let subscribed: @Sendable (SolanaPoolWatcher.Status) -> Bool = { s in
            following == .programs ? s.subscriptions == 6 && s.live == venues + 1 + 6 : s.subscriptions >= 10 && s.live == s.subscriptions + 1
        }
        try await until("every subscription") { subscribed(await follower.status) }
        let polls = await follower.status.polls
        try await cluster.control("standin_step", [.number("30")])
        let reader = SolanaPoolWatcher(rpc: rpc, bus: InProcessBus(), configuration: configuration, logger: Logger(label: "test.solana.read"), clock: { 1 })
        try await reader.discover()
        try await reader.poll(now: 1)
        let read = await reader.pools()
        #expect(read.count == 7)
        try await until("the follower to hold what the cluster holds") { await follower.pools() == read }
        let held = await follower.pools()
        for (k, p) in read where held[k] != p {
            Issue.record("\(k): read \(String(describing: p).prefix(400)) … held \(String(describing: held[k]).prefix(400))")
        }
        let status = await follower.status
        #expect(status.polls == polls, "no poll: the notifications alone kept it")
        #expect(status.notifications >= 30 && status.book.undecodable == 0, "\(status)")
        // Both at the cluster's time, from its Clock sysvar (the follower's by notification).
        let readClock = await reader.status.clock
        #expect(status.clock > 1_700_000_000 && status.clock == readClock && status.clockUnreadable == 0, "\(status)")
        if following != .programs {
            // Every account it follows now is subscribed (tick and bin arrays move with the price).
            #expect(status.subscriptions == (await follower.followedCount), "\(status)")
        }
    }

    /// A read answered after a newer notification of the same account (subscriptions and reads
    /// are separate tasks) is refused and counted; and a later write that restores the refused
    /// read's bytes is still applied (the watcher remembered the newer bytes, not the refused ones).
    @Test func anOlderReadIsRefusedAndNeverHidesALaterWriteOfTheSameBytes() async throws {
        let cluster = try await SolanaStandIn(slotMillis: 600_000)
        defer { cluster.stop() }
        let (rpc, configuration, watcher) = try await polledWatcher(cluster)
        let (pool, vaults, accounts, slot) = try await raydiumVaults(cluster, rpc)
        /// Both vaults `more` units fuller (a trade moves both; the pool changes with the second).
        func holding(_ more: UInt64) -> [SolanaAccount] { accounts.map { fuller($0, by: more) } }
        func write(_ w: SolanaPoolWatcher, _ accounts: [SolanaAccount], at slot: UInt64, read: Bool = false) async {
            for (k, a) in zip(vaults, accounts) { await w.notified(k, slot: slot, account: a, now: 1, read: read) }
        }
        let (first, second) = (holding(1_000_000), holding(2_000_000))
        await write(watcher, second, at: slot + 2)
        let atSecond = await watcher.pools()[pool]
        // The older read: refused, counted, the pool as it was.
        await write(watcher, first, at: slot + 1, read: true)
        #expect(await watcher.pools()[pool] == atSecond)
        #expect(await watcher.status.olderReads == 2)
        // A later write back to the first's bytes: applied.
        await write(watcher, first, at: slot + 3)
        let restored = await watcher.pools()[pool]
        #expect(restored != atSecond)
        // The same as a watcher that only ever saw that write.
        let other = SolanaPoolWatcher(rpc: rpc, bus: InProcessBus(), configuration: configuration, logger: Logger(label: "test.solana.watch"), clock: { 1 })
        try await other.discover()
        try await other.poll(now: 1)
        await write(other, first, at: slot + 3)
        #expect(await other.pools()[pool] == restored)
    }

    /// One trade seen part by a read, part by a notification: the coin vault read alone (a
    /// subscription just confirmed) as of a slot after the trade, its own notification of the
    /// trade then refused as older, the pc vault's notification applied. The read covered the
    /// trade's slot, so the pool is rebuilt from both (comparing the two slots as equals would
    /// hold it half-written until the next trade). And a vault written alone (no trade moved the
    /// other) completes once the other is seen, unchanged, as of that slot.
    @Test func aTradeSeenPartByAReadPartByANotificationIsWholeOnceBothCoverIt() async throws {
        let cluster = try await SolanaStandIn(slotMillis: 600_000)
        defer { cluster.stop() }
        let (rpc, _, watcher) = try await polledWatcher(cluster)
        let (pool, vaults, accounts, slot) = try await raydiumVaults(cluster, rpc)
        func reserves() async -> [UInt64] {
            guard case .raydiumAMM(let p)? = await watcher.pools()[pool] else {
                Issue.record("no Raydium pool held")
                return []
            }
            return [p.coinReserve, p.pcReserve]
        }
        let before = await reserves()
        let traded = [fuller(accounts[0], by: 5_000_000), fuller(accounts[1], by: 7_000_000)]
        // The coin vault read as of slot + 5, after the trade at slot + 3: half the trade known.
        await watcher.notified(vaults[0], slot: slot + 5, account: traded[0], now: 1, read: true)
        #expect(await reserves() == before)
        let halfWritten = await watcher.status.book.halfWritten
        #expect(halfWritten >= 1)
        // Its notification of the trade comes after the read: older, refused.
        await watcher.notified(vaults[0], slot: slot + 3, account: traded[0], now: 1)
        #expect(await watcher.status.olderReads == 1)
        // The pc vault's notification: both vaults now known as of the trade's slot.
        await watcher.notified(vaults[1], slot: slot + 3, account: traded[1], now: 1)
        #expect(await reserves() == [before[0] + 5_000_000, before[1] + 7_000_000])

        // The coin vault alone written at slot + 8: half-written while the pc vault is known only
        // as of slot + 3; the pc vault read as of slot + 9, the same bytes, completes it.
        await watcher.notified(vaults[0], slot: slot + 8, account: fuller(accounts[0], by: 6_000_000), now: 1)
        #expect(await reserves() == [before[0] + 5_000_000, before[1] + 7_000_000])
        #expect(await watcher.status.book.halfWritten > halfWritten)
        await watcher.notified(vaults[1], slot: slot + 9, account: traded[1], now: 1, read: true)
        #expect(await reserves() == [before[0] + 6_000_000, before[1] + 7_000_000])
    }

    /// A watcher of every venue over `cluster`, its pools discovered and read once.
    func polledWatcher(_ cluster: SolanaStandIn) async throws -> (SolanaRPC, SolanaPoolWatcher.Configuration, SolanaPoolWatcher) {
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let start = SolanaCycleDetector.Start(minProfit: 1_000_000, maxIn: 30_000_000_000, costs: 10_000)
        let configuration = SolanaPoolWatcher.Configuration(detector: .init(starts: [sol: start]))
        let watcher = SolanaPoolWatcher(rpc: rpc, bus: InProcessBus(), configuration: configuration, logger: Logger(label: "test.solana.watch"), clock: { 1 })
        try await watcher.discover()
        try await watcher.poll(now: 1)
        return (rpc, configuration, watcher)
    }

    /// The first Raydium pool of the stand-in's market, its two vaults as read now and the slot.
    func raydiumVaults(_ cluster: SolanaStandIn, _ rpc: SolanaRPC) async throws -> (PublicKey, [PublicKey], [SolanaAccount], UInt64) {
        let raydium = try #require(cluster.market["pools"]?.arrayValue?.first { $0["venue"]?.stringValue == "raydium" })
        let pool = try PublicKey(base58: try #require(raydium["pool"]?.stringValue))
        let vaults = try ["vaultA", "vaultB"].map { try PublicKey(base58: try #require(raydium[$0]?.stringValue)) }
        let read = try await rpc.accountsRead(vaults)
        return (pool, vaults, try read.map { try #require($0.account) }, read[0].slot)
    }

    /// A token account `more` units fuller (its amount, u64 at offset 64).
    func fuller(_ account: SolanaAccount, by more: UInt64) -> SolanaAccount {
        let held = account.data[64..<72].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var a = account
        a.data.replaceSubrange(64..<72, with: (0..<8).map { UInt8(truncatingIfNeeded: (held + more) >> (8 * $0)) })
        return a
    }
}
