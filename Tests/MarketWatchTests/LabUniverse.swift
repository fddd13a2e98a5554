import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import MarketState
import MarketWatch
import Testing

/// The lab's pools as a watcher finds them from the registry's kind of facts alone: every pair of
/// the lab's tokens on each DEX (V3 in the 500, 3000 and 10000 tiers), addresses derived with
/// CREATE2 from the factory and init-code hash, and the factories for pools created later.
struct LabUniverse {
    var tokens: [String: Address] = [:]
    var pools: [WatchedPool] = []
    var factories: [WatchedFactory] = []
    /// The pools the lab deployed, as its manifest lists them (the factories' own answers).
    var deployed: Set<Address> = []
    /// The lab's Solidly and Curve state doubles (a stable USDC/USDT pool, a DAI/USDC pool).
    var solidly: WatchedPool
    var curve: WatchedPool

    static let dexes = ["sushiswap", "uniswap_v2", "uniswap_v3"]

    init(_ m: JSONValue) throws {
        guard case .object(let t)? = m["tokens"] else { throw FixtureError("no tokens in the manifest") }
        for (symbol, v) in t { tokens[symbol] = try Address(hex: try #require(v["address"]?.stringValue)) }
        let d = try #require(m["doubles"])
        func address(_ v: JSONValue?) throws -> Address { try Address(hex: try #require(v?.stringValue)) }
        solidly = WatchedPool(address: try address(d["solidly"]?["address"]), kind: .solidly(feePips: 500, decimals0: 6, decimals1: 6),
                              tokenA: try address(d["solidly"]?["token0"]), tokenB: try address(d["solidly"]?["token1"]), venue: 3 << 24)
        curve = WatchedPool(address: try address(d["curve"]?["address"]), kind: .curve(decimals0: 18, decimals1: 6),
                            tokenA: try address(d["curve"]?["coins"]?.arrayValue?.first), tokenB: try address(d["curve"]?["coins"]?.arrayValue?.last), venue: 4 << 24)
        let symbols = tokens.keys.sorted()
        for (i, name) in Self.dexes.enumerated() {
            let dex = try #require(m["dexes"]?[name])
            let factory = try Address(hex: try #require(dex["factory"]?.stringValue))
            let hash = try UInt256(hex: try #require(dex["initCodeHash"]?.stringValue))
            let venue = UInt32(i) << 24
            let v3 = dex["kind"]?.stringValue == "uniswapV3"
            factories.append(WatchedFactory(address: factory, kind: v3 ? .uniswapV3 : .uniswapV2(feePips: 3000), venue: venue))
            for (x, a) in symbols.enumerated() {
                for b in symbols[(x + 1)...] {
                    let (ta, tb) = (tokens[a]!, tokens[b]!)
                    if v3 {
                        for fee: UInt32 in [500, 3000, 10000] {
                            let address = PoolDiscovery.v3Pool(deployer: factory, initCodeHash: hash, tokenA: ta, tokenB: tb, feePips: fee)
                            pools.append(WatchedPool(address: address, kind: .uniswapV3, tokenA: ta, tokenB: tb, venue: venue + fee))
                        }
                    } else {
                        let address = PoolDiscovery.v2Pair(factory: factory, initCodeHash: hash, tokenA: ta, tokenB: tb)
                        pools.append(WatchedPool(address: address, kind: .uniswapV2(feePips: 3000), tokenA: ta, tokenB: tb, venue: venue))
                    }
                }
            }
            guard case .object(let listed)? = dex["pools"] else { continue }
            for (_, v) in listed { deployed.insert(try Address(hex: try #require(v.stringValue))) }
        }
    }
}
