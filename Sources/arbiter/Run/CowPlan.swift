import CowProtocol
import Detection
import EVMPrimitives
import Logging
import MarketWatch
import Pipeline
import Registry
import StreamBus

/// How `arbiter run` and `lab` backrun CoW settlements (design item #28), from the registry:
/// with `[cow] enabled`, every watched chain that lists a `cow_settlement` and has a WebSocket
/// endpoint (pending transactions are announced only there) gets a `CowSettlementWatcher` and a
/// `CowBackrunService` publishing on its partition; backruns are executed by the chain's engine
/// (its `BackrunStrategy`), as bundles.
enum CowPlan {
    static func services(_ registry: Registry, watchers: [ChainWatcher], environment: [String: String], bus: any OpportunityBus,
                         logger: Logger, recorder: InputRecorder? = nil) throws -> [CowBackrunService] {
        guard registry.cow.enabled else { return [] }
        var out: [CowBackrunService] = []
        for w in watchers {
            let id = w.configuration.chainID
            guard let chain = registry.chains.first(where: { $0.id == id }), let (configuration, settlement) = try Self.configuration(registry, chainID: id),
                  let ws = registry.endpoints(for: chain, environment: environment).lazy.compactMap(\.ws).first else { continue }
            let watcher = CowSettlementWatcher(.init(chainID: id, settlement: settlement, webSocket: ws), logger: logger)
            out.append(CowBackrunService(watcher: w, settlements: watcher, configuration: configuration, bus: bus, rpc: w.configuration.rpc, logger: logger,
                                         recorder: recorder?.cowBackrun(chainID: id, name: w.configuration.name)))
        }
        return out
    }

    /// The backrun service's configuration on chain `chainID` and its settlement contract (nil:
    /// the chain lists none): what `run` starts from and what replay rebuilds.
    static func configuration(_ registry: Registry, chainID id: UInt64) throws -> (CowBackrunService.Configuration, settlement: Address)? {
        guard let chain = registry.chains.first(where: { $0.id == id }), let settlement = chain.cowSettlement else { return nil }
        var detector = CowBackrunDetector.Configuration(cycles: try RunPlan.detector(registry, chain, chainID: id, minProfitBps: nil))
        detector.minVolumeUSD = Double(registry.cow.minVolumeUSD)
        var stables: [Address: Double] = [:]
        for t in registry.tokens(on: chain.name) where t.enabled && t.tags.contains(.stable) {
            if case .evm(let a) = t.address { stables[a] = 1 / pow10(t.decimals) }
        }
        return (.init(partition: chain.partition, detector: detector, stableUSDPerRaw: stables), settlement)
    }

    static func pow10(_ n: Int) -> Double {
        var x = 1.0
        for _ in 0..<max(0, n) { x *= 10 }
        return x
    }
}
