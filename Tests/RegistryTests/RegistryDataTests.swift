import EVMPrimitives
import Testing

@testable import Registry

/// The shipped data: what the issue and protocol-facts.md say must be there.
@Suite struct RegistryDataTests {
    static let registry = try! Registry.bundled()

    @Test func fifteenChainsWithTheirIdsAndPartitions() {
        let expected: [(String, UInt64?, String)] = [
            ("ethereum", 1, "P3"), ("bsc", 56, "P1"), ("polygon", 137, "P1"), ("avalanche", 43114, "P1"), ("fantom", 250, "P1"),
            ("arbitrum", 42161, "P2"), ("optimism", 10, "P2"), ("base", 8453, "P2"), ("zksync", 324, "P3"),
            ("linea", 59144, "P3"), ("blast", 81457, "P2"), ("scroll", 534352, "P2"), ("mantle", 5000, "P2"),
            ("mode", 34443, "P2"), ("solana", nil, "P4"),
        ]
        #expect(Self.registry.chains.count == 15)
        for (name, id, partition) in expected {
            let c = Self.registry.chain(name)
            #expect(c?.id == id, "\(name)")
            #expect(c?.partition == partition, "\(name)")
        }
        #expect(Self.registry.partitions.map(\.name) == ["asia-fast", "l2-turbo", "high-value", "solana"])
    }

    /// Counted from the data files' text, independently of the loader.
    @Test func countsPerChainMatchTheDataFiles() throws {
        for (file, text) in try Registry.bundledFiles() where file.hasPrefix("chains/") {
            let name = String(file.dropFirst("chains/".count).dropLast(".toml".count))
            func count(_ header: String) -> Int { text.components(separatedBy: "\n").filter { $0 == header }.count }
            #expect(Self.registry.dexes(on: name).count == count("[[dex]]"), "\(name) DEXs")
            #expect(Self.registry.tokens(on: name).count == count("[[token]]"), "\(name) tokens")
            #expect(Self.registry.flashSources(on: name).count == count("[[flash]]"), "\(name) flash sources")
        }
        let evmDexes = Self.registry.dexes.filter { Self.registry.chain($0.chain)?.kind == .evm }
        #expect(evmDexes.count >= 71)
        #expect(Self.registry.dexes(on: "solana").count == 7)
    }

    @Test func p2MemoryBudgetHoldsForItsSevenChains() throws {
        let p2 = try #require(Self.registry.partitions.first { $0.id == "P2" })
        #expect(p2.chains.sorted() == ["arbitrum", "base", "blast", "mantle", "mode", "optimism", "scroll"])
        #expect(p2.chains.count * p2.perChainMB <= p2.memoryBudgetMB)
    }

    @Test func protocolFactsAddresses() throws {
        let r = Self.registry
        #expect(r.token("WETH", on: "blast")?.address == .evm(try Address(hex: "0x4300000000000000000000000000000000000004")))
        #expect(r.token("WETH", on: "scroll")?.address == .evm(try Address(hex: "0x5300000000000000000000000000000000000004")))
        #expect(r.token("WMNT", on: "mantle")?.address == .evm(try Address(hex: "0x78c1b0C915c4FAA5FffA6CAbf0219DA63d7f4cb8")))
        let dss = try #require(r.flashSources(on: "ethereum").first { $0.protocol == .daiFlashMint && $0.status == .active })
        #expect(dss.contract == (try Address(hex: "0x60744434d6339a6B27d73d9Eda62b6F66a0a04FA")))
        #expect(dss.fee == .fixedPips(0) && dss.assets == ["DAI"] && dss.repayment == .lenderPulls)
        let legacy = try #require(r.flashSources(on: "ethereum").first { $0.contract == (try? Address(hex: "0x1EB4CF3A948E7D72A198fe073cCb8C7a948cD853")) })
        #expect(legacy.status == .retired)
        #expect(r.flashSources(on: "scroll").first { $0.protocol == .syncswap }?.repayment == .borrowerPushes)
        #expect(r.chain("zksync")?.multicall3 == (try Address(hex: "0xF9cda624FBC7e059355ce98a31693d299FACd963")))
    }

    /// A pool-flash source's contract is a factory; its pools lend only if a DEX of the
    /// matching kind has that factory. PancakeSwap V3's (protocol-facts: 0x0BFb…1865) must be
    /// the PancakeSwap V3 DEX's own on BSC, Base, Arbitrum and Linea.
    @Test func poolFlashSourcesLendFromTheirFactorysDEX() throws {
        let r = Self.registry
        let pancake = try Address(hex: "0x0BFbCF9fa4f9C56B0F40a671Ad40E0805A091865")
        var seen: Set<String> = []
        for s in r.flashSources where s.protocol.lendingPoolKind != nil && s.status == .active {
            let lending = r.lendingDEXes(s)
            #expect(!lending.isEmpty, "\(s.chain) \(s.name): no DEX of its factory \(s.contract.checksummed)")
            for i in lending {
                #expect(r.dexes[i].chain == s.chain && r.dexes[i].factory == s.contract)
                #expect(r.dexes[i].kind == (s.protocol == .pancakeV3 ? .pancakeV3 : .uniswapV3))
            }
            if s.protocol == .pancakeV3 { seen.insert(s.chain) }
            if s.protocol == .pancakeV3 && s.chain != "zksync" { #expect(s.contract == pancake, "\(s.chain)") }
        }
        #expect(seen.isSuperset(of: ["bsc", "base", "arbitrum", "linea"]))
        // Not a pool-flash source: no lending DEXs.
        let aave = try #require(r.flashSources.first { $0.protocol == .aaveV3 })
        #expect(r.lendingDEXes(aave).isEmpty)
    }

    @Test func everyChainHasAnExplicitMEVModeAndTheNewL2sAreNotPublic() {
        for name in ["blast", "scroll", "mantle", "mode"] {
            #expect(Self.registry.chain(name)?.mev == .sequencer)
        }
        #expect(Self.registry.chain("ethereum")?.mev == .flashbots)
        #expect(Self.registry.chain("solana")?.mev == .jito)
    }

    @Test func priceableDEXsDeriveTheirKnownPools() throws {
        // A priceable V2/V3 DEX must reproduce a public pool address from its CREATE2 data.
        let r = Self.registry
        let usdc = try Address(hex: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
        let weth = try Address(hex: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
        let v2 = try #require(r.dexes(on: "ethereum").first { $0.name == "uniswap_v2" })
        let salt = Keccak256.hash(usdc.bytes + weth.bytes).withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) }
        let pair = Address.create2(deployer: try #require(v2.poolDeployer), salt: salt, initCodeHash: try #require(v2.initCodeHash))
        #expect(pair.checksummed == "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc")
    }

    @Test func statArbUniverseAndCEXSymbols() {
        let eth = Self.registry.statArbUniverse(on: "ethereum").map { "\($0.base)/\($0.quote)" }
        #expect(eth == ["WETH/WBTC", "USDC/USDT", "USDC/DAI", "stETH/WETH", "rETH/WETH"])
        #expect(Self.registry.statArbUniverse(on: "arbitrum").map { "\($0.base)/\($0.quote)" }.contains("rETH/WETH"))
        #expect(!Self.registry.statArbUniverse(on: "blast").contains { $0.base == "USDC" })
        let symbols = Self.registry.cexSymbols.filter { $0.replacedBy == nil }.map(\.symbol)
        #expect(Set(symbols) == ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "AVAXUSDT", "POLUSDT", "ARBUSDT", "OPUSDT", "USDCUSDT"])
        #expect(Self.registry.cexSymbols.first { $0.symbol == "MATICUSDT" }?.replacedBy == "POLUSDT")
    }

    @Test func endpointsSkipProvidersWhoseKeyIsAbsent() throws {
        let blast = try #require(Self.registry.chain("blast"))
        let none = Self.registry.endpoints(for: blast, environment: [:])
        #expect(none.map(\.provider) == ["publicnode", "public"])
        let some = Self.registry.endpoints(for: blast, environment: ["DRPC_API_KEY": "k1", "ALCHEMY_API_KEY": "k2", "ANKR_API_KEY": ""])
        #expect(some.map(\.provider) == ["drpc", "publicnode", "alchemy", "public"])
        #expect(some[0].ws == "wss://lb.drpc.org/ogws?network=blast&dkey=k1")
        #expect(some[2].http == "https://blast-mainnet.g.alchemy.com/v2/k2")
    }
}
