import EVMCodec
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore
import HummingbirdWebSocket
import Foundation

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
    let data: any OperatorData
    let live: LiveHub
    let logger: Logger

    public init(configuration: Configuration, logger: Logger, data: any OperatorData, live: LiveHub = LiveHub()) {
        (self.configuration, self.logger, self.data, self.live) = (configuration, logger, data, live)
    }

    /// A server with nothing to show but its readiness.
    public init(configuration: Configuration, logger: Logger, readiness: @escaping @Sendable () async -> Readiness) {
        self.init(configuration: configuration, logger: logger, data: ReadinessOnly(readiness))
    }

    /// The application: serve it with `run()` or as a service; `onRunning` gets the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: APIKeyMiddleware(keys: configuration.apiKeys, open: Set(["/health"] + Dashboard.paths)))
        router.get("/health") { _, _ in Self.json(.ok, .object([("status", .string("up"))])) }
        Dashboard.add(to: router)
        routes(router)
        let keys = APIKeyMiddleware<BasicRequestContext>(keys: configuration.apiKeys, open: [])
        let live = self.live
        let data = self.data
        return Application(router: router, server: .http1WebSocketUpgrade { request, _, _ in
            // `/api/live` with a key (the header, or `key` in the query: a browser cannot set headers on a WebSocket).
            guard request.path.map({ $0.split(separator: "?", maxSplits: 1).first == "/api/live" }) == true,
                  keys.accepts(request.headerFields, query: request.path) else { return .dontUpgrade }
            let first = await LiveSession.greeting(data)
            return .upgrade([:]) { inbound, outbound, _ in try await LiveSession.run(live, first: first, inbound: inbound, outbound: outbound) }
        }, configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// The keyed routes: readiness, the data, the live feed's plain-HTTP refusal, the metrics.
    func routes(_ router: Router<BasicRequestContext>) {
        let data = self.data
        router.get("/ready") { _, _ in
            let r = await data.readiness()
            return Self.json(r.ready ? .ok : .serviceUnavailable, .object([("ready", .bool(r.ready)), ("reasons", .array(r.reasons.map(JSONValue.string)))]))
        }
        router.get("/api/chains") { request, _ in try await Self.plain(request) { await data.chains() } }
        router.get("/api/opportunities") { request, _ in
            switch OpportunityQuery.parse(Self.parameters(request), kinds: data.kinds) {
            case .failure(let e): return Self.json(.badRequest, .object([("error", .string(e.message))]))
            case .success(let q): return try await Self.answer { try await data.opportunities(q) }
            }
        }
        router.get("/api/trades") { request, _ in
            switch OpportunityQuery.limit(Self.parameters(request)) {
            case .failure(let e): return Self.json(.badRequest, .object([("error", .string(e.message))]))
            case .success(let limit): return try await Self.answer { try await data.trades(limit: limit) }
            }
        }
        router.get("/api/positions") { request, _ in try await Self.plain(request) { try await data.positions() } }
        router.get("/api/breakers") { request, _ in try await Self.plain(request) { await data.breakers() } }
        router.get("/api/refusals") { request, _ in try await Self.plain(request) { try await data.refusals() } }
        router.get("/api/latency") { request, _ in try await Self.plain(request) { await data.latency() } }
        router.get("/api/pools") { request, _ in
            let parameters = Self.parameters(request)
            guard parameters.count == 1, parameters[0].0 == "chain", let chain = UInt64(parameters[0].1) else {
                return Self.json(.badRequest, .object([("error", .string("/api/pools takes chain=<chain id>, and nothing else"))]))
            }
            guard let pools = await data.pools(chain: chain) else {
                return Self.json(.notFound, .object([("error", .string("no chain \(chain) is watched here"))]))
            }
            return Self.json(.ok, pools)
        }
        router.get("/api/live") { _, _ in
            Self.json(.badRequest, .object([("error", .string("/api/live is a WebSocket: send an upgrade request"))]))
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: await data.metrics())))
        }
    }

    static func parameters(_ request: Request) -> [(String, String)] {
        request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    /// A route that takes no parameters: any is a 400.
    static func plain(_ request: Request, _ body: () async throws -> JSONValue) async throws -> Response {
        if let (name, _) = parameters(request).first {
            return json(.badRequest, .object([("error", .string("unknown parameter \"\(name.prefix(40))\" (this route takes none)"))]))
        }
        return try await answer(body)
    }

    /// 200 with the body, or 500 naming the failure.
    static func answer(_ body: () async throws -> JSONValue) async throws -> Response {
        do { return json(.ok, try await body()) } catch { return json(.internalServerError, .object([("error", .string("\(error)"))])) }
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
        guard let presented = Self.presented(request.headers, query: nil) else {
            return OperatorServer.json(.unauthorized, .object([("error", .string("missing X-API-Key (or Authorization: Bearer)"))]))
        }
        guard matches(presented) else { return OperatorServer.json(.unauthorized, .object([("error", .string("unknown API key"))])) }
        return try await next(request, context)
    }

    /// The key a request presents: `X-API-Key`, else `Authorization: Bearer …` (what Prometheus
    /// sends), else (when `query` is given: the WebSocket upgrade) a `key` query parameter.
    static func presented(_ headers: HTTPFields, query: String?) -> [UInt8]? {
        if let k = headers[HTTPField.Name("X-API-Key")!] { return Array(k.utf8) }
        if let a = headers[.authorization], a.hasPrefix("Bearer ") { return Array(a.dropFirst(7).utf8) }
        guard let query, let q = query.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in q.split(separator: "&") where pair.hasPrefix("key=") {
            return Array((String(pair.dropFirst(4)).removingPercentEncoding ?? "").utf8)
        }
        return nil
    }

    /// Whether `presented` is one of the keys: every key compared in full.
    func matches(_ presented: [UInt8]) -> Bool {
        var matched = false
        for k in keys { matched = Self.equal(k, presented) || matched }
        return matched
    }

    func accepts(_ headers: HTTPFields, query: String?) -> Bool {
        Self.presented(headers, query: query).map(matches) ?? false
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
