import Execution
import Foundation
import JSONRPC
import Logging
import Opportunities
import SolanaClient
import SolanaExecution
import SolanaPrimitives
import Testing

/// The builder's order and limits and the risk gates' boundaries, without a network.
struct BuilderRiskTests {
    static func key(_ b: UInt8) -> PublicKey { try! Keypair(seed: Array(repeating: b, count: 32)).publicKey }
    static let payer = try! Keypair(seed: Array(repeating: 1, count: 32))

    static func route(_ tag: UInt8, accounts: Int = 3) -> JupiterInstructions {
        let setup = Instruction(programId: .associatedTokenProgram, accounts: [AccountMeta(payer.publicKey, signer: true, writable: true)], data: [1])
        let swap = Instruction(programId: key(200), accounts: (0..<accounts).map { AccountMeta(key(UInt8(tag &+ UInt8($0))), writable: true) }, data: [tag])
        var r = try! JupiterInstructions(json: .object([("swapInstruction", .object([("programId", .string(key(200).base58)), ("accounts", .array([])), ("data", .string(""))]))]))
        (r.setup, r.swap, r.cleanup) = ([setup], swap, nil)
        return r
    }

    @Test func instructionsComeInOrderWithSetupsOnceAndTheTipLast() throws {
        let tip = Self.key(99)
        let plan = SolanaTransactionBuilder.Plan(payer: Self.payer.publicKey, routes: [Self.route(10), Self.route(20)], unitLimit: 90_000, unitPrice: 1_234,
                                                 tip: (tip, 5_000), blockhash: Array(repeating: 7, count: 32), tables: [])
        let ixs = try SolanaTransactionBuilder.instructions(plan)
        #expect(ixs.count == 2 + 1 + 2 + 1)
        #expect(ixs[0] == ComputeBudget.setComputeUnitLimit(90_000) && ixs[1] == ComputeBudget.setComputeUnitPrice(1_234))
        #expect(ixs[2].programId == .associatedTokenProgram && ixs[3].data == [10] && ixs[4].data == [20])
        #expect(ixs[5] == SystemProgram.transfer(from: Self.payer.publicKey, to: tip, lamports: 5_000))
        let tx = try SolanaTransactionBuilder.transaction(plan, signer: Self.payer)
        #expect(tx.verify() && tx.serialized().count <= 1_232)
        // A tip account in a lookup table would be loaded through it: refused.
        var inTable = plan
        inTable.tables = [AddressLookupTable(key: Self.key(98), addresses: [Self.key(10), tip])]
        #expect(throws: SolanaTransactionBuilder.Failure.self) { _ = try SolanaTransactionBuilder.transaction(inTable, signer: Self.payer) }
        // Too many accounts for one transaction: refused as too large, never truncated.
        var big = plan
        big.routes = (0..<4).map { Self.route(UInt8(30 + $0 * 12), accounts: 12) }
        do { _ = try SolanaTransactionBuilder.transaction(big, signer: Self.payer); Issue.record("a transaction past 1,232 bytes was built") }
        catch { #expect(error.kind == .tooLarge) }
        #expect(throws: SolanaTransactionBuilder.Failure.self) { _ = try SolanaTransactionBuilder.transaction(plan, signer: try Keypair(seed: Array(repeating: 2, count: 32))) }
    }

    @Test func limitsPricesAndFees() {
        #expect(SolanaTransactionBuilder.unitLimit(simulated: 100_000) == 120_000)
        #expect(SolanaTransactionBuilder.unitLimit(simulated: 1) == 5_000)
        #expect(SolanaTransactionBuilder.unitLimit(simulated: 1_300_000) == 1_400_000)
        #expect(SolanaTransactionBuilder.unitPrice(recent: [0, 0, 5, 10, 20, 40], percentile: 0.5, cap: 1_000) == 20)
        #expect(SolanaTransactionBuilder.unitPrice(recent: [0, 0, 5, 10, 20, 40], percentile: 1, cap: 30) == 30)
        #expect(SolanaTransactionBuilder.unitPrice(recent: [0, 0], cap: 30) == 1)
        // 5,000 a signature + ceil(200,000 × 1,001 / 10^6) = 201.
        #expect(SolanaTransactionBuilder.fee(signatures: 1, limit: 200_000, price: 1_001) == 5_201)
        #expect(SolanaTransactionBuilder.fee(signatures: 1, limit: 1_400_000, price: .max) == .max)  // saturates, never traps
    }

    @Test func riskGatesAtTheirBoundaries() {
        var limits = SolanaRiskManager.Limits()
        (limits.maxDeviationBps, limits.minProfit, limits.blockhashMargin, limits.jitoPerSecond) = (100, 10_000, 20, 2)
        var risk = SolanaRiskManager(limits: limits)
        #expect(risk.quote(detected: 1_000_000, quoted: 1_010_000) == nil)  // exactly 1 %
        #expect(risk.quote(detected: 1_000_000, quoted: 989_999)?.reason == "quoteDeviation")
        #expect(risk.quote(detected: 0, quoted: 0)?.reason == "quoteDeviation")
        #expect(risk.quote(detected: .max, quoted: .max - 1) == nil)  // no overflow
        #expect(risk.profit(10_000, fee: 5_000, tip: 1_000) == nil && risk.profit(9_999, fee: 5_000, tip: 1_000)?.reason == "belowMinimum")
        let b = Blockhash(hash: Array(repeating: 0, count: 32), lastValidBlockHeight: 1_000, slot: 850)
        #expect(risk.blockhash(b, height: 980) == nil && risk.blockhash(b, height: 981)?.reason == "blockhash")
        let now = ContinuousClock.now
        #expect(risk.take(.jito, now: now) == nil && risk.take(.jito, now: now) == nil)
        #expect(risk.take(.jito, now: now)?.reason == "jito")
        #expect(risk.take(.jito, now: now + .milliseconds(600)) == nil)  // refilled at 2 a second
    }
}

/// What the executor refuses before it asks anything of the network (its endpoints here answer nothing).
struct SolanaValidationTests {
    @Test func onlyUnexpiredSolRoundTripsGetPastValidation() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("solana-validate-\(UUID().uuidString).sqlite").path
        let journal = try Journal(path: path)
        let nowhere = "http://127.0.0.1:9"
        let x = SolanaExecutor(chainID: 101, wallet: try Keypair(seed: Array(repeating: 3, count: 32)), rpc: SolanaRPC(RPCClient(HTTPTransport(url: nowhere))),
                               jupiter: JupiterClient(base: nowhere), jito: nil, journal: journal, logger: Logger(label: "test"))
        let sol = SolanaExecutor.wrappedSOL.bytes, usdc = Array(repeating: UInt8(7), count: 32), pool = Array(repeating: UInt8(9), count: 32)
        func route(_ a: [UInt8], _ b: [UInt8], back: [UInt8], expires: UInt64 = .max) -> Opportunity {
            let legs = [Opportunity.Solana.Leg(pool: pool, mintIn: a, mintOut: b, amountOut: 10), .init(pool: pool, mintIn: b, mintOut: back, amountOut: 11)]
            return Opportunity(id: Opportunity.makeID(slot: 1, legs: legs, amountIn: 10), kind: .solana, chains: [101], path: [], amountIn: 10,
                               grossProfit: 1, netProfit: 1, grossProfitMicroUSD: 0, netProfitMicroUSD: 0, gasUnits: 0, gasCostWei: .zero, flashSource: .none,
                               blockNumber: 1, timestamps: .init(), expiresAt: expires, confidence: 1, solana: .init(legs: legs))
        }
        #expect(await x.execute(route(usdc, sol, back: usdc)).failureReason == "notSolDenominated")
        #expect(await x.execute(route(sol, usdc, back: Array(repeating: 8, count: 32))).failureReason == "invalid")  // not a round trip
        #expect(await x.execute(route(sol, usdc, back: sol, expires: 5), now: 6).failureReason == "expired")
        #expect(await x.sent == 0)
    }
}
