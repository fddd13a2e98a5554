import EthClient
import EVMPrimitives
import EVMSigning

/// One chain as execution uses it.
public struct ExecutionChain: Sendable {
    public var chainID: UInt64
    public var eth: EthClient
    public var route: SubmissionRoute
    /// The signing keys trades go out from, each with its own nonces: trades on disjoint pools
    /// go concurrently from different keys (a bundle with a key's next nonce cannot land before
    /// the one ahead of it, so a key sends one bundle at a time). All must be authorised on the executors.
    public var keys: [PrivateKey]
    /// The first signing key.
    public var key: PrivateKey {
        get { keys[0] }
        set { keys[0] = newValue }
    }
    public var flash: FlashProviders?
    public var direct: Address?
    /// An OP-stack GasPriceOracle: each trade's L1 data fee is read from it and must leave a profit.
    public var l1FeeOracle: Address? = nil
    /// Gas limit of a trade: detection's estimate × this, within the bounds.
    public var gasHeadroom: (numerator: UInt64, denominator: UInt64) = (2, 1)
    public var gasLimitBounds: ClosedRange<UInt64> = 300_000...1_500_000
    /// Blocks a bundle is retargeted before it is given up.
    public var maxBundleBlocks = 3
    /// Blocks a sent transaction may stay pending before a replacement at a higher fee (or, when
    /// that no longer pays, a cancellation) is sent.
    public var replaceAfterBlocks: UInt64 = 3
    public var maxReplacements = 2
    /// Blocks a cancellation may stay pending before the nonce is taken from the chain again.
    public var maxPendingBlocks: UInt64 = 10
    /// Blocks a landed trade is watched for a reorg that replaces its block (the chain's reorg depth).
    public var confirmations: UInt64 = 64

    public init(chainID: UInt64, eth: EthClient, route: SubmissionRoute, key: PrivateKey, flash: FlashProviders?, direct: Address?) {
        self.chainID = chainID
        self.eth = eth
        self.route = route
        self.keys = [key]
        self.flash = flash
        self.direct = direct
    }
}
