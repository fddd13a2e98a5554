import EVMCodec
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The stand-in Binance server (`tools/binance`, Python) as a child process: WebSocket streams and
/// REST on one loopback port, able to misbehave on demand (`chaos`) or on a seeded schedule, and
/// to tell what it published (`log`). A stand-in at the network edge, like the devnets.
public final class BinanceStandIn: @unchecked Sendable {
    /// `ws://127.0.0.1:port` and `http://127.0.0.1:port`.
    public let ws: String
    public let rest: String
    private let process: Process

    /// `scale` compresses time (every documented interval divided by it); `chaosEvery` > 0 makes
    /// it misbehave about that often, at random from `seed`.
    public init(root: URL, seed: Int = 1, scale: Double = 1, tick: Double = 0.05, chaosEvery: Double = 0, log: URL? = nil) async throws {
        let python = root.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw DevnetError("the Binance stand-in needs the Python virtualenv: run ./scripts/setup (missing \(python.path))")
        }
        let (p, ready) = try await ChildProcesses.launch(python, in: root, ["-m", "tools.binance", "--port", "0", "--seed", String(seed), "--scale", String(scale),
                                                                     "--tick", String(tick), "--chaos-every", String(chaosEvery)],
                                                   log: log, within: 30, what: "the Binance stand-in (run .venv/bin/python -m tools.binance to see why)")
        process = p
        guard let w = ready["ws"]?.stringValue, let r = ready["rest"]?.stringValue else {
            ChildProcesses.stop(p)
            throw DevnetError("the Binance stand-in announced no ws/rest endpoints")
        }
        (ws, rest) = (w, r)
    }

    deinit { stop() }

    public func stop() { ChildProcesses.stop(process) }

    /// Misbehaves once: `drop`, `shutdown`, `stall`, `skip`, `malformed` or `latePings`.
    @discardableResult
    public func chaos(_ action: String) async throws -> JSONValue {
        var request = URLRequest(url: URL(string: rest + "/_standin/chaos")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"action":"\#(action)"}"#.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONValue.parse([UInt8](data))
    }

    /// What it published and what happened (with the last `tops` tops of book per symbol, each
    /// `[seconds ago, bid, ask]`).
    public func log(tops: Int = 0) async throws -> JSONValue {
        let (data, _) = try await URLSession.shared.data(from: URL(string: rest + "/_standin/log?tops=\(tops)")!)
        return try JSONValue.parse([UInt8](data))
    }
}
