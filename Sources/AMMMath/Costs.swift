import EVMPrimitives

/// What a flash-loan source charges on `amount`, exactly as the lender computes it.
public enum FlashFee: Equatable, Sendable {
    /// No fee (Balancer V2 as configured today, the 2022 DSS flash module).
    case none
    /// Aave V3: `premium = (amount·bps + 5000) / 10000` (`percentMul`, half up).
    case aave(bps: UInt32)
    /// A fraction scaled by 1e18, floored: Balancer's `getFlashLoanFeePercentage`, SyncSwap's
    /// `flashLoanFeePercentage`, the legacy DSS `toll`.
    case wadFraction(UInt256)
    /// A Uniswap V3 pool's `flash`: its tier in pips, rounded up (`mulDivRoundingUp(amount, fee, 1e6)`).
    case pips(UInt32)

    @usableFromInline static let wad = UInt256(1_000_000_000_000_000_000)

    /// The fee on `amount`; nil when it does not fit (the lender would revert).
    @inlinable
    public func fee(on amount: UInt256) -> UInt256? {
        switch self {
        case .none:
            return .zero
        case .aave(let bps):
            guard let product = amount.checkedMul(UInt256(UInt64(bps))), let rounded = product.checkedAdd(5000) else { return nil }
            return rounded / 10_000
        case .wadFraction(let f):
            return UInt256.mulDiv(amount, f, Self.wad)
        case .pips(let p):
            return UInt256.mulDivRoundingUp(amount, UInt256(UInt64(p)), UInt256(1_000_000))
        }
    }

    /// The fee as a fraction of the amount, for estimates.
    public var rate: Double {
        switch self {
        case .none: 0
        case .aave(let bps): Double(bps) / 10_000
        case .wadFraction(let f): f.doubleValue / 1e18
        case .pips(let p): Double(p) / 1e6
        }
    }
}

/// The L1 data fee a rollup charges for posting the transaction, in native wei.
public enum L1DataFee: Equatable, Sendable {
    case none
    /// OP Stack, Ecotone: `(4·zeroBytes + 16·nonZeroBytes) · (16·baseFeeScalar·l1BaseFee +
    /// blobBaseFeeScalar·l1BlobBaseFee) / 16e6`, from the L1Block predeploy's values.
    case opEcotone(l1BaseFee: UInt256, l1BlobBaseFee: UInt256, baseFeeScalar: UInt32, blobBaseFeeScalar: UInt32)
    /// OP Stack, Fjord: `max(100·1e6, −42 585 600 + 836 500·fastlzSize) · (16·baseFeeScalar·l1BaseFee +
    /// blobBaseFeeScalar·l1BlobBaseFee) / 1e12`, given the FastLZ-compressed size of the signed tx.
    case opFjord(l1BaseFee: UInt256, l1BlobBaseFee: UInt256, baseFeeScalar: UInt32, blobBaseFeeScalar: UInt32, fastlzSize: UInt64)
    /// Arbitrum: ArbGasInfo's price per L1 calldata byte times the (compressed) byte count.
    case perL1Byte(weiPerByte: UInt256)

    /// The fee for a signed transaction of `bytes`; nil on overflow.
    public func fee(for bytes: [UInt8]) -> UInt256? {
        switch self {
        case .none:
            return .zero
        case let .opEcotone(baseFee, blobFee, scalar, blobScalar):
            let zeros = UInt64(bytes.count(where: { $0 == 0 }))
            let gas = UInt256(zeros * 4 + (UInt64(bytes.count) - zeros) * 16)
            guard let scaled = Self.scaledFee(baseFee, blobFee, scalar, blobScalar) else { return nil }
            return UInt256.mulDiv(gas, scaled, 16_000_000)
        case let .opFjord(baseFee, blobFee, scalar, blobScalar, fastlzSize):
            let raw = Int64(836_500) * Int64(fastlzSize) - 42_585_600
            let size = UInt256(UInt64(Swift.max(raw, 100_000_000)))
            guard let scaled = Self.scaledFee(baseFee, blobFee, scalar, blobScalar) else { return nil }
            return UInt256.mulDiv(size, scaled, 1_000_000_000_000)
        case .perL1Byte(let price):
            return price.checkedMul(UInt256(UInt64(bytes.count)))
        }
    }

    static func scaledFee(_ baseFee: UInt256, _ blobFee: UInt256, _ scalar: UInt32, _ blobScalar: UInt32) -> UInt256? {
        guard let a = baseFee.checkedMul(UInt256(UInt64(scalar) * 16)), let b = blobFee.checkedMul(UInt256(UInt64(blobScalar))) else { return nil }
        return a.checkedAdd(b)
    }
}

/// Net profit of a sized trade in the borrowed asset: gross profit less gas, the L1 data fee and
/// the flash-loan fee. Costs in native wei convert at `assetPerNative` (asset units per native
/// wei, as a fraction) and round up, so the net is never overstated.
public struct NetProfit: Equatable, Sendable {
    public var gross: UInt256
    public var gasCost: UInt256
    public var l1Fee: UInt256
    public var flashFee: UInt256
    /// gross − every cost; negative when the trade loses.
    public var net: Int256

    public struct Costs: Equatable, Sendable {
        public var gasUnits: UInt64
        /// Effective gas price (base fee + priority fee), native wei.
        public var gasPrice: UInt256
        public var l1DataFee: L1DataFee
        /// The signed transaction's bytes (or a same-size stand-in) for the L1 fee.
        public var transactionBytes: [UInt8]
        public var flashFee: FlashFee
        /// Asset units per native wei as numerator / denominator (1 / 1 when the asset is the native token).
        public var assetPerNative: (numerator: UInt256, denominator: UInt256)

        public init(gasUnits: UInt64, gasPrice: UInt256, l1DataFee: L1DataFee = .none, transactionBytes: [UInt8] = [],
                    flashFee: FlashFee = .none, assetPerNative: (numerator: UInt256, denominator: UInt256) = (.one, .one)) {
            self.gasUnits = gasUnits
            self.gasPrice = gasPrice
            self.l1DataFee = l1DataFee
            self.transactionBytes = transactionBytes
            self.flashFee = flashFee
            self.assetPerNative = assetPerNative
        }

        public static func == (l: Costs, r: Costs) -> Bool {
            l.gasUnits == r.gasUnits && l.gasPrice == r.gasPrice && l.l1DataFee == r.l1DataFee && l.transactionBytes == r.transactionBytes
                && l.flashFee == r.flashFee && l.assetPerNative == r.assetPerNative
        }
    }

    /// Net profit of borrowing `amountIn` and receiving `amountOut`; nil on arithmetic overflow.
    public init?(amountIn: UInt256, amountOut: UInt256, costs: Costs) {
        guard costs.assetPerNative.denominator > .zero,
              let gasWei = costs.gasPrice.checkedMul(UInt256(costs.gasUnits)),
              let l1Wei = costs.l1DataFee.fee(for: costs.transactionBytes),
              let gas = UInt256.mulDivRoundingUp(gasWei, costs.assetPerNative.numerator, costs.assetPerNative.denominator),
              let l1 = UInt256.mulDivRoundingUp(l1Wei, costs.assetPerNative.numerator, costs.assetPerNative.denominator),
              let flash = costs.flashFee.fee(on: amountIn)
        else { return nil }
        let gross = amountOut > amountIn ? amountOut - amountIn : .zero
        let loss = amountOut < amountIn ? amountIn - amountOut : .zero
        guard let total = gas.checkedAdd(l1).flatMap({ $0.checkedAdd(flash) }).flatMap({ $0.checkedAdd(loss) }),
              total < UInt256.one << 255, gross < UInt256.one << 255 else { return nil }
        self.gross = gross
        self.gasCost = gas
        self.l1Fee = l1
        self.flashFee = flash
        self.net = Int256(bitPattern: gross) &- Int256(bitPattern: total)
    }
}
