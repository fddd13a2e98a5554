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

/// Partition P4's detector against the stand-in cluster: it finds the Raydium AMM v4 pools by
/// `getProgramAccounts` (the `AmmInfo` accounts the stand-in builds with raydiumsdk's layout),
/// decodes them and their vaults, and publishes the round trip between the two SOL/USDC pools
/// the market prices apart, each leg's output what the program's formula pays on the vaults as
/// the RPC reads them (computed here, not by the code under test).
@Suite(.serialized) struct SolanaPoolWatcherTests {
    let sol = try! PublicKey(base58: "So11111111111111111111111111111111111111112")

    /// Raydium's `swap_base_in`: fee = ceil(in·num/den), out = rOut·(in − fee) / (rIn + in − fee).
    static func raydiumOut(_ x: UInt64, _ rIn: UInt64, _ rOut: UInt64, _ feeBps: UInt64) -> UInt64 {
        let fee = (x * feeBps + 9_999) / 10_000
        let after = UInt256(x - fee)
        return (UInt256(rOut) * after / (UInt256(rIn) + after)).w0
    }

    @Test func findsThePoolsByProgramAndPublishesTheRoundTripBetweenThem() async throws {
        let cluster = try SolanaStandIn(slotMillis: 200)
        defer { cluster.stop() }
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let start = SolanaCycleDetector.Start(minProfit: 1_000_000, maxIn: 30_000_000_000, costs: 10_000)
        let watcher = SolanaPoolWatcher(rpc: rpc, bus: InProcessBus(), configuration: .init(venues: [.raydiumAMM], detector: .init(starts: [sol: start])),
                                        logger: Logger(label: "test.solana.watch"), clock: { 1_000 })
        let pools = try #require(cluster.market["pools"]?.arrayValue)
        #expect(try await watcher.discover() == pools.count)
        #expect(try await watcher.discover() == 0, "a pool already followed is not new")
        let published = try await watcher.poll(now: 1_000)
        let status = await watcher.status
        #expect(status.pools == pools.count && status.book.undecodable == 0 && status.failedPolls == 0)

        // SOL/USDC at 150 in one pool and 151.5 in the other: sell SOL where it is dear, buy back where cheap.
        let best = try #require(published.first)
        let legs = try #require(best.solana?.legs)
        #expect(best.kind == .solana && legs.count >= 2 && legs.first?.mintIn == sol.bytes && legs.last?.mintOut == sol.bytes)
        var amount = best.amountIn.w0
        for leg in legs {
            let pool = try #require(pools.first { Base58.decode($0["pool"]?.stringValue ?? "") == leg.pool })
            let (a, b) = (try PublicKey(base58: pool["vaultA"]!.stringValue!), try PublicKey(base58: pool["vaultB"]!.stringValue!))
            let read = try await rpc.accounts([a, b])
            let (ra, rb) = (try #require(read[0]?.tokenAccount?.amount), try #require(read[1]?.tokenAccount?.amount))
            guard case .number(let fee)? = pool["feeBps"] else { throw CancellationError() }
            let aIn = Base58.decode(pool["mintA"]!.stringValue!) == leg.mintIn
            amount = aIn ? Self.raydiumOut(amount, ra, rb, UInt64(fee)!) : Self.raydiumOut(amount, rb, ra, UInt64(fee)!)
            #expect(leg.amountOut == amount, "leg through \(pool["label"]?.stringValue ?? "?")")
        }
        #expect(Int256(bitPattern: UInt256(amount)) - Int256(bitPattern: best.amountIn) == best.grossProfit && best.grossProfit > .zero)

        // Nothing moved: the same state is not published again.
        #expect(try await watcher.poll(now: 2_000).isEmpty)
        // The cluster gone: the poll fails (the service counts it and tries again next interval).
        cluster.stop()
        await #expect(throws: RPCError.self) { _ = try await watcher.poll(now: 3_000) }
    }
}
