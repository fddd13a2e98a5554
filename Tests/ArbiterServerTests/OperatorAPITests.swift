import ArbiterServer
import AsyncHTTPClient
import EVMCodec
import Foundation
import Glibc
import Logging
import NIOCore
import Synchronization
import Testing
import WSClient

/// The data routes, `/metrics`, the dashboard's files and `/api/live`, over real HTTP and a real
/// WebSocket (and a raw socket that never reads, for the slow client).
@Suite struct OperatorAPITests {
    /// A data source with known answers, so the test can tell the server passed them on intact.
    final class Known: OperatorData {
        let queries = Mutex<[OpportunityQuery]>([])
        func readiness() async -> OperatorServer.Readiness { .init(ready: true) }
        func chains() async -> JSONValue { .array([.object([("name", .string("lab")), ("id", .number("900001"))])]) }
        func opportunities(_ query: OpportunityQuery) async throws -> JSONValue {
            queries.withLock { $0.append(query) }
            return .array([.object([("id", .string("0x01")), ("kind", .string(query.kind ?? "any"))])])
        }
        func trades(limit: Int) async throws -> JSONValue { .array((0..<min(limit, 3)).map { .number(String($0)) }) }
        func positions() async throws -> JSONValue { throw QueryError("journal unreadable") }
        func breakers() async -> JSONValue { .array([.object([("chain", .number("1")), ("state", .string("open"))])]) }
        func refusals() async throws -> JSONValue { .array([.object([("reason", .string("poolBusy")), ("count", .number("7"))])]) }
        func latency() async -> JSONValue { .array([]) }
        func pools(chain: UInt64) async -> JSONValue? {
            chain == 900001 ? .object([("chain", .number("900001")), ("block", .number("12")), ("pools", .array([]))]) : nil
        }
        var kinds: [String] { ["crossDex", "triangular"] }
        func metrics() async -> String { "# TYPE arbiter_test_total counter\narbiter_test_total 3\n" }
    }

    static let key = "operator-key"

    /// The body as JSON (null when it is not JSON: every expectation on it then fails).
    func parse(_ text: String) -> JSONValue { (try? JSONValue.parse(text)) ?? .null }

    func get(_ base: String, _ path: String, key: String? = OperatorAPITests.key) async throws -> (Int, String, String?) {
        var request = HTTPClientRequest(url: base + path)
        if let key { request.headers.add(name: "X-API-Key", value: key) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body), response.headers.first(name: "content-type"))
    }

    @Test func dataRoutesAnswerAndBadParametersAreClear400s() async throws {
        let data = Known()
        let server = OperatorServer(configuration: .init(port: 0, apiKeys: [Self.key]), logger: Logger(label: "test.http"), data: data)
        try await OperatorServerTests.serving(server) { base in
            let (code, body, _) = try await get(base, "/api/chains")
            #expect(code == 200 && (parse(body)).arrayValue?.first?["name"]?.stringValue == "lab")
            #expect(try await get(base, "/api/chains", key: nil).0 == 401)
            #expect(try await get(base, "/api/opportunities", key: "operator-keY").0 == 401)

            let (ok, list, _) = try await get(base, "/api/opportunities?limit=7&kind=triangular&chain=10")
            #expect(ok == 200 && (parse(list)).arrayValue?.first?["kind"]?.stringValue == "triangular")
            #expect(data.queries.withLock { $0 } == [OpportunityQuery(limit: 7, kind: "triangular", chain: 10)])
            let bad: [(String, String)] = [
                ("/api/opportunities?limit=0", "limit must be an integer within 1…1000, not \"0\""),
                ("/api/opportunities?limit=1001", "limit must be an integer within 1…1000, not \"1001\""),
                ("/api/opportunities?limit=ten", "limit must be an integer within 1…1000, not \"ten\""),
                ("/api/opportunities?kind=sandwich", "kind must be one of crossDex, triangular, not \"sandwich\""),
                ("/api/opportunities?chain=-1", "chain must be a chain id (a decimal integer), not \"-1\""),
                ("/api/opportunities?sort=profit", "unknown parameter \"sort\" (accepted: limit, kind, chain)"),
                ("/api/trades?limit=-5", "limit must be an integer within 1…1000, not \"-5\""),
                ("/api/trades?kind=crossDex", "unknown parameter \"kind\" (accepted: limit)"),
                ("/api/breakers?x=1", "unknown parameter \"x\" (this route takes none)"),
                ("/api/pools", "/api/pools takes chain=<chain id>, and nothing else"),
                ("/api/pools?chain=lab", "/api/pools takes chain=<chain id>, and nothing else"),
                ("/api/pools?chain=1&limit=2", "/api/pools takes chain=<chain id>, and nothing else"),
            ]
            for (path, message) in bad {
                let (c, b, type) = try await get(base, path)
                #expect(c == 400 && type == "application/json", "\(path): \(c)")
                #expect((parse(b))["error"]?.stringValue == message, "\(path): \(b)")
            }
            // Nothing reached the data source for a refused query.
            #expect(data.queries.withLock { $0.count } == 1)
            let (tc, trades, _) = try await get(base, "/api/trades?limit=2")
            #expect(tc == 200 && trades == "[0,1]")
            let (pc, failure, _) = try await get(base, "/api/positions")
            #expect(pc == 500 && (parse(failure))["error"]?.stringValue?.contains("journal unreadable") == true)
            let (rc, refusals, _) = try await get(base, "/api/refusals")
            #expect(rc == 200 && (parse(refusals)).arrayValue?.first?["count"] == .number("7"))
            let (poc, pools, _) = try await get(base, "/api/pools?chain=900001")
            #expect(poc == 200 && (parse(pools))["block"] == .number("12"))
            let (nc, none, _) = try await get(base, "/api/pools?chain=5")
            #expect(nc == 404 && (parse(none))["error"]?.stringValue == "no chain 5 is watched here")
            let (bc, breakers, _) = try await get(base, "/api/breakers")
            #expect(bc == 200 && (parse(breakers)).arrayValue?.first?["state"]?.stringValue == "open")

            // Metrics: keyed (a scraper's bearer token works), Prometheus text.
            #expect(try await get(base, "/metrics", key: nil).0 == 401)
            var scrape = HTTPClientRequest(url: base + "/metrics")
            scrape.headers.add(name: "Authorization", value: "Bearer \(Self.key)")
            let metrics = try await HTTPClient.shared.execute(scrape, timeout: .seconds(10))
            #expect(metrics.status.code == 200 && metrics.headers.first(name: "content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(String(buffer: try await metrics.body.collect(upTo: 1 << 16)).contains("arbiter_test_total 3"))

            // The dashboard's files need no key and hold no data; the live route wants an upgrade.
            let (hc, html, htype) = try await get(base, "/", key: nil)
            #expect(hc == 200 && htype?.hasPrefix("text/html") == true && html.contains("<canvas id=\"profit\""))
            let (jc, js, _) = try await get(base, "/dashboard.js", key: nil)
            #expect(jc == 200 && js.contains("/api/live"))
            let (lc, live, _) = try await get(base, "/api/live")
            #expect(lc == 400 && live.contains("WebSocket"))
        }
    }

    /// A client reading its events, in order; returns when it has `count` after the greeting.
    final class Reader: Sendable {
        let received = Mutex<[JSONValue]>([])
        var count: Int { received.withLock { $0.count } }
    }

    @Test func liveClientsGetEveryEventInOrderAndASlowOneIsDroppedNotWaitedFor() async throws {
        let hub = LiveHub(capacity: 64)
        let server = OperatorServer(configuration: .init(port: 0, apiKeys: [Self.key]), logger: Logger(label: "test.http"), data: Known(), live: hub)
        try await OperatorServerTests.serving(server) { base in
            let port = Int(base.split(separator: ":").last!)!
            // No key, or a wrong one: the upgrade is refused (NIO answers a refused upgrade 400 and closes).
            for query in ["", "?key=wrong", "?key=operator-ke", "?other=operator-key"] {
                let (fd, refused) = try await rawUpgrade(port: port, query: query)
                #expect(refused.hasPrefix("HTTP/1.1 400") && refused.contains("Content-Length: 0"), "\(query): \(refused)")
                #expect(try await drainsToEnd(fd))
                close(fd)
            }
            #expect(hub.counters.connected == 0)

            let fast = Reader()
            let total = 3_000
            let filler = String(repeating: "x", count: 8_000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/live?key=\(Self.key)", configuration: .init(maxFrameSize: 1 << 20),
                                                      logger: Logger(label: "test.ws")) { inbound, _, _ in
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = message else { continue }
                            let event = try JSONValue.parse(text)
                            let n = fast.received.withLock { $0.append(event); return $0.count }
                            if n == total + 1 { return }
                        }
                    }
                }
                // The slow client: upgraded, then never reads a byte.
                let slow = try await rawUpgrade(port: port, query: "?key=\(Self.key)")
                defer { close(slow.fd) }
                #expect(slow.response.hasPrefix("HTTP/1.1 101"))
                try await wait { hub.clients == 2 && fast.count >= 1 }
                #expect(fast.received.withLock { $0[0]["type"]?.stringValue } == "chains")
                // Published in steps the fast client keeps up with; the slow one falls behind by the step.
                for i in 0..<total {
                    hub.publish(.object([("type", .string("test")), ("seq", .number(String(i))), ("filler", .string(filler))]))
                    if i % 32 == 31 { try await wait { fast.count >= i + 2 } }
                }
                try await group.next()
                group.cancelAll()
                #expect(hub.counters.dropped == 1)
                #expect(hub.counters.published == total)
                // The slow client's connection is closed: what is buffered, then the end.
                #expect(try await drainsToEnd(slow.fd))
            }
            let seqs = fast.received.withLock { $0.dropFirst().compactMap { $0["seq"]?.text } }
            #expect(seqs == (0..<total).map(String.init))
        }
    }

    func wait(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw QueryError("condition not met within 60 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// A WebSocket upgrade over a raw socket with a small receive buffer; the response head.
    func rawUpgrade(port: Int, query: String) async throws -> (fd: Int32, response: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var size: Int32 = 4_096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw QueryError("connect: \(errno)") }
        let request = "GET /api/live\(query) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        // Read the response head only, a byte at a time, so nothing after it is consumed.
        var head = [UInt8]()
        var byte: UInt8 = 0
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]) && recv(fd, &byte, 1, 0) == 1 { head.append(byte) }
        return (fd, String(decoding: head, as: UTF8.self))
    }

    /// Reads until the peer closes (true) or 60 s pass (false).
    func drainsToEnd(_ fd: Int32) async throws -> Bool {
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return true }
            await Task.yield()
        }
        return false
    }
}
