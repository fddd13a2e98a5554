import EVMPrimitives

extension ABIValue {
    /// Reads a value of `type` from JSON in the shape ``json`` writes: integers as decimal
    /// or `0x` strings (or JSON integers), addresses and bytes as `0x` hex, bools, strings,
    /// arrays and tuples as arrays.
    public init(json: JSONValue, as type: ABIType) throws(CodecError) {
        func mismatch() -> CodecError {
            CodecError(.typeMismatch, "expected a JSON value for \(type.canonical), found \(json.kind)")
        }
        switch type {
        case .array(let et):
            guard let items = json.arrayValue else { throw mismatch() }
            var out: [ABIValue] = []
            for item in items { out.append(try ABIValue(json: item, as: et)) }
            self = .array(out)
        case .fixedArray(let et, let k):
            guard let items = json.arrayValue else { throw mismatch() }
            guard items.count == k else {
                throw CodecError(.typeMismatch, "\(type.canonical) needs \(k) elements, got \(items.count)")
            }
            var out: [ABIValue] = []
            for item in items { out.append(try ABIValue(json: item, as: et)) }
            self = .array(out)
        case .tuple(let ts):
            guard let items = json.arrayValue else { throw mismatch() }
            guard items.count == ts.count else {
                throw CodecError(.typeMismatch, "\(type.canonical) needs \(ts.count) elements, got \(items.count)")
            }
            var out: [ABIValue] = []
            for (item, t) in zip(items, ts) { out.append(try ABIValue(json: item, as: t)) }
            self = .tuple(out)
        case .bool:
            guard case .bool(let b) = json else { throw mismatch() }
            self = .bool(b)
        case .string:
            guard let s = json.stringValue else { throw mismatch() }
            self = .string(s)
        case .uint, .int:
            switch json {
            case .string(let s), .number(let s): self = try ValueParser.scalar(s, as: type)
            default: throw mismatch()
            }
        default:
            guard let s = json.stringValue else { throw mismatch() }
            self = try ValueParser.scalar(s, as: type)
        }
    }
}
