import EVMCodec
import Logging
import Synchronization
import WSClient

/// JSON-RPC over one WebSocket endpoint that stays up. Requests and batches are answered over it;
/// subscriptions (`eth_subscribe`) are streams that outlive connections: when the socket drops,
/// `run()` reconnects with jittered exponential back-off, subscribes everything again, and tells
/// each stream `.subscribed` once more, which is the consumer's cue to backfill (with
/// `eth_getLogs` from the last block it processed) what it may have missed in between.
/// Requests in flight when the socket drops fail as `.transport`, which is retryable.
public final class WebSocketSession: RPCTransport {
    public enum Event: Equatable, Sendable {
        /// The subscription is (again) live: anything between the last item and this may be lost.
        case subscribed
        case item(JSONValue)
    }

    public struct Options: Sendable {
        public var initialBackoff: Duration = .milliseconds(100)
        public var maxBackoff: Duration = .seconds(10)
        public var requestTimeout: Duration = .seconds(10)
        public var maxMessageBytes = 64 << 20
        public init() {}
    }

    public struct Counters: Equatable, Sendable {
        public var connections = 0
        public var malformedFrames = 0
        public var unknownSubscriptions = 0
    }

    private struct Subscription {
        var method: String
        var params: [JSONValue]
        var unsubscribe: String
        var continuation: AsyncStream<Event>.Continuation
        /// The node's id for it, as it gave it (a string, or Solana's integer): unsubscribing sends it back so.
        var serverID: JSONValue?
    }

    /// The requests of one `send`, answered together. Its fields are touched under `state`'s lock.
    private final class Batch: @unchecked Sendable {
        var waiting: Set<Int>
        var responses: [Int: RPCResponse] = [:]
        var continuation: CheckedContinuation<Result<[Int: RPCResponse], RPCError>, Never>?
        init(_ ids: Set<Int>) { waiting = ids }
    }

    private struct State {
        var outbound: AsyncStream<String>.Continuation?
        var batches: [Int: Batch] = [:]  // by request id
        var subscriptions: [Int: Subscription] = [:]  // by our handle
        var byServerID: [String: Int] = [:]
        var subscribeRequests: [Int: Int] = [:]  // eth_subscribe request id → handle
        var nextHandle = 1
        var nextInternalID = 1 << 40  // clear of RPCClient's ids
        var counters = Counters()
    }

    public let url: String
    public let options: Options
    private let logger: Logger
    private let state = Mutex(State())

    public init(url: String, options: Options = Options(), logger: Logger = Logger(label: "arbiter.jsonrpc.ws")) {
        self.url = url
        self.options = options
        self.logger = logger
    }

    public var counters: Counters { state.withLock { $0.counters } }
    public var isConnected: Bool { state.withLock { $0.outbound != nil } }
    /// Subscriptions the node has confirmed on the current connection (after a reconnect, the ones
    /// it has taken again): a notification for any of them reaches its stream.
    public var liveSubscriptions: Int { state.withLock { $0.byServerID.count } }
    /// Requests sent on the current connection and not answered yet.
    public var inFlight: Int { state.withLock { $0.batches.count } }

    /// Keeps the connection up until the task is cancelled.
    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            let before = counters.connections
            do {
                // One frame may carry a whole message (a node sends a large account's notification
                // in one: a Phoenix market's is over 100 kB; the client's default refuses past 16 kB).
                try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: options.maxMessageBytes), logger: logger) { inbound, outbound, _ in
                    try await self.serve(inbound, outbound)
                }
            } catch {
                logger.debug("websocket \(url): \(error)", metadata: ["arb.ws": .string(url)])
            }
            disconnected()
            if Task.isCancelled { break }
            failures = counters.connections > before ? 1 : failures + 1
            let base = min(options.initialBackoff * (1 << min(failures - 1, 16)), options.maxBackoff)
            // Full jitter: a random wait up to the back-off, so that many clients do not reconnect in step.
            let wait = base * Double.random(in: 0.5...1.0)
            try? await Task.sleep(for: wait)
        }
    }

    private func serve(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
        let (stream, writer) = AsyncStream<String>.makeStream()
        let resubscribe: [String] = state.withLock { s in
            s.outbound = writer
            s.counters.connections += 1
            s.byServerID = [:]
            return s.subscriptions.keys.sorted().map { handle in Self.subscribeFrame(&s, handle) }
        }
        for frame in resubscribe { writer.yield(frame) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await text in stream { try await outbound.write(.text(text)) }
            }
            group.addTask {
                for try await message in inbound.messages(maxSize: self.options.maxMessageBytes) {
                    switch message {
                    case .text(let text): self.received(Array(text.utf8))
                    case .binary(var buffer): self.received(buffer.readBytes(length: buffer.readableBytes) ?? [])
                    }
                }
            }
            // The reader ends when the socket closes; the writer then has nothing to write to.
            try await group.next()
            group.cancelAll()
        }
    }

    private static func subscribeFrame(_ s: inout State, _ handle: Int) -> String {
        let id = s.nextInternalID
        s.nextInternalID += 1
        s.subscribeRequests[id] = handle
        let sub = s.subscriptions[handle]!
        return RPCRequest(id: id, method: sub.method, params: sub.params).json.text
    }

    private func disconnected() {
        let waiting: [CheckedContinuation<Result<[Int: RPCResponse], RPCError>, Never>] = state.withLock { s in
            s.outbound?.finish()
            s.outbound = nil
            s.subscribeRequests = [:]
            s.byServerID = [:]
            for h in s.subscriptions.keys { s.subscriptions[h]!.serverID = nil }
            var unique: [ObjectIdentifier: Batch] = [:]
            for b in s.batches.values { unique[ObjectIdentifier(b)] = b }
            s.batches = [:]
            return unique.values.compactMap { b in
                defer { b.continuation = nil }
                return b.continuation
            }
        }
        for c in waiting { c.resume(returning: .failure(RPCError(.transport, "\(url): the connection dropped"))) }
    }

    private func received(_ bytes: [UInt8]) {
        let frame: RPCFrame
        do {
            frame = try RPCFrame.parse(bytes)
        } catch {
            state.withLock { $0.counters.malformedFrames += 1 }
            return
        }
        switch frame {
        case .notification(let sub, let result):
            let target = state.withLock { s -> AsyncStream<Event>.Continuation? in
                guard let h = s.byServerID[sub] else {
                    s.counters.unknownSubscriptions += 1
                    return nil
                }
                return s.subscriptions[h]?.continuation
            }
            target?.yield(.item(result))
        case .responses(let responses):
            for r in responses { deliver(r) }
        }
    }

    private func deliver(_ r: RPCResponse) {
        guard let id = r.id else {
            state.withLock { $0.counters.malformedFrames += 1 }
            return
        }
        typealias Waiter = (CheckedContinuation<Result<[Int: RPCResponse], RPCError>, Never>, [Int: RPCResponse])
        let (subscribed, done): (AsyncStream<Event>.Continuation?, Waiter?) = state.withLock { s in
            if let handle = s.subscribeRequests.removeValue(forKey: id) {
                guard case .success(let v) = r.result, let sid = RPCFrame.subscriptionID(v), s.subscriptions[handle] != nil else { return (nil, nil) }
                s.subscriptions[handle]!.serverID = v
                s.byServerID[sid] = handle
                return (s.subscriptions[handle]!.continuation, nil)
            }
            guard let batch = s.batches.removeValue(forKey: id) else { return (nil, nil) }
            batch.responses[id] = r
            batch.waiting.remove(id)
            guard batch.waiting.isEmpty, let c = batch.continuation else { return (nil, nil) }
            batch.continuation = nil
            return (nil, (c, batch.responses))
        }
        subscribed?.yield(.subscribed)
        if let (c, responses) = done { c.resume(returning: .success(responses)) }
    }

    public func send(_ requests: [RPCRequest]) async throws(RPCError) -> [RPCResponse] {
        guard !requests.isEmpty else { return [] }
        let batch = Batch(Set(requests.map(\.id)))
        let body = RPCRequest.body(requests)
        let timeout = options.requestTimeout
        let result: Result<[Int: RPCResponse], RPCError> = await withTaskGroup(of: Result<[Int: RPCResponse], RPCError>?.self) { group in
            group.addTask {
                await withCheckedContinuation { (c: CheckedContinuation<Result<[Int: RPCResponse], RPCError>, Never>) in
                    let sent: Bool = self.state.withLock { s in
                        guard let out = s.outbound else { return false }
                        batch.continuation = c
                        for q in requests { s.batches[q.id] = batch }
                        out.yield(body)
                        return true
                    }
                    if !sent { c.resume(returning: .failure(RPCError(.transport, "\(self.url): not connected"))) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next()!
            group.cancelAll()
            if let first { return first }
            // Timed out: forget the batch and answer its continuation, which the first task awaits.
            let pending: CheckedContinuation<Result<[Int: RPCResponse], RPCError>, Never>? = self.state.withLock { s in
                for q in requests { s.batches[q.id] = nil }
                defer { batch.continuation = nil }
                return batch.continuation
            }
            pending?.resume(returning: .failure(RPCError(.timeout, "\(self.url): no answer within \(timeout)")))
            return await group.next()!!
        }
        return try HTTPTransport.match(Array(try result.get().values), to: requests)
    }

    /// A subscription (`eth_subscribe` params: `["newHeads"]`, `["logs", filter]`) as a stream of
    /// events; cancelling its consumer unsubscribes.
    public func subscribe(_ params: [JSONValue]) -> AsyncStream<Event> {
        subscribe(method: "eth_subscribe", params, unsubscribe: "eth_unsubscribe")
    }

    /// A subscription by `method` (Solana's `accountSubscribe`, `slotSubscribe`, …), ended with
    /// `unsubscribe` (`accountUnsubscribe`) and the node's id for it.
    public func subscribe(method: String, _ params: [JSONValue], unsubscribe: String) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(65_536))
        let handle: Int = state.withLock { s in
            let h = s.nextHandle
            s.nextHandle += 1
            s.subscriptions[h] = Subscription(method: method, params: params, unsubscribe: unsubscribe, continuation: continuation, serverID: nil)
            // Connected: subscribe now; otherwise the next connection does.
            if let out = s.outbound { out.yield(Self.subscribeFrame(&s, h)) }
            return h
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.state.withLock { s in
                guard let sub = s.subscriptions.removeValue(forKey: handle) else { return }
                if let sid = sub.serverID {
                    if let key = RPCFrame.subscriptionID(sid) { s.byServerID[key] = nil }
                    let id = s.nextInternalID
                    s.nextInternalID += 1
                    s.outbound?.yield(RPCRequest(id: id, method: sub.unsubscribe, params: [sid]).json.text)
                }
            }
        }
        return stream
    }
}
