import EVMCodec
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore

/// The operator's HTTP surface (issue #24): `GET /health` (the process is up; no key), `GET /ready`
/// (every watched chain within its head-lag limit and the bus connected, with the reasons when
/// not: 503), everything but `/health` behind an API key (`X-API-Key`, compared in constant time).
/// Bound to loopback unless the configuration names another host.
public struct OperatorServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// The keys a request may present; none configured means every keyed route is refused.
        public var apiKeys: [String] = []
        public init(host: String = "127.0.0.1", port: Int = 8080, apiKeys: [String] = []) {
            (self.host, self.port, self.apiKeys) = (host, port, apiKeys)
        }

        /// Keys from the environment: `ARBITER_API_KEYS`, comma-separated (blanks ignored).
        public static func keys(environment: [String: String]) -> [String] {
            (environment["ARBITER_API_KEYS"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// Whether the process can do its work now, and why not.
    public struct Readiness: Sendable, Equatable {
        public var ready: Bool
        public var reasons: [String]
        public init(ready: Bool, reasons: [String] = []) { (self.ready, self.reasons) = (ready, reasons) }
    }

    public let configuration: Configuration
    let readiness: @Sendable () async -> Readiness
    let logger: Logger

    public init(configuration: Configuration, logger: Logger, readiness: @escaping @Sendable () async -> Readiness) {
        (self.configuration, self.logger, self.readiness) = (configuration, logger, readiness)
    }

    /// The application: serve it with `run()` or as a service; `onRunning` gets the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: APIKeyMiddleware(keys: configuration.apiKeys, open: ["/health"]))
        router.get("/health") { _, _ in Self.json(.ok, .object([("status", .string("up"))])) }
        let readiness = self.readiness
        router.get("/ready") { _, _ in
            let r = await readiness()
            return Self.json(r.ready ? .ok : .serviceUnavailable, .object([("ready", .bool(r.ready)), ("reasons", .array(r.reasons.map(JSONValue.string)))]))
        }
        return Application(router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    static func json(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body.text)))
    }
}

/// Refuses a request without a configured key in `X-API-Key` (401, JSON), except for `open` paths.
/// Every configured key is compared in full, in time independent of where the bytes differ.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: [[UInt8]]
    let open: Set<String>

    init(keys: [String], open: Set<String>) {
        self.keys = keys.map { Array($0.utf8) }
        self.open = open
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if open.contains(request.uri.path) { return try await next(request, context) }
        guard let presented = request.headers[HTTPField.Name("X-API-Key")!].map({ Array($0.utf8) }) else {
            return OperatorServer.json(.unauthorized, .object([("error", .string("missing X-API-Key"))]))
        }
        var matched = false
        for k in keys { matched = Self.equal(k, presented) || matched }
        guard matched else { return OperatorServer.json(.unauthorized, .object([("error", .string("unknown API key"))])) }
        return try await next(request, context)
    }

    /// Equal bytes, in time that depends only on the lengths.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }
}

extension OperatorServer {
    /// `host:port` (a port alone means loopback); nil for "off" or anything unreadable (`error` says why).
    public static func address(_ text: String) -> (host: String, port: Int)? {
        guard text != "off" else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let (host, port) = parts.count == 1 ? ("127.0.0.1", Int(parts[0])) : (parts.dropLast().joined(separator: ":"), Int(parts[parts.count - 1]))
        guard let port, (0...65_535).contains(port), !host.isEmpty else { return nil }
        return (host, port)
    }

    /// The server as a service of the process's group: a port it cannot listen on is logged and
    /// the process goes on without it (the operator surface never stops the trading).
    public func service(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> OperatorService {
        OperatorService(server: self, onRunning: onRunning)
    }
}

public struct OperatorService: Service {
    let server: OperatorServer
    let onRunning: @Sendable (Int) async -> Void

    public func run() async throws {
        do {
            try await server.application(onRunning: onRunning).run()
        } catch {
            server.logger.error("operator server stopped", metadata: ["arb.address": "\(server.configuration.host):\(server.configuration.port)", "error": "\(error)"])
        }
    }
}
