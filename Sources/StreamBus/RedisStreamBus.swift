import Opportunities
import Synchronization

/// The bus over Redis Streams, for partitions in separate processes.
///
/// - Publishing: `XADD <stream> MAXLEN ~ <maxLength> * v 1 k <key id> d <binary opportunity> s <HMAC>`.
/// - Consuming: consumer groups. A consumer first takes back its own pending entries (after a
///   restart under the same name), then claims entries other consumers left pending longer than
///   `claimIdle` (`XAUTOCLAIM`: a crashed consumer loses nothing), then reads new ones with
///   `XREADGROUP … BLOCK`. An entry delivered more than `maxDeliveries` times, or with a bad
///   signature, or that does not decode, goes to `<stream>:dead` with the reason, and is acknowledged.
public final class RedisStreamBus: OpportunityBus {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var database = 0
        public var signer: EntrySigner
        /// Approximate cap on each stream's length (`MAXLEN ~`).
        public var maxLength = 100_000
        /// An entry pending this long on one consumer may be claimed by another.
        public var claimIdle: Duration = .seconds(30)
        /// Deliveries after which an unacknowledged entry is dead-lettered.
        public var maxDeliveries = 5

        public init(host: String, port: Int, signer: EntrySigner) {
            self.host = host
            self.port = port
            self.signer = signer
        }
    }

    public let configuration: Configuration
    private let publisher: Mutex<RedisConnection>
    private let totals: Mutex<BusCounters> = Mutex(BusCounters())

    private init(configuration: Configuration, publisher: RedisConnection) {
        self.configuration = configuration
        self.publisher = Mutex(publisher)
    }

    /// The publishing connection, dialled again when the server went away (a restart, a
    /// dropped socket): once per call.
    private func publishing() async throws(BusError) -> RedisConnection {
        let connection = publisher.withLock { $0 }
        guard !connection.isActive else { return connection }
        let fresh = try await connect()
        publisher.withLock { $0 = fresh }
        return fresh
    }

    /// A new connection to the configured server.
    func connect() async throws(BusError) -> RedisConnection {
        try await RedisConnection.connect(host: configuration.host, port: configuration.port, database: configuration.database)
    }

    public static func connect(_ configuration: Configuration) async throws(BusError) -> RedisStreamBus {
        let c = try await RedisConnection.connect(host: configuration.host, port: configuration.port, database: configuration.database)
        return RedisStreamBus(configuration: configuration, publisher: c)
    }

    public var counters: BusCounters { totals.withLock { $0 } }

    /// A PING on the publishing connection (dialled again when it dropped), answered within
    /// `within`: nil when it was.
    public func unavailable() async -> String? { await unavailable(within: .seconds(2)) }

    private final class TimedOut: Sendable { let flag = Atomic<Bool>(false) }

    public func unavailable(within limit: Duration) async -> String? {
        let place = "redis \(configuration.host):\(configuration.port)"
        let timedOut = TimedOut()
        let answer = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    _ = try await self.publishing().command("PING")
                    return nil
                } catch {
                    return "\(place): \(error)"
                }
            }
            group.addTask {
                // An answer that never comes cannot be cancelled: closing the connection fails
                // it (the next publish dials again).
                try? await Task.sleep(for: limit)
                if Task.isCancelled { return nil }
                timedOut.flag.store(true, ordering: .sequentiallyConsistent)
                await self.publisher.withLock { $0 }.close()
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        return timedOut.flag.load(ordering: .sequentiallyConsistent) ? "\(place): no answer to PING within \(limit)" : answer
    }

    public func publish(_ opportunity: Opportunity, partition: String) async throws(BusError) {
        let stream = Opportunity.stream(partition: partition)
        let payload = opportunity.encoded()
        let (keyID, signature) = configuration.signer.sign(payload, stream: stream)
        let command = [
            b("XADD"), b(stream), b("MAXLEN"), b("~"), b(String(configuration.maxLength)), b("*"),
            b("v"), b(String(Opportunity.version)), b("k"), b(keyID), b("d"), payload, b("s"), signature,
        ]
        try await publishing().command(command)
        BusMetrics.published(opportunity, partition: partition)
        count { $0.published += 1 }
    }

    public func consumer(partition: String, group: String, name: String) async throws(BusError) -> any OpportunityConsumer {
        let stream = Opportunity.stream(partition: partition)
        let connection = try await connect()
        do {
            try await connection.command("XGROUP", "CREATE", stream, group, "0", "MKSTREAM")
        } catch where error.code == .server && error.message.hasPrefix("BUSYGROUP") {
            // The group exists: join it.
        }
        return RedisStreamConsumer(bus: self, connection: connection, stream: stream, group: group, name: name)
    }

    func count(_ body: (inout BusCounters) -> Void) { totals.withLock { body(&$0) } }
}

@inline(__always) func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Whole milliseconds of `d`, as Redis takes idle times and timeouts.
func milliseconds(_ d: Duration) -> Int64 { d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000 }

/// One member of a consumer group on one stream, with its own connection (reads block it).
final class RedisStreamConsumer: OpportunityConsumer {
    struct State {
        /// Own pending entries (from before a restart) are read once, at start, from this id on.
        var history: String? = "0"
        var claimCursor = "0-0"
    }

    let bus: RedisStreamBus
    private let current: Mutex<RedisConnection>
    let stream: String
    let group: String
    let name: String
    private let state = Mutex(State())

    init(bus: RedisStreamBus, connection: RedisConnection, stream: String, group: String, name: String) {
        self.bus = bus
        current = Mutex(connection)
        self.stream = stream
        self.group = group
        self.name = name
    }

    /// The live connection, dialled again when the last one dropped.
    private var connection: RedisConnection {
        get async throws(BusError) {
            let c = current.withLock { $0 }
            if c.isActive { return c }
            let fresh = try await bus.connect()
            current.withLock { $0 = fresh }
            return fresh
        }
    }

    func next(max: Int, wait: Duration) async throws(BusError) -> [BusDelivery] {
        let count = String(Swift.max(1, max))
        if let from = state.withLock({ $0.history }) {
            // After a restart under the same name: what this consumer was given and did not
            // acknowledge (a history read returns pending entries after `from`).
            let answer = try await connection.command("XREADGROUP", "GROUP", group, name, "COUNT", count, "STREAMS", stream, from)
            let entries = try Self.streamEntries(answer)
            state.withLock { $0.history = entries.last?.id }
            let got = try await admit(entries, fresh: false)
            if !got.isEmpty || !entries.isEmpty { return got }
        }
        let idle = String(milliseconds(bus.configuration.claimIdle))
        let cursor = state.withLock { $0.claimCursor }
        let claimed = try await connection.command("XAUTOCLAIM", stream, group, name, idle, cursor, "COUNT", count)
        guard let parts = claimed.array, parts.count >= 2, let next = parts[0].string, let list = parts[1].array else {
            throw BusError(.protocolViolation, "XAUTOCLAIM answer of an unexpected shape")
        }
        state.withLock { $0.claimCursor = next }
        let reclaimed = try Self.entries(list)
        if !reclaimed.isEmpty {
            bus.count { $0.reclaimed += reclaimed.count }
            let got = try await admit(reclaimed, fresh: false)
            if !got.isEmpty { return got }
        }
        var read = ["XREADGROUP", "GROUP", group, name, "COUNT", count]
        let ms = milliseconds(wait)
        if ms > 0 { read += ["BLOCK", String(ms)] }
        read += ["STREAMS", stream, ">"]
        let answer = try await connection.command(read.map(b))
        return try await admit(try Self.streamEntries(answer), fresh: true)
    }

    func acknowledge(_ deliveries: [BusDelivery]) async throws(BusError) {
        guard !deliveries.isEmpty else { return }
        let acked = try await connection.command([b("XACK"), b(stream), b(group)] + deliveries.map { b($0.entryID) })
        bus.count { $0.acknowledged += Int(acked.integer ?? 0) }
    }

    func close() async { await current.withLock { $0 }.close() }

    typealias Entry = (id: String, fields: [String: [UInt8]])

    /// Checks signatures, decodes, and dead-letters what fails or was delivered too often.
    private func admit(_ entries: [Entry], fresh: Bool) async throws(BusError) -> [BusDelivery] {
        guard !entries.isEmpty else { return [] }
        var deliveries: [String: Int] = [:]
        if !fresh {
            let pending = try await connection.command("XPENDING", stream, group, entries.first!.id, entries.last!.id, String(entries.count * 2), name)
            for row in pending.array ?? [] {
                if let r = row.array, r.count == 4, let id = r[0].string, let n = r[3].integer { deliveries[id] = Int(n) }
            }
        }
        var out: [BusDelivery] = []
        for e in entries {
            let n = fresh ? 1 : deliveries[e.id, default: 1]
            let signer = bus.configuration.signer
            guard let payload = e.fields["d"], let keyID = e.fields["k"].map({ String(decoding: $0, as: UTF8.self) }), let sig = e.fields["s"],
                  signer.verify(payload, stream: stream, keyID: keyID, signature: sig)
            else {
                bus.count { $0.rejectedSignature += 1 }
                try await deadLetter(e, reason: "signature")
                continue
            }
            guard e.fields["v"] == b(String(Opportunity.version)), let o = try? Opportunity(encoded: payload) else {
                bus.count { $0.malformed += 1 }
                try await deadLetter(e, reason: "malformed")
                continue
            }
            if n > bus.configuration.maxDeliveries {
                try await deadLetter(e, reason: "deliveries \(n)")
                continue
            }
            out.append(BusDelivery(entryID: e.id, opportunity: o, deliveries: n))
        }
        bus.count { $0.delivered += out.count }
        return out
    }

    private func deadLetter(_ e: Entry, reason: String) async throws(BusError) {
        var args = [b("XADD"), b(stream + ":dead"), b("MAXLEN"), b("~"), b(String(bus.configuration.maxLength)), b("*"),
                    b("reason"), b(reason), b("entry"), b(e.id)]
        for key in e.fields.keys.sorted() { args += [b("f." + key), e.fields[key]!] }
        try await connection.command(args)
        try await connection.command("XACK", stream, group, e.id)
        bus.count { $0.deadLettered += 1 }
    }

    /// `[[stream, [entries]]]` (or null: nothing) → entries.
    static func streamEntries(_ v: RESPValue) throws(BusError) -> [Entry] {
        if v.isNull { return [] }
        guard let streams = v.array else { throw BusError(.protocolViolation, "XREADGROUP answer of an unexpected shape") }
        var out: [Entry] = []
        for s in streams {
            guard let pair = s.array, pair.count == 2, let list = pair[1].array else {
                throw BusError(.protocolViolation, "XREADGROUP stream of an unexpected shape")
            }
            out += try entries(list)
        }
        return out
    }

    /// `[[id, [field, value, …]], …]` → entries (an entry deleted meanwhile has null fields: skipped).
    static func entries(_ list: [RESPValue]) throws(BusError) -> [Entry] {
        var out: [Entry] = []
        for item in list {
            guard let pair = item.array, pair.count == 2, let id = pair[0].string else {
                throw BusError(.protocolViolation, "stream entry of an unexpected shape")
            }
            guard let flat = pair[1].array else { continue }
            var fields: [String: [UInt8]] = [:]
            var i = 0
            while i + 1 < flat.count {
                if let k = flat[i].string, let v = flat[i + 1].bytes { fields[k] = v }
                i += 2
            }
            out.append((id, fields))
        }
        return out
    }
}
