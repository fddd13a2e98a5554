import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// Simulation and the send: the driver's side of the core's `simulate` and `submit` actions.
extension ExecutionEngine {
    /// The call itself, from our key: the contract must return exactly what the re-quote expects
    /// (a difference means our state and the chain's disagree). A bundle lands at the top of the
    /// next block: the latest state, then `eth_callBundle` at the relay, and outrun if the chain
    /// reached `target` meanwhile. A transaction joins the block being built: the pending state,
    /// after what is already in it.
    func simulate(_ t: Signed, target: UInt64) async -> Result<Void, Refusal> {
        let bundled = t.chain.route.isBundle
        // A backrun's trade runs only behind its target: it is simulated in its bundle alone (its
        // minimum profit is the re-quote's, so the bundle fails if it would return less).
        if t.plan.bundlePrefix.isEmpty {
            if let r = await simulateAlone(t, target: target, bundled: bundled) { return .failure(r) }
        }
        guard case .flashbots(let relay) = t.chain.route else { return .success(()) }
        do {
            let sim = try await relay.callBundle(t.plan.bundlePrefix + [t.signed.raw], block: target)
            if let f = sim.failure { return .failure(Refusal("simulate", "bundleReverted", f)) }
        } catch {
            return .failure(Refusal("simulate", "bundleFailed", "\(error)"))
        }
        // The chain moved while simulating: the state it was simulated on is gone.
        if let head = try? await t.chain.eth.blockNumber(), head >= target {
            return .failure(Refusal("simulate", "outrun", "block \(head) arrived during simulation for \(target)"))
        }
        return .success(())
    }

    /// `eth_call` of the trade alone; the refusal, if any.
    func simulateAlone(_ t: Signed, target: UInt64, bundled: Bool) async -> Refusal? {
        do {
            guard let profit = try await t.chain.eth.simulate(from: t.sender.key.address, to: t.plan.executor, data: t.plan.calldata, pending: !bundled) else {
                return Refusal("simulate", "malformed", "eth_call answer is not one word")
            }
            guard profit == t.plan.expectedProfit else {
                let detail = "the executor returns \(profit), the re-quote expects \(t.plan.expectedProfit)"
                if bundled, let moved = await movedOn(t, target: target, detail) { return moved }
                return Refusal("simulate", bundled ? "mismatch" : "pendingMoved", detail)
            }
        } catch {
            // On the pending state, a revert means transactions ahead of ours took the gap.
            if bundled, error.code == .server, let moved = await movedOn(t, target: target, ExecutorCall.revertReason(error)) { return moved }
            return Refusal("simulate", error.code == .server ? (bundled ? "reverted" : "pendingMoved") : "failed", ExecutorCall.revertReason(error))
        }
        return nil
    }

    /// A bundle's simulation on the latest state disagreed with its re-quote: if the chain has
    /// reached `target` (the latest state is no longer the one quoted on), it was outrun, not
    /// wrong (the core re-quotes on the new state); nil when the state was ours (a real mismatch).
    func movedOn(_ t: Signed, target: UInt64, _ detail: String) async -> Refusal? {
        guard let head = try? await t.chain.eth.blockNumber(), head >= target else { return nil }
        return Refusal("simulate", "outrun", "block \(head) arrived before simulation for \(target): \(detail)")
    }

    /// `eth_sendBundle` for `target` (journaled as sent first: a restart between here and the
    /// answer waits the target out, a bundle may land without us hearing back), else
    /// `eth_sendRawTransaction` to the route's endpoint. No answer is `submit:unanswered` (it may
    /// have been taken); only the relay's or node's own error is a refusal.
    func send(_ t: Signed, target: UInt64) async -> Result<Void, Refusal> {
        switch t.chain.route {
        case .flashbots(let relay):
            try? journal.updateSubmission(t.submission, status: .submitted, targetBlock: target, lastBlock: target, at: WallClock.nanoseconds())
            do {
                _ = try await relay.sendBundle(t.plan.bundlePrefix + [t.signed.raw], block: target)
            } catch {
                // The target block arrived between the simulation's check and the send: outrun.
                if "\(error)".contains("in the past") { return .failure(Refusal("simulate", "outrun", "\(error)")) }
                if mayHaveBeenAccepted(error) { return .failure(Refusal("submit", "unanswered", "\(error)")) }
                return .failure(Refusal("submit", "relayRefused", "\(error)"))
            }
        case .privateRPC(let rpc), .publicMempool(let rpc):
            do {
                _ = try await rpc.sendRawTransaction(t.signed.raw)
            } catch {
                let m = error.message.lowercased()
                if m.contains("nonce too low") || m.contains("invalid transaction nonce") {
                    // The chain is past our nonce (another sender of the key, a lost record): take the chain's.
                    try? await t.sender.nonces.resync()
                    return .failure(Refusal("submit", "nonceTooLow", error.message))
                }
                if mayHaveBeenAccepted(error) { return .failure(Refusal("submit", "unanswered", error.message)) }
                return .failure(Refusal("submit", m.contains("underpriced") ? "underpriced" : "rejected", error.message))
            }
        }
        return .success(())
    }
}

extension ExecutionEngine {
    /// How many keys each chain sends from (each sends one trade at a time).
    public nonisolated var sendersPerChain: [UInt64: Int] { chains.mapValues { max(1, $0.keys.count) } }
}
