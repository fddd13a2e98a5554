import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Testing

/// The devnet through the Swift test kit: started on a free port with the lab, answering
/// JSON-RPC, and its manifest agreeing with our own CREATE2 derivation.
@Suite(.serialized) struct DevnetSmokeTests {
    @Test func labDevnetAnswersAndItsPoolsAreWhereCreate2SaysTheyAre() async throws {
        let devnet = try await Devnet(chainId: 42161)
        defer { devnet.stop() }
        #expect(try await devnet.call("eth_chainId") == .string("0xa4b1"))
        let manifest = try #require(devnet.manifest)
        let sushi = try #require(manifest["dexes"]?["sushiswap"])
        let factory = try Address(hex: try #require(sushi["factory"]?.stringValue))
        let initHash = try UInt256(hex: try #require(sushi["initCodeHash"]?.stringValue))
        let weth = try Address(hex: try #require(manifest["tokens"]?["WETH"]?["address"]?.stringValue))
        let usdc = try Address(hex: try #require(manifest["tokens"]?["USDC"]?["address"]?.stringValue))
        let (t0, t1) = weth < usdc ? (weth, usdc) : (usdc, weth)
        let salt = Keccak256.hash(t0.bytes + t1.bytes).withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) }
        let pair = Address.create2(deployer: factory, salt: salt, initCodeHash: initHash)
        #expect(pair.checksummed == sushi["pools"]?["WETH/USDC"]?.stringValue)
        let code = try await devnet.call("eth_getCode", [.string(pair.lowercased), .string("latest")])
        #expect((code.stringValue?.count ?? 0) > 2)
        let executor = try #require(manifest["executors"]?["aaveV3"]?.stringValue)
        let executorCode = try await devnet.call("eth_getCode", [.string(executor), .string("latest")])
        #expect((executorCode.stringValue?.count ?? 0) > 2)
    }
}
