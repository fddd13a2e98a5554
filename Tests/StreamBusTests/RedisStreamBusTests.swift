import ArbiterTestKit
import Glibc
import Opportunities
import StreamBus
import Testing

/// Against a real redis-server started for the suite.
@Suite(.serialized) final class RedisStreamBusTests {
    let redis: RedisServer
    let signer = EntrySigner(current: .init(id: "k2", secret: Array("second-secret-of-32-bytes-------".utf8)),
                             previous: .init(id: "k1", secret: Array("first-secret-of-32-bytes--------".utf8)))

    init() throws { redis = try RedisServer() }

    func bus(_ signer: EntrySigner? = nil, claimIdle: Duration = .seconds(30), maxDeliveries: Int = 5) async throws -> RedisStreamBus {
        var c = RedisStreamBus.Configuration(host: "127.0.0.1", port: redis.port, signer: signer ?? self.signer)
        c.claimIdle = claimIdle
        c.maxDeliveries = maxDeliveries
        return try await RedisStreamBus.connect(c)
    }

    /// Drains a consumer until `count` deliveries arrived or it stays empty.
    func drain(_ c: any OpportunityConsumer, count: Int, ack: Bool = true) async throws -> [BusDelivery] {
        var all: [BusDelivery] = []
        var empty = 0
        while all.count < count, empty < 20 {
            let got = try await c.next(max: 16, wait: .milliseconds(100))
            if got.isEmpty { empty += 1 } else { empty = 0 }
            if ack { try await c.acknowledge(got) }
            all += got
        }
        return all
    }

    /// A consumer takes 20 of 50 and dies without acknowledging; restarted under its name it gets
    /// those 20 again (second delivery), then the other 30, each exactly once.
    @Test func aRestartedConsumerGetsEveryUnacknowledgedEntry() async throws {
        let bus = try await bus()
        let partition = "P1"
        for n in 0..<50 { try await bus.publish(sample(UInt64(n)), partition: partition) }
        let first = try await bus.consumer(partition: partition, group: "exec", name: "exec-1")
        let taken = try await first.next(max: 20, wait: .milliseconds(100))
        #expect(taken.map(\.opportunity.blockNumber) == Array(0..<20))
        await first.close()  // killed: nothing acknowledged

        let again = try await bus.consumer(partition: partition, group: "exec", name: "exec-1")
        let all = try await drain(again, count: 50)
        #expect(all.map(\.opportunity.blockNumber) == Array(0..<50))
        #expect(all.prefix(20).allSatisfy { $0.deliveries == 2 } && all.dropFirst(20).allSatisfy { $0.deliveries == 1 })
        #expect(all.map(\.opportunity) == (0..<50).map { sample(UInt64($0)) })
        #expect(try await again.next(max: 10, wait: .milliseconds(50)).isEmpty)
        let pending = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port).command("XPENDING", Opportunity.stream(partition: partition), "exec")
        #expect(pending.array?.first?.integer == 0)
        await again.close()
    }

    /// A consumer that dies for good: another member of the group claims its entries once they
    /// have been pending longer than `claimIdle`.
    @Test func anotherConsumerClaimsWhatADeadOneLeftPending() async throws {
        let bus = try await bus(claimIdle: .milliseconds(300))
        for n in 0..<10 { try await bus.publish(sample(UInt64(n)), partition: "P2") }
        let dead = try await bus.consumer(partition: "P2", group: "exec", name: "dead")
        #expect(try await dead.next(max: 10, wait: .milliseconds(100)).count == 10)
        await dead.close()
        let live = try await bus.consumer(partition: "P2", group: "exec", name: "live")
        // Before the idle time nothing can be claimed, and nothing new is there.
        #expect(try await live.next(max: 10, wait: .milliseconds(10)).isEmpty)
        try await Task.sleep(for: .milliseconds(400))
        let claimed = try await drain(live, count: 10)
        #expect(claimed.map(\.opportunity.blockNumber) == Array(0..<10))
        #expect(claimed.allSatisfy { $0.deliveries == 2 })
        #expect(bus.counters.reclaimed == 10)
        await live.close()
    }

    /// An entry whose signature was tampered with, one signed by an unknown key, and garbage are
    /// rejected, counted and dead-lettered; the previous key still verifies (rotation).
    @Test func badSignaturesAreRejectedAndRotationAcceptsThePreviousKey() async throws {
        let old = EntrySigner(current: .init(id: "k1", secret: Array("first-secret-of-32-bytes--------".utf8)))
        let stranger = EntrySigner(current: .init(id: "k2", secret: Array("not-our-secret------------------".utf8)))
        let oldBus = try await bus(old), strangerBus = try await bus(stranger), bus = try await bus()
        let stream = Opportunity.stream(partition: "P3")
        try await oldBus.publish(sample(1), partition: "P3")       // previous key: accepted
        try await strangerBus.publish(sample(2), partition: "P3")  // right key id, wrong secret
        try await bus.publish(sample(3), partition: "P3")
        // Tamper: a valid entry's payload with one byte changed, under the original signature.
        let raw = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port)
        let payload = sample(4).encoded()
        let (keyID, signature) = signer.sign(payload, stream: stream)
        var tampered = payload
        tampered[tampered.count - 3] ^= 1
        try await raw.command([b("XADD"), b(stream), b("*"), b("v"), b("1"), b("k"), b(keyID), b("d"), tampered, b("s"), signature])
        try await raw.command("XADD", stream, "*", "hello", "world")
        // A signed entry that is not an opportunity of this version.
        let junk: [UInt8] = [9, 9, 9]
        let junkSig = signer.sign(junk, stream: stream)
        try await raw.command([b("XADD"), b(stream), b("*"), b("v"), b("1"), b("k"), b(junkSig.keyID), b("d"), junk, b("s"), junkSig.signature])
        // Signed for another partition's stream: a replay.
        let elsewhere = signer.sign(sample(5).encoded(), stream: Opportunity.stream(partition: "P1"))
        try await raw.command([b("XADD"), b(stream), b("*"), b("v"), b("1"), b("k"), b(elsewhere.keyID), b("d"), sample(5).encoded(), b("s"), elsewhere.signature])

        let consumer = try await bus.consumer(partition: "P3", group: "exec", name: "c")
        let got = try await drain(consumer, count: 2)
        #expect(got.map(\.opportunity.blockNumber) == [1, 3])
        #expect(bus.counters.rejectedSignature == 4 && bus.counters.malformed == 1 && bus.counters.deadLettered == 5)
        let dead = try await raw.command("XRANGE", stream + ":dead", "-", "+")
        let reasons = (dead.array ?? []).compactMap { $0.array?[1].array?[1].string }
        #expect(reasons == ["signature", "signature", "signature", "malformed", "signature"])
        // Nothing is left pending.
        #expect(try await raw.command("XPENDING", stream, "exec").array?.first?.integer == 0)
        await consumer.close()
    }

    /// An entry that keeps failing (delivered, never acknowledged) is dead-lettered after
    /// `maxDeliveries` deliveries instead of circulating for ever.
    @Test func poisonEntriesAreDeadLetteredAfterMaxDeliveries() async throws {
        let bus = try await bus(claimIdle: .milliseconds(50), maxDeliveries: 3)
        try await bus.publish(sample(42), partition: "P4")
        var deliveries: [Int] = []
        for i in 0..<8 {
            let c = try await bus.consumer(partition: "P4", group: "exec", name: "c\(i)")
            try await Task.sleep(for: .milliseconds(80))
            deliveries += try await c.next(max: 1, wait: .milliseconds(50)).map(\.deliveries)
            await c.close()
        }
        #expect(deliveries == [1, 2, 3])
        #expect(bus.counters.deadLettered == 1)
        let raw = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port)
        let dead = try await raw.command("XRANGE", Opportunity.stream(partition: "P4") + ":dead", "-", "+")
        #expect(dead.array?.count == 1 && dead.array?[0].array?[1].array?[1].string == "deliveries 4")
    }

    /// The server drops every client (a restart, a proxy): the bus dials again, nothing is lost.
    @Test func publisherAndConsumerRedialAfterTheServerDropsThem() async throws {
        let bus = try await bus()
        let consumer = try await bus.consumer(partition: "P5", group: "exec", name: "c")
        try await bus.publish(sample(1), partition: "P5")
        let raw = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port)
        let killed = try await raw.command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        #expect((killed.integer ?? 0) >= 2)
        try await Task.sleep(for: .milliseconds(300))
        try await bus.publish(sample(2), partition: "P5")
        let got = try await drain(consumer, count: 2)
        #expect(got.map(\.opportunity.blockNumber) == [1, 2])
        await consumer.close()
    }

    @Test func aBrokenServerAnswerIsAnErrorNotAHang() async throws {
        await #expect(throws: BusError.self) { _ = try await RedisConnection.connect(host: "127.0.0.1", port: try Devnet.freePortForTests()) }
        let raw = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port)
        await #expect(throws: BusError.self) { try await raw.command("NOSUCHCOMMAND") }
        // The connection is still usable after an error answer.
        #expect(try await raw.command("PING") == .simpleString("PONG"))
    }

    /// What `/ready` asks: nil while the server answers; a reason naming it once it is gone, or
    /// once it stops answering (a listener that never reads: the PING is bounded, not a hang).
    @Test func unavailabilityIsToldAndBounded() async throws {
        let server = try RedisServer()
        var c = RedisStreamBus.Configuration(host: "127.0.0.1", port: server.port, signer: signer)
        c.claimIdle = .seconds(30)
        let bus = try await RedisStreamBus.connect(c)
        #expect(await bus.unavailable() == nil)
        server.stop()
        let gone = await bus.unavailable(within: .seconds(5))
        #expect(gone?.hasPrefix("redis 127.0.0.1:\(server.port): bus connection") == true, "\(String(describing: gone))")

        // A listener that accepts (in the kernel's backlog) and never answers.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        #expect(bound)
        let silent = try await RedisStreamBus.connect(.init(host: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port)), signer: signer))
        let started = ContinuousClock.now
        let mute = await silent.unavailable(within: .milliseconds(300))
        #expect(mute == "redis 127.0.0.1:\(UInt16(bigEndian: address.sin_port)): no answer to PING within 0.3 seconds")
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}

func b(_ s: String) -> [UInt8] { Array(s.utf8) }
