import ArbiterTestKit
import EVMCodec
@testable import EVMPrimitives
import Testing

@Suite struct KeccakVectorTests {
    @Test func everyOracleVector() throws {
        let vectors = try Fixtures.vectors("evm/keccak.json")
        #expect(vectors.count >= 300)
        for v in vectors {
            let input = try v.hexBytes("input")
            #expect(Hex.encode(Keccak256.hash(input)) == (try v.string("hash")), "length \(input.count)")
        }
    }

    /// One word and two (the lengths hashed with the state in registers) against the sponge over a
    /// state in memory, which the oracle vectors above check at every length.
    @Test func oneAndTwoWordsEqualTheSponge() {
        var rng = SeededGenerator(seed: 3200)
        for count in [32, 64] {
            for _ in 0..<2000 {
                let input = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                var fast = [UInt8](repeating: 0, count: 32), slow = fast
                input.withUnsafeBytes { p in
                    fast.withUnsafeMutableBytes { Keccak256.hash(p.baseAddress, count: count, into: $0.baseAddress!) }
                    slow.withUnsafeMutableBytes { Keccak256.sponge(p.baseAddress, count: count, into: $0.baseAddress!) }
                }
                #expect(fast == slow, "\(count) bytes: \(Hex.encode(input))")
            }
        }
    }

    @Test func knownDigests() {
        #expect(Hex.encode(Keccak256.hash([UInt8]())) == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        #expect(Hex.encode(Keccak256.hash(utf8: "transfer(address,uint256)").prefix(4)) == "0xa9059cbb")
    }
}

@Suite struct AddressTests {
    @Test func checksumsMatchEthUtils() throws {
        let vectors = try Fixtures.vectors("evm/checksums.json")
        #expect(vectors.count >= 200)
        for v in vectors {
            let lower = try v.string("lower"), expected = try v.string("checksummed")
            let a = try Address(hex: lower)
            #expect(a.checksummed == expected)
            #expect(try Address(hex: expected) == a)
            #expect(try Address(hex: "0x" + lower.dropFirst(2).uppercased()) == a)
            #expect(a.lowercased == lower)
        }
    }

    @Test func wrongChecksumIsAnError() throws {
        let good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        #expect(try Address(hex: good).checksummed == good)
        let bad = "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        #expect { try Address(hex: bad) } throws: { ($0 as? PrimitiveError)?.code == .badChecksum }
        #expect(throws: PrimitiveError.self) { try Address(hex: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA") }
        #expect(throws: PrimitiveError.self) { try Address(hex: "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed") }
        #expect(throws: PrimitiveError.self) { try Address(hex: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg") }
    }

    @Test func create2MatchesOracle() throws {
        let vectors = try Fixtures.vectors("evm/create2.json")
        #expect(vectors.count >= 100)
        for v in vectors {
            let salt = try v.hexBytes("salt"), hash = try v.hexBytes("initCodeHash")
            let a = Address.create2(
                deployer: try Address(hex: try v.string("deployer")),
                salt: salt.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) },
                initCodeHash: hash.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) })
            #expect(a.checksummed == (try v.string("address")))
        }
    }

    /// Mainnet pools, whose addresses are public record.
    @Test func create2ReproducesMainnetUniswapPools() throws {
        let usdc = try Address(hex: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
        let weth = try Address(hex: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
        let v2Salt = Keccak256.hash(usdc.bytes + weth.bytes).withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) }
        let v2 = Address.create2(
            deployer: try Address(hex: "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"), salt: v2Salt,
            initCodeHash: try UInt256(hex: "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"))
        #expect(v2.checksummed == "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc")

        var salt = [UInt8](repeating: 0, count: 96)
        salt.replaceSubrange(12..<32, with: usdc.bytes)
        salt.replaceSubrange(44..<64, with: weth.bytes)
        salt[95] = 0xf4
        salt[94] = 0x01  // fee 500
        let v3Salt = Keccak256.hash(salt).withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) }
        let v3 = Address.create2(
            deployer: try Address(hex: "0x1F98431c8aD98523631AE4a59f267346ea31F984"), salt: v3Salt,
            initCodeHash: try UInt256(hex: "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"))
        #expect(v3.checksummed == "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640")
    }

    @Test func createAddressFromNonce() throws {
        // The first contract deployed by 0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0 (a widely cited example).
        let d = try Address(hex: "0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0")
        #expect(Address.create(deployer: d, nonce: 0).lowercased == "0xcd234a471b72ba2f1ccf0a70fcaba648a5eecd8d")
        #expect(Address.create(deployer: d, nonce: 1).lowercased == "0x343c43a37d37dff08ae8c4a11544c718abb4fcf8")
    }
}
