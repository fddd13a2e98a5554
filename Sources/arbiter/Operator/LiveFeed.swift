import ArbiterServer
import CoreMetrics
import EVMCodec
import EVMPrimitives
import Execution
import ServiceLifecycle
import StreamBus

/// Follows the journal and the process's state and tells `/api/live` (and the sampled metrics):
/// every new opportunity and trade as the journal gets it (by rowid, none twice, none skipped),
/// and each second the chains, breakers, latencies, refusals and readiness. It reads what the
/// engine wrote and never waits on a client, so a dashboard cannot slow the trading.
final class LiveFeed: Service {
    let data: AppOperatorData
    let hub: LiveHub
    let interval: Duration

    init(data: AppOperatorData, hub: LiveHub, interval: Duration = .milliseconds(250)) {
        (self.data, self.hub, self.interval) = (data, hub, interval)
    }

    func run() async throws {
        var last = (opportunity: Int64(0), receipt: Int64(0))
        if let journal = data.journal, let rows = try? journal.lastRows() { last = rows }
        var profit = ProfitGauges()
        var sampler = Sampler()
        var tick = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let journal = data.journal {
                for o in (try? journal.opportunities(limit: 500, after: last.opportunity)) ?? [] {
                    hub.publish(.object([("type", .string("opportunity")), ("opportunity", AppOperatorData.json(o))]))
                    last.opportunity = o.row
                }
                for t in (try? journal.trades(limit: 500, after: last.receipt)) ?? [] {
                    hub.publish(.object([("type", .string("trade")), ("trade", data.json(t))]))
                    profit.add(t.receipt, symbols: data.symbols)
                    last.receipt = t.row
                }
            }
            if tick % max(1, Int(Duration.seconds(1) / interval)) == 0 {
                await status(&sampler)
            }
            tick += 1
            try? await Task.sleep(for: interval)
        }
    }

    /// The once-a-second events and sampled metrics.
    func status(_ sampler: inout Sampler) async {
        let breakers = await data.breakers()
        hub.publish(.object([("type", .string("breakers")), ("breakers", breakers)]))
        hub.publish(.object([("type", .string("chains")), ("chains", await data.chains())]))
        hub.publish(.object([("type", .string("latency")), ("stages", await data.latency())]))
        if let refusals = try? await data.refusals() { hub.publish(.object([("type", .string("refusals")), ("refusals", refusals)])) }
        let ready = await data.readiness()
        hub.publish(.object([("type", .string("ready")), ("ready", .bool(ready.ready)), ("reasons", .array(ready.reasons.map(JSONValue.string)))]))
        for b in breakers.arrayValue ?? [] {
            guard let chain = b["chain"]?.text, let state = b["state"]?.stringValue else { continue }
            Gauge(label: "arbiter_breaker_state", dimensions: [("chain", chain)]).record(state == "open" ? 2 : state == "halfOpen" ? 1 : 0)
        }
        if let bus = data.bus { sampler.bus(bus.counters) }
        sampler.live(hub.counters, clients: hub.clients)
    }
}

/// Cumulative expected and realized profit per chain and asset, in whole units (display only:
/// the journal keeps the exact amounts), and trades counted by outcome.
struct ProfitGauges {
    var expected: [String: Double] = [:]
    var realized: [String: Double] = [:]

    mutating func add(_ r: Journal.Receipt, symbols: [Address: (String, Int)]) {
        let (symbol, decimals) = symbols[r.asset] ?? (r.asset.checksummed, 18)
        let dims = [("chain", String(r.chain)), ("asset", symbol)]
        let key = "\(r.chain)/\(symbol)"
        expected[key, default: 0] += Self.units(r.expectedProfit, decimals)
        realized[key, default: 0] += Self.units(r.realizedProfit, decimals)
        Gauge(label: "arbiter_profit_expected", dimensions: dims).record(expected[key]!)
        Gauge(label: "arbiter_profit_realized", dimensions: dims).record(realized[key]!)
        let outcome = r.status != 1 ? "reverted" : r.realizedProfit == r.expectedProfit ? "asExpected" : "differs"
        Counter(label: "arbiter_trades_total", dimensions: [("chain", String(r.chain)), ("outcome", outcome)]).increment()
    }

    static func units(_ v: Int256, _ decimals: Int) -> Double {
        (Double(v.description) ?? 0) / pow10(decimals)
    }

    static func pow10(_ n: Int) -> Double { (0..<max(0, n)).reduce(1.0) { r, _ in r * 10 } }
}

/// Counters the bus and the hub keep as totals, turned into metric increments.
struct Sampler {
    var lastBus = (published: 0, dropped: 0, deadLettered: 0)
    var lastDropped = 0

    mutating func bus(_ c: BusCounters) {
        Counter(label: "arbiter_bus_published_total", dimensions: [("bus", "opportunities")]).increment(by: Int64(max(0, c.published - lastBus.published)))
        Counter(label: "arbiter_bus_dropped_total", dimensions: [("bus", "opportunities")]).increment(by: Int64(max(0, c.dropped - lastBus.dropped)))
        Counter(label: "arbiter_bus_dead_lettered_total", dimensions: [("bus", "opportunities")]).increment(by: Int64(max(0, c.deadLettered - lastBus.deadLettered)))
        Gauge(label: "arbiter_bus_depth", dimensions: [("bus", "opportunities")]).record(max(0, c.published - c.dropped - c.acknowledged))
        lastBus = (c.published, c.dropped, c.deadLettered)
    }

    mutating func live(_ c: LiveHub.Counters, clients: Int) {
        Gauge(label: "arbiter_live_clients", dimensions: [("server", "operator")]).record(clients)
        Counter(label: "arbiter_live_dropped_clients_total", dimensions: [("server", "operator")]).increment(by: Int64(max(0, c.dropped - lastDropped)))
        lastDropped = c.dropped
    }
}
