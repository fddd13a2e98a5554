import EVMPrimitives

/// A CEX book's view of one on-chain pair, as detection uses it: the fair value (the mid) as an
/// exact fraction in raw units, the top of book and its age, and the depth near the mid on each
/// side (for the hedge's confidence). Built from the feed by the pipeline; detection never
/// touches the feed.
public struct CexReference: Equatable, Sendable {
    public var symbol: String
    /// `base` priced in `quote`: `quote` raw units per `base` raw unit = numerator / denominator.
    public var base: Address
    public var quote: Address
    public var numerator: UInt256
    public var denominator: UInt256
    /// Best bid and ask (quote per base, whole units), the book's age, and the base quantity
    /// (whole units) the book shows within `band` of the mid on the bid and the ask side.
    public var bid: Double
    public var ask: Double
    public var ageMillis: UInt64
    public var bidDepth: Double
    public var askDepth: Double
    public var baseDecimals: Int

    public init(symbol: String, base: Address, quote: Address, numerator: UInt256, denominator: UInt256, bid: Double, ask: Double,
                ageMillis: UInt64, bidDepth: Double, askDepth: Double, baseDecimals: Int) {
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.numerator = numerator
        self.denominator = denominator
        self.bid = bid
        self.ask = ask
        self.ageMillis = ageMillis
        self.bidDepth = bidDepth
        self.askDepth = askDepth
        self.baseDecimals = baseDecimals
    }

    /// Quote raw units per base raw unit, for screening.
    public var fair: Double { numerator.doubleValue / denominator.doubleValue }

    /// The fair value as the PriceMatrix orients it: the larger address's token per the smaller's.
    public var matrixPrice: Double { base < quote ? fair : 1 / fair }
}
