import EVMPrimitives

/// A function parsed from a human-readable signature such as
/// `swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data) returns (bool)`.
public struct FunctionSignature: Hashable, Sendable {
    public let name: String
    public let inputs: [ABIParameter]
    public let outputs: [ABIParameter]

    public init(_ text: String) throws(CodecError) {
        var p = SignatureParser(text)
        (name, inputs, outputs) = try p.parseSignature()
    }

    /// `name(type,type)`, the text whose hash gives the selector.
    public var canonical: String { name + "(" + inputs.map(\.type.canonical).joined(separator: ",") + ")" }

    /// The first four bytes of keccak256(canonical).
    public var selector: [UInt8] { Array(Keccak256.hash(utf8: canonical).prefix(4)) }

    /// Selector followed by the encoded arguments.
    public func calldata(_ values: [ABIValue]) throws(CodecError) -> [UInt8] {
        var out = selector
        try ABI.encodeTuple(inputs.map(\.type), values, into: &out)
        // encodeTuple writes heads relative to its own start, so the selector prefix is harmless.
        return out
    }

    /// Decodes calldata, checking the selector.
    public func decodeCalldata(_ data: [UInt8]) throws(CodecError) -> [ABIValue] {
        guard data.count >= 4, Array(data.prefix(4)) == selector else {
            throw CodecError(.unexpectedShape, "calldata does not start with the selector of \(canonical)", input: data)
        }
        return try ABI.decode(inputs.map(\.type), from: Array(data.dropFirst(4)))
    }

    /// Decodes return data by the `returns (…)` list.
    public func decodeOutput(_ data: [UInt8]) throws(CodecError) -> [ABIValue] {
        try ABI.decode(outputs.map(\.type), from: data)
    }
}

/// An event parsed from a signature such as
/// `Transfer(address indexed from, address indexed to, uint256 value)`.
public struct EventSignature: Hashable, Sendable {
    public let name: String
    public let parameters: [ABIParameter]

    public init(_ text: String) throws(CodecError) {
        var p = SignatureParser(text)
        let parsed = try p.parseSignature()
        name = parsed.name
        parameters = parsed.inputs
    }

    public var canonical: String { name + "(" + parameters.map(\.type.canonical).joined(separator: ",") + ")" }

    /// keccak256(canonical), the first topic of a non-anonymous log.
    public var topic0: UInt256 {
        Array(canonical.utf8).withUnsafeBytes { Keccak256.hashWord($0) }
    }

    /// One decoded log parameter. A dynamic indexed parameter (string, bytes, array, tuple)
    /// comes back as its keccak256 hash in a `bytes32` value with ``isHash`` set.
    public struct DecodedParameter: Hashable, Sendable {
        public let name: String?
        public let value: ABIValue
        public let isHash: Bool
    }

    /// Decodes a log's topics and data. The topic count must match exactly.
    public func decodeLog(topics: [UInt256], data: [UInt8]) throws(CodecError) -> [DecodedParameter] {
        let indexed = parameters.filter(\.indexed)
        guard topics.count == indexed.count + 1 else {
            throw CodecError(.unexpectedShape, "\(name) log has \(topics.count) topics, expected \(indexed.count + 1)")
        }
        guard topics[0] == topic0 else {
            throw CodecError(.unexpectedShape, "log topic0 \(topics[0].hexQuantity) is not \(canonical)")
        }
        let plain = try ABI.decode(parameters.filter { !$0.indexed }.map(\.type), from: data)
        var out: [DecodedParameter] = []
        var ti = 1, di = 0
        for p in parameters {
            if p.indexed {
                let topic = topics[ti]
                ti += 1
                if p.type.isDynamic || p.type.isReferenceType {
                    out.append(DecodedParameter(name: p.name, value: .fixedBytes(topic.bigEndianBytes), isHash: true))
                } else {
                    let v = try ABI.decode([p.type], from: topic.bigEndianBytes)[0]
                    out.append(DecodedParameter(name: p.name, value: v, isHash: false))
                }
            } else {
                out.append(DecodedParameter(name: p.name, value: plain[di], isHash: false))
                di += 1
            }
        }
        return out
    }
}

extension ABIType {
    /// Arrays and tuples are hashed when indexed, even when they are statically sized.
    var isReferenceType: Bool {
        switch self {
        case .array, .fixedArray, .tuple: true
        default: false
        }
    }
}
