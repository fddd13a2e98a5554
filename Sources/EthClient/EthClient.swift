import EVMCodec
import EVMPrimitives
import JSONRPC

/// Typed `eth_*` calls over a JSON-RPC client (one node or a provider pool). Values are parsed
/// strictly at this edge: a field a node sends wrong is an `RPCError(.malformedResponse)`.
public struct EthClient: Sendable {
    public let rpc: RPCClient

    public init(_ rpc: RPCClient) {
        self.rpc = rpc
    }

    /// A block tag or number for calls that read state.
    public enum Block: Sendable {
        case latest
        /// The node's pending state (transactions it holds counted: a nonce's next free value).
        case pending
        case number(UInt64)
        var json: JSONValue {
            switch self {
            case .latest: .string("latest")
            case .pending: .string("pending")
            case .number(let n): .string(UInt256(n).hexQuantity)
            }
        }
    }

    public func chainID() async throws(RPCError) -> UInt64 { try Self.quantity(try await rpc.call("eth_chainId"), "chainId") }

    public func blockNumber() async throws(RPCError) -> UInt64 { try Self.quantity(try await rpc.call("eth_blockNumber"), "blockNumber") }

    /// `eth_getTransactionCount`: the transactions `account` has sent (its next nonce) at `block`.
    public func transactionCount(of account: Address, at block: Block) async throws(RPCError) -> UInt64 {
        try Self.quantity(try await rpc.call("eth_getTransactionCount", [.string(account.checksummed), block.json]), "transactionCount")
    }

    /// A transaction as the nodes know it (mined, or waiting in a pool: geth's answer without
    /// block fields), or nil when none does. Behind a provider pool every provider is asked:
    /// a transaction reaches nodes at different times, so one that has not seen it yet does not
    /// make it unknown. Throws when no provider answered.
    public func transaction(_ hash: String) async throws(RPCError) -> JSONValue? {
        var failure: RPCError? = nil, answered = false
        for answer in await rpc.callEach("eth_getTransactionByHash", [.string(hash)]) {
            switch answer {
            case .success(.null): answered = true
            case .success(let t): return t
            case .failure(let e): failure = e
            }
        }
        if !answered, let failure { throw failure }
        return nil
    }

    /// Whether any node knows the transaction (see `transaction(_:)`).
    public func knows(transaction hash: String) async throws(RPCError) -> Bool { try await transaction(hash) != nil }

    /// What market state needs of a block header.
    public struct Header: Equatable, Sendable {
        public var number: UInt64
        public var hash: UInt256
        public var parentHash: UInt256
        public var timestamp: UInt64
        /// EIP-1559 base fee (nil before London, or when the node leaves it out).
        public var baseFee: UInt256?

        public init(number: UInt64, hash: UInt256, parentHash: UInt256, timestamp: UInt64, baseFee: UInt256? = nil) {
            self.number = number
            self.hash = hash
            self.parentHash = parentHash
            self.timestamp = timestamp
            self.baseFee = baseFee
        }

        /// A header object as nodes send it (`eth_getBlockByNumber`, `newHeads`).
        public init(json v: JSONValue) throws(RPCError) {
            func hash(_ key: String) throws(RPCError) -> UInt256 {
                guard let s = v[key]?.stringValue, s.count == 66, let h = try? UInt256(hex: s) else {
                    throw RPCError(.malformedResponse, "a header's \(key) is not 32 bytes")
                }
                return h
            }
            var baseFee: UInt256? = nil
            if let b = v["baseFeePerGas"], b != .null {
                guard let s = b.stringValue, s.hasPrefix("0x"), s.count <= 66, let fee = try? UInt256(hex: s) else {
                    throw RPCError(.malformedResponse, "a header's baseFeePerGas is not a quantity")
                }
                baseFee = fee
            }
            self.init(number: try EthClient.quantity(v["number"], "number"), hash: try hash("hash"), parentHash: try hash("parentHash"),
                      timestamp: try EthClient.quantity(v["timestamp"], "timestamp"), baseFee: baseFee)
        }
    }

    /// The header of `block` (`eth_getBlockByNumber` without transactions).
    public func header(_ block: Block = .latest) async throws(RPCError) -> Header {
        let result = try await rpc.call("eth_getBlockByNumber", [block.json, .bool(false)])
        if case .null = result { throw RPCError(.malformedResponse, "no block \(block)") }
        return try Header(json: result)
    }

    /// `eth_call` of `data` on `to` at `block`; the return data.
    public func call(to: Address, data: [UInt8], block: Block = .latest) async throws(RPCError) -> [UInt8] {
        let tx = JSONValue.object([("to", .string(to.lowercased)), ("data", .string(Hex.encode(data)))])
        let result = try await rpc.call("eth_call", [tx, block.json])
        guard let text = result.stringValue, let bytes = try? Hex.decode(text) else { throw RPCError(.malformedResponse, "eth_call returned \(result.kind)") }
        return bytes
    }

    /// Logs of `addresses` whose topic0 is one of `topics`, in [from, to].
    public func logs(addresses: [Address], topics: [UInt256], from: UInt64, to: UInt64) async throws(RPCError) -> [EVMLog] {
        let filter = JSONValue.object([
            ("fromBlock", .string(UInt256(from).hexQuantity)), ("toBlock", .string(UInt256(to).hexQuantity)),
            ("address", .array(addresses.map { .string($0.lowercased) })),
            ("topics", .array([.array(topics.map { .string(Self.word($0)) })])),
        ])
        let result = try await rpc.call("eth_getLogs", [filter])
        guard let items = result.arrayValue else { throw RPCError(.malformedResponse, "eth_getLogs returned \(result.kind)") }
        return try items.map { (item) throws(RPCError) -> EVMLog in try Self.log(item) }
    }

    /// A log object as nodes send it (`eth_getLogs`, `logs` subscriptions).
    public static func log(_ v: JSONValue) throws(RPCError) -> EVMLog {
        func field(_ key: String) throws(RPCError) -> String {
            guard let s = v[key]?.stringValue else { throw RPCError(.malformedResponse, "a log without \(key)") }
            return s
        }
        do {
            let address = try Address(hex: try field("address"))
            guard let topicValues = v["topics"]?.arrayValue, topicValues.count <= 4 else { throw RPCError(.malformedResponse, "a log's topics") }
            var topics: [UInt256] = []
            for t in topicValues {
                guard let s = t.stringValue, s.count == 66 else { throw RPCError(.malformedResponse, "a topic that is not 32 bytes") }
                topics.append(try UInt256(hex: s))
            }
            let removed: Bool
            switch v["removed"] {
            case nil, .null?: removed = false
            case .bool(let b)?: removed = b
            default: throw RPCError(.malformedResponse, "removed is not a bool")
            }
            return EVMLog(address: address, topics: topics, data: try Hex.decode(try field("data")),
                           blockNumber: try quantity(v["blockNumber"], "blockNumber"), blockHash: try UInt256(hex: try field("blockHash")),
                           transactionIndex: UInt32(truncatingIfNeeded: try quantity(v["transactionIndex"], "transactionIndex")),
                           logIndex: UInt32(truncatingIfNeeded: try quantity(v["logIndex"], "logIndex")), removed: removed)
        } catch let e as RPCError {
            throw e
        } catch {
            throw RPCError(.malformedResponse, "a log: \(error)")
        }
    }

    static func quantity(_ v: JSONValue?, _ name: String) throws(RPCError) -> UInt64 {
        guard let s = v?.stringValue, s.hasPrefix("0x"), let n = try? UInt256(hex: s), n.fitsInUInt64 else {
            throw RPCError(.malformedResponse, "\(name) is not a quantity")
        }
        return n.w0
    }

    static func word(_ w: UInt256) -> String { Hex.encode(w.bigEndianBytes) }
}

extension EthClient {
    /// The logs a transaction would emit on the latest state, in emission order: `debug_traceCall`
    /// with geth's `callTracer` and `withLog`. Each frame's logs carry their `position` (how many
    /// of the frame's calls came before them); logs and sub-calls are interleaved by it. A call that
    /// reverts emits nothing (its logs are undone): nil then, as when the node cannot trace.
    public func traceLogs(from: Address, to: Address, data: [UInt8], value: UInt256 = .zero, gas: UInt64) async throws(RPCError) -> [EVMLog]? {
        let call: JSONValue = .object([("from", .string(from.checksummed)), ("to", .string(to.checksummed)), ("data", .string(Hex.encode(data))),
                                       ("value", .string(value.hexQuantity)), ("gas", .string(UInt256(gas).hexQuantity))])
        let tracer: JSONValue = .object([("tracer", .string("callTracer")), ("tracerConfig", .object([("withLog", .bool(true))]))])
        let frame = try await rpc.call("debug_traceCall", [call, .string("latest"), tracer])
        guard frame["error"] == nil else { return nil }
        var out: [EVMLog] = []
        try Self.collect(frame, depth: 0, into: &out)
        return out
    }

    static func collect(_ frame: JSONValue, depth: Int, into out: inout [EVMLog]) throws(RPCError) {
        guard depth < 1_024, case .object = frame else { throw RPCError(.malformedResponse, "a call frame") }
        // A reverted sub-call's logs are undone with it.
        if depth > 0, frame["error"] != nil { return }
        let calls = frame["calls"]?.arrayValue ?? []
        var logs: [(position: Int, log: EVMLog)] = []
        for l in frame["logs"]?.arrayValue ?? [] {
            guard let a = l["address"]?.stringValue, let address = try? Address(hex: a), let ts = l["topics"]?.arrayValue, ts.count <= 4,
                  let d = l["data"]?.stringValue, let data = try? Hex.decodePrefixed(d) else { throw RPCError(.malformedResponse, "a traced log") }
            var topics: [UInt256] = []
            for t in ts {
                guard let s = t.stringValue, s.count == 66, let w = try? UInt256(hex: s) else { throw RPCError(.malformedResponse, "a traced topic") }
                topics.append(w)
            }
            let position = Int((try? quantity(l["position"], "position")) ?? 0)
            logs.append((min(position, calls.count), EVMLog(address: address, topics: topics, data: data, blockNumber: 0, logIndex: 0)))
        }
        var next = 0
        for (i, call) in calls.enumerated() {
            while next < logs.count, logs[next].position <= i {
                out.append(logs[next].log)
                next += 1
            }
            try collect(call, depth: depth + 1, into: &out)
        }
        out += logs[next...].map(\.log)
    }
}
