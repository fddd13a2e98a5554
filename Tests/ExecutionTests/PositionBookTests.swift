import EVMPrimitives
import Execution
import Testing

/// Statistical positions' decisions with no chain, and their journal round trip.
@Suite struct PositionBookTests {
    static let a = ExecutionCoreTests.a, b = ExecutionCoreTests.b
    static let c = try! Address(hex: "0x00000000000000000000000000000000000000c7")

    static func entry(_ id: UInt8, pair: Int = 0, longA: Bool = true, amount: UInt64 = 1_000, confidence: Double = 0.5, block: UInt64 = 10,
                      tokenA: Address = a) -> PositionBook.Entry {
        .init(id: [id] + Array(repeating: 0, count: 15), chainID: 1, pair: pair, tokenA: tokenA, tokenB: b, longA: longA, z: longA ? -2.3 : 2.3,
              hedgeRatio: 1.1, confidence: confidence, block: block, amount: UInt256(amount))
    }

    static func refusal(_ r: Result<StatPosition, Refusal>) -> String {
        switch r {
        case .success(let p): "open \(p.amountSold) of \(p.sold == b ? "b" : "a")"
        case .failure(let f): "\(f.stage):\(f.reason)"
        }
    }

    @Test func aSignalOpensWithinTheLimitsOrSaysWhyNot() {
        var limits = PositionBook.Limits()
        limits.maxPerPosition[Self.b] = UInt256(600)
        limits.maxExposure[Self.b] = UInt256(900)
        limits.maxOpen = 3
        limits.minConfidence = 0.2
        var book = PositionBook(limits: limits)
        // Long A sells B: capped per position, then by what is held, then by the exposure left.
        #expect(Self.refusal(book.consider(Self.entry(1), holding: UInt256(10_000))) == "open 600 of b")
        #expect(Self.refusal(book.consider(Self.entry(1), holding: UInt256(10_000))) == "dedup:duplicate")
        #expect(Self.refusal(book.consider(Self.entry(2), holding: UInt256(10_000))) == "lock:pairOpen")
        #expect(Self.refusal(book.consider(Self.entry(3, pair: 1), holding: UInt256(250))) == "open 250 of b")
        #expect(Self.refusal(book.consider(Self.entry(4, pair: 2), holding: UInt256(10_000))) == "open 50 of b")
        #expect(book.exposure(of: Self.b) == UInt256(900))
        #expect(Self.refusal(book.consider(Self.entry(5, pair: 3, longA: false, tokenA: Self.c), holding: UInt256(10_000))) == "risk:maxOpen")
        #expect(Self.refusal(book.consider(Self.entry(6, pair: 4, confidence: 0.1), holding: UInt256(10_000))) == "risk:lowConfidence")
        // A failed opening frees its pair and its exposure.
        _ = book.opened(Self.entry(1).id, bought: nil, tx: "0x1")
        #expect(book.exposure(of: Self.b) == UInt256(300))
        #expect(Self.refusal(book.consider(Self.entry(7, pair: 0, longA: false), holding: UInt256(70))) == "open 70 of a")
        var empty = PositionBook(limits: limits)
        #expect(Self.refusal(empty.consider(Self.entry(8), holding: .zero)) == "risk:maxExposure")
    }

    @Test(arguments: [
        // (long A, z, blocks held, expected)
        (true, -1.0, 5, "hold"), (true, 0.0, 5, "reverted"), (true, 0.4, 5, "reverted"), (true, -3.99, 5, "hold"), (true, -4.0, 5, "stopLoss"),
        (false, 1.0, 5, "hold"), (false, -0.1, 5, "reverted"), (false, 4.5, 5, "stopLoss"), (false, 3.0, 100, "expired"), (true, -2, 99, "hold"),
    ])
    func anOpenPositionClosesOnReversionStopOrAge(_ longA: Bool, _ z: Double, _ held: UInt64, _ expected: String) {
        var book = PositionBook()
        _ = book.consider(Self.entry(1, longA: longA, block: 10), holding: UInt256(1_000))
        // Not open yet (opening): nothing to review.
        #expect(book.review(chainID: 1, pair: 0, z: z, block: 10 + held).isEmpty)
        _ = book.opened(Self.entry(1).id, bought: UInt256(990), tx: "0x1")
        #expect(book.review(chainID: 1, pair: 1, z: z, block: 10 + held).isEmpty)
        let closing = book.review(chainID: 1, pair: 0, z: z, block: 10 + held)
        #expect((closing.first?.closeReason?.rawValue ?? "hold") == expected)
        guard !closing.isEmpty else { return }
        #expect(book.review(chainID: 1, pair: 0, z: z, block: 10 + held).isEmpty)  // closing already
        // A close that did not land leaves it open, to be closed again; one that did realizes its P&L.
        #expect(book.closed(Self.entry(1).id, proceeds: nil, tx: "0x2")?.status == .open)
        #expect(book.review(chainID: 1, pair: 0, z: z, block: 10 + held).count == 1)
        let done = book.closed(Self.entry(1).id, proceeds: UInt256(1_013), tx: "0x3")
        #expect(done?.status == .closed && done?.realized == Int256(13) && book.open.isEmpty)
    }

    @Test func quietPairsExpireByTheBlock() {
        var book = PositionBook()
        _ = book.consider(Self.entry(1, block: 10), holding: UInt256(1_000))
        _ = book.opened(Self.entry(1).id, bought: UInt256(5), tx: "0x1")
        #expect(book.expire(chainID: 1, at: 109).isEmpty)
        #expect(book.expire(chainID: 2, at: 500).isEmpty)  // another chain's blocks
        #expect(book.review(chainID: 1, pair: 1, z: .nan, block: 110).isEmpty)  // another pair
        #expect(book.expire(chainID: 1, at: 110).map(\.closeReason) == [.expired])
        #expect(book.positions[0].markToMarket(fetches: UInt256(900)) == Int256(-100))
    }

    /// An entry at or past the stop would be closed at once: refused. A position keeps its entry
    /// band, and its z is measured against it.
    @Test func entriesPastTheStopAreRefusedAndTheBandIsKept() throws {
        var book = PositionBook()
        var far = Self.entry(1)
        far.z = -4.0
        guard case .failure(let r) = book.consider(far, holding: UInt256(1_000)) else { Issue.record("opened past the stop"); return }
        #expect(r.reason == "beyondStop" && book.positions.isEmpty)
        var e = Self.entry(2)
        (e.mean, e.deviation) = (0.01, 0.005)
        let p = try book.consider(e, holding: UInt256(1_000)).get()
        #expect(p.entryMean == 0.01 && p.entryDeviation == 0.005 && p.z(spread: 0.0) == -2.0 && p.z(spread: 0.01) == 0)
        #expect(StatPosition(id: [], chainID: 1, pair: 0, tokenA: Self.a, tokenB: Self.b, longA: true, amountSold: 1, entryZ: -2, hedgeRatio: 1,
                             openedBlock: 1, status: .open).z(spread: 0.3) == nil)
    }

    /// An inventory moves by what its positions say: closed, the realized P&L in the sold token;
    /// open, the sold amount out and the bought one in; failed, nothing; in doubt, unknown.
    @Test func inventoryChangesFollowThePositions() throws {
        var book = PositionBook()
        for (i, longA) in [(UInt8(1), true), (2, false), (3, true)] { _ = book.consider(Self.entry(i, pair: Int(i), longA: longA), holding: UInt256(1_000)) }
        _ = book.opened(Self.entry(1).id, bought: UInt256(40), tx: "0x1")  // sold 1,000 B for 40 A
        _ = book.opened(Self.entry(2).id, bought: UInt256(990), tx: "0x2")  // sold 1,000 A for 990 B
        #expect(StatPosition.inventoryChanges(book.positions) == nil)  // the third is still opening
        _ = book.opened(Self.entry(3).id, bought: nil, tx: "")  // never ran
        _ = book.review(chainID: 1, pair: 2, z: -0.1, block: 11)
        _ = book.closed(Self.entry(2).id, proceeds: UInt256(1_012), tx: "0x3")
        let changes = try #require(StatPosition.inventoryChanges(book.positions))
        #expect(changes[Self.b] == Int256(-1_000))  // the open position's sale
        #expect(changes[Self.a] == Int256(40) &+ Int256(12))  // what it bought, and the closed one's gain
    }

    @Test func positionsSurviveInTheJournal() throws {
        let journal = try Journal(path: ":memory:")
        var book = PositionBook()
        guard case .success(var p) = book.consider(Self.entry(1, longA: false), holding: UInt256(500)) else { Issue.record("refused"); return }
        try journal.record(position: p, at: 1)
        let opened = book.opened(p.id, bought: UInt256(480), tx: "0xopen")
        p = try #require(opened)
        try journal.record(position: p, at: 2)
        guard case .success(var other) = book.consider(Self.entry(2, pair: 1), holding: UInt256(77)) else { Issue.record("refused"); return }
        other.detail = "a note"
        (other.entryMean, other.entryDeviation) = (-0.0123, 0.0045)  // the band survives too
        try journal.record(position: other, at: 3)
        let open = try journal.positions(open: true)
        #expect(open == [p, other])
        let closed = book.closed(p.id, proceeds: UInt256(512), tx: "0xclose")
        p = try #require(closed)
        try journal.record(position: p, at: 4)
        #expect(try journal.positions(open: true) == [other])
        #expect(try journal.positions().last == p && p.realized == Int256(12))
        // A restart: the book is rebuilt from the journal's open positions.
        let again = PositionBook(positions: try journal.positions(open: true))
        #expect(again.exposure(of: Self.b) == UInt256(77))
    }
}
