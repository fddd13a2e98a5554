import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

extension ExecutionEngine {
    func simulateAndSubmit(_ chain: ExecutionChain, sender: Sender, plan: TradePlan, signed: SignedTransaction, submission: Int64, target: UInt64,
                                   clock: inout StageClock) async -> Result<Void, Refusal> {
        // The call itself, from our key, on the latest state: the contract must return exactly
        // what the re-quote expects (a difference means our state and the chain's disagree).
        // A bundle lands at the top of the next block: the latest state. A transaction joins the
        // block being built: the pending state, after what is already in it.
        let bundled = chain.route.isBundle
        do {
            guard let profit = try await chain.eth.simulate(from: sender.key.address, to: plan.executor, data: plan.calldata, pending: !bundled) else {
                return .failure(Refusal("simulate", "malformed", "eth_call answer is not one word"))
            }
            guard profit == plan.expectedProfit else {
                return .failure(Refusal("simulate", bundled ? "mismatch" : "pendingMoved",
                                        "the executor returns \(profit), the re-quote expects \(plan.expectedProfit)"))
            }
        } catch {
            // On the pending state, a revert means transactions ahead of ours took the gap.
            return .failure(Refusal("simulate", error.code == .server ? (bundled ? "reverted" : "pendingMoved") : "failed", ExecutorCall.revertReason(error)))
        }
        switch chain.route {
        case .flashbots(let relay):
            let txs = plan.bundlePrefix + [signed.raw]
            do {
                let sim = try await relay.callBundle(txs, block: target)
                if let f = sim.failure { return .failure(Refusal("simulate", "bundleReverted", f)) }
            } catch {
                return .failure(Refusal("simulate", "bundleFailed", "\(error)"))
            }
            clock.mark("simulate", &report, rpc: true)
            // The chain moved while simulating: the state it was simulated on is gone.
            if let head = try? await chain.eth.blockNumber(), head >= target {
                return .failure(Refusal("simulate", "outrun", "block \(head) arrived during simulation for \(target)"))
            }
            // Journaled as sent first: a restart between here and the answer waits the target out
            // (a bundle may land without us hearing back).
            try? journal.updateSubmission(submission, status: .submitted, targetBlock: target, lastBlock: target, at: WallClock.nanoseconds())
            do {
                _ = try await relay.sendBundle(txs, block: target)
            } catch {
                // The target block arrived between the check above and the send: outrun, as above.
                if "\(error)".contains("in the past") { return .failure(Refusal("simulate", "outrun", "\(error)")) }
                if mayHaveBeenAccepted(error) { return .failure(Refusal("submit", "unanswered", "\(error)")) }
                return .failure(Refusal("submit", "relayRefused", "\(error)"))
            }
        case .privateRPC(let rpc), .publicMempool(let rpc):
            clock.mark("simulate", &report, rpc: true)
            do {
                _ = try await rpc.sendRawTransaction(signed.raw)
            } catch {
                let m = error.message.lowercased()
                if m.contains("nonce too low") || m.contains("invalid transaction nonce") {
                    // The chain is past our nonce (another sender of the key, a lost record): take the chain's.
                    try? await sender.nonces.resync()
                    return .failure(Refusal("submit", "nonceTooLow", error.message))
                }
                if mayHaveBeenAccepted(error) { return .failure(Refusal("submit", "unanswered", error.message)) }
                return .failure(Refusal("submit", m.contains("underpriced") ? "underpriced" : "rejected", error.message))
            }
        }
        clock.mark("submit", &report, rpc: true)
        return .success(())
    }
}
