import ArbiterTestKit
import EVMPrimitives
@testable import MarketState
import Testing

/// The book's address table against a `Dictionary` on the same seeded addresses: random ones,
/// vanity ones sharing long prefixes or suffixes (and zero), every lookup of a present and an
/// absent address alike, through every growth of the table.
@Suite struct AddressIndexTests {
    static func address(_ rng: inout SeededGenerator, vanity: Int) -> Address {
        var bytes = (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }
        switch vanity {
        case 0: for i in 0..<12 { bytes[i] = 0 }  // leading zero bytes (mined addresses)
        case 1: for i in 8..<20 { bytes[i] = 0x44 }  // a shared tail
        case 2: bytes = [UInt8](repeating: 0, count: 19) + [bytes[19]]  // tiny ones (precompiles)
        default: break
        }
        return try! Address(bytes: bytes)
    }

    @Test func lookupsAgreeWithADictionaryThroughEveryGrowth() {
        var rng = SeededGenerator(seed: 12)
        var index = AddressIndex()
        var reference: [Address: Int] = [:]
        for n in 0..<5_000 {
            let a = Self.address(&rng, vanity: Int.random(in: 0..<6, using: &rng))
            if reference[a] == nil {
                index.insert(a, reference.count)
                reference[a] = reference.count
            }
            if n % 97 == 0 || n > 4_990 {
                for (k, v) in reference { #expect(index[k] == v) }
            }
            let absent = Self.address(&rng, vanity: Int.random(in: 0..<6, using: &rng))
            #expect(index[absent] == reference[absent])
        }
        #expect(index.count == reference.count && reference.count > 4_000)
        #expect(index[.zero] == reference[.zero])
    }
}
