import EVMPrimitives

extension ABIValue {
    /// Parses a command-line argument as a value of `type`.
    ///
    /// Integers are decimal or `0x`-hex (signed types take a leading `-`), addresses are
    /// `0x`-hex with EIP-55 enforced on mixed case, bools are `true`/`false`, bytes are `0x`-hex,
    /// arrays are `[a,b]` and tuples `(a,b)`, nested at will. A top-level string is taken
    /// verbatim; inside brackets a string is either a JSON string literal `"quoted"` or bare.
    public static func parse(_ text: String, as type: ABIType) throws(CodecError) -> ABIValue {
        var p = ValueParser(s: Array(text.utf8), text: text)
        switch type {
        case .array, .fixedArray, .tuple:
            let v = try p.value(type, depth: 0)
            p.skipSpace()
            guard p.i == p.s.count else { throw p.error("unexpected text after the value") }
            return v
        default:
            return try ValueParser.scalar(text, as: type)
        }
    }

    /// A display form: integers in decimal, checksummed addresses, `0x` bytes, `[a, b]` arrays, `(a, b)` tuples.
    public var displayText: String {
        switch self {
        case .uint(let v): v.description
        case .int(let v): v.description
        case .address(let a): a.checksummed
        case .bool(let b): b ? "true" : "false"
        case .fixedBytes(let b), .bytes(let b): Hex.encode(b)
        case .string(let s): s
        case .array(let items): "[" + items.map(\.nestedDisplayText).joined(separator: ", ") + "]"
        case .tuple(let items): "(" + items.map(\.nestedDisplayText).joined(separator: ", ") + ")"
        }
    }

    private var nestedDisplayText: String {
        if case .string(let s) = self { return JSON.quote(s) }
        return displayText
    }

    /// JSON: integers as decimal strings, addresses checksummed, bytes as `0x` hex, arrays and tuples as arrays.
    public var json: String {
        switch self {
        case .uint(let v): JSON.quote(v.description)
        case .int(let v): JSON.quote(v.description)
        case .address(let a): JSON.quote(a.checksummed)
        case .bool(let b): b ? "true" : "false"
        case .fixedBytes(let b), .bytes(let b): JSON.quote(Hex.encode(b))
        case .string(let s): JSON.quote(s)
        case .array(let items), .tuple(let items): "[" + items.map(\.json).joined(separator: ",") + "]"
        }
    }
}

/// Minimal JSON text helpers for the codec's own output.
public enum JSON {
    /// A JSON string literal for `s`.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

struct ValueParser {
    let s: [UInt8]
    let text: String
    var i = 0

    init(s: [UInt8], text: String) {
        self.s = s
        self.text = text
    }

    func error(_ message: String) -> CodecError {
        CodecError(.typeMismatch, "\(message) at position \(i) in \"\(text.prefix(120))\"")
    }

    mutating func skipSpace() { while i < s.count && s[i] == 0x20 { i += 1 } }

    mutating func expect(_ c: UInt8) throws(CodecError) {
        skipSpace()
        guard i < s.count, s[i] == c else { throw error("expected '\(Character(UnicodeScalar(c)))'") }
        i += 1
    }

    mutating func list(_ types: (Int) -> ABIType?, open: UInt8, close: UInt8, depth: Int) throws(CodecError) -> [ABIValue] {
        guard depth < 32 else { throw error("value nested too deeply") }
        try expect(open)
        var items: [ABIValue] = []
        skipSpace()
        if i < s.count && s[i] == close {
            i += 1
            return items
        }
        while true {
            guard let t = types(items.count) else { throw error("too many elements") }
            items.append(try value(t, depth: depth + 1))
            skipSpace()
            if i < s.count && s[i] == 0x2c {
                i += 1
                continue
            }
            try expect(close)
            return items
        }
    }

    mutating func value(_ type: ABIType, depth: Int) throws(CodecError) -> ABIValue {
        skipSpace()
        switch type {
        case .array(let et):
            return .array(try list({ _ in et }, open: 0x5b, close: 0x5d, depth: depth))
        case .fixedArray(let et, let k):
            let items = try list({ $0 < k ? et : nil }, open: 0x5b, close: 0x5d, depth: depth)
            guard items.count == k else { throw error("\(type.canonical) needs \(k) elements, got \(items.count)") }
            return .array(items)
        case .tuple(let ts):
            let items = try list({ $0 < ts.count ? ts[$0] : nil }, open: 0x28, close: 0x29, depth: depth)
            guard items.count == ts.count else { throw error("\(type.canonical) needs \(ts.count) elements, got \(items.count)") }
            return .tuple(items)
        default:
            return try ValueParser.scalar(try token(), as: type)
        }
    }

    /// A bare token up to `,` `]` `)`, or a double-quoted string.
    mutating func token() throws(CodecError) -> String {
        skipSpace()
        if i < s.count && s[i] == 0x22 {
            // A JSON string literal, escapes and all.
            var json = JSONParser(bytes: s)
            json.i = i
            do {
                let text = try json.string()
                i = json.i
                return text
            } catch {
                throw self.error("invalid quoted string")
            }
        }
        let start = i
        while i < s.count && s[i] != 0x2c && s[i] != 0x5d && s[i] != 0x29 { i += 1 }
        var end = i
        while end > start && s[end - 1] == 0x20 { end -= 1 }
        return String(decoding: s[start..<end], as: UTF8.self)
    }

    static func scalar(_ t: String, as type: ABIType) throws(CodecError) -> ABIValue {
        func bad(_ why: String, _ underlying: (any Error & Sendable)? = nil) -> CodecError {
            CodecError(.typeMismatch, "\"\(t.prefix(80))\" is not a valid \(type.canonical)\(why.isEmpty ? "" : ": " + why)", underlying: underlying)
        }
        do {
            switch type {
            case .uint(let n):
                let v = try UInt256(parsing: t)
                guard n == 256 || v >> n == 0 else { throw bad("out of range") }
                return .uint(v)
            case .int(let n):
                let v = try Int256(parsing: t)
                let top = v >> (n - 1)
                guard n == 256 || top == 0 || top == -1 else { throw bad("out of range") }
                return .int(v)
            case .address:
                return .address(try Address(hex: t))
            case .bool:
                switch t {
                case "true": return .bool(true)
                case "false": return .bool(false)
                default: throw bad("expected true or false")
                }
            case .fixedBytes(let n):
                let b = try Hex.decodePrefixed(t)
                guard b.count == n else { throw bad("expected \(n) bytes, got \(b.count)") }
                return .fixedBytes(b)
            case .bytes:
                return .bytes(try Hex.decodePrefixed(t))
            case .string:
                return .string(t)
            default:
                throw bad("not a scalar type")
            }
        } catch let e as CodecError {
            throw e
        } catch let e as PrimitiveError {
            throw bad("", e)
        } catch {
            throw bad("")
        }
    }
}
