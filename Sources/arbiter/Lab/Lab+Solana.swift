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
import SolanaDetection
import SolanaPrimitives
import SolanaWatch
import StreamBus

/// `arbiter lab --solana`: the Solana stand-in (a ledger running the programs, Jupiter, a Jito
/// block engine, a drifting market of Raydium AMM v4 pools in the program's account layout), a
/// wallet funded there, partition P4's detector (`SolanaPoolWatcher`: the pools found by
/// `getProgramAccounts`, decoded, their cycles sized) publishing on P4, and the Solana strategy
/// trading them through Jupiter and Jito. The report checks every landed trade's realized profit against its
/// simulated expectation, and the wallet's holdings against the sum of what landed.
struct SolanaLab {
    let cluster: SolanaStandIn
    let rpc: SolanaRPC
    let executor: SolanaExecutor
    let scanner: SolanaPoolWatcher
    let wallet: Keypair
    let sol: PublicKey
    let journal: Journal
    let before: Int64?

    static func start(root: URL, dir: URL, seed: Int, journal: Journal, bus: any OpportunityBus, logger: Logger,
                      recorder: InputRecorder? = nil) async throws -> SolanaLab {
        // The lab's own throwaway wallet (funded only on the stand-in), derived from the seed.
        let wallet = try Keypair(seed: Array(Keccak256.hash(utf8: "arbiter lab solana wallet \(seed)")))
        let cluster = try await SolanaStandIn(root: root, seed: seed, slotMillis: 400, fund: [wallet.publicKey.base58: 20_000_000_000],
                                        tokens: [wallet.publicKey.base58: ["SOL": 100_000_000_000, "USDC": 200_000_000_000]], drift: true, log: dir.appendingPathComponent("solana.log"))
        let rpc = SolanaRPC(RPCClient(HTTPTransport(url: cluster.rpc)))
        guard let solText = cluster.market["mints"]?["SOL"]?["mint"]?.stringValue else { throw CLIError("the Solana stand-in announced no SOL mint") }
        let sol = try PublicKey(base58: solText)
        var c = SolanaExecutor.Configuration()
        c.tipFloorURL = cluster.engine + "/api/v1/bundles/tip_floor"
        // Trades bought here and sold on an EVM chain go through the stand-in's token bridge.
        c.bridge = try cluster.market["bridge"]?["program"]?.stringValue.map { TokenBridgeProgram(program: try PublicKey(base58: $0)) }
        let executor = SolanaExecutor(configuration: c, chainID: Opportunity.solanaChainID, wallet: wallet, rpc: rpc, jupiter: JupiterClient(base: cluster.jupiter, perSecond: 10, burst: 10),
                                      jito: JitoClient(engine: cluster.engine), journal: journal, logger: logger)
        let pending = await executor.start()
        if pending > 0 { logger.notice("Solana: \(pending) trade(s) of a previous run still pending") }
        // SOL round trips: at least 0.02 SOL after 10,000 lamports of expected fees and tip, at most 30 SOL in.
        let detector = SolanaCycleDetector.Configuration(starts: [sol: .init(minProfit: 20_000_000, maxIn: 30_000_000_000, costs: 10_000)])
        // Kept fresh by the cluster's notifications (programs and vaults), a poll every 8 s behind them.
        let scanner = SolanaPoolWatcher(rpc: rpc, bus: bus, configuration: .init(detector: detector), logger: logger,
                                        session: WebSocketSession(url: cluster.ws), clock: { WallClock.nanoseconds() }, recorder: recorder?.solana(name: "solana-lab"))
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
        var r = SolanaReport(scanned: await scanner.status, sent: await executor.sent, trades: await executor.trades, bridged: await executor.bridged,
                             sold: await executor.sold, refusals: await executor.refusals)
        r.records = ((try? journal.solanaTrades()) ?? []).filter { $0.chainID == Opportunity.solanaChainID }
        if let before, let after = try? await Self.holdings(rpc, wallet.publicKey, sol) { r.holdings = (before, after) }
        return r
    }
}

extension Lab {
    /// Registry lines for Wormhole routes for WETH between `chain` and Solana (2 s: the lab's own
    /// pace), so cross-chain detection prices the stand-in's Ether against the chain's. Into the
    /// chain the fee is `feePips` (what the lab's bridge there takes on its fill); into Solana none.
    static func wormholeRoutes(_ chain: String, feePips: Int) -> String {
        [(chain, "solana", 0), ("solana", chain, feePips)].map { from, to, fee in
            "[[add_bridge]]\nprotocol = \"wormhole\"\nfrom = \"\(from)\"\nto = \"\(to)\"\ntokens = [\"WETH\"]\nfee_pips = \(fee)\nfixed_fee_cents = 0\nlatency_s = 2\n"
        }.joined(separator: "\n")
    }
}

/// What `arbiter lab --solana` reports of Solana.
struct SolanaReport {
    var scanned: SolanaPoolWatcher.Status
    var sent: Int
    var trades: [SolanaExecutor.Trade]
    /// Buy-and-bridge transactions that landed (leg one of trades sold on an EVM chain): their
    /// realized is the lamports they cost.
    var bridged: [SolanaExecutor.Trade] = []
    /// Sales of what the bridge paid here (leg two of trades bought on an EVM chain): their
    /// realized is the lamports they cost (the proceeds are the transfer's, on its record).
    var sold: [SolanaExecutor.Trade] = []
    var refusals: [String: Int]
    var records: [SolanaTradeRecord] = []
    var holdings: (before: Int64, after: Int64)? = nil

    /// Landed trades whose realized profit is not the simulated one although they landed in the
    /// slot they were simulated on (a bundle lands all or nothing; landed later, it ran on
    /// whatever the pools became and is `repriced`, its slippage bound the only promise), and the
    /// wallet's change against the trades' sum when nothing is left pending.
    var mismatches: Int { mismatchNotes.count }

    /// Each mismatch named.
    var mismatchNotes: [String] {
        var out = (trades + bridged + sold).filter { $0.realized != $0.expected && $0.slot == $0.simulatedSlot }.map {
            "Solana \($0.signature) (slot \($0.slot)): expected \($0.expected), realized \($0.realized) lamports"
        }
        guard let h = holdings, !records.contains(where: { $0.status == .pending }) else { return out }
        let landed = records.compactMap(\.realized).reduce(0, +)
        if h.after - h.before != landed { out.append("Solana wallet: moved \(h.after - h.before) lamports, its transactions say \(landed)") }
        return out
    }

    func lines() -> [String] {
        var out = ["  Solana: \(scanned.pools) pools decoded (\(scanned.discovered) found by getProgramAccounts), \(scanned.notifications) notifications, \(scanned.polls) polls, "
                   + "\(scanned.detector.cycles) cycles screened, \(scanned.detector.sized) sized, \(scanned.published) published; \(sent) sent, \(trades.count) landed "
                   + "(\(trades.filter { $0.realized == $0.expected }.count) realized exactly the simulated profit)"
                   + (bridged.isEmpty ? "" : ", \(bridged.count) bought and bridged to an EVM chain")
                   + (sold.isEmpty ? "" : ", \(sold.count) sale(s) of what an EVM chain bridged here")]
        for t in trades {
            let verdict = t.realized == t.expected ? " (equal)" : t.slot == t.simulatedSlot ? " (DIFFERENT)" : " (repriced: simulated at slot \(t.simulatedSlot))"
            out.append("  Solana slot \(t.slot) \(t.bundle.isEmpty ? "plain" : "bundle") \(t.signature.prefix(16))…: expected \(t.expected), realized \(t.realized) lamports, "
                       + "fee \(t.fee), tip \(t.tip)" + verdict)
        }
        for t in bridged {
            out.append("  Solana slot \(t.slot) bought and bridged \(t.signature.prefix(16))…: cost \(-t.realized) lamports (simulated \(-t.expected)), fee \(t.fee), tip \(t.tip)")
        }
        for t in sold {
            out.append("  Solana slot \(t.slot) sold what arrived \(t.signature.prefix(16))…: cost \(-t.realized) lamports (simulated \(-t.expected)), fee \(t.fee), tip \(t.tip)")
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
        func s<T: BinaryInteger>(_ v: T) -> JSONValue { .string(String(v)) }
        let landed: [JSONValue] = trades.map { t in
            .object([("signature", .string(t.signature)), ("bundle", .string(t.bundle)), ("slot", .number(String(t.slot))),
                     ("simulatedSlot", .number(String(t.simulatedSlot))), ("detectedProfit", s(t.detected)), ("expectedProfit", s(t.expected)),
                     ("realizedProfit", s(t.realized)), ("fee", .number(String(t.fee))), ("tip", .number(String(t.tip)))])
        }
        func costs(_ list: [SolanaExecutor.Trade]) -> JSONValue {
            .array(list.map { t in
                .object([("signature", .string(t.signature)), ("slot", .number(String(t.slot))), ("simulatedSlot", .number(String(t.simulatedSlot))),
                         ("expected", s(t.expected)), ("realized", s(t.realized)), ("fee", .number(String(t.fee))), ("tip", .number(String(t.tip)))])
            })
        }
        var fields: [(String, JSONValue)] = [
            ("scans", n(scanned.polls)), ("notifications", n(scanned.notifications)), ("pools", n(scanned.pools)), ("discovered", n(scanned.discovered)),
            ("cycles", n(scanned.detector.cycles)), ("sized", n(scanned.detector.sized)), ("published", n(scanned.published)), ("sent", n(sent)),
        ]
        fields += [("trades", .array(landed)), ("bridged", costs(bridged)), ("sold", costs(sold)),
                   ("refused", .object(refusals.sorted { $0.key < $1.key }.map { ($0.key, n($0.value)) })),
                   ("pending", n(records.filter { $0.status == .pending }.count)),
                   ("walletDelta", holdings.map { s($0.after - $0.before) } ?? .null), ("mismatches", n(mismatches))]
        return .object(fields)
    }
}
