import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import JSONRPC
import MarketWatch
import Opportunities
import SolanaClient
import SolanaPrimitives

extension SolanaExecutor {
    /// What a built transaction is expected to do, from its simulation.
    struct Built {
        var tx: SolanaTransaction
        var blockhash: Blockhash
        var expected: Int64
        /// The slot whose state the expectation was simulated on.
        var simulatedSlot: UInt64
        var fee: UInt64
        var tip: UInt64
    }

    /// opportunity → quote → build → simulate → send → follow → journal.
    public func execute(_ o: Opportunity, now: UInt64 = WallClock.nanoseconds()) async -> Result<Trade, Refusal> {
        guard accepting else { return .failure(Refusal("strategy", "closed", "no new trades: the run is ending")) }
        guard o.kind == .solana, let route = o.solana, route.isValid, route.legs.first?.mintIn == route.legs.last?.mintOut,
              o.amountIn <= UInt256(UInt64.max), let mint = try? PublicKey(bytes: route.legs[0].mintIn) else {
            return .failure(Refusal("validate", "invalid", "not a Solana round trip"))
        }
        guard o.expiresAt > now else { return .failure(Refusal("validate", "expired")) }
        // Profit, fee and tip are all lamports only when the route starts and ends in SOL.
        guard mint == Self.wrappedSOL else {
            return .failure(Refusal("validate", "notSolDenominated", "a round trip of \(mint): fees and tips are in SOL, its profit would not be"))
        }
        try? journal.record(opportunity: o, receivedAt: now)  // (once: its route's input mint settles it at a restart)
        var held = Set(route.legs.map(\.pool))
        guard busy.isDisjoint(with: held) else { return .failure(Refusal("lock", "poolBusy", "a trade of ours through one of these pools is unsettled")) }
        // A quote and swap instructions a leg, and a quote to protect the last: started only
        // when the plan's window has room for all of them (half a trade spends calls for nothing).
        let calls = 2 * route.legs.count + 1, spare = await jupiter.spare()
        guard spare >= calls else { return .failure(Refusal("quote", "rateLimited", "the trade needs \(calls) Jupiter calls, the plan has \(spare) now")) }
        busy.formUnion(held)
        defer { busy.subtract(held) }
        let amountIn = o.amountIn.w0
        let built: Built
        switch await build(o, route, amountIn: amountIn, mint: mint, held: &held) {
        case .failure(let r): return .failure(r)
        case .success(let b): built = b
        }
        return await send(o, built, mint: mint)
    }

    /// `held`: the pools locked for this trade; Jupiter's route adds its own (refused when
    /// another trade holds one).
    func build(_ o: Opportunity, _ route: Opportunity.Solana, amountIn: UInt64, mint: PublicKey, held: inout Set<[UInt8]>) async -> Result<Built, Refusal> {
        if let r = risk.take(.rpc, now: .now) { return .failure(r) }
        var (quotes, routes): ([JupiterQuote], [JupiterInstructions])
        switch await instructions(route, amountIn: amountIn) {
        case .failure(let r): return .failure(r)
        case .success(let x): (quotes, routes) = x
        }
        let routed = Set(quotes.flatMap(\.pools).map(\.bytes)).subtracting(held)
        guard busy.isDisjoint(with: routed) else { return .failure(Refusal("lock", "poolBusy", "Jupiter routes through a pool an unsettled trade of ours holds")) }
        busy.formUnion(routed)
        held.formUnion(routed)
        let quoted = quotes.last!.outAmount
        if let r = risk.quote(detected: route.legs.last!.amountOut, quoted: quoted) { return .failure(r) }
        var tables: [AddressLookupTable]
        switch await lookupTables(routes.flatMap(\.lookupTables)) {
        case .failure(let r): return .failure(r)
        case .success(let t): tables = t
        }
        guard let tipAccount = await tipAccount(avoiding: tables) else { return .failure(Refusal("build", "noTipAccount", "no tip account outside the route's lookup tables")) }
        let tip = await tip(gross: Int64(clamping: Int128(quoted) - Int128(amountIn)))
        let ata: PublicKey
        let blockhash: Blockhash, height: UInt64, fees: [UInt64]
        do {
            ata = try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: mint)
            (blockhash, height) = (try await rpc.latestBlockhash(), try await rpc.blockHeight())
            let writable = routes.flatMap { $0.swap.accounts.filter(\.isWritable).map(\.pubkey) }
            fees = try await rpc.recentPrioritizationFees(Array(Set(writable)).sorted()).map(\.microLamports)
        } catch {
            return .failure(Refusal("read", "rpc", "\(error)"))
        }
        if let r = risk.blockhash(blockhash, height: height) { return .failure(r) }
        let price = SolanaTransactionBuilder.unitPrice(recent: fees, percentile: configuration.feePercentile, cap: configuration.maxUnitPrice)
        if let r = await protect(&quotes, &routes, route, amountIn: amountIn, tip: tip, price: price) { return .failure(r) }
        let guarded = Set(quotes.flatMap(\.pools).map(\.bytes)).subtracting(held)
        guard busy.isDisjoint(with: guarded) else { return .failure(Refusal("lock", "poolBusy", "Jupiter routes through a pool an unsettled trade of ours holds")) }
        busy.formUnion(guarded)
        held.formUnion(guarded)
        // The guarded last leg may come through other lookup tables (read once and kept).
        switch await lookupTables(routes.flatMap(\.lookupTables)) {
        case .failure(let r): return .failure(r)
        case .success(let t): tables = t
        }
        guard !tables.contains(where: { $0.addresses.contains(tipAccount) }) else {
            return .failure(Refusal("build", "noTipAccount", "the tip account is in the guarded route's lookup tables"))
        }
        var plan = SolanaTransactionBuilder.Plan(payer: wallet.publicKey, routes: routes, unitLimit: SolanaTransactionBuilder.maxUnits, unitPrice: price,
                                                 tip: (tipAccount, tip), blockhash: blockhash.hash, tables: tables)
        // First for the units it takes, then as it will be sent: that one's balances are the expectation.
        let first: Simulation
        switch await simulate(plan, [wallet.publicKey, ata]) {
        case .failure(let r): return .failure(r)
        case .success(let s): first = s.0
        }
        plan.unitLimit = SolanaTransactionBuilder.unitLimit(simulated: first.unitsConsumed, marginBps: configuration.unitMarginBps)
        // The balances the expectation is measured from, read as late as can be: a trade of ours
        // landing between this read and the simulation would count in the expectation.
        let before: [SolanaAccount?]
        do { before = try await rpc.accounts([wallet.publicKey, ata]) } catch { return .failure(Refusal("read", "rpc", "\(error)")) }
        let (final, tx): (Simulation, SolanaTransaction)
        switch await simulate(plan, [wallet.publicKey, ata]) {
        case .failure(let r): return .failure(r)
        case .success(let s): (final, tx) = s
        }
        guard let lamportsBefore = before[0]?.lamports, let tokensBefore = before[1]?.tokenAccount?.amount,
              final.accounts.count == 2, let lamportsAfter = final.accounts[0]?.lamports, let tokensAfter = final.accounts[1]?.tokenAccount?.amount else {
            return .failure(Refusal("simulate", "noBalances", "the wallet or its \(mint) account was not readable before or after"))
        }
        let expected = Int64(clamping: Int128(lamportsAfter) - Int128(lamportsBefore) + Int128(tokensAfter) - Int128(tokensBefore))
        let fee = SolanaTransactionBuilder.fee(signatures: 1, limit: plan.unitLimit, price: price)
        if let r = risk.profit(expected, fee: fee, tip: tip) { return .failure(r) }
        return .success(Built(tx: tx, blockhash: blockhash, expected: expected, simulatedSlot: final.slot, fee: fee, tip: tip))
    }

    /// Signs `plan` and simulates it; an error in the simulation refuses the trade.
    func simulate(_ plan: SolanaTransactionBuilder.Plan, _ accounts: [PublicKey]) async -> Result<(Simulation, SolanaTransaction), Refusal> {
        let tx: SolanaTransaction
        do {
            tx = try SolanaTransactionBuilder.transaction(plan, signer: wallet)
        } catch {
            return .failure(Refusal("build", error.kind.rawValue, error.detail))
        }
        do {
            let s = try await rpc.simulate(tx, accounts: accounts)
            if let err = s.err { return .failure(Refusal("simulate", "failed", "\(err.text) \(s.logs.suffix(2).joined(separator: " | "))")) }
            return .success((s, tx))
        } catch {
            return .failure(Refusal("simulate", "rpc", "\(error)"))
        }
    }
}
