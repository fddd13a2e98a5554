import ArbiterTestKit
import EVMPrimitives
import Execution
import Foundation
import Logging
import Opportunities
import Pipeline
import StreamBus
import Synchronization
import Testing

/// The consuming end of the bus over the real in-process bus: several opportunities handled at
/// once, the most profitable first, one on a pool being traded waiting for it, a chain taking no
/// more at once than its lanes, and each acknowledged once handled.
@Suite struct OpportunitySinkTests {
    /// An opportunity on `chain` through `pools`, worth `profit` micro-dollars, live for an hour
    /// (a loaded machine stalls a test's tasks for a minute or more).
    static func opportunity(_ n: UInt64, chain: UInt64 = 1, pools: [UInt64], profit: Int64) -> Opportunity {
        let hops = pools.enumerated().map { i, p in
            Opportunity.Hop(chainID: chain, pool: Address(truncating: UInt256(p)), tokenIn: Address(truncating: UInt256(UInt64(i + 1))),
                            tokenOut: Address(truncating: UInt256(UInt64((i + 1) % pools.count + 1))), venue: 1, amountOut: UInt256(n * 1000 + 9))
        }
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        return Opportunity(id: Opportunity.makeID(kind: .crossDex, blockNumber: n, path: hops, amountIn: UInt256(n * 1000)), kind: .crossDex,
                           chains: [chain], path: hops, amountIn: UInt256(n * 1000), grossProfit: Int256(9), netProfit: Int256(5),
                           grossProfitMicroUSD: profit, netProfitMicroUSD: profit, gasUnits: 320_000, gasCostWei: 4, flashSource: .balancerV2,
                           blockNumber: n, timestamps: .init(eventReceived: now), expiresAt: now + 3_600_000_000_000, confidence: 0.9)
    }

    /// What the handler saw: the order trades started in, those running, and the most at once.
    final class Record: Sendable {
        struct State {
            var started: [UInt64] = []
            var finished: [UInt64] = []
            /// "s3" when 3 started, "f3" when it finished, in order.
            var events: [String] = []
            var running: Set<UInt64> = []
            var most = 0
            var released: Set<UInt64> = []
        }
        let state = Mutex(State())

        func start(_ n: UInt64) {
            state.withLock {
                $0.started.append(n)
                $0.events.append("s\(n)")
                $0.running.insert(n)
                $0.most = max($0.most, $0.running.count)
            }
        }
        func finish(_ n: UInt64) {
            state.withLock {
                $0.running.remove(n)
                $0.finished.append(n)
                $0.events.append("f\(n)")
            }
        }
        func release(_ n: UInt64) { state.withLock { _ = $0.released.insert(n) } }
        var snapshot: State { state.withLock { $0 } }

        /// Holds trade `n` until the test releases it (bounded: five minutes).
        func hold(_ n: UInt64) async {
            for _ in 0..<30_000 where !state.withLock({ $0.released.contains(n) }) { try? await Task.sleep(for: .milliseconds(10)) }
        }
    }

    /// Publishes `opportunities`, then runs a sink over them until `done` holds (at most five minutes).
    func consume(_ opportunities: [Opportunity], lanes: OpportunitySink.Lanes, held: Set<UInt64>,
                 until done: @escaping @Sendable (Record.State) -> Bool, steps: @escaping @Sendable (Record) -> Void = { _ in }) async throws
        -> (Record.State, BusCounters) {
        let bus = InProcessBus()
        for o in opportunities { try await bus.publish(o, partition: "P1") }
        let record = Record()
        let sink = OpportunitySink(bus: bus, partitions: ["P1"], name: "test", lanes: lanes, logger: Logger(label: "test.sink")) { d, _, _ in
            let n = d.opportunity.blockNumber
            record.start(n)
            if held.contains(n) { await record.hold(n) } else { try? await Task.sleep(for: .milliseconds(100)) }
            record.finish(n)
        }
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(300)
        while !done(record.snapshot), ContinuousClock.now < deadline {
            steps(record)
            try await Task.sleep(for: .milliseconds(10))
        }
        let state = record.snapshot
        try #require(done(state), "not done within five minutes: \(state)")
        // Everything handled is acknowledged (the loop looks every 20 ms).
        while bus.counters.acknowledged < state.finished.count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return (state, bus.counters)
    }

    /// Found by the soak: an opportunity that expired on the bus (its executor down or busy while
    /// it waited) was acknowledged unjournaled, so nothing said what became of it. Now execution
    /// journals it, refused `bus:expired`, beside the ones it handled.
    @Test func whatExpiresOnTheBusIsJournaledAsExpired() async throws {
        let bus = InProcessBus()
        let journal = try Journal(path: ":memory:")
        let engine = ExecutionEngine(chains: [], state: WatcherStates([]), journal: journal, logger: Logger(label: "test.sink"))
        var stale = Self.opportunity(1, pools: [10, 11], profit: 40)
        stale.expiresAt = UInt64(Date().timeIntervalSince1970 * 1e9) - 1_000_000_000
        let live = Self.opportunity(2, pools: [20, 21], profit: 30)
        for o in [stale, live] { try await bus.publish(o, partition: "P1") }
        let execution = ExecutionService(engine: engine, bus: bus, partitions: ["P1"], name: "test", drainLimit: .seconds(1), logger: Logger(label: "test.sink"))
        let task = Task { try await execution.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(120)
        while bus.counters.acknowledged < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(bus.counters.acknowledged == 2)
        let rows = try journal.opportunities(limit: 10)
        let decisions = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0.decision) })
        #expect(decisions[Hex.encode(stale.id)] == "refused:expired", "\(decisions)")
        #expect(decisions[Hex.encode(live.id)] != nil && decisions[Hex.encode(live.id)] != "refused:expired", "\(decisions)")
        #expect(await engine.snapshot.refused["bus:expired"] == 1)
    }

    /// Found by the soak: an executor that started while Redis was restarting exited at once (its
    /// partition's consumer could not be had). The sink now asks again, within `connectPatience`:
    /// here the server comes back a second later and what is published then is handled; with no
    /// server at all, the sink ends with the bus's error once its patience is spent.
    @Test func aBusDownWhenTheSinkStartsIsAskedAgain() async throws {
        let first = try RedisServer(), port = first.port
        let signer = EntrySigner(current: .init(id: "k1", secret: Array("a-secret-of-at-least-16-bytes---".utf8)))
        let bus = try await RedisStreamBus.connect(.init(host: "127.0.0.1", port: port, signer: signer))
        first.stop()
        let record = Record()
        let sink = OpportunitySink(bus: bus, partitions: ["P1"], name: "test", logger: Logger(label: "test.sink")) { d, _, _ in
            record.start(d.opportunity.blockNumber)
            record.finish(d.opportunity.blockNumber)
        }
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        try await Task.sleep(for: .seconds(1))
        #expect(sink.status.errors >= 1, "the consumer was asked for while the server was down")
        let again = try RedisServer(port: port)
        defer { again.stop() }
        let o = Self.opportunity(7, pools: [70, 71], profit: 10)
        let deadline = ContinuousClock.now + .seconds(60)
        var published = false
        while !published, ContinuousClock.now < deadline {
            do {
                try await bus.publish(o, partition: "P1")
                published = true
            } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        while record.snapshot.finished.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(record.snapshot.finished == [7])

        // No server: the sink gives up after its patience, with the bus's error.
        let gone = try RedisServer(), lost = try await RedisStreamBus.connect(.init(host: "127.0.0.1", port: gone.port, signer: signer))
        gone.stop()
        let patient = OpportunitySink(bus: lost, partitions: ["P1"], name: "test", logger: Logger(label: "test.sink"), connectPatience: .seconds(2)) { _, _, _ in }
        let began = ContinuousClock.now
        await #expect(throws: BusError.self) { try await patient.run() }
        #expect(ContinuousClock.now - began >= .seconds(1) && patient.status.errors >= 2)
    }

    @Test func oneAtATimeTheMostProfitableGoFirst() async throws {
        let profits: [UInt64: Int64] = [1: 10, 2: 50, 3: 90, 4: 30, 5: 70]
        let list = profits.keys.sorted().map { Self.opportunity($0, pools: [$0 * 10, $0 * 10 + 1], profit: profits[$0]!) }
        let (state, counters) = try await consume(list, lanes: .serial, held: [], until: { $0.finished.count == 5 })
        #expect(state.started == [3, 5, 2, 4, 1] && state.most == 1)
        #expect(counters.acknowledged == 5)
    }

    @Test func aSlowTradeHoldsNoOtherAndTheLanesAreFilledBestFirst() async throws {
        // Five on disjoint pools, three lanes. Each trade is held until three run at once; the best
        // (3) is then held, as on a slow node, until every other one is done.
        let profits: [UInt64: Int64] = [1: 10, 2: 50, 3: 90, 4: 30, 5: 70]
        let list = profits.keys.sorted().map { Self.opportunity($0, pools: [$0 * 10, $0 * 10 + 1], profit: profits[$0]!) }
        let (state, counters) = try await consume(list, lanes: .init(total: 3), held: [1, 2, 3, 4, 5], until: { $0.finished.count == 5 },
                                                  steps: { r in
                                                      let s = r.snapshot
                                                      guard s.most >= 3 else { return }
                                                      for n in s.started where n != 3 { r.release(n) }
                                                      if s.finished.count == 4 { r.release(3) }
                                                  })
        #expect(Set(state.started.prefix(3)) == [3, 5, 2], "the three most profitable first: \(state.started)")
        #expect(Set(state.started.suffix(2)) == [4, 1])
        #expect(state.finished.last == 3, "the others did not wait for the slow one")
        #expect(state.most == 3, "three lanes in all, each used, never more")
        #expect(counters.acknowledged == 5)
    }

    @Test func aTradeOnABusyPoolWaitsAndAChainTakesNoMoreThanItsLanes() async throws {
        // 1 and 2 share pool 7 (2 waits for 1, whatever their profits); chain 5 has one lane: 3 and
        // 4 go one after the other; 6 on chain 9 goes beside them all.
        let list = [
            Self.opportunity(1, pools: [7, 8], profit: 90), Self.opportunity(2, pools: [7, 20], profit: 80),
            Self.opportunity(3, chain: 5, pools: [30, 31], profit: 70), Self.opportunity(4, chain: 5, pools: [40, 41], profit: 60),
            Self.opportunity(6, chain: 9, pools: [7, 8], profit: 50),
        ]
        let (state, counters) = try await consume(list, lanes: .init(total: 8, perChain: [5: 1]), held: [1, 3],
                                                  until: { $0.finished.count == 5 },
                                                  steps: { r in
                                                      let s = r.snapshot
                                                      // Released once the free ones are done: the waiting ones must still be waiting.
                                                      if s.finished.contains(6) && s.started.count == 3 { r.release(1); r.release(3) }
                                                  })
        #expect(Set(state.started.prefix(3)) == [1, 3, 6], "2 waits for pool 7, 4 for chain 5's lane: \(state.started)")
        #expect(Set(state.started.suffix(2)) == [2, 4])
        let at = { (e: String) in state.events.firstIndex(of: e) ?? .max }
        #expect(at("f1") < at("s2") && at("f3") < at("s4"), "\(state.events)")
        #expect(counters.acknowledged == 5)
    }
}
