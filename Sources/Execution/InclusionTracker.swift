import EVMSigning

/// Following one submitted trade to its end, as decisions with no I/O: the driver waits for blocks,
/// looks for receipts and sends what this asks, and hands each result back.
///
/// A bundle left out of its block goes again, unchanged, for the next one while its path still
/// quotes as detected (up to `maxBundleBlocks` blocks). A transaction pending `replaceAfterBlocks`
/// is replaced at higher fees (at most `maxReplacements` times, while it still pays), else
/// cancelled; a cancellation pending `maxPendingBlocks` more is given up to the chain's nonce.
/// Every version sent with the nonce is looked for: whichever lands takes it. Absence is only
/// concluded from the node's answers once the target block has been seen: while the head or the
/// receipts cannot be read, the tracker waits for the next block and asks again (the driver's
/// deadline bounds it and leaves the trade open for the next start).
public struct InclusionTracker: Sendable {
    public struct Limits: Sendable {
        public var maxBundleBlocks = 3
        public var replaceAfterBlocks: UInt64 = 3
        public var maxReplacements = 2
        public var maxPendingBlocks: UInt64 = 10
        public init() {}
    }

    /// One version sent with the trade's nonce (the trade, a replacement, or the cancellation).
    public struct Version: Sendable, Equatable {
        public var hash: [UInt8]
        public var cancellation: Bool
        public init(hash: [UInt8], cancellation: Bool) {
            self.hash = hash
            self.cancellation = cancellation
        }
    }

    public enum Action: Sendable, Equatable {
        /// Wait (bounded) for the chain's head to reach `block`; report the head.
        case awaitBlock(UInt64)
        /// Look for a receipt of any of these versions (newest first); report the one that landed.
        case findReceipt([Version])
        /// The bundle was left out: if its path still quotes as detected at `head`, simulate and
        /// send the same bundle for the state's next block; report that block, or nil.
        case resendBundle(head: UInt64)
        /// Replace the pending transaction (`current`) at higher fees, if it still pays at `head`.
        case replace(head: UInt64)
        /// Send a cancellation: a 0-value transfer to ourselves at the nonce, half again the fees.
        case cancel
        case end(Verdict)
    }

    public enum Verdict: Sendable, Equatable {
        /// A version landed: the trade (or a replacement), or the cancellation (the trade never ran).
        case landed(Version)
        /// Left out: the nonce goes back.
        case notIncluded
        /// Cancelled, and neither version landed in time: the chain says which nonce is next.
        case dropped
    }

    public enum Event: Sendable {
        case head(UInt64)
        case receipt(Version?)
        /// The receipts could not be read (the node did not answer): nothing is concluded.
        case unread
        case resent(target: UInt64?)
        /// The replacement went out as `Version` with `Transaction`.
        case replaced(Transaction, Version)
        /// The node says an earlier version took the nonce: its receipt shows next time round.
        case replacementLate
        /// No replacement (it no longer pays, the path moved, or the node refused it).
        case replacementRefused
        case cancelSent(Version)
    }

    public let limits: Limits
    public let bundled: Bool
    /// A transaction route has an endpoint to send replacements to.
    public let canReplace: Bool
    public private(set) var target: UInt64
    /// Every version sent with this nonce, oldest first.
    public private(set) var sent: [Version]
    /// The version a replacement or cancellation supersedes.
    public private(set) var current: Transaction
    public private(set) var replacements = 0
    public private(set) var cancelled = false
    private var attempts = 1
    private var head: UInt64 = 0
    private var pendingSince: UInt64

    public init(limits: Limits, bundled: Bool, canReplace: Bool, target: UInt64, transaction: Transaction, hash: [UInt8]) {
        self.limits = limits
        self.bundled = bundled
        self.canReplace = canReplace
        self.target = target
        self.current = transaction
        self.sent = [Version(hash: hash, cancellation: false)]
        self.pendingSince = target - 1
    }

    public var start: Action { .awaitBlock(target) }

    public mutating func advance(_ event: Event) -> Action {
        switch event {
        case .head(let h):
            head = h
            return .findReceipt(sent.reversed())
        case .receipt(let landed?): return .end(.landed(landed))
        case .receipt(nil): return bundled ? leftOut() : pending()
        case .unread: return .awaitBlock(head + 1)
        case .resent(let next?):
            target = next
            return .awaitBlock(next)
        case .resent(nil): return .end(.notIncluded)
        case .replaced(let tx, let version):
            current = tx
            sent.append(version)
            replacements += 1
            pendingSince = head
            return nextBlock()
        case .replacementLate: return nextBlock()
        case .replacementRefused:
            cancelled = true
            return .cancel
        case .cancelSent(let version):
            sent.append(version)
            pendingSince = head
            return nextBlock()
        }
    }

    /// A bundle not in its block: again for a later one, a bounded number of times.
    private mutating func leftOut() -> Action {
        // The target block not seen yet (the wait for it ended early): it may still land there.
        guard head >= target else { return .awaitBlock(target) }
        guard attempts < limits.maxBundleBlocks else { return .end(.notIncluded) }
        attempts += 1
        return .resendBundle(head: head)
    }

    /// A transaction still pending: wait, replace, cancel, or give up the cancellation.
    private mutating func pending() -> Action {
        guard canReplace else { return head >= target ? .end(.notIncluded) : .awaitBlock(target) }
        let waited = head > pendingSince ? head - pendingSince : 0
        if cancelled { return waited < limits.maxPendingBlocks ? nextBlock() : .end(.dropped) }
        if waited < limits.replaceAfterBlocks { return nextBlock() }
        if replacements < limits.maxReplacements { return .replace(head: head) }
        cancelled = true
        return .cancel
    }

    private mutating func nextBlock() -> Action {
        target = head + 1
        return .awaitBlock(target)
    }
}
