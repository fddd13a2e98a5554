import EVMCodec
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A devnet (`scripts/devnet`, Python) as a child process: a free port, the lab scenario if
/// asked, and its manifest. Used by `arbiter lab` and by the tests. Fails with an install hint
/// when the Python side is missing.
public final class Devnet: @unchecked Sendable {
    public let chainId: UInt64
    public let http: URL
    public let ws: URL
    /// The same chain served on more ports, each with its own injected faults: a second provider.
    public let mirrors: [(http: URL, ws: URL)]
    /// The lab manifest (`nil` without the lab): every deployed address and the keys' addresses.
    public let manifest: JSONValue?
    /// Where the manifest was written (nil without the lab).
    public let manifestPath: String?
    private let process: Process

    /// A devnet of the checkout at `root` on a free port; with `lab`, the lab's contracts
    /// (manifest in `manifest`); with `market`, the lab's market driver trading every block
    /// (`blockTime` seconds apart); with `mirrors`, that many more endpoints of the same chain.
    /// With `statArb`, the lab's statistical-arbitrage market too (tools/devnet/statarb.py), with
    /// that many blocks of its history mined before the devnet serves. With `binance` (and both of
    /// those), a Binance stand-in whose prices lead that market, and the CEX–DEX inventory.
    /// With `cow` (and `market`), the lab's CoW solver settles a large order every few blocks
    /// (tools/devnet/cow.py). The devnet's own log goes to `log` (default: nowhere).
    public init(root: URL, chainId: UInt64, lab: Bool = true, market: Bool = false, blockTime: Double = 0, seed: Int = 1, mirrors: Int = 0,
                statArb: Int? = nil, binance: Bool = false, cow: Bool = false, log: URL? = nil) async throws {
        let script = root.appendingPathComponent("scripts/devnet")
        let python = root.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw DevnetError("the devnet needs the Python virtualenv: run ./scripts/setup (missing \(python.path))")
        }
        let port = try Self.freePort()
        let manifestPath = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-lab-\(chainId)-\(port).json").path
        var args = ["--port", String(port), "--chain-id", String(chainId)]
        if blockTime > 0 { args += ["--block-time", String(blockTime)] }
        if lab { args += ["--lab", manifestPath] }
        if market { args += ["--market", "--seed", String(seed)] }
        if mirrors > 0 { args += ["--mirrors", String(mirrors)] }
        if let statArb { args += ["--statarb", String(statArb)] }
        if binance { args += ["--binance"] }
        if cow { args += ["--cow"] }
        let (p, ready) = try await ChildProcesses.launch(script, in: root, args, log: log, within: 180,
                                                         what: "the devnet on port \(port) (run ./scripts/devnet --port \(port) to see why)")
        guard let h = ready["http"]?.stringValue.flatMap(URL.init(string:)), let w = ready["ws"]?.stringValue.flatMap(URL.init(string:)) else {
            ChildProcesses.stop(p)
            throw DevnetError("the devnet on port \(port) announced no http/ws endpoints")
        }
        process = p
        self.chainId = chainId
        (http, ws) = (h, w)
        self.mirrors = (ready["mirrors"]?.arrayValue ?? []).compactMap { m in
            guard let h = m["http"]?.stringValue.flatMap(URL.init(string:)), let w = m["ws"]?.stringValue.flatMap(URL.init(string:)) else { return nil }
            return (h, w)
        }
        manifest = lab ? try JSONValue.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: manifestPath)))) : nil
        self.manifestPath = lab ? manifestPath : nil
    }

    deinit { stop() }

    /// Stops the devnet process: SIGTERM, then SIGKILL if it has not exited within 5 s.
    public func stop() { ChildProcesses.stop(process) }

    /// One JSON-RPC call over HTTP (to `endpoint`, else the main port); a JSON-RPC error becomes a
    /// thrown `FixtureError`.
    public func call(_ method: String, _ params: [JSONValue] = [], endpoint: URL? = nil) async throws -> JSONValue {
        var request = URLRequest(url: endpoint ?? http)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let body = JSONValue.object([
            ("jsonrpc", .string("2.0")), ("id", .number("1")), ("method", .string(method)), ("params", .array(params)),
        ])
        request.httpBody = Data(body.text.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        let reply = try JSONValue.parse([UInt8](data))
        if let error = reply["error"] { throw DevnetError("\(method): \(error.text)") }
        return reply["result"] ?? .null
    }

    /// A loopback port nothing listens on (bound to 0, read back, released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DevnetError("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw DevnetError("bind() failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// Why a devnet could not be started or answered.
public struct DevnetError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
