/// Per-stage timing on the monotonic clock; RPC stages are named apart so the in-process path
/// can be reported without round trips.
struct StageClock {
    var last: ContinuousClock.Instant = .now
    var inProcess: Duration = .zero

    static func nanoseconds(_ d: Duration) -> UInt64 {
        UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000)
    }

    mutating func mark(_ stage: String, _ report: inout ExecutionEngine.Report, rpc: Bool = false) {
        let now = ContinuousClock.now
        let d = now - last
        last = now
        let ns = Self.nanoseconds(d)
        if !rpc { inProcess += d }
        var samples = report.stages[rpc ? "rpc:" + stage : stage, default: []]
        if samples.count >= ExecutionEngine.timingWindow { samples.removeFirst(samples.count / 2) }
        samples.append(ns)
        report.stages[rpc ? "rpc:" + stage : stage] = samples
    }

    /// The in-process time so far (RPC stages excluded) under `name`.
    func total(_ name: String, _ report: inout ExecutionEngine.Report) {
        let ns = Self.nanoseconds(inProcess)
        report.stages[name, default: []].append(ns)
    }
}
