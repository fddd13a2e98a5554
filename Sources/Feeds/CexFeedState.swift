/// The synchronous core of the CEX feed: frames in, books and counters out. Deterministic: time
/// is passed in (nanoseconds on the owner's clock), so staleness, frozen books and gap rates can
/// be tested with a manual clock and replayed.
public struct CexFeedState: Sendable {
    public struct Options: Sendable {
        /// A book older than this is stale: its price is not used (the original's 10 s).
        public var maxAge: UInt64 = 10_000_000_000
        /// A top of book that has not changed (prices and sizes) for this long while trades print is frozen.
        public var frozenAfter: UInt64 = 5_000_000_000
        /// ... and at least this many trades printed meanwhile.
        public var frozenTrades = 3
        /// Depth levels kept per side.
        public var levels = 20
        public init() {}
    }

    public struct Counters: Equatable, Sendable {
        public var frames = 0
        public var applied = 0
        public var malformed = 0
        public var malformedByCode: [Int] = Array(repeating: 0, count: FrameError.Code.all.count)
        /// Book frames at or below the last id (duplicates from an overlapping connection, or out of order).
        public var oldBook = 0
        public var duplicateTrades = 0
        /// Aggregate-trade id jumps, and the trades they skipped.
        public var gaps = 0
        public var missedTrades: UInt64 = 0
        /// Trades recovered by a resync.
        public var recoveredTrades: UInt64 = 0
        public var resyncs = 0
        public var shutdownNotices = 0
        public var frozenEvents = 0
        public var controlAnswers = 0
        public var controlErrors = 0
    }

    /// What one frame did.
    public enum Outcome: Equatable, Sendable {
        case applied(symbol: Int)
        case old(symbol: Int)
        /// Trades `from...to` were never seen: resync the symbol.
        case gap(symbol: Int, from: UInt64, to: UInt64)
        case serverShutdown
        case control
        case malformed(FrameError)
    }

    /// Whether a symbol's price may be used now.
    public enum Status: String, Sendable {
        case fresh, stale, frozen, noData
    }

    public let options: Options
    public private(set) var parser: BinanceFrameParser
    public private(set) var books: [CexBook]
    public private(set) var counters = Counters()
    public private(set) var health = FeedHealth()

    public init(symbols: [String], options: Options = Options()) {
        self.options = options
        parser = BinanceFrameParser(symbols: symbols, maxLevels: options.levels)
        books = parser.symbols.map { s in
            var b = CexBook(symbol: s)
            b.bids.reserveCapacity(options.levels)
            b.asks.reserveCapacity(options.levels)
            return b
        }
    }

    public var symbols: [String] { parser.symbols }
    public func index(of symbol: String) -> Int? { parser.symbols.firstIndex(of: symbol.uppercased()) }

    public mutating func ingest(_ bytes: [UInt8], at now: UInt64, wallMillis: UInt64 = 0) -> Outcome {
        bytes.withUnsafeBufferPointer { ingest($0, at: now, wallMillis: wallMillis) }
    }

    /// Applies one frame received at `now`; `wallMillis` (the wall clock in ms) measures the age
    /// of events that carry an exchange time.
    public mutating func ingest(_ p: UnsafeBufferPointer<UInt8>, at now: UInt64, wallMillis: UInt64 = 0) -> Outcome {
        counters.frames += 1
        let frame: BinanceFrameParser.Frame
        do {
            frame = try parser.parse(p)
        } catch {
            counters.malformed += 1
            counters.malformedByCode[error.code.index] += 1
            return .malformed(error)
        }
        switch frame {
        case .bookTicker(let t):
            guard t.updateID > books[t.symbol].bookTickerID else {
                counters.oldBook += 1
                return .old(symbol: t.symbol)
            }
            books[t.symbol].bookTickerID = t.updateID
            setTop(t.symbol, bid: t.bid, bidQty: t.bidQty, ask: t.ask, askQty: t.askQty, at: now)
            counters.applied += 1
            return .applied(symbol: t.symbol)
        case .depth(let sym, let id):
            guard id > books[sym].depthID else {
                counters.oldBook += 1
                return .old(symbol: sym)
            }
            books[sym].depthID = id
            books[sym].bids.removeAll(keepingCapacity: true)
            books[sym].bids.append(contentsOf: parser.bids)
            books[sym].asks.removeAll(keepingCapacity: true)
            books[sym].asks.append(contentsOf: parser.asks)
            if let b = parser.bids.first, let a = parser.asks.first {
                setTop(sym, bid: b.price, bidQty: b.quantity, ask: a.price, askQty: a.quantity, at: now)
            } else {
                books[sym].bookAt = now
            }
            counters.applied += 1
            return .applied(symbol: sym)
        case .aggTrade(let t):
            if wallMillis > 0 { health.age(millis: wallMillis >= t.eventTime ? wallMillis - t.eventTime : 0) }
            return trade(t, at: now)
        case .serverShutdown:
            counters.shutdownNotices += 1
            return .serverShutdown
        case .response:
            counters.controlAnswers += 1
            return .control
        case .error:
            counters.controlErrors += 1
            return .control
        }
    }

    mutating func trade(_ t: BinanceFrameParser.AggTrade, at now: UInt64) -> Outcome {
        let last = books[t.symbol].aggID
        if last != 0 && t.aggID <= last {
            counters.duplicateTrades += 1
            return .old(symbol: t.symbol)
        }
        books[t.symbol].aggID = t.aggID
        if last == 0 { books[t.symbol].firstAggID = t.aggID }
        books[t.symbol].tradesStreamed += 1
        books[t.symbol].lastTrade = t.price
        books[t.symbol].tradeAt = now
        books[t.symbol].tradesSinceChange += 1
        counters.applied += 1
        if last != 0 && t.aggID > last + 1 {
            counters.gaps += 1
            counters.missedTrades += t.aggID - last - 1
            health.gap(at: now)
            books[t.symbol].missing.append((last + 1)...(t.aggID - 1))
            if books[t.symbol].missing.count > 256 {
                // A feed this broken is resynced from the oldest hole on; later holes merge.
                let first = books[t.symbol].missing[0].lowerBound
                books[t.symbol].missing = [first...(t.aggID - 1)]
            }
            books[t.symbol].needsResync = true
            return .gap(symbol: t.symbol, from: last + 1, to: t.aggID - 1)
        }
        return .applied(symbol: t.symbol)
    }

    /// A top that differs in anything (a price or a quantity) is a live book; Binance sends a
    /// book ticker only on a change, so a stablecoin's unchanged prices with moving sizes are live.
    mutating func setTop(_ sym: Int, bid: CexDecimal, bidQty: CexDecimal, ask: CexDecimal, askQty: CexDecimal, at now: UInt64) {
        let b = books[sym]
        if bid != b.bid || ask != b.ask || bidQty != b.bidQty || askQty != b.askQty {
            books[sym].changedAt = now
            books[sym].tradesSinceChange = 0
        }
        books[sym].bid = bid
        books[sym].bidQty = bidQty
        books[sym].ask = ask
        books[sym].askQty = askQty
        books[sym].bookAt = now
    }

    /// A REST depth snapshot (`/api/v3/depth`): applied when newer than what the streams gave.
    public mutating func applyDepthSnapshot(_ sym: Int, lastUpdateID: UInt64, bids: [BinanceFrameParser.Level],
                                            asks: [BinanceFrameParser.Level], at now: UInt64) {
        guard lastUpdateID > books[sym].depthID, let b = bids.first, let a = asks.first, b.price < a.price else { return }
        books[sym].depthID = lastUpdateID
        books[sym].bids = Array(bids.prefix(options.levels))
        books[sym].asks = Array(asks.prefix(options.levels))
        setTop(sym, bid: b.price, bidQty: b.quantity, ask: a.price, askQty: a.quantity, at: now)
    }

    /// Trades fetched to fill a gap (`/api/v3/aggTrades?fromId=`): those inside a hole count as
    /// recovered and leave it. True when nothing is missing any more.
    public mutating func applyRecoveredTrades(_ sym: Int, ids: [UInt64]) -> Bool {
        for id in ids {
            guard let k = books[sym].missing.firstIndex(where: { $0.contains(id) }) else { continue }
            let r = books[sym].missing[k]
            var parts: [ClosedRange<UInt64>] = []
            if id > r.lowerBound { parts.append(r.lowerBound...(id - 1)) }
            if id < r.upperBound { parts.append((id + 1)...r.upperBound) }
            books[sym].missing.replaceSubrange(k...k, with: parts)
            counters.recoveredTrades += 1
            books[sym].tradesRecovered += 1
        }
        guard books[sym].missing.isEmpty else { return false }
        if books[sym].needsResync {
            books[sym].needsResync = false
            counters.resyncs += 1
        }
        return true
    }

    /// The connection that carried `symbols` dropped: what arrives next may follow a hole.
    public mutating func disconnected(_ symbols: [Int]) {
        for s in symbols where books[s].hasPrice { books[s].needsResync = true }
    }

    /// A resync that found nothing missing (a reconnect with contiguous trades).
    public mutating func resynced(_ sym: Int) {
        if books[sym].missing.isEmpty, books[sym].needsResync {
            books[sym].needsResync = false
            counters.resyncs += 1
        }
    }

    public mutating func reconnected() { health.reconnects += 1 }

    public func status(_ sym: Int, at now: UInt64) -> Status {
        let b = books[sym]
        guard b.hasPrice else { return .noData }
        if now > b.bookAt && now - b.bookAt > options.maxAge { return .stale }
        if b.tradesSinceChange >= options.frozenTrades && now > b.changedAt && now - b.changedAt > options.frozenAfter { return .frozen }
        return .fresh
    }

    /// Counts books that froze since the last call (for the event counter).
    public mutating func sweepFrozen(at now: UInt64) -> [Int] {
        var out: [Int] = []
        for i in books.indices where status(i, at: now) == .frozen && health.markFrozen(i) {
            counters.frozenEvents += 1
            out.append(i)
        }
        for i in books.indices where status(i, at: now) != .frozen { health.clearFrozen(i) }
        return out
    }

    /// The top of book when its price may be used now.
    public func usable(_ sym: Int, at now: UInt64) -> CexBook? {
        status(sym, at: now) == .fresh ? books[sym] : nil
    }
}
