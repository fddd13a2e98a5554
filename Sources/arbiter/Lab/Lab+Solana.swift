import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import JSONRPC
import LabKit
import Logging
import MarketWatch
import Opportunities
import ServiceLifecycle
import SolanaClient
import SolanaExecution
import SolanaPrimitives
import StreamBus

/// `arbiter lab --solana`: the Solana stand-in (a ledger running the programs, Jupiter, a Jito
/// block engine, a drifting market of constant-product pools), a wallet funded there, the lab's
/// scanner of those pools publishing round trips on P4, and the Solana strategy trading them
/// through Jupiter and Jito. The report checks every landed trade's realized profit against its
/// simulated expectation, and the wallet's holdings against the sum of what landed.
struct SolanaLab {
    let cluster: SolanaStandIn
    let rpc: SolanaRPC
    let executor: SolanaExecutor
    let scanner: StandInPoolScanner
    let wallet: Keypair
    let sol: PublicKey
    let journal: Journal
    let before: Int64?

    static func start(root: URL, dir: URL, seed: Int, journal: Journal, bus: any OpportunityBus, logger: Logger) async throws -> SolanaLab {
        // The lab's own throwaway wallet (funded only on the stand-in), derived from the seed.
        let wallet = try Keypair(seed: Array(Keccak256.hash(utf8: "arbiter lab solana wallet \(seed)")))
        let cluster = try SolanaStandIn(root: root, seed: seed, slotMillis: 400, fund: [wallet.publicKey.base58: 20_000_000_000],
                                        tokens: [wallet.publicKey.base58: ["SOL": 100_000_000_000]], drift: true, log: dir.appendingPathComponent("solana.log"))
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        guard let solText = cluster.market["mints"]?["SOL"]?["mint"]?.stringValue else { throw CLIError("the Solana stand-in announced no SOL mint") }
        let sol = try PublicKey(base58: solText)
        var c = SolanaExecutor.Configuration()
        c.tipFloorURL = cluster.engine + "/api/v1/bundles/tip_floor"
        let executor = SolanaExecutor(configuration: c, chainID: Opportunity.solanaChainID, wallet: wallet, rpc: rpc, jupiter: JupiterClient(base: cluster.jupiter, perSecond: 10, burst: 10),
                                      jito: JitoClient(engine: cluster.engine), journal: journal, logger: logger)
        let pending = await executor.start()
        if pending > 0 { logger.notice("Solana: \(pending) trade(s) of a previous run still pending") }
        let scanner = try StandInPoolScanner(rpc: rpc, market: cluster.market, sol: sol, maxIn: 30_000_000_000, bus: bus, logger: logger)
        let lab = SolanaLab(cluster: cluster, rpc: rpc, executor: executor, scanner: scanner, wallet: wallet, sol: sol, journal: journal,
                            before: try? await Self.holdings(rpc, wallet.publicKey, sol))
        Output.standardError("lab: Solana stand-in at \(cluster.rpc) (Jupiter \(cluster.jupiter), Jito \(cluster.engine)); wallet \(wallet.publicKey)")
        return lab
    }

    /// The wallet's lamports plus its wrapped SOL: what a SOL round trip's profit moves.
    static func holdings(_ rpc: SolanaRPC, _ owner: PublicKey, _ sol: PublicKey) async throws -> Int64 {
        let a = try await rpc.accounts([owner, try PublicKey.associatedTokenAddress(owner: owner, mint: sol)])
        guard let lamports = a[0]?.lamports, let tokens = a[1]?.tokenAccount?.amount else { throw CLIError("the wallet's accounts are missing") }
        return Int64(lamports) + Int64(tokens)
    }

    func report() async -> SolanaReport {
        var r = SolanaReport(scanned: await scanner.status, sent: await executor.sent, trades: await executor.trades, refusals: await executor.refusals)
        r.records = ((try? journal.solanaTrades()) ?? []).filter { $0.chainID == Opportunity.solanaChainID }
        if let before, let after = try? await Self.holdings(rpc, wallet.publicKey, sol) { r.holdings = (before, after) }
        return r
    }
}

/// What `arbiter lab --solana` reports of Solana.
struct SolanaReport {
    var scanned: StandInPoolScanner.Status
    var sent: Int
    var trades: [SolanaExecutor.Trade]
    var refusals: [String: Int]
    var records: [SolanaTradeRecord] = []
    var holdings: (before: Int64, after: Int64)? = nil

    /// Landed trades whose realized profit is not the simulated one although they landed in the
    /// slot they were simulated on (a bundle lands all or nothing; landed later, it ran on
    /// whatever the pools became and is `repriced`, its slippage bound the only promise), and the
    /// wallet's change against the trades' sum when nothing is left pending.
    var mismatches: Int {
        let trades = self.trades.filter { $0.realized != $0.expected && $0.slot == $0.simulatedSlot }.count
        guard let h = holdings, !records.contains(where: { $0.status == .pending }) else { return trades }
        let landed = records.compactMap(\.realized).reduce(0, +)
        return trades + (h.after - h.before == landed ? 0 : 1)
    }

    func lines() -> [String] {
        var out = ["  Solana: \(scanned.scans) scans, \(scanned.published) round trip(s) published; \(sent) sent, \(trades.count) landed "
                   + "(\(trades.filter { $0.realized == $0.expected }.count) realized exactly the simulated profit)"]
        for t in trades {
            let verdict = t.realized == t.expected ? " (equal)" : t.slot == t.simulatedSlot ? " (DIFFERENT)" : " (repriced: simulated at slot \(t.simulatedSlot))"
            out.append("  Solana slot \(t.slot) \(t.bundle.isEmpty ? "plain" : "bundle") \(t.signature.prefix(16))…: expected \(t.expected), realized \(t.realized) lamports, "
                       + "fee \(t.fee), tip \(t.tip)" + verdict)
        }
        for (k, v) in refusals.sorted(by: { $0.value > $1.value }) { out.append("  Solana refused \(k): \(v)") }
        let pending = records.filter { $0.status == .pending }
        if !pending.isEmpty { out.append("  Solana: \(pending.count) transaction(s) pending at the end (journaled; the next start settles them)") }
        if let h = holdings {
            let landed = records.compactMap(\.realized).reduce(0, +)
            out.append(h.after - h.before == landed || !pending.isEmpty
                       ? "  Solana wallet: moved \(h.after - h.before) lamports, the trades say \(landed)\(pending.isEmpty ? "" : " (not checked: some pending)")"
                       : "  SOLANA WALLET DIFFERENT: moved \(h.after - h.before) lamports, the trades say \(landed)")
        }
        return out
    }

    var json: JSONValue {
        func n(_ v: Int) -> JSONValue { .number(String(v)) }
        return .object([
            ("scans", n(scanned.scans)), ("published", n(scanned.published)), ("sent", n(sent)),
            ("trades", .array(trades.map { t in
                .object([("signature", .string(t.signature)), ("bundle", .string(t.bundle)), ("slot", .number(String(t.slot))),
                         ("simulatedSlot", .number(String(t.simulatedSlot))),
                         ("detectedProfit", .string(String(t.detected))), ("expectedProfit", .string(String(t.expected))),
                         ("realizedProfit", .string(String(t.realized))), ("fee", .number(String(t.fee))), ("tip", .number(String(t.tip)))])
            })),
            ("refused", .object(refusals.sorted { $0.key < $1.key }.map { ($0.key, n($0.value)) })),
            ("pending", n(records.filter { $0.status == .pending }.count)),
            ("walletDelta", holdings.map { .string(String($0.after - $0.before)) } ?? .null), ("mismatches", n(mismatches)),
        ])
    }
}

/// The lab's detection on the Solana stand-in: its constant-product pools (the stand-in's own
/// program, 130-byte pool accounts) read every slot, and the best SOL round trip through two pools
/// sharing a token, sized at the integer optimum, published as a `solana` opportunity on P4.
/// Real venues' decoders are issue #23's; this one knows only the stand-in's pools.
actor StandInPoolScanner: Service {
    struct Pool {
        var key: PublicKey
        var mints: (PublicKey, PublicKey)
        var vaults: (PublicKey, PublicKey)
        var feeBps: UInt64
    }

    struct Status {
        var scans = 0
        var published = 0
        var unreadable = 0
    }

    let rpc: SolanaRPC
    let pools: [Pool]
    let sol: PublicKey
    let maxIn: UInt64
    let minProfit: Int64
    let bus: any OpportunityBus
    let logger: Logger
    var status = Status()
    var lastPublished: [UInt64] = []

    init(rpc: SolanaRPC, market: JSONValue, sol: PublicKey, maxIn: UInt64, minProfit: Int64 = 20_000_000, bus: any OpportunityBus, logger: Logger) throws {
        var pools: [Pool] = []
        for p in market["pools"]?.arrayValue ?? [] {
            func key(_ k: String) throws -> PublicKey { try PublicKey(base58: p[k]?.stringValue ?? "") }
            guard case .number(let fee)? = p["feeBps"], let bps = UInt64(fee) else { throw CLIError("a stand-in pool without feeBps") }
            pools.append(Pool(key: try key("pool"), mints: (try key("mintA"), try key("mintB")), vaults: (try key("vaultA"), try key("vaultB")), feeBps: bps))
        }
        (self.rpc, self.pools, self.sol, self.maxIn, self.minProfit, self.bus, self.logger) = (rpc, pools, sol, maxIn, minProfit, bus, logger)
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await scan()
            try? await Task.sleep(for: .milliseconds(400))
        }
    }

    static func out(_ x: UInt64, _ rin: UInt64, _ rout: UInt64, _ fee: UInt64) -> UInt64 {
        let net = UInt256(x) * UInt256(10_000 - fee)
        return ((net * UInt256(rout)) / (UInt256(rin) * UInt256(10_000) + net)).w0
    }

    func scan() async {
        status.scans += 1
        guard let slot = try? await rpc.slot(), let accounts = try? await rpc.accounts(pools.flatMap { [$0.vaults.0, $0.vaults.1] }) else {
            status.unreadable += 1
            return
        }
        var reserves: [(UInt64, UInt64)] = []
        for i in pools.indices {
            guard let a = accounts[2 * i]?.tokenAccount?.amount, let b = accounts[2 * i + 1]?.tokenAccount?.amount else { status.unreadable += 1; return }
            reserves.append((a, b))
        }
        var best: (profit: Int64, x: UInt64, legs: [Opportunity.Solana.Leg])? = nil
        for (i, p) in pools.enumerated() where p.mints.0 == sol || p.mints.1 == sol {
            let mid = p.mints.0 == sol ? p.mints.1 : p.mints.0
            let (sIn, sOut) = p.mints.0 == sol ? reserves[i] : (reserves[i].1, reserves[i].0)
            for (j, q) in pools.enumerated() where j != i && Set([q.mints.0.base58, q.mints.1.base58]) == Set([sol.base58, mid.base58]) {
                let (bIn, bOut) = q.mints.0 == mid ? reserves[j] : (reserves[j].1, reserves[j].0)
                func profit(_ x: UInt64) -> Int64 { Int64(Self.out(Self.out(x, sIn, sOut, p.feeBps), bIn, bOut, q.feeBps)) - Int64(x) }
                // The round trip's profit is concave in the input: a ternary search over integers.
                var (lo, hi) = (UInt64(1), maxIn)
                while hi - lo > 2 {
                    let m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3
                    if profit(m1) < profit(m2) { lo = m1 } else { hi = m2 }
                }
                let x = (lo...hi).max { profit($0) < profit($1) }!
                let gain = profit(x)
                guard gain > (best?.profit ?? minProfit) else { continue }
                let mid1 = Self.out(x, sIn, sOut, p.feeBps)
                best = (gain, x, [.init(pool: p.key.bytes, mintIn: sol.bytes, mintOut: mid.bytes, amountOut: mid1),
                                  .init(pool: q.key.bytes, mintIn: mid.bytes, mintOut: sol.bytes, amountOut: Self.out(mid1, bIn, bOut, q.feeBps))])
            }
        }
        guard let best else { return }
        // One publication per market state: the same reserves found again are not news.
        let fingerprint = reserves.flatMap { [$0.0, $0.1] }
        guard fingerprint != lastPublished else { return }
        lastPublished = fingerprint
        let now = WallClock.nanoseconds()
        let o = Opportunity(id: Opportunity.makeID(slot: slot, legs: best.legs, amountIn: best.x), kind: .solana, chains: [Opportunity.solanaChainID], path: [],
                            amountIn: UInt256(best.x), grossProfit: Int256(best.profit), netProfit: Int256(best.profit - 10_000), grossProfitMicroUSD: 0,
                            netProfitMicroUSD: 0, gasUnits: 0, gasCostWei: .zero, flashSource: .none, blockNumber: slot,
                            timestamps: .init(stateApplied: now, detected: now, published: now), expiresAt: now + 4_000_000_000, confidence: 0.9,
                            solana: .init(legs: best.legs))
        do {
            try await bus.publish(o, partition: "P4")
            status.published += 1
        } catch {
            logger.warning("Solana round trip not published", metadata: ["error": "\(error)"])
        }
    }
}
