import ArbiterServer
import AsyncHTTPClient
import EVMCodec
import Logging
import NIOCore
import Synchronization
import Testing

/// The operator server on a loopback port, asked over real HTTP: `/health` answers without a key,
/// every other route refuses a missing or wrong key (401, JSON) and takes a right one; `/ready`
/// says 503 with its reasons until the process is ready, then 200.
@Suite struct OperatorServerTests {
    final class Flag: Sendable {
        let state = Mutex(OperatorServer.Readiness(ready: false, reasons: ["chain 1: head 40 blocks behind (limit 3)", "bus: not connected"]))
    }

    /// Runs `server` on its loopback port while `body` asks it (given the base URL), then stops it.
    static func serving(_ server: OperatorServer, _ body: (String) async throws -> Void) async throws {
        let port = Mutex<Int>(0)
        let app = server.application(onRunning: { p in port.withLock { $0 = p } })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            // Generous: the suite runs beside every other one on two cores, and a starved pool can
            // take tens of seconds to start the server (a CI run once took more than 20).
            let deadline = ContinuousClock.now + .seconds(180)
            while port.withLock({ $0 }) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let bound = port.withLock { $0 }
            guard bound != 0 else {
                Issue.record("the server did not start within 180 s")
                group.cancelAll()
                return
            }
            try await body("http://127.0.0.1:\(bound)")
            group.cancelAll()
        }
    }

    @Test func healthIsOpenAndEverythingElseNeedsAKeyComparedInFull() async throws {
        let flag = Flag()
        let server = OperatorServer(configuration: .init(host: "127.0.0.1", port: 0, apiKeys: ["k-one", "second-key"]), logger: Logger(label: "test.http"),
                                    readiness: { flag.state.withLock { $0 } })
        try await Self.serving(server) { base in
            func get(_ path: String, key: String?) async throws -> (Int, JSONValue) {
                var request = HTTPClientRequest(url: base + path)
                if let key { request.headers.add(name: "X-API-Key", value: key) }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 16)
                return (Int(response.status.code), body.readableBytes == 0 ? .null : try JSONValue.parse(String(buffer: body)))
            }
            let (healthCode, health) = try await get("/health", key: nil)
            #expect(healthCode == 200 && health["status"]?.stringValue == "up")
            for key in [nil, "", "k-on", "k-one2", "K-ONE", "second-keyX", "xk-one"] as [String?] {
                let (code, body) = try await get("/ready", key: key)
                #expect(code == 401 && body["error"] != nil, "\(String(describing: key)): \(code)")
            }
            let (notReady, reasons) = try await get("/ready", key: "second-key")
            #expect(notReady == 503 && reasons["ready"] == .bool(false))
            #expect(reasons["reasons"]?.arrayValue?.compactMap(\.stringValue) == ["chain 1: head 40 blocks behind (limit 3)", "bus: not connected"])
            flag.state.withLock { $0 = .init(ready: true) }
            let (ready, body) = try await get("/ready", key: "k-one")
            #expect(ready == 200 && body["ready"] == .bool(true) && body["reasons"]?.arrayValue?.isEmpty == true)
            let (missing, _) = try await get("/nowhere", key: "k-one")
            #expect(missing == 404)
        }
    }

    @Test func noKeysConfiguredRefusesEveryKeyedRoute() async throws {
        #expect(OperatorServer.Configuration.keys(environment: ["ARBITER_API_KEYS": " a , ,b,"]) == ["a", "b"])
        #expect(OperatorServer.Configuration.keys(environment: [:]).isEmpty)
        let server = OperatorServer(configuration: .init(port: 0, apiKeys: []), logger: Logger(label: "test.http"), readiness: { .init(ready: true) })
        try await Self.serving(server) { base in
            var request = HTTPClientRequest(url: base + "/ready")
            request.headers.add(name: "X-API-Key", value: "")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 401)
        }
    }
}
