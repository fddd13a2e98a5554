import EVMPrimitives

/// Where pools come from without a list: their `CREATE2` addresses, derived offline from the
/// factory (or pool deployer), the pair and the fee tier, and the factories' creation events.
public enum PoolDiscovery {
    /// `PairCreated(address indexed token0, address indexed token1, address pair, uint256)`.
    public static let pairCreated: UInt256 = 0x0d36_48bd_0f6b_a801_34a3_3ba9_275a_c585_d9d3_15f0_ad83_55cd_defd_e31a_fa28_d0e9
    /// `PoolCreated(address indexed token0, address indexed token1, uint24 indexed fee, int24 tickSpacing, address pool)`.
    public static let poolCreated: UInt256 = 0x783c_ca1c_0412_dd0d_695e_7845_68c9_6da2_e9c2_2ff9_8935_7a2e_8b1d_9b2b_4e6b_7118

    /// A pool a factory created.
    public struct Created: Equatable, Sendable {
        public var pool: Address
        public var token0: Address
        public var token1: Address
        /// The fee tier in pips (V3); nil for V2 pairs.
        public var feePips: UInt32?
        public var tickSpacing: Int32?

        public init(pool: Address, token0: Address, token1: Address, feePips: UInt32?, tickSpacing: Int32?) {
            self.pool = pool
            self.token0 = token0
            self.token1 = token1
            self.feePips = feePips
            self.tickSpacing = tickSpacing
        }
    }

    /// The pair's tokens in the order the factories store them (as numbers).
    public static func sorted(_ a: Address, _ b: Address) -> (Address, Address) { a < b ? (a, b) : (b, a) }

    /// A Uniswap V2-family pair: salt = keccak256(token0 ‖ token1).
    public static func v2Pair(factory: Address, initCodeHash: UInt256, tokenA: Address, tokenB: Address) -> Address {
        let (t0, t1) = sorted(tokenA, tokenB)
        let salt = hashWord(t0.bytes + t1.bytes)
        return Address.create2(deployer: factory, salt: salt, initCodeHash: initCodeHash)
    }

    /// A Uniswap V3-family pool: salt = keccak256(abi.encode(token0, token1, fee)).
    public static func v3Pool(deployer: Address, initCodeHash: UInt256, tokenA: Address, tokenB: Address, feePips: UInt32) -> Address {
        let (t0, t1) = sorted(tokenA, tokenB)
        let salt = hashWord(word(t0) + word(t1) + UInt256(UInt64(feePips)).bigEndianBytes)
        return Address.create2(deployer: deployer, salt: salt, initCodeHash: initCodeHash)
    }

    static func word(_ a: Address) -> [UInt8] { [UInt8](repeating: 0, count: 12) + a.bytes }

    static func hashWord(_ bytes: [UInt8]) -> UInt256 { Keccak256.hash(bytes).withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) } }

    /// Decodes a `PairCreated` or `PoolCreated` log, as strictly as pool logs.
    public static func decode(_ log: EVMLog) throws(LogDecodeError) -> Created {
        guard let topic0 = log.topics.first else { throw LogDecodeError(.unknownEvent, "anonymous log") }
        switch topic0 {
        case pairCreated:
            try PoolLogDecoder.shape(log, topics: 3, words: 2, "PairCreated")
            return Created(pool: try address(PoolLogDecoder.word(log, 0)), token0: try address(log.topics[1]),
                           token1: try address(log.topics[2]), feePips: nil, tickSpacing: nil)
        case poolCreated:
            try PoolLogDecoder.shape(log, topics: 4, words: 2, "PoolCreated")
            let fee = log.topics[3]
            guard fee >> 24 == .zero else { throw LogDecodeError(.outOfRange, "fee is not a uint24") }
            let spacing = try PoolLogDecoder.int24(PoolLogDecoder.word(log, 0))
            guard spacing > 0 else { throw LogDecodeError(.outOfRange, "tick spacing \(spacing)") }
            return Created(pool: try address(PoolLogDecoder.word(log, 1)), token0: try address(log.topics[1]),
                           token1: try address(log.topics[2]), feePips: UInt32(fee.w0), tickSpacing: spacing)
        default:
            throw LogDecodeError(.unknownEvent, "topic0 \(topic0.hexQuantity)")
        }
    }

    static func address(_ w: UInt256) throws(LogDecodeError) -> Address {
        guard w >> 160 == .zero else { throw LogDecodeError(.outOfRange, "not an address: \(w.hexQuantity)") }
        return Address(truncating: w)
    }
}
