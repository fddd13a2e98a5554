import EVMPrimitives

/// Recursive-descent JSON parser over UTF-8 bytes (RFC 8259), depth-limited.
struct JSONParser {
    static let maxDepth = 128

    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ message: String) -> CodecError {
        CodecError(.unexpectedShape, "invalid JSON at byte \(i): \(message)", input: bytes)
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0a || bytes[i] == 0x0d || bytes[i] == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) throws(CodecError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error("nested too deeply") }
        skipSpace()
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case 0x7b: return try object(depth: depth)
        case 0x5b: return try array(depth: depth)
        case 0x22: return .string(try string())
        case 0x74: try literal("true"); return .bool(true)
        case 0x66: try literal("false"); return .bool(false)
        case 0x6e: try literal("null"); return .null
        case 0x2d, 0x30...0x39: return .number(try number())
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(CodecError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw error("unexpected end of input") }
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        for k in 0..<n where bytes[i + k] != w[k] { throw error("invalid literal") }
        i += n
    }

    mutating func object(depth: Int) throws(CodecError) -> JSONValue {
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == 0x7d {
            i += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == 0x22 else { throw error("expected a member name") }
            let key = try string()
            guard !members.contains(where: { $0.key == key }) else { throw error("duplicate key \"\(key.prefix(40))\"") }
            skipSpace()
            guard i < bytes.count, bytes[i] == 0x3a else { throw error("expected ':'") }
            i += 1
            members.append((key, try value(depth: depth + 1)))
            skipSpace()
            guard i < bytes.count else { throw error("unexpected end of input") }
            if bytes[i] == 0x2c { i += 1; continue }
            guard bytes[i] == 0x7d else { throw error("expected ',' or '}'") }
            i += 1
            return .object(members)
        }
    }

    mutating func array(depth: Int) throws(CodecError) -> JSONValue {
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == 0x5d {
            i += 1
            return .array(items)
        }
        while true {
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard i < bytes.count else { throw error("unexpected end of input") }
            if bytes[i] == 0x2c { i += 1; continue }
            guard bytes[i] == 0x5d else { throw error("expected ',' or ']'") }
            i += 1
            return .array(items)
        }
    }

    mutating func number() throws(CodecError) -> String {
        let start = i
        if bytes[i] == 0x2d { i += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.i
            while p.i < p.bytes.count, (0x30...0x39).contains(p.bytes[p.i]) { p.i += 1 }
            return p.i - s
        }
        guard i < bytes.count else { throw error("truncated number") }
        if bytes[i] == 0x30 {
            i += 1
        } else {
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        if i < bytes.count, bytes[i] == 0x2e {
            i += 1
            guard digits(&self) > 0 else { throw error("invalid fraction") }
        }
        if i < bytes.count, bytes[i] == 0x65 || bytes[i] == 0x45 {
            i += 1
            if i < bytes.count, bytes[i] == 0x2b || bytes[i] == 0x2d { i += 1 }
            guard digits(&self) > 0 else { throw error("invalid exponent") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    mutating func string() throws(CodecError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw error("unterminated string") }
            let c = bytes[i]
            i += 1
            switch c {
            case 0x22:
                guard let s = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return s
            case 0x5c:
                guard i < bytes.count else { throw error("unterminated escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case 0x22, 0x5c, 0x2f: out.append(e)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0c)
                case 0x6e: out.append(0x0a)
                case 0x72: out.append(0x0d)
                case 0x74: out.append(0x09)
                case 0x75: try unicodeEscape(into: &out)
                default: throw error("invalid escape")
                }
            case 0..<0x20:
                throw error("control character in string")
            default:
                out.append(c)
            }
        }
    }

    mutating func hex4() throws(CodecError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let n = Hex.nibble(bytes[i]) else { throw error("invalid \\u escape") }
            v = v << 4 | UInt32(n)
            i += 1
        }
        return v
    }

    mutating func unicodeEscape(into out: inout [UInt8]) throws(CodecError) {
        var scalar = try hex4()
        if (0xd800..<0xdc00).contains(scalar) {
            guard i + 2 <= bytes.count, bytes[i] == 0x5c, bytes[i + 1] == 0x75 else { throw error("unpaired surrogate") }
            i += 2
            let low = try hex4()
            guard (0xdc00..<0xe000).contains(low) else { throw error("unpaired surrogate") }
            scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
        } else if (0xdc00..<0xe000).contains(scalar) {
            throw error("unpaired surrogate")
        }
        guard let u = Unicode.Scalar(scalar) else { throw error("invalid code point") }
        out.append(contentsOf: String(Character(u)).utf8)
    }
}
