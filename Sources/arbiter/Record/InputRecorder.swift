import EVMCodec
import Feeds
import Foundation
import Logging
import MarketWatch
import Opportunities
import Pipeline
import Recording
import ServiceLifecycle
import SolanaWatch
import Synchronization

/// `--record DIR`: every input that reaches market state, as it arrives, into a recording
/// (docs/recording.md). Stream 0 describes the others: kind 1, a stream declared (JSON: its
/// number, component and chain); kind 2, the registry overrides the run started from (TOML).
/// Each chain watcher has a stream of its steps (`WatchInput`). The recording is flushed every
/// second and closed at the end; a write that fails is logged once and counted, and the bot goes
/// on without recording (a full disk never stops the trading).
final class InputRecorder: Service {
    let writer: RecordingWriter
    let logger: Logger
    private let state = Mutex((streams: [String: UInt32](), failures: 0))

    init(directory: URL, logger: Logger) throws {
        writer = try RecordingWriter(directory: directory, clock: { WallClock.nanoseconds() })
        self.logger = logger
    }

    var failures: Int { state.withLock { $0.failures } }

    /// The configuration the run started from: what replay rebuilds its watchers from.
    func config(_ toml: String) { append(RecordedEvent(stream: 0, kind: 2, arrival: WallClock.nanoseconds(), payload: Array(toml.utf8))) }

    /// A chain watcher's stream: its steps recorded as they are taken.
    func watcher(chainID: UInt64, name: String) -> @Sendable (WatchInput) -> Void {
        let stream = declare("watcher:\(chainID)", chain: chainID, name: name)
        return { [self] input in
            do {
                append(RecordedEvent(stream: stream, kind: input.kind, arrival: WallClock.nanoseconds(), payload: try input.encoded()))
            } catch {
                fail(error)
            }
        }
    }

    /// A chain's detection stream: kind 1, a snapshot taken (`DetectionService.Moment`: its
    /// sequence, the clock reading it was sized at, the CEX references weighed); kind 2, an
    /// opportunity as published (its binary form).
    /// `component`: "detection" (cycles, `DetectionService`) or "cexdex" (`CexDexService`: the
    /// same two kinds).
    func detection(chainID: UInt64, name: String, component: String = "detection") -> @Sendable (DetectionService.Recorded) -> Void {
        let stream = declare("\(component):\(chainID)", chain: chainID, name: name)
        return { [self] event in
            switch event {
            case .detect(let moment):
                append(RecordedEvent(stream: stream, kind: 1, arrival: WallClock.nanoseconds(), payload: moment.encoded()))
            case .published(let o):
                append(RecordedEvent(stream: stream, kind: 2, arrival: WallClock.nanoseconds(), payload: o.encoded()))
            }
        }
    }

    /// A chain's CoW backrun stream ("cow:<chain>"): kind 1, an evaluation (`CowBackrunStep.Moment`:
    /// the snapshot's sequence, the clock, the settlement's signed bytes, its volume, the simulated
    /// effect when there was one); kind 2, a backrun as published.
    func cowBackrun(chainID: UInt64, name: String) -> @Sendable (CowBackrunStep.Recorded) -> Void {
        let stream = declare("cow:\(chainID)", chain: chainID, name: name)
        return { [self] event in
            switch event {
            case .evaluated(let moment):
                do {
                    append(RecordedEvent(stream: stream, kind: 1, arrival: WallClock.nanoseconds(), payload: try moment.encoded()))
                } catch {
                    fail(error)
                }
            case .published(let o):
                append(RecordedEvent(stream: stream, kind: 2, arrival: WallClock.nanoseconds(), payload: o.encoded()))
            }
        }
    }

    /// The exchange's feed ("cex:binance", chain 0): every change to its books (`FeedInput`, its
    /// kind the event's): the frames as received, with the clocks they were applied at, the REST
    /// resyncs' answers, outages, the sweeps; the symbols first.
    func cexFeed(_ feed: BinanceFeed) {
        let stream = declare("cex:binance", chain: 0, name: "binance")
        feed.record { [self] input in append(RecordedEvent(stream: stream, kind: input.kind, arrival: WallClock.nanoseconds(), payload: input.encoded())) }
    }

    /// Solana detection's stream ("solana:<name>", chain 0): each change to its book and detector
    /// (`SolanaWatchStep.Input`, kinds 1–5: the detector's configuration first, pools followed,
    /// account data taken, the cluster clock, detection on what changed) and each opportunity
    /// published (kind 6).
    func solana(name: String) -> @Sendable (SolanaWatchStep.Recorded) -> Void {
        let stream = declare("solana:\(name)", chain: 0, name: name)
        return { [self] event in
            switch event {
            case .input(let input):
                append(RecordedEvent(stream: stream, kind: input.kind, arrival: WallClock.nanoseconds(), payload: input.encoded()))
            case .published(let o):
                append(RecordedEvent(stream: stream, kind: 6, arrival: WallClock.nanoseconds(), payload: o.encoded()))
            }
        }
    }

    private func declare(_ component: String, chain: UInt64, name: String) -> UInt32 {
        let (stream, new) = state.withLock { s -> (UInt32, Bool) in
            if let n = s.streams[component] { return (n, false) }
            let n = UInt32(s.streams.count + 1)
            s.streams[component] = n
            return (n, true)
        }
        if new {
            let json = JSONValue.object([("stream", .number(String(stream))), ("component", .string(component)), ("chain", .number(String(chain))),
                                         ("name", .string(name))])
            append(RecordedEvent(stream: 0, kind: 1, arrival: WallClock.nanoseconds(), payload: Array(json.text.utf8)))
        }
        return stream
    }

    private func append(_ e: RecordedEvent) {
        do { try writer.append(e) } catch { fail(error) }
    }

    private func fail(_ error: any Error) {
        let first = state.withLock { s -> Bool in
            s.failures += 1
            return s.failures == 1
        }
        if first { logger.error("recording: \(error) (further failures are counted, not logged)") }
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            do { try writer.flush() } catch { fail(error) }
        }
        do { try writer.close() } catch { fail(error) }
    }

    /// Closes the recording (after the service group ended); what it holds, for the summary.
    func finish() -> RecordingWriter.Counters {
        do { try writer.close() } catch { fail(error) }
        return writer.counters
    }
}
