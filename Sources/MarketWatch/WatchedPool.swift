import AMMMath
import EVMPrimitives
import MarketState

/// A pool a chain watcher keeps: where it is, how it prices, its pair, and its PriceMatrix venue.
public struct WatchedPool: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// A Uniswap V2-family pair with a fixed fee.
        case uniswapV2(feePips: UInt32)
        /// A Uniswap V3-family pool (fee and tick spacing are read from the pool).
        case uniswapV3
        /// A Solidly-family pool (volatile or stable, read from the pool) with its fee and its
        /// tokens' decimals.
        case solidly(feePips: UInt32, decimals0: UInt8, decimals1: UInt8)
        /// A two-coin Curve StableSwap pool with its coins' decimals.
        case curve(decimals0: UInt8, decimals1: UInt8)
    }

    public var address: Address
    public var kind: Kind
    public var token0: Address
    public var token1: Address
    /// The venue number in the PriceMatrix key (a DEX, and for V3 its fee tier).
    public var venue: UInt32

    /// A pool of `tokenA` and `tokenB`, which are sorted by address as Uniswap and Solidly pools
    /// order them; a Curve pool keeps them in its coin order (coin 0, coin 1).
    public init(address: Address, kind: Kind, tokenA: Address, tokenB: Address, venue: UInt32) {
        self.address = address
        self.kind = kind
        if case .curve = kind {
            (token0, token1) = (tokenA, tokenB)
        } else {
            (token0, token1) = PoolDiscovery.sorted(tokenA, tokenB)
        }
        self.venue = venue
    }
}

/// A factory whose creation events add pools of watched tokens while the watcher runs.
public struct WatchedFactory: Hashable, Sendable {
    public var address: Address
    /// The kind of the pools it creates (a V2 factory's fee is the DEX's).
    public var kind: WatchedPool.Kind
    /// The venue of its pools; for V3, the fee tier is added as `venue + feePips`.
    public var venue: UInt32

    public init(address: Address, kind: WatchedPool.Kind, venue: UInt32) {
        self.address = address
        self.kind = kind
        self.venue = venue
    }
}

extension WatchedPool {
    /// A spot price of this pool (token1 per token0 in its own order) as the PriceMatrix keeps it:
    /// the larger address's token per the smaller's (a Curve pool's coins may be the other way).
    public func matrixPrice(_ spot: Double) -> Double { token0 < token1 ? spot : (spot == 0 ? 0 : 1 / spot) }
}
