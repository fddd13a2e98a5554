/// The feed-integrity figures the SLOs are written on: how old events are when they arrive
/// (p99 over the last 4,096 that carried an exchange time), gaps per hour, reconnects, and which
/// books are frozen.
public struct FeedHealth: Sendable {
    static let window = 4096
    static let hour: UInt64 = 3_600_000_000_000

    var ages: [UInt32] = []
    var next = 0
    var gapTimes: [UInt64] = []
    var frozen: Set<Int> = []
    public var reconnects = 0

    public init() {}

    mutating func age(millis: UInt64) {
        let v = UInt32(min(millis, UInt64(UInt32.max)))
        if ages.count < Self.window {
            ages.append(v)
        } else {
            ages[next] = v
            next = (next + 1) % Self.window
        }
    }

    mutating func gap(at now: UInt64) {
        gapTimes.append(now)
        if gapTimes.count > 10_000 { gapTimes.removeFirst(gapTimes.count - 10_000) }
    }

    mutating func markFrozen(_ sym: Int) -> Bool { frozen.insert(sym).inserted }
    mutating func clearFrozen(_ sym: Int) { frozen.remove(sym) }

    /// The 99th percentile of event age in milliseconds (nearest rank), nil before any.
    public var ageP99Millis: UInt32? { Self.percentile(ages, 0.99) }
    public var ageP50Millis: UInt32? { Self.percentile(ages, 0.50) }

    static func percentile(_ xs: [UInt32], _ q: Double) -> UInt32? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        let rank = Int((q * Double(s.count)).rounded(.up))
        return s[max(0, min(s.count, rank) - 1)]
    }

    /// Gaps in the hour before `now`.
    public func gapsLastHour(at now: UInt64) -> Int {
        gapTimes.reduce(0) { $0 + (now >= $1 && now - $1 <= Self.hour ? 1 : 0) }
    }

    public var frozenBooks: Int { frozen.count }
}
