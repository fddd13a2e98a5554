import EVMPrimitives
import Execution
import Foundation
import MarketWatch
import Opportunities
import SolanaClient
import SolanaPrimitives

/// Leg one of a Solana–EVM trade starting on Solana: the asset bought with the quote token through
/// Jupiter and sent across by the token bridge in the same transaction, so that either both
/// happen or neither (a swap that buys less than the transfer sends fails the whole transaction).
/// What crosses is exactly what detection sized the sale on the other chain for: the swap's
/// on-chain minimum is raised to cover it, or the trade is refused.
extension SolanaExecutor: BridgeOrigin {
    public nonisolated var originChain: UInt64 { chainID }

    public func buyAndBridge(_ o: Opportunity, toChain: UInt64, recipient: Address,
                             whenSigned: @escaping @Sendable (String) -> Void) async -> Result<BridgeOriginSent, Refusal> {
        guard let bridge = configuration.bridge else {
            return .failure(Refusal("strategy", "noBridge", "no token bridge program is configured for Solana"))
        }
        guard accepting else { return .failure(Refusal("strategy", "closed", "no new trades: the run is ending")) }
        guard o.kind == .crossChain, o.chains.first == chainID, let route = o.solana, route.legs.count == 1, o.amountIn <= UInt256(UInt64.max),
              let leg = route.legs.first, let input = try? PublicKey(bytes: leg.mintIn), let output = try? PublicKey(bytes: leg.mintOut) else {
            return .failure(Refusal("validate", "invalid", "not a cross-chain trade bought on Solana in one leg"))
        }
        guard o.expiresAt > WallClock.nanoseconds() else { return .failure(Refusal("validate", "expired")) }
        var held: Set<[UInt8]> = [leg.pool]
        guard busy.isDisjoint(with: held) else { return .failure(Refusal("lock", "poolBusy", "a trade of ours through this pool is unsettled")) }
        guard await jupiter.spare() >= 3 else { return .failure(Refusal("quote", "rateLimited", "a bridged buy needs 3 Jupiter calls")) }
        busy.formUnion(held)
        defer { busy.subtract(held) }
        if let r = risk.take(.rpc, now: .now) { return .failure(r) }
        let amountIn = o.amountIn.w0, crossing = leg.amountOut
        // The quote must buy what detection sized the sale on, and its minimum must guarantee it.
        let quote: JupiterQuote, swap: JupiterInstructions
        do {
            var q = try await jupiter.quote(input: input, output: output, amount: amountIn, slippageBps: configuration.slippageBps)
            guard q.outAmount >= crossing else {
                return .failure(Refusal("requote", "moved", "detected \(crossing) of \(output) for \(amountIn), Jupiter quotes \(q.outAmount)"))
            }
            if q.otherAmountThreshold < crossing {
                let bps = UInt16(UInt128(q.outAmount - crossing) * 10_000 / UInt128(q.outAmount))
                q = try await jupiter.quote(input: input, output: output, amount: amountIn, slippageBps: bps)
                guard q.otherAmountThreshold >= crossing else {
                    return .failure(Refusal("risk", "unprotected", "the swap's minimum \(q.otherAmountThreshold) is below the \(crossing) the bridge must send"))
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
        let tip = await tip(gross: 0)
        let transfer: Instruction, inputAccount: PublicKey, outputAccount: PublicKey
        let blockhash: Blockhash, height: UInt64, fees: [UInt64], before: [SolanaAccount?]
        do {
            inputAccount = try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: input)
            outputAccount = try PublicKey.associatedTokenAddress(owner: wallet.publicKey, mint: output)
            transfer = try bridge.transfer(sender: wallet.publicKey, source: outputAccount, mint: output, amount: crossing, targetChain: toChain,
                                           recipient: [UInt8](repeating: 0, count: 12) + recipient.bytes)
            (blockhash, height) = (try await rpc.latestBlockhash(), try await rpc.blockHeight())
            before = try await rpc.accounts([inputAccount, outputAccount])
            fees = try await rpc.recentPrioritizationFees(Array(Set(swap.swap.accounts.filter(\.isWritable).map(\.pubkey))).sorted()).map(\.microLamports)
        } catch {
            return .failure(Refusal("read", "rpc", "\(error)"))
        }
        if let r = risk.blockhash(blockhash, height: height) { return .failure(r) }
        let price = SolanaTransactionBuilder.unitPrice(recent: fees, percentile: configuration.feePercentile, cap: configuration.maxUnitPrice)
        var plan = SolanaTransactionBuilder.Plan(payer: wallet.publicKey, routes: [swap], unitLimit: SolanaTransactionBuilder.maxUnits, unitPrice: price,
                                                 tip: (tipAccount, tip), blockhash: blockhash.hash, tables: tables, after: [transfer])
        let first: Simulation
        switch await simulate(plan, [outputAccount]) {
        case .failure(let r): return .failure(r)
        case .success(let s): first = s.0
        }
        plan.unitLimit = SolanaTransactionBuilder.unitLimit(simulated: first.unitsConsumed, marginBps: configuration.unitMarginBps)
        let built: Built
        switch await simulate(plan, [outputAccount]) {
        case .failure(let r): return .failure(r)
        case .success(let (final, tx)):
            let fee = SolanaTransactionBuilder.fee(signatures: 1, limit: plan.unitLimit, price: price)
            guard fee <= configuration.maxBridgeCost, tip <= configuration.maxBridgeCost else {
                return .failure(Refusal("risk", "bridgeCost", "fee \(fee) or tip \(tip) above \(configuration.maxBridgeCost) lamports"))
            }
            guard let held = before[0]?.tokenAccount?.amount, held >= amountIn else {
                return .failure(Refusal("strategy", "noCapital", "the wallet holds less than \(amountIn) of \(input)"))
            }
            // What the wallet's lamports change by: the fee, the tip, and the rent of the output
            // account when the route creates it (ours alone: nothing else creates it meanwhile).
            // Not a balance read before against the simulation: our other trades land in between
            // (a round trip's tip moved it by 12.8 M lamports in a CI run). The input spent is
            // exactly `amountIn` (the swap is exact-in; the landed transaction's balances say so).
            let rent = before[1] == nil ? (final.accounts.first??.lamports ?? 0) : 0
            let expected = -Int64(clamping: Int128(fee) + Int128(tip) + Int128(rent))
            built = Built(tx: tx, blockhash: blockhash, expected: expected, simulatedSlot: final.slot, fee: fee, tip: tip)
        }
        whenSigned(built.tx.id)
        switch await send(o, built, mint: nil) {
        case .failure(let r): return .failure(r)
        case .success(let trade): return await deposit(trade.signature, slot: trade.slot, bought: UInt256(crossing))
        }
    }

    public func bridgedFate(_ signature: String) async -> BridgeOriginFate {
        // A transaction is journaled before it is sent: one signed but never journaled never left.
        let journaled: SolanaTradeRecord?
        do { journaled = try journal.solanaTrade(signature) } catch { return .undecided("the journal could not be read: \(error)") }
        guard let record = journaled else { return .never("\(signature) was signed but never sent") }
        switch await fate(record) {
        case .open: return .undecided("\(signature) not landed yet (valid to block height \(record.lastValidBlockHeight))")
        case .expired: return .never("\(signature) expired unseen at block height \(record.lastValidBlockHeight)")
        case .landed:
            guard let tx = try? await rpc.transaction(signature) else { return .undecided("\(signature) landed but could not be read") }
            guard tx.err == nil else { return .never("\(signature) failed on chain: \(tx.err!.text)") }
            guard let sequence = TokenBridgeProgram.sequence(logs: tx.logs) else { return .never("\(signature) landed without a bridge message") }
            return .landed(sequence: UInt256(sequence), slot: tx.slot)
        }
    }

    /// The bridge message a landed transfer posted, from its logs.
    func deposit(_ signature: String, slot: UInt64, bought: UInt256) async -> Result<BridgeOriginSent, Refusal> {
        switch await bridgedFate(signature) {
        case .landed(let sequence, let slot):
            return .success(BridgeOriginSent(transaction: signature, deposit: sequence, bought: bought, slot: slot))
        case .never(let why): return .failure(Refusal("inclusion", "noDeposit", why))
        case .undecided(let why): return .failure(Refusal("inclusion", "pending", why))
        }
    }
}
