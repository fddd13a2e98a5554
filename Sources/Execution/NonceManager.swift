import EVMCodec
import EVMPrimitives
import EthClient
import JSONRPC
import MarketWatch
import Synchronization

/// Nonces of one key on one chain: handed out one at a time (under a lock, without a hop to
/// another executor: it sits on the path to signing), each written to the
/// journal before anything is signed with it (the journal refuses a nonce a live submission
/// holds), released when what was signed with it cannot land any more, and resynchronised from
/// the chain on a gap, on "nonce too low", and after a restart.
///
/// After a crash, `recover` settles every submission the journal still has open before handing
/// out anything: one reserved and signed is looked up (landed, or held by the node and waited for
/// like a sent one, or else dropped); a bundle is waited out until its last target block has
/// passed, then found included or dropped; a sent transaction is looked up.
/// Only then does the next nonce come from the chain, so no nonce is lost and none reused.
public final class NonceManager: Sendable {
    public let chain: UInt64
    public let sender: Address
    let journal: Journal
    let eth: EthClient
    /// `next`: the next nonce (nil until synchronised); `free`: nonces released below it (their
    /// trade did not land), reused lowest first.
    private let state = Mutex<(next: UInt64?, free: Set<UInt64>)>((nil, []))

    public init(chain: UInt64, sender: Address, journal: Journal, eth: EthClient) {
        self.chain = chain
        self.sender = sender
        self.journal = journal
        self.eth = eth
    }

    /// Holds a nonce for `opportunity`; returns it with its journal row. Synchronises from the
    /// chain first if it never has.
    public func reserve(opportunity: [UInt8], now: UInt64) async throws -> (nonce: UInt64, submission: Int64) {
        if nextNonce == nil { try await resync() }
        return try reserveSynced(opportunity: opportunity, now: now)
    }

    /// `reserve` once synchronised: no suspension, one journal transaction.
    public func reserveSynced(opportunity: [UInt8], now: UInt64) throws -> (nonce: UInt64, submission: Int64) {
        try state.withLock { s in
            guard let n = s.next else { throw ExecutionError("nonces of \(sender.checksummed) on chain \(chain) are not synchronised") }
            let nonce: UInt64
            if let low = s.free.min() {
                s.free.remove(low)
                nonce = low
            } else {
                nonce = n
                s.next = n + 1
            }
            do {
                return (nonce, try journal.reserveNonce(chain: chain, sender: sender, nonce: nonce, opportunity: opportunity, at: now))
            } catch {
                // The journal says it is held (another process, or a bug here): never hand it out; start over from the chain.
                s.next = nil
                s.free = []
                throw error
            }
        }
    }

    /// What was signed with `nonce` cannot land (dropped or never sent): the nonce is free again.
    public func release(_ nonce: UInt64, submission: Int64, now: UInt64) throws {
        try journal.updateSubmission(submission, status: .dropped, at: now)
        state.withLock { s in
            guard let n = s.next, nonce < n else { return }
            if nonce == n - 1 {
                s.next = nonce
                // Free nonces just below collapse into `next`.
                while let n = s.next, n > 0, s.free.contains(n - 1) {
                    s.free.remove(n - 1)
                    s.next = n - 1
                }
            } else {
                s.free.insert(nonce)
            }
        }
    }

    /// A transaction with `nonce` landed (or the chain moved past it).
    public func confirm(submission: Int64, now: UInt64) throws {
        try journal.updateSubmission(submission, status: .included, at: now)
    }

    /// Forget what is in memory and take the next nonce from the chain's pending count (after
    /// "nonce too low", or a gap the chain reports).
    public func resync() async throws {
        let count = try await transactionCount(.pending)
        state.withLock {
            $0.next = count
            $0.free = []
        }
        try journal.setNextNonce(chain: chain, sender: sender, next: count)
    }

    /// Settles what the journal has open from before a restart (see the type's note). `head`
    /// gives the chain's current block; bundles whose target is still ahead are waited for.
    public func recover(pollEvery: Duration = .milliseconds(200), maxWait: Duration = .seconds(120)) async throws -> (included: Int, dropped: Int) {
        var included = 0, dropped = 0
        let deadline = ContinuousClock.now + maxWait
        for s in try journal.openSubmissions(chain: chain, sender: sender) {
            let now = WallClock.nanoseconds()
            if s.txHash.isEmpty {
                try journal.updateSubmission(s.seq, status: .dropped, at: now)
                dropped += 1
                continue
            }
            // Signed, and the process stopped around the send: whether it went out is not
            // journaled. One the node knows (mined, or waiting in its pool) is settled below like a
            // sent one; one it has never seen did not leave. (A bundle is journaled as sent before
            // it goes, so a reserved one is known only if it landed.)
            if s.status == .reserved, try await !eth.knows(transaction: s.txHash) {
                try journal.updateSubmission(s.seq, status: .dropped, at: now)
                dropped += 1
                continue
            }
            while true {
                // The head and the count first: a receipt missing after they were read is missing
                // at them (read after it, a transaction mined in between would count as replaced).
                let head = try await eth.blockNumber()
                let count = s.mode == "bundle" ? 0 : try await transactionCount(.latest)
                if let (landed, receipt) = try await landedReceipt(s.txHash) {
                    let reverted = receipt["status"]?.stringValue == "0x0"
                    try journal.updateSubmission(s.seq, status: reverted ? .reverted : .included, lastBlock: landed, at: now)
                    try journalRecovered(s, receipt: receipt, block: landed, at: now)
                    included += 1
                    break
                }
                let lastTarget = max(s.lastBlock, s.targetBlock)
                // A bundle past its last target did not land; a transaction whose nonce the chain
                // moved past was replaced; one neither mined nor held by the node (a reorg took it
                // out, or the pool let it go) cannot land from here: waiting would hold the start.
                let over = s.mode == "bundle" ? head >= lastTarget
                    : count > s.nonce ? true : try await !eth.knows(transaction: s.txHash)
                if over {
                    try journal.updateSubmission(s.seq, status: .dropped, at: now)
                    dropped += 1
                    break
                }
                guard ContinuousClock.now < deadline else { throw ExecutionError("nonce recovery: submission \(s.seq) (nonce \(s.nonce)) is still open after \(maxWait)") }
                try await Task.sleep(for: pollEvery)
            }
        }
        // A trade marked included without its receipt (the process stopped between the two
        // writes): its receipt journaled from the chain's, as for one found landed above.
        for s in try journal.includedWithoutReceipt(chain: chain, sender: sender) {
            if let (landed, receipt) = try await landedReceipt(s.txHash) {
                try journalRecovered(s, receipt: receipt, block: landed, at: WallClock.nanoseconds())
            }
        }
        try await resync()
        return (included, dropped)
    }

    public var nextNonce: UInt64? { state.withLock { $0.next } }

    private func transactionCount(_ block: EthClient.Block) async throws -> UInt64 {
        try await eth.transactionCount(of: sender, at: block)
    }

    private func landedReceipt(_ hash: String) async throws -> (UInt64, JSONValue)? {
        let r = try await eth.rpc.call("eth_getTransactionReceipt", [.string(hash)])
        guard r != .null, let s = r["blockNumber"]?.stringValue, let n = try? UInt256(hex: s) else { return nil }
        return (n.w0, r)
    }

    /// A trade found landed at a start (it landed while no process followed it): its receipt
    /// journaled as the live path journals one (what the executor's transfers of the asset
    /// realized, its `Executed` profit) with the decision, unless journaled already. Only trade
    /// submissions carry an asset (a cross-chain leg's receipt is its executor's to journal).
    private func journalRecovered(_ s: Journal.Submission, receipt r: JSONValue, block: UInt64, at now: UInt64) throws {
        guard !s.asset.isEmpty, let asset = try? Address(hex: s.asset), let executor = try? Address(hex: s.executor),
              try !journal.hasReceipt(s.txHash) else { return }
        let expected = (try? UInt256(decimal: s.expectedProfit)).map { Int256(bitPattern: $0) } ?? .zero
        let receipt = Journal.Receipt(chainReceipt: r, txHash: s.txHash, opportunity: s.opportunity, chain: chain, block: block, asset: asset,
                                      executor: executor, expectedProfit: expected, detectedProfit: Int256(s.detectedProfit) ?? expected)
        try journal.record(receipt: receipt, at: now)
        if let id = try? Hex.decode(s.opportunity) {
            try journal.decision(id, chain: chain, stage: "inclusion", outcome: receipt.status == 1 ? "included" : "failed",
                                 reason: receipt.status == 1 ? s.strategy : "reverted", detail: "block \(block), settled at a start", at: now)
        }
    }
}

/// An execution failure with its reason (never carrying key material).
public struct ExecutionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
