import AMMMath
import SolanaPrimitives

/// Orca's `Whirlpool` account (653 bytes, Anchor): price, liquidity, fee and the vaults. Layout from
/// orca-so/whirlpools `programs/whirlpool/src/state/whirlpool.rs`.
public struct WhirlpoolAccount: Equatable, Sendable {
    public static let program = try! PublicKey(base58: "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc")
    public static let size = 653
    /// Where mint A and mint B sit (discovery filters on them).
    public static let mintOffsets = (101, 181)
    static let discriminator = AccountReader.anchorDiscriminator("Whirlpool")

    public var config: PublicKey
    public var tickSpacing: UInt16
    /// The fee tier's index; a pool whose index differs from its tick spacing is on an adaptive fee tier.
    public var feeTierIndex: UInt16
    public var feeRate: UInt16
    public var protocolFeeRate: UInt16
    public var liquidity: UInt128
    public var sqrtPrice: UInt128
    public var tickCurrent: Int32
    public var mintA: PublicKey
    public var vaultA: PublicKey
    public var mintB: PublicKey
    public var vaultB: PublicKey

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "Whirlpool", size: Self.size, discriminator: Self.discriminator)
        config = r.key(8)
        tickSpacing = r.u16(41)
        feeTierIndex = r.u16(43)
        feeRate = r.u16(45)
        protocolFeeRate = r.u16(47)
        liquidity = r.u128(49)
        sqrtPrice = r.u128(65)
        tickCurrent = r.i32(81)
        mintA = r.key(Self.mintOffsets.0)
        vaultA = r.key(133)
        mintB = r.key(Self.mintOffsets.1)
        vaultB = r.key(213)
        guard tickSpacing > 0 else { throw VenueDecodeError(.value, "Whirlpool: tick spacing 0") }
        guard feeRate <= 60_000 else { throw VenueDecodeError(.value, "Whirlpool: fee rate \(feeRate) over the program's 6%") }
    }

    /// The pool over the same tick arrays as `previous` (built from this pool's earlier state,
    /// its arrays unchanged since): only the price, liquidity and fee are read.
    public func pool(over previous: WhirlpoolPool) throws(VenueDecodeError) -> WhirlpoolPool {
        try refuseAdaptiveFee()
        guard previous.tickSpacing == tickSpacing else { throw VenueDecodeError(.value, "Whirlpool: tick spacing changed") }
        do {
            return try previous.moved(sqrtPrice: sqrtPrice, tickCurrent: tickCurrent, liquidity: liquidity, feeRate: feeRate)
        } catch {
            throw VenueDecodeError(.value, "Whirlpool: \(error.message)")
        }
    }

    func refuseAdaptiveFee() throws(VenueDecodeError) {
        guard feeTierIndex == tickSpacing else {
            throw VenueDecodeError(.unsupported, "Whirlpool on adaptive fee tier \(feeTierIndex) (tick spacing \(tickSpacing))")
        }
    }

    /// The pool over the tick arrays we hold. Adaptive-fee pools are refused (their fee moves).
    public func pool(tickArrays: [WhirlpoolTickArray]) throws(VenueDecodeError) -> WhirlpoolPool {
        try refuseAdaptiveFee()
        var arrays: [Int32: [WhirlpoolPool.Tick]] = [:]
        for a in tickArrays {
            guard a.startTickIndex % (Int32(tickSpacing) * WhirlpoolPool.ticksPerArray) == 0 else {
                throw VenueDecodeError(.value, "tick array at \(a.startTickIndex) is not on this pool's spacing")
            }
            arrays[a.startTickIndex] = a.ticks
        }
        do {
            return try WhirlpoolPool(sqrtPrice: sqrtPrice, tickCurrent: tickCurrent, liquidity: liquidity, tickSpacing: tickSpacing,
                                     feeRate: feeRate, tickArrays: arrays)
        } catch {
            throw VenueDecodeError(.value, "Whirlpool: \(error.message)")
        }
    }
}

/// Orca's fixed `TickArray` account (9,988 bytes, Anchor): 88 ticks of 113 bytes from a start index,
/// and the pool it belongs to.
public struct WhirlpoolTickArray: Equatable, Sendable {
    public static let size = 9_988
    static let discriminator = AccountReader.anchorDiscriminator("TickArray")
    static let tickSize = 113

    public var startTickIndex: Int32
    public var ticks: [WhirlpoolPool.Tick]
    public var whirlpool: PublicKey

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "Whirlpool TickArray", size: Self.size, discriminator: Self.discriminator)
        startTickIndex = r.i32(8)
        var ticks: [WhirlpoolPool.Tick] = []
        ticks.reserveCapacity(Int(WhirlpoolPool.ticksPerArray))
        for i in 0..<Int(WhirlpoolPool.ticksPerArray) {
            let o = 12 + i * Self.tickSize
            let flag = r.u8(o)
            guard flag <= 1 else { throw VenueDecodeError(.value, "Whirlpool TickArray: tick \(i) initialized flag \(flag)") }
            ticks.append(WhirlpoolPool.Tick(initialized: flag == 1, liquidityNet: r.i128(o + 1)))
        }
        self.ticks = ticks
        whirlpool = r.key(12 + 88 * Self.tickSize)
    }
}
