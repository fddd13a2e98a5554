/// A Solidity ABI type.
public indirect enum ABIType: Hashable, Sendable {
    case uint(Int)
    case int(Int)
    case address
    case bool
    case fixedBytes(Int)
    case bytes
    case string
    case array(ABIType)
    case fixedArray(ABIType, Int)
    case tuple([ABIType])

    /// The canonical name used in signatures: `uint256`, `(address,bytes)[]`.
    public var canonical: String {
        switch self {
        case .uint(let n): return "uint\(n)"
        case .int(let n): return "int\(n)"
        case .address: return "address"
        case .bool: return "bool"
        case .fixedBytes(let n): return "bytes\(n)"
        case .bytes: return "bytes"
        case .string: return "string"
        case .array(let t): return t.canonical + "[]"
        case .fixedArray(let t, let k): return t.canonical + "[\(k)]"
        case .tuple(let ts): return "(" + ts.map(\.canonical).joined(separator: ",") + ")"
        }
    }

    /// True when the encoding has a tail (its head is an offset).
    public var isDynamic: Bool {
        switch self {
        case .bytes, .string, .array: return true
        case .fixedArray(let t, let k): return k > 0 && t.isDynamic
        case .tuple(let ts): return ts.contains { $0.isDynamic }
        default: return false
        }
    }

    /// Bytes the type occupies in the head of an enclosing tuple.
    public var headSize: Int {
        if isDynamic { return 32 }
        switch self {
        case .fixedArray(let t, let k): return t.headSize * k
        case .tuple(let ts): return ts.reduce(0) { $0 + $1.headSize }
        default: return 32
        }
    }

    /// Parses a type such as `uint256`, `(address target, bytes data)[]` or `tuple(bool,uint8)[3]`.
    public static func parse(_ text: String) throws(CodecError) -> ABIType {
        var p = SignatureParser(text)
        let t = try p.parseType()
        try p.expectEnd()
        return t
    }

    /// Parses a parenthesised list of types such as `(uint256,address)`, as a tuple.
    public static func parseList(_ text: String) throws(CodecError) -> [ABIType] {
        let t = try parse(text)
        guard case .tuple(let ts) = t else { return [t] }
        return ts
    }
}

/// One named parameter of a function or event.
public struct ABIParameter: Hashable, Sendable {
    public var name: String?
    public var type: ABIType
    public var indexed: Bool

    public init(name: String? = nil, type: ABIType, indexed: Bool = false) {
        self.name = name
        self.type = type
        self.indexed = indexed
    }
}

/// A recursive-descent parser for human-readable signatures.
struct SignatureParser {
    let text: String
    let s: [UInt8]
    var i = 0
    /// Deepest tuple/array nesting accepted, so hostile input cannot exhaust the stack.
    static let maxDepth = 32

    init(_ text: String) {
        self.text = text
        self.s = Array(text.utf8)
    }

    func error(_ message: String) -> CodecError {
        CodecError(.typeSyntax, "\(message) at position \(i) in \"\(text.prefix(120))\"")
    }

    mutating func skipSpace() { while i < s.count && (s[i] == 0x20 || s[i] == 0x09 || s[i] == 0x0a) { i += 1 } }

    func peek() -> UInt8? { i < s.count ? s[i] : nil }

    mutating func expect(_ c: Character) throws(CodecError) {
        skipSpace()
        guard peek() == c.asciiValue else { throw error("expected '\(c)'") }
        i += 1
    }

    mutating func expectEnd() throws(CodecError) {
        skipSpace()
        guard i == s.count else { throw error("unexpected text") }
    }

    static func isWordChar(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x5f || c == 0x24
    }

    mutating func word() -> String {
        skipSpace()
        let start = i
        while i < s.count && SignatureParser.isWordChar(s[i]) { i += 1 }
        return String(decoding: s[start..<i], as: UTF8.self)
    }

    mutating func parseType(depth: Int = 0) throws(CodecError) -> ABIType {
        guard depth < SignatureParser.maxDepth else { throw error("type nested too deeply") }
        skipSpace()
        var t: ABIType
        if peek() == UInt8(ascii: "(") {
            t = .tuple(try parseParameters(depth: depth + 1).map(\.type))
        } else {
            let name = word()
            if name == "tuple" && peek() == UInt8(ascii: "(") {
                t = .tuple(try parseParameters(depth: depth + 1).map(\.type))
            } else {
                t = try elementary(name)
            }
        }
        while true {
            skipSpace()
            guard peek() == UInt8(ascii: "[") else { break }
            i += 1
            let digits = word()
            try expect("]")
            if digits.isEmpty {
                t = .array(t)
            } else {
                guard let k = Int(digits), k >= 0, k <= 1 << 20, digits.allSatisfy(\.isNumber) else {
                    throw error("bad array length '\(digits)'")
                }
                t = .fixedArray(t, k)
            }
        }
        return t
    }

    func elementary(_ name: String) throws(CodecError) -> ABIType {
        switch name {
        case "address": return .address
        case "bool": return .bool
        case "string": return .string
        case "bytes": return .bytes
        case "uint": return .uint(256)
        case "int": return .int(256)
        case "": throw error("expected a type")
        default: break
        }
        func width(_ prefix: String) -> Int? {
            guard name.hasPrefix(prefix) else { return nil }
            let digits = name.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.first != "0", digits.allSatisfy(\.isNumber) else { return nil }
            return Int(digits)
        }
        if let n = width("uint"), n % 8 == 0, (8...256).contains(n) { return .uint(n) }
        if let n = width("int"), n % 8 == 0, (8...256).contains(n) { return .int(n) }
        if let n = width("bytes"), (1...32).contains(n) { return .fixedBytes(n) }
        throw error("unknown type '\(name)'")
    }

    /// `( param, param, … )` where a parameter is `type [indexed] [name]`.
    mutating func parseParameters(depth: Int = 0) throws(CodecError) -> [ABIParameter] {
        try expect("(")
        var params: [ABIParameter] = []
        skipSpace()
        if peek() == UInt8(ascii: ")") {
            i += 1
            return params
        }
        while true {
            let type = try parseType(depth: depth)
            var param = ABIParameter(type: type)
            while true {
                skipSpace()
                guard let c = peek(), SignatureParser.isWordChar(c) else { break }
                let w = word()
                switch w {
                case "indexed": param.indexed = true
                case "memory", "calldata", "storage", "payable": break
                default:
                    guard param.name == nil else { throw error("unexpected word '\(w)'") }
                    param.name = w
                }
            }
            params.append(param)
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                i += 1
                continue
            }
            try expect(")")
            return params
        }
    }

    /// `[function|event] name(params) [returns (params)]`.
    mutating func parseSignature() throws(CodecError) -> (name: String, inputs: [ABIParameter], outputs: [ABIParameter]) {
        var name = word()
        if name == "function" || name == "event" { name = word() }
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39) else { throw error("expected a name") }
        let inputs = try parseParameters()
        var outputs: [ABIParameter] = []
        skipSpace()
        // `cast` style: `balanceOf(address)(uint256)`.
        if peek() == UInt8(ascii: "(") { outputs = try parseParameters() }
        while true {
            skipSpace()
            guard let c = peek(), SignatureParser.isWordChar(c) else { break }
            let w = word()
            switch w {
            case "returns": outputs = try parseParameters()
            case "view", "pure", "payable", "nonpayable", "external", "public", "anonymous": break
            default: throw error("unexpected word '\(w)'")
            }
        }
        try expectEnd()
        return (name, inputs, outputs)
    }
}
