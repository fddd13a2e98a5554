import EVMPrimitives

/// An arbitrage opportunity as detectors publish it and execution consumes it: exact amounts
/// (integers in the asset's raw units), the path hop by hop, and the timestamps of its way through
/// the pipeline. Versioned, with a JSON form (`Opportunity+JSON`) and a compact binary one
/// (`Opportunity+Binary`) for the bus.
public struct Opportunity: Equatable, Sendable {
    /// The schema version this build writes; readers refuse others.
    public static let version: UInt8 = 2

    public enum Kind: UInt8, CaseIterable, Sendable {
        case crossDex = 1
        case triangular = 2
        case multiLeg = 3
        case crossChain = 4
        case statistical = 5
        case cexDexSpread = 6
        case backrun = 7
        case solana = 8

        /// The case name, as the JSON form writes it.
        public var name: String { String(describing: self) }
    }

    /// Where the trade's capital comes from.
    public enum FlashSource: UInt8, CaseIterable, Sendable {
        case none = 0
        case aaveV3 = 1
        case balancerV2 = 2
        case syncSwap = 3
        case daiFlashMint = 4
        case uniswapV3Flash = 5

        /// The case name, as the JSON form writes it.
        public var name: String { String(describing: self) }
    }

    /// One swap of the path.
    public struct Hop: Equatable, Sendable {
        public var chainID: UInt64
        public var pool: Address
        public var tokenIn: Address
        public var tokenOut: Address
        /// The venue number of the pool (as in the PriceMatrix key).
        public var venue: UInt32
        /// What this hop is expected to pay, in `tokenOut`'s raw units.
        public var amountOut: UInt256

        public init(chainID: UInt64, pool: Address, tokenIn: Address, tokenOut: Address, venue: UInt32, amountOut: UInt256) {
            self.chainID = chainID
            self.pool = pool
            self.tokenIn = tokenIn
            self.tokenOut = tokenOut
            self.venue = venue
            self.amountOut = amountOut
        }
    }

    /// Nanoseconds since the Unix epoch at each stage (0: not reached).
    public struct Timestamps: Equatable, Sendable {
        public var eventReceived: UInt64 = 0
        public var stateApplied: UInt64 = 0
        public var detected: UInt64 = 0
        public var published: UInt64 = 0
        public init(eventReceived: UInt64 = 0, stateApplied: UInt64 = 0, detected: UInt64 = 0, published: UInt64 = 0) {
            self.eventReceived = eventReceived
            self.stateApplied = stateApplied
            self.detected = detected
            self.published = published
        }
    }

    /// 16 bytes: unique per opportunity (see `Opportunity.makeID`).
    public var id: [UInt8]
    public var kind: Kind
    /// The chain(s): one, or two for cross-chain (buy chain first).
    public var chains: [UInt64]
    public var path: [Hop]
    /// The input, in the first hop's `tokenIn` raw units (the asset).
    public var amountIn: UInt256
    /// Output minus input, and that net of gas and flash fee, in the asset (negative: a loss).
    public var grossProfit: Int256
    public var netProfit: Int256
    /// The same in US dollars, in micro-dollars (1e-6), for ranking and display.
    public var grossProfitMicroUSD: Int64
    public var netProfitMicroUSD: Int64
    public var gasUnits: UInt64
    /// Gas cost in the chain's native token (wei).
    public var gasCostWei: UInt256
    public var flashSource: FlashSource
    /// The block of the state it was sized on.
    public var blockNumber: UInt64
    public var timestamps: Timestamps
    /// Nanoseconds since the Unix epoch after which it must not be executed.
    public var expiresAt: UInt64
    /// 0…1: how much the detector trusts it (state freshness, depth, history).
    public var confidence: Double
    /// A statistical opportunity's signal; present exactly when `kind` is `.statistical`.
    public var statistical: Statistical?
    /// A CEX–DEX opportunity's reference; present exactly when `kind` is `.cexDexSpread`.
    public var cexDex: CexDex?
    /// A backrun's target; present exactly when `kind` is `.backrun`.
    public var backrun: Backrun?
    /// The chain id a Solana opportunity carries (Solana has no EIP-155 id): 101, mainnet-beta's
    /// id in the Solana token list.
    public static let solanaChainID: UInt64 = 101

    /// A Solana route; present when `kind` is `.solana`, whose `path` is empty (Solana's keys are
    /// 32 bytes), and on a `.crossChain` opportunity with a side on Solana (that side's leg; the
    /// EVM side is its `path`, and `chains` says which is bought on first). Amounts and profits are in the first leg's input mint's raw units
    /// (lamports for SOL), `blockNumber` is the slot it was sized on, `gasUnits` compute units and
    /// `gasCostWei` the lamports of fees and tip it expects to pay.
    public var solana: Solana?

    /// A route through Solana pools: each leg's pool, input and output mints (32-byte keys), and
    /// what it is expected to pay; each leg's output mint is the next one's input.
    public struct Solana: Equatable, Sendable {
        public static let maxLegs = 4

        public struct Leg: Equatable, Sendable {
            public var pool: [UInt8]
            public var mintIn: [UInt8]
            public var mintOut: [UInt8]
            public var amountOut: UInt64
            public init(pool: [UInt8], mintIn: [UInt8], mintOut: [UInt8], amountOut: UInt64) {
                (self.pool, self.mintIn, self.mintOut, self.amountOut) = (pool, mintIn, mintOut, amountOut)
            }
        }

        public var legs: [Leg]
        public init(legs: [Leg]) { self.legs = legs }

        /// 1–4 legs of 32-byte keys, each leg's input the previous one's output, different mints per leg.
        public var isValid: Bool {
            guard (1...Self.maxLegs).contains(legs.count) else { return false }
            for (i, l) in legs.enumerated() {
                guard l.pool.count == 32, l.mintIn.count == 32, l.mintOut.count == 32, l.mintIn != l.mintOut else { return false }
                if i > 0 && legs[i - 1].mintOut != l.mintIn { return false }
            }
            return true
        }
    }

    /// What a backrun runs behind: a pending transaction (a CoW settlement), its signed bytes as
    /// seen (the bundle's first transaction), and its effect on the path's pools as the pool logs
    /// it emits; the path was sized on `blockNumber`'s state with these logs applied after it.
    public struct Backrun: Equatable, Sendable {
        public static let maxRawBytes = 131_072
        public static let maxEffects = 64
        public static let maxEffectData = 4_096

        /// One pool log of the target: the pool, its topics (1–4), its data.
        public struct Effect: Equatable, Sendable {
            public var pool: Address
            public var topics: [UInt256]
            public var data: [UInt8]
            public init(pool: Address, topics: [UInt256], data: [UInt8]) {
                self.pool = pool
                self.topics = topics
                self.data = data
            }
        }

        /// keccak256 of `targetRaw`.
        public var targetHash: [UInt8]
        public var targetRaw: [UInt8]
        /// Who sent the target (the solver of a settlement).
        public var sender: Address
        /// The target's volume in micro-dollars (a settlement's traded value), for reports.
        public var volumeMicroUSD: UInt64
        public var effects: [Effect]

        public init(targetRaw: [UInt8], sender: Address, volumeMicroUSD: UInt64, effects: [Effect]) {
            self.targetRaw = targetRaw
            targetHash = Keccak256.hash(targetRaw)
            self.sender = sender
            self.volumeMicroUSD = volumeMicroUSD
            self.effects = effects
        }

        /// Whether the section is within the wire format's rules (the hash is the raw bytes').
        public var isValid: Bool {
            (1...Self.maxRawBytes).contains(targetRaw.count) && targetHash == Keccak256.hash(targetRaw) && effects.count <= Self.maxEffects
                && effects.allSatisfy { (1...4).contains($0.topics.count) && $0.data.count <= Self.maxEffectData }
        }
    }

    /// What a CEX–DEX opportunity was measured against: the exchange's book for the pool's pair,
    /// as an exact fair value (the mid), and the hedge the DEX leg implies. Profits of the DEX
    /// leg are valued at this price: what it gets, converted to the input token at the fair
    /// value (floored), minus what it pays.
    public struct CexDex: Equatable, Sendable {
        /// The exchange's symbol (`ETHUSDT`): 1–20 upper-case letters or digits.
        public var symbol: String
        /// The pool's tokens the symbol prices: `base` in `quote`.
        public var base: Address
        public var quote: Address
        /// The fair value: `quote` raw units per `base` raw unit, as a fraction.
        public var fairNumerator: UInt256
        public var fairDenominator: UInt256
        /// Best bid and ask at detection (display), and the book's age then.
        public var bid: Double
        public var ask: Double
        public var bookAgeMillis: UInt64
        /// The hedge: the DEX leg buys `base`, so the exchange leg sells it (or the other way),
        /// `hedgeQuantity` raw units of `base`; `depth` is what the book showed on that side
        /// within the band the detector allows (base units, for the confidence).
        public var hedgeSellsBase: Bool
        public var hedgeQuantity: UInt256
        public var depth: Double

        public init(symbol: String, base: Address, quote: Address, fairNumerator: UInt256, fairDenominator: UInt256, bid: Double, ask: Double,
                    bookAgeMillis: UInt64, hedgeSellsBase: Bool, hedgeQuantity: UInt256, depth: Double) {
            self.symbol = symbol
            self.base = base
            self.quote = quote
            self.fairNumerator = fairNumerator
            self.fairDenominator = fairDenominator
            self.bid = bid
            self.ask = ask
            self.bookAgeMillis = bookAgeMillis
            self.hedgeSellsBase = hedgeSellsBase
            self.hedgeQuantity = hedgeQuantity
            self.depth = depth
        }

        /// Whether the section is within the wire format's rules.
        public var isValid: Bool {
            (1...20).contains(symbol.utf8.count) && symbol.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) }
                && !fairNumerator.isZero && !fairDenominator.isZero && bid.isFinite && ask.isFinite && bid >= 0 && ask >= 0
                && depth.isFinite && depth >= 0
        }

        /// `amount` of `token` (the base or the quote) expressed in the other one at the fair
        /// value, floored; nil on overflow.
        public func value(of amount: UInt256, token: Address) -> UInt256? {
            token == base ? UInt256.mulDiv(amount, fairNumerator, fairDenominator) : UInt256.mulDiv(amount, fairDenominator, fairNumerator)
        }

        /// The DEX leg's profit against the fair value, in the token it paid: what it got
        /// (`got` of `gotToken`) valued in the paid token, minus what it paid.
        public func profit(paid: UInt256, got: UInt256, gotToken: Address) -> Int256? {
            guard let v = value(of: got, token: gotToken), v <= UInt256(Int256.max.magnitude), paid <= UInt256(Int256.max.magnitude) else { return nil }
            return Int256(bitPattern: v) &- Int256(bitPattern: paid)
        }
    }

    /// A statistical-arbitrage signal: the pair (A, B, as the detector numbers it on the chain),
    /// the side, and the spread's statistics at entry (log units; spread = log A − β·log B, both
    /// priced in one numeraire). The path sells the dear token for the cheap one.
    public struct Statistical: Equatable, Sendable {
        public var pair: UInt32
        public var tokenA: Address
        public var tokenB: Address
        /// A is cheap against B: the path sells B for A.
        public var longA: Bool
        public var spread: Double
        /// The band's mean and standard deviation (the band is mean ± width·deviation).
        public var mean: Double
        public var deviation: Double
        public var z: Double
        public var hedgeRatio: Double
        public var correlation: Double
        public var pValue: Double
        public var hurst: Double

        public init(pair: UInt32, tokenA: Address, tokenB: Address, longA: Bool, spread: Double, mean: Double, deviation: Double, z: Double,
                    hedgeRatio: Double, correlation: Double, pValue: Double, hurst: Double) {
            self.pair = pair
            self.tokenA = tokenA
            self.tokenB = tokenB
            self.longA = longA
            self.spread = spread
            self.mean = mean
            self.deviation = deviation
            self.z = z
            self.hedgeRatio = hedgeRatio
            self.correlation = correlation
            self.pValue = pValue
            self.hurst = hurst
        }

        /// What a full reversion to the mean returns (log units).
        public var expectedReversion: Double { abs(spread - mean) }

        /// The statistics in wire order (all finite).
        var numbers: [Double] { [spread, mean, deviation, z, hedgeRatio, correlation, pValue, hurst] }
    }

    public init(id: [UInt8], kind: Kind, chains: [UInt64], path: [Hop], amountIn: UInt256, grossProfit: Int256, netProfit: Int256,
                grossProfitMicroUSD: Int64, netProfitMicroUSD: Int64, gasUnits: UInt64, gasCostWei: UInt256, flashSource: FlashSource,
                blockNumber: UInt64, timestamps: Timestamps, expiresAt: UInt64, confidence: Double, statistical: Statistical? = nil,
                cexDex: CexDex? = nil, backrun: Backrun? = nil, solana: Solana? = nil) {
        self.id = id
        self.kind = kind
        self.chains = chains
        self.path = path
        self.amountIn = amountIn
        self.grossProfit = grossProfit
        self.netProfit = netProfit
        self.grossProfitMicroUSD = grossProfitMicroUSD
        self.netProfitMicroUSD = netProfitMicroUSD
        self.gasUnits = gasUnits
        self.gasCostWei = gasCostWei
        self.flashSource = flashSource
        self.blockNumber = blockNumber
        self.timestamps = timestamps
        self.expiresAt = expiresAt
        self.confidence = confidence
        self.statistical = statistical
        self.cexDex = cexDex
        self.backrun = backrun
        self.solana = solana
    }

    /// A deterministic id: the first 16 bytes of keccak256 over the kind, block, pools and input,
    /// so the same opportunity found twice (two partitions, a replay) has one id.
    public static func makeID(kind: Kind, blockNumber: UInt64, path: [Hop], amountIn: UInt256) -> [UInt8] {
        var bytes: [UInt8] = [kind.rawValue]
        withUnsafeBytes(of: blockNumber.bigEndian) { bytes += $0 }
        for hop in path {
            withUnsafeBytes(of: hop.chainID.bigEndian) { bytes += $0 }
            bytes += hop.pool.bytes + hop.tokenIn.bytes
        }
        bytes += amountIn.bigEndianBytes
        return Array(Keccak256.hash(bytes).prefix(16))
    }

    /// The same for a Solana route: over the kind, slot, legs' pools and input mints, and input.
    public static func makeID(slot: UInt64, legs: [Solana.Leg], amountIn: UInt64) -> [UInt8] {
        var bytes: [UInt8] = [Kind.solana.rawValue]
        withUnsafeBytes(of: slot.bigEndian) { bytes += $0 }
        for l in legs { bytes += l.pool + l.mintIn }
        withUnsafeBytes(of: amountIn.bigEndian) { bytes += $0 }
        return Array(Keccak256.hash(bytes).prefix(16))
    }
}

/// Why an encoded opportunity was refused. Carries the input's first bytes for the log.
public struct OpportunityDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public let input: String

    init(_ message: String, input: some Collection<UInt8>) {
        self.message = message
        self.input = Hex.encode(Array(input.prefix(48)))
    }

    public var description: String { "opportunity: \(message) (input \(input)…)" }
}
