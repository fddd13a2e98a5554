import Foundation

/// How busy and how volatile each pair is, O(1) per update: a decayed event count (the update
/// rate over the last `window`), the exponentially weighted deviation of log returns
/// (volatility per update), and whether the pair is hot (rate at or above `hotRate`).
public struct PairActivityTracker<Key: Hashable & Sendable>: Sendable {
    public struct Activity: Sendable, Equatable {
        /// Updates per second over the recent window.
        public var rate: Double
        /// Deviation of log price changes per update.
        public var volatility: Double
        public var isHot: Bool
        public var updates: Int

        @usableFromInline
        init(rate: Double, volatility: Double, isHot: Bool, updates: Int) {
            (self.rate, self.volatility, self.isHot, self.updates) = (rate, volatility, isHot, updates)
        }
    }

    // Inlinable (with its entries) so callers get it specialised on their key: unspecialised, a
    // dictionary update through the generic witnesses cost ~300 ns per record.
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var decayed = 0.0
        @usableFromInline var lastNanos: UInt64 = 0
        @usableFromInline var lastPrice = 0.0
        @usableFromInline var returns = EWStats(span: 30)
        @usableFromInline var updates = 0
        @usableFromInline init() {}
    }

    /// The time constant of the rate, in seconds.
    public let window: Double
    public let hotRate: Double
    @usableFromInline var entries: [Key: Entry] = [:]

    public init(window: Double = 60, hotRate: Double = 0.5) {
        self.window = window
        self.hotRate = hotRate
    }

    /// Records an update of `key` at `nanos` (the caller's clock) with its new price.
    @inlinable
    public mutating func record(_ key: Key, price: Double, at nanos: UInt64) {
        entries[key, default: Entry()].update(price: price, at: nanos, window: window)
    }

    /// The pair's activity as of `nanos` (the rate decays while nothing happens).
    @inlinable
    public func activity(_ key: Key, at nanos: UInt64) -> Activity {
        guard let e = entries[key] else { return Activity(rate: 0, volatility: 0, isHot: false, updates: 0) }
        return e.activity(at: nanos, window: window, hotRate: hotRate)
    }

    /// The hot pairs as of `nanos`, busiest first (a scan: for status, not per event).
    public func hotPairs(at nanos: UInt64) -> [(key: Key, rate: Double)] {
        entries.compactMap { k, e in
            let r = e.decayed(at: nanos, window: window) / window
            return r >= hotRate ? (k, r) : nil
        }.sorted { $0.rate > $1.rate }
    }
}

extension PairActivityTracker.Entry {
    @inlinable
    func activity(at nanos: UInt64, window: Double, hotRate: Double) -> PairActivityTracker.Activity {
        let rate = decayed(at: nanos, window: window) / window
        return .init(rate: rate, volatility: returns.standardDeviation, isHot: rate >= hotRate, updates: updates)
    }

    @inlinable
    func decayed(at nanos: UInt64, window: Double) -> Double {
        guard nanos > lastNanos else { return decayed }
        return decayed * exp(-Double(nanos - lastNanos) / 1e9 / window)
    }

    @inlinable
    mutating func update(price: Double, at nanos: UInt64, window: Double) {
        decayed = decayed(at: nanos, window: window) + 1
        lastNanos = max(lastNanos, nanos)
        updates += 1
        if price.isFinite, price > 0 {
            if lastPrice > 0 { returns.add(log(price / lastPrice)) }
            lastPrice = price
        }
    }
}

/// `PairActivityTracker` for keys that are a chain's dense pool indices: the entries in an array
/// by index, no hashing per update (detection records every changed pool of every block). Its
/// readings are those of a `PairActivityTracker<UInt64>` fed the same updates.
public struct PoolActivityTracker: Sendable {
    public typealias Activity = PairActivityTracker<UInt64>.Activity

    public let window: Double
    public let hotRate: Double
    @usableFromInline var entries: [PairActivityTracker<UInt64>.Entry] = []

    public init(window: Double = 60, hotRate: Double = 0.5) {
        self.window = window
        self.hotRate = hotRate
    }

    @inlinable
    public mutating func record(_ index: Int, price: Double, at nanos: UInt64) {
        precondition(index >= 0, "a pool index")
        if index >= entries.count { entries.append(contentsOf: repeatElement(.init(), count: index + 1 - entries.count)) }
        entries[index].update(price: price, at: nanos, window: window)
    }

    /// The pool's activity as of `nanos`; nothing recorded reads as no activity.
    @inlinable
    public func activity(_ index: Int, at nanos: UInt64) -> Activity {
        guard index >= 0, index < entries.count, entries[index].updates > 0 else { return Activity(rate: 0, volatility: 0, isHot: false, updates: 0) }
        return entries[index].activity(at: nanos, window: window, hotRate: hotRate)
    }
}
