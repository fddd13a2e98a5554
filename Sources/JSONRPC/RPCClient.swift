import EVMCodec
import Synchronization

/// JSON-RPC calls over a transport (one node, or a `ProviderPool`): ids assigned here, results
/// returned or thrown as `RPCError`.
public final class RPCClient: Sendable {
    public let transport: any RPCTransport
    private let nextID = Atomic<Int>(1)

    public init(_ transport: any RPCTransport) {
        self.transport = transport
    }

    /// One call's result.
    public func call(_ method: String, _ params: [JSONValue] = []) async throws(RPCError) -> JSONValue {
        let responses = try await transport.send([request(method, params)])
        return try responses[0].result.get()
    }

    /// One call carried to its answer even when the caller is cancelled (a stop): a send cut off
    /// half way leaves unknown whether the node took it, so a transaction or bundle goes out whole.
    /// The transport's timeout bounds it.
    public func callUncancelled(_ method: String, _ params: [JSONValue] = []) async throws(RPCError) -> JSONValue {
        let answer = await Task { () async -> Result<JSONValue, RPCError> in
            do throws(RPCError) { return .success(try await self.call(method, params)) } catch { return .failure(error) }
        }.value
        return try answer.get()
    }

    /// One call to every provider behind a `ProviderPool` (one answer per provider, in pool
    /// order), or to the one node otherwise.
    public func callEach(_ method: String, _ params: [JSONValue] = []) async -> [Result<JSONValue, RPCError>] {
        guard let pool = transport as? ProviderPool else {
            do throws(RPCError) { return [.success(try await call(method, params))] } catch { return [.failure(error)] }
        }
        return await pool.sendEach([request(method, params)]).map { answer in
            answer.flatMap { $0.first?.result ?? .failure(RPCError(.malformedResponse, "an empty answer")) }
        }
    }

    /// Several calls in one batch; each succeeds or fails on its own.
    public func batch(_ calls: [(method: String, params: [JSONValue])]) async throws(RPCError) -> [Result<JSONValue, RPCError>] {
        let responses = try await transport.send(calls.map { request($0.method, $0.params) })
        return responses.map(\.result)
    }

    private func request(_ method: String, _ params: [JSONValue]) -> RPCRequest {
        RPCRequest(id: nextID.add(1, ordering: .relaxed).oldValue, method: method, params: params)
    }
}
