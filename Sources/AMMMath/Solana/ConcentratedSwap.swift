/// The start of the tick array holding `tick`, arrays being `ticksPerArray` ticks `tickSpacing`
/// apart (the largest multiple of their width at or below it): Orca's and Raydium's alike.
@inlinable
public func concentratedArrayStart(_ tick: Int32, ticksPerArray: Int32, tickSpacing: UInt16) -> Int32 {
    let width = Int64(ticksPerArray) * Int64(tickSpacing)
    let t = Int64(tick)
    let floor = t >= 0 ? t / width : -((-t + width - 1) / width)
    return Int32(floor * width)
}

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
