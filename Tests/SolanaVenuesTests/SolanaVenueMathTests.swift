import AMMMath
import SolanaPrimitives
import SolanaVenues
import Testing

/// Invariants of the Solana venues' math that hold whatever the state; exact agreement with outside
/// implementations is in python/tests/test_solana_venues.py.
struct SolanaVenueMathTests {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: UInt64) -> UInt64 { next() % n }
    }

    @Test func whirlpoolTickMathMeetsItsPublishedBoundsAndInvertsExactly() {
        // The program's published bounds are the prices of its extreme ticks; tick 0 is 1.0 in Q64.64.
        #expect(WhirlpoolMath.sqrtPrice(tick: WhirlpoolMath.minTick) == WhirlpoolMath.minSqrtPrice)
        #expect(WhirlpoolMath.sqrtPrice(tick: WhirlpoolMath.maxTick) == WhirlpoolMath.maxSqrtPrice)
        #expect(WhirlpoolMath.sqrtPrice(tick: 0) == UInt128(1) << 64)
        var rng = SplitMix(state: 42)
        for _ in 0..<2_000 {
            let t = Int32(Int64(rng.below(887_272)) - 443_636)
            let p = WhirlpoolMath.sqrtPrice(tick: t)
            #expect(WhirlpoolMath.tick(sqrtPrice: p) == t)
            if t < WhirlpoolMath.maxTick {
                let next = WhirlpoolMath.sqrtPrice(tick: t + 1)
                #expect(next > p)
                #expect(WhirlpoolMath.tick(sqrtPrice: next - 1) == t)
            }
        }
    }

    /// A pool with liquidity over its three arrays around tick 0.
    func whirlpool(liquidity: UInt128, feeRate: UInt16) throws -> WhirlpoolPool {
        let spacing: UInt16 = 64, width = WhirlpoolPool.ticksPerArray * 64
        var arrays: [Int32: [WhirlpoolPool.Tick]] = [:]
        for start in [-2 * width, -width, 0, width] { arrays[start] = Array(repeating: .empty, count: 88) }
        arrays[-2 * width]![0] = .init(initialized: true, liquidityNet: Int128(liquidity))
        arrays[width]![87] = .init(initialized: true, liquidityNet: -Int128(liquidity))
        return try WhirlpoolPool(sqrtPrice: WhirlpoolMath.sqrtPrice(tick: 10) + 12_345, tickCurrent: 10, liquidity: liquidity,
                                 tickSpacing: spacing, feeRate: feeRate, tickArrays: arrays)
    }

    @Test func aWhirlpoolSwapPaysMoreForMoreAndARoundTripCreatesNothing() throws {
        let pool = try whirlpool(liquidity: 1 << 70, feeRate: 3_000)
        var previous: UInt64 = 0
        for amount in stride(from: UInt64(1_000_000), through: 40_000_000_000_000, by: 997_000_000_000) {
            let s = try pool.swap(amount: amount, aToB: true)
            #expect(s.amountOut >= previous && s.sqrtPrice < pool.sqrtPrice)
            previous = s.amountOut
            // Back again on the moved pool: never more than we started with.
            let back = try pool.applying(s).swap(amount: s.amountOut, aToB: false)
            #expect(back.amountIn == s.amountOut && back.amountOut < amount)
        }
        // Past the held arrays the program would need another: refused, not guessed.
        #expect(throws: AMMError.self) { try whirlpool(liquidity: 1 << 40, feeRate: 3_000).swap(amount: .max / 2, aToB: true) }
    }

    @Test func aDLMMSwapPaysMoreForMoreAndItsFeeNeverFallsWithVolatility() throws {
        var bins: [Int32: DLMMPool.Bin] = [:]
        for id: Int32 in -70..<140 {
            let price = UInt128(1) << 64 + UInt128(id + 70) * (UInt128(1) << 50)
            bins[id] = .init(amountX: id >= 5 ? 1_000_000_000 : 0, amountY: id <= 5 ? 2_000_000_000 : 0, price: price)
        }
        let parameters = DLMMPool.StaticParameters(baseFactor: 10_000, filterPeriod: 30, decayPeriod: 600, reductionFactor: 5_000,
                                                   variableFeeControl: 40_000, maxVolatilityAccumulator: 350_000, protocolShare: 0,
                                                   baseFeePowerFactor: 0, collectFeeMode: 0)
        let variables = DLMMPool.VariableParameters(volatilityAccumulator: 0, volatilityReference: 0, indexReference: 5, lastUpdateTimestamp: 0)
        let pool = try DLMMPool(activeID: 5, binStep: 10, parameters: parameters, variables: variables, bins: bins, heldArrays: [-1, 0, 1])
        var previous: UInt64 = 0
        for amount in stride(from: UInt64(1_000), through: 50_000_000_000, by: 1_999_999_000) {
            let s = try pool.swap(amount: amount, swapForY: true, timestamp: 100)
            #expect(s.amountOut >= previous)
            previous = s.amountOut
            #expect(s.after.feeRate >= pool.feeRate)
        }
        #expect(throws: AMMError.self) { try pool.swap(amount: .max, swapForY: true, timestamp: 100) }
    }

    @Test func decodersRefuseOtherKindsAndSizes() {
        #expect(throws: VenueDecodeError(.length, "")) { try WhirlpoolAccount(data: Array(repeating: 0, count: 652)) }
        #expect(throws: VenueDecodeError(.discriminator, "")) { try WhirlpoolAccount(data: Array(repeating: 0, count: 653)) }
        #expect(throws: VenueDecodeError(.discriminator, "")) { try DLMMBinArray(data: Array(repeating: 7, count: 10_136)) }
        #expect(throws: VenueDecodeError(.length, "")) { try RaydiumAMMAccount(data: Array(repeating: 0, count: 751)) }
        // A zero swap-fee denominator would divide by zero in the program: refused as a value.
        var info = [UInt8](repeating: 0, count: 752)
        info[0] = 6
        #expect(throws: VenueDecodeError(.value, "")) { try RaydiumAMMAccount(data: info) }
        info[184] = 100
        info[176] = 25
        #expect((try? RaydiumAMMAccount(data: info))?.swapFeeNumerator == 25)
    }
}
