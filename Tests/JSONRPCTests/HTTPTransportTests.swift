import ArbiterTestKit
import EVMCodec
import JSONRPC
import Testing

/// The HTTP transport and the provider pool against real devnet servers (web3-compatible
/// JSON-RPC over aiohttp, with injected rate limits).
@Suite(.serialized) struct HTTPTransportTests {
    @Test func callsBatchesAndNodeErrors() async throws {
        let devnet = try await Devnet(chainId: 10, lab: false)
        defer { devnet.stop() }
        let client = RPCClient(HTTPTransport(url: devnet.http.absoluteString))
        #expect(try await client.call("eth_chainId") == .string("0xa"))
        let results = try await client.batch([("eth_chainId", []), ("eth_blockNumber", []), ("no_such_method", [])])
        #expect(try results[0].get() == .string("0xa"))
        #expect(try results[1].get().stringValue?.hasPrefix("0x") == true)
        guard case .failure(let e) = results[2] else { Issue.record("an unknown method succeeded"); return }
        #expect(e.code == .server && e.rpcCode == -32601 && !e.retryable)
        // A closed port: a transport error, which another provider could answer.
        do {
            _ = try await RPCClient(HTTPTransport(url: "http://127.0.0.1:9", timeout: .seconds(2))).call("eth_chainId")
            Issue.record("a closed port answered")
        } catch {
            #expect(error.code == .transport || error.code == .timeout)
            #expect(error.retryable)
        }
    }

    /// A stop cancels the task that sends: a plain call ends in an error, so the caller cannot
    /// tell whether the node took it (whether the request got out is a race), while a send
    /// (`callUncancelled`) goes out whole and returns the node's answer. Found by CI: a trade cut
    /// off mid-send at a stop was journaled open though the node never saw it. Each call funds its
    /// own address, so what one did is never taken for the other's.
    @Test func aSendByACancelledTaskReachesTheNodeWhole() async throws {
        let devnet = try await Devnet(chainId: 10, lab: false)
        defer { devnet.stop() }
        let client = RPCClient(HTTPTransport(url: devnet.http.absoluteString))
        func inACancelledTask(_ body: @escaping @Sendable () async throws(RPCError) -> JSONValue) async -> Result<JSONValue, RPCError> {
            let started = AsyncStream<Void>.makeStream()
            let task = Task { () async -> Result<JSONValue, RPCError> in
                started.continuation.finish()
                while !Task.isCancelled { await Task.yield() }
                do throws(RPCError) { return .success(try await body()) } catch { return .failure(error) }
            }
            for await _ in started.stream {}
            task.cancel()
            return await task.value
        }
        @Sendable func fund(_ byte: String) -> [JSONValue] { [.string("0x" + String(repeating: byte, count: 20)), .string("0x3e8")] }
        let cut = await inACancelledTask { () throws(RPCError) in try await client.call("devnet_fund", fund("c1")) }
        #expect(throws: RPCError.self) { try cut.get() }
        let whole = await inACancelledTask { () throws(RPCError) in try await client.callUncancelled("devnet_fund", fund("d2")) }
        #expect(try whole.get() == .bool(true))
        let balance = try await client.call("eth_getBalance", [fund("d2")[0], .string("latest")])
        #expect(balance == .string("0x3e8"), "\(balance)")
    }

    /// 429s from the first provider move calls to the second for the Retry-After the server sent;
    /// once the first recovers (its cool-down over and the limit spent), calls go back to it.
    @Test func rateLimitedProviderFailsOverAndRecovers() async throws {
        let first = try await Devnet(chainId: 1, lab: false)
        defer { first.stop() }
        let second = try await Devnet(chainId: 1, lab: false)
        defer { second.stop() }
        _ = try await first.call("devnet_rateLimit", [.number("2"), .number("3")])  // two 429s, Retry-After: 3
        let pool = ProviderPool([("first", HTTPTransport(url: first.http.absoluteString)), ("second", HTTPTransport(url: second.http.absoluteString))])
        let client = RPCClient(pool)
        #expect(try await client.call("eth_chainId") == .string("0x1"))  // 429 from first, answered by second
        #expect(pool.providers[0].failures == 1 && pool.providers[1].calls == 1)
        #expect(pool.providers[0].coolingUntil > .seconds(2))  // the server's Retry-After, not the 1 s default
        #expect(try await client.call("eth_chainId") == .string("0x1"))  // first is cooling down
        #expect(pool.providers[1].calls == 2 && pool.providers[0].calls == 1)
        try await Task.sleep(for: .milliseconds(3_100))
        _ = try await client.call("eth_chainId")  // first again: its second 429, then second
        try await Task.sleep(for: .milliseconds(3_100))
        _ = try await client.call("eth_chainId")  // first has recovered
        let p = pool.providers
        #expect(p[0].calls == 3 && p[0].failures == 2 && p[1].calls == 3)
    }

    /// `callEach` asks every provider, in pool order, a cooling-down one included; a provider's
    /// failure is its own answer. Without a pool it is the one node's answer.
    @Test func callEachAsksEveryProviderInPoolOrder() async throws {
        let first = try await Devnet(chainId: 1, lab: false)
        defer { first.stop() }
        let second = try await Devnet(chainId: 10, lab: false)
        defer { second.stop() }
        _ = try await first.call("devnet_rateLimit", [.number("1"), .number("30")])
        let pool = ProviderPool([("first", HTTPTransport(url: first.http.absoluteString)), ("second", HTTPTransport(url: second.http.absoluteString))])
        let client = RPCClient(pool)
        let limited = await client.callEach("eth_chainId")
        #expect(limited.count == 2 && (try? limited[1].get()) == .string("0xa"))
        guard case .failure(let e) = limited.first else { Issue.record("a 429 answered: \(limited)"); return }
        #expect(e.code == .rateLimited)
        // The first cools down for 30 s, but is asked all the same.
        #expect(try await client.call("eth_chainId") == .string("0xa"))
        let answers = await client.callEach("eth_chainId")
        #expect(answers.map { try? $0.get() } == [.string("0x1"), .string("0xa")])
        // Each provider's calls count what it was asked here too (its failures never exceed them).
        let p = pool.providers
        #expect(p[0].calls == 2 && p[0].failures == 1 && p[1].calls == 3 && p[1].failures == 0, "\(p)")
        let single = await RPCClient(HTTPTransport(url: second.http.absoluteString)).callEach("eth_chainId")
        #expect(single.map { try? $0.get() } == [.string("0xa")])
    }
}

