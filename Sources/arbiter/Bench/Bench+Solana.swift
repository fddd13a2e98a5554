import ArgumentParser
import DetectBench
import EVMCodec
import Foundation
import SolanaPrimitives

/// `arbiter bench solana`: seeded v0 arbitrage transactions of the shape a Jupiter round trip
/// with a Jito tip has (compute unit limit and price, two swaps over a lookup table of their
/// accounts, a tip transfer), compiled, signed and serialized one at a time; then each decoded
/// strictly and its signature verified.
struct SolanaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solana",
        abstract: "Compile, sign and serialize seeded v0 Solana transactions (and decode and verify them); print the time per transaction.")

    @Option(name: .long, help: "Transactions (after 10% as many for warm-up).") var transactions = 20_000
    @Option(name: .long, help: "Seed of the transactions.") var seed: UInt64 = 1
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard (100...10_000_000).contains(transactions) else { throw CLIError("--transactions must be within 100…10000000") }
    }

    struct Case {
        let payer: Keypair
        let instructions: [Instruction]
        let blockhash: [UInt8]
        let table: AddressLookupTable
    }

    static func cases(_ n: Int, seed: UInt64) throws -> [Case] {
        var g = SplitMix(seed: seed)
        func bytes(_ k: Int) -> [UInt8] { (0..<k).map { _ in UInt8(truncatingIfNeeded: g.next()) } }
        func key() throws -> PublicKey { try PublicKey(bytes: bytes(32)) }
        let payer = try Keypair(seed: bytes(32))
        let program = try key(), tip = try PublicKey(base58: "96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5")
        return try (0..<n).map { _ in
            let pool = try (0..<24).map { _ in try key() }
            let swaps = (0..<2).map { s in
                Instruction(programId: program, accounts: [AccountMeta(payer.publicKey, signer: true, writable: true)]
                            + pool[(s * 12)..<(s * 12 + 12)].enumerated().map { AccountMeta($1, writable: $0 % 3 != 0) }, data: bytes(24))
            }
            let ixs = [ComputeBudget.setComputeUnitLimit(UInt32(200_000 + g.next() % 200_000)), ComputeBudget.setComputeUnitPrice(g.next() % 100_000)]
                + swaps + [SystemProgram.transfer(from: payer.publicKey, to: tip, lamports: 1_000 + g.next() % 100_000)]
            return Case(payer: payer, instructions: ixs, blockhash: bytes(32), table: AddressLookupTable(key: try key(), addresses: pool))
        }
    }

    func run() throws {
        let warm = try Self.cases(transactions / 10, seed: seed &+ 1), work = try Self.cases(transactions, seed: seed)
        let clock = ContinuousClock()
        func build(_ c: Case) throws -> [UInt8] {
            let m = try Message.compile(payer: c.payer.publicKey, instructions: c.instructions, recentBlockhash: c.blockhash, tables: [c.table])
            return try SolanaTransaction(message: m, signers: [c.payer]).serialized()
        }
        for c in warm { _ = try build(c) }
        var built: [UInt64] = [], compiled: [UInt64] = [], signed: [UInt64] = [], decoded: [UInt64] = []
        var raws: [[UInt8]] = []
        raws.reserveCapacity(work.count)
        for c in work {
            let t0 = clock.now
            let m = try Message.compile(payer: c.payer.publicKey, instructions: c.instructions, recentBlockhash: c.blockhash, tables: [c.table])
            let t1 = clock.now
            raws.append(try SolanaTransaction(message: m, signers: [c.payer]).serialized())
            let t2 = clock.now
            compiled.append(StatArbCommand.nanoseconds(t1 - t0))
            signed.append(StatArbCommand.nanoseconds(t2 - t1))
            built.append(StatArbCommand.nanoseconds(t2 - t0))
        }
        var verified = 0
        for raw in raws {
            let t0 = clock.now
            if try SolanaTransaction(bytes: raw).verify() { verified += 1 }
            decoded.append(StatArbCommand.nanoseconds(clock.now - t0))
        }
        guard verified == raws.count else { throw CLIError("\(raws.count - verified) transaction(s) did not verify") }
        built.sort()
        compiled.sort()
        signed.sort()
        decoded.sort()
        let p = StatArbCommand.Samples.percentile
        let size = raws.reduce(0) { $0 + $1.count } / raws.count
        if json {
            func group(_ v: [UInt64]) -> JSONValue { .object([("p50", .number(String(p(v, 0.5)))), ("p99", .number(String(p(v, 0.99))))]) }
            Output.line(JSONValue.object([("transactions", .number(String(transactions))), ("seed", .number(String(seed))),
                                          ("averageBytes", .number(String(size))), ("buildSignSerializeNs", group(built)), ("compileNs", group(compiled)),
                                          ("signSerializeNs", group(signed)), ("decodeVerifyNs", group(decoded))]).text)
        } else {
            Output.line("\(transactions) v0 transactions (seed \(seed), \(size) bytes on average): compile + sign + serialize p50 \(p(built, 0.5)) ns p99 \(p(built, 0.99)) ns "
                        + "(compile p50 \(p(compiled, 0.5)) ns, sign + serialize p50 \(p(signed, 0.5)) ns); decode + verify p50 \(p(decoded, 0.5)) ns p99 \(p(decoded, 0.99)) ns")
        }
        Output.flush()
    }
}
