import ArgumentParser
import CowProtocol
import EVMCodec
import EVMPrimitives

extension Util {
    struct CowDecode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cow-decode",
            abstract: "Decode a CoW Protocol settle call (or a GPv2Settlement event log) as JSON.",
            discussion: """
                The argument is the `settle` call data (0x-hex). Each trade shows its flags \
                (kind, partiallyFillable, sellBalance, buyBalance, scheme), its EIP-712 order digest, owner \
                (recovered from an EIP-712 or eth_sign signature) and orderUid for the domain of \
                --chain-id and --settlement, and what it executes at the clearing prices. With --log, \
                the argument is a log as JSON ({"topics": [...], "data": "0x…"}). With --jsonl, \
                standard input holds one argument per line and each line gets one JSON line back: \
                the decoding, or {"error": …}.
                """)

        @Argument(help: "settle call data (0x-hex), or with --log a log as JSON.")
        var input: String?
        @Flag(name: .long, help: "Decode a GPv2Settlement event log instead of call data.")
        var log = false
        @Flag(name: .long, help: "Decode one input per line of standard input.")
        var jsonl = false
        @Option(name: .long, help: "Chain id of the EIP-712 domain.")
        var chainId: UInt64 = 1
        @Option(name: .long, help: "The settlement contract of the EIP-712 domain.")
        var settlement = GPv2.settlement.checksummed

        func run() throws {
            let contract = try context("--settlement") { try Address(hex: settlement) }
            let domain = GPv2.domainSeparator(chainID: chainId, settlement: contract)
            if jsonl {
                guard input == nil else { throw CLIError("--jsonl reads standard input; do not pass an argument") }
                for line in Input.standardInput().split(separator: 0x0a, omittingEmptySubsequences: false) {
                    let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    if text.isEmpty { continue }
                    do {
                        Output.line(try decode(text, domain: domain).text)
                    } catch {
                        Output.line(JSONValue.object([("error", .string("\(error)"))]).text)
                    }
                }
                return
            }
            guard let input else { throw CLIError("cow-decode needs call data (or --jsonl)") }
            Output.line(try decode(input, domain: domain).text)
        }

        func decode(_ text: String, domain: [UInt8]) throws -> JSONValue {
            log ? try Self.logJSON(text) : try Self.callJSON(try Util.hexBytes(text, "call data"), domain: domain)
        }

        static func callJSON(_ data: [UInt8], domain: [UInt8]) throws -> JSONValue {
            let call = try SettleCall(calldata: data)
            func s(_ v: UInt256) -> JSONValue { .string(v.description) }
            let trades: [JSONValue] = try call.trades.map { t in
                let uid = try call.orderUid(t, domain: domain)
                let executed = call.executedAmounts(t)
                return .object([
                    ("sellTokenIndex", .number(String(t.sellTokenIndex))), ("buyTokenIndex", .number(String(t.buyTokenIndex))),
                    ("receiver", .string(t.receiver.checksummed)), ("sellAmount", s(t.sellAmount)), ("buyAmount", s(t.buyAmount)),
                    ("validTo", .number(String(t.validTo))), ("appData", .string(Hex.encode(t.appData))), ("feeAmount", s(t.feeAmount)),
                    ("kind", .string(t.flags.kind.rawValue)), ("partiallyFillable", .bool(t.flags.partiallyFillable)),
                    ("sellBalance", .string(t.flags.sellBalance.rawValue)), ("buyBalance", .string(t.flags.buyBalance.rawValue)),
                    ("scheme", .string(t.flags.scheme.rawValue)), ("executedAmount", s(t.executedAmount)), ("signature", .string(Hex.encode(t.signature))),
                    ("digest", .string(Hex.encode(uid.digest))), ("owner", .string(uid.owner.checksummed)), ("orderUid", .string(Hex.encode(uid.bytes))),
                    ("executedSell", executed.map { s($0.sell) } ?? .null), ("executedBuy", executed.map { s($0.buy) } ?? .null),
                ])
            }
            let interactions: [JSONValue] = call.interactions.map { list in
                .array(list.map { i in
                    .object([("target", .string(i.target.checksummed)), ("value", s(i.value)), ("callData", .string(Hex.encode(i.callData))),
                             ("selector", .string(Hex.encode(i.selector)))])
                })
            }
            return .object([("tokens", .array(call.tokens.map { .string($0.checksummed) })), ("clearingPrices", .array(call.clearingPrices.map(s))),
                            ("trades", .array(trades)), ("interactions", .array(interactions))])
        }

        static func logJSON(_ text: String) throws -> JSONValue {
            let v = try context("log") { try JSONValue.parse(Array(text.utf8)) }
            guard let topics = v["topics"]?.arrayValue, let data = v["data"]?.stringValue else { throw CLIError("log: needs topics and data") }
            let words = try topics.map { t in try Util.word(t.stringValue ?? "", "topic") }
            let log = EVMLog(address: .zero, topics: words, data: try Util.hexBytes(data, "data"), blockNumber: 0, logIndex: 0)
            guard let event = try SettlementEvent.decode(log) else { throw CLIError("log: not a GPv2Settlement event") }
            switch event {
            case .trade(let t):
                return .object([("event", .string("Trade")), ("owner", .string(t.owner.checksummed)), ("sellToken", .string(t.sellToken.checksummed)),
                                ("buyToken", .string(t.buyToken.checksummed)), ("sellAmount", .string(t.sellAmount.description)),
                                ("buyAmount", .string(t.buyAmount.description)), ("feeAmount", .string(t.feeAmount.description)),
                                ("orderDigest", .string(Hex.encode(t.orderUid.digest))), ("orderOwner", .string(t.orderUid.owner.checksummed)),
                                ("validTo", .number(String(t.orderUid.validTo)))])
            case .interaction(let target, let value, let selector):
                return .object([("event", .string("Interaction")), ("target", .string(target.checksummed)), ("value", .string(value.description)),
                                ("selector", .string(Hex.encode(selector)))])
            case .settlement(let solver):
                return .object([("event", .string("Settlement")), ("solver", .string(solver.checksummed))])
            }
        }
    }
}
