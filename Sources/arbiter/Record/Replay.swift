import ArgumentParser
import EVMCodec
import EVMPrimitives
import Foundation
import MarketState
import MarketWatch
import Recording
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
    }

    func run() throws {
        let reader = try RecordingReader(directory: URL(fileURLWithPath: directory))
        var registry: Registry? = nil
        var chains: [UInt32: Chain] = [:]
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
                              let plan = try WatchPlan.configurations(registry, chains: [name], environment: [:], matrix: matrix).first else {
                            throw CLIError("\(directory): a stream declaration that does not name a chain of the recorded configuration: \(d.text)")
                        }
                        chains[n] = Chain(name: name, chainID: id, replay: WatchReplay(plan))
                    }
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
            Output.lineNow(JSONValue.object([("files", .number(String(report.files))), ("chunks", .number(String(report.chunks))),
                                             ("events", .number(String(report.events))), ("skipped", .array(report.skipped.map { .string($0.description) })),
                                             ("unknownStreams", .number(String(unknown))), ("seconds", .number(String(format: "%.3f", seconds))),
                                             ("chains", .array(list))]).text)
        } else {
            Output.lineNow("replayed \(report.events) events (\(report.chunks) chunks, \(report.files) file(s)) in \(String(format: "%.3f", seconds)) s")
            for s in report.skipped { Output.lineNow("skipped: \(s)") }
            for c in ordered {
                Output.lineNow("\(c.name): \(c.steps) steps, \(c.snapshots) snapshots, block \(c.last.map { String($0.block) } ?? "-"), \(c.last?.book.count ?? 0) pools"
                               + (c.undecodable > 0 ? ", \(c.undecodable) undecodable" : ""))
            }
        }
    }
}
