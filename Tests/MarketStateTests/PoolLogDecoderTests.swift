import EVMPrimitives
import MarketState
import Testing

@Suite struct PoolLogDecoderTests {
    /// Each topic0 is keccak256 of the event's canonical signature.
    @Test func topicsAreTheSignatureHashes() {
        let expected: [(String, UInt256)] = [
            ("Sync(uint112,uint112)", PoolTopics.v2Sync),
            ("Sync(uint256,uint256)", PoolTopics.solidlySync),
            ("Swap(address,address,int256,int256,uint160,uint128,int24)", PoolTopics.v3Swap),
            ("Swap(address,address,int256,int256,uint160,uint128,int24,uint128,uint128)", PoolTopics.pancakeV3Swap),
            ("Mint(address,address,int24,int24,uint128,uint256,uint256)", PoolTopics.v3Mint),
            ("Burn(address,int24,int24,uint128,uint256,uint256)", PoolTopics.v3Burn),
            ("TokenExchange(address,int128,uint256,int128,uint256)", PoolTopics.curveExchange),
        ]
        for (signature, topic) in expected {
            let hash = Array(signature.utf8).withUnsafeBytes { Keccak256.hashWord($0) }
            #expect(hash == topic, "\(signature)")
        }
    }

    static func word(_ v: UInt256) -> [UInt8] { v.bigEndianBytes }

    @Test func syncDecodesAndRejectsDirtyPadding() throws {
        let log = EVMLog(address: .zero, topics: [PoolTopics.v2Sync], data: Self.word(1234) + Self.word(UInt256.one << 111), blockNumber: 1, logIndex: 0)
        #expect(try PoolLogDecoder.decode(log) == .sync(reserve0: 1234, reserve1: UInt256.one << 111))
        var dirty = log
        dirty.data[0] = 1  // bit 255 of reserve0: not a uint112
        #expect(throws: LogDecodeError.self) { try PoolLogDecoder.decode(dirty) }
        var short = log
        short.data.removeLast()
        #expect { try PoolLogDecoder.decode(short) } throws: { ($0 as? LogDecodeError)?.code == .wrongShape }
        var extra = log
        extra.topics.append(.one)
        #expect { try PoolLogDecoder.decode(extra) } throws: { ($0 as? LogDecodeError)?.code == .wrongShape }
        let transfer = EVMLog(address: .zero, topics: [UInt256(7)], data: [], blockNumber: 1, logIndex: 0)
        #expect { try PoolLogDecoder.decode(transfer) } throws: { ($0 as? LogDecodeError)?.code == .unknownEvent }
    }

    @Test func int24MustBeAProperSignExtension() throws {
        let minus: UInt256 = UInt256.max - 99  // -100
        let mint = EVMLog(address: .zero, topics: [PoolTopics.v3Mint, .zero, minus, UInt256(200)],
                           data: Self.word(.zero) + Self.word(5) + Self.word(1) + Self.word(2), blockNumber: 1, logIndex: 0)
        #expect(try PoolLogDecoder.decode(mint) == .v3Mint(tickLower: -100, tickUpper: 200, amount: 5))
        var bad = mint
        bad.topics[2] = UInt256(limbs: UInt64(bitPattern: -100), 0, 0, 0)  // not sign-extended
        #expect { try PoolLogDecoder.decode(bad) } throws: { ($0 as? LogDecodeError)?.code == .outOfRange }
        bad.topics[2] = UInt256(1 << 23)  // out of int24
        #expect { try PoolLogDecoder.decode(bad) } throws: { ($0 as? LogDecodeError)?.code == .outOfRange }
    }
}
