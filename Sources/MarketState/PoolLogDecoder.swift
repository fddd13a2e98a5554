import EVMPrimitives

/// Why a log could not be decoded. Each is counted and the log skipped; state is never touched.
public struct LogDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String { case unknownEvent, wrongShape, outOfRange }
        fileprivate let value: Value
        /// topic0 is not an event market state follows.
        public static let unknownEvent = Code(value: .unknownEvent)
        /// The topic count or data length does not fit the event.
        public static let wrongShape = Code(value: .wrongShape)
        /// A field holds a value its ABI type cannot (dirty padding, a bad sign extension).
        public static let outOfRange = Code(value: .outOfRange)
        public var description: String { value.rawValue }
    }

    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// Decodes pool logs strictly: the exact topic count and data length of the event, and every
/// field within its ABI type, as a node would never send otherwise. No allocation.
public enum PoolLogDecoder {
    public static func decode(_ log: EVMLog) throws(LogDecodeError) -> PoolEvent {
        guard let topic0 = log.topics.first else { throw LogDecodeError(.unknownEvent, "anonymous log") }
        switch topic0 {
        case PoolTopics.v2Sync:
            try shape(log, topics: 1, words: 2, "Sync(uint112,uint112)")
            return .sync(reserve0: try uint(log, 0, bits: 112), reserve1: try uint(log, 1, bits: 112))
        case PoolTopics.solidlySync:
            try shape(log, topics: 1, words: 2, "Sync(uint256,uint256)")
            return .solidlySync(reserve0: word(log, 0), reserve1: word(log, 1))
        case PoolTopics.v3Swap, PoolTopics.pancakeV3Swap:
            let pancake = topic0 == PoolTopics.pancakeV3Swap
            try shape(log, topics: 3, words: pancake ? 7 : 5, pancake ? "PancakeSwap V3 Swap" : "V3 Swap")
            if pancake {
                _ = try uint(log, 5, bits: 128)
                _ = try uint(log, 6, bits: 128)
            }
            return .v3Swap(amount0: Int256(bitPattern: word(log, 0)), amount1: Int256(bitPattern: word(log, 1)),
                           sqrtPriceX96: try uint(log, 2, bits: 160), liquidity: try uint(log, 3, bits: 128),
                           tick: try int24(word(log, 4)))
        case PoolTopics.v3Mint:
            // Mint(address sender, address indexed owner, int24 indexed tickLower, int24 indexed tickUpper,
            //      uint128 amount, uint256 amount0, uint256 amount1)
            try shape(log, topics: 4, words: 4, "V3 Mint")
            _ = try uint(log, 0, bits: 160)
            return .v3Mint(tickLower: try int24(log.topics[2]), tickUpper: try int24(log.topics[3]), amount: try uint(log, 1, bits: 128))
        case PoolTopics.v3Burn:
            // Burn(address indexed owner, int24 indexed tickLower, int24 indexed tickUpper,
            //      uint128 amount, uint256 amount0, uint256 amount1)
            try shape(log, topics: 4, words: 3, "V3 Burn")
            return .v3Burn(tickLower: try int24(log.topics[2]), tickUpper: try int24(log.topics[3]), amount: try uint(log, 0, bits: 128))
        case PoolTopics.curveExchange:
            // TokenExchange(address indexed buyer, int128 sold_id, uint256 tokens_sold, int128 bought_id, uint256 tokens_bought)
            try shape(log, topics: 2, words: 4, "Curve TokenExchange")
            return .curveExchange(sold: try coinIndex(word(log, 0)), tokensSold: word(log, 1),
                                  bought: try coinIndex(word(log, 2)), tokensBought: word(log, 3))
        default:
            throw LogDecodeError(.unknownEvent, "topic0 \(topic0.hexQuantity)")
        }
    }

    @inline(__always)
    static func shape(_ log: EVMLog, topics: Int, words: Int, _ name: String) throws(LogDecodeError) {
        guard log.topics.count == topics, log.data.count == words * 32 else {
            throw LogDecodeError(.wrongShape, "\(name): \(log.topics.count) topics and \(log.data.count) data bytes, want \(topics) and \(words * 32)")
        }
    }

    @inline(__always)
    static func word(_ log: EVMLog, _ i: Int) -> UInt256 {
        log.data.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress! + 32 * i) }
    }

    @inline(__always)
    static func uint(_ log: EVMLog, _ i: Int, bits: Int) throws(LogDecodeError) -> UInt256 {
        let w = word(log, i)
        guard w >> bits == .zero else { throw LogDecodeError(.outOfRange, "word \(i) exceeds uint\(bits)") }
        return w
    }

    /// An int24 in a 256-bit word: the top 233 bits must all equal its sign bit.
    static func int24(_ w: UInt256) throws(LogDecodeError) -> Int32 {
        let v = Int64(bitPattern: w.w0)
        let ext: UInt64 = v < 0 ? .max : 0
        guard w.w1 == ext, w.w2 == ext, w.w3 == ext, v >= -(1 << 23), v < 1 << 23 else {
            throw LogDecodeError(.outOfRange, "not an int24: \(w.hexQuantity)")
        }
        return Int32(v)
    }

    /// A Curve coin index (int128) of a two- to eight-coin pool.
    static func coinIndex(_ w: UInt256) throws(LogDecodeError) -> Int {
        guard w.w1 | w.w2 | w.w3 == 0, w.w0 < 8 else { throw LogDecodeError(.outOfRange, "coin index \(w.hexQuantity)") }
        return Int(w.w0)
    }
}
