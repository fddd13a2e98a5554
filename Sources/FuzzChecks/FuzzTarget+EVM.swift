import EVMCodec
import EVMPrimitives
import EVMSigning
import JSONRPC

extension FuzzTarget {
    /// RLP is canonical: what decodes encodes back to the same bytes.
    static func rlp(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let item = try? RLP.decode(input) else { return false }
        try require(RLP.encode(item) == input, "RLP \(Hex.encode(input)) decoded to \(item), which encodes otherwise")
        return true
    }

    /// The type lists the ABI harness decodes as (the first input byte picks one): every kind of
    /// type, nested, static and dynamic.
    static let abiTypes: [String] = [
        "uint256", "int24,uint160", "address,bool", "bytes32,bytes4", "bytes", "string", "uint8[]", "int256[3]",
        "(address,uint256)", "(uint256,bytes)[]", "bytes[]", "string[2]", "(bytes,string,uint8[])",
        "(uint160,int24,(address,bool)[])", "address[],uint256[],(uint256,uint256,address,bytes)[],(address,uint256,bytes)[][3]",
        "uint112,uint112,uint32", "int128,uint256,bytes[]", "(bool,(bytes32,string)[2])[]",
    ]

    /// ABI decoding is not canonical (offsets may point anywhere): what decodes must encode, and
    /// the canonical encoding must decode to the same values and encode to itself.
    static func abi(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let first = input.first else { return false }
        let text = abiTypes[Int(first) % abiTypes.count]
        let types = try! ABIType.parseList("(" + text + ")")
        let data = Array(input.dropFirst())
        guard let values = try? ABI.decode(types, from: data) else { return false }
        let canonical: [UInt8]
        do {
            canonical = try ABI.encode(values, as: types)
        } catch {
            throw FuzzFailure("(\(text)) decoded values that do not encode: \(error)")
        }
        let again = try? ABI.decode(types, from: canonical)
        try require(again == values, "(\(text)) values changed through their canonical encoding")
        try require((try? ABI.encode(values, as: types)) == canonical, "(\(text)) encoding not stable")
        return true
    }

    /// A raw transaction decodes only when canonical (the decoder re-encodes and compares): its
    /// raw form, hash and the sender recovered again must agree.
    static func rawTransaction(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let tx = try? SignedTransaction(raw: input) else { return false }
        try require(tx.raw == input, "a transaction decoded from \(Hex.encode(input)) has another raw form")
        try require(tx.hash == Keccak256.hash(input), "its hash is not keccak256 of its raw form")
        let signer = try? tx.signature.recoverSigner(digest: tx.transaction.signingHash)
        try require(signer == tx.from, "its sender does not recover again")
        try require(tx.signature.isLowS, "a high-s signature was taken")
        return true
    }

    /// JSON written back parses to the same value, and writing is stable.
    static func json(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let value = try? JSONValue.parse(input) else { return false }
        let text = value.text
        guard let again = try? JSONValue.parse(text) else { throw FuzzFailure("JSON written as \(text) does not parse") }
        try require(again == value, "JSON changed through its text \(text)")
        try require(again.text == text, "JSON text not stable: \(text) then \(again.text)")
        return true
    }

    /// A JSON-RPC frame parses the same from its input and from the JSON written again (what it
    /// means does not depend on spacing, escapes or number spelling); a notification names a
    /// subscription.
    static func jsonRPC(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        let frame = try? RPCFrame.parse(input)
        guard let value = try? JSONValue.parse(input) else {
            try require(frame == nil, "a frame parsed from bytes that are not JSON")
            return false
        }
        let again = try? RPCFrame.parse(Array(value.text.utf8))
        try require(frame == again, "the frame \(String(describing: frame)) read as \(String(describing: again)) once written again")
        if case .notification(let subscription, _)? = frame {
            try require(!subscription.isEmpty, "a notification without a subscription")
        }
        return frame != nil
    }
}
