import AMMMath
import SolanaPrimitives

/// Raydium AMM v4's `AmmInfo` (752 bytes, packed, no discriminator): what quoting needs, and the
/// accounts a swap names. Layout from raydium-io/raydium-amm `program/src/state.rs`.
public struct RaydiumAMMAccount: Equatable, Sendable {
    public static let program = try! PublicKey(base58: "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8")
    public static let size = 752
    /// Where the coin and pc mints sit (discovery filters on them).
    public static let mintOffsets = (400, 432)

    /// `AmmStatus`: 1 Initialized, 6 SwapOnly and 7 WaitingTrade (after its open time) swap.
    public var status: UInt64
    public var coinDecimals: UInt64
    public var pcDecimals: UInt64
    public var tradeFeeNumerator: UInt64
    public var tradeFeeDenominator: UInt64
    public var swapFeeNumerator: UInt64
    public var swapFeeDenominator: UInt64
    public var needTakePnlCoin: UInt64
    public var needTakePnlPc: UInt64
    public var poolOpenTime: UInt64
    public var coinVault: PublicKey
    public var pcVault: PublicKey
    public var coinMint: PublicKey
    public var pcMint: PublicKey
    public var lpMint: PublicKey
    public var openOrders: PublicKey
    public var market: PublicKey
    public var marketProgram: PublicKey
    public var targetOrders: PublicKey

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "Raydium AmmInfo", size: Self.size)
        status = r.u64(0)
        guard status <= 7 else { throw VenueDecodeError(.value, "Raydium AmmInfo: status \(status)") }
        coinDecimals = r.u64(32)
        pcDecimals = r.u64(40)
        tradeFeeNumerator = r.u64(144)
        tradeFeeDenominator = r.u64(152)
        swapFeeNumerator = r.u64(176)
        swapFeeDenominator = r.u64(184)
        guard swapFeeDenominator > 0, swapFeeNumerator < swapFeeDenominator else {
            throw VenueDecodeError(.value, "Raydium AmmInfo: swap fee \(swapFeeNumerator)/\(swapFeeDenominator)")
        }
        needTakePnlCoin = r.u64(192)
        needTakePnlPc = r.u64(200)
        poolOpenTime = r.u64(224)
        coinVault = r.key(336)
        pcVault = r.key(368)
        coinMint = r.key(Self.mintOffsets.0)
        pcMint = r.key(Self.mintOffsets.1)
        lpMint = r.key(464)
        openOrders = r.key(496)
        market = r.key(528)
        marketProgram = r.key(560)
        targetOrders = r.key(592)
    }

    /// Swaps are open at cluster time `now`.
    public func swaps(at now: Int64) -> Bool {
        status == 1 || status == 6 || (status == 7 && now >= 0 && UInt64(now) >= poolOpenTime)
    }

    /// The pool over its two vaults' token accounts.
    public func pool(coinVault coin: SPLTokenAccount, pcVault pc: SPLTokenAccount) throws(VenueDecodeError) -> RaydiumAMMPool {
        guard coin.mint == coinMint, pc.mint == pcMint else { throw VenueDecodeError(.owner, "Raydium vaults hold other mints than the pool's") }
        do {
            return try RaydiumAMMPool(coinVault: coin.amount, pcVault: pc.amount, needTakePnlCoin: needTakePnlCoin, needTakePnlPc: needTakePnlPc,
                                      swapFeeNumerator: swapFeeNumerator, swapFeeDenominator: swapFeeDenominator)
        } catch {
            throw VenueDecodeError(.value, "Raydium pool: \(error.message)")
        }
    }
}

/// An SPL Token (or Token-2022 base) account: 165 bytes of mint, owner, amount and state.
public struct SPLTokenAccount: Equatable, Sendable {
    public static let tokenProgram = try! PublicKey(base58: "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    public var mint: PublicKey
    public var owner: PublicKey
    public var amount: UInt64
    /// 1 initialized, 2 frozen.
    public var state: UInt8

    public init(data: [UInt8]) throws(VenueDecodeError) {
        // Token-2022 accounts carry extensions past the base 165 bytes; the base is the same.
        let base = data.count > 165 ? Array(data[0..<165]) : data
        let r = try AccountReader(base, kind: "SPL token account", size: 165)
        mint = r.key(0)
        owner = r.key(32)
        amount = r.u64(64)
        state = r.u8(108)
        guard state == 1 || state == 2 else { throw VenueDecodeError(.value, "SPL token account: state \(state)") }
    }
}
