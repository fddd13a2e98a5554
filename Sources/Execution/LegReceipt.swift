import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC

/// A landed own-capital transaction.
struct LegReceipt {
    var txHash: String
    var block: UInt64
    var status: Int
    var logs: [EVMLog]

    /// The receipt of `hash`, if it has one yet (an unreadable answer counts as none yet).
    static func fetch(_ hash: String, on eth: EthClient) async -> LegReceipt? {
        if case .landed(let r) = await read(hash, on: eth) { return r }
        return nil
    }

    /// What a receipt read says: landed, no receipt (the node answered null), or nothing known
    /// (the read failed or its answer was unreadable). Only the second says it has not landed.
    enum Read {
        case landed(LegReceipt)
        case absent
        case unknown
    }

    static func read(_ hash: String, on eth: EthClient) async -> Read {
        guard let r = try? await eth.rpc.call("eth_getTransactionReceipt", [.string(hash)]) else { return .unknown }
        if r == .null { return .absent }
        return LegReceipt(r).map(Read.landed) ?? .unknown
    }

    init?(_ r: JSONValue) {
        guard let h = r["transactionHash"]?.stringValue, let b = r["blockNumber"]?.stringValue, let block = try? UInt256(hex: b) else { return nil }
        (txHash, self.block, status, logs) = (h, block.w0, r["status"]?.stringValue == "0x1" ? 1 : 0, ExecutorCall.logs(ofReceipt: r))
    }

    static let soldTopic = try! UInt256(bigEndian: Keccak256.hash(utf8: "Sold(address,uint256,address,uint256)"))

    /// The executor's `Sold` proceeds in the logs.
    static func sold(_ logs: [EVMLog], executor: Address) -> UInt256? {
        for l in logs where l.address == executor && l.topics.first == soldTopic && l.data.count == 96 {
            return try? UInt256(bigEndian: Array(l.data[64..<96]))
        }
        return nil
    }
}

/// How sending a leg's transaction ended: its receipt, or whether it went out (it may land) and
/// whether its fate is in doubt (the reads that would tell failed, or the wait was cut).
struct LegOutcome {
    var landed: LegReceipt? = nil
    var sent = false
    var doubt = false
    var why = ""
}

/// A leg's signed transaction on its way, and how long its receipt is waited for.
struct LegSending {
    let leg: OwnCapitalAccount
    let signed: SignedTransaction
    let hash: String
    let nonce: UInt64
    let submission: Int64
    let deadline: ContinuousClock.Instant
}
