import ArbiterTestKit
import EVMCodec
import Feeds
import Foundation
import MetricsTestKit
import Testing

/// The feed against the stand-in Binance server on loopback, time compressed tenfold (pings every
/// 2 s, pong deadline 6 s, shutdown grace 60 s, stalls of 12 s).
@Suite(.serialized) struct BinanceFeedStandInTests {
    static let symbols = ["ETHUSDT", "BTCUSDT", "USDCUSDT"]

    static func options() -> BinanceFeed.Options {
        var o = BinanceFeed.Options()
        o.silenceTimeout = .seconds(3)
        o.connectTimeout = .seconds(3)
        o.maxConnectionAge = .seconds(8640)  // 24 h / 10: the server's own cut
        o.initialBackoff = .milliseconds(100)
        o.maxBackoff = .seconds(2)
        o.state.maxAge = 2_000_000_000
        o.state.frozenAfter = 1_000_000_000
        o.tick = .milliseconds(50)
        return o
    }

    /// Runs `feed` while `body` runs, then stops it.
    static func running<T: Sendable>(_ feed: BinanceFeed, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await feed.run(); return nil }
            let result = try await body()
            group.cancelAll()
            while let r = try await group.next() { _ = r }
            return result
        }
    }

    /// Waits for `check`; the limits are three times what an idle machine needs (the suite runs
    /// beside devnets in CI), which only makes a failure slower, never a pass easier.
    static func until(_ seconds: Double, _ what: String, _ check: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(3 * seconds)
        while try await !check() {
            guard Date() < deadline else { throw DevnetError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Every trade id from the first the feed saw to the server's last either came over the stream
    /// or was recovered by a resync, and nothing is left missing.
    static func noTradeLost(_ feed: BinanceFeed, _ server: BinanceStandIn) async throws {
        try await until(20, "every symbol caught up with the server's trades") {
            let log = try await server.log()
            return feed.state.withLock { st in
                symbols.indices.allSatisfy { i in
                    let last = UInt64(int(log["symbols"]?[symbols[i]]?["lastAggId"]))
                    return st.books[i].aggID >= last && st.books[i].missingFrom == nil
                }
            }
        }
    }

    static func int(_ v: JSONValue?) -> Int { v.flatMap { Int($0.text) } ?? 0 }

    @Test func everyMisbehaviourIsSurvived() async throws {
        let server = try await BinanceStandIn(seed: 3, scale: 10)
        defer { server.stop() }
        let metrics = TestMetrics()
        let feed = BinanceFeed(streamBase: server.ws, rest: BinanceREST(base: server.rest), symbols: Self.symbols, options: Self.options(), metrics: metrics)
        try await Self.running(feed) {
            try await Self.until(10, "every book has a price") { feed.status.symbols.allSatisfy { $0.status == .fresh } }
            // Pings (every 2 s) are answered with their payload.
            try await Self.until(10, "two pongs") { Self.int(try await server.log()["pongs"]) >= 2 }

            // A dropped socket: reconnected, and the trades of the outage recovered.
            try await server.chaos("drop")
            try await Self.until(10, "a reconnect") { feed.status.reconnects >= 1 && feed.status.symbols.allSatisfy { $0.status == .fresh } }
            try await Self.noTradeLost(feed, server)

            // Skipped trade ids: a gap, filled from REST.
            let gapsBefore = feed.status.counters.gaps
            try await server.chaos("skip")
            try await Self.until(10, "a gap") { feed.status.counters.gaps > gapsBefore }
            try await Self.noTradeLost(feed, server)
            #expect(feed.status.counters.recoveredTrades >= 1)

            // Malformed frames: each one the server sent is counted, none applied.
            let malformedBefore = feed.status.counters.malformed
            let sentBefore = Self.int(try await server.log()["malformedSent"])
            try await server.chaos("malformed")
            let sent = Self.int(try await server.log()["malformedSent"]) - sentBefore
            #expect(sent == 9)
            try await Self.until(5, "malformed frames counted") { feed.status.counters.malformed >= malformedBefore + sent }

            // A stall (silence, pings included): the book goes stale within its limit, the
            // connection is replaced after the silence timeout, the book is fresh again.
            let opened = feed.status.connectionsOpened
            try await server.chaos("stall")
            try await Self.until(6, "the book to go stale") { feed.status.symbols.allSatisfy { $0.status == .stale } }
            try await Self.until(10, "a replacement") { feed.status.connectionsOpened > opened && feed.status.symbols.allSatisfy { $0.status == .fresh } }

            // serverShutdown: the replacement opens at once and the old one is left before the
            // server would close it.
            let beforeShutdown = try await server.log()
            try await server.chaos("shutdown")
            try await Self.until(10, "the client to leave the announced connection") {
                let log = try await server.log()
                return Self.int(log["shutdownLeftEarly"]) > Self.int(beforeShutdown["shutdownLeftEarly"])
            }
            #expect(feed.status.counters.shutdownNotices >= 1)
            try await Self.noTradeLost(feed, server)

            // A frozen book (its trades print, it does not move): not used until it moves again.
            try await server.chaos("freeze")
            try await Self.until(5, "ETHUSDT frozen") { feed.status.symbols[0].status == .frozen }
            #expect(feed.usable(0) == nil && feed.usable(1) != nil)
            try await Self.until(8, "ETHUSDT moving again") { feed.status.symbols[0].status == .fresh }

            // Late pings change nothing; every ping was answered with its payload in time.
            try await server.chaos("latePings")
            try await Task.sleep(for: .seconds(2))
            let log = try await server.log()
            #expect(log["violations"]?.arrayValue?.isEmpty == true, "\(log["violations"]?.text ?? "")")
            #expect(Self.int(log["shutdownForced"]) == 0)
            #expect(Self.int(log["connections"]) == feed.status.connectionsOpened)

            // The integrity figures reach the metrics (refreshed once a second).
            try await Task.sleep(for: .milliseconds(1200))
            let s = feed.status
            let d = [("exchange", "binance")]
            #expect(try metrics.expectCounter("arbiter_cex_reconnects_total", d).totalValue == Int64(s.reconnects) && s.reconnects >= 1)
            #expect(try metrics.expectCounter("arbiter_cex_gaps_total", d).totalValue == Int64(s.counters.gaps) && s.counters.gaps >= 1)
            #expect(try metrics.expectCounter("arbiter_cex_malformed_frames_total", d).totalValue >= 9)
            #expect(try metrics.expectGauge("arbiter_cex_message_age_p99_seconds", d).lastValue != nil)
        }
    }
}

/// Connections replaced before the server's age cut (here every 3 s): make-before-break, so no
/// outage, no resync, no trade missed and no book ever stale; the plan shards streams at 1,024 a
/// connection; the REST book ticker.
extension BinanceFeedStandInTests {
/// (Nested: one stand-in at a time, the suite is serialized.)
@Suite struct Rotation {
    typealias T = BinanceFeedStandInTests

    @Test func rotationLosesNothing() async throws {
        let server = try await BinanceStandIn(seed: 5, scale: 10)
        defer { server.stop() }
        var o = T.options()
        o.maxConnectionAge = .seconds(3)
        // Only a real drop may count as an outage here: a busy machine's pauses are not stalls.
        o.silenceTimeout = .seconds(10)
        o.state.maxAge = 5_000_000_000
        let feed = BinanceFeed(streamBase: server.ws, rest: BinanceREST(base: server.rest), symbols: T.symbols, options: o)
        try await T.running(feed) {
            try await T.until(10, "every book has a price") { feed.status.symbols.allSatisfy { $0.status == .fresh } }
            var samples = 0
            let end = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < end {
                #expect(feed.status.symbols.allSatisfy { $0.status == .fresh })
                samples += 1
                try await Task.sleep(for: .milliseconds(100))
            }
            try await T.noTradeLost(feed, server)
            let s = feed.status
            #expect(s.connectionsOpened >= 4 && s.reconnects == 0 && s.counters.gaps == 0 && s.counters.resyncs == 0, "\(s.connectionsOpened) \(s.reconnects)")
            // Old book frames from the overlapping connections were dropped, not applied.
            #expect(s.counters.oldBook > 0 && s.counters.duplicateTrades > 0)
            let log = try await server.log()
            #expect(log["violations"]?.arrayValue?.isEmpty == true && T.int(log["connections"]) == s.connectionsOpened)
            #expect(samples >= 80)
        }
    }

    @Test func streamsAreShardedAt1024AConnection() {
        let symbols = (0..<600).map { "S\($0)USDT" }
        let feed = BinanceFeed(streamBase: "ws://127.0.0.1:1", rest: BinanceREST(base: "http://127.0.0.1:1"), symbols: symbols)
        let plan = feed.plan
        #expect(plan.map(\.count) == [1024, 776])
        #expect(Set(plan.joined()).count == 1800 && plan[0][0] == "s0usdt@bookTicker" && plan[0][2] == "s0usdt@depth20@100ms")
    }

    @Test func theRESTBookTickerAndDepthAreReadStrictly() async throws {
        let server = try await BinanceStandIn(seed: 6)
        defer { server.stop() }
        let rest = BinanceREST(base: server.rest)
        let t = try await rest.bookTicker("ETHUSDT")
        #expect(!t.bid.isZero && t.bid < t.ask)
        let d = try await rest.depth("BTCUSDT", limit: 20)
        #expect(d.bids.count == 20 && d.asks.count == 20 && d.bids[0].price < d.asks[0].price && d.lastUpdateID > 0)
        await #expect(throws: BinanceREST.Failure.self) { _ = try await rest.bookTicker("DOGEUSDT") }
    }
}

}

extension BinanceFeedStandInTests {
/// Ten minutes of misbehaviour in one (time compressed tenfold): a misbehaviour every 3 s on
/// average, in seeded rounds of every kind.
@Suite struct Chaos {
    typealias T = BinanceFeedStandInTests

    struct Sample: Sendable { var at: UInt64; var symbol: Int; var bid: String; var ask: String }

    @Test func tenCompressedMinutesOfChaosLoseNothingAndUseNoStalePrice() async throws {
        let server = try await BinanceStandIn(seed: 11, scale: 10, chaosEvery: 3)
        defer { server.stop() }
        let options = T.options()
        let feed = BinanceFeed(streamBase: server.ws, rest: BinanceREST(base: server.rest), symbols: T.symbols, options: options)
        let (samples, logAt, log) = try await T.running(feed) { () async throws -> ([Sample], UInt64, JSONValue) in
            var samples: [Sample] = []
            let end = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < end {
                for i in T.symbols.indices {
                    if let b = feed.usable(i) { samples.append(Sample(at: monotonicNanos(), symbol: i, bid: b.bid.description, ask: b.ask.description)) }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            // The chaos goes on; the feed must still account for every trade it could have seen.
            try await T.noTradeLost(feed, server)
            let before = monotonicNanos()
            let log = try await server.log(tops: 5000)
            return (samples, (before + monotonicNanos()) / 2, log)
        }
        let kinds = Set((log["chaos"]?.arrayValue ?? []).compactMap(\.stringValue))
        #expect(kinds == ["drop", "shutdown", "stall", "skip", "malformed", "latePings", "freeze"], "\(kinds)")
        #expect(log["violations"]?.arrayValue?.isEmpty == true, "\(log["violations"]?.text ?? "")")
        let st = feed.status
        let malformedSent = T.int(log["malformedSent"])
        #expect(st.reconnects >= 2 && st.counters.gaps >= 1 && st.counters.shutdownNotices >= 1, "\(st.reconnects) \(st.counters.gaps) \(st.counters.shutdownNotices)")
        #expect(malformedSent >= 9 && st.counters.malformed >= 9 && st.counters.malformed <= malformedSent, "\(st.counters.malformed) of \(malformedSent)")

        // Every trade id from the first seen to the last: streamed once or recovered once.
        feed.state.withLock { s in
            for i in T.symbols.indices {
                let b = s.books[i]
                #expect(b.missingFrom == nil)
                #expect(b.tradesStreamed + b.tradesRecovered == b.aggID - b.firstAggID + 1, "\(b.symbol)")
            }
        }

        // Every price the feed let a caller use was on the server within the staleness limit.
        let tolerance: UInt64 = 250_000_000
        var checked = 0
        for s in samples {
            let tops = log["symbols"]?[T.symbols[s.symbol]]?["tops"]?.arrayValue ?? []
            let published: [UInt64] = tops.compactMap { row in
                guard let r = row.arrayValue, r.count == 3, r[1].stringValue.flatMap(CexDecimal.init) == CexDecimal(s.bid),
                      r[2].stringValue.flatMap(CexDecimal.init) == CexDecimal(s.ask), let ago = Double(r[0].text) else { return nil }
                return logAt - UInt64(ago * 1e9)
            }
            guard let oldest = published.min(), oldest + 60_000_000_000 > logAt else { continue }  // outside the server's window
            checked += 1
            #expect(published.contains { $0 <= s.at + tolerance && s.at - min(s.at, $0) <= options.state.maxAge + tolerance },
                    "\(T.symbols[s.symbol]) \(s.bid)/\(s.ask) used at \(s.at) was not published in the \(options.state.maxAge) ns before")
        }
        #expect(checked > 100)
    }
}
}
