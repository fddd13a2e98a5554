import ArbiterServer
import EVMCodec
import EVMPrimitives
import Execution
import MarketState
import MarketWatch
import Opportunities
import Prometheus
import StreamBus

/// The operator surface's view of this process: its chains (the watchers), what execution
/// received, decided and realized (the journal), its breakers and stage latencies (the engine),
/// the bus, and the Prometheus registry every metric is kept in.
struct AppOperatorData: OperatorData {
    var watchers: [ChainWatcher]
    var journal: Journal?
    var engine: ExecutionEngine?
    var bus: (any OpportunityBus)?
    /// Token symbols and decimals, for display.
    var symbols: [Address: (String, Int)] = [:]
    var registry: PrometheusCollectorRegistry
    var maxLag: UInt64 = 3

    func readiness() async -> OperatorServer.Readiness {
        var r = OperatorServer.Readiness.of(watchers, maxLag: maxLag)
        if let reason = await bus?.unavailable() {
            r.ready = false
            r.reasons.append("bus: \(reason)")
        }
        return r
    }

    func chains() async -> JSONValue {
        .array(watchers.map { w in
            let s = w.status
            func n(_ v: UInt64?) -> JSONValue { v.map { .number(String($0)) } ?? .null }
            return .object([("name", .string(s.name)), ("id", n(s.chainID)), ("head", n(s.head)), ("stateBlock", n(s.stateBlock)),
                            ("headLag", n(s.headLag)), ("pools", n(UInt64(s.pools))), ("updates", n(UInt64(s.appliedTotal))),
                            ("reorgs", n(UInt64(s.reorgs))), ("malformed", n(UInt64(s.malformedHeads + s.malformedLogs + s.malformedResponses))),
                            ("rpcErrors", n(UInt64(s.rpcErrors))), ("connected", .bool(s.connected))])
        })
    }

    func pools(chain: UInt64) async -> JSONValue? {
        guard let w = watchers.first(where: { $0.status.chainID == chain }) else { return nil }
        guard let s = w.latest else { return .object([("chain", .number(String(chain))), ("block", .null), ("pools", .array([]))]) }
        func text(_ v: UInt256) -> JSONValue { .string(v.description) }
        let pools: [JSONValue] = s.pools.enumerated().map { i, p in
            var fields: [(String, JSONValue)] = [("address", .string(p.address.checksummed)), ("stale", .bool(s.book.stale.contains(i)))]
            switch s.book[PoolBook.PoolID(index: i)] {
            case .uniswapV2(let v): fields += [("kind", .string("uniswapV2")), ("reserve0", text(v.reserve0)), ("reserve1", text(v.reserve1))]
            case .solidly(let v): fields += [("kind", .string("solidly")), ("reserve0", text(v.reserve0)), ("reserve1", text(v.reserve1))]
            case .uniswapV3(let v):
                fields += [("kind", .string("uniswapV3")), ("sqrtPriceX96", text(v.sqrtPriceX96)), ("tick", .number(String(v.tick))),
                           ("liquidity", text(v.liquidity))]
            case .curve: fields.append(("kind", .string("curve")))
            default: fields.append(("kind", .string("other")))
            }
            return .object(fields)
        }
        return .object([("chain", .number(String(chain))), ("block", .number(String(s.block))), ("hash", .string(Hex.encode(s.hash.bigEndianBytes))),
                        ("pools", .array(pools))])
    }

    var kinds: [String] { Opportunity.Kind.allCases.map(\.name) }

    func opportunities(_ q: OpportunityQuery) async throws -> JSONValue {
        guard let journal else { return .array([]) }
        return .array(try journal.opportunities(limit: q.limit, kind: q.kind, chain: q.chain).map(Self.json))
    }

    static func json(_ o: Journal.OpportunityRow) -> JSONValue {
        .object([("id", .string(o.id)), ("chain", .number(String(o.chain))), ("kind", .string(o.kind)), ("block", .number(String(o.block))),
                 ("asset", .string(o.asset)), ("amountIn", .string(o.amountIn)), ("netProfit", .string(o.netProfit)),
                 ("netProfitMicroUSD", .number(String(o.netProfitMicroUSD))), ("hops", .number(String(o.hops))),
                 ("receivedAt", .number(String(o.receivedAt))), ("decision", o.decision.map(JSONValue.string) ?? .null)])
    }

    func trades(limit: Int) async throws -> JSONValue {
        guard let journal else { return .array([]) }
        return .array(try journal.trades(limit: limit).map(json))
    }

    func json(_ t: Journal.TradeRow) -> JSONValue {
        let r = t.receipt
        let (symbol, decimals) = symbols[r.asset] ?? (r.asset.checksummed, 18)
        let name = watchers.first { $0.status.chainID == r.chain }?.status.name ?? String(r.chain)
        return .object([("txHash", .string(r.txHash)), ("opportunity", .string(r.opportunity)), ("chain", .number(String(r.chain))),
                        ("chainName", .string(name)), ("kind", .string(t.kind)), ("block", .number(String(r.block))), ("status", .number(String(r.status))),
                        ("asset", .string(r.asset.checksummed)), ("symbol", .string(symbol)), ("decimals", .number(String(decimals))),
                        ("expected", .string(r.expectedProfit.description)), ("realized", .string(r.realizedProfit.description)),
                        ("difference", .string((r.realizedProfit &- r.expectedProfit).description)), ("gasUsed", .number(String(r.gasUsed))),
                        ("at", .number(String(t.at)))])
    }

    func positions() async throws -> JSONValue {
        guard let journal else { return .object([("transfers", .array([])), ("statistical", .array([]))]) }
        let transfers = try journal.transfers(open: true).map { t in
            JSONValue.object([("opportunity", .string(Hex.encode(t.opportunity.id))), ("from", .number(String(t.opportunity.chains.first ?? 0))),
                              ("to", .number(String(t.opportunity.chains.last ?? 0))), ("status", .string(t.status.rawValue)),
                              ("amountIn", .string(t.amountIn.description)), ("bought", .string(t.bought.description)),
                              ("received", t.received.map { .string($0.description) } ?? .null), ("depositTx", .string(t.depositTx)),
                              ("detail", .string(t.detail))])
        }
        let statistical = try journal.positions(open: true).map { p in
            JSONValue.object([("id", .string(Hex.encode(p.id))), ("chain", .number(String(p.chainID))), ("pair", .number(String(p.pair))),
                              ("tokenA", .string(p.tokenA.checksummed)), ("tokenB", .string(p.tokenB.checksummed)), ("longA", .bool(p.longA)),
                              ("status", .string(p.status.rawValue))])
        }
        return .object([("transfers", .array(transfers)), ("statistical", .array(statistical))])
    }

    func breakers() async -> JSONValue {
        guard let engine else { return .array([]) }
        let breakers = await engine.riskGate.breakers
        return .array(breakers.keys.sorted().map { chain in
            let b = breakers[chain]!
            return .object([("chain", .number(String(chain))), ("state", .string(Self.name(b.state))),
                            ("consecutiveFailures", .number(String(b.consecutiveFailures))), ("trips", .number(String(b.trips)))])
        })
    }

    static func name(_ state: CircuitBreaker.State) -> String {
        switch state {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "halfOpen"
        }
    }

    func refusals() async throws -> JSONValue {
        guard let journal else { return .array([]) }
        return .array(try journal.refusalCounts().map { .object([("reason", .string($0.reason)), ("count", .number(String($0.count)))]) })
    }

    /// The engine's stage timings (its recent window), as percentiles in nanoseconds.
    func latency() async -> JSONValue {
        guard let engine else { return .array([]) }
        let stages = await engine.snapshot.stages
        return .array(stages.keys.sorted().compactMap { name in
            let s = stages[name]!.sorted()
            guard !s.isEmpty else { return nil }
            func p(_ q: Double) -> JSONValue { .number(String(s[min(s.count - 1, Int(Double(s.count - 1) * q + 0.5))])) }
            return .object([("stage", .string(name)), ("count", .number(String(s.count))), ("p50", p(0.5)), ("p90", p(0.9)), ("p99", p(0.99)),
                            ("max", .number(String(s.last!)))])
        })
    }

    func metrics() async -> String { registry.emitToString() }
}
