import Detection
import EVMPrimitives
import Feeds
import MarketState
import Synchronization

/// The exchange's books as on-chain prices (design item #32's normaliser): each Binance symbol
/// mapped to the pairs of registry tokens it prices on each chain (`ETHUSDT` → WETH/USDT, and
/// WETH/USDC through `USDCUSDT`, the USDT/USD price the feed holds), written to the PriceMatrix
/// (source `cexBinance`, venue `cexBinanceVenue`) whenever a book changes, and served to
/// detection as exact fair values (`CexReference`). Prices are exact fractions from the
/// exchange's decimals to the tokens' raw units; only the matrix's screening value is a double.
public final class CexPrices: Sendable {
    /// One pair a symbol prices on a chain: `base` in `quote`, optionally through a second symbol
    /// (`divideBy`: the quote token's own price in the symbol's quote, e.g. USDCUSDT).
    public struct Pair: Sendable {
        public var chainID: UInt64
        public var symbol: Int
        public var base: Address
        public var baseDecimals: Int
        public var quote: Address
        public var quoteDecimals: Int
        public var divideBy: Int?

        public init(chainID: UInt64, symbol: Int, base: Address, baseDecimals: Int, quote: Address, quoteDecimals: Int, divideBy: Int? = nil) {
            self.chainID = chainID
            self.symbol = symbol
            self.base = base
            self.baseDecimals = baseDecimals
            self.quote = quote
            self.quoteDecimals = quoteDecimals
            self.divideBy = divideBy
        }
    }

    public let feed: BinanceFeed
    public let matrix: PriceMatrix
    public let pairs: [Pair]
    /// Depth counts the levels within this many basis points of the mid.
    public let bandBps: Double
    let slots: [PriceMatrix.Slot]
    let writes = Atomic<Int>(0)

    public static let defaultBandBps = 10.0

    public init(feed: BinanceFeed, matrix: PriceMatrix, pairs: [Pair], bandBps: Double = defaultBandBps) {
        self.feed = feed
        self.matrix = matrix
        self.pairs = pairs
        self.bandBps = bandBps
        slots = pairs.map { matrix.slot(for: .init(chainID: $0.chainID, tokenA: $0.base, tokenB: $0.quote, venue: PriceMatrix.cexBinanceVenue)) }
        feed.observe { [weak self] sym in self?.changed(sym) }
    }

    /// Matrix writes so far (a change counter for consumers).
    public var version: Int { writes.load(ordering: .relaxed) }

    func changed(_ sym: Int) {
        for (i, p) in pairs.enumerated() where p.symbol == sym || p.divideBy == sym {
            guard let r = reference(p) else { continue }
            matrix.write(slots[i], .init(price: r.matrixPrice, block: 0, writtenAt: monotonicNanos(), source: .cexBinance))
            writes.add(1, ordering: .relaxed)
        }
    }

    /// The fresh references of `chainID` (a stale or frozen book gives none).
    public func references(chain chainID: UInt64) -> [CexReference] {
        pairs.filter { $0.chainID == chainID }.compactMap(reference)
    }

    /// `p`'s reference from the books as they are now, if they are usable.
    public func reference(_ p: Pair) -> CexReference? {
        guard let b = feed.usable(p.symbol) else { return nil }
        var divisor: CexBook? = nil
        if let d = p.divideBy {
            guard let db = feed.usable(d) else { return nil }
            divisor = db
        }
        let age = monotonicNanos() > b.bookAt ? (monotonicNanos() - b.bookAt) / 1_000_000 : 0
        return Self.reference(p, book: b, divisor: divisor, ageMillis: age, bandBps: bandBps)
    }

    /// `p`'s reference from `book` (and `divisor`'s, the quote's own price, when `p` goes through
    /// one) at `ageMillis`: what live detection weighs, and what replay computes again from the
    /// recorded frames to check the references a detection moment kept.
    public static func reference(_ p: Pair, book b: CexBook, divisor: CexBook?, ageMillis age: UInt64, bandBps: Double) -> CexReference? {
        guard let mid = b.mid else { return nil }
        // quote raw per base raw = mid · 10^quoteDecimals / 10^baseDecimals (÷ the divisor's mid).
        var num = UInt256(mid.numerator) * Self.tenTo(p.quoteDecimals)
        var den = UInt256(mid.denominator) * Self.tenTo(p.baseDecimals)
        var bid = b.bid.double, ask = b.ask.double
        if p.divideBy != nil {
            guard let db = divisor, let dm = db.mid, dm.numerator > 0 else { return nil }
            num = num * UInt256(dm.denominator)
            den = den * UInt256(dm.numerator)
            bid /= db.midDouble
            ask /= db.midDouble
        }
        let m = b.midDouble
        let band = bandBps / 10_000
        func depth(_ levels: [BinanceFrameParser.Level], bids: Bool, top: CexDecimal) -> Double {
            let near = levels.filter { bids ? $0.price.double >= m * (1 - band) : $0.price.double <= m * (1 + band) }
            return near.isEmpty ? top.double : near.reduce(0) { $0 + $1.quantity.double }
        }
        return CexReference(symbol: b.symbol, base: p.base, quote: p.quote, numerator: num, denominator: den, bid: bid, ask: ask, ageMillis: age,
                            bidDepth: depth(b.bids, bids: true, top: b.bidQty), askDepth: depth(b.asks, bids: false, top: b.askQty),
                            baseDecimals: p.baseDecimals)
    }

    static func tenTo(_ n: Int) -> UInt256 {
        var p = UInt256.one
        for _ in 0..<max(0, n) { p = p * 10 }
        return p
    }
}
