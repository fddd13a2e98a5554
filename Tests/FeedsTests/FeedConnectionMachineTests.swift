@testable import Feeds
import Testing

@Suite struct FeedConnectionMachineTests {
    static let s: UInt64 = 1_000_000_000

    func machine(_ configure: (inout FeedConnectionMachine.Options) -> Void = { _ in }) -> FeedConnectionMachine {
        var o = FeedConnectionMachine.Options()
        o.maxConnectionAge = 100 * Self.s
        o.silenceTimeout = 3 * Self.s
        o.connectTimeout = 2 * Self.s
        configure(&o)
        return FeedConnectionMachine(options: o, seed: 7)
    }

    @Test func theFirstConnectionIsLiveThenResyncs() {
        var m = machine()
        do { let r = m.handle(.tick(at: 0, lastFrame: 0)); #expect(r == [.connect(gen: 1, reason: .outage)]) }
        do { let r = m.handle(.tick(at: 1, lastFrame: 0)); #expect(r == []) }
        do { let r = m.handle(.live(gen: 1, at: 1)); #expect(r == [.resync]) }
    }

    @Test func rotationIsMakeBeforeBreak() {
        var m = machine()
        _ = m.handle(.tick(at: 0, lastFrame: 0))
        _ = m.handle(.live(gen: 1, at: 0))
        do { let r = m.handle(.tick(at: 99 * Self.s, lastFrame: 99 * Self.s)); #expect(r == []) }
        do { let r = m.handle(.tick(at: 100 * Self.s, lastFrame: 100 * Self.s)); #expect(r == [.connect(gen: 2, reason: .rotation)]) }
        // The old one stays until the new one delivers; then it is closed, with no resync (no outage).
        do { let r = m.handle(.tick(at: 100 * Self.s + 1, lastFrame: 100 * Self.s)); #expect(r == []) }
        do { let r = m.handle(.live(gen: 2, at: 101 * Self.s)); #expect(r == [.close(gen: 1, reason: .replaced)]) }
        do { let r = m.handle(.closed(gen: 1, at: 101 * Self.s)); #expect(r == []) }
        #expect(m.current?.gen == 2 && m.successor == nil && !m.outage)
    }

    @Test func aShutdownNoticeOpensTheReplacementAtOnce() {
        var m = machine()
        _ = m.handle(.tick(at: 0, lastFrame: 0))
        _ = m.handle(.live(gen: 1, at: 0))
        do { let r = m.handle(.shutdownNotice(gen: 1, at: 5)); #expect(r == [.connect(gen: 2, reason: .serverShutdown)]) }
        do { let r = m.handle(.shutdownNotice(gen: 1, at: 6)); #expect(r == []) }  // once
        // The server closes the old one before the new one is live: the new one takes over, and
        // since data may have been lost meanwhile, its first frame brings a resync.
        do { let r = m.handle(.closed(gen: 1, at: 7)); #expect(r == []) }
        do { let r = m.handle(.live(gen: 2, at: 8)); #expect(r == [.resync]) }
    }

    @Test func aSilentConnectionIsClosedAndReplaced() {
        var m = machine()
        _ = m.handle(.tick(at: 0, lastFrame: 0))
        _ = m.handle(.live(gen: 1, at: 0))
        do { let r = m.handle(.tick(at: 3 * Self.s, lastFrame: 0)); #expect(r == []) }
        do { let r = m.handle(.tick(at: 3 * Self.s + 1, lastFrame: 0)); #expect(r == [.close(gen: 1, reason: .stalled)]) }
        do { let r = m.handle(.tick(at: 4 * Self.s, lastFrame: 0)); #expect(r == []) }  // closing, once
        do { let r = m.handle(.closed(gen: 1, at: 4 * Self.s)); #expect(r == []) }
        // A live connection that dropped is replaced after a short jittered wait (≤ the initial back-off).
        let opened = (0...10).compactMap { k -> UInt64? in
            m.handle(.tick(at: 4 * Self.s + UInt64(k) * 50_000_000, lastFrame: 0)).isEmpty ? nil : UInt64(k)
        }
        #expect(opened.count == 1 && opened[0] >= 2 && opened[0] <= 5)
    }

    @Test func failuresBackOffExponentiallyWithJitterAndEndInGivingUp() {
        var m = machine { $0.maxFailures = 6; $0.initialBackoff = Self.s; $0.maxBackoff = 8 * Self.s }
        var t: UInt64 = 0
        var waits: [UInt64] = []
        var gen = 0
        while !m.gaveUp, t < 1000 * Self.s {
            for a in m.handle(.tick(at: t, lastFrame: 0)) {
                if case .connect(let g, _) = a { gen = g }
            }
            if gen > 0 {
                let acts = m.handle(.closed(gen: gen, at: t))  // refused at once
                if acts == [.giveUp(failures: 6)] { break }
                waits.append(m.nextAttemptAt - t)
                gen = 0
            }
            t += 10_000_000
        }
        #expect(m.gaveUp)
        #expect(waits.count == 5)
        // Each wait is in [base/2, base] with base = 1, 2, 4, 8, 8 s.
        for (k, w) in waits.enumerated() {
            let base = min(Self.s << UInt64(k), 8 * Self.s)
            #expect(w >= base / 2 && w <= base, "wait \(k): \(w)")
        }
        do { let r = m.handle(.tick(at: t + 100 * Self.s, lastFrame: 0)); #expect(r == []) }
    }

    @Test func connectionAttemptsStayWithinTheWindowsBudget() {
        var m = machine { $0.attemptsPerWindow = 3; $0.attemptWindow = 60 * Self.s; $0.initialBackoff = 2; $0.maxBackoff = 2 }
        var opened: [UInt64] = []
        var t: UInt64 = 0
        while t < 130 * Self.s {
            for a in m.handle(.tick(at: t, lastFrame: t)) {
                if case .connect(let g, _) = a {
                    opened.append(t)
                    _ = m.handle(.live(gen: g, at: t))
                    _ = m.handle(.closed(gen: g, at: t))  // drops at once, every time
                }
            }
            t += Self.s / 10
        }
        for (i, at) in opened.enumerated() {
            #expect(opened.filter { $0 <= at && at - $0 < 60 * Self.s }.count <= 3, "attempt \(i) at \(at)")
        }
        #expect(opened.count >= 6)
    }
}
