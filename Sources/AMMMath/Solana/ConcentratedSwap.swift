/// The outcome of an exact-input swap on a Q64.64 concentrated-liquidity pool (Orca Whirlpool,
/// Raydium CLMM): what goes in and out, the fee, and the pool's state after it.
public struct ConcentratedSwap: Equatable, Sendable {
    public var amountIn: UInt64
    public var amountOut: UInt64
    public var fee: UInt64
    public internal(set) var sqrtPrice: UInt128
    public internal(set) var tickCurrent: Int32
    public internal(set) var liquidity: UInt128
}
