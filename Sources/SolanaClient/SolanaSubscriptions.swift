import EVMCodec
import JSONRPC
import SolanaPrimitives
import Synchronization

/// Solana's WebSocket subscriptions over a `WebSocketSession` (which reconnects and subscribes
/// again; `.subscribed` tells a consumer to read afresh what it may have missed): slots, one
/// account, a program's accounts. Notifications of the wrong shape are counted, never delivered.
public struct SolanaSubscriptions: Sendable {
    public enum Event<T: Sendable>: Sendable {
        case subscribed
        case update(T)
    }

    public let session: WebSocketSession

    public init(_ session: WebSocketSession) { self.session = session }

    /// `slotSubscribe`: each new slot.
    public func slots() -> AsyncStream<Event<UInt64>> {
        map(session.subscribe(method: "slotSubscribe", [], unsubscribe: "slotUnsubscribe")) { $0["slot"].flatMap(SolanaRPC.u64) }
    }

    /// `accountSubscribe` (base64): the account at each change (nil once it is gone), with its slot.
    public func account(_ key: PublicKey, _ commitment: Commitment = .processed) -> AsyncStream<Event<(slot: UInt64, account: SolanaAccount?)>> {
        let params: [JSONValue] = [.string(key.base58), SolanaRPC.config(commitment, [("encoding", .string("base64"))])]
        return map(session.subscribe(method: "accountSubscribe", params, unsubscribe: "accountUnsubscribe")) { v in
            guard let (slot, value) = try? SolanaRPC.value(v, "accountNotification") else { return nil }
            if value.isNull { return (slot, nil) }
            guard let a = try? SolanaAccount(json: value) else { return nil }
            return (slot, a)
        }
    }

    /// `programSubscribe` (base64): every account of `program` that changes, with its key.
    public func program(_ program: PublicKey, _ commitment: Commitment = .processed) -> AsyncStream<Event<(slot: UInt64, key: PublicKey, account: SolanaAccount)>> {
        let params: [JSONValue] = [.string(program.base58), SolanaRPC.config(commitment, [("encoding", .string("base64"))])]
        return map(session.subscribe(method: "programSubscribe", params, unsubscribe: "programUnsubscribe")) { v in
            guard let (slot, value) = try? SolanaRPC.value(v, "programNotification"),
                  let key = value["pubkey"]?.stringValue.flatMap({ try? PublicKey(base58: $0) }),
                  let json = value["account"], let a = try? SolanaAccount(json: json) else { return nil }
            return (slot, key, a)
        }
    }

    /// Malformed notifications dropped so far, across this value's streams.
    public var malformed: Int { dropped.value.withLock { $0 } }

    final class Counter: Sendable {
        let value = Mutex(0)
    }
    let dropped = Counter()

    func map<T: Sendable>(_ events: AsyncStream<WebSocketSession.Event>, _ read: @escaping @Sendable (JSONValue) -> T?) -> AsyncStream<Event<T>> {
        AsyncStream { continuation in
            let dropped = self.dropped
            let task = Task {
                for await e in events {
                    switch e {
                    case .subscribed: continuation.yield(.subscribed)
                    case .item(let v):
                        if let t = read(v) { continuation.yield(.update(t)) } else { dropped.value.withLock { $0 += 1 } }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
