import EVMPrimitives

/// Reads one TOML table with typed accessors. Every problem is logged with the file and the
/// full key path (`dex[3].factory`); accessors return nil instead of throwing, so one pass
/// reports every error in a document.
package struct TableReader {
    package let file: String
    package let path: String
    let members: [(key: String, value: ConfigValue)]
    let log: IssueLog

    package init(file: String, path: String, value: ConfigValue, log: IssueLog) {
        self.file = file
        self.path = path
        self.log = log
        if case .table(let m) = value {
            members = m
        } else {
            members = []
            log.add(file, path, "expected a table, found \(value.kind)")
        }
    }

    package func keyPath(_ key: String) -> String { key.isEmpty ? path : path.isEmpty ? key : "\(path).\(key)" }

    package func fail(_ key: String, _ reason: String) { log.add(file, keyPath(key), reason) }

    package func has(_ key: String) -> Bool { members.contains { $0.key == key } }

    package func value(_ key: String) -> ConfigValue? { members.first { $0.key == key }?.value }

    /// Keys this table must not have: a misspelt key is an error, not silently ignored.
    package func rejectUnknown(_ allowed: Set<String>) {
        for m in members where !allowed.contains(m.key) {
            fail(m.key, "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    package func string(_ key: String, required: Bool = true) -> String? {
        guard let v = value(key) else {
            if required { fail(key, "missing") }
            return nil
        }
        guard case .string(let s) = v else {
            fail(key, "expected a string, found \(v.kind)")
            return nil
        }
        return s
    }

    package func int(_ key: String, required: Bool = true, range: ClosedRange<Int>? = nil) -> Int? {
        guard let v = value(key) else {
            if required { fail(key, "missing") }
            return nil
        }
        guard case .int(let n) = v else {
            fail(key, "expected an integer, found \(v.kind)")
            return nil
        }
        if let range, !range.contains(n) {
            fail(key, "\(n) is outside \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return n
    }

    /// A number of seconds or milliseconds given as an integer or a float.
    package func number(_ key: String, required: Bool = true) -> Double? {
        guard let v = value(key) else {
            if required { fail(key, "missing") }
            return nil
        }
        switch v {
        case .int(let n): return Double(n)
        case .double(let d): return d
        default:
            fail(key, "expected a number, found \(v.kind)")
            return nil
        }
    }

    package func bool(_ key: String, required: Bool = true) -> Bool? {
        guard let v = value(key) else {
            if required { fail(key, "missing") }
            return nil
        }
        guard case .bool(let b) = v else {
            fail(key, "expected true or false, found \(v.kind)")
            return nil
        }
        return b
    }

    /// An EVM address; mixed case must pass EIP-55.
    package func address(_ key: String, required: Bool = true) -> Address? {
        guard let s = string(key, required: required) else { return nil }
        do {
            return try Address(hex: s)
        } catch {
            fail(key, error.message + " (\"\(s)\")")
            return nil
        }
    }

    /// A 32-byte hash in 0x-hex.
    package func hash(_ key: String, required: Bool = true) -> UInt256? {
        guard let s = string(key, required: required) else { return nil }
        guard s.hasPrefix("0x"), s.count == 66, let v = try? UInt256(hex: s) else {
            fail(key, "expected 32 bytes of 0x-hex, found \"\(s)\"")
            return nil
        }
        return v
    }

    package func strings(_ key: String, required: Bool = true) -> [String]? {
        array(key, required: required, of: "strings") { if case .string(let s) = $0 { s } else { nil } }
    }

    package func ints(_ key: String, required: Bool = true) -> [Int]? {
        array(key, required: required, of: "integers") { if case .int(let n) = $0 { n } else { nil } }
    }

    /// An array whose elements `element` converts; each element that does not convert is logged at `key[i]`.
    private func array<T>(_ key: String, required: Bool, of what: String, _ element: (ConfigValue) -> T?) -> [T]? {
        guard let v = value(key) else {
            if required { fail(key, "missing") }
            return nil
        }
        guard case .array(let items) = v else {
            fail(key, "expected an array of \(what), found \(v.kind)")
            return nil
        }
        var out: [T] = []
        for (i, item) in items.enumerated() {
            guard let converted = element(item) else {
                log.add(file, "\(keyPath(key))[\(i)]", "expected \(what.dropLast()), found \(item.kind)")
                continue
            }
            out.append(converted)
        }
        return out
    }

    /// A value from a closed set, e.g. a DEX kind.
    package func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type, required: Bool = true) -> E?
    where E.RawValue == String {
        guard let s = string(key, required: required) else { return nil }
        guard let e = E(rawValue: s) else {
            fail(key, "\"\(s)\" is not one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return e
    }

    /// A sub-table.
    package func table(_ key: String, required: Bool = true) -> TableReader? {
        guard let v = value(key) else {
            if required { fail(key, "missing") }
            return nil
        }
        return TableReader(file: file, path: keyPath(key), value: v, log: log)
    }

    /// An array of tables (`[[key]]`), each reader pathed `key[i]`.
    package func tables(_ key: String) -> [TableReader] {
        guard let v = value(key) else { return [] }
        guard case .array(let items) = v else {
            fail(key, "expected an array of tables, found \(v.kind)")
            return []
        }
        return items.enumerated().map { TableReader(file: file, path: "\(keyPath(key))[\($0)]", value: $1, log: log) }
    }

    /// The members of this table in order, each as (key, reader) for tables keyed by name.
    package func namedTables() -> [(String, TableReader)] {
        members.map { ($0.key, TableReader(file: file, path: keyPath($0.key), value: $0.value, log: log)) }
    }
}
