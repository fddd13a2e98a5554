import EVMCodec
import EVMPrimitives

extension Transaction {
    static let jsonFields: Set<String> = [
        "type", "chainId", "nonce", "to", "value", "gas", "gasLimit", "gasPrice",
        "maxFeePerGas", "maxPriorityFeePerGas", "data", "input", "accessList", "from",
    ]

    /// Reads a transaction in Ethereum JSON-RPC field names.
    ///
    /// Quantities are decimal or `0x`-hex strings, or JSON integers. `type` may be omitted:
    /// `maxFeePerGas` implies 2, an `accessList` with `gasPrice` implies 1, otherwise 0.
    /// Unknown fields are errors (a misspelt `gasprice` must not silently become zero).
    /// `from`, if present, is returned for the caller to check against the signing key.
    public init(json: JSONValue) throws(SigningError) {
        guard case .object(let members) = json else {
            throw SigningError(.invalidTransaction, "transaction JSON must be an object, found \(json.kind)")
        }
        for m in members where !Self.jsonFields.contains(m.key) {
            throw SigningError(.invalidTransaction, "unknown transaction field \"\(PrimitiveError.cut(m.key, limit: 40))\"")
        }
        let r = FieldReader(object: json)
        if json["gas"] != nil && json["gasLimit"] != nil { throw r.bad("gas", "give gas or gasLimit, not both") }
        if json["data"] != nil && json["input"] != nil { throw r.bad("data", "give data or input, not both") }

        let type: TransactionType
        if let t = try r.quantity("type") {
            guard t <= 2, let known = TransactionType(rawValue: UInt8(t.w0)) else {
                throw r.bad("type", "unsupported transaction type \(t)")
            }
            type = known
        } else if json["maxFeePerGas"] != nil || json["maxPriorityFeePerGas"] != nil {
            type = .dynamicFee
        } else if json["accessList"] != nil {
            type = .accessList
        } else {
            type = .legacy
        }

        let chainId = try r.uint64("chainId")
        if type != .legacy && chainId == nil { throw r.bad("chainId", "required for a type \(type.rawValue) transaction") }
        guard let nonce = try r.uint64("nonce") else { throw r.bad("nonce", "required") }
        guard nonce < UInt64.max else { throw r.bad("nonce", "must be below 2^64-1 (EIP-2681)") }
        let gasField = try r.uint64("gas"), gasLimitField = try r.uint64("gasLimit")
        guard let gas = gasField ?? gasLimitField else { throw r.bad("gas", "required") }

        var gasPrice = UInt256.zero, tip = UInt256.zero, maxFee = UInt256.zero
        if type == .dynamicFee {
            if json["gasPrice"] != nil { throw r.bad("gasPrice", "not used by a type 2 transaction; give maxFeePerGas and maxPriorityFeePerGas") }
            guard let f = try r.quantity("maxFeePerGas") else { throw r.bad("maxFeePerGas", "required for a type 2 transaction") }
            guard let p = try r.quantity("maxPriorityFeePerGas") else { throw r.bad("maxPriorityFeePerGas", "required for a type 2 transaction") }
            guard p <= f else { throw r.bad("maxPriorityFeePerGas", "exceeds maxFeePerGas") }
            maxFee = f
            tip = p
        } else {
            if json["maxFeePerGas"] != nil || json["maxPriorityFeePerGas"] != nil {
                throw r.bad("maxFeePerGas", "only a type 2 transaction takes maxFeePerGas/maxPriorityFeePerGas")
            }
            guard let p = try r.quantity("gasPrice") else { throw r.bad("gasPrice", "required for a type \(type.rawValue) transaction") }
            gasPrice = p
        }
        if type == .legacy && json["accessList"] != nil { throw r.bad("accessList", "a legacy transaction has no access list") }

        let data = try r.bytes("data"), input = try r.bytes("input")
        self.init(
            type: type, chainId: chainId, nonce: nonce, gasPrice: gasPrice,
            maxPriorityFeePerGas: tip, maxFeePerGas: maxFee, gasLimit: gas,
            to: try r.address("to"), value: try r.quantity("value") ?? .zero,
            data: data ?? input ?? [], accessList: try r.accessList()
        )
    }

    /// The JSON-RPC `from` named in `json`, if any.
    public static func declaredSender(in json: JSONValue) throws(SigningError) -> Address? {
        try FieldReader(object: json).address("from")
    }

    /// The transaction in JSON-RPC form: quantities as `0x` hex, `to` null for a deployment.
    public var jsonMembers: [(key: String, value: JSONValue)] {
        var m: [(key: String, value: JSONValue)] = [("type", .string(UInt256(UInt64(type.rawValue)).hexQuantity))]
        m.append(("chainId", chainId.map { .string(UInt256($0).hexQuantity) } ?? .null))
        m.append(("nonce", .string(UInt256(nonce).hexQuantity)))
        if type == .dynamicFee {
            m.append(("maxPriorityFeePerGas", .string(maxPriorityFeePerGas.hexQuantity)))
            m.append(("maxFeePerGas", .string(maxFeePerGas.hexQuantity)))
        } else {
            m.append(("gasPrice", .string(gasPrice.hexQuantity)))
        }
        m.append(("gas", .string(UInt256(gasLimit).hexQuantity)))
        m.append(("to", to.map { .string($0.checksummed) } ?? .null))
        m.append(("value", .string(value.hexQuantity)))
        m.append(("data", .string(Hex.encode(data))))
        if type != .legacy {
            m.append(("accessList", .array(accessList.map { e in
                .object([
                    ("address", .string(e.address.checksummed)),
                    ("storageKeys", .array(e.storageKeys.map { .string(Hex.encode($0.bigEndianBytes)) })),
                ])
            })))
        }
        return m
    }
}

extension SignedTransaction {
    /// Every field, the signature, the recovered `from` and the `hash`, in JSON-RPC form.
    public var json: JSONValue {
        var m = transaction.jsonMembers
        m.append(("v", .string(v.hexQuantity)))
        if transaction.type != .legacy { m.append(("yParity", .string(UInt256(UInt64(signature.yParity)).hexQuantity))) }
        m.append(("r", .string(signature.r.hexQuantity)))
        m.append(("s", .string(signature.s.hexQuantity)))
        m.append(("from", .string(from.checksummed)))
        m.append(("hash", .string(Hex.encode(hash))))
        return .object(m)
    }
}

/// Typed access to the fields of a transaction JSON object, with errors that name the field.
private struct FieldReader {
    let object: JSONValue

    func bad(_ field: String, _ why: String) -> SigningError {
        SigningError(.invalidTransaction, "transaction field \(field): \(why)")
    }

    /// A present, non-null member.
    func member(_ field: String) -> JSONValue? {
        guard let v = object[field], !v.isNull else { return nil }
        return v
    }

    func quantity(_ field: String) throws(SigningError) -> UInt256? {
        guard let v = member(field) else { return nil }
        let text: String
        switch v {
        case .string(let s): text = s
        case .number(let n): text = n
        default: throw bad(field, "expected a quantity, found \(v.kind)")
        }
        do {
            return try UInt256(parsing: text)
        } catch {
            throw bad(field, "\"\(PrimitiveError.cut(text))\" is not a decimal or 0x-hex quantity below 2^256")
        }
    }

    func uint64(_ field: String) throws(SigningError) -> UInt64? {
        guard let q = try quantity(field) else { return nil }
        guard q <= UInt256(UInt64.max) else { throw bad(field, "\(q) does not fit in 64 bits") }
        return q.w0
    }

    func address(_ field: String) throws(SigningError) -> Address? {
        guard let v = member(field) else { return nil }
        return try Self.address(v, field: field, reader: self)
    }

    static func address(_ v: JSONValue, field: String, reader: FieldReader) throws(SigningError) -> Address {
        guard let s = v.stringValue else { throw reader.bad(field, "expected an address, found \(v.kind)") }
        do {
            return try Address(hex: s)
        } catch {
            throw reader.bad(field, error.message)
        }
    }

    func bytes(_ field: String) throws(SigningError) -> [UInt8]? {
        guard let v = member(field) else { return nil }
        guard let s = v.stringValue else { throw bad(field, "expected 0x-hex bytes, found \(v.kind)") }
        do {
            return try Hex.decodePrefixed(s)
        } catch {
            throw bad(field, error.message)
        }
    }

    func accessList() throws(SigningError) -> [AccessListEntry] {
        guard let v = member("accessList") else { return [] }
        guard let entries = v.arrayValue else { throw bad("accessList", "expected an array, found \(v.kind)") }
        var out: [AccessListEntry] = []
        for (i, e) in entries.enumerated() {
            let field = "accessList[\(i)]"
            guard case .object(let members) = e, let a = e["address"] else {
                throw bad(field, "expected {address, storageKeys}")
            }
            for m in members where m.key != "address" && m.key != "storageKeys" {
                throw bad(field, "unknown member \"\(PrimitiveError.cut(m.key, limit: 40))\"")
            }
            let address = try Self.address(a, field: field + ".address", reader: self)
            var keys: [UInt256] = []
            if let k = e["storageKeys"] {
                guard let ks = k.arrayValue else { throw bad(field + ".storageKeys", "expected an array") }
                for (j, key) in ks.enumerated() {
                    guard let s = key.stringValue, let b = try? Hex.decodePrefixed(s), b.count == 32 else {
                        throw bad(field + ".storageKeys[\(j)]", "expected 32 bytes of 0x-hex")
                    }
                    keys.append(b.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) })
                }
            }
            out.append(AccessListEntry(address: address, storageKeys: keys))
        }
        return out
    }
}
