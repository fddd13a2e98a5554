import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import Pipeline

/// What `arbiter lab` reports of statistical arbitrage: each chain's detector (pairs, warm-up,
/// signals), every position of the run (open ones marked to market, closed ones with their
/// realized P&L), the strategy's refusals, and the check that the positions' inventory moved by
/// exactly what the journal says: per token, the executor's balance change over the run against
/// Σ closed (proceeds − sold) − Σ open sold + Σ open bought, to the wei.
struct PositionReport {
    /// One token's balance in a position inventory, before the first live block and at the end.
    struct Check {
        var chain: UInt64
        var executor: Address
        var token: Address
        var before: UInt256
        var after: UInt256
        var expected: Int256
        var delta: Int256 { Int256(bitPattern: after) &- Int256(bitPattern: before) }
    }

    var detection: [StatisticalArbitrageService] = []
    var positions: [StatPosition] = []
    var marks: [String: Int256] = [:]
    var refusals: [String: Int] = [:]
    var checks: [Check] = []
    /// Why the balances were not checked (a swap still in doubt, a read that failed).
    var unchecked: String? = nil

    var mismatches: Int { checks.filter { $0.delta != $0.expected }.count }

    /// Every token balance of each inventory at its chain's head.
    static func balances(_ inventories: [OwnCapitalAccount], tokens: [Address]) async -> [String: UInt256]? {
        var out: [String: UInt256] = [:]
        for a in inventories {
            guard let head = await retried({ try? await a.eth.blockNumber() }) else { return nil }
            for t in tokens {
                guard let b = await retried({ await a.eth.balance(of: a.executor, token: t, block: head) }) else { return nil }
                out["\(a.chainID) \(t.checksummed)"] = b
            }
        }
        return out
    }

    /// `read` until it answers, at most three times 250 ms apart (a devnet busy at the run's end).
    static func retried<T>(_ read: () async -> T?) async -> T? {
        for attempt in 0..<3 {
            if let v = await read() { return v }
            if attempt < 2 { try? await Task.sleep(for: .milliseconds(250)) }
        }
        return nil
    }

    /// The run's positions (those not in the journal at its start) against the balances.
    mutating func check(_ inventories: [OwnCapitalAccount], tokens: [Address], before: [String: UInt256]?, after: [String: UInt256]?) {
        guard let before, let after else {
            unchecked = "a balance read failed"
            return
        }
        var expected: [String: Int256] = [:]
        for chain in Set(positions.map(\.chainID)) {
            let here = positions.filter { $0.chainID == chain }
            guard let changes = StatPosition.inventoryChanges(here) else {
                let doubt = here.first { $0.status == .opening || $0.status == .closing }
                unchecked = "position \(doubt.map { Hex.encode($0.id) } ?? "?") is still \(doubt?.status.rawValue ?? "in doubt"): its swap's fate is settled at the next start"
                return
            }
            for (token, v) in changes { expected["\(chain) \(token.checksummed)"] = v }
        }
        for a in inventories {
            for t in tokens {
                let k = "\(a.chainID) \(t.checksummed)"
                guard let b = before[k], let c = after[k] else { continue }
                checks.append(Check(chain: a.chainID, executor: a.executor, token: t, before: b, after: c, expected: expected[k] ?? .zero))
            }
        }
    }

    func json(_ symbols: [Address: (String, Int)]) -> JSONValue {
        func symbol(_ a: Address) -> JSONValue { .string(symbols[a]?.0 ?? a.checksummed) }
        return .object([
            ("detection", .array(detection.map { d in
                let s = d.status
                return .object([
                    ("chainId", .number(String(d.watcher.configuration.chainID))), ("pairs", .array(s.pairs.map(JSONValue.string))),
                    ("skipped", .array(s.skipped.map(JSONValue.string))), ("backfilled", .number(String(s.backfilled))),
                    ("updates", .number(String(s.updates))), ("crossings", .number(String(s.detector.crossings))),
                    ("signals", .number(String(s.detector.signals))), ("published", .number(String(s.published))),
                    ("refusedByGate", .object([("lowCorrelation", .number(String(s.detector.lowCorrelation))),
                                               ("notCointegrated", .number(String(s.detector.notCointegrated))),
                                               ("trending", .number(String(s.detector.trending))), ("beyondStop", .number(String(s.beyondStop))),
                                               ("belowEdge", .number(String(s.belowEdge))), ("unsized", .number(String(s.unsized)))])),
                ])
            })),
            ("positions", .array(positions.map { p in
                .object([
                    ("id", .string(Hex.encode(p.id))), ("chainId", .number(String(p.chainID))), ("pair", .number(String(p.pair))),
                    ("sold", symbol(p.sold)), ("bought", symbol(p.bought)), ("status", .string(p.status.rawValue)),
                    ("closeReason", p.closeReason.map { .string($0.rawValue) } ?? .null), ("entryZ", .number(String(p.entryZ))),
                    ("openedBlock", .number(String(p.openedBlock))), ("amountSold", .string(p.amountSold.description)),
                    ("amountBought", p.amountBought.map { .string($0.description) } ?? .null),
                    ("proceeds", p.proceeds.map { .string($0.description) } ?? .null),
                    ("realized", p.realized.map { .string($0.description) } ?? .null),
                    ("markToMarket", marks[Hex.encode(p.id)].map { .string($0.description) } ?? .null),
                    ("openTx", .string(p.openTx)), ("closeTx", .string(p.closeTx)), ("detail", .string(p.detail)),
                ])
            })),
            ("refused", .object(refusals.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })),
            ("balances", .array(checks.map { c in
                .object([("chainId", .number(String(c.chain))), ("token", symbol(c.token)), ("before", .string(c.before.description)),
                         ("after", .string(c.after.description)), ("delta", .string(c.delta.description)), ("expected", .string(c.expected.description))])
            })),
            ("unchecked", unchecked.map(JSONValue.string) ?? .null), ("mismatches", .number(String(mismatches))),
        ])
    }

    func lines(_ symbols: [Address: (String, Int)]) -> [String] {
        var out: [String] = []
        for d in detection {
            let s = d.status
            out.append("  statistical arbitrage on \(d.watcher.configuration.chainID): pairs \(s.pairs.joined(separator: ", ")); warmed up on \(s.backfilled) blocks; "
                       + "\(s.detector.crossings) band crossings, \(s.detector.signals) past the gates, \(s.published) published")
        }
        for p in positions {
            let sold = symbols[p.sold]?.0 ?? p.sold.checksummed, bought = symbols[p.bought]?.0 ?? p.bought.checksummed
            let outcome = p.realized.map { "realized \($0) \(sold) units (\(p.closeReason?.rawValue ?? "-"))" }
                ?? marks[Hex.encode(p.id)].map { "marked \($0) \(sold) units" } ?? p.detail
            out.append("  position pair \(p.pair) sold \(p.amountSold) \(sold) for \(p.amountBought.map(\.description) ?? "-") \(bought) at z \(String(format: "%.2f", p.entryZ)): \(p.status.rawValue), \(outcome)")
        }
        for (k, v) in refusals.sorted(by: { $0.value > $1.value }) { out.append("  position refused \(k): \(v)") }
        for c in checks where c.delta != c.expected {
            out.append("  INVENTORY DIFFERENT: chain \(c.chain) \(symbols[c.token]?.0 ?? c.token.checksummed): balance moved \(c.delta), positions say \(c.expected)")
        }
        if let unchecked { out.append("  inventory not checked: \(unchecked)") } else if !checks.isEmpty {
            out.append("  inventory: \(checks.count) balances moved exactly as the positions say")
        }
        return out
    }
}
