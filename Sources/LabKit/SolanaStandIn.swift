import EVMCodec
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The Solana stand-in (`tools/solana`, Python) as a child process: a cluster's JSON-RPC and
/// WebSocket subscriptions and a Jito block engine on one loopback port, over a ledger that runs
/// the programs a searcher's transactions use, with a seeded market of pools. A stand-in at the
/// network edge, like the devnets.
public final class SolanaStandIn: @unchecked Sendable {
    public let rpc: String
    public let ws: String
    /// The block engine's base URL (`/api/v1/bundles` and `/api/v1/transactions` under it).
    public let engine: String
    /// Jupiter's `/swap/v1` base URL.
    public let jupiter: String
    /// The market's mints, pools and lookup table, as the stand-in announced them.
    public let market: JSONValue
    private let process: Process

    /// `fund`: base58 public key → lamports, for wallets funded at the start, each with a token
    /// account of every mint holding `tokens[key][symbol]` (else empty); `drift`: a random
    /// trader swaps on one pool every slot.
    public init(root: URL, seed: Int = 1, slotMillis: Int = 400, fund: [String: UInt64] = [:], tokens: [String: [String: UInt64]] = [:],
                drift: Bool = false, log: URL? = nil) async throws {
        let python = root.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw DevnetError("the Solana stand-in needs the Python virtualenv: run ./scripts/setup (missing \(python.path))")
        }
        var args = ["-m", "tools.solana", "--port", "0", "--seed", String(seed), "--slot-ms", String(slotMillis)]
        for (key, lamports) in fund.sorted(by: { $0.key < $1.key }) {
            let held = (tokens[key] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            args += ["--fund", "\(key):\(lamports)" + (held.isEmpty ? "" : ":" + held)]
        }
        if drift { args.append("--drift") }
        let (p, ready) = try await ChildProcesses.launch(python, in: root, args, log: log, within: 30,
                                                   what: "the Solana stand-in (run .venv/bin/python -m tools.solana to see why)")
        process = p
        guard let r = ready["rpc"]?.stringValue, let w = ready["ws"]?.stringValue, let e = ready["engine"]?.stringValue,
              let j = ready["jupiter"]?.stringValue, let m = ready["market"] else {
            ChildProcesses.stop(p)
            throw DevnetError("the Solana stand-in announced no rpc/ws/engine endpoints")
        }
        (rpc, ws, engine, jupiter, market) = (r, w, e, j, m)
    }

    deinit { stop() }

    public func stop() { ChildProcesses.stop(process) }

    /// A control call to the stand-in (`standin_fault`, `standin_step`).
    @discardableResult
    public func control(_ method: String, _ params: [JSONValue]) async throws -> JSONValue {
        var request = URLRequest(url: URL(string: rpc)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let body = JSONValue.object([("jsonrpc", .string("2.0")), ("id", .number("1")), ("method", .string(method)), ("params", .array(params))])
        request.httpBody = Data(body.text.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONValue.parse([UInt8](data))
    }
}
