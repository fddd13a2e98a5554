import EVMPrimitives
import Opportunities

/// A chain a cross-chain trade can start on without an EVM executor there: its side buys the
/// asset and sends it across in one transaction (on Solana: Jupiter and the token bridge). The
/// cross-chain executor follows the transfer on the EVM side as it does its own deposits: the
/// fill under (origin chain, deposit id), then the sale.
public protocol BridgeOrigin: Sendable {
    /// The chain id its trades start on (`Opportunity.solanaChainID`).
    var originChain: UInt64 { get }
    /// Buys with `o`'s origin side and sends what it bought to `recipient` on `toChain`.
    /// `whenSigned` gets the transaction's id before it is sent (the transfer is journaled with it).
    func buyAndBridge(_ o: Opportunity, toChain: UInt64, recipient: Address, whenSigned: @escaping @Sendable (String) -> Void) async
        -> Result<BridgeOriginSent, Refusal>
    /// What became of a transaction sent by `buyAndBridge` (after a restart, or sent without an answer).
    func bridgedFate(_ transaction: String) async -> BridgeOriginFate
}

/// A landed buy-and-bridge: its transaction, the deposit id the bridge fills it under on the
/// other chain, and what it sent across (in the asset's units on the origin chain).
public struct BridgeOriginSent: Equatable, Sendable {
    public var transaction: String
    public var deposit: UInt256
    public var bought: UInt256
    public var slot: UInt64
    public init(transaction: String, deposit: UInt256, bought: UInt256, slot: UInt64) {
        (self.transaction, self.deposit, self.bought, self.slot) = (transaction, deposit, bought, slot)
    }
}

public enum BridgeOriginFate: Equatable, Sendable {
    /// Landed with its bridge message: the deposit id and the slot (or block) it landed in.
    case landed(sequence: UInt256, slot: UInt64)
    /// It can no longer land, or landed without moving anything: why.
    case never(String)
    /// Not known yet: why.
    case undecided(String)
}
