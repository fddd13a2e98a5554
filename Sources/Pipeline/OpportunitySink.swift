import EVMPrimitives
import Logging
import MarketWatch
import Opportunities
import ServiceLifecycle
import StreamBus
import Synchronization

/// The consuming end of the bus until execution takes its place: reads every partition it is
/// given, drops what has expired (counted, and told to `expired`), hands the rest to `handle` — several of a
/// partition's at once (`Lanes`), the most profitable first — and acknowledges each after its
/// `handle` returns, so work that was not finished is delivered again after a crash.
///
/// One at a time, a trade that waits seconds on a slow node (a simulation, a strategy's reads)
/// holds every opportunity behind it until a newer block has made them stale. At once, two
/// trades on one pool would refuse each other (`lock:poolBusy`) while the first may still be
/// refused itself: an opportunity sharing a pool with one being handled waits for it, and a
/// chain takes no more at once than it has keys to send from.
public final class OpportunitySink: Service {
    public struct Status: Equatable, Sendable {
        public var received = 0
        public var expired = 0
        public var redelivered = 0
        public var errors = 0
    }

    /// How many of a partition's opportunities are handled at once.
    public struct Lanes: Sendable {
        /// In all.
        public var total: Int
        /// On a chain (an opportunity's first): its keys, each sending one trade at a time; unlisted chains: `total`.
        public var perChain: [UInt64: Int]
        /// Read but not started, at most: the rest stay on the bus until there is room.
        public var waiting = 256

        public init(total: Int, perChain: [UInt64: Int] = [:]) {
            self.total = max(1, total)
            self.perChain = perChain
        }

        /// One at a time, in order of profit.
        public static let serial = Lanes(total: 1)
    }

    let bus: any OpportunityBus
    let partitions: [String]
    let group: String
    let name: String
    let lanes: Lanes
    let handle: @Sendable (BusDelivery, _ partition: String, _ receivedAt: UInt64) async -> Void
    /// Told what expired unhandled (before it is acknowledged), so that it is journaled as such.
    let expired: (@Sendable ([Opportunity], _ now: UInt64) async -> Void)?
    let logger: Logger
    /// How long a partition's consumer is asked for while the bus cannot be reached (Redis
    /// restarting when the process starts) before the sink gives up with the bus's error.
    public let connectPatience: Duration
    private let shared = Mutex(Status())

    public init(bus: any OpportunityBus, partitions: [String], group: String = "executors", name: String, lanes: Lanes = .serial, logger: Logger,
                expired: (@Sendable ([Opportunity], UInt64) async -> Void)? = nil, connectPatience: Duration = .seconds(30),
                handle: @escaping @Sendable (BusDelivery, String, UInt64) async -> Void) {
        self.expired = expired
        self.connectPatience = connectPatience
        self.bus = bus
        self.partitions = partitions
        self.group = group
        self.name = name
        self.lanes = lanes
        self.logger = logger
        self.handle = handle
    }

    public var status: Status { shared.withLock { $0 } }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in partitions {
                group.addTask { try await self.consume(p) }
            }
            try await group.waitForAll()
        }
    }

    /// The partition's consumer. A bus that cannot be reached is asked again (0.25 s doubling to
    /// 2 s, each attempt logged) for up to `connectPatience`; then its error ends the sink. Found by
    /// the soak: an executor that started while Redis restarted exited at once.
    private func consumer(_ partition: String) async throws -> any OpportunityConsumer {
        let deadline = ContinuousClock.now + connectPatience
        var wait = Duration.milliseconds(250), attempt = 1
        while true {
            let failure: BusError
            do {
                return try await bus.consumer(partition: partition, group: group, name: name)
            } catch {
                failure = error
            }
            guard failure.code == .connection, ContinuousClock.now + wait < deadline, !Task.isCancelled else { throw failure }
            shared.withLock { $0.errors += 1 }
            logger.warning("bus unreachable, asked again in \(wait) (attempt \(attempt))", metadata: ["arb.partition": "\(partition)", "error": "\(failure)"])
            try await Task.sleep(for: wait)
            (wait, attempt) = (Swift.min(wait * 2, .seconds(2)), attempt + 1)
        }
    }

    private func consume(_ partition: String) async throws {
        let consumer = try await consumer(partition)
        // Read, not started yet (best first); handled, to acknowledge; being handled.
        var waiting: [(delivery: BusDelivery, receivedAt: UInt64)] = []
        let handled = Handled()
        var running = Running()
        await withDiscardingTaskGroup { tasks in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                var done = handled.take()
                for d in done { running.remove(d.opportunity) }
                // Idle: wait on the bus. With work in hand: only look, and only while there is room.
                let idle = running.total == 0 && waiting.isEmpty
                let room = lanes.waiting - waiting.count
                var fresh = 0
                if room > 0 {
                    do {
                        for d in try await consumer.next(max: Swift.min(64, room), wait: idle ? .milliseconds(200) : .zero) {
                            shared.withLock {
                                $0.received += 1
                                if d.deliveries > 1 { $0.redelivered += 1 }
                            }
                            waiting.append((d, WallClock.nanoseconds()))
                            fresh += 1
                        }
                    } catch {
                        shared.withLock { $0.errors += 1 }
                        logger.warning("bus read failed", metadata: ["arb.partition": "\(partition)", "error": "\(error)"])
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
                // What expired while waiting is not handled.
                let now = WallClock.nanoseconds()
                let expired = waiting.filter { $0.delivery.opportunity.expiresAt <= now }
                if !expired.isEmpty {
                    waiting.removeAll { $0.delivery.opportunity.expiresAt <= now }
                    shared.withLock { $0.expired += expired.count }
                    await self.expired?(expired.map(\.delivery.opportunity), now)
                    done += expired.map(\.delivery)
                }
                if !done.isEmpty { await acknowledge(done, consumer, partition) }
                // The most profitable first (in USD, across the partition's chains); ties in arrival order.
                if fresh > 0 { waiting.sort { $0.delivery.opportunity.netProfitMicroUSD > $1.delivery.opportunity.netProfitMicroUSD } }
                var started = 0, i = 0
                while i < waiting.count, running.total < lanes.total {
                    let (d, receivedAt) = waiting[i]
                    guard running.admits(d.opportunity, lanes) else {
                        i += 1
                        continue
                    }
                    waiting.remove(at: i)
                    running.add(d.opportunity)
                    started += 1
                    tasks.addTask {
                        await self.handle(d, partition, receivedAt)
                        handled.add(d)
                    }
                }
                // Nothing arrived and nothing could start: until a trade ends (or a short while, to look at the bus again).
                if !idle && fresh == 0 && started == 0 { await handled.wait(.milliseconds(20)) }
            }
        }
        // Every started trade has been handled (the group waited for them); those never started
        // are not acknowledged: delivered again after a restart.
        let done = handled.take()
        if !done.isEmpty { await acknowledge(done, consumer, partition) }
        await consumer.close()
    }

    /// The opportunities being handled: their pools and how many per chain.
    struct Running {
        private(set) var total = 0
        private var chains: [UInt64: Int] = [:]
        private var pools: [PoolKey: Int] = [:]

        struct PoolKey: Hashable {
            var chain: UInt64
            var pool: Address
        }

        static func keys(_ o: Opportunity) -> [PoolKey] { o.path.map { PoolKey(chain: $0.chainID, pool: $0.pool) } }

        /// Another trade may start: the chain has a lane free and no pool of it is being traded.
        func admits(_ o: Opportunity, _ lanes: Lanes) -> Bool {
            if let chain = o.chains.first, let cap = lanes.perChain[chain], chains[chain, default: 0] >= cap { return false }
            return Self.keys(o).allSatisfy { pools[$0] == nil }
        }

        mutating func add(_ o: Opportunity) {
            total += 1
            if let chain = o.chains.first { chains[chain, default: 0] += 1 }
            for k in Self.keys(o) { pools[k, default: 0] += 1 }
        }

        mutating func remove(_ o: Opportunity) {
            total -= 1
            if let chain = o.chains.first { chains[chain, default: 0] -= 1 }
            for k in Self.keys(o) {
                pools[k, default: 0] -= 1
                if pools[k] == 0 { pools[k] = nil }
            }
        }
    }

    /// Deliveries handled since the consuming loop last looked, and a wait for the next one.
    private final class Handled: Sendable {
        private let list = Mutex<[BusDelivery]>([])
        private let finished = Wakeup()

        func add(_ d: BusDelivery) {
            list.withLock { $0.append(d) }
            finished.signal()
        }

        func take() -> [BusDelivery] { list.withLock { l in defer { l.removeAll() }; return l } }

        /// Returns once something has been handled and not taken yet, or after `timeout`.
        func wait(_ timeout: Duration) async {
            if list.withLock({ !$0.isEmpty }) { return }
            await finished.wait(timeout)
        }
    }

    private func acknowledge(_ done: [BusDelivery], _ consumer: any OpportunityConsumer, _ partition: String) async {
        do {
            try await consumer.acknowledge(done)
        } catch {
            shared.withLock { $0.errors += 1 }
            logger.warning("bus acknowledge failed", metadata: ["arb.partition": "\(partition)", "error": "\(error)"])
        }
    }
}
