import AMMMath
import EVMPrimitives
import Testing

@Suite struct CostsTests {
    /// Aave's percentMul rounds half up: (amount·bps + 5000) / 10000.
    @Test func aavePremiumRoundsHalfUp() {
        let fee = FlashFee.aave(bps: 5)
        #expect(fee.fee(on: 1_000_000_000_000_000_000) == 500_000_000_000_000)
        #expect(fee.fee(on: 999) == 0)      // 4995 + 5000 < 10000
        #expect(fee.fee(on: 1000) == 1)     // exactly half rounds up
        #expect(fee.fee(on: 2999) == 1)     // 14995 + 5000 = 19995
        #expect(fee.fee(on: 3000) == 2)     // 15000 + 5000 = 20000
        #expect(FlashFee.aave(bps: 9).fee(on: 1_000_000) == 900)
        #expect(FlashFee.aave(bps: 5).fee(on: .max) == nil)
    }

    /// Balancer, SyncSwap and the legacy DSS toll: floor(amount·fraction / 1e18).
    @Test func wadFractionFloors() {
        let fee = FlashFee.wadFraction(500_000_000_000_000)  // 0.05%
        #expect(fee.fee(on: 1_000_000_000_000_000_000) == 500_000_000_000_000)
        #expect(fee.fee(on: 1999) == 0)
        #expect(fee.fee(on: 2000) == 1)
        #expect(FlashFee.none.fee(on: .max) == 0)
    }

    /// Ecotone: 100 bytes with 40 zeros is 40·4 + 60·16 = 1120 gas; at l1BaseFee 10 gwei, blob fee
    /// 1 gwei, scalars 1368 and 810949 (Base's, 2024): 1120 · (16·1368·1e10 + 810949·1e9) / 16e6.
    @Test func opEcotoneAndFjordFormulas() {
        let bytes = [UInt8](repeating: 0, count: 40) + [UInt8](repeating: 7, count: 60)
        let ecotone = L1DataFee.opEcotone(l1BaseFee: 10_000_000_000, l1BlobBaseFee: 1_000_000_000, baseFeeScalar: 1368, blobBaseFeeScalar: 810_949)
        let scaled: UInt256 = 16 * 1368 * 10_000_000_000 + 810_949 * 1_000_000_000
        #expect(ecotone.fee(for: bytes) == UInt256(1120) * scaled / 16_000_000)
        // Fjord: a small transaction is charged the 100-byte floor; a large one 836500·size − 42585600.
        let small = L1DataFee.opFjord(l1BaseFee: 10_000_000_000, l1BlobBaseFee: 1_000_000_000, baseFeeScalar: 1368, blobBaseFeeScalar: 810_949, fastlzSize: 60)
        #expect(small.fee(for: bytes) == UInt256(100_000_000) * scaled / 1_000_000_000_000)
        let large = L1DataFee.opFjord(l1BaseFee: 10_000_000_000, l1BlobBaseFee: 1_000_000_000, baseFeeScalar: 1368, blobBaseFeeScalar: 810_949, fastlzSize: 400)
        #expect(large.fee(for: bytes) == UInt256(836_500 * 400 - 42_585_600) * scaled / 1_000_000_000_000)
        #expect(L1DataFee.perL1Byte(weiPerByte: 2_000_000_000).fee(for: bytes) == 200_000_000_000)
    }

    /// Net = gross − gas − L1 fee − flash fee, costs converted at the asset price and rounded up.
    @Test func netProfitSubtractsEveryCost() throws {
        // 1 USDC-unit (6 decimals) per 5e8 wei: ETH at 2000 USDC.
        let costs = NetProfit.Costs(gasUnits: 200_000, gasPrice: 1_000_000_001, l1DataFee: .perL1Byte(weiPerByte: 1_000),
                                    transactionBytes: [UInt8](repeating: 1, count: 300), flashFee: .aave(bps: 5),
                                    assetPerNative: (numerator: 2_000, denominator: 1_000_000_000_000_000_000))
        let net = try #require(NetProfit(amountIn: 10_000_000_000, amountOut: 10_030_000_000, costs: costs))
        #expect(net.gross == 30_000_000)
        // gas: 200000 · 1000000001 wei = 200000000200000 wei → ·2000/1e18 = 0.4000000004 → 1 (rounded up)
        #expect(net.gasCost == 1)
        #expect(net.l1Fee == 1)                       // 300000 wei → 6e-7 → 1
        #expect(net.flashFee == 5_000_000)            // 5 bps of 10,000 USDC
        #expect(net.net == Int256(30_000_000 - 1 - 1 - 5_000_000))
        let losing = try #require(NetProfit(amountIn: 10_000_000_000, amountOut: 9_999_000_000, costs: costs))
        #expect(losing.net == Int256(0) &- Int256(1_000_000 + 1 + 1 + 5_000_000))
    }

    /// The optimiser sizes for profit after the flash fee: smaller than without it, and no
    /// nearby input does better after the fee.
    @Test func optimiserAccountsForTheFlashFee() throws {
        let a = try V2Pool(reserve0: 5_000_000_000_000_000_000_000, reserve1: 10_000_000_000_000, feePips: 3000)
        let b = try V2Pool(reserve0: 4_900_000_000_000_000_000_000, reserve1: 10_000_000_000_000, feePips: 3000)
        let path = Path([.init(pool: .uniswapV2(a), zeroForOne: false), .init(pool: .uniswapV2(b), zeroForOne: true)])
        let free = try #require(Optimizer.optimize(path))
        let fee = FlashFee.aave(bps: 30)
        let paid = try #require(Optimizer.optimize(path, flashFee: fee))
        #expect(paid.amountIn < free.amountIn)
        func net(_ x: UInt256) throws -> Int256 { Int256(bitPattern: try path.amountOut(x)) &- Int256(bitPattern: x) &- Int256(bitPattern: fee.fee(on: x)!) }
        #expect(try net(paid.amountIn) == Int256(bitPattern: paid.grossProfit))
        for alt in [paid.amountIn + 1, paid.amountIn - 1, paid.amountIn + paid.amountIn / 100, paid.amountIn - paid.amountIn / 100, free.amountIn] {
            #expect(try net(alt) <= net(paid.amountIn))
        }
        // A fee larger than the gap leaves nothing.
        #expect(Optimizer.optimize(path, flashFee: .aave(bps: 300)) == nil)
    }
}
