import AMMMath
import ArbiterTestKit
import SolanaVenues
import Testing

/// A Phoenix book as a taker meets it: hand-worked fills (whole orders, the budget ending inside
/// one, the fee's budget and rounding), expired orders passed over, and invariants on seeded random
/// books: more in never gives less out, a round trip never creates value, never more taken than
/// offered. (Exactness against the program's Rust is python/tests/test_solana_phoenix.py.)
@Suite struct PhoenixBookTests {
    typealias Order = PhoenixBook.Order

    func book(fee: UInt64 = 0, asks: [Order], bids: [Order] = [], slot: UInt64 = 0) throws -> PhoenixBook {
        try PhoenixBook(baseLotSize: 1, quoteLotSize: 1, baseLotsPerBaseUnit: 1, tickSize: 1, takerFeeBps: fee, asks: asks, bids: bids, slot: slot)
    }

    @Test func aBuyTakesWholeOrdersThenWhatItsBudgetPaysForInTheNext() throws {
        let asks = [Order(priceInTicks: 100, baseLots: 10), Order(priceInTicks: 101, baseLots: 5)]
        // 1,500 quote: the first order whole (1,000), then ⌊500 / 101⌋ = 4 lots (404) of the second.
        #expect(try book(asks: asks).swap(1_500, buy: true) == .init(amountIn: 1_404, amountOut: 14, fee: 0, baseLots: 14))
        // 10 bps: the budget is 1,500 / 1.001 → 1,498; the same lots; the fee ⌈1,404 · 10 / 10⁴⌉ = 2 is paid on top.
        #expect(try book(fee: 10, asks: asks).swap(1_500, buy: true) == .init(amountIn: 1_406, amountOut: 14, fee: 2, baseLots: 14))
        // 1,001 quote with 10 bps: the budget ⌊1,001 · M / (M + ⌈M / 1,000⌉)⌋ (M = 2⁶⁴ − 1) is 999, just short of
        // the first order whole: 9 of its lots (900) and a fee of ⌈0.9⌉ = 1.
        #expect(try book(fee: 10, asks: asks).swap(1_001, buy: true) == .init(amountIn: 901, amountOut: 9, fee: 1, baseLots: 9))
    }

    @Test func theBookAfterASwapHasLostWhatItGaveAndTheExpiredOrdersItPassed() throws {
        let asks = [Order(priceInTicks: 99, baseLots: 7, lastValidUnixTimestamp: 5), Order(priceInTicks: 100, baseLots: 10),
                    Order(priceInTicks: 101, baseLots: 5), Order(priceInTicks: 103, baseLots: 9)]
        let b = try PhoenixBook(baseLotSize: 1, quoteLotSize: 1, baseLotsPerBaseUnit: 1, tickSize: 1, takerFeeBps: 0, asks: asks, bids: [], unixTimestamp: 6)
        let after = try b.applying(1_500, buy: true)
        // The expired order is gone, the first live one taken whole, 4 of the next 5 lots taken.
        #expect(after.asks == [Order(priceInTicks: 101, baseLots: 1), Order(priceInTicks: 103, baseLots: 9)])
        // As a pool: token0 is base, so buying base is one-for-zero; the state after is that book.
        #expect(try Pool.phoenix(b).applying(amountIn: 1_500, zeroForOne: false) == .phoenix(after))
        #expect(try Pool.phoenix(b).amountOut(1_500, zeroForOne: false) == 14)
        // Buying again starts where the first stopped.
        #expect(try after.swap(300, buy: true).amountOut == 2)
    }

    @Test func aSellIsPaidTheBidsLessTheFeeAndExpiredOrdersArePassedOver() throws {
        // The best bid expired at slot 9 (the book is read at slot 10): the sale goes to the next.
        let bids = [Order(priceInTicks: 120, baseLots: 50, lastValidSlot: 9), Order(priceInTicks: 99, baseLots: 3), Order(priceInTicks: 98, baseLots: 100)]
        let b = try book(fee: 30, asks: [], bids: bids, slot: 10)
        // 5 lots: 3 at 99 and 2 at 98 = 493; fee ⌈493 · 30 / 10⁴⌉ = 2.
        #expect(try b.swap(5, buy: false) == .init(amountIn: 5, amountOut: 491, fee: 2, baseLots: 5))
        // Nothing at all on the other side: refused.
        #expect(throws: AMMError.self) { try b.swap(1_000, buy: true) }
        // An order at slot 10 itself is still valid.
        var valid = bids
        valid[0].lastValidSlot = 10
        #expect(try book(asks: [], bids: valid, slot: 10).swap(5, buy: false).amountOut == 600)
    }

    @Test func seededBooksNeverGiveLessForMoreNorCreateValue() throws {
        var rng = SeededGenerator(seed: 20_261_205)
        for _ in 0..<200 {
            var asks: [Order] = [], bids: [Order] = []
            let mid = 1_000 + rng.next() % 9_000
            var p = mid + 1 + rng.next() % 5
            for _ in 0..<(1 + rng.next() % 20) {
                p += rng.next() % 4
                asks.append(Order(priceInTicks: p, baseLots: 1 + rng.next() % 1_000))
            }
            p = mid - rng.next() % 5
            for _ in 0..<(1 + rng.next() % 20) {
                p -= rng.next() % 4
                bids.append(Order(priceInTicks: max(1, p), baseLots: 1 + rng.next() % 1_000))
            }
            let b = try PhoenixBook(baseLotSize: 1 + rng.next() % 1_000, quoteLotSize: 1 + rng.next() % 10, baseLotsPerBaseUnit: [1, 10, 1_000][Int(rng.next() % 3)],
                                    tickSize: 1 + rng.next() % 100, takerFeeBps: rng.next() % 60, asks: asks, bids: bids)
            var lastOut: UInt64 = 0
            var amount: UInt64 = 1_000
            while amount < 1 << 50 {
                if let f = try? b.swap(amount, buy: true) {
                    #expect(f.amountIn <= amount && f.amountOut >= lastOut, "buy \(amount): \(f)")
                    lastOut = f.amountOut
                    // Selling what was bought back into the bids returns less than was paid.
                    if let back = try? b.swap(f.amountOut, buy: false) { #expect(back.amountOut < f.amountIn, "round trip \(f) → \(back)") }
                }
                amount = amount * 3 / 2
            }
        }
    }
}
