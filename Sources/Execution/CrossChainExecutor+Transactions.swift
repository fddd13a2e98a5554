import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// The bridge's deposit in leg one's receipt.
extension CrossChainExecutor {
    /// The bridge's `Deposited` in a receipt: (id, amount).
    static func deposit(_ logs: [EVMLog], bridge: Address) -> (UInt256, UInt256)? {
        for l in logs where l.address == bridge && l.topics.count == 3 && (l.topics[0] == deposited || l.topics[0] == depositedTo) && l.data.count == 128 {
            guard let amount = try? UInt256(bigEndian: Array(l.data[0..<32])) else { continue }
            return (l.topics[1], amount)
        }
        return nil
    }

}
