import EVMCodec
import Synchronization

/// Fans events out to the `/api/live` clients. `publish` never waits: each client has a queue
/// of at most `capacity` events not yet written to its socket; a client that lets it fill (it
/// reads slower than events come) is dropped, counted, and its connection closed, so a slow
/// browser can neither slow the publisher nor hold memory.
public final class LiveHub: Sendable {
    public struct Counters: Sendable, Equatable {
        public var published = 0
        public var connected = 0
        /// Clients dropped because their queue was full.
        public var dropped = 0
    }

    /// One connected client: its events, and the signal that it was dropped.
    final class Client: Sendable {
        let events: AsyncStream<String>
        let continuation: AsyncStream<String>.Continuation
        let dropSignal: AsyncStream<Void>
        let dropContinuation: AsyncStream<Void>.Continuation
        let queued = Atomic<Int>(0)

        init() {
            (events, continuation) = AsyncStream.makeStream(of: String.self)
            (dropSignal, dropContinuation) = AsyncStream.makeStream(of: Void.self)
        }
    }

    struct State {
        var clients: [Int: Client] = [:]
        var next = 0
        var counters = Counters()
    }

    public let capacity: Int
    let state = Mutex(State())

    public init(capacity: Int = 256) { self.capacity = max(1, capacity) }

    public var counters: Counters { state.withLock { $0.counters } }

    /// Sends `event` to every client (its JSON text, made once).
    public func publish(_ event: JSONValue) {
        let text = event.text
        state.withLock { s in
            s.counters.published += 1
            for (id, c) in s.clients {
                if c.queued.add(1, ordering: .relaxed).newValue > capacity {
                    s.clients[id] = nil
                    s.counters.dropped += 1
                    c.continuation.finish()
                    c.dropContinuation.finish()
                } else {
                    c.continuation.yield(text)
                }
            }
        }
    }

    /// A new client; `first` are queued before anything published after this call.
    func connect(first: [JSONValue] = []) -> (Int, Client) {
        let client = Client()
        return state.withLock { s in
            for e in first.prefix(capacity) {
                client.queued.add(1, ordering: .relaxed)
                client.continuation.yield(e.text)
            }
            s.next += 1
            s.clients[s.next] = client
            s.counters.connected += 1
            return (s.next, client)
        }
    }

    func disconnect(_ id: Int) {
        state.withLock { s in
            if let c = s.clients.removeValue(forKey: id) {
                c.continuation.finish()
            }
        }
    }

    /// Number of clients connected now.
    public var clients: Int { state.withLock { $0.clients.count } }
}
