import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import EVMSigning
import Testing

/// Random and mutated inputs for the decoders that face the network. Each input either
/// decodes (and then re-encodes to exactly the same bytes, where the format is canonical)
/// or throws the decoder's typed error. A crash fails the whole run.
@Suite struct DecoderFuzzTests {
    static let rounds = 40_000

    @Test func rlpDecoder() throws {
        var rng = SeededGenerator(seed: 0xA11CE)
        let seeds = try Fixtures.vectors("evm/rlp.json").map { try $0.hexBytes("encoded") }
        var accepted = 0
        for i in 0..<Self.rounds {
            let input = i % 4 == 0 ? rng.bytes(Int.random(in: 0...64, using: &rng)) : rng.mutate(seeds.randomElement(using: &rng)!)
            do {
                let item = try RLP.decode(input)
                #expect(RLP.encode(item) == input)
                accepted += 1
            } catch {
                // CodecError is the only error RLP.decode can throw (typed throws).
            }
        }
        #expect(accepted > 0)
    }

    @Test func abiDecoder() throws {
        var rng = SeededGenerator(seed: 0xB0B)
        let seeds = try Fixtures.vectors("evm/abi.json").map { (try ABIType.parseList(try $0.string("types")), try $0.hexBytes("encoded")) }
        var accepted = 0
        for i in 0..<Self.rounds {
            let (types, data) = seeds.randomElement(using: &rng)!
            let input: [UInt8]
            if i % 4 == 0 {
                // Word-structured noise: small integers look like offsets and lengths.
                input = (0..<Int.random(in: 0...12, using: &rng)).flatMap { _ in
                    Bool.random(using: &rng) ? UInt256(UInt64.random(in: 0...200, using: &rng)).bigEndianBytes : rng.bytes(32)
                }
            } else {
                input = rng.mutate(data)
            }
            if (try? ABI.decode(types, from: input)) != nil { accepted += 1 }
        }
        #expect(accepted > 0)
    }

    @Test func rawTransactionDecoder() throws {
        var rng = SeededGenerator(seed: 0x7C)
        let seeds = try Fixtures.vectors("evm/transactions.json").map { try $0.hexBytes("raw") }
        var accepted = 0
        for i in 0..<Self.rounds {
            let input = i % 5 == 0 ? [UInt8.random(in: 0...3, using: &rng)] + rng.bytes(Int.random(in: 0...120, using: &rng))
                                   : rng.mutate(seeds.randomElement(using: &rng)!)
            do {
                let tx = try SignedTransaction(raw: input)
                #expect(tx.raw == input)
                accepted += 1
            } catch {
                // Typed SigningError.
            }
        }
        // A mutation inside the signature's r usually still recovers (to another sender).
        #expect(accepted > 0)
    }
}
