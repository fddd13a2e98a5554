import EVMPrimitives
import EVMSigning
import Execution
import Testing

/// The inclusion tracker's decisions with no chain: a scripted head, receipts and send results,
/// and the actions it asks for, to each way a submitted trade ends.
@Suite struct InclusionTrackerTests {
    static let tx = Transaction(type: .dynamicFee, chainId: 1, nonce: 5, maxPriorityFeePerGas: UInt256(1), maxFeePerGas: UInt256(3), gasLimit: 300_000,
                                to: ExecutionCoreTests.p1, value: .zero, data: [])
    static func version(_ n: UInt8, cancellation: Bool = false) -> InclusionTracker.Version { .init(hash: [n], cancellation: cancellation) }

    /// Runs the tracker against a chain that advances one block per wait and whose receipt for
    /// `lands` (a version's first hash byte) appears from block `landsAt`; replacements and the
    /// cancellation get hashes 2, 3, …; `replace` answers each replacement. The node does not answer
    /// (its head stays, its receipts unread) while the head is in `down`. Returns the actions and the verdict.
    static func run(bundled: Bool, canReplace: Bool = true, lands: UInt8? = nil, landsAt: UInt64 = 0, resend: Bool = true,
                    replace: [String] = ["ok"], down: Range<UInt64> = 0..<0, downWaits: Int = 0) -> (trace: [String], verdict: InclusionTracker.Verdict?) {
        var limits = InclusionTracker.Limits()
        limits.maxPendingBlocks = 4
        var t = InclusionTracker(limits: limits, bundled: bundled, canReplace: canReplace, target: 11, transaction: tx, hash: [1])
        var action = t.start, head: UInt64 = 10, next: UInt8 = 2, replies = replace, trace: [String] = [], outage = downWaits
        for _ in 0..<60 {
            let event: InclusionTracker.Event
            switch action {
            case .end(let verdict): return (trace, verdict)
            case .awaitBlock(let b):
                trace.append("await:\(b)")
                // In an outage the wait ends on its bound with the head last seen, `downWaits` times.
                if down.contains(head + 1), outage > 0 {
                    outage -= 1
                    event = .head(head)
                } else {
                    head = max(head + 1, b)
                    event = .head(head)
                }
            case .findReceipt(let versions):
                event = down.contains(head + 1) && outage > 0 ? .unread : .receipt(versions.first { $0.hash == [lands ?? 0] && head >= landsAt })
            case .resendBundle(let h):
                trace.append("resend@\(h)")
                event = .resent(target: resend ? h + 1 : nil)
            case .replace(let h):
                trace.append("replace@\(h)")
                let reply = replies.count > 1 ? replies.removeFirst() : replies[0]
                if reply == "ok" {
                    var bumped = t.current
                    bumped.maxFeePerGas = bumped.maxFeePerGas &+ UInt256(1)
                    event = .replaced(bumped, version(next))
                    next += 1
                } else {
                    event = reply == "late" ? .replacementLate : .replacementRefused
                }
            case .cancel:
                trace.append("cancel")
                event = .cancelSent(version(next, cancellation: true))
                next += 1
            }
            action = t.advance(event)
        }
        return (trace, nil)
    }

    @Test func aBundleInItsBlockLands() {
        let r = Self.run(bundled: true, lands: 1, landsAt: 11)
        #expect(r.trace == ["await:11"] && r.verdict == .landed(Self.version(1)))
    }

    @Test func aBundleLeftOutGoesAgainTwiceThenIsNotIncluded() {
        let r = Self.run(bundled: true)
        #expect(r.trace == ["await:11", "resend@11", "await:12", "resend@12", "await:13"])
        #expect(r.verdict == .notIncluded)
        // The path moved: not again.
        #expect(Self.run(bundled: true, resend: false).trace == ["await:11", "resend@11"])
        // Left out once, in the next block.
        #expect(Self.run(bundled: true, lands: 1, landsAt: 12).verdict == .landed(Self.version(1)))
    }

    @Test func aPendingTransactionIsReplacedAfterThreeBlocksTwiceThenCancelled() {
        let r = Self.run(bundled: false)
        #expect(r.trace == ["await:11", "await:12", "await:13", "replace@13", "await:14", "await:15", "await:16", "replace@16",
                            "await:17", "await:18", "await:19", "cancel", "await:20", "await:21", "await:22", "await:23"])
        // Neither the trade nor its cancellation landed within 4 blocks: the chain says which nonce is next.
        #expect(r.verdict == .dropped)
    }

    @Test func whicheverVersionLandsTakesTheNonce() {
        // The first replacement (hash 2) lands.
        #expect(Self.run(bundled: false, lands: 2, landsAt: 15).verdict == .landed(Self.version(2)))
        // The original lands after a replacement went out.
        #expect(Self.run(bundled: false, lands: 1, landsAt: 15).verdict == .landed(Self.version(1)))
        // The cancellation lands: the trade never ran.
        let cancelled = Self.run(bundled: false, lands: 2, landsAt: 14, replace: ["refused"])
        #expect(cancelled.trace == ["await:11", "await:12", "await:13", "replace@13", "cancel", "await:14"])
        #expect(cancelled.verdict == .landed(Self.version(2, cancellation: true)))
    }

    @Test func aReplacementTheNodeCallsLateWaitsForTheEarlierVersion() {
        let r = Self.run(bundled: false, lands: 1, landsAt: 15, replace: ["late"])
        // Nothing was replaced: the trade is still as old as it was, so the next block asks again, until the receipt shows.
        #expect(r.trace == ["await:11", "await:12", "await:13", "replace@13", "await:14", "replace@14", "await:15"])
        #expect(r.verdict == .landed(Self.version(1)))
    }

    /// The node down while the bundle's block is built (its head not seen to reach the target, or
    /// its receipts unread): nothing is concluded and nothing resent until it answers; the bundle
    /// that landed there meanwhile is found (the soak's node outages saw one judged left out, its
    /// nonce given back, then used on chain with no receipt journaled).
    @Test func aNodeThatDoesNotAnswerIsNotTakenForAnAbsentReceipt() {
        // The head stays at 10 for three waits: the target (11) is awaited again, no resend.
        let stalled = Self.run(bundled: true, lands: 1, landsAt: 11, down: 11..<12, downWaits: 3)
        #expect(stalled.trace == ["await:11", "await:11", "await:11", "await:11"] && stalled.verdict == .landed(Self.version(1)))
        // Without the receipt it is only left out once the node answers after the target.
        let absent = Self.run(bundled: true, resend: false, down: 11..<12, downWaits: 2)
        #expect(absent.trace == ["await:11", "await:11", "await:11", "resend@11"] && absent.verdict == .notIncluded)
        // Receipts unread at the target (the head was read): the next block is awaited and the receipts asked again.
        var t = InclusionTracker(limits: .init(), bundled: true, canReplace: false, target: 11, transaction: Self.tx, hash: [1])
        #expect(t.advance(.head(11)) == .findReceipt([Self.version(1)]))
        #expect(t.advance(.unread) == .awaitBlock(12))
        #expect(t.advance(.head(12)) == .findReceipt([Self.version(1)]))
        #expect(t.advance(.receipt(Self.version(1))) == .end(.landed(Self.version(1))))
        // A transaction route with no endpoint: not given up before its target is seen.
        var tx = InclusionTracker(limits: .init(), bundled: false, canReplace: false, target: 11, transaction: Self.tx, hash: [1])
        #expect(tx.advance(.head(10)) == .findReceipt([Self.version(1)]))
        #expect(tx.advance(.receipt(nil)) == .awaitBlock(11))
        #expect(tx.advance(.head(11)) == .findReceipt([Self.version(1)]))
        #expect(tx.advance(.receipt(nil)) == .end(.notIncluded))
    }

    @Test func aRouteWithNoEndpointGivesUpAfterTheTarget() {
        #expect(Self.run(bundled: false, canReplace: false).verdict == .notIncluded)
    }
}
