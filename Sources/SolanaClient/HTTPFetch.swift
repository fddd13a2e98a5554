import AsyncHTTPClient
import EVMCodec
import NIOCore

/// One HTTP exchange with a Solana remote that does not speak JSON-RPC (Jupiter's swap API,
/// Jito's REST tip floor): a GET, or a POST of a JSON body; the status and at most `maxBytes` of
/// body. Transport failures are thrown as they come; the caller words them.
enum HTTPFetch {
    static func fetch(_ url: String, headers: [(String, String)] = [], json body: JSONValue? = nil, timeout: Duration, maxBytes: Int,
                      client: HTTPClient = .shared) async throws -> (status: UInt, body: [UInt8]) {
        var r = HTTPClientRequest(url: url)
        for (name, value) in headers { r.headers.add(name: name, value: value) }
        if let body {
            r.method = .POST
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(bytes: Array(body.text.utf8)))
        }
        let (seconds, attoseconds) = timeout.components
        let response = try await client.execute(r, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        var buffer = try await response.body.collect(upTo: maxBytes)
        return (response.status.code, buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}
