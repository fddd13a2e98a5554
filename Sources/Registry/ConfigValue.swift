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
        if let (line, column, what) = parserTrap(text) {
            throw RegistryError([RegistryIssue(file: file, keyPath: "", reason: "TOML syntax error at line \(line), column \(column): \(what)")])
        }
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

    /// The first place where the parser we use asserts (an abort in a debug build, undefined
    /// behaviour in a release one) on malformed TOML instead of reporting it, found here first and
    /// said as it would be: a table header whose key starts with neither a bare-key character
    /// (A-Z a-z 0-9 _ -) nor a quote, and an array value that starts with `}`. A header is a `[` or
    /// `[[` opening a line at the document's level: not inside a string, a comment, or an array or
    /// inline table a value opened. (Found by fuzzing the registry's overrides: docs/testing.md.)
    static func parserTrap(_ text: String) -> (line: Int, column: Int, what: String)? {
        // By code point, as the parser reads: a combining mark after `[` is its own code point
        // there, though a Swift Character would join it to the bracket.
        let chars = Array(text.unicodeScalars)
        var i = 0, line = 1, lineStart = 0
        var open: [Unicode.Scalar] = []  // the arrays and inline tables values opened, innermost last
        func isBare(_ c: Unicode.Scalar) -> Bool { c.isASCII && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-") }
        func at(_ k: Int) -> Unicode.Scalar? { k < chars.count ? chars[k] : nil }
        func skipBlanks(_ k: inout Int) { while let c = at(k), c == " " || c == "\t" { k += 1 } }
        /// Where an array's next value starts after `k`: blanks, line ends and comments skipped.
        func valueStart(after k: Int) -> (Int, line: Int, lineStart: Int) {
            var (k, l, ls) = (k + 1, line, lineStart)
            while let c = at(k) {
                if c == "\n" {
                    (k, l, ls) = (k + 1, l + 1, k + 1)
                } else if c == " " || c == "\t" || c == "\r" {
                    k += 1
                } else if c == "#" {
                    while let h = at(k), h != "\n" { k += 1 }
                } else {
                    break
                }
            }
            return (k, l, ls)
        }
        var atLineStart = true
        while i < chars.count {
            let c = chars[i]
            if c == "\n" {
                (i, line, lineStart, atLineStart) = (i + 1, line + 1, i + 1, true)
                continue
            }
            if atLineStart {
                atLineStart = false
                var k = i
                skipBlanks(&k)
                if open.isEmpty, at(k) == "[" {
                    k += 1
                    if at(k) == "[" { k += 1 }
                    skipBlanks(&k)
                    if let f = at(k), f != "]", !isBare(f), f != "\"", f != "'" {
                        return (line, k - lineStart + 1, "a table header's key starts with \(String(reflecting: String(f))) (bare keys are A-Z a-z 0-9 _ -; quote any other)")
                    }
                    // The rest of a header line holds its key and perhaps a comment: no value opens there.
                    while let h = at(k), h != "\n" { k += 1 }
                    i = k
                    continue
                }
            }
            switch c {
            case "#":
                while let h = at(i), h != "\n" { i += 1 }
                continue
            case "\"", "'":
                let triple = at(i + 1) == c && at(i + 2) == c
                i += triple ? 3 : 1
                while let h = at(i) {
                    if c == "\"", h == "\\" { i += 2; continue }
                    if h == "\n" {
                        guard triple else { break }  // an unterminated single-line string: the parser reports it
                        (line, lineStart) = (line + 1, i + 1)
                    }
                    if h == c, !triple || (at(i + 1) == c && at(i + 2) == c) {
                        i += triple ? 3 : 1
                        break
                    }
                    i += 1
                }
                continue
            case "[", "{", ",":
                if c != "," { open.append(c) }
                if open.last == "[" {
                    let (k, l, ls) = valueStart(after: i)
                    if at(k) == "}" { return (l, k - ls + 1, "an array's value starts with '}'") }
                }
            case "]", "}": _ = open.popLast()
            default: break
            }
            i += 1
        }
        return nil
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
