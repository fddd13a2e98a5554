import EVMCodec
import EVMPrimitives
import EthClient
import JSONRPC
import MarketState
import Testing

/// Log objects as geth and the devnet send them, and the ways a node could get one wrong.
@Suite struct LogParsingTests {
    static let good = #"""
    {"address":"0x1f98431c8ad98523631ae4a59f267346ea31f984","topics":["0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"],
     "data":"0x00000000000000000000000000000000000000000000000000000000000003e800000000000000000000000000000000000000000000000000000000000007d0",
     "blockNumber":"0x1b4","blockHash":"0x0000000000000000000000000000000000000000000000000000000000000abc","transactionHash":"0x00",
     "transactionIndex":"0x2","logIndex":"0x5","removed":false}
    """#

    static func parse(_ text: String) throws -> EVMLog { try EthClient.log(try JSONValue.parse(text)) }

    @Test func aGoodLogParses() throws {
        let log = try Self.parse(Self.good)
        #expect(log.blockNumber == 0x1b4 && log.logIndex == 5 && log.transactionIndex == 2 && !log.removed)
        #expect(try PoolLogDecoder.decode(log) == .sync(reserve0: 1_000, reserve1: 2_000))
    }

    @Test func badFieldsAreMalformed() {
        let replacements: [(String, String)] = [
            (#""address":"0x1f98431c8ad98523631ae4a59f267346ea31f984""#, #""address":"0x1f98""#),
            (#""blockNumber":"0x1b4""#, #""blockNumber":436"#),
            (#""logIndex":"0x5""#, #""logIndex":"5""#),
            (#""removed":false"#, #""removed":"no""#),
            (#""data":"0x0000"#, #""data":"0xzz00"#),
            (#"["0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"]"#, #"["0x1c41"]"#),
        ]
        for (old, new) in replacements {
            let text = Self.good.replacingOccurrences(of: old, with: new)
            #expect(text != Self.good)
            #expect(throws: RPCError.self, "\(new)") { try Self.parse(text) }
        }
    }
}
