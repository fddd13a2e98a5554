import CoreMetrics
import Opportunities

/// Carries opportunities from detector partitions to execution. Every partition has its own
/// stream; a consumer reads one stream, and what it does not acknowledge is delivered again
/// (to it or, on Redis, to another consumer of its group once it has been pending too long).
///
/// Two implementations: `InProcessBus` (one process, bounded, drops counted) and `RedisStreamBus`
/// (Redis Streams with consumer groups, signed entries and a dead-letter stream).
public protocol OpportunityBus: Sendable {
    /// Publishes on `partition`'s stream. Throws only when the bus cannot take it at all.
    func publish(_ opportunity: Opportunity, partition: String) async throws(BusError)
    /// A consumer of `partition`'s stream, as member `name` of `group`.
    func consumer(partition: String, group: String, name: String) async throws(BusError) -> any OpportunityConsumer
    /// What the bus has done so far.
    var counters: BusCounters { get }
    /// Why the bus cannot carry opportunities now (its server unreachable), or nil when it can.
    func unavailable() async -> String?
}

extension OpportunityBus {
    public func unavailable() async -> String? { nil }
}

public protocol OpportunityConsumer: Sendable {
    /// Up to `max` deliveries, waiting at most `wait` when none is ready (an empty answer is a
    /// timeout, not the end).
    func next(max: Int, wait: Duration) async throws(BusError) -> [BusDelivery]
    /// Marks deliveries done: they will not be delivered again.
    func acknowledge(_ deliveries: [BusDelivery]) async throws(BusError)
    func close() async
}

/// One opportunity handed to a consumer.
public struct BusDelivery: Sendable, Equatable {
    /// The bus's id of the entry (a Redis stream id, or a sequence number in process).
    public var entryID: String
    public var opportunity: Opportunity
    /// 1 on first delivery; more when it was delivered before and not acknowledged.
    public var deliveries: Int

    public init(entryID: String, opportunity: Opportunity, deliveries: Int) {
        self.entryID = entryID
        self.opportunity = opportunity
        self.deliveries = deliveries
    }
}

public struct BusCounters: Equatable, Sendable {
    public var published = 0
    /// Dropped by a full in-process buffer (oldest first).
    public var dropped = 0
    public var delivered = 0
    public var acknowledged = 0
    /// Entries pending too long on a consumer, claimed by another.
    public var reclaimed = 0
    /// Entries whose signature matched no accepted key.
    public var rejectedSignature = 0
    /// Entries that were signed but did not decode (a version this build does not read).
    public var malformed = 0
    /// Entries moved to the dead-letter stream (too many deliveries, bad signature, malformed).
    public var deadLettered = 0
    public init() {}
}

/// A bus failure: the connection, the server's answer, or misuse.
public struct BusError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String { case connection, protocolViolation, server, usage }
        let value: Value
        public static let connection = Code(value: .connection)
        public static let protocolViolation = Code(value: .protocolViolation)
        public static let server = Code(value: .server)
        public static let usage = Code(value: .usage)
        public var description: String { value.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "bus \(code): \(message)" }
}

extension Opportunity {
    /// The stream of a partition: `arb:opportunities:<partition>` (`P1`…`P4`, `solana`).
    public static func stream(partition: String) -> String { "arb:opportunities:\(partition)" }
}

/// The bus's metrics, one place for both implementations: opportunities published, by kind and chain.
enum BusMetrics {
    static func published(_ o: Opportunity, partition: String) {
        Counter(label: "arbiter_opportunities_total", dimensions: [("kind", o.kind.name), ("chain", String(o.chains.first ?? 0)), ("partition", partition)]).increment()
    }
}
