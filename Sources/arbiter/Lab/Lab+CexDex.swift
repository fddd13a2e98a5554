import EVMCodec
import EVMPrimitives
import Execution
import Feeds
import Foundation
import Pipeline

/// What `arbiter lab` reports of CEX–DEX trading: the feed (messages, integrity), each chain's
/// detector, every DEX leg (its profit against the fair value as detection, our state at
/// submission and the receipt give it), the hedge intents journaled, the refusals, and the check
/// that the inventory moved by exactly the legs' amounts, to the wei.
struct CexDexReport {
    var detection: [CexDexService] = []
    var feed: BinanceFeed.Status
    var trades: [CexDexExecutor.Trade] = []
    var refusals: [String: Int] = [:]
    var hedges = 0
    var checks: [PositionReport.Check] = []
    var unchecked: String? = nil

    init(detection: [CexDexService], feed: BinanceFeed.Status) {
        self.detection = detection
        self.feed = feed
    }

    /// Legs whose realized profit is below what was expected when sent (the swap's minimum is
    /// the quote, so less means the accounting is wrong), and inventory balances that moved
    /// otherwise than the legs say.
    var mismatches: Int { trades.filter { $0.realized < $0.expected }.count + checks.filter { $0.delta != $0.expected }.count }
    /// Legs whose realized profit equals detection's, to the wei.
    var asDetected: Int { trades.filter { $0.realized == $0.detected }.count }

    mutating func check(_ inventories: [OwnCapitalAccount], tokens: [Address], before: [String: UInt256]?, after: [String: UInt256]?,
                        inDoubt: [String] = []) {
        guard let before, let after else {
            unchecked = "a balance read failed"
            return
        }
        if let first = inDoubt.first {
            unchecked = "leg \(first) (and \(inDoubt.count - 1) more) was sent and its fate not known at the stop: the next start settles it"
            return
        }
        var expected: [String: Int256] = [:]
        for t in trades {
            expected["\(t.chainID) \(t.tokenIn.checksummed)", default: .zero] = expected["\(t.chainID) \(t.tokenIn.checksummed)", default: .zero] &- Int256(bitPattern: t.amountIn)
            expected["\(t.chainID) \(t.tokenOut.checksummed)", default: .zero] = expected["\(t.chainID) \(t.tokenOut.checksummed)", default: .zero] &+ Int256(bitPattern: t.amountOut)
        }
        for a in inventories {
            for tok in tokens {
                let k = "\(a.chainID) \(tok.checksummed)"
                guard let b = before[k], let c = after[k] else { continue }
                checks.append(PositionReport.Check(chain: a.chainID, executor: a.executor, token: tok, before: b, after: c, expected: expected[k] ?? .zero))
            }
        }
    }

    func json(_ symbols: [Address: (String, Int)]) -> JSONValue {
        func n(_ v: Int) -> JSONValue { .number(String(v)) }
        func symbol(_ a: Address) -> JSONValue { .string(symbols[a]?.0 ?? a.checksummed) }
        let age: JSONValue = feed.ageP99Millis.map { .number(String($0)) } ?? .null
        let feedFields: [(String, JSONValue)] = [("messages", n(feed.counters.frames)), ("applied", n(feed.counters.applied)),
                                                 ("malformed", n(feed.counters.malformed)), ("gaps", n(feed.counters.gaps)),
                                                 ("reconnects", n(feed.reconnects)), ("frozenBooks", n(feed.frozenBooks)), ("ageP99Ms", age)]
        let legs: [JSONValue] = trades.map { t in
            let fields: [(String, JSONValue)] = [
                ("opportunity", .string(Hex.encode(t.opportunity))), ("chainId", .number(String(t.chainID))), ("tx", .string(t.txHash)),
                ("paid", symbol(t.tokenIn)), ("got", symbol(t.tokenOut)), ("amountIn", .string(t.amountIn.description)),
                ("amountOut", .string(t.amountOut.description)), ("detectedProfit", .string(t.detected.description)),
                ("expectedProfit", .string(t.expected.description)), ("realizedProfit", .string(t.realized.description)),
            ]
            return .object(fields)
        }
        let balances: [JSONValue] = checks.map { c in
            let fields: [(String, JSONValue)] = [("chainId", .number(String(c.chain))), ("token", symbol(c.token)), ("delta", .string(c.delta.description)),
                                                 ("expected", .string(c.expected.description))]
            return .object(fields)
        }
        let refused: [(String, JSONValue)] = refusals.sorted { $0.key < $1.key }.map { ($0.key, n($0.value)) }
        let fields: [(String, JSONValue)] = [
            ("feed", .object(feedFields)), ("detection", .array(detection.map(Self.json))), ("trades", .array(legs)),
            ("asDetected", n(asDetected)), ("hedges", n(hedges)), ("refused", .object(refused)), ("balances", .array(balances)),
            ("unchecked", unchecked.map(JSONValue.string) ?? .null), ("mismatches", n(mismatches)),
        ]
        return .object(fields)
    }

    static func json(_ d: CexDexService) -> JSONValue {
        let s = d.status
        var fields: [(String, JSONValue)] = [("chainId", .number(String(d.watcher.configuration.chainID)))]
        let counts: [(String, Int)] = [("evaluations", s.evaluations), ("screened", s.detector.screened), ("inside", s.detector.inside),
                                       ("belowCosts", s.detector.belowCosts), ("stale", s.detector.stale), ("found", s.detector.found),
                                       ("repeats", s.repeats), ("published", s.published)]
        for (k, v) in counts { fields.append((k, .number(String(v)))) }
        return .object(fields)
    }

    func lines(_ symbols: [Address: (String, Int)]) -> [String] {
        var out = ["  binance feed: \(feed.counters.frames) messages, age p99 \(feed.ageP99Millis.map { "\($0) ms" } ?? "-"), \(feed.counters.gaps) gaps, \(feed.reconnects) reconnects"]
        for d in detection {
            let s = d.status
            out.append("  CEX–DEX on \(d.watcher.configuration.chainID): \(s.detector.screened) pools screened, \(s.detector.found) found, \(s.published) published")
        }
        out.append("  CEX–DEX legs: \(trades.count) landed, \(asDetected) realized exactly what detection saw; \(hedges) hedge intent(s) journaled")
        for (k, v) in refusals.sorted(by: { $0.value > $1.value }) { out.append("  CEX–DEX refused \(k): \(v)") }
        for c in checks where c.delta != c.expected {
            out.append("  CEX–DEX INVENTORY DIFFERENT: chain \(c.chain) \(symbols[c.token]?.0 ?? c.token.checksummed): moved \(c.delta), legs say \(c.expected)")
        }
        if let unchecked { out.append("  CEX–DEX inventory not checked: \(unchecked)") }
        return out
    }
}
