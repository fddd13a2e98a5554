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
        let rate = e.decayed(at: nanos, window: window) / window
        return Activity(rate: rate, volatility: e.returns.standardDeviation, isHot: rate >= hotRate, updates: e.updates)
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
