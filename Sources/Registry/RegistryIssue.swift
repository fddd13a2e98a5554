/// One problem in the registry data or a user's config: where (file and key path) and why.
package struct RegistryIssue: Hashable, Sendable, CustomStringConvertible {
    package let file: String
    package let keyPath: String
    package let reason: String

    package init(file: String, keyPath: String, reason: String) {
        self.file = file
        self.keyPath = keyPath
        self.reason = reason
    }

    /// `file: key.path: reason`, the form `arbiter config validate` prints one per line.
    package var description: String { keyPath.isEmpty ? "\(file): \(reason)" : "\(file): \(keyPath): \(reason)" }
}

/// The registry could not be built: every issue found, not just the first.
package struct RegistryError: Error, CustomStringConvertible, Sendable {
    package let issues: [RegistryIssue]

    package init(_ issues: [RegistryIssue]) { self.issues = issues }

    package var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects issues while a document is read, so that one run reports them all.
package final class IssueLog: @unchecked Sendable {
    package private(set) var issues: [RegistryIssue] = []

    package init() {}

    package func add(_ file: String, _ keyPath: String, _ reason: String) {
        issues.append(RegistryIssue(file: file, keyPath: keyPath, reason: reason))
    }

    package var isEmpty: Bool { issues.isEmpty }
}
