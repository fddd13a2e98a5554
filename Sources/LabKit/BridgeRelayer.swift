import EVMCodec
import Foundation

/// The lab's bridge relayer (`tools/devnet/bridge.py`) between lab devnets: it fills each
/// `MockBridge` deposit on its destination chain `latency` seconds after it, as a relayer of a
/// liquidity bridge does; with `solana`, also each message of the Solana stand-in's token bridge
/// for one of them. A stand-in at the network edge, like the devnets themselves.
public final class BridgeRelayer: @unchecked Sendable {
    private let process: Process

    /// `solana`: the Solana stand-in whose token bridge it relays too (its ready line is written to
    /// `solana.json` beside `log`, or in the temporary directory).
    public init(root: URL, devnets: [Devnet], latency: Double, log: URL? = nil, solana: SolanaStandIn? = nil) async throws {
        let manifests = devnets.compactMap(\.manifestPath)
        guard manifests.count == devnets.count, manifests.count >= (solana == nil ? 2 : 1) else {
            throw DevnetError("the bridge relayer needs two or more lab devnets, or one and the Solana stand-in")
        }
        var solanaArguments: [String] = []
        if let solana {
            let ready = (log?.deletingLastPathComponent() ?? FileManager.default.temporaryDirectory).appendingPathComponent("solana-\(getpid()).json")
            let line = JSONValue.object([("rpc", .string(solana.rpc)), ("market", solana.market)])
            try Data(line.text.utf8).write(to: ready)
            solanaArguments = ["--solana", ready.path]
        }
        let p = Process()
        p.executableURL = root.appendingPathComponent(".venv/bin/python")
        p.currentDirectoryURL = root
        p.arguments = ["-m", "tools.devnet.bridge", "--latency", String(latency)] + solanaArguments + ChildProcesses.parentArguments + manifests
        // Its JSON lines (fills, skips, errors) go to `log`; a Python traceback at start to the pipe.
        let errors = Pipe()
        p.standardOutput = log.flatMap { FileManager.default.createFile(atPath: $0.path, contents: nil) ? try? FileHandle(forWritingTo: $0) : nil }
            ?? FileHandle.nullDevice
        p.standardError = errors
        try p.run()
        ChildProcesses.started(p.processIdentifier)
        process = p
        // A bad manifest or a missing module ends it at once: give it a moment to fail fast.
        try? await Task.sleep(for: .milliseconds(500))
        guard p.isRunning else {
            ChildProcesses.stopped(p.processIdentifier)
            throw DevnetError("the bridge relayer exited at start: \(String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self).suffix(400))")
        }
    }

    deinit { stop() }

    /// SIGTERM, then SIGKILL if it has not exited within 5 s.
    public func stop() { ChildProcesses.stop(process) }
}
