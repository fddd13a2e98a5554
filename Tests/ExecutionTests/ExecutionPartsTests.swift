import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import Execution
import Foundation
import JSONRPC
import Logging
import MarketState
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

/// Refusals that need no chain: each names its stage and reason, is counted, and is journaled.
@Suite struct ExecutionRefusalTests {
    struct NoState: ChainStateSource {
        func state(chain: UInt64) -> ChainState? { nil }
    }

    static func opportunity(kind: Opportunity.Kind = .crossDex, chains: [UInt64] = [1], cyclic: Bool = true, id: UInt8 = 1) throws -> Opportunity {
        let a = try Address(hex: "0x00000000000000000000000000000000000000a1"), b = try Address(hex: "0x00000000000000000000000000000000000000b2")
        let p1 = try Address(hex: "0x00000000000000000000000000000000000000c3"), p2 = try Address(hex: "0x00000000000000000000000000000000000000d4")
        let path = [Opportunity.Hop(chainID: chains[0], pool: p1, tokenIn: a, tokenOut: b, venue: 0, amountOut: UInt256(1_010)),
                    Opportunity.Hop(chainID: chains.last!, pool: p2, tokenIn: b, tokenOut: cyclic ? a : b, venue: 1, amountOut: UInt256(1_020))]
        return Opportunity(id: [id] + Array(repeating: 0, count: 15), kind: kind, chains: chains, path: path, amountIn: UInt256(1_000),
                           grossProfit: Int256(20), netProfit: Int256(10), grossProfitMicroUSD: 20_000_000, netProfitMicroUSD: 10_000_000, gasUnits: 200_000,
                           gasCostWei: .zero, flashSource: .balancerV2, blockNumber: 10, timestamps: .init(), expiresAt: UInt64.max, confidence: 1)
    }

    @Test func eachRefusalBeforeAnyRPCHasItsStageAndReason() async throws {
        let journal = try Journal(path: ":memory:")
        // A chain whose endpoint nothing listens on: none of these refusals may reach it.
        let eth = EthClient(RPCClient(HTTPTransport(url: "http://127.0.0.1:9/", timeout: .milliseconds(200))))
        let key = try PrivateKey(hex: "0x" + String(repeating: "11", count: 32))
        let chain = ExecutionChain(chainID: 1, eth: eth, route: .publicMempool(eth.rpc), key: key, flash: nil, direct: nil)
        let engine = ExecutionEngine(chains: [chain], state: NoState(), journal: journal, logger: Logger(label: "test"))
        func reason(_ o: Opportunity) async -> String? {
            await engine.handle(o, receivedAt: 1).map { "\($0.stage):\($0.reason)" }
        }
        #expect(await reason(try Self.opportunity(kind: .crossChain, chains: [1, 10], id: 1)) == "strategy:crossChainNotWired")
        #expect(await reason(try Self.opportunity(kind: .solana, id: 2)) == "strategy:solanaNotWired")
        #expect(await reason(try Self.opportunity(kind: .backrun, id: 3)) == "strategy:noBackrunTarget")
        #expect(await reason(try Self.opportunity(chains: [7], id: 4)) == "validate:unknownChain")
        #expect(await reason(try Self.opportunity(cyclic: false, id: 5)) == "validate:invalid")
        var expired = try Self.opportunity(id: 6)
        expired.expiresAt = 1
        #expect(await reason(expired) == "stale:expired")
        #expect(await reason(try Self.opportunity(id: 7)) == "stale:noState")
        #expect(await reason(try Self.opportunity(id: 7)) == "dedup:duplicate")
        let report = await engine.snapshot
        #expect(report.received == 8 && report.submitted == 0)
        #expect(report.refused == ["strategy:crossChainNotWired": 1, "strategy:solanaNotWired": 1, "strategy:noBackrunTarget": 1, "validate:unknownChain": 1,
                                   "validate:invalid": 1, "stale:expired": 1, "stale:noState": 1, "dedup:duplicate": 1])
        let journaled = try journal.decisionCounts()
        #expect(journaled.values.reduce(0, +) == 8 && journaled["refused:duplicate"] == 1)
    }

    /// State that reaches `block` once `at` has passed (a split executor's own watcher).
    struct Trailing: ChainStateSource {
        let start: UInt64, block: UInt64, at: ContinuousClock.Instant
        func state(chain: UInt64) -> ChainState? {
            ChainState(chainID: chain, block: ContinuousClock.now >= at ? block : start, baseFee: nil, book: PoolBook(), token0: [])
        }
    }

    @Test func anOpportunityFromABlockNotSeenYetWaitsForItWithinTheCatchUp() async throws {
        let eth = EthClient(RPCClient(HTTPTransport(url: "http://127.0.0.1:9/", timeout: .milliseconds(200))))
        let key = try PrivateKey(hex: "0x" + String(repeating: "11", count: 32))
        let chain = ExecutionChain(chainID: 1, eth: eth, route: .publicMempool(eth.rpc), key: key, flash: nil, direct: nil)
        var configuration = ExecutionEngine.Configuration()
        configuration.catchUp = .milliseconds(300)
        func reason(_ state: Trailing, id: UInt8) async throws -> String? {
            let engine = ExecutionEngine(configuration: configuration, chains: [chain], state: state, journal: try Journal(path: ":memory:"), logger: Logger(label: "test"))
            return await engine.handle(try Self.opportunity(id: id), receivedAt: 1).map { "\($0.stage):\($0.reason)" }
        }
        // The opportunity is sized at block 10. State stuck at 8 is refused as behind, after the wait;
        let started = ContinuousClock.now
        #expect(try await reason(Trailing(start: 8, block: 8, at: .now), id: 1) == "stale:behind")
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        // state that reaches 10 within the wait goes on (to the gas price, which this dead endpoint cannot give);
        #expect(try await reason(Trailing(start: 8, block: 10, at: .now + .milliseconds(100)), id: 2) == "gas:gasUnavailable")
        // state more than maxBlockLag (2) ahead is stale, as before.
        #expect(try await reason(Trailing(start: 13, block: 13, at: .now), id: 3) == "stale:blockLag")
    }
}
