import EVMCodec
import EVMPrimitives

/// The type of one EIP-712 struct member.
public indirect enum EIP712FieldType: Hashable, Sendable {
    /// uintN, intN, address, bool or bytesN.
    case atomic(ABIType)
    case bytes
    case string
    /// `T[]` when the count is nil, `T[k]` otherwise.
    case array(EIP712FieldType, Int?)
    case structType(EIP712StructType)

    public var typeName: String {
        switch self {
        case .atomic(let t): t.canonical
        case .bytes: "bytes"
        case .string: "string"
        case .array(let t, let k): t.typeName + (k.map { "[\($0)]" } ?? "[]")
        case .structType(let s): s.name
        }
    }

    func collectStructs(into out: inout [String: EIP712StructType]) {
        switch self {
        case .array(let t, _): t.collectStructs(into: &out)
        case .structType(let s):
            if out[s.name] == nil {
                out[s.name] = s
                for f in s.fields { f.type.collectStructs(into: &out) }
            }
        default: break
        }
    }
}

/// A struct type declared for EIP-712 hashing.
public struct EIP712StructType: Hashable, Sendable {
    public struct Field: Hashable, Sendable {
        public let name: String
        public let type: EIP712FieldType
        public init(_ name: String, _ type: EIP712FieldType) {
            self.name = name
            self.type = type
        }
    }

    public let name: String
    public let fields: [Field]

    public init(_ name: String, _ fields: [Field]) {
        self.name = name
        self.fields = fields
    }

    /// `Name(type field,…)` for this struct alone.
    public var ownEncoding: String {
        name + "(" + fields.map { "\($0.type.typeName) \($0.name)" }.joined(separator: ",") + ")"
    }

    /// encodeType: this struct, then every referenced struct sorted by name.
    public var encodeType: String {
        var deps: [String: EIP712StructType] = [:]
        for f in fields { f.type.collectStructs(into: &deps) }
        deps[name] = nil
        return ownEncoding + deps.keys.sorted().map { deps[$0]!.ownEncoding }.joined()
    }

    /// keccak256(encodeType).
    public var typeHash: [UInt8] { Keccak256.hash(utf8: encodeType) }
}

/// A value for an EIP-712 member.
public indirect enum EIP712Value: Hashable, Sendable {
    case atomic(ABIValue)
    case bytes([UInt8])
    case string(String)
    case array([EIP712Value])
    /// Member values in declaration order.
    case structValue([EIP712Value])
}

/// A Swift type that can be hashed as an EIP-712 struct.
public protocol EIP712Struct {
    static var eip712Type: EIP712StructType { get }
    /// Member values in the order of ``eip712Type``'s fields.
    var eip712Values: [EIP712Value] { get }
}

public enum EIP712 {
    /// hashStruct(s) = keccak256(typeHash ‖ encodeData(s)).
    public static func hashStruct(_ type: EIP712StructType, _ values: [EIP712Value]) throws(SigningError) -> [UInt8] {
        guard values.count == type.fields.count else {
            throw SigningError(.invalidTypedData, "\(type.name) has \(type.fields.count) fields, got \(values.count) values")
        }
        var enc = type.typeHash
        for (f, v) in zip(type.fields, values) { enc += try encodeField(f.type, v, field: f.name) }
        return Keccak256.hash(enc)
    }

    static func encodeField(_ t: EIP712FieldType, _ v: EIP712Value, field: String) throws(SigningError) -> [UInt8] {
        switch (t, v) {
        case (.atomic(let at), .atomic(let av)):
            do { return try ABI.encode([av], as: [at]) } catch {
                throw SigningError(.invalidTypedData, "field \(field)", underlying: error)
            }
        case (.bytes, .bytes(let b)):
            return Keccak256.hash(b)
        case (.string, .string(let s)):
            return Keccak256.hash(utf8: s)
        case (.array(let et, let k), .array(let items)):
            if let k, items.count != k {
                throw SigningError(.invalidTypedData, "field \(field) needs \(k) elements, got \(items.count)")
            }
            var enc: [UInt8] = []
            for item in items { enc += try encodeField(et, item, field: field) }
            return Keccak256.hash(enc)
        case (.structType(let st), .structValue(let fields)):
            return try hashStruct(st, fields)
        default:
            throw SigningError(.invalidTypedData, "field \(field) does not match type \(t.typeName)")
        }
    }

    /// keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)).
    public static func digest(domain: EIP712Domain, message: some EIP712Struct) throws(SigningError) -> [UInt8] {
        let h = try hashStruct(type(of: message).eip712Type, message.eip712Values)
        return Keccak256.hash([0x19, 0x01] + domain.separator + h)
    }

    /// Signs the typed-data digest.
    public static func sign(domain: EIP712Domain, message: some EIP712Struct, with key: PrivateKey) throws(SigningError) -> Signature {
        key.sign(digest: try digest(domain: domain, message: message))
    }
}

extension EIP712Struct {
    /// hashStruct of this value.
    public func hashStruct() throws(SigningError) -> [UInt8] {
        try EIP712.hashStruct(Self.eip712Type, eip712Values)
    }

    /// This value as a member of another struct.
    public var eip712Value: EIP712Value { .structValue(eip712Values) }
}

/// The EIP-712 domain. Only the members that are set take part in the type and the hash.
public struct EIP712Domain: Hashable, Sendable {
    public var name: String?
    public var version: String?
    public var chainId: UInt256?
    public var verifyingContract: Address?
    /// The bytes32 salt as a big-endian word.
    public var salt: UInt256?

    public init(name: String? = nil, version: String? = nil, chainId: UInt256? = nil, verifyingContract: Address? = nil, salt: UInt256? = nil) {
        self.name = name
        self.version = version
        self.chainId = chainId
        self.verifyingContract = verifyingContract
        self.salt = salt
    }

    var typeAndValues: (EIP712StructType, [EIP712Value]) {
        var fields: [EIP712StructType.Field] = []
        var values: [EIP712Value] = []
        if let name {
            fields.append(.init("name", .string))
            values.append(.string(name))
        }
        if let version {
            fields.append(.init("version", .string))
            values.append(.string(version))
        }
        if let chainId {
            fields.append(.init("chainId", .atomic(.uint(256))))
            values.append(.atomic(.uint(chainId)))
        }
        if let verifyingContract {
            fields.append(.init("verifyingContract", .atomic(.address)))
            values.append(.atomic(.address(verifyingContract)))
        }
        if let salt {
            fields.append(.init("salt", .atomic(.fixedBytes(32))))
            values.append(.atomic(.fixedBytes(salt.bigEndianBytes)))
        }
        return (EIP712StructType("EIP712Domain", fields), values)
    }

    /// The domain separator, hashStruct(domain).
    public var separator: [UInt8] {
        let (t, v) = typeAndValues
        // Every member is built above to match its declared type, so hashing cannot fail.
        return try! EIP712.hashStruct(t, v)
    }
}
