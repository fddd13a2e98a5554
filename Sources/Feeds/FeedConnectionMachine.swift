/// One connection slot of the feed (a set of streams, at most 1,024) as a state machine: events
/// in, actions out; the owner performs the actions. It keeps one connection live, replaces it
/// make-before-break when it nears Binance's 24-hour cut or the server announces a shutdown
/// (the old one is closed only once the new one delivers), reconnects after a drop or a stall
/// with jittered exponential back-off, keeps within the connection-attempt limit, and gives up
/// after a bounded run of failures.
struct FeedConnectionMachine {
    struct Options {
        /// Replace a connection this old (Binance cuts at 24 h).
        var maxConnectionAge: UInt64 = 23 * 3_600_000_000_000 + 30 * 60_000_000_000
        /// No frame (data or ping answer) for this long: the connection is dead.
        var silenceTimeout: UInt64 = 30_000_000_000
        /// A new connection that delivers nothing in this long is closed.
        var connectTimeout: UInt64 = 10_000_000_000
        var initialBackoff: UInt64 = 250_000_000
        var maxBackoff: UInt64 = 30_000_000_000
        /// Attempts in a row that fail before the slot gives up.
        var maxFailures = 50
        /// Connection attempts allowed per window (Binance: 300 per 5 minutes per IP, shared by slots).
        var attemptsPerWindow = 300
        var attemptWindow: UInt64 = 300_000_000_000
    }

    enum Event: Equatable {
        case tick(at: UInt64, lastFrame: UInt64)
        /// The first frame arrived on connection `gen`.
        case live(gen: Int, at: UInt64)
        case shutdownNotice(gen: Int, at: UInt64)
        case closed(gen: Int, at: UInt64)
    }

    enum Reason: String { case rotation, serverShutdown, stalled, connectTimeout, replaced, outage }

    enum Action: Equatable {
        case connect(gen: Int, reason: Reason)
        case close(gen: Int, reason: Reason)
        /// The connection is live after an outage: fetch snapshots for what may have been missed.
        case resync
        case giveUp(failures: Int)
    }

    struct Connection {
        var gen: Int
        var openedAt: UInt64
        var live = false
        var closing = false
    }

    let options: Options
    var current: Connection?
    var successor: Connection?
    var nextGen = 1
    var failures = 0
    var nextAttemptAt: UInt64 = 0
    var attempts: [UInt64] = []
    /// Live data was lost (never connected, or the live connection dropped with no successor).
    var outage = true
    var gaveUp = false
    var rng: SplitMix64

    init(options: Options, seed: UInt64) {
        self.options = options
        rng = SplitMix64(seed: seed)
    }

    mutating func handle(_ e: Event) -> [Action] {
        guard !gaveUp else { return [] }
        switch e {
        case .tick(let now, let lastFrame):
            return tick(now, lastFrame: lastFrame)
        case .live(let gen, _):
            var out: [Action] = []
            if successor?.gen == gen, let old = current {
                successor!.live = true
                current = successor
                successor = nil
                out.append(.close(gen: old.gen, reason: .replaced))
            } else if current?.gen == gen {
                current!.live = true
            } else {
                return []
            }
            failures = 0
            if outage {
                outage = false
                out.append(.resync)
            }
            return out
        case .shutdownNotice(let gen, let now):
            guard current?.gen == gen, successor == nil else { return [] }
            return [open(now, reason: .serverShutdown, asSuccessor: true)].compactMap { $0 }
        case .closed(let gen, let now):
            if successor?.gen == gen {
                successor = nil
                return failed(now)
            }
            guard current?.gen == gen else { return [] }
            let wasLive = current!.live
            current = nil
            if let s = successor {
                // The replacement is already on its way: it becomes the connection.
                current = s
                successor = nil
                if !s.live { outage = true }
                return []
            }
            outage = true
            return wasLive ? retrySoon(now) : failed(now)
        }
    }

    mutating func tick(_ now: UInt64, lastFrame: UInt64) -> [Action] {
        var out: [Action] = []
        if var c = current, !c.closing {
            if c.live, now > lastFrame, now - lastFrame > options.silenceTimeout {
                c.closing = true
                current = c
                out.append(.close(gen: c.gen, reason: .stalled))
            } else if !c.live, now - c.openedAt > options.connectTimeout {
                c.closing = true
                current = c
                out.append(.close(gen: c.gen, reason: .connectTimeout))
            } else if c.live, successor == nil, now - c.openedAt >= options.maxConnectionAge, now >= nextAttemptAt {
                if let a = open(now, reason: .rotation, asSuccessor: true) { out.append(a) }
            }
        }
        if var s = successor, !s.live, !s.closing, now - s.openedAt > options.connectTimeout {
            s.closing = true
            successor = s
            out.append(.close(gen: s.gen, reason: .connectTimeout))
        }
        if current == nil, successor == nil, now >= nextAttemptAt {
            if let a = open(now, reason: .outage, asSuccessor: false) { out.append(a) }
        }
        return out
    }

    /// A new connection, if the attempt budget allows one now.
    mutating func open(_ now: UInt64, reason: Reason, asSuccessor: Bool) -> Action? {
        attempts.removeAll { now >= $0 && now - $0 >= options.attemptWindow }
        guard attempts.count < options.attemptsPerWindow else {
            nextAttemptAt = attempts[0] + options.attemptWindow
            return nil
        }
        attempts.append(now)
        let c = Connection(gen: nextGen, openedAt: now)
        nextGen += 1
        if asSuccessor { successor = c } else { current = c }
        return .connect(gen: c.gen, reason: reason)
    }

    /// A live connection dropped: a new one after a short jittered wait.
    mutating func retrySoon(_ now: UInt64) -> [Action] {
        failures = 0
        nextAttemptAt = now + options.initialBackoff / 2 + rng.next() % (options.initialBackoff / 2 + 1)
        return []
    }

    mutating func failed(_ now: UInt64) -> [Action] {
        failures += 1
        if failures >= options.maxFailures {
            gaveUp = true
            return [.giveUp(failures: failures)]
        }
        let shift = UInt64(min(failures - 1, 20))
        let base = min(options.initialBackoff << shift, options.maxBackoff)
        // Full jitter over the upper half, so that slots and clients do not reconnect in step.
        let wait = base / 2 + rng.next() % (base / 2 + 1)
        nextAttemptAt = now + wait
        return []
    }
}

/// A small seeded generator for jitter (deterministic in tests).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
