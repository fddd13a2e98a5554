import EVMCodec
import EVMPrimitives
import EthClient
import MarketWatch
import Opportunities
import Synchronization

/// After leg one of a trade sold on a `BridgeDestination` (Solana): the bridge pays our wallet
/// there, and the destination's side sells what arrived, with the same limits as a sale on an EVM
/// chain: at no less than the quote spent until `maxHoldNanoseconds`, then at the market; `held`
/// after `maxSaleAttempts` sales that failed. A sale signed and not settled is looked at before
/// another is tried (two sales of one arrival: the second can only fail).
extension CrossChainExecutor {
    static let decimals = try! FunctionSignature("decimals() returns (uint8)")

    /// Waits for the destination to have paid the transfer, up to `maxFillWait`; true once it arrived.
    func awaitArrival(_ t: inout BridgeTransfer, at destination: any BridgeDestination) async -> Bool {
        guard let id = t.depositID, let leg = t.opportunity.solana?.legs.last, let buy = t.opportunity.path.first, let from = legs[t.fromChain] else { return false }
        let deadline = ContinuousClock.now + configuration.maxFillWait
        var decimals: UInt8?
        while !Task.isCancelled {
            if decimals == nil, let d = await from.eth.word(buy.tokenOut, Self.decimals, []), d <= UInt256(77) { decimals = UInt8(d.w0) }
            if let decimals, case .success(let paid?) = await destination.arrival(fromChain: t.fromChain, deposit: id, sent: t.bought, sentDecimals: decimals,
                                                                               asset: leg.mintIn) {
                (t.received, t.status) = (paid, .arrived)
                update(t)
                return true
            }
            guard ContinuousClock.now < deadline else {
                t.detail = "not paid on chain \(t.toChain) within \(configuration.maxFillWait); followed again at the next start"
                update(t)
                return false
            }
            try? await Task.sleep(for: configuration.poll)
        }
        return false
    }

    /// Sells what arrived on the destination; sold, or held after its attempts (a stop leaves it as it is).
    func sellOnDestination(_ t: inout BridgeTransfer, _ destination: any BridgeDestination) async {
        guard let received = t.received, let quote = t.opportunity.solana?.legs.last?.mintOut else { return }
        let began = WallClock.nanoseconds()
        var attempts = 0
        while !Task.isCancelled {
            if !t.sellTx.isEmpty {
                // A sale signed before (this run or the last): its fate first.
                switch await destination.saleFate(t.sellTx, quote: quote) {
                case .sold(let proceeds):
                    (t.proceeds, t.status) = (proceeds, .sold)
                    update(t)
                    return
                case .never(let why):
                    (t.sellTx, t.detail) = ("", why)
                    update(t)
                case .undecided:
                    try? await Task.sleep(for: configuration.poll)
                    continue
                }
            }
            guard attempts < configuration.maxSaleAttempts else {
                (t.status, t.detail) = (.held, "held after \(attempts) sale attempt(s): \(t.detail); sold at the next start")
                update(t)
                return
            }
            // At no loss until the hold limit, then at the market.
            let minimum = WallClock.nanoseconds() &- began >= configuration.maxHoldNanoseconds ? UInt256.one : t.amountIn
            let signedAs = Signed()
            let sale = await destination.sellArrived(t.opportunity, amount: received, minimum: minimum, whenSigned: { tx in
                signedAs.set(tx)
            })
            switch sale {
            case .success(let s):
                (t.sellTx, t.proceeds, t.status) = (s.transaction, s.proceeds, .sold)
                update(t)
                return
            case .failure(let r):
                t.detail = r.description
                if let tx = signedAs.value { t.sellTx = tx }
                update(t)
                // A price short of the quote spent, or a pool a trade of ours holds: waited for, not an attempt.
                if !(r.stage == "requote" && r.reason == "moved") && !(r.stage == "lock") && !(r.stage == "quote" && r.reason == "rateLimited") { attempts += 1 }
                try? await Task.sleep(for: configuration.poll)
            }
        }
    }
}

/// The transaction id a sale was signed with, set from the destination's callback.
final class Signed: Sendable {
    private let id = Mutex<String?>(nil)
    func set(_ v: String) { id.withLock { $0 = v } }
    var value: String? { id.withLock { $0 } }
}
