import ArbiterServer
import EVMCodec
import EVMPrimitives
import Foundation
import Logging
import MarketWatch

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
    /// The operator API at `address` ("off": none) over `watchers`' readiness. Keys from
    /// ARBITER_API_KEYS; without them, with `keyFile` (the lab) one is made for the run, printed
    /// and written there, and without (`arbiter run`) every route but /health is refused, said once.
    static func service(_ address: String, watchers: [ChainWatcher], keyFile: URL?, command: String, logger: Logger) -> OperatorService? {
        guard let (host, port) = OperatorServer.address(address) else { return nil }
        var keys = OperatorServer.Configuration.keys(environment: ProcessInfo.processInfo.environment)
        var note = ""
        if keys.isEmpty, let keyFile {
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
            let key = String(Hex.encode(bytes).dropFirst(2))
            keys = [key]
            try? (key + "\n").write(to: keyFile, atomically: true, encoding: .utf8)
            note = " (key in \(keyFile.path))"
        } else if keys.isEmpty {
            note = " (no ARBITER_API_KEYS: every route but /health is refused)"
        }
        let server = OperatorServer(configuration: .init(host: host, port: port, apiKeys: keys), logger: logger) {
            .of(watchers, maxLag: 3)
        }
        return server.service(onRunning: { [note] bound in
            Output.standardError("\(command): operator API at http://\(host):\(bound)\(note)")
        })
    }
}
