import ArbiterTestKit
import EVMCodec
import Foundation
import JSONRPC
import LabKit
import SolanaClient
import SolanaPrimitives
import Testing

/// Jupiter and Jito clients against the stand-ins: a quote's instructions in a v0 transaction
/// with the route's lookup table and a tip, bundled, landing with exactly the quoted output; the
/// quote passed back verbatim; expired quotes re-quoted with more slippage; rate limits, an
/// engine outage and a dropped bundle as the errors and statuses a strategy acts on.
extension SolanaClientTests {
    @Test func aJupiterRouteBundledWithATipLandsWithTheQuotedOutput() async throws {
        let user = try Keypair(seed: Array(repeating: 12, count: 32))
        // 2 s slots: a quote lives 150 of them, five minutes — the whole suite starting at once on
        // two cores has stalled this process for over a minute between a quote and its use.
        let cluster = try await SolanaStandIn(slotMillis: 2_000, fund: [user.publicKey.base58: 20_000_000_000], tokens: [user.publicKey.base58: ["SOL": 30_000_000_000]])
        defer { cluster.stop() }
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let jupiter = JupiterClient(base: cluster.jupiter, perSecond: 20, burst: 5)
        let jito = JitoClient(engine: cluster.engine)
        let sol = try PublicKey(base58: try #require(cluster.market["mints"]?["SOL"]?["mint"]?.stringValue))
        let usdc = try PublicKey(base58: try #require(cluster.market["mints"]?["USDC"]?["mint"]?.stringValue))
        let quote = try await jupiter.quote(input: sol, output: usdc, amount: 2_000_000_000, slippageBps: 30)
        let ixs = try await jupiter.swapInstructions(quote, user: user.publicKey)
        #expect(quote.otherAmountThreshold == quote.outAmount * 9_970 / 10_000 && !quote.pools.isEmpty)
        let tables = try await ixs.lookupTables.asyncMap { try #require(try await rpc.lookupTable($0)) }
        let tips = try await jito.tipAccounts()
        #expect(tips.count == 8)
        let tip = SystemProgram.transfer(from: user.publicKey, to: tips[3], lamports: 10_000)
        let blockhash = try await rpc.latestBlockhash()
        let message = try Message.compile(payer: user.publicKey, instructions: [ComputeBudget.setComputeUnitLimit(80_000)] + ixs.setup + [ixs.swap, tip],
                                          recentBlockhash: blockhash.hash, tables: tables)
        #expect(!message.lookups.isEmpty && message.accountKeys.contains(tips[3]))  // the tip account is a static key, never from a table
        let tx = try SolanaTransaction(message: message, signers: [user])
        let ata = try PublicKey.associatedTokenAddress(owner: user.publicKey, mint: usdc)
        let before = try await rpc.account(ata)?.tokenAccount?.amount ?? 0
        let id = try await jito.sendBundle([tx])
        var landed: LandedBundle?
        let deadline = ContinuousClock.now + .seconds(60)
        while landed == nil && ContinuousClock.now < deadline {
            landed = try await jito.statuses([id]).first ?? nil
            try await Task.sleep(for: .milliseconds(50))
        }
        let bundle = try #require(landed)
        #expect(bundle.signatures == [tx.id])
        let inflight = try #require(try await jito.inflightStatuses([id]).first)
        #expect(inflight.state == .landed && inflight.landedSlot == bundle.slot)
        let after = try await rpc.account(ata)?.tokenAccount?.amount ?? 0
        #expect(after - before == quote.outAmount)  // no drift here: exactly the quote
        #expect(await jupiter.calls == 2)
        // The tip floor now has a landed tip (10,000 lamports) to report; the fastest engine of a
        // list skips one that does not answer.
        let floor = try await JitoClient.tipFloor(cluster.engine + "/api/v1/bundles/tip_floor")
        #expect(floor.p50 == 10_000 && floor.p99 == 10_000)
        #expect(await JitoClient.fastest(["http://127.0.0.1:9", cluster.engine], probes: 2, timeout: .seconds(1)) == cluster.engine)
        #expect(await JitoClient.fastest(["http://127.0.0.1:9"], probes: 1, timeout: .seconds(1)) == nil)
    }

    @Test func expiredQuotesRateLimitsOutagesAndDroppedBundles() async throws {
        let user = try Keypair(seed: Array(repeating: 13, count: 32))
        let cluster = try await SolanaStandIn(slotMillis: 200, fund: [user.publicKey.base58: 20_000_000_000], tokens: [user.publicKey.base58: ["SOL": 30_000_000_000]])
        defer { cluster.stop() }
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let sol = try PublicKey(base58: try #require(cluster.market["mints"]?["SOL"]?["mint"]?.stringValue))
        let usdc = try PublicKey(base58: try #require(cluster.market["mints"]?["USDC"]?["mint"]?.stringValue))
        // Our own bucket: two calls a burst, refilled slowly; the third is refused here, never sent.
        let slow = JupiterClient(base: cluster.jupiter, perSecond: 0.01, burst: 2)
        _ = try await slow.quote(input: sol, output: usdc, amount: 1_000, slippageBps: 50)
        _ = try await slow.quote(input: sol, output: usdc, amount: 1_000, slippageBps: 50)
        await #expect(throws: JupiterError(.rateLimited, "the plan's rate is spent (0.01/s)")) { _ = try await slow.quote(input: sol, output: usdc, amount: 1_000, slippageBps: 50) }
        #expect(await slow.calls == 2)
        // The server's 429.
        let jupiter = JupiterClient(base: cluster.jupiter, perSecond: 50, burst: 10)
        try await cluster.control("standin_fault", [.object([("jupiterRateLimit", .number("1"))])])
        do { _ = try await jupiter.quote(input: sol, output: usdc, amount: 1_000, slippageBps: 50); Issue.record("no 429") } catch { #expect(error.kind == .rateLimited) }
        // An expired quote is quoted again, with more slippage room.
        let q = try await jupiter.quote(input: sol, output: usdc, amount: 1_000_000, slippageBps: 50)
        var old = q
        guard case .object(let fields) = q.raw else { Issue.record("a quote that is not an object"); return }
        old.raw = .object(fields.map { $0.key == "contextSlot" ? (key: $0.key, value: .number("0")) : $0 })
        _ = try await cluster.control("standin_step", [.number("160")])
        do { _ = try await jupiter.swapInstructions(old, user: user.publicKey); Issue.record("an expired quote was built") } catch { #expect(error.kind == .quoteExpired) }
        do { _ = try await jupiter.quote(input: sol, output: sol, amount: 5, slippageBps: 50); Issue.record("same mints quoted") } catch { #expect(error.kind == .unavailable) }

        let jito = JitoClient(engine: cluster.engine)
        let tip = try await jito.tipAccounts()[0]
        func tipped(_ lamports: UInt64) async throws -> SolanaTransaction {
            try SolanaTransaction(message: try Message.compile(payer: user.publicKey, instructions: [SystemProgram.transfer(from: user.publicKey, to: tip, lamports: lamports)],
                                                               recentBlockhash: try await rpc.latestBlockhash().hash, tables: []), signers: [user])
        }
        try await cluster.control("standin_fault", [.object([("bundleRateLimit", .number("1"))])])
        let first = try await tipped(5_000), second = try await tipped(5_001)
        do { _ = try await jito.sendBundle([first]); Issue.record("no 429") } catch { #expect(error.code == .rateLimited) }
        try await cluster.control("standin_fault", [.object([("engineDown", .bool(true))])])
        do { _ = try await jito.sendBundle([second]); Issue.record("no outage") } catch { #expect(error.code == .transport) }
        try await cluster.control("standin_fault", [.object([("engineDown", .bool(false)), ("dropBundles", .number("1"))])])
        let dropped = try await jito.sendBundle([try await tipped(5_002)])
        _ = try await cluster.control("standin_step", [.number("3")])
        #expect(try await jito.statuses([dropped]) == [nil])
        #expect(try await jito.inflightStatuses([dropped]).first?.state == .pending)
        await #expect(throws: RPCError.self) { _ = try await jito.sendBundle([]) }
    }
}

extension Array {
    func asyncMap<T>(_ f: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await f(e)) }
        return out
    }
}
