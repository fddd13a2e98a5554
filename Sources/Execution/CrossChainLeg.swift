import EVMPrimitives
import EVMSigning
import EthClient

/// One chain as cross-chain trades use it: our `CrossChainArbitrage` there, the bridge it
/// deposits into (and whose fills arrive there), and a key of its own (the legs keep their own
/// nonces, apart from the chain's other trades).
public struct CrossChainLeg: Sendable {
    public var chainID: UInt64
    public var eth: EthClient
    public var route: SubmissionRoute
    public var key: PrivateKey
    public var executor: Address
    public var bridge: Address

    public init(chainID: UInt64, eth: EthClient, route: SubmissionRoute, key: PrivateKey, executor: Address, bridge: Address) {
        self.chainID = chainID
        self.eth = eth
        self.route = route
        self.key = key
        self.executor = executor
        self.bridge = bridge
    }

    /// The leg as an own-capital account (its executor, route and key).
    public var account: OwnCapitalAccount { OwnCapitalAccount(chainID: chainID, eth: eth, route: route, key: key, executor: executor) }
}
