import TOMLKit

/// A parsed TOML document as plain values, so readers can walk it with key paths.
package indirect enum ConfigValue: Sendable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([ConfigValue])
    case table([(key: String, value: ConfigValue)])
    /// Dates and times, which the registry never uses; kept to report them.
    case other(String)

    /// Parses TOML text; a syntax error becomes an issue with its line and column.
    package static func parse(toml text: String, file: String) throws(RegistryError) -> ConfigValue {
        do {
            return convert(try TOMLTable(string: text))
        } catch let e as TOMLParseError {
            throw RegistryError([RegistryIssue(
                file: file, keyPath: "",
                reason: "TOML syntax error at line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")])
        } catch {
            throw RegistryError([RegistryIssue(file: file, keyPath: "", reason: "cannot parse TOML: \(error)")])
        }
    }

    private static func convert(_ v: any TOMLValueConvertible) -> ConfigValue {
        switch v.type {
        case .table:
            guard let t = v.table else { return .table([]) }
            var members: [(key: String, value: ConfigValue)] = []
            for (k, value) in t { members.append((k, convert(value))) }
            return .table(members)
        case .array:
            guard let a = v.array else { return .array([]) }
            return .array(a.map { convert($0) })
        case .string: return .string(v.string ?? "")
        case .int: return .int(v.int ?? 0)
        case .double: return .double(v.double ?? 0)
        case .bool: return .bool(v.bool ?? false)
        default: return .other(v.debugDescription)
        }
    }

    /// What the value is, for error messages.
    package var kind: String {
        switch self {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a float"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .other: "a date or time"
        }
    }
}
