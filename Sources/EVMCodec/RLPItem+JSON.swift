import EVMPrimitives

extension RLPItem {
    /// The item as JSON: byte strings as `0x` hex, lists as arrays (the form `cast` and
    /// the `rlp` Python package use in examples).
    public var json: JSONValue {
        switch self {
        case .bytes(let b): .string(Hex.encode(b))
        case .list(let items): .array(items.map(\.json))
        }
    }

    /// Builds an item from JSON made of `0x`-hex strings and arrays of them.
    public init(json: JSONValue) throws(CodecError) {
        try self.init(json: json, depth: 0)
    }

    private init(json: JSONValue, depth: Int) throws(CodecError) {
        guard depth < RLP.maxDepth else { throw CodecError(.tooDeep, "RLP JSON nested deeper than \(RLP.maxDepth)") }
        switch json {
        case .string(let s):
            do {
                self = .bytes(try Hex.decodePrefixed(s))
            } catch {
                throw CodecError(.invalidValue, "RLP JSON: \"\(PrimitiveError.cut(s))\" is not 0x-hex", underlying: error)
            }
        case .array(let items):
            var out: [RLPItem] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try RLPItem(json: item, depth: depth + 1)) }
            self = .list(out)
        default:
            throw CodecError(.unexpectedShape, "RLP JSON holds only 0x-hex strings and arrays, found \(json.kind)")
        }
    }
}
