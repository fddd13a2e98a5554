import AMMMath
import EVMCodec
import EVMPrimitives
import EthClient
import JSONRPC
import Opportunities
import Synchronization

/// A lender Arbiter can borrow from on a chain, and the executor contract that borrows from it.
public struct FlashLender: Equatable, Sendable {
    public var source: Opportunity.FlashSource
    /// The Aave Pool, the Balancer Vault, the SyncSwap vault, DssFlash; for V3-pool flash, the
    /// factory that vouches for the pools.
    public var lender: Address
    /// Our executor contract for this lender.
    public var executor: Address
    /// The assets it lends; nil: any it holds.
    public var assets: Set<Address>?
    /// The fee assumed until (or where) the protocol's own value cannot be read.
    public var defaultFee: AMMMath.FlashFee
    /// V3-pool flash: the pools that may lend (those watched); each is checked against the
    /// factory on-chain before it is used, as the executor checks it.
    public var pools: [Address]

    public init(source: Opportunity.FlashSource, lender: Address, executor: Address, assets: Set<Address>?, defaultFee: AMMMath.FlashFee,
                pools: [Address] = []) {
        self.source = source
        self.lender = lender
        self.executor = executor
        self.assets = assets
        self.defaultFee = defaultFee
        self.pools = pools
    }

    /// Gas the executor spends on top of a direct swap path, by lender (contracts/gas, 2-hop V2):
    /// breaks ties between lenders of equal fee.
    public var overheadGas: UInt64 { Self.overheadGas(source) }

    public static func overheadGas(_ source: Opportunity.FlashSource) -> UInt64 {
        switch source {
        case .syncSwap: 42_000
        case .balancerV2: 45_000
        case .aaveV3: 70_000
        case .daiFlashMint: 92_000
        case .uniswapV3Flash: 69_000
        case .none: 0
        }
    }
}

/// What one lender offers for one loan.
public struct FlashQuote: Equatable, Sendable {
    public var lender: FlashLender
    public var fee: UInt256
    /// The most it lends of the asset now.
    public var maxLoan: UInt256
    /// V3-pool flash: the pool that lends (never one on the trade's path).
    public var pool: Address? = nil
}

/// Flash-loan providers, one per protocol, reading each one's fee and maximum on-chain:
///
/// - Aave V3: `FLASHLOAN_PREMIUM_TOTAL()` (bps, premium rounded half up); the maximum is the
///   asset held by the lender's liquidity holder (the lab's Pool double holds it itself);
/// - Balancer V2: `getProtocolFeesCollector()` → `getFlashLoanFeePercentage()` (1e18 fraction);
///   the maximum is the Vault's balance;
/// - SyncSwap and the DAI flash mint (EIP-3156): `flashFee(token, 1e18)` gives their 1e18 rate
///   exactly (`fee = amount·rate / 1e18`); `maxFlashLoan(token)`, and DssFlash's own `max()`;
/// - a Uniswap V3 pool (`pool.flash`): any watched pool holding the asset that the factory
///   vouches for (`getPool(token0(), token1(), fee())` is the pool) and that is not on the path;
///   the fee is its tier rounded up, the maximum its balance of the asset.
///
/// Rates are cached per lender and asset for `rateTTLBlocks`, maxima per block, what a V3 pool
/// is (tokens, tier, the factory's word) for good.
public final class FlashProviders: Sendable {
    public let lenders: [FlashLender]
    let eth: EthClient
    let rateTTLBlocks: UInt64
    private let cache = Mutex<(rates: [[UInt8]: (fee: AMMMath.FlashFee, block: UInt64)], maxima: [[UInt8]: (UInt256, UInt64)])>(([:], [:]))
    /// A V3 pool's tokens and tier, nil when its factory does not vouch for it.
    private let v3Pools = Mutex<[Address: (token0: Address, token1: Address, tier: UInt32)?]>([:])

    public init(lenders: [FlashLender], eth: EthClient, rateTTLBlocks: UInt64 = 100) {
        self.lenders = lenders
        self.eth = eth
        self.rateTTLBlocks = rateTTLBlocks
    }

    static let premiumTotal = try! FunctionSignature("FLASHLOAN_PREMIUM_TOTAL() returns (uint128)")
    static let feesCollector = try! FunctionSignature("getProtocolFeesCollector() returns (address)")
    static let feePercentage = try! FunctionSignature("getFlashLoanFeePercentage() returns (uint256)")
    static let flashFee = try! FunctionSignature("flashFee(address,uint256) returns (uint256)")
    static let maxFlashLoan = try! FunctionSignature("maxFlashLoan(address) returns (uint256)")
    static let dssMax = try! FunctionSignature("max() returns (uint256)")
    static let balanceOf = try! FunctionSignature("balanceOf(address) returns (uint256)")
    static let token0 = try! FunctionSignature("token0() returns (address)")
    static let token1 = try! FunctionSignature("token1() returns (address)")
    static let poolFee = try! FunctionSignature("fee() returns (uint24)")
    static let getPool = try! FunctionSignature("getPool(address,address,uint24) returns (address)")
    static let wad = UInt256(1_000_000_000_000_000_000)

    /// Every lender of `asset` with its fee on `amount` and its maximum at `block` (a V3-pool
    /// lender once per pool that can lend it, none of `avoiding`, the trade's own pools); lenders
    /// that cannot be read are left out (an unreadable lender is not a lender to use).
    public func quotes(asset: Address, amount: UInt256, block: UInt64, avoiding: Set<Address> = []) async -> [FlashQuote] {
        var out: [FlashQuote] = []
        for l in lenders where l.assets?.contains(asset) ?? true {
            if l.source == .uniswapV3Flash {
                for pool in l.pools where !avoiding.contains(pool) {
                    guard let p = await v3Pool(pool, factory: l.lender, block: block), p.token0 == asset || p.token1 == asset,
                          let f = AMMMath.FlashFee.pips(p.tier).fee(on: amount), let max = await held(by: pool, asset: asset, block: block) else { continue }
                    out.append(FlashQuote(lender: l, fee: f, maxLoan: max, pool: pool))
                }
                continue
            }
            guard let fee = await rate(l, asset: asset, block: block), let f = fee.fee(on: amount),
                  let max = await maximum(l, asset: asset, block: block) else { continue }
            out.append(FlashQuote(lender: l, fee: f, maxLoan: max))
        }
        return out
    }

    /// The cheapest lender that can lend `amount`: lowest fee, then least gas.
    public func cheapest(asset: Address, amount: UInt256, block: UInt64, avoiding: Set<Address> = []) async -> FlashQuote? {
        await quotes(asset: asset, amount: amount, block: block, avoiding: avoiding).filter { $0.maxLoan >= amount }
            .min { ($0.fee, $0.lender.overheadGas) < ($1.fee, $1.lender.overheadGas) }
    }

    /// `pool`'s tokens and tier when `factory` vouches for it, as the executor checks it.
    private func v3Pool(_ pool: Address, factory: Address, block: UInt64) async -> (token0: Address, token1: Address, tier: UInt32)? {
        if let known = v3Pools.withLock({ $0[pool] }) { return known }
        let addressBound = UInt256.max.shiftedRight(by: 96)
        guard let t0 = await word(pool, Self.token0, [], block: block), let t1 = await word(pool, Self.token1, [], block: block),
              let tier = await word(pool, Self.poolFee, [], block: block), t0 <= addressBound, t1 <= addressBound, tier < UInt256(1_000_000)
        else { return nil }  // unreadable now: asked again next time
        let token0 = Address(truncating: t0), token1 = Address(truncating: t1)
        let vouched = await word(factory, Self.getPool, [.address(token0), .address(token1), .uint(tier)], block: block)
        let p = vouched == (try? UInt256(bigEndian: pool.bytes)) ? (token0, token1, UInt32(tier.w0)) : nil
        v3Pools.withLock { $0[pool] = .some(p) }
        return p
    }

    /// `holder`'s balance of `asset` at `block`, cached for the block.
    private func held(by holder: Address, asset: Address, block: UInt64) async -> UInt256? {
        let key = holder.bytes + asset.bytes
        if let c = cache.withLock({ $0.maxima[key] }), c.1 == block { return c.0 }
        guard let b = await word(asset, Self.balanceOf, [.address(holder)], block: block) else { return nil }
        cache.withLock { $0.maxima[key] = (b, block) }
        return b
    }

    /// The lender's fee rule for `asset` (EIP-3156 lenders may charge per token), cached per lender and asset.
    private func rate(_ l: FlashLender, asset: Address, block: UInt64) async -> AMMMath.FlashFee? {
        let key = l.lender.bytes + asset.bytes
        if let c = cache.withLock({ $0.rates[key] }), block < c.block &+ rateTTLBlocks, block >= c.block { return c.fee }
        var fee: AMMMath.FlashFee? = nil
        switch l.source {
        case .aaveV3:
            if let bps = await word(l.lender, Self.premiumTotal, [], block: block), bps <= UInt256(10_000) { fee = .aave(bps: UInt32(bps.w0)) }
        case .balancerV2:
            if let collector = await word(l.lender, Self.feesCollector, [], block: block), collector <= UInt256.max.shiftedRight(by: 96),
               let pct = await word(Address(truncating: collector), Self.feePercentage, [], block: block) {
                fee = pct.isZero ? AMMMath.FlashFee.none : .wadFraction(pct)
            }
        case .syncSwap, .daiFlashMint:
            if let r = await word(l.lender, Self.flashFee, [.address(asset), .uint(Self.wad)], block: block) {
                fee = r.isZero ? AMMMath.FlashFee.none : .wadFraction(r)
            }
        case .uniswapV3Flash, .none:
            fee = nil
        }
        let f = fee ?? l.defaultFee  // unreadable: the registry's fee
        cache.withLock { $0.rates[key] = (f, block) }
        return f
    }

    private func maximum(_ l: FlashLender, asset: Address, block: UInt64) async -> UInt256? {
        if l.source == .aaveV3 || l.source == .balancerV2 { return await held(by: l.lender, asset: asset, block: block) }
        let key = l.lender.bytes + asset.bytes
        if let c = cache.withLock({ $0.maxima[key] }), c.1 == block { return c.0 }
        let max: UInt256?
        switch l.source {
        case .daiFlashMint:
            // DssFlash: `max()` is the per-loan ceiling; EIP-3156's maxFlashLoan says the same.
            if let m = await word(l.lender, Self.dssMax, [], block: block) { max = m } else { max = await word(l.lender, Self.maxFlashLoan, [.address(asset)], block: block) }
        case .syncSwap:
            max = await word(l.lender, Self.maxFlashLoan, [.address(asset)], block: block)
        case .aaveV3, .balancerV2, .uniswapV3Flash, .none:
            max = nil  // balances (above), per pool (quotes), no lender
        }
        if let max { cache.withLock { $0.maxima[key] = (max, block) } }
        return max
    }

    func word(_ to: Address, _ f: FunctionSignature, _ args: [ABIValue], block: UInt64) async -> UInt256? {
        await eth.word(to, f, args, block: .number(block))
    }
}

extension EthClient {
    /// One word from a view call; nil if it reverts, fails, or answers anything else.
    func word(_ to: Address, _ f: FunctionSignature, _ args: [ABIValue], block: Block = .latest) async -> UInt256? {
        guard let data = try? f.calldata(args), let out = try? await call(to: to, data: data, block: block), out.count == 32 else { return nil }
        return try? UInt256(bigEndian: out)
    }

    /// What `data` sent from `from` to `to` returns as one word, on the latest state or (`pending`)
    /// on the block being built; nil for an answer that is not one word. A revert throws.
    func simulate(from: Address, to: Address, data: [UInt8], pending: Bool) async throws(RPCError) -> UInt256? {
        let out = try await rpc.call("eth_call", [.object([
            ("from", .string(from.checksummed)), ("to", .string(to.checksummed)), ("data", .string(Hex.encode(data))),
        ]), .string(pending ? "pending" : "latest")])
        guard let hex = out.stringValue, let bytes = try? Hex.decode(hex) else { return nil }
        return ExecutorCall.profit(output: bytes)
    }

    /// `holder`'s balance of `token` at `block`.
    public func balance(of holder: Address, token: Address, block: UInt64) async -> UInt256? {
        await word(token, FlashProviders.balanceOf, [.address(holder)], block: .number(block))
    }
}
