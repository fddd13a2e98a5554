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
        let amountIn = o.amountIn.w0, crossing = leg.amountOut
        // The swap must fetch what detection sized the sale on, and its minimum must guarantee it.
        let built: Built
        let sent = await swapOnce(input: input, output: output, amountIn: amountIn, minimumOut: crossing, maxCost: configuration.maxBridgeCost, after: { account throws(SolanaError) in
            [try bridge.transfer(sender: wallet.publicKey, source: account, mint: output, amount: crossing, targetChain: toChain,
                                 recipient: [UInt8](repeating: 0, count: 12) + recipient.bytes)]
        }, held: &held)
        switch sent {
        case .failure(let r): return .failure(r)
        case .success(let b): built = b
        }
        whenSigned(built.tx.id)
        switch await send(o, built, mint: nil) {
        case .failure(let r): return .failure(r)
        case .success(let trade): return await deposit(trade.signature, slot: trade.slot, bought: UInt256(crossing))
        }
    }

    public func bridgedFate(_ signature: String) async -> BridgeOriginFate {
        switch await signedFate(signature) {
        case .undecided(let why): return .undecided(why)
        case .never(let why): return .never(why)
        case .landed(let tx):
            guard let sequence = TokenBridgeProgram.sequence(logs: tx.logs) else { return .never("\(signature) landed without a bridge message") }
            return .landed(sequence: UInt256(sequence), slot: tx.slot)
        }
    }

    enum SignedFate {
        case landed(LandedTransaction)
        case never(String)
        case undecided(String)
    }

    /// A transaction of ours signed for a bridged trade, by the journal and the cluster: landed
    /// without error (and read), never to land (or failed), or not known yet.
    func signedFate(_ signature: String) async -> SignedFate {
        // A transaction is journaled before it is sent: one signed but never journaled never left.
        let journaled: SolanaTradeRecord?
        do { journaled = try journal.solanaTrade(signature) } catch { return .undecided("the journal could not be read: \(error)") }
        guard let record = journaled else { return .never("\(signature) was signed but never sent") }
        // Refused by the engine and never sent elsewhere, or settled as gone: it cannot land.
        if record.status == .dropped || record.status == .failed { return .never("\(signature) \(record.status.rawValue): \(record.detail)") }
        switch await fate(record) {
        case .open: return .undecided("\(signature) not landed yet (valid to block height \(record.lastValidBlockHeight))")
        case .expired: return .never("\(signature) expired unseen at block height \(record.lastValidBlockHeight)")
        case .landed:
            guard let tx = try? await rpc.transaction(signature) else { return .undecided("\(signature) landed but could not be read") }
            guard tx.err == nil else { return .never("\(signature) failed on chain: \(tx.err!.text)") }
            return .landed(tx)
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
