/// Leg one of a cross-chain trade whose fate is not known (sent and pending when last seen, or a
/// restart came first), as decisions with no I/O: the executor observes the chain and sends what
/// this asks, and hands each result back.
///
/// A receipt decides. A bundle (or a transaction whose nonce the journal lost) with no receipt
/// once the chain is past `until` never lands. A transaction may land as long as its nonce is
/// free, so it counts as never landed only once the chain's count has passed its nonce without it
/// (then a cancellation of ours that landed says so). Past `until`, a cancellation (same nonce)
/// is sent to settle it either way, and again whenever the node has forgotten it and the original
/// both (evicted from its pool: the nonce is free then), up to `maxCancellations`.
public struct LegOneInDoubt: Sendable {
    public enum Action: Sendable, Equatable {
        /// Read the head, then the key's transaction count, then leg one's receipt (a receipt
        /// missing after the head and count were read is missing at them).
        case observe
        /// Look for a receipt of any of these cancellations (newest first).
        case findCancellation([String])
        /// Whether the node still knows any of these hashes (mined or waiting).
        case knows([String])
        case cancel
        /// Wait one poll, then observe again.
        case pause
        case end(Fate)
    }

    public enum Fate: Sendable, Equatable {
        /// It has a receipt.
        case landed
        /// A bundle past its blocks, or a transaction whose nonce the journal lost: gone.
        case gone
        /// Our cancellation took the nonce.
        case cancelled(String)
        /// Another transaction took the nonce.
        case dropped
    }

    public enum Event: Sendable {
        case observed(head: UInt64, count: UInt64?, receipt: Bool)
        case cancellationLanded(String?)
        case known(Bool)
        /// The cancellation's hash, or nil if it could not be sent.
        case cancelSent(String?)
        case paused
    }

    public let depositTx: String
    /// The block past which it is given up (a bundle) or cancelled (a transaction).
    public let until: UInt64
    /// Its nonce, when the journal has it and it went as a transaction (not a bundle).
    public let nonce: UInt64?
    /// A cancellation can be sent (the route has a transaction endpoint).
    public let canCancel: Bool
    public let maxCancellations: Int
    public private(set) var cancellations: [String] = []
    private var head: UInt64 = 0

    public init(depositTx: String, until: UInt64, nonce: UInt64?, canCancel: Bool, maxCancellations: Int) {
        self.depositTx = depositTx
        self.until = until
        self.nonce = nonce
        self.canCancel = canCancel
        self.maxCancellations = maxCancellations
    }

    public mutating func advance(_ event: Event) -> Action {
        switch event {
        case .observed(_, _, true): return .end(.landed)
        case .observed(let h, let count, false):
            head = h
            guard let nonce else { return h > until ? .end(.gone) : .pause }
            if let count, count > nonce { return cancellations.isEmpty ? .end(.dropped) : .findCancellation(cancellations.reversed()) }
            guard h > until, cancellations.count < maxCancellations, canCancel else { return .pause }
            return cancellations.isEmpty ? .cancel : .knows([depositTx] + cancellations)
        case .cancellationLanded(let c?): return .end(.cancelled(c))
        case .cancellationLanded(nil): return .end(.dropped)
        case .known(true): return .pause
        case .known(false): return .cancel
        case .cancelSent(let c):
            if let c { cancellations.append(c) }
            return .pause
        case .paused: return .observe
        }
    }
}
