import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import JSONRPC
import Logging
import MarketWatch
import Opportunities
import SolanaClient
import SolanaPrimitives

/// Solana execution (design item #29): a `solana` opportunity (a round trip through pools, its
/// input mint back at the end) is quoted afresh through Jupiter leg by leg, checked against what
/// detection saw, built into one v0 transaction with our compute budget and a Jito tip,
/// simulated twice (for the unit limit, then as it will be sent: its post-balances are the
/// expected profit), sent as a Jito bundle (or, when the block engine is down and that is
/// allowed, as a plain transaction), followed until it lands or its blockhash expires, and its
/// realized profit read from the landed transaction's balances. Every refusal is journaled with
/// its reason; every transaction sent is journaled before it is sent and settled afterwards.
public actor SolanaExecutor {
    public struct Configuration: Sendable {
        public var slippageBps: UInt16 = 50
        /// The tip: this share of the simulated gross profit, within `minTip`…`maxTip` lamports.
        public var tipBps: UInt64 = 1_000
        public var minTip: UInt64 = JitoClient.minimumTip
        public var maxTip: UInt64 = 50_000_000
        /// Jito's tip floor endpoint: when set, the tip is at least its `tipFloorPercentile` (25,
        /// 50, 75, 95 or 99) of recently landed tips, read at most every 10 s.
        public var tipFloorURL: String? = nil
        public var tipFloorPercentile = 50
        public var unitMarginBps: UInt64 = 2_000
        public var maxUnitPrice: UInt64 = 5_000_000
        public var feePercentile = 0.75
        /// Send as a plain transaction when the block engine cannot be reached.
        public var fallbackToRPC = true
        /// How long a sent transaction is followed before it is left pending (its blockhash decides later).
        public var maxWait: Duration = .seconds(30)
        public var poll: Duration = .milliseconds(100)
        public var risk = SolanaRiskManager.Limits()
        /// The token bridge Solana–EVM trades send through (none: they are refused).
        public var bridge: TokenBridgeProgram? = nil
        /// Most lamports of fee, and of tip, a buy-and-bridge or a sale of what the bridge paid may pay
        /// (its profit is on the other side): a higher fee refuses it, the tip is capped at it.
        public var maxBridgeCost: UInt64 = 10_000_000
        public init() {}
    }

    /// One landed trade.
    public struct Trade: Equatable, Sendable {
        public var opportunity: [UInt8]
        public var signature: String
        public var bundle: String
        public var slot: UInt64
        /// The slot whose state `expected` was simulated on: a trade landed in it ran on that
        /// state and realizes exactly `expected`; one landed later ran on whatever the pools became.
        public var simulatedSlot: UInt64
        public var detected: Int64
        public var expected: Int64
        public var realized: Int64
        public var fee: UInt64
        public var tip: UInt64
    }

    /// Wrapped SOL's mint: the round trips traded start and end in it (profit, fee and tip in lamports).
    public static let wrappedSOL = try! PublicKey(base58: "So11111111111111111111111111111111111111112")

    public let configuration: Configuration
    let chainID: UInt64
    let wallet: Keypair
    let rpc: SolanaRPC
    let jupiter: JupiterClient
    let jito: JitoClient?
    let journal: Journal
    let logger: Logger
    var risk: SolanaRiskManager
    var tables: [PublicKey: AddressLookupTable] = [:]
    var tipAccounts: [PublicKey] = []
    var followers = Followers()
    var floor: (value: UInt64, at: ContinuousClock.Instant)?
    var accepting = true
    /// Pools an unsettled trade of ours goes through: a second trade through one of them was
    /// simulated on the state the first is about to change, so it waits its turn (refused
    /// `lock:poolBusy`, as on EVM chains).
    var busy: Set<[UInt8]> = []
    /// Landed round trips.
    public internal(set) var trades: [Trade] = []
    /// Landed buy-and-bridge transactions (leg one of Solana–EVM trades): realized is what the
    /// wallet's lamports and input tokens changed by, the input spent included.
    public internal(set) var bridged: [Trade] = []
    /// Landed sales of what the bridge paid (leg two of Solana–EVM trades bought on an EVM chain):
    /// realized is the wallet's lamports' change (fee and tip).
    public internal(set) var sold: [Trade] = []
    public internal(set) var refusals: [String: Int] = [:]
    public internal(set) var sent = 0

    public init(configuration: Configuration = .init(), chainID: UInt64, wallet: Keypair, rpc: SolanaRPC, jupiter: JupiterClient, jito: JitoClient?,
                journal: Journal, logger: Logger) {
        (self.configuration, self.chainID, self.wallet, self.rpc, self.jupiter, self.jito) = (configuration, chainID, wallet, rpc, jupiter, jito)
        (self.journal, self.logger) = (journal, logger)
        risk = SolanaRiskManager(limits: configuration.risk)
    }

    /// Journals `o` and trades it in the background (a refusal is counted and journaled).
    public func submit(_ o: Opportunity) {
        try? journal.record(opportunity: o, receivedAt: WallClock.nanoseconds())
        followers.add { serial in
            Task {
                if case .failure(let r) = await self.execute(o) { self.count(r, id: o.id) }
                self.followers.remove(serial)
            }
        }
    }

    func count(_ r: Refusal, id: [UInt8]) {
        refusals["\(r.stage):\(r.reason)", default: 0] += 1
        try? journal.decision(id, chain: chainID, stage: r.stage, outcome: "refused", reason: r.reason, detail: r.detail, at: WallClock.nanoseconds())
    }

    public func stopAccepting() { accepting = false }

    public func drain(until deadline: ContinuousClock.Instant?) async {
        accepting = false
        await Followers.drain(until: deadline, isEmpty: { followers.isEmpty }, cancel: { followers.cancelAll() })
    }

    /// The route's legs as Jupiter quotes, each leg's input the previous quote's output.
    func quotes(_ route: Opportunity.Solana, amountIn: UInt64, slippage: UInt16) async -> Result<[JupiterQuote], Refusal> {
        var out: [JupiterQuote] = []
        var amount = amountIn
        for leg in route.legs {
            guard let input = try? PublicKey(bytes: leg.mintIn), let output = try? PublicKey(bytes: leg.mintOut) else {
                return .failure(Refusal("validate", "invalid", "a leg's mint is not a key"))
            }
            do {
                let q = try await jupiter.quote(input: input, output: output, amount: amount, slippageBps: slippage)
                out.append(q)
                amount = q.outAmount
            } catch {
                return .failure(Refusal("quote", error.kind.rawValue, error.message))
            }
        }
        return .success(out)
    }

    /// The tip for a round trip grossing `gross`: the configured share, at least the floor.
    func tip(gross: Int64) async -> UInt64 {
        let share = UInt64(max(0, gross)) / 10_000 * configuration.tipBps
        return min(configuration.maxTip, max(configuration.minTip, share, await tipFloor() ?? 0))
    }

    /// Each quote's instructions; an expired quote is quoted again with more room, once.
    func instructions(_ route: Opportunity.Solana, amountIn: UInt64) async -> Result<([JupiterQuote], [JupiterInstructions]), Refusal> {
        var slippage = configuration.slippageBps
        for attempt in 0..<2 {
            let qs: [JupiterQuote]
            switch await quotes(route, amountIn: amountIn, slippage: slippage) {
            case .failure(let r): return .failure(r)
            case .success(let q): qs = q
            }
            var built: [JupiterInstructions] = []
            do {
                for q in qs { built.append(try await jupiter.swapInstructions(q, user: wallet.publicKey)) }
                return .success((qs, built))
            } catch let e where e.kind == .quoteExpired && attempt == 0 {
                slippage = min(10_000, slippage * 2)
            } catch {
                return .failure(Refusal("quote", error.kind.rawValue, error.message))
            }
        }
        return .failure(Refusal("quote", "quoteExpired", "expired twice"))
    }

    /// The on-chain guard of a round trip: the last leg's minimum out (its `otherAmountThreshold`,
    /// which the swap enforces) must cover what went in, the tip and the most the fee can be
    /// (every unit we may ask for at `price`), so that a bundle landing after the pools moved
    /// fails rather than loses. When the slippage allowed leaves less, the last leg is quoted
    /// again with the slippage that does and its instructions rebuilt; when no slippage can, the
    /// trade is refused (`risk:unprotected`).
    func protect(_ quotes: inout [JupiterQuote], _ routes: inout [JupiterInstructions], _ route: Opportunity.Solana, amountIn: UInt64,
                 tip: UInt64, price: UInt64) async -> Refusal? {
        let fee = SolanaTransactionBuilder.fee(signatures: 1, limit: SolanaTransactionBuilder.maxUnits, price: price)
        let (needed, overflow) = amountIn.addingReportingOverflow(tip &+ fee)
        let out = quotes[quotes.count - 1].outAmount
        guard !overflow, out > needed else {
            return Refusal("risk", "unprotected", "the last leg quotes \(out), not more than \(needed) in, tip and the largest fee")
        }
        guard quotes[quotes.count - 1].otherAmountThreshold < needed else { return nil }
        // Jupiter's minimum is ⌊out·(10⁴ − bps)/10⁴⌋: with bps ≤ (out − needed)·10⁴/out it is at least `needed`.
        let bps = UInt16(UInt128(out - needed) * 10_000 / UInt128(out))
        let leg = route.legs[route.legs.count - 1]
        let input = quotes.count > 1 ? quotes[quotes.count - 2].outAmount : amountIn
        do {
            let q = try await jupiter.quote(input: try PublicKey(bytes: leg.mintIn), output: try PublicKey(bytes: leg.mintOut), amount: input, slippageBps: bps)
            guard q.otherAmountThreshold >= needed else {
                return Refusal("risk", "unprotected", "the last leg's minimum \(q.otherAmountThreshold) is below \(needed) in, tip and the largest fee")
            }
            let built = try await jupiter.swapInstructions(q, user: wallet.publicKey)
            quotes[quotes.count - 1] = q
            routes[routes.count - 1] = built
            return nil
        } catch let e as JupiterError {
            return Refusal("quote", e.kind.rawValue, e.message)
        } catch {
            return Refusal("validate", "invalid", "a leg's mint is not a key")
        }
    }

    /// The lookup tables by key, read once and kept.
    func lookupTables(_ keys: [PublicKey]) async -> Result<[AddressLookupTable], Refusal> {
        var out: [AddressLookupTable] = []
        for k in Set(keys).sorted() {
            if let t = tables[k] { out.append(t); continue }
            guard let t = try? await rpc.lookupTable(k) else { return .failure(Refusal("build", "lookupTable", "\(k) could not be read as a lookup table")) }
            tables[k] = t
            out.append(t)
        }
        return .success(out)
    }

    /// Reads the tip accounts and settles what a previous run left pending (see `recover`);
    /// returns how many are still pending.
    public func start() async -> Int {
        if let jito, tipAccounts.isEmpty { tipAccounts = (try? await jito.tipAccounts()) ?? [] }
        return await recover()
    }

    /// The tip floor at the configured percentile (lamports), kept 10 s; nil without an endpoint
    /// or when it cannot be read (the share of profit then decides alone).
    func tipFloor() async -> UInt64? {
        guard let url = configuration.tipFloorURL else { return nil }
        if let floor, ContinuousClock.now - floor.at < .seconds(10) { return floor.value }
        guard let f = try? await JitoClient.tipFloor(url) else { return floor?.value }
        let value: UInt64
        switch configuration.tipFloorPercentile {
        case ..<50: value = f.p25
        case 50..<75: value = f.p50
        case 75..<95: value = f.p75
        case 95..<99: value = f.p95
        default: value = f.p99
        }
        floor = (value, .now)
        return value
    }

    /// A tip account not in any of `tables` (a tip account must be a static key).
    func tipAccount(avoiding tables: [AddressLookupTable]) async -> PublicKey? {
        if tipAccounts.isEmpty, let jito { tipAccounts = (try? await jito.tipAccounts()) ?? [] }
        return tipAccounts.shuffled().first { k in !tables.contains { $0.addresses.contains(k) } }
    }
}
