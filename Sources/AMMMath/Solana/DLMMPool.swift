import EVMPrimitives

/// A Meteora DLMM pair (liquidity in discrete bins, each at a fixed Q64.64 price) with the bins we
/// hold, quoted as the program swaps: from the active bin outward, each bin's market-making reserve
/// then its limit orders on the side the swap takes, a fee per bin (a base fee and a variable fee
/// that grows with the bins crossed since the reference), amounts rounded the program's way.
///
/// Layout and rules from the program's published IDL and SDK (MeteoraAg/dlmm-sdk); checked against
/// an outside implementation validated on the program in `python/tests/test_solana_venues.py`.
public struct DLMMPool: Equatable, Sendable {
    public static let binsPerArray: Int32 = 70
    public static let minBinID: Int32 = -443_636
    public static let maxBinID: Int32 = 443_636
    static let feePrecision: UInt128 = 1_000_000_000
    static let maxFeeRate: UInt128 = 100_000_000
    static let basisPointMax: UInt32 = 10_000

    public struct StaticParameters: Equatable, Sendable {
        public var baseFactor: UInt16
        public var filterPeriod: UInt16
        public var decayPeriod: UInt16
        public var reductionFactor: UInt16
        public var variableFeeControl: UInt32
        public var maxVolatilityAccumulator: UInt32
        public var protocolShare: UInt16
        public var baseFeePowerFactor: UInt8
        /// 0: the fee comes off the input; 1: it is collected in token Y (off the output selling X).
        public var collectFeeMode: UInt8
        public init(baseFactor: UInt16, filterPeriod: UInt16, decayPeriod: UInt16, reductionFactor: UInt16, variableFeeControl: UInt32,
                    maxVolatilityAccumulator: UInt32, protocolShare: UInt16, baseFeePowerFactor: UInt8, collectFeeMode: UInt8) {
            self.baseFactor = baseFactor
            self.filterPeriod = filterPeriod
            self.decayPeriod = decayPeriod
            self.reductionFactor = reductionFactor
            self.variableFeeControl = variableFeeControl
            self.maxVolatilityAccumulator = maxVolatilityAccumulator
            self.protocolShare = protocolShare
            self.baseFeePowerFactor = baseFeePowerFactor
            self.collectFeeMode = collectFeeMode
        }
    }

    public struct VariableParameters: Equatable, Sendable {
        public var volatilityAccumulator: UInt32
        public var volatilityReference: UInt32
        public var indexReference: Int32
        public var lastUpdateTimestamp: Int64
        public init(volatilityAccumulator: UInt32, volatilityReference: UInt32, indexReference: Int32, lastUpdateTimestamp: Int64) {
            self.volatilityAccumulator = volatilityAccumulator
            self.volatilityReference = volatilityReference
            self.indexReference = indexReference
            self.lastUpdateTimestamp = lastUpdateTimestamp
        }
    }

    /// One bin: its reserves, its price (token Y per token X, Q64.64), and its limit orders.
    public struct Bin: Equatable, Sendable {
        public var amountX: UInt64
        public var amountY: UInt64
        public var price: UInt128
        public var openOrder: UInt64
        public var processedOrder: UInt64
        /// The limit orders sell X (ask) rather than Y (bid).
        public var askSide: Bool
        /// The bin after its market-making reserve took `input` and paid `output`.
        mutating func take(in input: UInt128, out output: UInt128, swapForY: Bool) throws(AMMError) {
            let (gained, paid) = swapForY ? (amountX, amountY) : (amountY, amountX)
            let (sum, overflow) = gained.addingReportingOverflow(UInt64(input))
            guard !overflow, output <= UInt128(paid) else { throw AMMError(.overflow, "a bin's reserve passes u64") }
            if swapForY { amountX = sum; amountY = paid - UInt64(output) } else { amountY = sum; amountX = paid - UInt64(output) }
        }

        public init(amountX: UInt64, amountY: UInt64, price: UInt128, openOrder: UInt64 = 0, processedOrder: UInt64 = 0, askSide: Bool = false) {
            self.amountX = amountX
            self.amountY = amountY
            self.price = price
            self.openOrder = openOrder
            self.processedOrder = processedOrder
            self.askSide = askSide
        }
    }

    public private(set) var activeID: Int32
    public let binStep: UInt16
    public let parameters: StaticParameters
    public private(set) var variables: VariableParameters
    /// The bin arrays held (index = bin id ÷ 70, floored): a swap must stay within them.
    public let heldArrays: Set<Int64>
    /// The bins of the held arrays' span, densely from `firstID` (a bin without a price is
    /// empty): a swap reads them by offset, and a quote copies nothing.
    @usableFromInline var table: [Bin]
    @usableFromInline let firstID: Int32
    /// Bit i: array `firstID / 70 + i` is held.
    @usableFromInline let heldMask: UInt64
    /// The most bin arrays the held ones may span.
    public static let maxSpan: Int64 = 64
    /// What the held bins on each side of the active one can take (`inputDepth`), kept with the
    /// bins: screening reads it for every cycle through the pair.
    var depthSellingX = 0.0, depthSellingY = 0.0

    /// The bin `id`, nil when it has no price (or is outside the held span).
    @inlinable
    public func bin(_ id: Int32) -> Bin? {
        let i = Int(id) - Int(firstID)
        guard i >= 0, i < table.count, table[i].price != 0 else { return nil }
        return table[i]
    }

    @inlinable
    func holds(array index: Int64) -> Bool {
        let i = index - Int64(firstID) / Int64(Self.binsPerArray)
        return i >= 0 && i < 64 && heldMask >> UInt64(i) & 1 == 1
    }


    public init(activeID: Int32, binStep: UInt16, parameters: StaticParameters, variables: VariableParameters,
                bins: [Int32: Bin], heldArrays: Set<Int64>) throws(AMMError) {
        try self.init(empty: activeID, binStep: binStep, parameters: parameters, variables: variables, heldArrays: heldArrays)
        for (id, b) in bins where b.price != 0 {
            guard heldArrays.contains(Self.arrayIndex(of: id)) else { continue }
            table[Int(id) - Int(firstID)] = b
        }
        measureDepth()
    }

    /// The pair over whole bin arrays: `arrays[i]` holds the 70 bins of array `i` (a bin without
    /// a price is empty); no dictionary is built.
    public init(activeID: Int32, binStep: UInt16, parameters: StaticParameters, variables: VariableParameters,
                arrays: [Int64: [Bin]]) throws(AMMError) {
        try self.init(empty: activeID, binStep: binStep, parameters: parameters, variables: variables, heldArrays: Set(arrays.keys))
        for (index, bins) in arrays {
            guard bins.count == Int(Self.binsPerArray) else { throw AMMError(.invalidState, "bin array \(index) holds \(bins.count) bins") }
            let o = Int(index * Int64(Self.binsPerArray)) - Int(firstID)
            table.replaceSubrange(o..<o + Int(Self.binsPerArray), with: bins)
        }
        measureDepth()
    }

    /// The pair at another active bin and volatility over the same bins (what a swap writes to
    /// the pair's own account): the bin table is shared, not rebuilt.
    public func moved(activeID: Int32, variables: VariableParameters) throws(AMMError) -> DLMMPool {
        guard (Self.minBinID...Self.maxBinID).contains(activeID) else { throw AMMError(.invalidState, "active bin \(activeID) out of range") }
        var p = self
        (p.activeID, p.variables) = (activeID, variables)
        if activeID != self.activeID { p.measureDepth() }
        return p
    }

    /// The pair with every held bin empty.
    init(empty activeID: Int32, binStep: UInt16, parameters: StaticParameters, variables: VariableParameters, heldArrays: Set<Int64>) throws(AMMError) {
        guard binStep > 0 else { throw AMMError(.invalidState, "bin step 0") }
        guard parameters.collectFeeMode <= 1 else { throw AMMError(.invalidState, "collect fee mode \(parameters.collectFeeMode)") }
        guard (Self.minBinID...Self.maxBinID).contains(activeID) else { throw AMMError(.invalidState, "active bin \(activeID) out of range") }
        self.activeID = activeID
        self.binStep = binStep
        self.parameters = parameters
        self.variables = variables
        self.heldArrays = heldArrays
        guard let low = heldArrays.min(), let high = heldArrays.max() else {
            (table, firstID, heldMask) = ([], activeID, 0)
            return
        }
        guard high - low < Self.maxSpan else { throw AMMError(.invalidState, "held bin arrays span \(high - low + 1) arrays (at most \(Self.maxSpan))") }
        let n = Int64(Self.binsPerArray)
        firstID = Int32(low * n)
        heldMask = heldArrays.reduce(UInt64(0)) { $0 | 1 << UInt64($1 - low) }
        table = [Bin](repeating: Bin(amountX: 0, amountY: 0, price: 0), count: Int((high - low + 1) * n))
    }

    public static func arrayIndex(of bin: Int32) -> Int64 {
        let b = Int64(bin), n = Int64(binsPerArray)
        return b >= 0 ? b / n : -((-b + n - 1) / n)
    }

    /// The outcome of an exact-input swap and the pool after it.
    public struct Swap: Equatable, Sendable {
        public var amountIn: UInt64
        public var amountOut: UInt64
        public var binsCrossed: Int
        public var after: DLMMPool
    }

    /// An exact-input swap of `amount` at cluster time `timestamp` (X in when `swapForY`). The
    /// whole input must fill within the held bin arrays.
    public func swap(amount: UInt64, swapForY: Bool, timestamp: Int64) throws(AMMError) -> Swap {
        try run(amount: amount, swapForY: swapForY, timestamp: timestamp, keepingBins: true)
    }

    /// The output of an exact-input swap, as `swap` gives it, without the bins after it.
    public func amountOut(amount: UInt64, swapForY: Bool, timestamp: Int64) throws(AMMError) -> UInt64 {
        try run(amount: amount, swapForY: swapForY, timestamp: timestamp, keepingBins: false).amountOut
    }

    /// The swap: `keepingBins` also writes the bins it changed into a copy of the pool (a quote
    /// copies nothing and leaves `Swap.after` as the pool before it).
    func run(amount: UInt64, swapForY: Bool, timestamp: Int64, keepingBins: Bool) throws(AMMError) -> Swap {
        guard amount > 0 else { throw AMMError(.invalidAmount, "zero input") }
        var variables = self.variables
        Self.updateReference(&variables, activeID: activeID, parameters: parameters, timestamp: timestamp)
        var changed: [(Int32, Bin)] = []
        let step: Int32 = swapForY ? -1 : 1
        let feeOnInput = parameters.collectFeeMode == 0 || !swapForY
        var current = activeID, active = activeID, remaining = UInt128(amount), out: UInt128 = 0, crossed = 0
        while remaining > 0 {
            guard (Self.minBinID...Self.maxBinID).contains(current) else { break }
            guard holds(array: Self.arrayIndex(of: current)) else {
                throw AMMError(.insufficientLiquidity, "the swap needs bin array \(Self.arrayIndex(of: current)), not held")
            }
            guard var bin = bin(current) else { current += step; continue }
            let takesOrders = swapForY != bin.askSide
            let reserve = swapForY ? bin.amountY : bin.amountX
            let (open, processed) = takesOrders ? (bin.openOrder, bin.processedOrder) : (0, 0)
            if reserve == 0 && open == 0 && processed == 0 { current += step; continue }
            Self.updateVolatility(&variables, bin: current, parameters: parameters)
            let fee = Self.feeRate(parameters, binStep: binStep, variables)
            var left = feeOnInput ? Self.excludingFee(remaining, fee) : remaining
            var used: UInt128 = 0, got: UInt128 = 0
            for tier in 0..<3 where left > 0 {
                let available = tier == 0 ? reserve : tier == 1 ? processed : open
                let fill = Self.fill(price: bin.price, amount: left, reserve: UInt128(available), swapForY: swapForY)
                used += fill.used
                got += fill.out
                left -= fill.used
                // Only the market-making tier is carried into the state after the swap.
                if keepingBins && tier == 0 && fill.used > 0 { try bin.take(in: fill.used, out: fill.out, swapForY: swapForY) }
            }
            if keepingBins { changed.append((current, bin)) }
            active = current
            out += feeOnInput ? got : Self.excludingFee(got, fee)
            if left == 0 {
                crossed += 1
                remaining = 0
                break
            }
            let charged = feeOnInput ? Self.includingFee(used, fee) : used
            guard charged <= remaining else { throw AMMError(.invalidState, "a bin charged more than the input left") }
            remaining -= charged
            crossed += 1
            current += step
        }
        guard remaining == 0 else { throw AMMError(.insufficientLiquidity, "the pair runs out with \(remaining) left") }
        guard out > 0, out <= UInt128(UInt64.max) else { throw AMMError(.insufficientLiquidity, "output \(out) is zero or past u64") }
        var after = self
        if keepingBins {
            for (id, bin) in changed { after.table[Int(id) - Int(after.firstID)] = bin }
            after.activeID = active
            after.variables = variables
            after.measureDepth()
        }
        return Swap(amountIn: amount, amountOut: UInt64(out), binsCrossed: crossed, after: after)
    }

    /// Token Y per token X at the active bin, in raw units (display and screening only).
    public var spotPrice: Double {
        guard let b = bin(activeID) else { return 0 }
        return b.price.approximateDouble / 18_446_744_073_709_551_616.0
    }

    /// About how much input the held bins on the swap's side can take (estimates only).
    public func inputDepth(swapForY: Bool) -> Double { swapForY ? depthSellingX : depthSellingY }

    mutating func measureDepth() {
        (depthSellingX, depthSellingY) = (0, 0)
        for (i, b) in table.enumerated() where b.price != 0 {
            let id = firstID + Int32(i)
            let price = b.price.approximateDouble / 18_446_744_073_709_551_616.0
            if id <= activeID { depthSellingX += Double(b.amountY) / max(price, 1e-30) }
            if id >= activeID { depthSellingY += Double(b.amountX) * price }
        }
    }

    // MARK: fees

    /// The fee rate over 10⁹ at the current volatility.
    public var feeRate: UInt128 { Self.feeRate(parameters, binStep: binStep, variables) }

    static func feeRate(_ parameters: StaticParameters, binStep: UInt16, _ variables: VariableParameters) -> UInt128 {
        var power: UInt128 = 1
        for _ in 0..<parameters.baseFeePowerFactor { power *= 10 }
        let base = UInt128(parameters.baseFactor) * UInt128(binStep) * 10 * power
        var variable: UInt128 = 0
        if parameters.variableFeeControl > 0 {
            let v = UInt128(variables.volatilityAccumulator) * UInt128(binStep)
            let product = UInt128(parameters.variableFeeControl) * v * v
            variable = (product + 99_999_999_999) / 100_000_000_000
        }
        return min(base + variable, Self.maxFeeRate)
    }

    /// The program's reference update at the start of a swap: past the filter period the
    /// reference moves to the active bin, and past the decay period the volatility is forgotten.
    static func updateReference(_ variables: inout VariableParameters, activeID: Int32, parameters: StaticParameters, timestamp: Int64) {
        let elapsed = timestamp - variables.lastUpdateTimestamp
        guard elapsed >= Int64(parameters.filterPeriod) else { return }
        variables.indexReference = activeID
        variables.volatilityReference = elapsed < Int64(parameters.decayPeriod)
            ? UInt32(UInt64(variables.volatilityAccumulator) * UInt64(parameters.reductionFactor) / UInt64(Self.basisPointMax))
            : 0
    }

    static func updateVolatility(_ variables: inout VariableParameters, bin: Int32, parameters: StaticParameters) {
        let delta = UInt64((Int64(variables.indexReference) - Int64(bin)).magnitude)
        let raised = UInt64(variables.volatilityReference) + delta * UInt64(Self.basisPointMax)
        variables.volatilityAccumulator = UInt32(min(raised, UInt64(parameters.maxVolatilityAccumulator)))
    }

    static func excludingFee(_ amount: UInt128, _ rate: UInt128) -> UInt128 {
        amount - (amount * rate + feePrecision - 1) / feePrecision
    }

    static func includingFee(_ amount: UInt128, _ rate: UInt128) -> UInt128 {
        let d = feePrecision - rate
        return (amount * feePrecision + d - 1) / d
    }

    // MARK: one bin

    /// What `amount` buys from `reserve` at `price`: all of it at the least input that takes it
    /// (rounded up), or `amount`'s worth rounded down.
    static func fill(price: UInt128, amount: UInt128, reserve: UInt128, swapForY: Bool) -> (used: UInt128, out: UInt128) {
        guard reserve > 0 else { return (0, 0) }
        let maxIn = swapForY ? ceilDiv(WhirlpoolMath.wide(reserve, 1) << 64, wide(price)) : ceilDiv(WhirlpoolMath.wide(reserve, price), q64)
        if amount >= maxIn { return (maxIn, reserve) }
        let out = swapForY ? WhirlpoolMath.wide(amount, price) >> 64 : (WhirlpoolMath.wide(amount, 1) << 64) / wide(price)
        return (amount, narrow(out))
    }

    static let q64 = UInt256(limbs: 0, 1, 0, 0)
    static func wide(_ x: UInt128) -> UInt256 { WhirlpoolMath.wide(x, 1) }
    static func narrow(_ x: UInt256) -> UInt128 { UInt128(x.w1) << 64 | UInt128(x.w0) }
    static func ceilDiv(_ a: UInt256, _ b: UInt256) -> UInt128 {
        let (q, r) = a.quotientAndRemainder(dividingBy: b)
        let x = r.isZero ? q : q + .one
        return x.w2 | x.w3 == 0 ? narrow(x) : .max
    }
}
