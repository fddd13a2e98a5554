import ArbiterTestKit
import SolanaPrimitives
import Testing

/// The Solana primitives against protocol-facts §6 and solders' answers (the wide comparison runs
/// in python/tests/test_cli_solana.py).
struct SolanaPrimitivesTests {
    @Test func compactU16MatchesTheProtocolsVectorsAndRefusesNonMinimalForms() {
        let vectors: [(UInt16, [UInt8])] = [(0, [0x00]), (127, [0x7f]), (128, [0x80, 0x01]), (255, [0xff, 0x01]), (256, [0x80, 0x02]),
                                            (16383, [0xff, 0x7f]), (16384, [0x80, 0x80, 0x01]), (65535, [0xff, 0xff, 0x03])]
        for (v, bytes) in vectors {
            #expect(CompactU16.encode(v) == bytes)
            let d = CompactU16.decode(bytes, at: 0)
            #expect(d?.value == v && d?.length == bytes.count)
        }
        // Over 16 bits, a fourth byte, a padded zero, truncated.
        for bad: [UInt8] in [[0xff, 0xff, 0x04], [0x80, 0x80, 0x80, 0x01], [0x80, 0x00], [0xff, 0x80, 0x00], [0x80], []] {
            #expect(CompactU16.decode(bad, at: 0) == nil, "\(bad)")
        }
        // Every value round-trips.
        for v in stride(from: 0, through: 65535, by: 7) {
            #expect(CompactU16.decode(CompactU16.encode(UInt16(v)), at: 0)?.value == UInt16(v))
        }
    }

    @Test func base58IsStrictAndKeepsLeadingZeros() throws {
        #expect(Base58.encode([]) == "" && Base58.decode("") == [])
        #expect(Base58.encode([0, 0, 1]) == "112" && Base58.decode("112") == [0, 0, 1])
        #expect(PublicKey.systemProgram.bytes == [UInt8](repeating: 0, count: 32))
        for bad in ["0", "O", "I", "l", "abc!", "ab c", "é"] { #expect(Base58.decode(bad) == nil, "\(bad)") }
        #expect(throws: SolanaError.self) { try PublicKey(base58: "1111111111111111111111111111111") }  // 31 bytes
        var g = SeededGenerator(seed: 58)
        for _ in 0..<2_000 {
            var b = g.bytes(Int.random(in: 0...64, using: &g))
            if Bool.random(using: &g) { b = [0, 0] + b }
            #expect(Base58.decode(Base58.encode(b)) == b)
        }
    }

    @Test func keysSignaturesAndProgramAddressesAreTheProtocols() throws {
        // protocol-facts §6: the keypair from 32 zero bytes, and its signature of the vector's message.
        let k = try Keypair(seed: [UInt8](repeating: 0, count: 32))
        #expect(k.publicKey.base58 == "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS" && k.publicKey.isOnCurve)
        let message = try hex("80010001023b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da290306466fe5211732ffecadba72c39be7bc8ce5bbc5f7126b2c439b3a4000000000000000000000000000000000000000000000000000000000000000000000000101000502400d030000")
        let sig = try k.sign(message)
        #expect(sig == (try hex("186bd80d153718a5222ff1639a1ab8ba386b925b945cc3c4fc35a9f0efa514b555303a378a641e69b5284051c9e371148ec11e2d6525d5413238efb207c9730c")))
        #expect(Keypair.verify(sig, message: message, signer: k.publicKey) && !Keypair.verify(sig, message: message + [0], signer: k.publicKey))
        // solders: find_program_address([b"abc"], Pubkey.default()) == CXXm41…, bump 255.
        let (pda, bump) = try PublicKey.findProgramAddress(seeds: [Array("abc".utf8)], program: .systemProgram)
        #expect(pda.base58 == "CXXm41uDe3UKztC2SinVv48Ecu4UtCWoLBqUNdCWSgRo" && bump == 255 && !pda.isOnCurve)
        #expect(throws: SolanaError.self) { try PublicKey.createProgramAddress(seeds: [[UInt8](repeating: 1, count: 33)], program: .systemProgram) }
    }

    @Test func instructionLayoutsAreTheProtocols() throws {
        // protocol-facts §6: SetComputeUnitLimit(200000), SetComputeUnitPrice(1000), Transfer(1000).
        let limit = try hex("02400d0300"), price = try hex("03e803000000000000")
        #expect(ComputeBudget.setComputeUnitLimit(200_000).data == limit)
        #expect(ComputeBudget.setComputeUnitPrice(1_000).data == price)
        #expect(ComputeBudget.requestHeapFrame(262_144).data == [0x01, 0x00, 0x00, 0x04, 0x00])
        #expect(ComputeBudget.setLoadedAccountsDataSizeLimit(65_536).data == [0x04, 0x00, 0x00, 0x01, 0x00])
        #expect(ComputeBudget.setComputeUnitLimit(1).accounts.isEmpty && ComputeBudget.setComputeUnitLimit(1).programId == .computeBudgetProgram)
        // ceil(limit · price / 1e6): 200,000 units at 1,000 µlamports = 200 lamports; one more µlamport rounds up.
        #expect(ComputeBudget.priorityFee(limit: 200_000, price: 1_000) == 200 && ComputeBudget.priorityFee(limit: 200_000, price: 1_001) == 201)
        #expect(ComputeBudget.priorityFee(limit: .max, price: .max) == nil)  // past 64 bits
        #expect(ComputeBudget.priorityFee(limit: .max, price: 4_294_967_296_000_000) == 18_446_744_069_414_584_320)
        let a = try Keypair(seed: [UInt8](repeating: 1, count: 32)).publicKey, b = try Keypair(seed: [UInt8](repeating: 2, count: 32)).publicKey
        let t = SystemProgram.transfer(from: a, to: b, lamports: 1_000)
        let transferData = try hex("02000000e803000000000000")
        #expect(t.data == transferData && t.programId == .systemProgram)
        #expect(t.accounts == [AccountMeta(a, signer: true, writable: true), AccountMeta(b, writable: true)])
        // SPL Token: TransferChecked is 12 ‖ amount u64 LE ‖ decimals; SyncNative is 17.
        let mint = try PublicKey(base58: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
        let tc = TokenProgram.transferChecked(source: a, mint: mint, destination: b, authority: a, amount: 5, decimals: 6)
        #expect(tc.data == [12, 5, 0, 0, 0, 0, 0, 0, 0, 6] && tc.accounts.map(\.isWritable) == [true, false, true, false] && tc.accounts[3].isSigner)
        #expect(TokenProgram.syncNative(a).data == [17])
        let create = try AssociatedTokenProgram.createIdempotent(payer: a, owner: b, mint: mint)
        let ata = try PublicKey.associatedTokenAddress(owner: b, mint: mint)
        #expect(create.data == [1] && create.accounts[1].pubkey == ata)
        #expect(create.accounts.map(\.pubkey).suffix(2) == [.systemProgram, .tokenProgram])
        // The vector's message compiles from the builder, byte for byte.
        let m = try Message.compile(payer: try Keypair(seed: [UInt8](repeating: 0, count: 32)).publicKey,
                                    instructions: [ComputeBudget.setComputeUnitLimit(200_000)], recentBlockhash: [UInt8](repeating: 0, count: 32), tables: [])
        let vector = try hex("80010001023b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da290306466fe5211732ffecadba72c39be7bc8ce5bbc5f7126b2c439b3a4000000000000000000000000000000000000000000000000000000000000000000000000101000502400d030000")
        #expect(m.serialized() == vector)
    }

    func hex(_ s: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }
}
