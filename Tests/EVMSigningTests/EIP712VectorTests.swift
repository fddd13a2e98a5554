import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import EVMSigning
import Testing

/// EIP-712 struct types declared in Swift, checked against eth-account's encode_typed_data.
struct Person: EIP712Struct {
    var name: String
    var wallet: Address
    static let eip712Type = EIP712StructType("Person", [.init("name", .string), .init("wallet", .atomic(.address))])
    var eip712Values: [EIP712Value] { [.string(name), .atomic(.address(wallet))] }
}

struct Mail: EIP712Struct {
    var from: Person
    var to: Person
    var contents: String
    static let eip712Type = EIP712StructType("Mail", [
        .init("from", .structType(Person.eip712Type)), .init("to", .structType(Person.eip712Type)), .init("contents", .string),
    ])
    var eip712Values: [EIP712Value] { [from.eip712Value, to.eip712Value, .string(contents)] }
}

/// CoW Protocol's GPv2Order.
struct CowOrder: EIP712Struct {
    var sellToken, buyToken, receiver: Address
    var sellAmount, buyAmount: UInt256
    var validTo: UInt32
    var appData: [UInt8]
    var feeAmount: UInt256
    var kind: String
    var partiallyFillable: Bool
    var sellTokenBalance, buyTokenBalance: String

    static let eip712Type = EIP712StructType("Order", [
        .init("sellToken", .atomic(.address)), .init("buyToken", .atomic(.address)), .init("receiver", .atomic(.address)),
        .init("sellAmount", .atomic(.uint(256))), .init("buyAmount", .atomic(.uint(256))), .init("validTo", .atomic(.uint(32))),
        .init("appData", .atomic(.fixedBytes(32))), .init("feeAmount", .atomic(.uint(256))), .init("kind", .string),
        .init("partiallyFillable", .atomic(.bool)), .init("sellTokenBalance", .string), .init("buyTokenBalance", .string),
    ])
    var eip712Values: [EIP712Value] {
        [
            .atomic(.address(sellToken)), .atomic(.address(buyToken)), .atomic(.address(receiver)),
            .atomic(.uint(sellAmount)), .atomic(.uint(buyAmount)), .atomic(.uint(UInt256(UInt64(validTo)))),
            .atomic(.fixedBytes(appData)), .atomic(.uint(feeAmount)), .string(kind), .atomic(.bool(partiallyFillable)),
            .string(sellTokenBalance), .string(buyTokenBalance),
        ]
    }
}

@Suite struct EIP712VectorTests {
    static func address(_ v: JSONValue?) throws -> Address { try Address(hex: v?.stringValue ?? "") }
    static func uint(_ v: JSONValue?) throws -> UInt256 { try UInt256(decimal: v?.stringValue ?? "") }

    static func domain(_ d: JSONValue) throws -> EIP712Domain {
        guard case .number(let chain)? = d["chainId"] else { throw FixtureError("no chainId") }
        return EIP712Domain(
            name: d["name"]?.stringValue, version: d["version"]?.stringValue,
            chainId: try UInt256(decimal: chain), verifyingContract: try address(d["verifyingContract"]))
    }

    static func person(_ p: JSONValue?) throws -> Person {
        Person(name: p?["name"]?.stringValue ?? "", wallet: try address(p?["wallet"]))
    }

    @Test func typeHashesOfDeclaredStructs() {
        #expect(Mail.eip712Type.encodeType == "Mail(Person from,Person to,string contents)Person(string name,address wallet)")
        // GPv2Order.TYPE_HASH, a constant in CoW Protocol's contracts.
        #expect(Hex.encode(CowOrder.eip712Type.typeHash) == "0xd5a25ba2e97094ad7d83dc28a6572da797d6b3e7fc6663bd93efb789fc17e489")
    }

    @Test func everyOracleVector() throws {
        let vectors = try Fixtures.vectors("evm/eip712.json")
        #expect(vectors.count >= 100)
        for v in vectors {
            let domain = try Self.domain(v["domain"]!)
            let m = v["message"]!
            let key = try PrivateKey(hex: try v.string("key"))
            let structHash: [UInt8], digest: [UInt8], sig: Signature
            if try v.string("primaryType") == "Mail" {
                let mail = Mail(from: try Self.person(m["from"]), to: try Self.person(m["to"]), contents: m["contents"]?.stringValue ?? "")
                structHash = try mail.hashStruct()
                digest = try EIP712.digest(domain: domain, message: mail)
                sig = try EIP712.sign(domain: domain, message: mail, with: key)
            } else {
                let order = CowOrder(
                    sellToken: try Self.address(m["sellToken"]), buyToken: try Self.address(m["buyToken"]),
                    receiver: try Self.address(m["receiver"]), sellAmount: try Self.uint(m["sellAmount"]),
                    buyAmount: try Self.uint(m["buyAmount"]), validTo: UInt32(try Self.uint(m["validTo"]).w0),
                    appData: try m.hexBytes("appData"), feeAmount: try Self.uint(m["feeAmount"]),
                    kind: try m.string("kind"), partiallyFillable: m["partiallyFillable"] == .bool(true),
                    sellTokenBalance: try m.string("sellTokenBalance"), buyTokenBalance: try m.string("buyTokenBalance"))
                structHash = try order.hashStruct()
                digest = try EIP712.digest(domain: domain, message: order)
                sig = try EIP712.sign(domain: domain, message: order, with: key)
            }
            #expect(Hex.encode(domain.separator) == (try v.string("domainSeparator")))
            #expect(Hex.encode(structHash) == (try v.string("structHash")))
            #expect(Hex.encode(digest) == (try v.string("digest")))
            #expect(Hex.encode(sig.bytes65) == (try v.string("signature")))
            #expect(try sig.recoverSigner(digest: digest) == key.address)
        }
    }
}
