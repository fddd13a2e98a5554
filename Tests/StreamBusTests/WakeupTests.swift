import StreamBus
import Testing

/// `Wakeup`: a signal given before the wait is kept for it, one given during the wait ends it, and
/// without one the wait ends at its timeout — never later, whatever order things come in.
@Suite struct WakeupTests {
    @Test func aSignalBeforeOrDuringTheWaitEndsItAndWithoutOneTheTimeoutDoes() async throws {
        let w = Wakeup()
        let clock = ContinuousClock()
        // A lost signal would hold a wait for its hour (and `bounded` fails it at five minutes);
        // a kept one ends it at once. The bound between the two is four minutes, not less: at the
        // suite's start on two cores the whole test process can go unscheduled for a minute (CI
        // measured 62 s for a wait that was signalled before it began), which is not a lost signal.
        let atOnce = Duration.seconds(240)
        // Given before: the wait returns at once (well within its hour).
        w.signal()
        let early = try await clock.measure { try await bounded { await w.wait(.seconds(3_600)) } }
        #expect(early < atOnce)
        // Given during: it ends the wait.
        let during = try await clock.measure {
            try await bounded {
                async let waited: Void = w.wait(.seconds(3_600))
                try await Task.sleep(for: .milliseconds(50))
                w.signal()
                await waited
            }
        }
        #expect(during < atOnce)
        // None: the timeout ends it; many short waits in a row each end (none lost, none stuck).
        let idle = try await clock.measure { try await bounded { for _ in 0..<200 { await w.wait(.milliseconds(1)) } } }
        #expect(idle < atOnce)
    }

    /// Fails instead of hanging the suite when `body` does not end within five minutes.
    func bounded(_ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await body(); return true }
            group.addTask { try await Task.sleep(for: .seconds(300)); return false }
            let finished = try await group.next()!
            group.cancelAll()
            try #require(finished, "a wait did not end")
        }
    }
}
