import ArbiterServer
import EVMCodec
import EVMPrimitives
import Foundation
import Logging
import MarketWatch
import ServiceLifecycle

extension OperatorServer.Readiness {
    /// Ready when every watched chain has a head and its state is within `maxLag` blocks of it.
    static func of(_ watchers: [ChainWatcher], maxLag: UInt64) -> Self {
        var reasons: [String] = []
        for w in watchers {
            let s = w.status
            if s.head == nil {
                reasons.append("\(s.name) (\(s.chainID)): no head yet")
            } else if s.headLag > maxLag {
                reasons.append("\(s.name) (\(s.chainID)): state \(s.headLag) blocks behind the head (limit \(maxLag))")
            }
        }
        return .init(ready: reasons.isEmpty, reasons: reasons)
    }
}

enum OperatorAPI {
    /// The operator API at `address` ("off": none) over `data`, with the live feed that keeps
    /// `/api/live` current. Keys from ARBITER_API_KEYS; without them, with `keyFile` (the lab)
    /// one is made for the run, written there and printed in the dashboard's address, and
    /// without (`arbiter run`) every route but /health and the dashboard's files is refused, said once.
    static func services(_ address: String, data: AppOperatorData, keyFile: URL?, command: String, logger: Logger) -> [any Service] {
        guard let (host, port) = OperatorServer.address(address) else { return [] }
        var keys = OperatorServer.Configuration.keys(environment: ProcessInfo.processInfo.environment)
        var note = ""
        if keys.isEmpty, let keyFile {
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
            let key = String(Hex.encode(bytes).dropFirst(2))
            keys = [key]
            try? (key + "\n").write(to: keyFile, atomically: true, encoding: .utf8)
            note = " (key in \(keyFile.path); dashboard at http://\(host):PORT/#key=\(key))"
        } else if keys.isEmpty {
            note = " (no ARBITER_API_KEYS: every route but /health is refused)"
        }
        let hub = LiveHub()
        let server = OperatorServer(configuration: .init(host: host, port: port, apiKeys: keys), logger: logger, data: data, live: hub)
        return [server.service(onRunning: { [note] bound in
            Output.standardError("\(command): operator API at http://\(host):\(bound)\(note.replacingOccurrences(of: "PORT", with: String(bound)))")
        }), LiveFeed(data: data, hub: hub)]
    }
}
