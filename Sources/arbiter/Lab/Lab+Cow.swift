import EVMCodec
import EVMPrimitives
import Execution
import Pipeline

/// What `arbiter lab` reports of CoW settlement backruns: settlements seen pending and landed,
/// how their effect was read, backruns published, sent (bundled behind their target), landed,
/// and what they realized against what detection saw.
struct CowReport {
    var services: [CowBackrunService]
    var sent: Int
    var trades: [ExecutionEngine.Trade]

    init(services: [CowBackrunService], report: ExecutionEngine.Report) {
        self.services = services
        sent = report.backruns
        trades = report.trades.filter { $0.kind == .backrun }
    }

    /// Backruns that realized exactly what detection saw, to the wei.
    var asDetected: Int { trades.filter { $0.realizedProfit == $0.detectedProfit }.count }

    func profit(_ symbols: [Address: (String, Int)]) -> String { LabSummary.profits(trades, symbols) }

    func json(_ symbols: [Address: (String, Int)]) -> JSONValue {
        func n(_ v: Int) -> JSONValue { .number(String(v)) }
        let chains: [JSONValue] = services.map { s in
            let st = s.status, w = s.settlements.status
            let counts: [(String, Int)] = [("announced", w.announced), ("pendingSettlements", w.settlements), ("landed", w.landed),
                                           ("malformed", w.malformed + w.malformedLogs), ("unfetched", w.unfetched), ("belowThreshold", st.belowThreshold),
                                           ("unpriced", st.unpriced), ("decoded", st.decoded), ("simulated", st.simulated), ("unreadable", st.unreadable),
                                           ("reverting", st.reverting), ("noDisplacement", st.noDisplacement), ("noBackrun", st.noBackrun),
                                           ("published", st.published)]
            return .object([("chainId", n(Int(s.watcher.configuration.chainID)))] + counts.map { ($0.0, n($0.1)) }
                           + [("volumeUSD", .number(String(Int(st.volumeUSD))))])
        }
        let landed: [JSONValue] = trades.map { t in
            .object([("opportunity", .string(t.opportunity)), ("chainId", n(Int(t.chainID))), ("tx", .string(t.txHash)), ("block", n(Int(t.block))),
                     ("target", t.target.map(JSONValue.string) ?? .null), ("asset", .string(symbols[t.asset]?.0 ?? t.asset.checksummed)),
                     ("detectedProfit", .string(t.detectedProfit.description)), ("realizedProfit", .string(t.realizedProfit.description))])
        }
        return .object([("chains", .array(chains)), ("sent", n(sent)), ("landed", .array(landed)), ("asDetected", n(asDetected)),
                        ("profit", .string(profit(symbols)))])
    }

    func lines(_ symbols: [Address: (String, Int)]) -> [String] {
        var out: [String] = []
        for s in services {
            let st = s.status, w = s.settlements.status
            out.append("  CoW on \(s.watcher.configuration.chainID): \(w.settlements) settlement(s) seen pending, \(w.landed) landed; "
                       + "\(st.decoded) read from call data, \(st.simulated) simulated, \(st.belowThreshold) below the threshold; \(st.published) backrun(s) published")
        }
        out.append("  CoW backruns: \(sent) sent behind their target, \(trades.count) landed (\(asDetected) realized exactly what detection saw): \(profit(symbols))")
        return out
    }
}
