import ArgumentParser
import EVMCodec
import EVMPrimitives
import Foundation
import MarketState
import MarketWatch
import Recording
import Opportunities
import Pipeline
import Registry

/// `arbiter replay DIR`: a recording fed through the production state path (decode → pool book,
/// the watchers' own steps) at full speed: every chain's snapshots again, without a chain.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a recording (arbiter lab --record DIR) through the production state path; per chain: steps, snapshots, the last block and its state.")

    @Argument(help: "The recording's directory.")
    var directory: String
    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

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

    /// A chain's detection run again on the snapshots it took, at the clock readings it took them:
    /// each opportunity it published found again, byte for byte (its publication time is the
    /// recorded one: the moment it left, not a thing detection decides).
    struct Detection {
        var name: String
        var chainID: UInt64
        var step: DetectionStep
        var detected = 0
        var published = 0
        var identical = 0
        var different = 0
        /// Snapshots sized against CEX references (not recorded yet): not compared.
        var notReplayable = 0
        var pending: [Opportunity] = []
        var skipping = false
        var undecodable = 0
    }

    func run() throws {
        let reader = try RecordingReader(directory: URL(fileURLWithPath: directory))
        var registry: Registry? = nil
        var chains: [UInt32: Chain] = [:]
        var detections: [UInt32: Detection] = [:]
        var unknown = 0
        let matrix = PriceMatrix(expected: 4_096)
        let began = ContinuousClock.now
        let report = try reader.forEachChunk { events in
            for e in events {
                if e.stream == 0 {
                    if e.kind == 2 {
                        registry = try Registry.bundled().applying(overrides: String(decoding: e.payload, as: UTF8.self), file: "\(directory) (recorded)")
                    } else if e.kind == 1 {
                        let d = try JSONValue.parse(String(decoding: e.payload, as: UTF8.self))
                        guard let registry else { throw CLIError("\(directory): a stream declared before the configuration") }
                        guard let n = d["stream"].flatMap({ UInt32($0.text) }), let name = d["name"]?.stringValue, let id = d["chain"].flatMap({ UInt64($0.text) }),
                              let component = d["component"]?.stringValue, let chain = registry.chains.first(where: { $0.id == id }),
                              let plan = try WatchPlan.configurations(registry, chains: [name], environment: [:], matrix: matrix).first else {
                            throw CLIError("\(directory): a stream declaration that does not name a chain of the recorded configuration: \(d.text)")
                        }
                        if component.hasPrefix("detection:") {
                            let c = DetectionService.Configuration(partition: chain.partition,
                                                                   detector: try RunPlan.detector(registry, chain, chainID: id, minProfitBps: nil))
                            detections[n] = Detection(name: name, chainID: id, step: DetectionStep(configuration: c))
                        } else {
                            chains[n] = Chain(name: name, chainID: id, replay: WatchReplay(plan))
                        }
                    }
                    continue
                }
                if var d = detections[e.stream] {
                    Self.detection(e, &d, chains: &chains)
                    detections[e.stream] = d
                    continue
                }
                guard var c = chains[e.stream] else {
                    unknown += 1
                    continue
                }
                c.steps += 1
                do {
                    if let s = c.replay.apply(try WatchInput(kind: e.kind, payload: e.payload)) {
                        c.snapshots += 1
                        c.last = s
                        c.recent[s.sequence] = s
                        c.recent[s.sequence &- 256] = nil
                    }
                } catch {
                    c.undecodable += 1
                }
                chains[e.stream] = c
            }
        }
        let seconds = Double((ContinuousClock.now - began).components.attoseconds) / 1e18 + Double((ContinuousClock.now - began).components.seconds)
        let ordered = chains.values.sorted { $0.chainID < $1.chainID }
        if json {
            let list = ordered.map { c in
                JSONValue.object([("chain", .string(c.name)), ("chainID", .number(String(c.chainID))), ("steps", .number(String(c.steps))),
                                  ("snapshots", .number(String(c.snapshots))), ("undecodable", .number(String(c.undecodable))),
                                  ("block", c.last.map { JSONValue.number(String($0.block)) } ?? .null), ("hash", c.last.map { JSONValue.string(Hex.encode($0.hash.bigEndianBytes)) } ?? .null),
                                  ("pools", .number(String(c.last?.book.count ?? 0))), ("appliedAt", c.last.map { JSONValue.number(String($0.appliedAt)) } ?? .null)])
            }
            let found = detections.values.sorted { $0.chainID < $1.chainID }.map { d in
                JSONValue.object([("chain", .string(d.name)), ("detected", .number(String(d.detected))), ("published", .number(String(d.published))),
                                  ("identical", .number(String(d.identical))), ("different", .number(String(d.different))),
                                  ("notReplayable", .number(String(d.notReplayable))), ("undecodable", .number(String(d.undecodable)))])
            }
            Output.lineNow(JSONValue.object([("files", .number(String(report.files))), ("chunks", .number(String(report.chunks))),
                                             ("events", .number(String(report.events))), ("skipped", .array(report.skipped.map { .string($0.description) })),
                                             ("unknownStreams", .number(String(unknown))), ("seconds", .number(String(format: "%.3f", seconds))),
                                             ("chains", .array(list)), ("detection", .array(found))]).text)
        } else {
            Output.lineNow("replayed \(report.events) events (\(report.chunks) chunks, \(report.files) file(s)) in \(String(format: "%.3f", seconds)) s")
            for s in report.skipped { Output.lineNow("skipped: \(s)") }
            for c in ordered {
                Output.lineNow("\(c.name): \(c.steps) steps, \(c.snapshots) snapshots, block \(c.last.map { String($0.block) } ?? "-"), \(c.last?.book.count ?? 0) pools"
                               + (c.undecodable > 0 ? ", \(c.undecodable) undecodable" : ""))
            }
            for d in detections.values.sorted(by: { $0.chainID < $1.chainID }) {
                Output.lineNow("\(d.name) detection: \(d.detected) snapshots sized, \(d.published) opportunities published live, \(d.identical) found again identical, "
                               + "\(d.different) different" + (d.notReplayable > 0 ? ", \(d.notReplayable) sized against CEX references (not compared)" : ""))
            }
        }
    }

    /// One event of a detection stream: a snapshot sized again, or a published opportunity compared.
    static func detection(_ e: RecordedEvent, _ d: inout Detection, chains: inout [UInt32: Chain]) {
        switch e.kind {
        case 1:
            guard e.payload.count == 20 else { d.undecodable += 1; return }
            func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(e.payload[at + $1]) << (8 * $1) } }
            let (sequence, now) = (u64(0), u64(8))
            let references = (0..<4).reduce(UInt32(0)) { $0 | UInt32(e.payload[16 + $1]) << (8 * $1) }
            d.detected += 1
            d.different += d.pending.count  // found again but not published live
            d.pending = []
            guard references == 0 else {
                d.notReplayable += 1
                d.skipping = true
                return
            }
            d.skipping = false
            guard let snapshot = chains.values.first(where: { $0.chainID == d.chainID })?.recent[sequence] else {
                d.undecodable += 1
                return
            }
            d.pending = d.step.process(snapshot, now: now).found
        case 2:
            guard let recorded = try? Opportunity(encoded: e.payload) else { d.undecodable += 1; return }
            d.published += 1
            if d.skipping { return }
            guard !d.pending.isEmpty else { d.different += 1; return }
            var again = d.pending.removeFirst()
            again.timestamps.published = recorded.timestamps.published
            if again.encoded() == e.payload { d.identical += 1 } else { d.different += 1 }
        default:
            d.undecodable += 1
        }
    }
}
