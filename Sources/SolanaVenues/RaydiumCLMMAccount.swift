import AMMMath
import SolanaPrimitives

/// Raydium CLMM's `PoolState` (1,544 bytes, Anchor, packed): price, liquidity, the mints and
/// vaults, the status bits, where the fee is collected, the tick array bitmap, and the dynamic
/// fee parameters. Layout from raydium-io/raydium-clmm `programs/amm/src/states/pool.rs` (and
/// `pool_fee.rs` for `fee_on` and `DynamicFeeInfo`).
public struct RaydiumCLMMAccount: Equatable, Sendable {
    public static let program = try! PublicKey(base58: "CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK")
    public static let size = 1_544
    static let discriminator = AccountReader.anchorDiscriminator("PoolState")
    /// Where token mint 0 and 1 sit (discovery filters on them).
    public static let mintOffsets = (73, 105)
    /// Status bit 4 set: swaps disabled.
    static let swapDisabledBit: UInt8 = 1 << 4

    public var ammConfig: PublicKey
    public var mint0: PublicKey
    public var mint1: PublicKey
    public var vault0: PublicKey
    public var vault1: PublicKey
    public var observation: PublicKey
    public var tickSpacing: UInt16
    public var liquidity: UInt128
    public var sqrtPrice: UInt128
    public var tickCurrent: Int32
    public var status: UInt8
    public var feeOn: RaydiumCLMMPool.FeeOn
    public var bitmap: [UInt64]
    /// Any byte of `DynamicFeeInfo` set: the pool's fee moves with volatility (not quoted).
    public var dynamicFee: Bool

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "Raydium CLMM PoolState", size: Self.size, discriminator: Self.discriminator)
        ammConfig = r.key(9)
        mint0 = r.key(Self.mintOffsets.0)
        mint1 = r.key(Self.mintOffsets.1)
        vault0 = r.key(137)
        vault1 = r.key(169)
        observation = r.key(201)
        tickSpacing = r.u16(235)
        liquidity = r.u128(237)
        sqrtPrice = r.u128(253)
        tickCurrent = r.i32(269)
        status = r.u8(389)
        guard let on = RaydiumCLMMPool.FeeOn(rawValue: r.u8(390)) else { throw VenueDecodeError(.value, "Raydium CLMM PoolState: fee_on \(r.u8(390))") }
        feeOn = on
        bitmap = (0..<16).map { r.u64(904 + 8 * $0) }
        dynamicFee = data[1096..<1176].contains { $0 != 0 }
        guard tickSpacing > 0 else { throw VenueDecodeError(.value, "Raydium CLMM PoolState: tick spacing 0") }
    }

    /// Open to swaps, on a fixed fee: what we quote.
    func refuseUnquoted() throws(VenueDecodeError) {
        guard status & Self.swapDisabledBit == 0 else { throw VenueDecodeError(.unsupported, "Raydium CLMM pool with swaps disabled (status \(status))") }
        guard !dynamicFee else { throw VenueDecodeError(.unsupported, "Raydium CLMM pool with a dynamic fee") }
    }

    /// The pool with `config`'s trade fee over the tick arrays we hold.
    public func pool(config: RaydiumCLMMConfig, tickArrays: [RaydiumCLMMTickArray]) throws(VenueDecodeError) -> RaydiumCLMMPool {
        try refuseUnquoted()
        guard config.tickSpacing == tickSpacing else {
            throw VenueDecodeError(.owner, "Raydium CLMM: config tick spacing \(config.tickSpacing), pool's \(tickSpacing)")
        }
        var arrays: [Int32: [RaydiumCLMMPool.Tick]] = [:]
        let width = Int32(tickSpacing) * RaydiumCLMMPool.ticksPerArray
        for a in tickArrays {
            guard a.startTickIndex % width == 0 else { throw VenueDecodeError(.value, "tick array at \(a.startTickIndex) is not on this pool's spacing") }
            for (i, t) in a.ticks.enumerated() where t.initialized && a.slotTicks[i] != a.startTickIndex + Int32(i) * Int32(tickSpacing) {
                throw VenueDecodeError(.value, "tick array at \(a.startTickIndex): slot \(i) names tick \(a.slotTicks[i])")
            }
            arrays[a.startTickIndex] = a.ticks
        }
        do {
            return try RaydiumCLMMPool(sqrtPrice: sqrtPrice, tickCurrent: tickCurrent, liquidity: liquidity, tickSpacing: tickSpacing,
                                       feeRate: config.tradeFeeRate, feeOn: feeOn, bitmap: bitmap, tickArrays: arrays)
        } catch {
            throw VenueDecodeError(.value, "Raydium CLMM: \(error.message)")
        }
    }

    /// The pool over the same tick arrays as `previous`: only price, liquidity, fee and bitmap read.
    public func pool(over previous: RaydiumCLMMPool, config: RaydiumCLMMConfig) throws(VenueDecodeError) -> RaydiumCLMMPool {
        try refuseUnquoted()
        guard previous.tickSpacing == tickSpacing, previous.feeOn == feeOn else { throw VenueDecodeError(.value, "Raydium CLMM: spacing or fee side changed") }
        do {
            return try previous.moved(sqrtPrice: sqrtPrice, tickCurrent: tickCurrent, liquidity: liquidity, feeRate: config.tradeFeeRate, bitmap: bitmap)
        } catch {
            throw VenueDecodeError(.value, "Raydium CLMM: \(error.message)")
        }
    }

    /// A tick array's address: seeds `["tick_array", pool, start index as big-endian i32]`.
    public static func tickArrayAddress(_ pool: PublicKey, start: Int32) throws -> PublicKey {
        let be = withUnsafeBytes(of: start.bigEndian) { Array($0) }
        return try PublicKey.findProgramAddress(seeds: [Array("tick_array".utf8), pool.bytes, be], program: program).0
    }
}

/// Raydium CLMM's `AmmConfig` (117 bytes, Anchor): the trade fee (millionths) and tick spacing a
/// pool takes. Layout from `programs/amm/src/states/config.rs`.
public struct RaydiumCLMMConfig: Equatable, Sendable {
    public static let size = 117
    static let discriminator = AccountReader.anchorDiscriminator("AmmConfig")

    public var protocolFeeRate: UInt32
    public var tradeFeeRate: UInt32
    public var tickSpacing: UInt16
    public var fundFeeRate: UInt32

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "Raydium CLMM AmmConfig", size: Self.size, discriminator: Self.discriminator)
        protocolFeeRate = r.u32(43)
        tradeFeeRate = r.u32(47)
        tickSpacing = r.u16(51)
        fundFeeRate = r.u32(53)
        guard tradeFeeRate < RaydiumCLMMMath.feeRateDenominator else { throw VenueDecodeError(.value, "Raydium CLMM AmmConfig: trade fee \(tradeFeeRate)") }
    }
}

/// Raydium CLMM's `TickArrayState` (10,240 bytes, Anchor, packed): the pool, a start index and 60
/// ticks of 168 bytes. Layout from `programs/amm/src/states/tick_array.rs`.
public struct RaydiumCLMMTickArray: Equatable, Sendable {
    public static let size = 10_240
    static let discriminator = AccountReader.anchorDiscriminator("TickArrayState")
    static let tickSize = 168

    public var pool: PublicKey
    public var startTickIndex: Int32
    public var ticks: [RaydiumCLMMPool.Tick]
    /// Each slot's own `tick` field (an initialized slot names start + i × spacing).
    public var slotTicks: [Int32] = []

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "Raydium CLMM TickArrayState", size: Self.size, discriminator: Self.discriminator)
        pool = r.key(8)
        startTickIndex = r.i32(40)
        var ticks: [RaydiumCLMMPool.Tick] = []
        ticks.reserveCapacity(Int(RaydiumCLMMPool.ticksPerArray))
        for i in 0..<Int(RaydiumCLMMPool.ticksPerArray) {
            let o = 44 + i * Self.tickSize
            // orders_amount (o + 124) and part_filled_orders_remaining (o + 132).
            ticks.append(.init(liquidityNet: r.i128(o + 4), liquidityGross: r.u128(o + 20), limitOrders: r.u64(o + 124) > 0 || r.u64(o + 132) > 0))
            slotTicks.append(r.i32(o))
        }
        self.ticks = ticks
    }
}
