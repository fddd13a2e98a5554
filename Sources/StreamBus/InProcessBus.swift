import Opportunities
import Synchronization

/// The default bus: detectors and execution in one process. Each partition's stream is a bounded
/// buffer; when it is full the oldest opportunity is dropped (a newer one is worth more) and the
/// drop is counted. One consumer per partition; acknowledgement is immediate, since a crash takes
/// the consumer and the buffer down together.
public final class InProcessBus: OpportunityBus {
    private final class Stream: Sendable {
        struct State {
            var items: [Opportunity?]
            var head = 0
            var count = 0
            var sequence = 0
            var taken = false
        }
        let state: Mutex<State>
        let capacity: Int
        /// The consumer waiting for an item.
        let arrival = Wakeup()

        init(capacity: Int) {
            self.capacity = capacity
            state = Mutex(State(items: Array(repeating: nil, count: capacity)))
        }

        /// Appends; returns true when the oldest was dropped to make room.
        func push(_ o: Opportunity) -> Bool {
            let dropped = state.withLock { s -> Bool in
                var dropped = false
                if s.count == capacity {
                    s.head = (s.head + 1) % capacity
                    s.count -= 1
                    dropped = true
                }
                s.items[(s.head + s.count) % capacity] = o
                s.count += 1
                return dropped
            }
            arrival.signal()
            return dropped
        }

        func pop(max: Int) -> [BusDelivery] {
            state.withLock { s in
                var out: [BusDelivery] = []
                while s.count > 0, out.count < max {
                    let o = s.items[s.head]!
                    s.items[s.head] = nil
                    s.head = (s.head + 1) % capacity
                    s.count -= 1
                    s.sequence += 1
                    out.append(BusDelivery(entryID: String(s.sequence), opportunity: o, deliveries: 1))
                }
                return out
            }
        }

        /// Returns when an item is there, or after `timeout`, or on cancellation.
        func wait(_ timeout: Duration) async {
            if state.withLock({ $0.count > 0 }) { return }
            await arrival.wait(timeout)
        }
    }

    private final class Consumer: OpportunityConsumer {
        let stream: Stream
        let bus: InProcessBus
        init(stream: Stream, bus: InProcessBus) {
            self.stream = stream
            self.bus = bus
        }

        func next(max: Int, wait: Duration) async throws(BusError) -> [BusDelivery] {
            var got = stream.pop(max: max)
            if got.isEmpty {
                await stream.wait(wait)
                got = stream.pop(max: max)
            }
            if !got.isEmpty { bus.count { $0.delivered += got.count } }
            return got
        }

        func acknowledge(_ deliveries: [BusDelivery]) async throws(BusError) {
            bus.count { $0.acknowledged += deliveries.count }
        }

        func close() async {
            stream.state.withLock { $0.taken = false }
            stream.arrival.signal()
        }
    }

    public let capacity: Int
    private let streams: Mutex<[String: Stream]> = Mutex([:])
    private let totals: Mutex<BusCounters> = Mutex(BusCounters())

    /// `capacity`: opportunities buffered per partition before the oldest is dropped.
    public init(capacity: Int = 4_096) {
        self.capacity = max(1, capacity)
    }

    public var counters: BusCounters { totals.withLock { $0 } }

    public func publish(_ opportunity: Opportunity, partition: String) async throws(BusError) {
        let dropped = stream(partition).push(opportunity)
        BusMetrics.published(opportunity, partition: partition)
        count {
            $0.published += 1
            if dropped { $0.dropped += 1 }
        }
    }

    public func consumer(partition: String, group: String, name: String) async throws(BusError) -> any OpportunityConsumer {
        let s = stream(partition)
        let free = s.state.withLock { st -> Bool in
            if st.taken { return false }
            st.taken = true
            return true
        }
        guard free else { throw BusError(.usage, "in-process bus: partition \(partition) already has a consumer") }
        return Consumer(stream: s, bus: self)
    }

    private func stream(_ partition: String) -> Stream {
        streams.withLock { all in
            if let s = all[partition] { return s }
            let s = Stream(capacity: capacity)
            all[partition] = s
            return s
        }
    }

    private func count(_ body: (inout BusCounters) -> Void) { totals.withLock { body(&$0) } }
}
