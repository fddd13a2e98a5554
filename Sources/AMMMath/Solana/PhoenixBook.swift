/// A Phoenix (v1) market's order book as a taker swaps against it: an immediate-or-cancel order
/// of the whole input, matched against the resting orders in price-time priority, the taker fee
/// charged on the quote matched.
///
/// Facts from the program's published source (Ellipsis-Labs/phoenix-v1: `FIFOMarket::match_order`,
/// `place_order_inner`, `compute_fee`, the fee-adjusted budgets; `process_swap`/`process_new_order`
/// for lots and atoms). Quantities: a base lot is `baseLotSize` base atoms, a quote lot
/// `quoteLotSize` quote atoms; an order's price is in ticks of `tickSize` quote lots per base unit;
/// "adjusted" quote lots are quote lots × `baseLotsPerBaseUnit`, so that price × base lots is
/// exact. Every product is u64 in the program, which fails on overflow: so does the quote.
public struct PhoenixBook: Equatable, Sendable {
    /// A resting order: its price, its size, and when it stops being valid (0: never).
    public struct Order: Equatable, Sendable {
        public var priceInTicks: UInt64
        public var baseLots: UInt64
        public var lastValidSlot: UInt64
        public var lastValidUnixTimestamp: UInt64

        public init(priceInTicks: UInt64, baseLots: UInt64, lastValidSlot: UInt64 = 0, lastValidUnixTimestamp: UInt64 = 0) {
            self.priceInTicks = priceInTicks
            self.baseLots = baseLots
            self.lastValidSlot = lastValidSlot
            self.lastValidUnixTimestamp = lastValidUnixTimestamp
        }

        func expired(slot: UInt64, unixTimestamp: UInt64) -> Bool {
            (lastValidSlot != 0 && lastValidSlot < slot) || (lastValidUnixTimestamp != 0 && lastValidUnixTimestamp < unixTimestamp)
        }
    }

    /// A swap's outcome, in atoms: what the taker pays (at most its input), what it receives, and
    /// the fee (in quote atoms; part of the paid amount on a buy, kept from the proceeds on a sell).
    public struct Fill: Equatable, Sendable {
        public var amountIn: UInt64
        public var amountOut: UInt64
        public var fee: UInt64
        public var baseLots: UInt64

        public init(amountIn: UInt64, amountOut: UInt64, fee: UInt64, baseLots: UInt64) {
            self.amountIn = amountIn
            self.amountOut = amountOut
            self.fee = fee
            self.baseLots = baseLots
        }
    }

    public var baseLotSize: UInt64
    public var quoteLotSize: UInt64
    public var baseLotsPerBaseUnit: UInt64
    public var tickSize: UInt64
    public var takerFeeBps: UInt64
    /// Best first: asks from the lowest price, bids from the highest; the earlier order first at a price.
    public var asks: [Order]
    public var bids: [Order]
    /// The cluster's clock the book is read at (orders valid before it are skipped, as the program removes them).
    public var slot: UInt64
    public var unixTimestamp: UInt64

    public init(baseLotSize: UInt64, quoteLotSize: UInt64, baseLotsPerBaseUnit: UInt64, tickSize: UInt64, takerFeeBps: UInt64,
                asks: [Order], bids: [Order], slot: UInt64 = 0, unixTimestamp: UInt64 = 0) throws(AMMError) {
        guard baseLotSize > 0, quoteLotSize > 0, baseLotsPerBaseUnit > 0, tickSize > 0 else {
            throw AMMError(.invalidState, "a zero lot size, lots per unit or tick size")
        }
        guard takerFeeBps <= 10_000 else { throw AMMError(.invalidState, "taker fee \(takerFeeBps) bps") }
        self.baseLotSize = baseLotSize
        self.quoteLotSize = quoteLotSize
        self.baseLotsPerBaseUnit = baseLotsPerBaseUnit
        self.tickSize = tickSize
        self.takerFeeBps = takerFeeBps
        self.asks = asks
        self.bids = bids
        self.slot = slot
        self.unixTimestamp = unixTimestamp
    }

    /// `compute_fee`: the fee on adjusted quote lots, rounded up (u128 inside, cut to u64).
    func fee(_ adjusted: UInt64) -> UInt64 {
        UInt64(truncatingIfNeeded: (UInt128(adjusted) * UInt128(takerFeeBps) + 9_999) / 10_000)
    }

    /// Swaps `amountIn` atoms: quote for base when `buy`, base for quote otherwise. The program
    /// takes whole lots of the input (the rest stays with the taker) and fails the order that
    /// fills nothing.
    public func swap(_ amountIn: UInt64, buy: Bool) throws(AMMError) -> Fill { try match(amountIn, buy: buy).fill }

    /// The book after a swap (exact input): the orders it took whole, and the expired ones it
    /// passed, are gone; the one it ended in keeps what it did not take.
    public func applying(_ amountIn: UInt64, buy: Bool) throws(AMMError) -> PhoenixBook {
        let m = try match(amountIn, buy: buy)
        var b = self
        var side = buy ? asks : bids
        if let left = m.left { side[m.through].baseLots = left }
        side.removeFirst(m.through)
        if buy { b.asks = side } else { b.bids = side }
        return b
    }

    /// The fill, the index of the first order not taken whole (or not reached), and what is left
    /// of it when the fill ended inside it.
    func match(_ amountIn: UInt64, buy: Bool) throws(AMMError) -> (fill: Fill, through: Int, left: UInt64?) {
        let u64max = UInt128(UInt64.max)
        var baseBudget: UInt64, adjustedBudget: UInt64
        if buy {
            let quoteLots = amountIn / quoteLotSize
            guard quoteLots > 0 else { throw AMMError(.invalidAmount, "less than a quote lot") }
            // The budget net of the largest fee: quote lots × lots per unit × u64::MAX / (u64::MAX + fee(u64::MAX)).
            let (adjusted, overflow) = quoteLots.multipliedReportingOverflow(by: baseLotsPerBaseUnit)
            guard !overflow else { throw AMMError(.overflow, "the quote budget passes u64") }
            // (Below the quote lots × lots per unit it came from: the program's u64 conversion cannot fail.)
            let budget = UInt128(adjusted) * u64max / (u64max + UInt128(fee(.max)))
            (baseBudget, adjustedBudget) = (.max, UInt64(budget))
        } else {
            let baseLots = amountIn / baseLotSize
            guard baseLots > 0 else { throw AMMError(.invalidAmount, "less than a base lot") }
            (baseBudget, adjustedBudget) = (baseLots, .max)
        }
        var matchedBase: UInt64 = 0, matchedAdjusted: UInt64 = 0
        let side = buy ? asks : bids
        var through = 0
        var left: UInt64? = nil
        for order in side {
            guard baseBudget > 0, adjustedBudget > 0 else { break }
            if order.baseLots == 0 || order.expired(slot: slot, unixTimestamp: unixTimestamp) {
                through += 1
                continue
            }
            guard order.priceInTicks > 0 else { throw AMMError(.invalidState, "an order at price zero") }
            let (perLot, o1) = order.priceInTicks.multipliedReportingOverflow(by: tickSize)
            let (quoted, o2) = perLot.multipliedReportingOverflow(by: order.baseLots)
            guard !o1, !o2 else { throw AMMError(.overflow, "an order's quote passes u64") }
            let lots: UInt64, adjusted: UInt64
            if order.baseLots <= baseBudget && quoted <= adjustedBudget {
                (lots, adjusted) = (order.baseLots, quoted)
            } else {
                // The budget ends within this order: as many lots as it pays for, then stop.
                lots = Swift.min(baseBudget, adjustedBudget / perLot)
                adjusted = perLot * lots
                baseBudget -= lots
                adjustedBudget -= adjusted
                matchedBase += lots
                matchedAdjusted += adjusted
                left = order.baseLots - lots
                break
            }
            through += 1
            baseBudget -= lots
            adjustedBudget -= adjusted
            let (b, o3) = matchedBase.addingReportingOverflow(lots), (a, o4) = matchedAdjusted.addingReportingOverflow(adjusted)
            guard !o3, !o4 else { throw AMMError(.overflow, "the matched total passes u64") }
            (matchedBase, matchedAdjusted) = (b, a)
        }
        guard matchedBase > 0 else { throw AMMError(.insufficientLiquidity, "nothing on the book fills it") }
        // Fees on the whole match: ⌈⌈adjusted·bps/10⁴⌉ / lots per unit⌉ quote lots.
        let feeLots = Self.ceilDiv(fee(matchedAdjusted), baseLotsPerBaseUnit)
        let (quoteLotsOut, baseOut): (UInt64, UInt64)
        if buy {
            let (paid, o) = Self.ceilDiv(matchedAdjusted, baseLotsPerBaseUnit).addingReportingOverflow(feeLots)
            guard !o else { throw AMMError(.overflow, "the quote paid passes u64") }
            // The quote is taken from the taker's account: never more than it offered.
            guard paid <= amountIn / quoteLotSize else { throw AMMError(.insufficientLiquidity, "the fill costs more than the input") }
            quoteLotsOut = paid
            baseOut = matchedBase
        } else {
            let gross = matchedAdjusted / baseLotsPerBaseUnit
            guard gross >= feeLots else { throw AMMError(.insufficientLiquidity, "the fee exceeds the proceeds") }
            quoteLotsOut = gross - feeLots
            baseOut = matchedBase
        }
        let (quoteAtoms, o5) = quoteLotsOut.multipliedReportingOverflow(by: quoteLotSize)
        let (baseAtoms, o6) = baseOut.multipliedReportingOverflow(by: baseLotSize)
        let (feeAtoms, o7) = feeLots.multipliedReportingOverflow(by: quoteLotSize)
        guard !o5, !o6, !o7 else { throw AMMError(.overflow, "atoms pass u64") }
        let fill = buy ? Fill(amountIn: quoteAtoms, amountOut: baseAtoms, fee: feeAtoms, baseLots: matchedBase)
            : Fill(amountIn: baseAtoms, amountOut: quoteAtoms, fee: feeAtoms, baseLots: matchedBase)
        return (fill, through, left)
    }

    /// Quote atoms per base atom of an order at `ticks`, as a fraction.
    public func price(ticks: UInt64) -> (numerator: UInt128, denominator: UInt128) {
        (UInt128(ticks) * UInt128(tickSize) * UInt128(quoteLotSize), UInt128(baseLotsPerBaseUnit) * UInt128(baseLotSize))
    }

    /// The best live order each side (expired ones passed over).
    public func best(buy: Bool) -> Order? { (buy ? asks : bids).first { $0.baseLots > 0 && !$0.expired(slot: slot, unixTimestamp: unixTimestamp) } }

    /// A constant-product pair with the book's marginal rate at the top (fee included) and as
    /// deep, on the input side, as the whole side can take: for estimates only.
    public func local(sell: Bool) -> (reserveIn: Double, reserveOut: Double, gamma: Double) {
        guard let top = best(buy: !sell) else { return (0, 0, 1) }
        let (n, d) = price(ticks: top.priceInTicks)
        let perBase = Double(n) / Double(d)  // quote atoms per base atom
        let lots = (sell ? bids : asks).reduce(0.0) { $0 + Double($1.baseLots) }
        let baseDepth = lots * Double(baseLotSize)
        let gamma = 1 - Double(takerFeeBps) / 10_000
        // Twice the side's depth: the pair's price moves half as far across the side as the book does.
        return sell ? (2 * baseDepth, 2 * baseDepth * perBase, gamma) : (2 * baseDepth * perBase, 2 * baseDepth, gamma)
    }

    static func ceilDiv(_ a: UInt64, _ b: UInt64) -> UInt64 { a / b + (a % b == 0 ? 0 : 1) }
}
