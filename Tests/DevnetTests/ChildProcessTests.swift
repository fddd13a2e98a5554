import Foundation
import Testing
@testable import LabKit

/// A helper process that starts but never says it is ready is given up at its deadline and
/// stopped, never waited on for ever.
struct ChildProcessTests {
    @Test func aSilentChildIsStoppedAtItsDeadline() async throws {
        // A Python that sleeps (the helpers are Python; `--parent <pid>` lands in its argv):
        // alive, writing nothing to standard output.
        let started = ContinuousClock.now
        await #expect(throws: DevnetError.self) {
            _ = try await ChildProcesses.launch(URL(fileURLWithPath: "/usr/bin/python3"), in: URL(fileURLWithPath: "/"), ["-c", "import time; time.sleep(30)"], log: nil,
                                                within: 1, what: "a silent child")
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        // Gone, not left behind (other suites' children may be running meanwhile).
        let left = ChildProcesses.running.filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("time.sleep(30)")
        }
        #expect(left.isEmpty)
    }
}
