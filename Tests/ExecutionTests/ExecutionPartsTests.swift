import EVMCodec
import EVMPrimitives
import EVMSigning
import Execution
import Foundation
import Opportunities
import Testing

/// The pure parts of execution: fees from eth_feeHistory, the relay signature, the journal's
/// nonce rules, the receipt arithmetic.
@Suite struct ExecutionPartsTests {
    static func history(_ baseFees: [UInt64], rewards: [UInt64]) -> JSONValue {
        .object([
            ("oldestBlock", .string("0x10")),
            ("baseFeePerGas", .array(baseFees.map { .string(UInt256($0).hexQuantity) })),
            ("gasUsedRatio", .array(baseFees.dropLast().map { _ in .number("0.5") })),
            ("reward", .array(rewards.map { .array([.string(UInt256($0).hexQuantity)]) })),
        ])
    }

    @Test func feesComeFromTheHistoryAndASpikeIsRefused() throws {
        var oracle = GasOracle()
        let gwei: UInt64 = 1_000_000_000
        // Next base fee 12 gwei (the last entry); rewards 1, 3, 2 gwei → median 2 gwei.
        let q = try oracle.quote(feeHistory: Self.history([10 * gwei, 11 * gwei, 10 * gwei, 12 * gwei], rewards: [gwei, 3 * gwei, 2 * gwei]))
        #expect(q.baseFee == UInt256(12 * gwei))
        #expect(q.maxPriorityFeePerGas == UInt256(2 * gwei))
        #expect(q.maxFeePerGas == UInt256(26 * gwei))
        #expect(q.expectedGasPrice == UInt256(14 * gwei))
        // Rewards below the floor (or none) give the floor (1 gwei).
        let floor = try oracle.quote(feeHistory: Self.history([12 * gwei, 12 * gwei], rewards: [0, 0]))
        #expect(floor.maxPriorityFeePerGas == UInt256(gwei))
        // The baseline is about 11.x gwei: 30 gwei is under 3×, 40 gwei is a spike.
        #expect(throws: Never.self) { _ = try oracle.quote(feeHistory: Self.history([12 * gwei, 30 * gwei], rewards: [gwei])) }
        var fresh = GasOracle()
        _ = try fresh.quote(feeHistory: Self.history([10 * gwei, 10 * gwei, 10 * gwei], rewards: [gwei]))
        #expect(throws: GasOracle.Failure.self) { _ = try fresh.quote(feeHistory: Self.history([10 * gwei, 40 * gwei], rewards: [gwei])) }
        // Malformed answers are errors, not crashes.
        for bad: JSONValue in [.object([]), .object([("baseFeePerGas", .array([.string("12")]))]), .object([("baseFeePerGas", .array([]))]),
                               .object([("baseFeePerGas", .array([.string("0x1")])), ("reward", .array([.array([.number("5")])]))])] {
            var o = GasOracle()
            #expect(throws: GasOracle.Failure.self) { _ = try o.quote(feeHistory: bad) }
        }
    }

    @Test func relaySignatureMatchesThePublishedVector() throws {
        // protocol-facts §5: key 32×0x11, this exact body.
        let signer = FlashbotsSigner(key: try PrivateKey(hex: "0x" + String(repeating: "11", count: 32)))
        let body = Array(#"{"jsonrpc":"2.0","id":1,"method":"eth_sendBundle","params":[{"txs":["0x01"],"blockNumber":"0x1"}]}"#.utf8)
        let (name, value) = signer.header(body: body)
        #expect(name == "X-Flashbots-Signature")
        #expect(value == "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A:0xefd2fbac3a5f639bd885410ef7efcb56d4769416336f0524c7b8b479ce8d6bdb1d91b93cd14a9aa6555a51a4dcbd9bf5c20a540c11b2588a716e88bdd3453d2f1c")
        // One byte more in the body is another signature.
        #expect(signer.header(body: body + [0x20]).1 != value)
    }

    @Test func theJournalNeverLetsTwoLiveSubmissionsHoldOneNonce() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sender = try Address(hex: "0x000000000000000000000000000000000000dEaD")
        var journal: Journal? = try Journal(path: path)
        let a = try journal!.reserveNonce(chain: 1, sender: sender, nonce: 7, opportunity: [1], at: 1)
        #expect(throws: (any Error).self) { _ = try journal!.reserveNonce(chain: 1, sender: sender, nonce: 7, opportunity: [2], at: 2) }
        // Another chain or another key may use the same number.
        _ = try journal!.reserveNonce(chain: 2, sender: sender, nonce: 7, opportunity: [3], at: 3)
        #expect(try journal!.storedNonce(chain: 1, sender: sender) == 8)
        // Once dropped, the nonce is free again; the stored next never moves back.
        try journal!.updateSubmission(a, status: .dropped, at: 4)
        let b = try journal!.reserveNonce(chain: 1, sender: sender, nonce: 7, opportunity: [4], at: 5)
        #expect(try journal!.storedNonce(chain: 1, sender: sender) == 8)
        try journal!.updateSubmission(b, status: .submitted, txHash: "0xabc", mode: "bundle", targetBlock: 10, at: 6)
        // Reopened (a restart): what was open is still open, with its target.
        journal = nil
        let reopened = try Journal(path: path)
        let open = try reopened.openSubmissions(chain: 1, sender: sender)
        #expect(open.map(\.nonce) == [7] && open.first?.status == .submitted && open.first?.targetBlock == 10 && open.first?.txHash == "0xabc")
        #expect(throws: (any Error).self) { _ = try reopened.reserveNonce(chain: 1, sender: sender, nonce: 7, opportunity: [5], at: 7) }
    }

    @Test func realizedProfitIsTheNetOfTheReceiptsTransfers() throws {
        let token = try Address(hex: "0x00000000000000000000000000000000000000aa")
        let other = try Address(hex: "0x00000000000000000000000000000000000000bb")
        let me = try Address(hex: "0x00000000000000000000000000000000000000cc")
        func word(_ a: Address) -> UInt256 { try! UInt256(bigEndian: a.bytes) }
        func transfer(_ t: Address, _ from: Address, _ to: Address, _ v: UInt64) -> EVMLog {
            EVMLog(address: t, topics: [ExecutorCall.transferTopic, word(from), word(to)], data: UInt256(v).bigEndianBytes, blockNumber: 1, blockHash: .zero,
                   transactionIndex: 0, logIndex: 0)
        }
        let logs = [transfer(token, other, me, 1_000), transfer(token, me, other, 400), transfer(other, other, me, 99_999),  // another token
                    transfer(token, me, other, 550), transfer(token, .zero, me, 7)]
        #expect(ExecutorCall.netTransfers(logs, token: token, holder: me) == Int256(57))
        #expect(ExecutorCall.netTransfers([transfer(token, me, other, 5)], token: token, holder: me) == Int256(-5))
        // A log of another shape (an approval's topics, short data) is not a transfer.
        var approval = transfer(token, other, me, 5)
        approval.topics[0] = .one
        var short = transfer(token, other, me, 5)
        short.data = [1]
        #expect(ExecutorCall.netTransfers([approval, short], token: token, holder: me) == .zero)
    }

    @Test func bundleSimulationResultsAreReadStrictly() throws {
        let ok = try JSONValue.parse(#"{"results":[{"txHash":"0x01","gasUsed":21000},{"txHash":"0x02","gasUsed":"0x5208","error":"execution reverted"}],"totalGasUsed":42000,"coinbaseDiff":"5"}"#)
        let sim = try BundleSimulation(json: ok)
        #expect(sim.results.map(\.gasUsed) == [21_000, 21_000] && sim.totalGasUsed == 42_000 && sim.coinbaseDiff == UInt256(5))
        #expect(sim.failure == "0x02: execution reverted")
        for bad in [#"{}"#, #"{"results":[{"gasUsed":1}]}"#, #"{"results":[{"txHash":"0x01"}]}"#] {
            #expect(throws: ExecutionError.self) { _ = try BundleSimulation(json: try JSONValue.parse(bad)) }
        }
    }
}
