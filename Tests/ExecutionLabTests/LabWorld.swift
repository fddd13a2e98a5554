import AMMMath
import ArbiterTestKit
import Detection
import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import Execution
import Foundation
import JSONRPC
import Logging
import MarketState
import MarketWatch
import Opportunities
import Pipeline
import StreamBus
import Testing

/// The lab chain (real Uniswap V2/V3, lender doubles, our executors) with Arbiter wired as in
/// `arbiter lab`, but driven by the test: no market driver, the test's own swaps open the gaps.
/// Blocks come every second, as in the lab; bundles go to the devnet's mirror endpoint's /relay, signed by
/// a reputation key, so faults can be injected there without touching the watcher's endpoint.
final class LabWorld: @unchecked Sendable {
    let devnet: Devnet
    let manifest: JSONValue
    let chainID: UInt64 = 1
    let tokens: [String: Address]
    let eth: EthClient
    let rpc: RPCClient
    let pools: [WatchedPool]
    let multicall: Address
    let executorKey: PrivateKey
    let flashbotsKey: PrivateKey
    let relay: RPCClient
    let trader: String
    var tasks: [Task<Void, any Error>] = []

    static let logger: Logger = {
        var l = Logger(label: "test.execution")
        l.logLevel = .error
        return l
    }()

    init() async throws {
        devnet = try await Devnet(chainId: 1, lab: true, market: false, blockTime: 1, mirrors: 1)
        manifest = try #require(devnet.manifest)
        tokens = try Self.tokens(manifest)
        pools = try Self.pools(manifest, tokens: tokens)
        rpc = RPCClient(HTTPTransport(url: devnet.http.absoluteString))
        eth = EthClient(rpc)
        multicall = try Address(hex: try #require(manifest["multicall3"]?.stringValue))
        executorKey = try PrivateKey(hex: try #require(manifest["executorKey"]?.stringValue))
        flashbotsKey = try PrivateKey(hex: "0x" + String(repeating: "42", count: 32))
        let mirror = try #require(devnet.mirrors.first)
        relay = RPCClient(FlashbotsSigner(key: flashbotsKey).transport(relay: mirror.http.absoluteString + "relay"))
        trader = try #require(manifest["keys"]?["trader"]?.stringValue)
    }

    /// The lab's tokens by symbol.
    static func tokens(_ manifest: JSONValue) throws -> [String: Address] {
        guard case .object(let t)? = manifest["tokens"] else { throw FixtureError("no tokens") }
        var tokens: [String: Address] = [:]
        for (symbol, v) in t { tokens[symbol] = try Address(hex: try #require(v["address"]?.stringValue)) }
        return tokens
    }

    /// The lab's V2 and V3 pools, as a watcher takes them.
    static func pools(_ manifest: JSONValue, tokens: [String: Address]) throws -> [WatchedPool] {
        var pools: [WatchedPool] = []
        for (venue, dex) in ["sushiswap", "uniswap_v2", "uniswap_v3"].enumerated() {
            guard case .object(let listed)? = manifest["dexes"]?[dex]?["pools"] else { continue }
            for (name, address) in listed {
                let parts = name.split(separator: "/").map(String.init)
                let a = try #require(tokens[parts[0]]), b = try #require(tokens[parts[1]])
                let kind: WatchedPool.Kind = parts.count == 3 ? .uniswapV3 : .uniswapV2(feePips: 3000)
                pools.append(WatchedPool(address: try Address(hex: try #require(address.stringValue)), kind: kind, tokenA: a, tokenB: b,
                                         venue: UInt32(venue) << 24 + (parts.count == 3 ? UInt32(parts[2])! : 0)))
            }
        }
        return pools
    }

    /// A running watcher of the lab's pools (its snapshots have one consumer: one per test).
    func watcher() -> ChainWatcher {
        let w = ChainWatcher(.init(chainID: chainID, name: "lab", rpc: rpc, heads: .polling(.milliseconds(100)), multicall: multicall, pools: pools,
                                   matrix: PriceMatrix(expected: 64)), logger: Self.logger)
        tasks.append(Task { try await w.run() })
        return w
    }

    func stop() {
        for t in tasks { t.cancel() }
        devnet.stop()
    }

    func address(_ path: String...) throws -> Address {
        var v: JSONValue? = manifest
        for p in path { v = v?[p] }
        return try Address(hex: try #require(v?.stringValue))
    }

    // MARK: lenders, detection, execution

    /// Which of the lab's lenders Arbiter may use (each lends its usual assets; DAI's is the flash mint).
    struct Lenders: Sendable {
        var sources: Set<Opportunity.FlashSource>
        static let ethereum = Lenders(sources: [.daiFlashMint, .balancerV2, .aaveV3])
        static func only(_ s: Opportunity.FlashSource...) -> Lenders { Lenders(sources: Set(s)) }
    }

    func lenders(_ set: Lenders) throws -> [FlashLender] {
        let dai = tokens["DAI"]!
        func l(_ s: Opportunity.FlashSource, _ name: String, _ assets: Set<Address>?, _ fee: AMMMath.FlashFee) throws -> FlashLender {
            FlashLender(source: s, lender: try address("lenders", name), executor: try address("executors", name), assets: assets, defaultFee: fee)
        }
        var out: [FlashLender] = []
        if set.sources.contains(.daiFlashMint) { out.append(try l(.daiFlashMint, "daiFlashMint", [dai], .none)) }
        if set.sources.contains(.balancerV2) { out.append(try l(.balancerV2, "balancerV2", Set(tokens.values).subtracting([dai]), .none)) }
        if set.sources.contains(.aaveV3) { out.append(try l(.aaveV3, "aaveV3", nil, .aave(bps: 5))) }
        if set.sources.contains(.uniswapV3Flash) {
            // Every watched V3 pool is a candidate; the provider asks the factory which are real.
            var v3 = try l(.uniswapV3Flash, "uniswapV3Flash", nil, .none)
            v3.pools = pools.filter { $0.kind == .uniswapV3 }.map(\.address)
            out.append(v3)
        }
        return out
    }

    /// Detection as `arbiter run` configures it for these lenders: WETH, then the stablecoins,
    /// each with its cheapest lender (none: own capital, which the lab's executor does not hold).
    func detection(_ set: Lenders, watcher: ChainWatcher, bus: any OpportunityBus) -> DetectionService {
        DetectionService(watcher: watcher, configuration: .init(partition: "P1", detector: cycles(set)), bus: bus, logger: Self.logger)
    }

    /// The cycle detection of `detection(_:watcher:bus:)`.
    func cycles(_ set: Lenders) -> CycleDetector.Configuration {
        func asset(_ sym: String, _ dec: UInt8, usd: Double?) -> CycleDetector.Asset {
            let (source, fee): (Opportunity.FlashSource, AMMMath.FlashFee) =
                if sym == "DAI" && set.sources.contains(.daiFlashMint) { (.daiFlashMint, .none) }
                else if sym != "DAI" && set.sources.contains(.balancerV2) { (.balancerV2, .none) }
                else if set.sources.contains(.aaveV3) { (.aaveV3, .aave(bps: 5)) }
                else if set.sources.contains(.uniswapV3Flash) { (.uniswapV3Flash, .pips(500)) }  // the lowest tier, as `arbiter run` estimates
                else { (.none, .none) }
            return CycleDetector.Asset(address: tokens[sym]!, decimals: dec, usdPerToken: usd, flashSource: source, flashFee: fee)
        }
        var c = CycleDetector.Configuration(chainID: chainID, wrappedNative: tokens["WETH"]!,
                                            assets: [asset("WETH", 18, usd: nil), asset("DAI", 18, usd: 1), asset("USDC", 6, usd: 1), asset("USDT", 6, usd: 1)],
                                            minNetProfitBps: 20)
        c.ttlNanoseconds = 20_000_000_000
        return c
    }

    func engine(_ set: Lenders, journal: Journal, state: any ChainStateSource, sequencer: Bool = false,
                configure: (inout ExecutionEngine.Configuration) -> Void = { _ in },
                chain configureChain: (inout ExecutionChain) -> Void = { _ in }) throws -> ExecutionEngine {
        var configuration = ExecutionEngine.Configuration()
        configuration.risk.defaultMinNetProfitMicroUSD = 0
        configure(&configuration)
        var chain = ExecutionChain(chainID: chainID, eth: eth, route: sequencer ? .privateRPC(rpc) : .flashbots(relay: relay), key: executorKey,
                                   flash: FlashProviders(lenders: try lenders(set), eth: eth), direct: try address("executors", "direct"))
        // As an OP-stack chain: the L1 data fee from the lab's GasPriceOracle double.
        if sequencer { chain.l1FeeOracle = try address("gasPriceOracle") }
        configureChain(&chain)
        return ExecutionEngine(configuration: configuration, chains: [chain], state: state, journal: journal, logger: Self.logger)
    }

    static func journal() throws -> (Journal, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).sqlite").path
        return (try Journal(path: path), path)
    }

    // MARK: the chain

    /// The trader sells `amount` raw units of `sell` for `buy` through a V2 router (mined in the next block).
    func swap(_ dex: String, sell: String, buy: String, amount: UInt256) async throws {
        let router = try address("dexes", dex, "router")
        let f = try FunctionSignature("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)")
        let data = try f.calldata([.uint(amount), .uint(.zero), .array([.address(tokens[sell]!), .address(tokens[buy]!)]),
                                   .address(try Address(hex: trader)), .uint(UInt256(UInt64(1) << 40))])
        _ = try await devnet.call("eth_sendTransaction", [.object([
            ("from", .string(trader)), ("to", .string(router.checksummed)), ("data", .string(Hex.encode(data))), ("gas", .string("0x7a120")),
        ] + Self.wellTipped)])
    }

    /// The trader is a market participant tipping well (100 gwei): it never waits in the pool a
    /// test sets up (`withMinTip`) for the engine's own transactions.
    static let wellTipped: [(String, JSONValue)] = [("maxPriorityFeePerGas", .string(UInt256(100_000_000_000).hexQuantity)),
                                                    ("maxFeePerGas", .string(UInt256(300_000_000_000).hexQuantity))]

    /// The trader sends `amount` of `symbol` to `to` (mined in the next block).
    func transfer(_ symbol: String, to: Address, amount: UInt256) async throws {
        let data = try FunctionSignature("transfer(address,uint256)").calldata([.address(to), .uint(amount)])
        _ = try await devnet.call("eth_sendTransaction", [.object([
            ("from", .string(trader)), ("to", .string(tokens[symbol]!.checksummed)), ("data", .string(Hex.encode(data))), ("gas", .string("0x30d40")),
        ] + Self.wellTipped)])
    }

    func blockNumber() async throws -> UInt64 { try await eth.blockNumber() }

    /// Transactions tipping less than `wei` wait in the devnet's pool (0: none wait).
    func setMinTip(_ wei: UInt256) async throws {
        _ = try await devnet.call("devnet_setMinTip", [.string(wei.hexQuantity)])
    }

    /// Runs `body` with the minimum tip set, and sets it back to 0 however `body` ends.
    func withMinTip<T>(_ wei: UInt256, _ body: () async throws -> T) async throws -> T {
        try await with({ try await self.setMinTip(wei) }, undone: { try await self.setMinTip(.zero) }, body)
    }

    /// Runs `body` with the relay's answers to `methods` arriving `ms` late (the mirror endpoint
    /// the relay is on), and puts them back on time however `body` ends.
    func withSlowRelay<T>(_ ms: Int, _ methods: [String], _ body: () async throws -> T) async throws -> T {
        let mirror = try #require(devnet.mirrors.first).http
        return try await with({ _ = try await self.devnet.call("devnet_slowAnswers", [.number(String(ms)), .array(methods.map { .string($0) })], endpoint: mirror) },
                              undone: { _ = try await self.devnet.call("devnet_slowAnswers", [.number("0"), .array([])], endpoint: mirror) }, body)
    }

    /// `body` between a devnet setting and its undoing, which runs however `body` ends.
    private func with<T>(_ setting: () async throws -> Void, undone: () async throws -> Void, _ body: () async throws -> T) async throws -> T {
        try await setting()
        do {
            let value = try await body()
            try await undone()
            return value
        } catch {
            try? await undone()
            throw error
        }
    }

    /// The hashes waiting in the devnet's pool.
    func txpool() async throws -> [String] { (try await devnet.call("devnet_txpool").arrayValue ?? []).compactMap(\.stringValue) }

    /// Sets the lab GasPriceOracle double's L1 base fee (the deployer owns nothing: the setter is open).
    func setL1BaseFee(_ wei: UInt256) async throws {
        let data = try FunctionSignature("set_fees(uint256,uint256,uint32,uint32)").calldata([.uint(wei), .uint(UInt256(1_000_000_000)), .uint(UInt256(1368)),
                                                                                              .uint(UInt256(810_949))])
        _ = try await devnet.call("eth_sendTransaction", [.object([
            ("from", .string(trader)), ("to", .string(try address("gasPriceOracle").checksummed)), ("data", .string(Hex.encode(data))), ("gas", .string("0x30d40")),
        ])])
        let target = try await blockNumber() + 1
        try await Self.wait("the new L1 fee") { try await self.blockNumber() > target }
    }

    func balance(_ token: Address, of holder: Address, at block: UInt64) async throws -> UInt256 {
        let data = try FunctionSignature("balanceOf(address)").calldata([.address(holder)])
        return try UInt256(bigEndian: try await eth.call(to: token, data: data, block: .number(block)))
    }

    /// A one-word view `signature` of `to` at `block`.
    func word(_ to: Address, _ signature: String, at block: UInt64) async throws -> UInt256 {
        try UInt256(bigEndian: try await eth.call(to: to, data: try FunctionSignature(signature).calldata([]), block: .number(block)))
    }

    func transactionCount(_ who: Address, _ tag: String = "latest") async throws -> UInt64 {
        let v = try await devnet.call("eth_getTransactionCount", [.string(who.checksummed), .string(tag)])
        return try UInt256(hex: try #require(v.stringValue)).w0
    }

    func bundles() async throws -> [JSONValue] { try await devnet.call("devnet_bundles").arrayValue ?? [] }

    static func wait(_ what: String, seconds: Double = 60, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            guard Date() < deadline else { throw FixtureError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// A state source frozen at one snapshot: execution's view lagging the chain.
struct FrozenState: ChainStateSource {
    let snapshot: ChainState
    func state(chain: UInt64) -> ChainState? { chain == snapshot.chainID ? snapshot : nil }
}
