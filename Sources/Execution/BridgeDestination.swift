import EVMPrimitives
import Opportunities

/// A chain a cross-chain trade can end on without an EVM executor there (Solana): the bridge
/// pays its wallet, a 32-byte key, and its side sells what arrived. The cross-chain executor
/// buys and bridges on the EVM side as for any transfer, then follows the arrival and the sale
/// here.
public protocol BridgeDestination: Sendable {
    /// The chain id its trades end on (`Opportunity.solanaChainID`).
    var destinationChain: UInt64 { get }
    /// The 32 bytes the bridge on the other chain is told to pay (the wallet's key).
    var bridgeRecipient: [UInt8] { get }
    /// What the transfer `deposit` from `fromChain` paid here in `asset`'s units, once it has been
    /// paid (nil while it has not): `sent` units at `sentDecimals` on the source chain.
    func arrival(fromChain: UInt64, deposit: UInt256, sent: UInt256, sentDecimals: UInt8, asset: [UInt8]) async -> Result<UInt256?, Refusal>
    /// Sells `amount` of what `o`'s side here takes in for what it gives out, for at least
    /// `minimum`. `whenSigned` gets the transaction's id before it is sent.
    func sellArrived(_ o: Opportunity, amount: UInt256, minimum: UInt256, whenSigned: @escaping @Sendable (String) -> Void) async
        -> Result<BridgeSale, Refusal>
    /// What became of a sale `sellArrived` signed (left unsettled, or after a restart).
    func saleFate(_ transaction: String, quote: [UInt8]) async -> BridgeSaleFate
}

/// A landed sale: its transaction and what it fetched (the quote token's change in its balances).
public struct BridgeSale: Equatable, Sendable {
    public var transaction: String
    public var proceeds: UInt256
    public init(transaction: String, proceeds: UInt256) { (self.transaction, self.proceeds) = (transaction, proceeds) }
}

public enum BridgeSaleFate: Equatable, Sendable {
    case sold(proceeds: UInt256)
    /// It can no longer land (or failed): why.
    case never(String)
    /// Not known yet: why.
    case undecided(String)
}
