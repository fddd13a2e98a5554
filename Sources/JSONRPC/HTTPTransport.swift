import AsyncHTTPClient
import EVMCodec
import NIOCore
import NIOHTTP1

/// Sends JSON-RPC requests to one node over HTTP(S) (keep-alive connections from the shared
/// client's pool; a list of requests goes as one batch).
public protocol RPCTransport: Sendable {
    /// The responses to `requests`, in request order.
    func send(_ requests: [RPCRequest]) async throws(RPCError) -> [RPCResponse]
}

public struct HTTPTransport: RPCTransport {
    public let url: String
    public let timeout: Duration
    /// The largest response accepted (a getLogs over many blocks can be big).
    public let maxResponseBytes: Int
    private let client: HTTPClient
    /// Extra headers computed from the exact body sent (a relay's request signature).
    private let signHeaders: (@Sendable (_ body: [UInt8]) -> [(String, String)])?

    public init(url: String, timeout: Duration = .seconds(10), maxResponseBytes: Int = 64 << 20, client: HTTPClient = .shared,
                signHeaders: (@Sendable (_ body: [UInt8]) -> [(String, String)])? = nil) {
        self.url = url
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.client = client
        self.signHeaders = signHeaders
    }

    public func send(_ requests: [RPCRequest]) async throws(RPCError) -> [RPCResponse] {
        guard !requests.isEmpty else { return [] }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = Array(RPCRequest.body(requests).utf8)
        for (name, value) in signHeaders?(body) ?? [] { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let bytes: [UInt8]
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
            status = response.status
            headers = response.headers
            var body = try await response.body.collect(upTo: maxResponseBytes)
            bytes = body.readBytes(length: body.readableBytes) ?? []
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw RPCError(.timeout, "\(url): no answer within \(timeout)")
        } catch {
            throw RPCError(.transport, "\(url): \(error)")
        }
        if status == .tooManyRequests {
            let wait = headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
            throw RPCError(.rateLimited, "\(url): HTTP 429", retryAfter: wait)
        }
        guard status.code / 100 == 2 else { throw RPCError(.transport, "\(url): HTTP \(status.code)") }
        guard case .responses(let responses) = try RPCFrame.parse(bytes) else {
            throw RPCError(.malformedResponse, "\(url): a notification in an HTTP response")
        }
        return try Self.match(responses, to: requests)
    }

    /// Orders a batch's responses as the requests were; a missing or unasked-for id is malformed.
    static func match(_ responses: [RPCResponse], to requests: [RPCRequest]) throws(RPCError) -> [RPCResponse] {
        if requests.count == 1, responses.count == 1, responses[0].id == nil, case .failure = responses[0].result {
            return responses  // an error the node could not tie to the request (a parse error)
        }
        var byID: [Int: RPCResponse] = [:]
        for r in responses {
            guard let id = r.id, byID.updateValue(r, forKey: id) == nil else { throw RPCError(.malformedResponse, "a response without an id, or twice") }
        }
        return try requests.map { (q) throws(RPCError) -> RPCResponse in
            guard let r = byID[q.id] else { throw RPCError(.malformedResponse, "no response to request \(q.id) (\(q.method))") }
            return r
        }
    }
}
