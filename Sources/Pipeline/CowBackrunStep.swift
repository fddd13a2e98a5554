import CowProtocol
import Detection
import EVMPrimitives
import MarketState
import MarketWatch
import Opportunities

/// One evaluation of a pending CoW settlement on one snapshot, synchronous and deterministic: its
/// effect on the watched pools (read from its call data, or the logs a simulation gave), then the
/// backruns of the displaced pools (`CowBackrunDetector`). `CowBackrunService` runs it live, after
/// the asynchronous parts (the node's receipt, a simulation); replay runs it on the recorded
/// moments, which carry what those parts answered.
public struct CowBackrunStep {
    /// What one evaluation took: the snapshot (by sequence), the clock reading, the settlement's
    /// signed bytes and when it was seen, its dollar volume as admitted, and the effect's logs
    /// when a simulation gave them (nil: read from the call data again).
    public struct Moment: Equatable, Sendable {
        public var sequence: UInt64
        public var now: UInt64
        public var volumeUSD: Double
        public var seenAt: UInt64
        public var raw: [UInt8]
        public var simulated: [EVMLog]?

        public init(sequence: UInt64, now: UInt64, volumeUSD: Double, seenAt: UInt64, raw: [UInt8], simulated: [EVMLog]?) {
            (self.sequence, self.now, self.volumeUSD, self.seenAt, self.raw, self.simulated) = (sequence, now, volumeUSD, seenAt, raw, simulated)
        }
    }

    /// What the service hands its recorder: an evaluation (kind 1) and each backrun published (kind 2).
    public enum Recorded: Sendable {
        case evaluated(Moment)
        case published(Opportunity)
    }

    public let configuration: CowBackrunService.Configuration
    /// The settlement contract: a recorded settlement is decoded against it again.
    public let settlement: Address
    public private(set) var detector: CowBackrunDetector

    public init(configuration: CowBackrunService.Configuration, settlement: Address) {
        self.configuration = configuration
        self.settlement = settlement
        detector = CowBackrunDetector(configuration: configuration.detector)
    }

    /// The settlement's effect on `snapshot`'s pools, read from its call data.
    public static func predicted(_ p: PendingSettlement, on snapshot: ChainWatcher.Snapshot) -> SettlementEffect {
        let pools = snapshot.pools
        return SettlementEffect.predict(p.call, book: snapshot.book, tokens: { i in i < pools.count ? (pools[i].token0, pools[i].token1) : nil },
                                        block: snapshot.block &+ 1)
    }

    /// Whether the settlement is large enough to follow (its volume), as the detector counts it.
    public mutating func admit(_ p: PendingSettlement, usdPerRaw: (Address) -> Double?) -> Double? {
        detector.admit(p.call, usdPerRaw: usdPerRaw)
    }

    /// The backruns behind `p` whose effect on `snapshot` is `effects`, sized at clock reading `now`.
    public mutating func backruns(of p: PendingSettlement, effects: [EVMLog], volumeUSD: Double, on snapshot: ChainWatcher.Snapshot,
                                  now: UInt64) -> [Opportunity] {
        detector.backruns(of: p, effects: effects, volumeUSD: volumeUSD, book: snapshot.book,
                          pools: snapshot.pools.map { PoolRef(address: $0.address, token0: $0.token0, token1: $0.token1, venue: $0.venue) },
                          gasPrice: (snapshot.baseFee ?? .zero) &+ configuration.priorityFee, block: snapshot.block,
                          timestamps: .init(eventReceived: p.seenAt, stateApplied: now), now: now)
    }

    /// A recorded evaluation run again on the snapshot it took: nil when the recorded settlement no
    /// longer decodes as one, or its effect cannot be read again (it was simulated live and the
    /// simulation's logs were not recorded).
    public mutating func replay(_ m: Moment, on snapshot: ChainWatcher.Snapshot) -> [Opportunity]? {
        guard let p = try? PendingSettlement(raw: m.raw, settlement: settlement, seenAt: m.seenAt) else { return nil }
        let effects: [EVMLog]
        if let simulated = m.simulated {
            effects = simulated
        } else if case .logs(let logs) = Self.predicted(p, on: snapshot) {
            effects = logs
        } else {
            return nil
        }
        return backruns(of: p, effects: effects, volumeUSD: m.volumeUSD, on: snapshot, now: m.now)
    }
}

extension CowBackrunStep.Moment {
    /// Layout (little-endian): version 1 (u8), sequence, now, volume (IEEE bits), seenAt (u64 each),
    /// the signed bytes (u32 length, bytes), then 0, or 1 and the simulated logs as the watcher
    /// stream's `logs` step (u32 length, bytes).
    public func encoded() throws -> [UInt8] {
        var w = ByteWriter()
        w.u8(1)
        for v in [sequence, now, volumeUSD.bitPattern, seenAt] { w.u64(v) }
        w.sized(raw)
        if let simulated {
            w.u8(1)
            w.sized(try WatchInput.logs(simulated).encoded())
        } else {
            w.u8(0)
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(DetectionService.Moment.Malformed) {
        typealias Malformed = DetectionService.Moment.Malformed
        var r = ByteReader(bytes, what: "a CoW evaluation") { Malformed(description: $0) }
        guard try r.u8() == 1 else { throw Malformed(description: "a CoW evaluation of an unknown version") }
        sequence = try r.u64()
        now = try r.u64()
        volumeUSD = Double(bitPattern: try r.u64())
        seenAt = try r.u64()
        raw = Array(try r.take(r.count(itemSize: 1)))
        switch try r.u8() {
        case 0:
            simulated = nil
        case 1:
            let logs = Array(try r.take(r.count(itemSize: 1)))
            guard let input = try? WatchInput(kind: WatchInput.logs([]).kind, payload: logs), case .logs(let l) = input else {
                throw Malformed(description: "a CoW evaluation whose simulated logs do not decode")
            }
            simulated = l
        default:
            throw Malformed(description: "a CoW evaluation with a bad simulation flag")
        }
        try r.end()
    }
}
