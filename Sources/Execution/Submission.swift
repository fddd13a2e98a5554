import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC

/// `X-Flashbots-Signature: <address>:<sig>`, sig = EIP-191 personal_sign of the ASCII text
/// "0x" + lowercase hex keccak256 of the exact body, by a reputation key that holds no funds.
public struct FlashbotsSigner: Sendable {
    let key: PrivateKey

    public init(key: PrivateKey) { self.key = key }

    public var address: Address { key.address }

    public func header(body: [UInt8]) -> (String, String) {
        let text = Array(Hex.encode(Keccak256.hash(body)).utf8)
        let sig = PersonalMessage.sign(text, with: key)
        return ("X-Flashbots-Signature", "\(key.address.checksummed):\(Hex.encode(sig.bytes65))")
    }

    /// An HTTP transport to `relay` that signs every request.
    public func transport(relay: String) -> HTTPTransport {
        HTTPTransport(url: relay, timeout: .seconds(5), signHeaders: { body in [header(body: body)] })
    }
}

/// How a signed trade reaches a block, by the chain's MEV mode.
public enum SubmissionRoute: Sendable {
    /// Bundles to a Flashbots-style relay (simulated with eth_callBundle, sent with eth_sendBundle
    /// for one block at a time), signed by the reputation key.
    case flashbots(relay: RPCClient)
    /// A private or sequencer endpoint: eth_sendRawTransaction where no public mempool sees it.
    case privateRPC(RPCClient)
    /// The public mempool (only where the chain's mode allows nothing better).
    case publicMempool(RPCClient)

    /// Where single transactions go (nil for bundles).
    var transactionEndpoint: RPCClient? {
        switch self {
        case .flashbots: nil
        case .privateRPC(let rpc), .publicMempool(let rpc): rpc
        }
    }

    /// Bundles (top of their block) rather than single transactions.
    public var isBundle: Bool { transactionEndpoint == nil }

    public var name: String {
        switch self {
        case .flashbots: "bundle"
        case .privateRPC: "private"
        case .publicMempool: "public"
        }
    }
}

/// The relay's answer to eth_callBundle, reduced to what execution acts on.
public struct BundleSimulation: Equatable, Sendable {
    public struct Result: Equatable, Sendable {
        public var txHash: String
        public var gasUsed: UInt64
        public var error: String?
    }

    public var results: [Result]
    public var totalGasUsed: UInt64
    public var coinbaseDiff: UInt256

    /// Reads an eth_callBundle result (wei as decimal strings, gas as numbers or quantities).
    public init(json v: JSONValue) throws(ExecutionError) {
        guard let rs = v["results"]?.arrayValue else { throw ExecutionError("eth_callBundle: no results") }
        func int(_ x: JSONValue?) -> UInt64? {
            switch x {
            case .number(let s)?: return UInt64(s)
            case .string(let s)?: return s.hasPrefix("0x") ? (try? UInt256(hex: s)).flatMap { $0 <= UInt256(UInt64.max) ? $0.w0 : nil } : UInt64(s)
            default: return nil
            }
        }
        results = try rs.map { (r) throws(ExecutionError) -> Result in
            guard let h = r["txHash"]?.stringValue, let g = int(r["gasUsed"]) else { throw ExecutionError("eth_callBundle: a result without txHash or gasUsed") }
            let err = r["error"]?.stringValue ?? r["revert"]?.stringValue
            return Result(txHash: h, gasUsed: g, error: err)
        }
        totalGasUsed = int(v["totalGasUsed"]) ?? results.reduce(0) { $0 + $1.gasUsed }
        coinbaseDiff = v["coinbaseDiff"]?.stringValue.flatMap { UInt256($0) } ?? .zero
    }

    /// The first failing transaction's error, if any.
    public var failure: String? { results.first { $0.error != nil }.map { "\($0.txHash): \($0.error!)" } }
}

/// Whether a send that failed with `error` may still have reached the node or relay: no answer
/// came (a timeout, a dropped connection) or one that could not be read. Only the other side's
/// own refusal, or a request never made (rate limit, no provider), says it was not taken; until
/// then what was signed may land, and its nonce is not free.
func mayHaveBeenAccepted(_ error: any Error) -> Bool {
    guard let e = error as? RPCError else { return true }
    return e.code == .timeout || e.code == .transport || e.code == .malformedResponse
}

extension RPCClient {
    func sendRawTransaction(_ raw: [UInt8]) async throws(RPCError) -> String {
        let v = try await callUncancelled("eth_sendRawTransaction", [.string(Hex.encode(raw))])
        guard let h = v.stringValue else { throw RPCError(.malformedResponse, "eth_sendRawTransaction: not a hash") }
        return h
    }

    func callBundle(_ txs: [[UInt8]], block: UInt64) async throws -> BundleSimulation {
        let v = try await call("eth_callBundle", [.object([
            ("txs", .array(txs.map { .string(Hex.encode($0)) })), ("blockNumber", .string(UInt256(block).hexQuantity)), ("stateBlockNumber", .string("latest")),
        ])])
        return try BundleSimulation(json: v)
    }

    func sendBundle(_ txs: [[UInt8]], block: UInt64) async throws -> String {
        let v = try await callUncancelled("eth_sendBundle", [.object([("txs", .array(txs.map { .string(Hex.encode($0)) })), ("blockNumber", .string(UInt256(block).hexQuantity))])])
        guard let h = v["bundleHash"]?.stringValue else { throw ExecutionError("eth_sendBundle: no bundleHash") }
        return h
    }
}

extension Transaction {
    /// Its cancellation: a 0-value transfer to the signer itself with the same nonce and both fee
    /// caps raised by half (nodes ask at least 10% more to replace): whichever lands first takes
    /// the nonce.
    public func cancellation(signedWith key: PrivateKey) -> SignedTransaction {
        var c = self
        c.to = key.address
        c.data = []
        c.value = .zero
        c.gasLimit = 21_000
        c.maxFeePerGas = maxFeePerGas &+ maxFeePerGas / 2
        c.maxPriorityFeePerGas = maxPriorityFeePerGas &+ maxPriorityFeePerGas / 2
        return c.signed(with: key)
    }
}
