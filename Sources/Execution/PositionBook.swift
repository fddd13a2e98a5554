import EVMPrimitives

/// The statistical-arbitrage positions and their decisions, with no I/O: whether a signal opens
/// a position (and how much it may sell), and when an open one closes — on reversion to the
/// mean, at the stop-loss on the spread, or after the maximum holding time. The executor performs
/// the swaps and hands back what they did; the journal keeps every position (`StatPosition`).
public struct PositionBook: Sendable {
    public struct Limits: Sendable {
        /// The spread's |z| against the position at which it is closed at a loss.
        public var stopLossZ = 4.0
        public var maxHoldingBlocks: UInt64 = 100
        /// Positions open at once, across pairs; one per pair.
        public var maxOpen = 4
        /// The most of a token sold into positions open at once (absent: no limit beyond the inventory).
        public var maxExposure: [Address: UInt256] = [:]
        /// The most of a token one position may sell.
        public var maxPerPosition: [Address: UInt256] = [:]
        /// Signals below this confidence are not traded.
        public var minConfidence = 0.0
        public init() {}
    }

    /// A signal as the book needs it.
    public struct Entry: Sendable, Equatable {
        public var id: [UInt8]
        public var chainID: UInt64
        public var pair: Int
        public var tokenA: Address
        public var tokenB: Address
        public var longA: Bool
        public var z: Double
        public var hedgeRatio: Double
        public var confidence: Double
        public var block: UInt64
        /// What the sizing wants to sell (of the dear token), before the limits.
        public var amount: UInt256
        /// The band at entry (the spread's mean and deviation).
        public var mean: Double
        public var deviation: Double

        public init(id: [UInt8], chainID: UInt64, pair: Int, tokenA: Address, tokenB: Address, longA: Bool, z: Double, hedgeRatio: Double,
                    confidence: Double, block: UInt64, amount: UInt256, mean: Double = 0, deviation: Double = 0) {
            self.id = id
            self.chainID = chainID
            self.pair = pair
            self.tokenA = tokenA
            self.tokenB = tokenB
            self.longA = longA
            self.z = z
            self.hedgeRatio = hedgeRatio
            self.confidence = confidence
            self.block = block
            self.amount = amount
            self.mean = mean
            self.deviation = deviation
        }
    }

    public let limits: Limits
    public private(set) var positions: [StatPosition] = []

    public init(limits: Limits = Limits(), positions: [StatPosition] = []) {
        self.limits = limits
        self.positions = positions
    }

    public var open: [StatPosition] { positions.filter(\.isOpen) }

    /// Sold into open positions, by token.
    public func exposure(of token: Address) -> UInt256 {
        open.filter { $0.sold == token }.reduce(UInt256.zero) { $0 &+ $1.amountSold }
    }

    /// A new position for `e`, recorded as `opening` (its size within the limits and what the
    /// executor holds of the token sold), or why not.
    public mutating func consider(_ e: Entry, holding: UInt256) -> Result<StatPosition, Refusal> {
        guard !positions.contains(where: { $0.id == e.id }) else { return .failure(Refusal("dedup", "duplicate")) }
        guard e.confidence >= limits.minConfidence else { return .failure(Refusal("risk", "lowConfidence", "\(e.confidence)")) }
        guard !open.contains(where: { $0.chainID == e.chainID && $0.pair == e.pair }) else {
            return .failure(Refusal("lock", "pairOpen", "a position on pair \(e.pair) is still open"))
        }
        guard open.count < limits.maxOpen else { return .failure(Refusal("risk", "maxOpen", "\(open.count) positions open")) }
        let sold = e.longA ? e.tokenB : e.tokenA
        var amount = min(e.amount, holding)
        if let cap = limits.maxPerPosition[sold] { amount = min(amount, cap) }
        if let cap = limits.maxExposure[sold] {
            let used = exposure(of: sold)
            amount = used >= cap ? .zero : min(amount, cap &- used)
        }
        guard !amount.isZero else { return .failure(Refusal("risk", "maxExposure", "nothing of \(sold.checksummed) left to sell")) }
        guard abs(e.z) < limits.stopLossZ else { return .failure(Refusal("risk", "beyondStop", "entry z \(e.z) is past the stop at \(limits.stopLossZ)")) }
        var p = StatPosition(id: e.id, chainID: e.chainID, pair: e.pair, tokenA: e.tokenA, tokenB: e.tokenB, longA: e.longA, amountSold: amount,
                             entryZ: e.z, hedgeRatio: e.hedgeRatio, openedBlock: e.block, status: .opening)
        (p.entryMean, p.entryDeviation) = (e.mean, e.deviation)
        positions.append(p)
        return .success(p)
    }

    /// The open positions of `pair` that close now, and why: the spread reverted (crossed its
    /// mean), moved on to the stop, or the position has been held its maximum.
    public mutating func review(chainID: UInt64, pair: Int, z: Double, block: UInt64) -> [StatPosition] {
        var closing: [StatPosition] = []
        for i in positions.indices where positions[i].status == .open && positions[i].chainID == chainID && positions[i].pair == pair {
            let p = positions[i]
            // Long A was opened with z below its band: z ≥ 0 is reversion, z ≤ −stop the stop; short A the mirror.
            let toward = p.longA ? z : -z
            let reason: StatPosition.CloseReason? =
                toward >= 0 ? .reverted : toward <= -limits.stopLossZ ? .stopLoss : block &- p.openedBlock >= limits.maxHoldingBlocks ? .expired : nil
            guard let reason else { continue }
            positions[i].status = .closing
            positions[i].closeReason = reason
            closing.append(positions[i])
        }
        return closing
    }

    /// Positions on `chainID` held their maximum by its `block` (for pairs with no price): close them.
    public mutating func expire(chainID: UInt64, at block: UInt64) -> [StatPosition] {
        var closing: [StatPosition] = []
        for i in positions.indices where positions[i].status == .open && positions[i].chainID == chainID
            && block &- positions[i].openedBlock >= limits.maxHoldingBlocks {
            positions[i].status = .closing
            positions[i].closeReason = .expired
            closing.append(positions[i])
        }
        return closing
    }

    /// The opening swap landed, buying `bought`; or it never ran.
    public mutating func opened(_ id: [UInt8], bought: UInt256?, tx: String) -> StatPosition? {
        update(id) { p in
            p.openTx = tx
            if let bought {
                (p.amountBought, p.status) = (bought, .open)
            } else {
                p.status = .failed
            }
        }
    }

    /// The closing swap landed, bringing back `proceeds`; or it did not, and the position stays open (to be closed again).
    public mutating func closed(_ id: [UInt8], proceeds: UInt256?, tx: String, detail: String = "") -> StatPosition? {
        update(id) { p in
            p.detail = detail
            if let proceeds {
                (p.proceeds, p.closeTx, p.status) = (proceeds, tx, .closed)
            } else {
                p.status = .open
            }
        }
    }

    private mutating func update(_ id: [UInt8], _ change: (inout StatPosition) -> Void) -> StatPosition? {
        guard let i = positions.firstIndex(where: { $0.id == id }) else { return nil }
        change(&positions[i])
        return positions[i]
    }
}
