import EVMPrimitives
import Execution
import Foundation
import MarketWatch
import Opportunities
import SolanaClient
import SolanaPrimitives

/// Leg two of a Solana–EVM trade bought on an EVM chain: the token bridge pays the wallet (its
/// claim account says when, as Wormhole's redeemed messages do), and what arrived is sold back into
/// the quote token through Jupiter, in a transaction of its own sent as a Jito bundle. A sale is
/// not a new trade: it goes also while the executor takes no new ones (a run ending settles it).
extension SolanaExecutor: BridgeDestination {
    public nonisolated var destinationChain: UInt64 { chainID }
    public nonisolated var bridgeRecipient: [UInt8] { wallet.publicKey.bytes }

    public func arrival(fromChain: UInt64, deposit: UInt256, sent: UInt256, sentDecimals: UInt8, asset: [UInt8]) async -> Result<UInt256?, Refusal> {
        guard let bridge = configuration.bridge else { return .failure(Refusal("strategy", "noBridge", "no token bridge program is configured for Solana")) }
        guard deposit <= UInt256(UInt64.max), let mint = try? PublicKey(bytes: asset), let claim = try? bridge.claim(sourceChain: fromChain, sequence: deposit.w0) else {
            return .failure(Refusal("validate", "invalid", "deposit \(deposit) of chain \(fromChain) has no claim account"))
        }
        let read: [SolanaAccount?]
        do { read = try await rpc.accounts([claim, mint]) } catch { return .failure(Refusal("read", "rpc", "\(error)")) }
        guard let claimed = read[0], claimed.owner == bridge.program else { return .success(nil) }
        guard let m = read[1], m.data.count == 82,
              let paid = TokenBridgeProgram.delivered(sent, sentDecimals: sentDecimals, decimals: m.data[44]) else {
            return .failure(Refusal("read", "malformed", "\(mint) is not a mint the bridge can pay \(sent) into"))
        }
        return .success(UInt256(paid))
    }

    public func sellArrived(_ o: Opportunity, amount: UInt256, minimum: UInt256, whenSigned: @escaping @Sendable (String) -> Void) async
        -> Result<BridgeSale, Refusal> {
        guard o.kind == .crossChain, o.chains.last == chainID, let leg = o.solana?.legs.last, o.solana?.legs.count == 1, amount <= UInt256(UInt64.max),
              amount > .zero, let input = try? PublicKey(bytes: leg.mintIn), let output = try? PublicKey(bytes: leg.mintOut) else {
            return .failure(Refusal("validate", "invalid", "not a cross-chain trade sold on Solana in one leg"))
        }
        var held: Set<[UInt8]> = [leg.pool]
        guard busy.isDisjoint(with: held) else { return .failure(Refusal("lock", "poolBusy", "a trade of ours through this pool is unsettled")) }
        guard await jupiter.spare() >= 3 else { return .failure(Refusal("quote", "rateLimited", "a sale needs 3 Jupiter calls")) }
        busy.formUnion(held)
        defer { busy.subtract(held) }
        let floor = minimum <= UInt256(UInt64.max) ? max(1, minimum.w0) : UInt64.max
        let built: Built
        switch await swapOnce(input: input, output: output, amountIn: amount.w0, minimumOut: floor, maxCost: configuration.maxBridgeCost,
                              after: { _ throws(SolanaError) in [] }, held: &held) {
        case .failure(let r): return .failure(r)
        case .success(let b): built = b
        }
        whenSigned(built.tx.id)
        switch await send(o, built, mint: nil) {
        case .failure(let r): return .failure(r)
        case .success(let trade):
            switch await saleFate(trade.signature, quote: leg.mintOut) {
            case .sold(let proceeds): return .success(BridgeSale(transaction: trade.signature, proceeds: proceeds))
            case .never(let why): return .failure(Refusal("inclusion", "failed", why))
            case .undecided(let why): return .failure(Refusal("inclusion", "pending", why))
            }
        }
    }

    public func saleFate(_ signature: String, quote: [UInt8]) async -> BridgeSaleFate {
        guard let mint = try? PublicKey(bytes: quote) else { return .never("\(Hex.encode(quote)) is not a mint") }
        switch await signedFate(signature) {
        case .undecided(let why): return .undecided(why)
        case .never(let why): return .never(why)
        case .landed(let tx):
            let proceeds = Int128(tx.tokens(of: wallet.publicKey, mint: mint, pre: false)) - Int128(tx.tokens(of: wallet.publicKey, mint: mint, pre: true))
            guard proceeds > 0 else { return .never("\(signature) landed without fetching any \(mint)") }
            return .sold(proceeds: UInt256(UInt64(proceeds)))
        }
    }
}
