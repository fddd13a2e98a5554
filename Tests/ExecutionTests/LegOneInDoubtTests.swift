import Execution
import Testing

/// Leg one in doubt as decisions, with no chain: a scripted head, nonce count and receipts, and
/// what it asks for, to each fate.
@Suite struct LegOneInDoubtTests {
    /// The chain advances a block per observation; the key's count passes the nonce (5) from
    /// block `takenAt`; leg one's receipt appears from `landsAt`; cancellation `n` lands if in
    /// `cancellationLands`; the node knows the pending ones while `known`.
    static func run(nonce: UInt64? = 5, canCancel: Bool = true, landsAt: UInt64 = .max, takenAt: UInt64 = .max,
                    cancellationLands: String? = nil, known: Bool = true) -> [String] {
        var doubt = LegOneInDoubt(depositTx: "0xd", until: 13, nonce: nonce, canCancel: canCancel, maxCancellations: 2)
        var head: UInt64 = 10, trace: [String] = [], action = LegOneInDoubt.Action.observe, sent = 0
        for _ in 0..<60 {
            let event: LegOneInDoubt.Event
            switch action {
            case .end(let fate): return trace + ["\(fate)"]
            case .observe:
                head += 1
                event = .observed(head: head, count: head >= takenAt ? 6 : 5, receipt: head >= landsAt)
            case .findCancellation(let hashes):
                trace.append("find \(hashes.joined(separator: ","))")
                event = .cancellationLanded(hashes.first { $0 == cancellationLands })
            case .knows(let hashes):
                trace.append("knows \(hashes.count)")
                event = .known(known)
            case .cancel:
                sent += 1
                trace.append("cancel@\(head)")
                event = .cancelSent("0xc\(sent)")
            case .pause: event = .paused
            }
            action = doubt.advance(event)
        }
        return trace + ["no end"]
    }

    @Test func aReceiptDecides() {
        #expect(Self.run(landsAt: 12) == ["landed"])
        #expect(Self.run(nonce: nil, landsAt: 12) == ["landed"])
    }

    @Test func aBundleWithNoReceiptPastItsBlocksIsGone() {
        #expect(Self.run(nonce: nil) == ["gone"])
    }

    @Test func aTransactionIsCancelledPastItsBlocksAndWhicheverLandsSettlesIt() {
        // Past block 13 a cancellation goes; the node keeps both, so no second one; the count
        // passes the nonce at 16 and our cancellation's receipt says it took it.
        #expect(Self.run(takenAt: 16, cancellationLands: "0xc1") == ["cancel@14", "knows 2", "find 0xc1", "cancelled(\"0xc1\")"])
        // Another transaction took the nonce.
        #expect(Self.run(takenAt: 16) == ["cancel@14", "knows 2", "find 0xc1", "dropped"])
        #expect(Self.run(takenAt: 12) == ["dropped"])
        // The original lands after all.
        #expect(Self.run(landsAt: 15) == ["cancel@14", "landed"])
    }

    @Test func aCancellationTheNodeForgotIsSentAgainUpToTheLimit() {
        let trace = Self.run(takenAt: 20, cancellationLands: "0xc2", known: false)
        #expect(trace == ["cancel@14", "knows 2", "cancel@15", "find 0xc2,0xc1", "cancelled(\"0xc2\")"])
    }

    @Test func withNoEndpointItWaitsForTheChain() {
        #expect(Self.run(canCancel: false, takenAt: 18) == ["dropped"])
    }
}
