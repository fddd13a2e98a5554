import EVMCodec
import Feeds
import Foundation
import MarketState
import MarketWatch
import Opportunities
import Pipeline
import Recording
import Registry

/// A recording read back through the production path, event by event: stream 0's declarations
/// rebuild the recorded configuration's watchers and detection (with `overrides` on top, for a
/// backtest's candidate); each watcher step goes through the watchers' own `WatchReplay`; each
/// recorded detection moment runs the chain's `DetectionStep` again on the snapshot it took, at the
/// clock reading it took it at. `arbiter replay` compares what that finds with what was published
/// live; `arbiter backtest` executes it against the recorded state.
struct ReplaySession {
    enum Event {
        case snapshot(chainID: UInt64, ChainWatcher.Snapshot)
        /// Detection run again at a recorded moment, with the CEX references it weighed live: what
        /// it found (`unrecordedReferences`: a moment recorded before references were kept, its
        /// confidences not as live).
        case detected(stream: UInt32, chainID: UInt64, snapshot: ChainWatcher.Snapshot, now: UInt64, unrecordedReferences: Int, found: [Opportunity])
        /// An opportunity as published live (its recorded bytes).
        case published(stream: UInt32, chainID: UInt64, Opportunity, raw: [UInt8])
    }

    struct Chain {
        var name: String
        var chainID: UInt64
        var replay: WatchReplay
        var steps = 0
        var snapshots = 0
        var undecodable = 0
        var last: ChainWatcher.Snapshot?
        /// Recent snapshots by sequence: the ones detection may take.
        var recent: [UInt64: ChainWatcher.Snapshot] = [:]
    }

    struct Detection {
        /// Cycles (`DetectionStep`), CEX–DEX spreads (`CexDexStep`) or CoW backruns (`CowBackrunStep`).
        enum Step {
            case cycles(DetectionStep)
            case cexDex(CexDexStep)
            case cowBackrun(CowBackrunStep)
        }

        var name: String
        var chainID: UInt64
        var step: Step
        var detected = 0
        var undecodable = 0

        var kind: String {
            switch step {
            case .cycles: "detection"
            case .cexDex: "cexdex"
            case .cowBackrun: "cow"
            }
        }

        mutating func process(_ s: ChainWatcher.Snapshot, _ m: DetectionService.Moment) -> [Opportunity] {
            switch step {
            case .cycles(var d):
                defer { step = .cycles(d) }
                return d.process(s, now: m.now, references: { m.references }).found
            case .cexDex(var c):
                defer { step = .cexDex(c) }
                return c.process(s, references: m.references, now: m.now).found
            case .cowBackrun:
                return []  // its moments are `CowBackrunStep.Moment`s (`ReplaySession.cow`)
            }
        }
    }

    let source: String
    /// Registry overrides applied after the recorded configuration (a backtest's candidate).
    let overrides: String?
    /// Detection's least net profit (bps) instead of each chain's default.
    let minProfitBps: Int?
    private(set) var registry: Registry?
    private(set) var chains: [UInt32: Chain] = [:]
    private(set) var detections: [UInt32: Detection] = [:]
    /// The exchange's feed, when it was recorded ("cex:binance").
    var feeds: [UInt32: Feed] = [:]
    /// The pairs the exchange's symbols price on the recorded chains (for checking references).
    var cexPairs: (symbols: [String], pairs: [CexPrices.Pair])?
    private(set) var unknown = 0
    private let matrix = PriceMatrix(expected: 4_096)

    init(source: String, overrides: String? = nil, minProfitBps: Int? = nil) {
        self.source = source
        self.overrides = overrides
        self.minProfitBps = minProfitBps
    }

    var orderedChains: [Chain] { chains.values.sorted { $0.chainID < $1.chainID } }

    /// The chain's latest replayed snapshot.
    func latest(chainID: UInt64) -> ChainWatcher.Snapshot? { chains.values.first { $0.chainID == chainID }?.last }

    /// Feeds one recorded event; what it produced, if anything.
    mutating func feed(_ e: RecordedEvent) throws -> Event? {
        if e.stream == 0 {
            try declare(e)
            return nil
        }
        if var f = feeds[e.stream] {
            defer { feeds[e.stream] = f }
            f.apply(e)
            return nil
        }
        if var d = detections[e.stream] {
            defer { detections[e.stream] = d }
            return detection(e, stream: e.stream, &d)
        }
        guard var c = chains[e.stream] else {
            unknown += 1
            return nil
        }
        defer { chains[e.stream] = c }
        c.steps += 1
        do {
            guard let s = c.replay.apply(try WatchInput(kind: e.kind, payload: e.payload)) else { return nil }
            c.snapshots += 1
            c.last = s
            c.recent[s.sequence] = s
            c.recent[s.sequence &- 256] = nil
            return .snapshot(chainID: c.chainID, s)
        } catch {
            c.undecodable += 1
            return nil
        }
    }

    private mutating func declare(_ e: RecordedEvent) throws {
        if e.kind == 2 {
            var r = try Registry.bundled().applying(overrides: String(decoding: e.payload, as: UTF8.self), file: "\(source) (recorded)")
            if let overrides { r = try r.applying(overrides: overrides, file: "the backtest's configuration", alsoAllowed: ["backtest"]) }
            registry = r
            return
        }
        guard e.kind == 1 else { return }
        let d = try JSONValue.parse(String(decoding: e.payload, as: UTF8.self))
        guard let registry else { throw CLIError("\(source): a stream declared before the configuration") }
        if let n = d["stream"].flatMap({ UInt32($0.text) }), d["component"]?.stringValue?.hasPrefix("cex:") == true {
            feeds[n] = Feed(registry: registry)
            return
        }
        guard let n = d["stream"].flatMap({ UInt32($0.text) }), let name = d["name"]?.stringValue, let id = d["chain"].flatMap({ UInt64($0.text) }),
              let component = d["component"]?.stringValue, let chain = registry.chains.first(where: { $0.id == id }),
              let plan = try WatchPlan.configurations(registry, chains: [name], environment: [:], matrix: matrix).first else {
            throw CLIError("\(source): a stream declaration that does not name a chain of the recorded configuration: \(d.text)")
        }
        if component.hasPrefix("detection:") {
            let c = DetectionService.Configuration(partition: chain.partition,
                                                   detector: try RunPlan.detector(registry, chain, chainID: id, minProfitBps: minProfitBps))
            detections[n] = Detection(name: name, chainID: id, step: .cycles(DetectionStep(configuration: c)))
        } else if component.hasPrefix("cow:") {
            guard let (c, settlement) = try CowPlan.configuration(registry, chainID: id) else {
                throw CLIError("\(source): CoW backruns recorded on \(name), whose settlement contract the configuration does not list")
            }
            detections[n] = Detection(name: name, chainID: id, step: .cowBackrun(CowBackrunStep(configuration: c, settlement: settlement)))
        } else if component.hasPrefix("cexdex:") {
            guard let c = CexPlan.configuration(registry, chainID: id) else {
                throw CLIError("\(source): CEX–DEX detection recorded on \(name), whose wrapped native token the configuration does not list")
            }
            detections[n] = Detection(name: name, chainID: id, step: .cexDex(CexDexStep(configuration: c)))
        } else {
            chains[n] = Chain(name: name, chainID: id, replay: WatchReplay(plan))
        }
    }

    /// Kind 1: a detection moment (`DetectionService.Moment`), run again; kind 2: an opportunity
    /// as published.
    private mutating func detection(_ e: RecordedEvent, stream: UInt32, _ d: inout Detection) -> Event? {
        switch e.kind {
        case 1 where d.kind == "cow":
            return cow(e, stream: stream, &d)
        case 1:
            guard let moment = try? DetectionService.Moment(decoding: e.payload),
                  let snapshot = chains.values.first(where: { $0.chainID == d.chainID })?.recent[moment.sequence] else {
                d.undecodable += 1
                return nil
            }
            d.detected += 1
            check(moment.references, chainID: d.chainID)
            // Always run: the step's own state (pools known, what changed, momentum) must follow the live one.
            let found = d.process(snapshot, moment)
            return .detected(stream: stream, chainID: d.chainID, snapshot: snapshot, now: moment.now,
                             unrecordedReferences: moment.unrecordedReferences, found: found)
        case 2:
            guard let recorded = try? Opportunity(encoded: e.payload) else { d.undecodable += 1; return nil }
            return .published(stream: stream, chainID: d.chainID, recorded, raw: e.payload)
        default:
            d.undecodable += 1
            return nil
        }
    }

    /// A CoW settlement's evaluation (`CowBackrunStep.Moment`) run again on the snapshot it took.
    /// One whose effect cannot be read again (simulated live, logs not kept) is reported as not
    /// replayable, as a detection moment without its references is.
    private mutating func cow(_ e: RecordedEvent, stream: UInt32, _ d: inout Detection) -> Event? {
        guard case .cowBackrun(var step) = d.step, let moment = try? CowBackrunStep.Moment(decoding: e.payload),
              let snapshot = chains.values.first(where: { $0.chainID == d.chainID })?.recent[moment.sequence] else {
            d.undecodable += 1
            return nil
        }
        defer { d.step = .cowBackrun(step) }
        d.detected += 1
        let found = step.replay(moment, on: snapshot)
        return .detected(stream: stream, chainID: d.chainID, snapshot: snapshot, now: moment.now, unrecordedReferences: found == nil ? 1 : 0,
                         found: found ?? [])
    }
}
