import Execution
import Logging
import MarketWatch
import Opportunities
import ServiceLifecycle
import SolanaExecution
import StreamBus

/// The chains' latest state for execution, from the watchers that keep it (in process).
public struct WatcherStates: ChainStateSource {
    let watchers: [UInt64: ChainWatcher]

    public init(_ watchers: [ChainWatcher]) {
        self.watchers = Dictionary(watchers.map { ($0.configuration.chainID, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func state(chain: UInt64) -> ChainState? {
        guard let s = watchers[chain]?.latest else { return nil }
        return ChainState(chainID: chain, block: s.block, baseFee: s.baseFee, book: s.book, token0: s.pools.map(\.token0))
    }
}

/// Execution as a service: the consuming end of the bus hands each opportunity to the engine
/// (up to `concurrency` at once per partition, as many per chain as it has keys, the most
/// profitable first; see `OpportunitySink`), which submits it (or
/// refuses it with a reason) before the entry is acknowledged; inclusion is tracked in the
/// background. At shutdown, trades in flight are waited for up to `drainLimit`; what is still
/// open then is journaled as open for the next start.
public final class ExecutionService: Service {
    public let engine: ExecutionEngine
    public let sink: OpportunitySink
    /// How long trades in flight (and cross-chain transfers being followed) are waited for once
    /// the bus is closed.
    public let drainLimit: Duration

    /// Cross-chain opportunities go to `crossChain` when given (the engine refuses them otherwise).
    public let crossChain: CrossChainExecutor?
    /// Statistical opportunities go to `statistical` when given (the engine refuses them otherwise).
    public let statistical: StatisticalArbitrageStrategy?
    /// CEX–DEX opportunities go to `cexDex` when given (the engine refuses them otherwise).
    public let cexDex: CexDexExecutor?

    /// Solana opportunities go to `solana` when given (the engine refuses them otherwise).
    public let solana: SolanaExecutor?

    public init(engine: ExecutionEngine, crossChain: CrossChainExecutor? = nil, statistical: StatisticalArbitrageStrategy? = nil,
                cexDex: CexDexExecutor? = nil, solana: SolanaExecutor? = nil, bus: any OpportunityBus,
                partitions: [String], name: String, concurrency: Int = 8, drainLimit: Duration = .seconds(5), logger: Logger) {
        self.engine = engine
        self.drainLimit = drainLimit
        self.crossChain = crossChain
        self.statistical = statistical
        self.cexDex = cexDex
        self.solana = solana
        // Each chain's trades go out from its keys, one trade at a time each.
        sink = OpportunitySink(bus: bus, partitions: partitions, name: name,
                               lanes: .init(total: concurrency, perChain: engine.sendersPerChain), logger: logger,
                               expired: { opportunities, now in
            // Journaled (received, refused `bus:expired`) and counted by the executor of each one's kind, as its refusals are.
            var rest: [Opportunity] = []
            for o in opportunities {
                if o.kind == .crossChain, let crossChain {
                    await crossChain.expired(o, at: now)
                } else if o.kind == .statistical, let statistical {
                    await statistical.executor.journalOpportunity(o)
                    await statistical.executor.count(Refusal("bus", "expired"), id: o.id, chain: o.chains.first ?? 0)
                } else if o.kind == .cexDexSpread, let cexDex {
                    await cexDex.expired(o, at: now)
                } else {
                    rest.append(o)
                }
            }
            if !rest.isEmpty { await engine.expired(rest, at: now) }
        }) { delivery, _, receivedAt in
            if delivery.opportunity.kind == .crossChain, let crossChain {
                _ = await crossChain.execute(delivery.opportunity)
            } else if delivery.opportunity.kind == .statistical, let statistical {
                await statistical.submit(delivery.opportunity)
            } else if delivery.opportunity.kind == .cexDexSpread, let cexDex {
                await cexDex.submit(delivery.opportunity)
            } else if delivery.opportunity.kind == .solana, let solana {
                await solana.submit(delivery.opportunity)
            } else {
                await engine.handle(delivery.opportunity, receivedAt: receivedAt)
            }
        }
    }

    public func run() async throws {
        // However the bus side ends (a stop, or an error), trades in flight are drained: what is
        // still open at the deadline is journaled as open.
        var failure: (any Error)? = nil
        // Landed trades watched for reorgs while the bus runs; a stop ends the watch at once.
        let landings = Task { [engine] in await engine.watchLandings() }
        do { try await sink.run() } catch { failure = error }
        landings.cancel()
        let deadline = ContinuousClock.now + drainLimit
        await engine.drain(until: deadline)
        await crossChain?.drain(until: deadline)
        await statistical?.executor.drain(until: deadline)
        await cexDex?.drain(until: deadline)
        await solana?.drain(until: deadline)
        if let failure { throw failure }
    }
}
