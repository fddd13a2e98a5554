import EVMCodec
import JSONRPC
import Testing

/// Frames as the JSON-RPC 2.0 specification's examples and real nodes write them.
@Suite struct RPCMessageTests {
    func frame(_ text: String) throws -> RPCFrame { try RPCFrame.parse(Array(text.utf8)) }

    @Test func batchesAreMatchedById() throws {
        guard case .responses(let r) = try frame(#"[{"jsonrpc":"2.0","result":"0x1","id":2},{"jsonrpc":"2.0","result":7,"id":1}]"#) else {
            Issue.record("not responses"); return
        }
        #expect(r.map(\.id) == [2, 1])
        #expect(r[0].result == .success(.string("0x1")))
    }

    @Test func errorsKeepCodeAndData() throws {
        guard case .responses(let r) = try frame(#"{"jsonrpc":"2.0","id":5,"error":{"code":3,"message":"execution reverted","data":"0x08c379a0"}}"#) else {
            Issue.record("not responses"); return
        }
        guard case .failure(let e) = r[0].result else { Issue.record("not an error"); return }
        #expect(e.code == .server && e.rpcCode == 3 && e.data == #""0x08c379a0""# && !e.retryable)
        guard case .responses(let limited) = try frame(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"limit exceeded"}}"#),
              case .failure(let l) = limited[0].result else { Issue.record("no rate limit"); return }
        #expect(l.code == .rateLimited && l.retryable)
        // The spec's parse-error response: id null.
        guard case .responses(let p) = try frame(#"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#) else { return }
        #expect(p[0].id == nil)
    }

    @Test func notificationsCarryTheSubscription() throws {
        let text = #"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x9ce5","result":{"number":"0x1b4"}}}"#
        guard case .notification(let sub, let result) = try frame(text) else { Issue.record("not a notification"); return }
        #expect(sub == "0x9ce5" && result["number"]?.stringValue == "0x1b4")
        // Solana's: `<kind>Notification` and an integer subscription id (its decimal text here).
        let solana = #"{"jsonrpc":"2.0","method":"accountNotification","params":{"result":{"context":{"slot":5},"value":null},"subscription":23784}}"#
        guard case .notification(let id, let value) = try frame(solana) else { Issue.record("not a notification"); return }
        #expect(id == "23784" && value["context"]?["slot"] != nil)
        for bad in [#"{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{},"subscription":-1}}"#,
                    #"{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{},"subscription":1.5}}"#,
                    #"{"jsonrpc":"2.0","method":"slotNotification","params":{"subscription":1}}"#] {
            #expect(throws: RPCError.self, "\(bad)") { try frame(bad) }
        }
    }

    @Test func malformedFramesAreErrors() {
        for text in ["", "{", "[]", "42", #"{"id":1,"result":1}"#, #"{"jsonrpc":"2.0","id":"a","result":1}"#,
                     #"{"jsonrpc":"2.0","id":1}"#, #"{"jsonrpc":"2.0","id":1,"error":{"message":"x"}}"#,
                     #"{"jsonrpc":"2.0","method":"eth_subscription","params":{}}"#] {
            #expect(throws: RPCError.self, "\(text)") { try frame(text) }
        }
    }

    @Test func requestsEncodeAsTheSpecSays() throws {
        let one = RPCRequest(id: 1, method: "eth_getBalance", params: [.string("0x00"), .string("latest")])
        #expect(RPCRequest.body([one]) == #"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00","latest"]}"#)
        let two = RPCRequest.body([one, RPCRequest(id: 2, method: "eth_chainId")])
        #expect(try JSONValue.parse(two).arrayValue?.count == 2)
    }
}
