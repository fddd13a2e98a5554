import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import EVMSigning
import Testing

/// Transactions and messages against eth-account (Tests/Fixtures/evm/transactions.json, messages.json).
@Suite struct TransactionVectorTests {
    @Test func signEveryVectorToTheSameRawBytes() throws {
        let vectors = try Fixtures.vectors("evm/transactions.json")
        #expect(vectors.count >= 450)
        var types: Set<TransactionType> = []
        for v in vectors {
            let key = try PrivateKey(hex: try v.string("key"))
            #expect(key.address.checksummed == (try v.string("from")))
            let tx = try Transaction(json: v["tx"]!)
            types.insert(tx.type)
            let signed = tx.signed(with: key)
            // RFC 6979 nonces on both sides: identical signatures, so identical bytes.
            #expect(Hex.encode(signed.raw) == (try v.string("raw")))
            #expect(Hex.encode(signed.hash) == (try v.string("hash")))
            #expect(signed.signature.isLowS)
            #expect(signed.v.description == (try v.string("v")))
            #expect(signed.signature.r.description == (try v.string("r")))
            #expect(signed.signature.s.description == (try v.string("s")))
        }
        #expect(types == [.legacy, .accessList, .dynamicFee])
    }

    @Test func decodeEveryVectorAndRecoverTheSender() throws {
        for v in try Fixtures.vectors("evm/transactions.json") {
            let raw = try v.hexBytes("raw")
            let decoded = try SignedTransaction(raw: raw)
            #expect(decoded.from.checksummed == (try v.string("from")))
            #expect(Hex.encode(decoded.hash) == (try v.string("hash")))
            #expect(decoded.raw == raw)
            #expect(decoded.transaction == (try Transaction(json: v["tx"]!)))
            // The decoded JSON names every field and reads back as the same transaction.
            #expect(try Transaction(json: .object(decoded.transaction.jsonMembers)) == decoded.transaction)
        }
    }

    @Test func personalSignEveryVector() throws {
        let vectors = try Fixtures.vectors("evm/messages.json")
        #expect(vectors.count >= 200)
        for v in vectors {
            let key = try PrivateKey(hex: try v.string("key"))
            let message: [UInt8] = if let text = v["text"]?.stringValue { Array(text.utf8) } else { try v.hexBytes("bytes") }
            let sig = PersonalMessage.sign(message, with: key)
            #expect(Hex.encode(sig.bytes65) == (try v.string("signature")))
            let parsed = try Signature(bytes65: try v.hexBytes("signature"))
            #expect(try PersonalMessage.recoverSigner(message, signature: parsed).checksummed == (try v.string("address")))
        }
    }
}

@Suite struct ProtocolFactsVectors {
    static let key = try! PrivateKey(bytes: [UInt8](repeating: 0x11, count: 32))

    /// protocol-facts §5: X-Flashbots-Signature over a bundle body.
    @Test func flashbotsSignature() throws {
        #expect(Self.key.address.checksummed == "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A")
        let body = #"{"jsonrpc":"2.0","id":1,"method":"eth_sendBundle","params":[{"txs":["0x01"],"blockNumber":"0x1"}]}"#
        let bodyHash = Hex.encode(Keccak256.hash(utf8: body))
        #expect(bodyHash == "0xccde410f68d992d2395191ca307a57954cad7166d454b015fdd534a6bbf99d52")
        let sig = PersonalMessage.sign(Array(bodyHash.utf8), with: Self.key)
        #expect(Hex.encode(sig.bytes65) == "0xefd2fbac3a5f639bd885410ef7efcb56d4769416336f0524c7b8b479ce8d6bdb1d91b93cd14a9aa6555a51a4dcbd9bf5c20a540c11b2588a716e88bdd3453d2f1c")
    }

    /// protocol-facts §10: the worked EIP-1559 transaction.
    @Test func eip1559Transaction() throws {
        let tx = Transaction(
            type: .dynamicFee, chainId: 1, nonce: 0, maxPriorityFeePerGas: 1_000_000_000, maxFeePerGas: 30_000_000_000,
            gasLimit: 21_000, to: try Address(hex: "0x000000000000000000000000000000000000dEaD"), value: 1)
        let signed = tx.signed(with: Self.key)
        #expect(Hex.encode(signed.raw) == "0x02f86b0180843b9aca008506fc23ac0082520894000000000000000000000000000000000000dead0180c080a02dcb7fecd3575c5d8cdb864edfd0bf392986c759333e3560753e99f10a22256ea01ab515e6ec660c9a83589e2fb4d22edbe8d806c0c28974ead9c6d8ff6f40a01c")
        #expect(Hex.encode(signed.hash) == "0x2d8c57d3e9a441a679a3a321f3fb54cf618c9062ae0999b863774f28a5e978bb")
    }
}

@Suite struct SigningErrorTests {
    @Test func badKeysAreRejectedWithoutEchoingThem() {
        for bad in ["0x" + String(repeating: "00", count: 32), "0x" + String(repeating: "ff", count: 32), "0x1234", "zz"] {
            #expect(throws: SigningError.self) { try PrivateKey(hex: bad) }
        }
        let key = try! PrivateKey(bytes: [UInt8](repeating: 0x11, count: 32))
        #expect(!"\(key)".contains("1111"))
        #expect(!String(reflecting: key).contains("1111"))
    }

    @Test func highSAndBadVAreRejected() throws {
        let key = try PrivateKey(bytes: [UInt8](repeating: 0x11, count: 32))
        let tx = Transaction(type: .legacy, chainId: 1, nonce: 0, gasPrice: 1, gasLimit: 21_000, to: nil)
        let signed = tx.signed(with: key)
        var items = try RLP.decode(signed.raw).listValue()
        // s' = n - s is the malleable twin; EIP-2 forbids it.
        let s = try items[8].uint256Value()
        let order: UInt256 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
        items[8] = .uint(order - s)
        items[6] = .uint(try items[6].uint256Value() ^ 1)
        #expect(throws: SigningError.self) { try SignedTransaction(raw: RLP.encode(.list(items))) }
        var badV = try RLP.decode(signed.raw).listValue()
        badV[6] = .uint(UInt256(30))
        #expect(throws: SigningError.self) { try SignedTransaction(raw: RLP.encode(.list(badV))) }
    }

    @Test func transactionJSONErrorsNameTheField() {
        let cases: [(String, String)] = [
            (#"{"nonce":0,"gas":21000,"gasprice":1}"#, "gasprice"),
            (#"{"type":2,"chainId":1,"nonce":0,"gas":21000,"maxFeePerGas":1,"maxPriorityFeePerGas":2}"#, "maxPriorityFeePerGas"),
            (#"{"type":2,"nonce":0,"gas":21000,"maxFeePerGas":1,"maxPriorityFeePerGas":1}"#, "chainId"),
            (#"{"nonce":"0x1g","gas":21000,"gasPrice":1}"#, "nonce"),
            (#"{"nonce":0,"gas":"18446744073709551616","gasPrice":1}"#, "gas"),
            (#"{"nonce":0,"gas":21000,"gasPrice":1,"to":"0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}"#, "to"),
            (#"{"type":1,"chainId":1,"nonce":0,"gas":1,"gasPrice":1,"accessList":[{"address":"0x0000000000000000000000000000000000000001","storageKeys":["0x01"]}]}"#, "storageKeys"),
            (#"[1]"#, "object"),
        ]
        for (json, field) in cases {
            do {
                _ = try Transaction(json: try JSONValue.parse(json))
                Issue.record("accepted \(json)")
            } catch let e as SigningError {
                #expect(e.message.contains(field), "\(e.message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
