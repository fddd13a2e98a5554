import CowProtocol
import EVMCodec

extension FuzzTarget {
    /// GPv2Settlement.settle's signature (protocol-facts §4).
    static let settle = try! FunctionSignature(
        "settle(address[],uint256[],(uint256,uint256,address,uint256,uint256,uint32,bytes32,uint256,uint256,uint256,bytes)[],(address,uint256,bytes)[][3])")

    /// Settle calldata reads the same from the input and from its values encoded again (what a
    /// settlement says does not depend on where its offsets point); every trade's tokens are
    /// among the settlement's, three interaction lists.
    static func cowSettle(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        let call = try? SettleCall(calldata: input)
        if let call {
            try require(call.trades.allSatisfy { $0.sellTokenIndex < call.tokens.count && $0.buyTokenIndex < call.tokens.count }, "a trade's token outside the settlement's")
            try require(call.interactions.count == 3 && call.tokens.count == call.clearingPrices.count, "a settlement of the wrong shape")
        }
        guard let values = try? settle.decodeCalldata(input), let again = try? settle.calldata(values) else {
            try require(call == nil, "a settle call read from calldata the ABI does not")
            return false
        }
        try require((try? SettleCall(calldata: again)) == call, "a settle call read otherwise once encoded again")
        return call != nil
    }
}
