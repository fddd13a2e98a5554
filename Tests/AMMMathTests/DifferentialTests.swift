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
}
