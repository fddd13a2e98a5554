import AMMMath
import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Testing

/// Every vector of `Tests/Fixtures/amm`, written by `python/oracle/gen_amm_vectors.py` from the real
/// Uniswap V2 (SushiSwap build) and V3 bytecode: amounts, and for V3 the price, tick and liquidity
/// after, equal to the wei; where the contract reverted, the quote is an error.
@Suite struct DifferentialTests {
    @Test(arguments: ["amm/uniswapV2.json", "amm/uniswapV3.json"])
    func quotesEqualTheRealContracts(file: String) throws {
        let vectors = try Fixtures.vectors(file)
        #expect(vectors.count >= 500)
        var rejected = 0, quotedBare = 0
        for (i, v) in vectors.enumerated() {
            let pool = try Pool(json: try #require(v["pool"]))
            let amount = try UInt256(decimal: try #require(v["amount"]?.stringValue))
            let limit = try v["sqrtPriceLimitX96"]?.stringValue.map { try UInt256(decimal: $0) }
            let zeroForOne = v["zeroForOne"] == .bool(true)
            let exactOut = v["exactOut"] == .bool(true)
            let expect = try #require(v["expect"])
            let quote = Result { () throws(AMMError) in try pool.quote(zeroForOne: zeroForOne, amount: amount, exactOutput: exactOut, sqrtPriceLimitX96: limit) }
            if expect["error"] != nil {
                rejected += 1
                #expect(throws: AMMError.self, "vector \(i): the contract reverts") { try quote.get() }
                continue
            }
            let q = try quote.get()
            #expect(q.amountIn.description == expect["amountIn"]?.stringValue, "vector \(i) amountIn")
            #expect(q.amountOut.description == expect["amountOut"]?.stringValue, "vector \(i) amountOut")
            if let after = q.v3After {
                #expect(after.sqrtPriceX96After.description == expect["sqrtPriceX96After"]?.stringValue, "vector \(i) sqrtPrice after")
                #expect(expect["tickAfter"] == .number(String(after.tickAfter)), "vector \(i) tick after")
                #expect(after.liquidityAfter.description == expect["liquidityAfter"]?.stringValue, "vector \(i) liquidity after")
            }
            // The quote without the tick after: the same amounts, price and liquidity (exact input, no price limit).
            if case .uniswapV3(let v3) = pool, !exactOut, limit == nil {
                let bare = try v3.quoteExactInput(zeroForOne: zeroForOne, amount: amount)
                #expect(bare.amountIn.description == expect["amountIn"]?.stringValue, "vector \(i) quote amountIn")
                #expect(bare.amountOut.description == expect["amountOut"]?.stringValue, "vector \(i) quote amountOut")
                #expect(bare.sqrtPriceX96After.description == expect["sqrtPriceX96After"]?.stringValue, "vector \(i) quote price after")
                #expect(bare.liquidityAfter.description == expect["liquidityAfter"]?.stringValue, "vector \(i) quote liquidity after")
                quotedBare += 1
            }
        }
        #expect(rejected < vectors.count / 4)
        if file.hasSuffix("V3.json") { #expect(quotedBare >= 100, "exact-input V3 vectors quoted without the tick: \(quotedBare)") }
    }

    /// Exact-input swaps resumed from a checkpoint (set by a smaller, equal or larger input, as a
    /// sizing search leaves them) equal the real contract's results, and a checkpoint set by a
    /// larger input is never used for a smaller one.
    @Test func resumedSwapsEqualTheRealContract() throws {
        let vectors = try Fixtures.vectors("amm/uniswapV3.json")
        var rng = SeededGenerator(seed: 77)
        var checked = 0, resumed = 0
        for (i, v) in vectors.enumerated() where v["exactOut"] != .bool(true) && v["sqrtPriceLimitX96"]?.stringValue == nil {
            guard case .uniswapV3(let pool) = try Pool(json: try #require(v["pool"])) else { continue }
            let amount = try UInt256(decimal: try #require(v["amount"]?.stringValue))
            let zeroForOne = v["zeroForOne"] == .bool(true)
            let expect = try #require(v["expect"])
            // A checkpoint from another input: below, equal, or above this one.
            let other: UInt256
            switch rng.next() % 4 {
            case 0: other = amount / 2 + 1
            case 1: other = amount - amount / 1000
            case 2: other = amount
            default: other = amount + amount / 3 + 1
            }
            var checkpoint: V3Pool.Checkpoint? = nil
            _ = try? pool.swapExactInput(zeroForOne: zeroForOne, amount: other, checkpoint: &checkpoint)
            if let c = checkpoint, amount >= c.consumed, !c.consumed.isZero { resumed += 1 }
            let q = Result { () throws(AMMError) in try pool.swapExactInput(zeroForOne: zeroForOne, amount: amount, checkpoint: &checkpoint) }
            checked += 1
            if expect["error"] != nil {
                #expect(throws: AMMError.self, "vector \(i): the contract reverts") { try q.get() }
                continue
            }
            let r = try q.get()
            #expect(r.amountIn.description == expect["amountIn"]?.stringValue, "vector \(i) amountIn")
            #expect(r.amountOut.description == expect["amountOut"]?.stringValue, "vector \(i) amountOut")
            #expect(r.sqrtPriceX96After.description == expect["sqrtPriceX96After"]?.stringValue, "vector \(i) sqrtPrice after")
            #expect(r.liquidityAfter.description == expect["liquidityAfter"]?.stringValue, "vector \(i) liquidity after")
        }
        // Both paths run: many swaps resume past crossed ticks, the rest start from the pool.
        #expect(checked > 100 && resumed > 30 && resumed < checked)
    }

    /// On every recorded pool state: a chain of exact-input swaps sharing one checkpoint, with
    /// inputs wandering up and down as a search's do, equals fresh swaps (themselves equal to the
    /// real contract above) in amounts, price and liquidity.
    @Test func checkpointChainsEqualFreshSwaps() throws {
        var rng = SeededGenerator(seed: 78)
        var resumed = 0, total = 0
        // Every other vector: debug builds take milliseconds per swap.
        for (i, v) in try Fixtures.vectors("amm/uniswapV3.json").enumerated() where i % 2 == 0 {
            guard case .uniswapV3(let pool) = try Pool(json: try #require(v["pool"])) else { continue }
            let zeroForOne = v["zeroForOne"] == .bool(true)
            var x = try UInt256(decimal: try #require(v["amount"]?.stringValue))
            var checkpoint: V3Pool.Checkpoint? = nil
            for _ in 0..<4 {
                // ±1 wei, ±0.1%, ±30%.
                switch rng.next() % 6 {
                case 0: x += 1
                case 1: x = x > 1 ? x - 1 : x
                case 2: x += x / 1000
                case 3: x -= x / 1000
                case 4: x += x / 3
                default: x -= x / 3
                }
                guard !x.isZero else { break }
                let fresh = Result { () throws(AMMError) in try pool.swap(zeroForOne: zeroForOne, amount: x) }
                if let c = checkpoint, x >= c.consumed, !c.consumed.isZero { resumed += 1 }
                let again = Result { () throws(AMMError) in try pool.swapExactInput(zeroForOne: zeroForOne, amount: x, checkpoint: &checkpoint) }
                total += 1
                switch (fresh, again) {
                case (.success(let f), .success(let a)):
                    #expect(a.amountIn == f.amountIn && a.amountOut == f.amountOut, "\(x)")
                    #expect(a.sqrtPriceX96After == f.sqrtPriceX96After && a.liquidityAfter == f.liquidityAfter, "\(x)")
                case (.failure, .failure):
                    break
                default:
                    Issue.record("fresh \(fresh) but resumed \(again) for \(x)")
                }
            }
        }
        #expect(total > 1000 && resumed > total / 6)  // 1280 swaps, 294 resumed at seed 78
    }
}
