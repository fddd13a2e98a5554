import Detection
import EVMPrimitives
import MarketWatch
import Opportunities

/// One chain's CEX–DEX detection at one moment, synchronous and deterministic: every V2/V3 pool
/// whose pair a reference prices checked against the exchange's mid (`CexDexSpreadDetector`),
/// at most one opportunity per pool and direction per block. `CexDexService` runs it live when
/// the state or the books changed; replay runs it on the recorded moments (the snapshot, the
/// references, the clock reading) and finds the same opportunities, byte for byte.
public struct CexDexStep {
    let configuration: CexDexService.Configuration
    var detector: CexDexSpreadDetector
    var block: UInt64 = 0
    /// Pool + direction published at `block`.
    var published: Set<String> = []

    public init(configuration: CexDexService.Configuration) {
        self.configuration = configuration
        detector = CexDexSpreadDetector(configuration: configuration.detector)
    }

    public var counts: CexDexSpreadDetector.Counts { detector.counts }

    /// What is found on `s` against `references` at `now` (epoch ns), less what this block
    /// already published (`repeats`).
    public mutating func process(_ s: ChainWatcher.Snapshot, references: [CexReference], now: UInt64) -> (found: [Opportunity], repeats: Int) {
        if s.block != block { published = [] }
        block = s.block
        let gasPrice = (s.baseFee ?? .zero) &+ configuration.priorityFee
        let found = detector.detect(chainID: s.chainID, block: s.block, candidates: CexDexService.candidates(s, references), references: references,
                                    wrappedNative: configuration.wrappedNative, gasPrice: gasPrice, now: now,
                                    timestamps: .init(eventReceived: s.headReceivedAt, stateApplied: s.appliedAt))
        var fresh: [Opportunity] = []
        var repeats = 0
        for o in found {
            if published.insert("\(o.path[0].pool.checksummed)/\(o.path[0].tokenIn.checksummed)").inserted { fresh.append(o) } else { repeats += 1 }
        }
        return (fresh, repeats)
    }
}
