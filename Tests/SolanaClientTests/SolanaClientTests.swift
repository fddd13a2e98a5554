import ArbiterTestKit
import EVMCodec
import Foundation
import JSONRPC
import LabKit
import SolanaClient
import SolanaPrimitives
import Testing

/// The Solana RPC client against the stand-in cluster on loopback: blockhash freshness, a
/// transfer simulated, sent and followed to `confirmed` with the payer charged exactly amount +
/// fee, accounts and lookup tables read strictly, subscriptions with Solana's integer ids, and the
/// cluster's errors as errors.
@Suite(.serialized) struct SolanaClientTests {
    static let payer = try! Keypair(seed: Array(repeating: 9, count: 32))

    @Test func aTransferIsSimulatedSentConfirmedAndChargedExactly() async throws {
        let cluster = try await SolanaStandIn(slotMillis: 200, fund: [Self.payer.publicKey.base58: 20_000_000_000])
        defer { cluster.stop() }
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let latest = try await rpc.latestBlockhash()
        let height = try await rpc.blockHeight()
        #expect(latest.isFresh(atBlockHeight: height, margin: 10) && !latest.isFresh(atBlockHeight: latest.lastValidBlockHeight, margin: 1))
        let to = try Keypair(seed: Array(repeating: 4, count: 32)).publicKey
        let message = try Message.compile(payer: Self.payer.publicKey, instructions: [
            ComputeBudget.setComputeUnitLimit(600), ComputeBudget.setComputeUnitPrice(5_000_000),
            SystemProgram.transfer(from: Self.payer.publicKey, to: to, lamports: 2_500_000_000),
        ], recentBlockhash: latest.hash, tables: [])
        let tx = try SolanaTransaction(message: message, signers: [Self.payer])
        let sim = try await rpc.simulate(tx, accounts: [to])
        #expect(sim.err == nil && sim.unitsConsumed == 450 && sim.accounts.first??.lamports == 2_500_000_000)
        let before = try await rpc.balance(Self.payer.publicKey)
        let sig = try await rpc.send(tx)
        #expect(sig == tx.id)
        var status: SignatureStatus?
        for _ in 0..<100 where (status?.confirmation ?? .processed) < .confirmed {
            status = try await rpc.statuses([sig]).first ?? nil
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(status?.err == nil && (status?.confirmation ?? .processed) >= .confirmed)
        // 5,000 for the signature + ceil(600 × 5,000,000 / 10^6) = 3,000 priority.
        let after = try await rpc.balance(Self.payer.publicKey)
        #expect(before - after == 2_500_000_000 + 5_000 + 3_000)
        let fees = try await rpc.recentPrioritizationFees([to])
        #expect(fees.contains { $0.microLamports == 5_000_000 })
        let account = try #require(try await rpc.account(to))
        #expect(account.lamports == 2_500_000_000 && account.owner == .systemProgram && account.data.isEmpty)

        // The same transaction again: the cluster refuses it (already processed), an error here.
        await #expect(throws: RPCError.self) { _ = try await rpc.send(tx) }
        // A blockhash the cluster let expire: simulation says so, in the cluster's words.
        _ = try await cluster.control("standin_fault", [.object([("expireBlockhash", .string(Base58.encode(latest.hash)))])])
        let stale = try SolanaTransaction(message: try Message.compile(payer: Self.payer.publicKey, instructions: [
            SystemProgram.transfer(from: Self.payer.publicKey, to: to, lamports: 1)], recentBlockhash: latest.hash, tables: []), signers: [Self.payer])
        #expect(try await rpc.simulate(stale).err == .string("BlockhashNotFound"))
    }

    @Test func marketAccountsLookupTablesAndSubscriptions() async throws {
        let cluster = try await SolanaStandIn(slotMillis: 200, fund: [Self.payer.publicKey.base58: 20_000_000_000])
        defer { cluster.stop() }
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        let table = try PublicKey(base58: try #require(cluster.market["lookupTable"]?.stringValue))
        let alt = try #require(try await rpc.lookupTable(table))
        let pools = try #require(cluster.market["pools"]?.arrayValue)
        // The programs, then per pool its key, authority, vaults, its tick or bin arrays and (CLMM) its config.
        #expect(alt.addresses.count == 2 + pools.reduce(0) { $0 + 4 + ($1["arrays"]?.arrayValue?.count ?? 0) + ($1["config"]?.stringValue == nil ? 0 : 1) })
        let vault = try PublicKey(base58: try #require(pools[0]["vaultB"]?.stringValue))
        #expect(alt.addresses.contains(vault))
        let accounts = try await rpc.accounts([vault, try Keypair(seed: Array(repeating: 5, count: 32)).publicKey])
        let token = try #require(accounts[0]?.tokenAccount)
        #expect(token.amount == 3_000_000_000_000 && accounts[1] == nil)
        // A key that is not a lookup table is an error, not an empty table.
        await #expect(throws: RPCError.self) { _ = try await rpc.lookupTable(vault) }

        let session = WebSocketSession(url: cluster.ws)
        let running = Task { await session.run() }
        defer { running.cancel() }
        let subs = SolanaSubscriptions(session)
        var slots: [UInt64] = []
        for await e in subs.slots() {
            if case .update(let s) = e { slots.append(s) }
            if slots.count == 3 { break }
        }
        #expect(slots == slots.sorted() && Set(slots).count == 3)
        let to = try Keypair(seed: Array(repeating: 6, count: 32)).publicKey
        let watch = subs.account(to)
        var iterator = watch.makeAsyncIterator()
        guard case .subscribed? = await iterator.next() else { Issue.record("no subscription"); return }
        let blockhash = try await rpc.latestBlockhash().hash
        _ = try await rpc.send(try SolanaTransaction(message: try Message.compile(payer: Self.payer.publicKey, instructions: [
            SystemProgram.transfer(from: Self.payer.publicKey, to: to, lamports: 7_777_777)], recentBlockhash: blockhash, tables: []), signers: [Self.payer]))
        guard case .update(let change)? = await iterator.next() else { Issue.record("no account notification"); return }
        #expect(change.account?.lamports == 7_777_777 && change.slot > 0)
        #expect(subs.malformed == 0)
        // A large account over the socket: the Phoenix market (over 100 kB of base64 in one
        // frame, as a node sends it) arrives whole, on the same connection.
        let market = try PublicKey(base58: try #require(pools.first { $0["venue"]?.stringValue == "phoenix" }?["pool"]?.stringValue))
        let overSocket = try #require(try await SolanaRPC(RPCClient(session)).accounts([market]).first ?? nil)
        let overHTTP = try #require(try await rpc.accounts([market]).first ?? nil)
        #expect(overSocket.data.count > 80_000 && overSocket.data == overHTTP.data && session.counters.connections == 1)
    }
}
