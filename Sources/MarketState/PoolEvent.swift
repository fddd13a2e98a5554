import EVMPrimitives

/// A pool event that changes swap-relevant state, decoded from a log.
public enum PoolEvent: Equatable, Sendable {
    /// Uniswap V2 family `Sync(uint112,uint112)`: the reserves after.
    case sync(reserve0: UInt256, reserve1: UInt256)
    /// Solidly family `Sync(uint256,uint256)`: the reserves after.
    case solidlySync(reserve0: UInt256, reserve1: UInt256)
    /// Uniswap V3 family `Swap` (Algebra's has the same shape; PancakeSwap V3 appends protocol
    /// fees): the price, liquidity and tick after, and the pool's deltas (+ = into the pool).
    case v3Swap(amount0: Int256, amount1: Int256, sqrtPriceX96: UInt256, liquidity: UInt256, tick: Int32)
    /// V3 `Mint` / `Burn`: liquidity added to or removed from [tickLower, tickUpper).
    case v3Mint(tickLower: Int32, tickUpper: Int32, amount: UInt256)
    case v3Burn(tickLower: Int32, tickUpper: Int32, amount: UInt256)
    /// Curve `TokenExchange`: coin `sold` in, coin `bought` out (amount out after fee).
    case curveExchange(sold: Int, tokensSold: UInt256, bought: Int, tokensBought: UInt256)
}

/// topic0 of every event `PoolEvent` decodes (keccak256 of the signature; protocol-facts §1–2).
public enum PoolTopics {
    /// `Sync(uint112,uint112)`.
    public static let v2Sync: UInt256 = 0x1c41_1e9a_96e0_7124_1c2f_21f7_726b_17ae_89e3_cab4_c78b_e50e_062b_03a9_fffb_bad1
    /// `Sync(uint256,uint256)` (Solidly, Velodrome, Aerodrome).
    public static let solidlySync: UInt256 = 0xcf2a_a508_76cd_fbb5_4120_6f89_af0e_e78d_44a2_abf8_d328_e37f_a491_7f98_2149_848a
    /// `Swap(address,address,int256,int256,uint160,uint128,int24)`.
    public static let v3Swap: UInt256 = 0xc420_79f9_4a63_50d7_e623_5f29_1749_24f9_28cc_2ac8_18eb_64fe_d800_4e11_5fbc_ca67
    /// `Swap(address,address,int256,int256,uint160,uint128,int24,uint128,uint128)` (PancakeSwap V3).
    public static let pancakeV3Swap: UInt256 = 0x19b4_7279_256b_2a23_a166_5c81_0c8d_55a1_7589_40ee_0937_7d4f_8d26_497a_3577_dc83
    /// `Mint(address,address,int24,int24,uint128,uint256,uint256)`.
    public static let v3Mint: UInt256 = 0x7a53_080b_a414_158b_e7ec_69b9_87b5_fb7d_07de_e101_fe85_488f_0853_ae16_239d_0bde
    /// `Burn(address,int24,int24,uint128,uint256,uint256)`.
    public static let v3Burn: UInt256 = 0x0c39_6cd9_89a3_9f44_59b5_fa1a_ed6a_9a8d_cdbc_4590_8acf_d67e_028c_d568_da98_982c
    /// `TokenExchange(address,int128,uint256,int128,uint256)` (Curve).
    public static let curveExchange: UInt256 = 0x8b3e_96f2_b889_fa77_1c53_c981_b40d_af00_5f63_f637_f186_9f70_7052_d15a_3dd9_7140
}
