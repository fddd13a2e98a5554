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

    @Option(name: .long, help: "max: as fast as it goes; 1x: each event at its recorded distance from the first (a virtual clock paced by the wall's).")
    var speed: Speed = .max

    enum Speed: String, ExpressibleByArgument { case max, x1 = "1x" }

    /// A chain's opportunities published live, compared with what detection finds again at the
    /// same moments: byte for byte (the publication time is the recorded one: the moment it left,
    /// not a thing detection decides).
    struct Comparison {
        var published = 0
        var identical = 0
        var different = 0
        /// Moments sized against CEX references a recording of before they were kept does not hold: not compared.
        var notReplayable = 0
        /// Found again and not yet matched with a published one, by id: a watcher that publishes
        /// while it detects again (Solana's, between its awaits) records one detection's
        /// publications after the next detection.
        var pending: [[UInt8]: Opportunity] = [:]
        var skipping = false
        var undecodable = 0
    }

    func run() throws {
        let reader = try RecordingReader(directory: URL(fileURLWithPath: directory))
        var session = ReplaySession(source: directory)
        var comparisons: [UInt32: Comparison] = [:]
        let began = ContinuousClock.now
        var first: UInt64? = nil
        let report = try reader.forEachChunk { events in
            for e in events {
                if speed == .x1 { Self.pace(e.arrival, first: &first, began: began) }
                guard let event = try session.feed(e) else { continue }
                switch event {
                case .snapshot: break
                case .detected(let stream, _, _, _, let unrecorded, let found):
                    Self.compare(found: found, unrecordedReferences: unrecorded, &comparisons[stream, default: Comparison()])
                case .solanaDetected(let stream, let found):
                    Self.compare(found: found, unrecordedReferences: 0, &comparisons[stream, default: Comparison()])
                case .published(let stream, _, let recorded, let raw):
                    Self.compare(published: recorded, raw: raw, &comparisons[stream, default: Comparison()])
                }
            }
        }
        let chains = session.orderedChains
        let detections = session.detections.sorted { ($0.value.chainID, $0.value.kind) < ($1.value.chainID, $1.value.kind) }
        let unknown = session.unknown
        let feeds = session.feeds.sorted { $0.key < $1.key }.map(\.value)
        let seconds = Double((ContinuousClock.now - began).components.attoseconds) / 1e18 + Double((ContinuousClock.now - began).components.seconds)
                if json {
            let list = chains.map { c in
                JSONValue.object([("chain", .string(c.name)), ("chainID", .number(String(c.chainID))), ("steps", .number(String(c.steps))),
                                  ("snapshots", .number(String(c.snapshots))), ("undecodable", .number(String(c.undecodable))),
                                  ("block", c.last.map { JSONValue.number(String($0.block)) } ?? .null), ("hash", c.last.map { JSONValue.string(Hex.encode($0.hash.bigEndianBytes)) } ?? .null),
                                  ("pools", .number(String(c.last?.book.count ?? 0))), ("appliedAt", c.last.map { JSONValue.number(String($0.appliedAt)) } ?? .null)])
            }
            let found = detections.map { (stream, d) in
                let c = comparisons[stream, default: Comparison()].closed
                return JSONValue.object([("chain", .string(d.name)), ("kind", .string(d.kind)), ("detected", .number(String(d.detected))), ("published", .number(String(c.published))),
                                         ("identical", .number(String(c.identical))), ("different", .number(String(c.different))),
                                         ("notReplayable", .number(String(c.notReplayable))), ("undecodable", .number(String(d.undecodable + c.undecodable)))])
            }
            Output.lineNow(JSONValue.object([("files", .number(String(report.files))), ("chunks", .number(String(report.chunks))),
                                             ("events", .number(String(report.events))), ("skipped", .array(report.skipped.map { .string($0.description) })),
                                             ("unknownStreams", .number(String(unknown))), ("seconds", .number(String(format: "%.3f", seconds))),
                                             ("chains", .array(list)), ("detection", .array(found)),
                                             ("cex", .array(feeds.map(\.json)))]).text)
        } else {
            Output.lineNow("replayed \(report.events) events (\(report.chunks) chunks, \(report.files) file(s)) in \(String(format: "%.3f", seconds)) s")
            for s in report.skipped { Output.lineNow("skipped: \(s)") }
            for c in chains {
                Output.lineNow("\(c.name): \(c.steps) steps, \(c.snapshots) snapshots, block \(c.last.map { String($0.block) } ?? "-"), \(c.last?.book.count ?? 0) pools"
                               + (c.undecodable > 0 ? ", \(c.undecodable) undecodable" : ""))
            }
            for f in feeds { Output.lineNow(f.line) }
            for (stream, d) in detections {
                let c = comparisons[stream, default: Comparison()].closed
                Output.lineNow("\(d.name) \(["cexdex": "CEX–DEX detection", "cow": "CoW backruns", "solana": "Solana detection"][d.kind] ?? "detection"): \(d.detected) snapshots sized, \(c.published) opportunities published live, \(c.identical) found again identical, "
                               + "\(c.different) different" + (c.notReplayable > 0 ? ", \(c.notReplayable) sized against unrecorded CEX references (not compared)" : ""))
            }
        }
    }

    /// Waits until `arrival` is as far from the first event's as the wall clock is from `began`.
    static func pace(_ arrival: UInt64, first: inout UInt64?, began: ContinuousClock.Instant) {
        let origin = first ?? arrival
        first = origin
        let due = began + .nanoseconds(Int64(clamping: arrival &- origin))
        let wait = due - ContinuousClock.now
        if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18) }
    }

    /// A detection moment run again: what it found waits for the published ones that follow.
    static func compare(found: [Opportunity], unrecordedReferences: Int, _ c: inout Comparison) {
        c.skipping = unrecordedReferences != 0
        if c.skipping {
            c.notReplayable += 1
            return
        }
        for o in found {
            if c.pending.updateValue(o, forKey: o.id) != nil { c.different += 1 }  // found twice, published at most once
        }
    }

    /// A published opportunity: equal, byte for byte, to the next one found again?
    static func compare(published recorded: Opportunity, raw: [UInt8], _ c: inout Comparison) {
        c.published += 1
        if c.skipping { return }
        guard var again = c.pending.removeValue(forKey: recorded.id) else {
            c.different += 1
            return
        }
        again.timestamps.published = recorded.timestamps.published
        if again.encoded() == raw { c.identical += 1 } else { c.different += 1 }
    }
}

extension Replay.Comparison {
    /// At the end: what was found again and never published counts as different.
    var closed: Self {
        var c = self
        c.different += c.pending.count  // found again but never published live
        c.pending = [:]
        return c
    }
}
