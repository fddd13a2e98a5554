import ArbiterTestKit
import EVMCodec
import JSONRPC
import Testing

/// The WebSocket session against a real devnet server, which drops every socket on request.
@Suite(.serialized) struct WebSocketSessionTests {
    /// Waits for `condition`, checking every 20 ms, for at most `seconds`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        var waited = 0.0
        while !condition() && waited < seconds {
            try await Task.sleep(for: .milliseconds(20))
            waited += 0.02
        }
        return condition()
    }

    @Test func callsSubscriptionsAndReconnects() async throws {
        let devnet = try await Devnet(chainId: 8453, lab: false, blockTime: 0.2)
        defer { devnet.stop() }
        let session = WebSocketSession(url: devnet.ws.absoluteString)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            #expect(try await Self.eventually(10) { session.isConnected })
            let client = RPCClient(session)
            #expect(try await client.call("eth_chainId") == .string("0x2105"))
            let batch = try await client.batch([("eth_chainId", []), ("nope", [])])
            #expect(try batch[0].get() == .string("0x2105"))
            if case .success = batch[1] { Issue.record("an unknown method succeeded") }

            var heads: [UInt64] = []
            var subscribed = 0
            #expect(session.liveSubscriptions == 0)
            let events = session.subscribe([.string("newHeads")])
            for await event in events {
                switch event {
                case .subscribed:
                    subscribed += 1
                    // Live from the node's confirmation on, on each connection.
                    #expect(session.liveSubscriptions == 1)
                case .item(let header):
                    heads.append(UInt64(header["number"]!.stringValue!.dropFirst(2), radix: 16)!)
                    if heads.count == 3 { _ = try await devnet.call("devnet_dropWebSockets") }
                }
                if heads.count >= 8 && subscribed >= 2 { break }
            }
            // Heads kept coming after the drop, on a new connection with the subscription made again.
            #expect(subscribed >= 2 && session.counters.connections >= 2)
            #expect(heads == heads.sorted() && heads.count >= 8)
            #expect(try await client.call("eth_chainId") == .string("0x2105"))
            group.cancelAll()
        }
    }

    @Test func requestsFailRetryablyWhenTheSocketDrops() async throws {
        let devnet = try await Devnet(chainId: 10, lab: false)
        defer { devnet.stop() }
        let session = WebSocketSession(url: devnet.ws.absoluteString)
        // Not connected yet: a transport error, which a provider pool moves past.
        do {
            _ = try await RPCClient(session).call("eth_chainId")
            Issue.record("answered before connecting")
        } catch {
            #expect(error.code == .transport && error.retryable)
        }
        // A subscription asked for before there is a socket is not live until the node confirms it.
        let heads = session.subscribe([.string("newHeads")])
        #expect(session.liveSubscriptions == 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            #expect(try await Self.eventually(10) { session.isConnected && session.liveSubscriptions == 1 })
            _ = try await devnet.call("devnet_setDelay", [.number("5000")])
            async let slow = RPCClient(session).call("eth_chainId")
            // Dropped only once the request is on the socket (a loaded machine may start it late).
            #expect(try await Self.eventually(10) { session.inFlight == 1 })
            _ = try await devnet.call("devnet_dropWebSockets")
            do {
                _ = try await slow
                Issue.record("a request survived its socket")
            } catch {
                #expect((error as? RPCError)?.code == .transport)
            }
            _ = try await devnet.call("devnet_setDelay", [.number("0")])
            #expect(try await Self.eventually(10) { session.isConnected && session.counters.connections >= 2 && session.liveSubscriptions == 1 })
            #expect(try await RPCClient(session).call("eth_chainId") == .string("0xa"))
            group.cancelAll()
        }
        withExtendedLifetime(heads) {}
    }
}
