/// Per-stage timing on the monotonic clock: each mark is the time since the previous one; the
/// in-process total leaves the network stages out.
struct StageClock {
    var last: ContinuousClock.Instant = .now
    var inProcess: Duration = .zero

    static func nanoseconds(_ d: Duration) -> UInt64 {
        UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000)
    }

    /// Nanoseconds since the last mark.
    mutating func mark() -> UInt64 {
        let now = ContinuousClock.now
        defer { last = now }
        return Self.nanoseconds(now - last)
    }
}
