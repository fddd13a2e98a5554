import Opportunities
import StreamBus
import Testing

@Suite struct InProcessBusTests {
    @Test func deliversInOrderAndCountsEveryDrop() async throws {
        let bus = InProcessBus(capacity: 8)
        let consumer = try await bus.consumer(partition: "P1", group: "exec", name: "a")
        for n in 0..<20 { try await bus.publish(sample(UInt64(n)), partition: "P1") }
        // The 12 oldest were dropped; the 8 newest remain, in order.
        let got = try await consumer.next(max: 100, wait: .milliseconds(10))
        #expect(got.map(\.opportunity.blockNumber) == Array(12..<20))
        #expect(got.allSatisfy { $0.deliveries == 1 })
        #expect(bus.counters.published == 20 && bus.counters.dropped == 12 && bus.counters.delivered == 8)
        try await consumer.acknowledge(got)
        #expect(bus.counters.acknowledged == 8)
        // Partitions are separate.
        try await bus.publish(sample(99), partition: "P2")
        #expect(try await consumer.next(max: 10, wait: .milliseconds(10)).isEmpty)
    }

    @Test func aWaitingConsumerWakesOnPublishAndTimesOutEmpty() async throws {
        let bus = InProcessBus()
        let consumer = try await bus.consumer(partition: "P3", group: "exec", name: "a")
        #expect(try await consumer.next(max: 1, wait: .milliseconds(50)).isEmpty)
        async let got = consumer.next(max: 5, wait: .seconds(30))
        try await Task.sleep(for: .milliseconds(50))
        try await bus.publish(sample(7), partition: "P3")
        let start = ContinuousClock.now
        #expect(try await got.map(\.opportunity) == [sample(7)])
        #expect(ContinuousClock.now - start < .seconds(20))
        // One consumer per partition in process.
        await #expect(throws: BusError.self) { _ = try await bus.consumer(partition: "P3", group: "exec", name: "b") }
        await consumer.close()
        _ = try await bus.consumer(partition: "P3", group: "exec", name: "b")
    }
}
