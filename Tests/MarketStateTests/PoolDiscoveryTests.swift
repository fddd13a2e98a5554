import EVMPrimitives
import MarketState
import Testing

/// CREATE2 derivation against mainnet's published addresses (protocol-facts §1–2); creation logs
/// decoded strictly. The lab test (MarketWatchTests) derives every pool its real factories made.
struct PoolDiscoveryTests {
    static let usdc = Address("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")!
    static let weth = Address("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")!

    static func u(_ bytes: [UInt8]) -> UInt256 { bytes.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) } }

    @Test func mainnetPairAndPoolAddresses() throws {
        let v2 = PoolDiscovery.v2Pair(factory: Address("0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f")!,
                                      initCodeHash: try UInt256(hex: "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"),
                                      tokenA: Self.weth, tokenB: Self.usdc)
        #expect(v2 == Address("0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc")!)
        let v3 = PoolDiscovery.v3Pool(deployer: Address("0x1F98431c8aD98523631AE4a59f267346ea31F984")!,
                                      initCodeHash: try UInt256(hex: "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"),
                                      tokenA: Self.usdc, tokenB: Self.weth, feePips: 500)
        #expect(v3 == Address("0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640")!)
    }

    @Test func creationLogsDecodeStrictly() throws {
        let pool = Address("0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640")!
        func word(_ a: Address) -> UInt256 { Self.u([UInt8](repeating: 0, count: 12) + a.bytes) }
        var created = EVMLog(address: .zero, topics: [PoolDiscovery.poolCreated, word(Self.usdc), word(Self.weth), UInt256(500)],
                             data: UInt256(10).bigEndianBytes + word(pool).bigEndianBytes, blockNumber: 1, logIndex: 0)
        #expect(try PoolDiscovery.decode(created) == .init(pool: pool, token0: Self.usdc, token1: Self.weth, feePips: 500, tickSpacing: 10))
        var bad = created
        bad.topics[3] = UInt256(1) << 24  // not a uint24
        #expect(throws: LogDecodeError.self) { try PoolDiscovery.decode(bad) }
        bad = created
        bad.data = UInt256(10).bigEndianBytes + (UInt256.one << 160).bigEndianBytes  // not an address
        #expect(throws: LogDecodeError.self) { try PoolDiscovery.decode(bad) }
        bad = created
        bad.data = (UInt256.zero &- UInt256(10)).bigEndianBytes + word(pool).bigEndianBytes  // negative spacing
        #expect(throws: LogDecodeError.self) { try PoolDiscovery.decode(bad) }
        created.data.removeLast()
        #expect(throws: LogDecodeError.self) { try PoolDiscovery.decode(created) }

        let pair = EVMLog(address: .zero, topics: [PoolDiscovery.pairCreated, word(Self.usdc), word(Self.weth)],
                          data: word(pool).bigEndianBytes + UInt256(7).bigEndianBytes, blockNumber: 1, logIndex: 0)
        #expect(try PoolDiscovery.decode(pair) == .init(pool: pool, token0: Self.usdc, token1: Self.weth, feePips: nil, tickSpacing: nil))
        var extra = pair
        extra.topics.append(.one)
        #expect(throws: LogDecodeError.self) { try PoolDiscovery.decode(extra) }
    }

    @Test func topicsAreTheSignatureHashes() {
        func topic(_ s: String) -> UInt256 { Self.u(Keccak256.hash(utf8: s)) }
        #expect(PoolDiscovery.pairCreated == topic("PairCreated(address,address,address,uint256)"))
        #expect(PoolDiscovery.poolCreated == topic("PoolCreated(address,address,uint24,int24,address)"))
    }
}
