import ArbiterTestKit
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
            _ = try await ChildProcesses.launch(Devnet.root.appendingPathComponent(".venv/bin/python"), in: Devnet.root, ["-c", "import time; time.sleep(900)"], log: nil,
                                                within: 1, what: "a silent child")
        }
        // Given up long before the child would end by itself (a loaded CI machine can stall the
        // test's own tasks for a minute: the margin is that, not a speed target).
        #expect(ContinuousClock.now - started < .seconds(300))
        // Gone, not left behind (other suites' children may be running meanwhile).
        let left = ChildProcesses.running.filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("time.sleep(900)")
        }
        #expect(left.isEmpty)
    }
}
