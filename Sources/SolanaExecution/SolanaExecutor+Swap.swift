import EVMPrimitives
import Execution
import Foundation
import MarketWatch
import Opportunities
import SolanaClient
import SolanaPrimitives

/// One Jupiter swap in a transaction of its own, the sides of Solana–EVM trades: the buy that the
/// token bridge's transfer follows in the same transaction, and the sale of what the bridge paid.
extension SolanaExecutor {
    /// Exactly `amountIn` of `input` for at least `minimumOut` of `output`: Jupiter's quote must
    /// fetch it (else `requote:moved`) and its on-chain minimum is raised to it (else
    /// `risk:unprotected`); `after(output account)` follows the swap in the same transaction.
    /// Simulated for its units, then as it will be sent. Its expected effect on the wallet's
    /// lamports is computed, not read against the simulation (our other trades land in between:
    /// a round trip's 12.8 M-lamport tip once counted as a bridge's cost): the fee, the tip, and
    /// the output account's rent when the route creates it. `held`: the pools locked for it.
    func swapOnce(input: PublicKey, output: PublicKey, amountIn: UInt64, minimumOut: UInt64, maxCost: UInt64,
                  after: (PublicKey) throws(SolanaError) -> [Instruction], held: inout Set<[UInt8]>) async -> Result<Built, Refusal> {
        if let r = risk.take(.rpc, now: .now) { return .failure(r) }
        let quote: JupiterQuote, swap: JupiterInstructions
        do {
            var q = try await jupiter.quote(input: input, output: output, amount: amountIn, slippageBps: configuration.slippageBps)
            guard q.outAmount >= minimumOut else {
                return .failure(Refusal("requote", "moved", "at least \(minimumOut) of \(output) for \(amountIn) needed, Jupiter quotes \(q.outAmount)"))
            }
            if q.otherAmountThreshold < minimumOut {
                let bps = UInt16(UInt128(q.outAmount - minimumOut) * 10_000 / UInt128(q.outAmount))
                q = try await jupiter.quote(input: input, output: output, amount: amountIn, slippageBps: bps)
                guard q.otherAmountThreshold >= minimumOut else {
                    return .failure(Refusal("risk", "unprotected", "the swap's minimum \(q.otherAmountThreshold) is below the \(minimumOut) it must fetch"))
                }
            }
            (quote, swap) = (q, try await jupiter.swapInstructions(q, user: wallet.publicKey))
        } catch {
            return .failure(Refusal("quote", error.kind.rawValue, error.message))
        }
        let routed = Set(quote.pools.map(\.bytes)).subtracting(held)
        guard busy.isDisjoint(with: routed) else { return .failure(Refusal("lock", "poolBusy", "Jupiter routes through a pool an unsettled trade of ours holds")) }
        busy.formUnion(routed)
        held.formUnion(routed)
        let tables: [AddressLookupTable]
        switch await lookupTables(swap.lookupTables) {
        case .failure(let r): return .failure(r)
        case .success(let t): tables = t
        }
        guard let tipAccount = await tipAccount(avoiding: tables) else { return .failure(Refusal("build", "noTipAccount", "no tip account outside the route's lookup tables")) }
        // The tip: Jito's floor, at most `maxCost` (its profit is on the other chain, not here to share).
        let tip = min(await tip(gross: 0), maxCost)
        let extra: [Instruction], inputAccount: PublicKey, outputAccount: PublicKey
        let blockhash: Blockhash, height: UInt64, fees: [UInt64], before: [SolanaAccount?]
        do {
            inputAccount = try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: input)
            outputAccount = try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: output)
            extra = try after(outputAccount)
            (blockhash, height) = (try await rpc.latestBlockhash(), try await rpc.blockHeight())
            before = try await rpc.accounts([inputAccount, outputAccount])
            fees = try await rpc.recentPrioritizationFees(Array(Set(swap.swap.accounts.filter(\.isWritable).map(\.pubkey))).sorted()).map(\.microLamports)
        } catch {
            return .failure(Refusal("read", "rpc", "\(error)"))
        }
        if let r = risk.blockhash(blockhash, height: height) { return .failure(r) }
        let price = SolanaTransactionBuilder.unitPrice(recent: fees, percentile: configuration.feePercentile, cap: configuration.maxUnitPrice)
        var plan = SolanaTransactionBuilder.Plan(payer: wallet.publicKey, routes: [swap], unitLimit: SolanaTransactionBuilder.maxUnits, unitPrice: price,
                                                 tip: (tipAccount, tip), blockhash: blockhash.hash, tables: tables, after: extra)
        let first: Simulation
        switch await simulate(plan, [outputAccount]) {
        case .failure(let r): return .failure(r)
        case .success(let s): first = s.0
        }
        plan.unitLimit = SolanaTransactionBuilder.unitLimit(simulated: first.unitsConsumed, marginBps: configuration.unitMarginBps)
        switch await simulate(plan, [outputAccount]) {
        case .failure(let r): return .failure(r)
        case .success(let (final, tx)):
            let fee = SolanaTransactionBuilder.fee(signatures: 1, limit: plan.unitLimit, price: price)
            guard fee <= maxCost else { return .failure(Refusal("risk", "bridgeCost", "fee \(fee) above \(maxCost) lamports")) }
            guard let funds = before[0]?.tokenAccount?.amount, funds >= amountIn else {
                return .failure(Refusal("strategy", "noCapital", "the wallet holds less than \(amountIn) of \(input)"))
            }
            // The input spent is exactly `amountIn` (the swap is exact-in; the landed balances say so).
            let rent = before[1] == nil ? (final.accounts.first??.lamports ?? 0) : 0
            let expected = -Int64(clamping: Int128(fee) + Int128(tip) + Int128(rent))
            return .success(Built(tx: tx, blockhash: blockhash, expected: expected, simulatedSlot: final.slot, fee: fee, tip: tip))
        }
    }
}
