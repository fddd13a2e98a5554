import AMMMath
import SolanaPrimitives

/// Meteora DLMM's `LbPair` account (904 bytes, Anchor): fee parameters, the active bin, the mints
/// and reserves. Layout from the program's IDL (MeteoraAg/dlmm-sdk `idls/dlmm.json`).
public struct DLMMPairAccount: Equatable, Sendable {
    public static let program = try! PublicKey(base58: "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo")
    public static let size = 904
    /// Where mint X and mint Y sit (discovery filters on them).
    public static let mintOffsets = (88, 120)
    public static let discriminator: [UInt8] = [33, 11, 49, 98, 181, 101, 177, 13]

    public var parameters: DLMMPool.StaticParameters
    public var variables: DLMMPool.VariableParameters
    public var activeID: Int32
    public var binStep: UInt16
    /// 0 enabled, 1 disabled.
    public var status: UInt8
    public var mintX: PublicKey
    public var mintY: PublicKey
    public var reserveX: PublicKey
    public var reserveY: PublicKey
    public var oracle: PublicKey
    public var activationPoint: UInt64

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "DLMM LbPair", size: Self.size, discriminator: Self.discriminator)
        parameters = .init(baseFactor: r.u16(8), filterPeriod: r.u16(10), decayPeriod: r.u16(12), reductionFactor: r.u16(14),
                           variableFeeControl: r.u32(16), maxVolatilityAccumulator: r.u32(20), protocolShare: r.u16(32),
                           baseFeePowerFactor: r.u8(34), collectFeeMode: r.u8(36))
        guard parameters.collectFeeMode <= 1 else { throw VenueDecodeError(.value, "DLMM LbPair: collect fee mode \(parameters.collectFeeMode)") }
        variables = .init(volatilityAccumulator: r.u32(40), volatilityReference: r.u32(44), indexReference: r.i32(48),
                          lastUpdateTimestamp: r.i64(56))
        activeID = r.i32(76)
        binStep = r.u16(80)
        status = r.u8(82)
        mintX = r.key(Self.mintOffsets.0)
        mintY = r.key(Self.mintOffsets.1)
        reserveX = r.key(152)
        reserveY = r.key(184)
        // protocol_fee (16) + padding (32) + two reward infos (144 each) after the reserves.
        oracle = r.key(216 + 16 + 32 + 288)
        activationPoint = r.u64(216 + 16 + 32 + 288 + 32 + 128 + 8 + 32 + 32 + 32)
        guard binStep > 0 else { throw VenueDecodeError(.value, "DLMM LbPair: bin step 0") }
        guard (DLMMPool.minBinID...DLMMPool.maxBinID).contains(activeID) else { throw VenueDecodeError(.value, "DLMM LbPair: active bin \(activeID)") }
    }

    /// The pair over the same bins as `previous` (built from this pair's earlier state, its bin
    /// arrays unchanged since): only the active bin and volatility are read.
    public func pool(over previous: DLMMPool) throws(VenueDecodeError) -> DLMMPool {
        guard status == 0 else { throw VenueDecodeError(.unsupported, "DLMM pair disabled (status \(status))") }
        guard previous.binStep == binStep, previous.parameters == parameters else { throw VenueDecodeError(.value, "DLMM pair: parameters changed") }
        do {
            return try previous.moved(activeID: activeID, variables: variables)
        } catch {
            throw VenueDecodeError(.value, "DLMM pair: \(error.message)")
        }
    }

    /// The pair over the bin arrays we hold (each must belong to `address`).
    public func pool(address: PublicKey, binArrays: [DLMMBinArray]) throws(VenueDecodeError) -> DLMMPool {
        guard status == 0 else { throw VenueDecodeError(.unsupported, "DLMM pair disabled (status \(status))") }
        var arrays: [Int64: [DLMMPool.Bin]] = [:]
        for a in binArrays {
            guard a.pair == address else { throw VenueDecodeError(.owner, "bin array \(a.index) belongs to \(a.pair), not \(address)") }
            guard arrays.updateValue(a.bins, forKey: a.index) == nil else { throw VenueDecodeError(.value, "bin array \(a.index) given twice") }
        }
        do {
            return try DLMMPool(activeID: activeID, binStep: binStep, parameters: parameters, variables: variables, arrays: arrays)
        } catch {
            throw VenueDecodeError(.value, "DLMM pair: \(error.message)")
        }
    }
}

/// Meteora DLMM's `BinArray` account (10,136 bytes, Anchor): 70 bins of 144 bytes from
/// `index × 70`, and the pair it belongs to.
public struct DLMMBinArray: Equatable, Sendable {
    public static let size = 10_136
    public static let discriminator: [UInt8] = [92, 142, 92, 220, 5, 148, 70, 181]
    static let binSize = 144

    public var index: Int64
    public var pair: PublicKey
    /// Slot by slot; a bin with price 0 was never initialised.
    public var bins: [DLMMPool.Bin]

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "DLMM BinArray", size: Self.size, discriminator: Self.discriminator)
        index = r.i64(8)
        pair = r.key(24)
        var bins: [DLMMPool.Bin] = []
        bins.reserveCapacity(Int(DLMMPool.binsPerArray))
        for i in 0..<Int(DLMMPool.binsPerArray) {
            let o = 56 + i * Self.binSize
            let bin = DLMMPool.Bin(amountX: r.u64(o), amountY: r.u64(o + 8), price: r.u128(o + 16), openOrder: r.u64(o + 112),
                                   processedOrder: r.u64(o + 128), askSide: r.u8(o + 140) != 0)
            guard bin.price != 0 || (bin.amountX | bin.amountY | bin.openOrder | bin.processedOrder) == 0 else {
                throw VenueDecodeError(.value, "DLMM BinArray \(index): bin \(i) holds tokens at price 0")
            }
            bins.append(bin)
        }
        self.bins = bins
    }
}
