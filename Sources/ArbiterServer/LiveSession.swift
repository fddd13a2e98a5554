import EVMCodec
import HummingbirdWebSocket

/// One `/api/live` connection: the greeting, then every event the hub publishes, until the
/// client leaves or is dropped for reading too slowly (its connection is then closed).
enum LiveSession {
    /// What a client gets first: the chains as they are now.
    static func greeting(_ data: any OperatorData) async -> [JSONValue] {
        [.object([("type", .string("chains")), ("chains", await data.chains())])]
    }

    static func run(_ hub: LiveHub, first: [JSONValue], inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let (id, client) = hub.connect(first: first)
        defer { hub.disconnect(id) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await text in client.events {
                    client.queued.subtract(1, ordering: .relaxed)
                    try await outbound.write(.text(text))
                }
            }
            // The client's own frames (pings are answered below us) and its close.
            group.addTask { for try await _ in inbound {} }
            group.addTask { for await _ in client.dropSignal {} }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
