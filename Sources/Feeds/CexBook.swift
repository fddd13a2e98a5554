/// What the feed knows of one symbol: the top of book and the partial depth, the last ids seen
/// on each stream, and the times that decide whether the price may be used.
///
/// Binance's aggregate-trade ids are contiguous per symbol, so a jump is a gap (trades lost) and
/// asks for a resync; the book streams are whole snapshots of the top (a lost one is healed by the
/// next), so for them only order matters: an id at or below the last one is old and dropped.
public struct CexBook: Sendable {
    public var symbol: String
    public var bid: CexDecimal = .zero
    public var bidQty: CexDecimal = .zero
    public var ask: CexDecimal = .zero
    public var askQty: CexDecimal = .zero
    public var bids: [BinanceFrameParser.Level] = []
    public var asks: [BinanceFrameParser.Level] = []
    /// Last ids applied (0: none yet).
    public var bookTickerID: UInt64 = 0
    public var depthID: UInt64 = 0
    public var aggID: UInt64 = 0
    /// The first aggregate-trade id seen, and how many distinct trades arrived over the streams
    /// and by resyncs: together they account for every id from the first to `aggID`.
    public var firstAggID: UInt64 = 0
    public var tradesStreamed: UInt64 = 0
    public var tradesRecovered: UInt64 = 0
    public var lastTrade: CexDecimal = .zero
    /// Nanoseconds on the feed's clock (0: never).
    public var bookAt: UInt64 = 0
    /// When the top of book (a price or a size) last changed.
    public var changedAt: UInt64 = 0
    public var tradeAt: UInt64 = 0
    /// Trades printed since the top of book last changed.
    public var tradesSinceChange = 0
    /// A gap or an outage was seen and no snapshot has been applied since.
    public var needsResync = false
    /// Aggregate-trade ids lost (gaps), in order, until a resync recovers them.
    public var missing: [ClosedRange<UInt64>] = []
    /// The first aggregate-trade id missing, when trades were lost.
    public var missingFrom: UInt64? { missing.first?.lowerBound }

    public init(symbol: String) { self.symbol = symbol }

    public var hasPrice: Bool { !bid.isZero && !ask.isZero }

    /// The mid price as an exact rational: (bid + ask) / 2 = numerator / denominator.
    public var mid: (numerator: UInt64, denominator: UInt64)? {
        guard hasPrice else { return nil }
        let k = max(bid.scale, ask.scale)
        let b = bid.significand.multipliedReportingOverflow(by: CexDecimal.tenTo(k - bid.scale))
        let a = ask.significand.multipliedReportingOverflow(by: CexDecimal.tenTo(k - ask.scale))
        let (sum, o) = b.partialValue.addingReportingOverflow(a.partialValue)
        guard !b.overflow, !a.overflow, !o else { return nil }
        let den = CexDecimal.tenTo(k).multipliedReportingOverflow(by: 2)
        guard !den.overflow else { return nil }
        return (sum, den.partialValue)
    }

    public var midDouble: Double { (bid.double + ask.double) / 2 }
}
