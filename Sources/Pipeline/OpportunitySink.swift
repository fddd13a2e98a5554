import Logging
import MarketWatch
import Opportunities
import ServiceLifecycle
import StreamBus
import Synchronization

/// The consuming end of the bus until execution takes its place: reads every partition it is
/// given, drops what has expired (counted), hands the rest to `handle`, and acknowledges after
/// `handle` returns, so work that was not finished is delivered again after a crash.
public final class OpportunitySink: Service {
    public struct Status: Equatable, Sendable {
        public var received = 0
        public var expired = 0
        public var redelivered = 0
        public var errors = 0
    }

    let bus: any OpportunityBus
    let partitions: [String]
    let group: String
    let name: String
    let handle: @Sendable (BusDelivery, _ partition: String, _ receivedAt: UInt64) async -> Void
    let logger: Logger
    private let shared = Mutex(Status())

    public init(bus: any OpportunityBus, partitions: [String], group: String = "executors", name: String, logger: Logger,
                handle: @escaping @Sendable (BusDelivery, String, UInt64) async -> Void) {
        self.bus = bus
        self.partitions = partitions
        self.group = group
        self.name = name
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

    private func consume(_ partition: String) async throws {
        let consumer = try await bus.consumer(partition: partition, group: group, name: name)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let batch: [BusDelivery]
            do {
                batch = try await consumer.next(max: 64, wait: .milliseconds(200))
            } catch {
                shared.withLock { $0.errors += 1 }
                logger.warning("bus read failed", metadata: ["arb.partition": "\(partition)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            for d in batch {
                let now = WallClock.nanoseconds()
                shared.withLock {
                    $0.received += 1
                    if d.deliveries > 1 { $0.redelivered += 1 }
                }
                if d.opportunity.expiresAt <= now {
                    shared.withLock { $0.expired += 1 }
                } else {
                    await handle(d, partition, now)
                }
            }
            do {
                try await consumer.acknowledge(batch)
            } catch {
                shared.withLock { $0.errors += 1 }
                logger.warning("bus acknowledge failed", metadata: ["arb.partition": "\(partition)", "error": "\(error)"])
            }
        }
        await consumer.close()
    }
}
