import EVMCodec

/// One JSON-RPC 2.0 call.
public struct RPCRequest: Equatable, Sendable {
    public var id: Int
    public var method: String
    public var params: [JSONValue]

    public init(id: Int, method: String, params: [JSONValue] = []) {
        self.id = id
        self.method = method
        self.params = params
    }

    public var json: JSONValue {
        .object([("jsonrpc", .string("2.0")), ("id", .number(String(id))), ("method", .string(method)), ("params", .array(params))])
    }

    /// The body for one request, or a batch of several.
    public static func body(_ requests: [RPCRequest]) -> String {
        requests.count == 1 ? requests[0].json.text : JSONValue.array(requests.map(\.json)).text
    }
}

/// A frame from a node: responses (one, or a batch in any order) or a subscription notification.
public enum RPCFrame: Equatable, Sendable {
    case responses([RPCResponse])
    /// A subscription notification: `eth_subscription`, or Solana's `<kind>Notification`
    /// (`accountNotification`, `slotNotification`, …): the subscription id (a string, or
    /// Solana's integer as its decimal text) and its result (a header, a log, an account).
    case notification(subscription: String, result: JSONValue)

    /// Parses a frame; anything that is not JSON-RPC 2.0 is `.malformedResponse`.
    public static func parse(_ bytes: [UInt8]) throws(RPCError) -> RPCFrame {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw RPCError(.malformedResponse, "not JSON: \(error)")
        }
        switch value {
        case .array(let items):
            guard !items.isEmpty else { throw RPCError(.malformedResponse, "an empty batch") }
            var out: [RPCResponse] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try RPCResponse(item)) }
            return .responses(out)
        case .object:
            if let method = value["method"]?.stringValue, method == "eth_subscription" || method.hasSuffix("Notification") {
                guard let params = value["params"], let sub = params["subscription"].flatMap(Self.subscriptionID), let result = params["result"] else {
                    throw RPCError(.malformedResponse, "a subscription notification without subscription or result")
                }
                return .notification(subscription: sub, result: result)
            }
            return .responses([try RPCResponse(value)])
        default:
            throw RPCError(.malformedResponse, "a \(value.kind), not an object or batch")
        }
    }

    /// A subscription id as the node gives it: a string (Ethereum) or a non-negative integer (Solana).
    public static func subscriptionID(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): return s
        case .number(let n): return UInt64(n).map(String.init)
        default: return nil
        }
    }
}

/// One response: its id (nil when the node could not read the request) and result or error.
public struct RPCResponse: Equatable, Sendable {
    public var id: Int?
    public var result: Result<JSONValue, RPCError>

    public init(id: Int?, result: Result<JSONValue, RPCError>) {
        self.id = id
        self.result = result
    }

    init(_ value: JSONValue) throws(RPCError) {
        guard case .object = value, value["jsonrpc"]?.stringValue == "2.0" else {
            throw RPCError(.malformedResponse, "not a JSON-RPC 2.0 response")
        }
        switch value["id"] {
        case .number(let n)?:
            guard let i = Int(n) else { throw RPCError(.malformedResponse, "id \(n) is not an integer") }
            id = i
        case .null?, nil:
            id = nil
        default:
            throw RPCError(.malformedResponse, "an id that is not a number")
        }
        if let error = value["error"], !error.isNull {
            guard case .number(let c)? = error["code"], let code = Int(c) else {
                throw RPCError(.malformedResponse, "an error without an integer code")
            }
            let message = error["message"]?.stringValue ?? ""
            let data = error["data"].map(\.text)
            result = .failure(code == -32005
                ? RPCError(.rateLimited, message, rpcCode: code, data: data)
                : RPCError(.server, message, rpcCode: code, data: data))
        } else if let r = value["result"] {
            result = .success(r)
        } else {
            throw RPCError(.malformedResponse, "neither result nor error")
        }
    }
}
