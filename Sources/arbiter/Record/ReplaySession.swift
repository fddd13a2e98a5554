import EVMCodec
import Feeds
import Foundation
import MarketState
import MarketWatch
import Opportunities
import Pipeline
import Recording
import Registry
import SolanaWatch

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
        /// Solana detection run again on the recorded changes to its book (no EVM snapshot).
        case solanaDetected(stream: UInt32, found: [Opportunity])
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
            /// Built from the stream's first event (the detector's configuration).
            case solana(SolanaWatchStep?)
            /// While a step changes (taken out, so that it changes in place, not as a copy).
            case taken
        }

        var name: String
        var chainID: UInt64
        var step: Step
        var detected = 0
        var undecodable = 0

        var kind: String {
            switch step {
            case .cycles, .taken: "detection"
            case .cexDex: "cexdex"
            case .cowBackrun: "cow"
            case .solana: "solana"
            }
        }

        mutating func process(_ s: ChainWatcher.Snapshot, _ m: DetectionService.Moment) -> [Opportunity] {
            switch step {
            case .cycles(var d):
                step = .taken
                defer { step = .cycles(d) }
                return d.process(s, now: m.now, references: { m.references }).found
            case .cexDex(var c):
                step = .taken
                defer { step = .cexDex(c) }
                return c.process(s, references: m.references, now: m.now).found
            case .cowBackrun, .solana, .taken:
                return []  // their moments are their own (`ReplaySession.cow`, `.solana`)
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
        // Each taken out while it changes (and put back): a copy left in its dictionary would make
        // the change copy its state (the watcher's pool book, detection's arrays) once per event.
        if var f = feeds.removeValue(forKey: e.stream) {
            defer { feeds[e.stream] = f }
            f.apply(e)
            return nil
        }
        if var d = detections.removeValue(forKey: e.stream) {
            defer { detections[e.stream] = d }
            return detection(e, stream: e.stream, &d)
        }
        guard var c = chains.removeValue(forKey: e.stream) else {
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
        let stream = d["stream"].flatMap { UInt32($0.text) }, component = d["component"]?.stringValue
        // The exchange's feed and Solana's detection are not on an EVM chain of the configuration.
        if let n = stream, component?.hasPrefix("cex:") == true {
            feeds[n] = Feed(registry: registry)
            return
        }
        if let n = stream, component?.hasPrefix("solana:") == true {
            detections[n] = Detection(name: d["name"]?.stringValue ?? "solana", chainID: Opportunity.solanaChainID, step: .solana(nil))
            return
        }
        guard let n = stream, let name = d["name"]?.stringValue, let id = d["chain"].flatMap({ UInt64($0.text) }),
              let component, let chain = registry.chains.first(where: { $0.id == id }),
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
        if case .solana = d.step { return solana(e, stream: stream, &d) }
        if case .cowBackrun = d.step, e.kind == 1 { return cow(e, stream: stream, &d) }
        switch e.kind {
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
        d.step = .taken
        defer { d.step = .cowBackrun(step) }
        d.detected += 1
        let found = step.replay(moment, on: snapshot)
        return .detected(stream: stream, chainID: d.chainID, snapshot: snapshot, now: moment.now, unrecordedReferences: found == nil ? 1 : 0,
                         found: found ?? [])
    }

    /// Solana detection's changes fed to a fresh step (`SolanaWatchStep`, built from the first
    /// one: the detector's configuration); a detection gives what it found again, a published
    /// opportunity (kind 6) its recorded bytes.
    private mutating func solana(_ e: RecordedEvent, stream: UInt32, _ d: inout Detection) -> Event? {
        guard case .solana(var current) = d.step else { return nil }
        if e.kind == 6 {
            guard let recorded = try? Opportunity(encoded: e.payload) else { d.undecodable += 1; return nil }
            return .published(stream: stream, chainID: d.chainID, recorded, raw: e.payload)
        }
        guard let input = try? SolanaWatchStep.Input(kind: e.kind, payload: e.payload) else {
            d.undecodable += 1
            return nil
        }
        if case .configuration(let starts, let hops, let lifetime) = input {
            d.step = .solana(SolanaWatchStep(configuration: .init(starts: starts, maxHops: hops, lifetime: lifetime)))
            return nil
        }
        guard current != nil else {
            d.undecodable += 1  // a change before the configuration: the stream's head is missing
            return nil
        }
        d.step = .taken  // the step held once, so its book changes in place
        defer { d.step = .solana(current) }
        guard case .found(let found) = current!.perform(input) else { return nil }
        d.detected += 1
        return .solanaDetected(stream: stream, found: found)
    }
}
