import EVMPrimitives

/// A chain's head as `newHeads` (or polling) reports it, with the hashes of the last `depth`
/// blocks: it tells the owner when to apply logs, when blocks were skipped (backfill them), and
/// when the chain reorganised (roll back to the fork point, then backfill), finding the fork point
/// by asking for ancestors of the new chain one at a time. A value type: the owner performs the
/// actions (as postgres-nio's state machines do).
public struct ChainTracker: Sendable {
    public struct Header: Equatable, Sendable {
        public var number: UInt64
        public var hash: UInt256
        public var parentHash: UInt256

        public init(number: UInt64, hash: UInt256, parentHash: UInt256) {
            self.number = number
            self.hash = hash
            self.parentHash = parentHash
        }
    }

    public enum Action: Equatable, Sendable {
        /// The header extends the chain: logs through `number` can be applied.
        case advance(UInt64)
        /// Headers between the last one and this were not seen: fetch logs for the range.
        case backfill(from: UInt64, to: UInt64)
        /// Already known: nothing to do.
        case ignore
        /// The new chain's parent is not ours: send `header(number:)` of the new chain through
        /// `ancestor(_:)` until the fork point is found.
        case fetchAncestor(UInt64)
        /// Blocks after `forkPoint` were replaced: roll state back to it (`PoolBook.rollBack(toBefore:
        /// forkPoint + 1)`), then fetch logs from `forkPoint + 1` to `head`.
        case reorg(forkPoint: UInt64, head: UInt64)
        /// The reorg goes deeper than the hashes kept: read all state again.
        case resync
    }

    public let depth: UInt64
    /// Hashes of the canonical chain as we know it, by number, for the last `depth` blocks.
    private var hashes: [UInt64: UInt256] = [:]
    public private(set) var head: UInt64?
    /// The new chain's header we are finding the fork point for, and the lowest ancestor seen.
    private var pendingHead: Header?
    private var pendingAncestor: Header?
    private var pendingHashes: [UInt64: UInt256] = [:]

    public init(depth: UInt64 = 64) {
        self.depth = depth
    }

    /// The hash we hold for block `number`.
    public func hash(at number: UInt64) -> UInt256? { hashes[number] }

    public mutating func observe(_ h: Header) -> Action {
        guard let top = head else {
            record(h)
            return .advance(h.number)
        }
        if let known = hashes[h.number], known == h.hash { return .ignore }
        if h.number == 0 || h.number + depth <= top { return .ignore }  // older than anything we could roll back
        if h.number > top + 1 {
            // Skipped blocks: we cannot check the parent; take the header and backfill the range.
            record(h)
            return .backfill(from: top + 1, to: h.number)
        }
        if let parent = hashes[h.number - 1], parent == h.parentHash {
            if h.number <= top {
                // Replaces blocks h.number…top: the fork point is h.number − 1.
                let fork = h.number - 1
                forget(after: fork)
                record(h)
                return .reorg(forkPoint: fork, head: h.number)
            }
            record(h)
            return .advance(h.number)
        }
        // The parent is not what we hold: walk the new chain back.
        pendingHead = h
        pendingAncestor = h
        pendingHashes = [h.number: h.hash]
        return ancestorRequest()
    }

    /// An ancestor of the new chain, as asked for by `.fetchAncestor`.
    public mutating func ancestor(_ a: Header) -> Action {
        guard let lowest = pendingAncestor, let newHead = pendingHead, a.number + 1 == lowest.number, a.hash == lowest.parentHash else {
            return ancestorRequest()
        }
        pendingHashes[a.number] = a.hash
        pendingAncestor = a
        if let parent = hashes[a.number - 1], parent == a.parentHash {
            let fork = a.number - 1
            forget(after: fork)
            for (n, hash) in pendingHashes { hashes[n] = hash }
            head = newHead.number
            prune()
            pendingHead = nil
            pendingAncestor = nil
            pendingHashes = [:]
            return .reorg(forkPoint: fork, head: newHead.number)
        }
        return ancestorRequest()
    }

    /// Asks for the next ancestor down, if the hash it must be compared with (its parent's) is one
    /// we hold; otherwise no fork point can be proven and everything is read again.
    private mutating func ancestorRequest() -> Action {
        guard let lowest = pendingAncestor, lowest.number >= 2, hashes[lowest.number - 2] != nil else {
            pendingHead = nil
            pendingAncestor = nil
            pendingHashes = [:]
            hashes = [:]
            head = nil
            return .resync
        }
        return .fetchAncestor(lowest.number - 1)
    }

    private mutating func record(_ h: Header) {
        hashes[h.number] = h.hash
        head = h.number
        prune()
    }

    private mutating func forget(after number: UInt64) {
        for n in hashes.keys where n > number { hashes[n] = nil }
        head = number
    }

    private mutating func prune() {
        guard let top = head, top >= depth else { return }
        for n in hashes.keys where n + depth <= top { hashes[n] = nil }
    }
}
