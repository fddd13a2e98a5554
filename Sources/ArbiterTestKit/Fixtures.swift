import EVMCodec
import EVMPrimitives
import Foundation

/// Recorded and generated test data under `Tests/Fixtures`.
public enum Fixtures {
    /// `Tests/Fixtures`, found from this source file so tests run from any directory.
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ArbiterTestKit
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Tests/Fixtures")

    /// The bytes of the fixture at `path` (relative to `Tests/Fixtures`).
    public static func data(_ path: String) throws -> [UInt8] {
        let url = directory.appendingPathComponent(path)
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw FixtureError("cannot read fixture \(url.path): \(error); run python/oracle/gen_vectors.py (scripts/test does)")
        }
    }

    /// The parsed JSON fixture at `path`.
    public static func json(_ path: String) throws -> JSONValue {
        try JSONValue.parse(try data(path))
    }

    /// The `vectors` array of an oracle file written by `python/oracle/gen_vectors.py`,
    /// checked against the file's own `count` so a truncated file cannot pass as a short one.
    public static func vectors(_ path: String) throws -> [JSONValue] {
        let doc = try json(path)
        guard let vectors = doc["vectors"]?.arrayValue, case .number(let n)? = doc["count"], Int(n) == vectors.count else {
            throw FixtureError("\(path): not an oracle vector file with a matching count")
        }
        return vectors
    }
}

/// A fixture that is missing or malformed.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension JSONValue {
    /// The string member `key`; a missing or non-string member is a fixture error.
    public func string(_ key: String) throws -> String {
        guard let s = self[key]?.stringValue else { throw FixtureError("vector has no string \"\(key)\": \(text.prefix(200))") }
        return s
    }

    /// The 0x-hex member `key` as bytes.
    public func hexBytes(_ key: String) throws -> [UInt8] {
        try Hex.decode(try string(key))
    }
}
