import AMMMath
import EVMPrimitives
import EthClient
import MarketState

/// One step a `ChainWatcher` takes on its state, with everything the step needs from outside
/// (the chain's answers, the clock): what a recording keeps of a watcher, and what replay feeds
/// a fresh state through the same code to reach the same snapshots (issue #25).
public enum WatchInput: Equatable, Sendable {
    /// A fresh book from every pool read at `head`.
    case reset(head: EthClient.Header, reads: [PoolRead])
    /// A head (or an ancestor asked for) shown to the chain tracker.
    case observe(ChainTracker.Header)
    case ancestor(ChainTracker.Header)
    /// A block range's logs, in chain order.
    case logs([EVMLog])
    /// Pools read at the end of `block` (created ones, stale ones).
    case register(block: UInt64, reads: [PoolRead])
    case finish(block: UInt64)
    case rollBack(toBefore: UInt64)
    /// A snapshot published: when its head arrived, when it was made, the newest base fee.
    case publish(headReceivedAt: UInt64, appliedAt: UInt64, baseFee: UInt256?)

    /// The kind byte of its recorded event.
    public var kind: UInt8 {
        switch self {
        case .reset: 1
        case .observe: 2
        case .ancestor: 3
        case .logs: 4
        case .register: 5
        case .finish: 6
        case .rollBack: 7
        case .publish: 8
        }
    }
}

/// A pool's state as read from the chain (`state` nil: nothing there yet), with what a V3 read
/// adds: the ticks' gross liquidity and the tick range the read covered.
public struct PoolRead: Equatable, Sendable {
    public var pool: WatchedPool
    public var state: Pool?
    public var tickGross: [Int32: UInt256]
    public var covered: ClosedRange<Int32>?

    public init(pool: WatchedPool, state: Pool?, tickGross: [Int32: UInt256] = [:], covered: ClosedRange<Int32>? = nil) {
        (self.pool, self.state, self.tickGross, self.covered) = (pool, state, tickGross, covered)
    }
}

public struct WatchInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "watch input: \(message)" }
}

extension WatchInput {
    /// The recorded payload (docs/recording.md, the watcher's stream).
    public func encoded() throws(WatchInputError) -> [UInt8] {
        var w = InputWriter()
        switch self {
        case .reset(let head, let reads):
            w.header(head)
            try w.reads(reads)
        case .observe(let h), .ancestor(let h):
            w.u64(h.number)
            w.u256(h.hash)
            w.u256(h.parentHash)
        case .logs(let logs):
            w.varint(UInt64(logs.count))
            for l in logs { w.log(l) }
        case .register(let block, let reads):
            w.u64(block)
            try w.reads(reads)
        case .finish(let block), .rollBack(let block):
            w.u64(block)
        case .publish(let received, let applied, let fee):
            w.u64(received)
            w.u64(applied)
            w.optional(fee)
        }
        return w.bytes
    }

    public init(kind: UInt8, payload: [UInt8]) throws(WatchInputError) {
        var r = InputReader(bytes: payload)
        switch kind {
        case 1: self = .reset(head: try r.header(), reads: try r.reads())
        case 2, 3:
            let h = ChainTracker.Header(number: try r.u64(), hash: try r.u256(), parentHash: try r.u256())
            self = kind == 2 ? .observe(h) : .ancestor(h)
        case 4:
            let n = try r.count(min: 60)
            var logs: [EVMLog] = []
            logs.reserveCapacity(n)
            for _ in 0..<n { logs.append(try r.log()) }
            self = .logs(logs)
        case 5: self = .register(block: try r.u64(), reads: try r.reads())
        case 6: self = .finish(block: try r.u64())
        case 7: self = .rollBack(toBefore: try r.u64())
        case 8: self = .publish(headReceivedAt: try r.u64(), appliedAt: try r.u64(), baseFee: try r.optional())
        default: throw WatchInputError("unknown kind \(kind)")
        }
        guard r.at == payload.count else { throw WatchInputError("\(payload.count - r.at) byte(s) after the event") }
    }
}
