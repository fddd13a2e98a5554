import CowProtocol
import EthClient
import EVMCodec
import EVMPrimitives
import JSONRPC
import Logging
import ServiceLifecycle
import Synchronization

/// CoW settlements on one chain, from two inputs (design item #28):
///
/// - pending: `eth_subscribe ["newPendingTransactions", true]` (full transactions; a node that
///   sends hashes only is served as well). A transaction to the settlement contract whose input
///   starts with `settle`'s selector is fetched as signed bytes (`eth_getRawTransactionByHash`),
///   decoded strictly (the bytes must hash to the announced hash), and published on `pending`;
///   everything else is counted and skipped, as is malformed input.
/// - landed: `eth_subscribe ["logs", {address: settlement}]`, `Trade`/`Interaction`/`Settlement`
///   grouped per transaction (`SettlementLogGrouper`) and published on `landed`.
///
/// Both subscriptions survive dropped sockets (`WebSocketSession`); the watcher ends at shutdown.
public final class CowSettlementWatcher: Service {
    public struct Configuration: Sendable {
        public var chainID: UInt64
        public var settlement: Address
        /// The node's WebSocket endpoint.
        public var webSocket: String
        /// Raw transactions fetched at once; announcements beyond that wait.
        public var buffer = 1_024
        public init(chainID: UInt64, settlement: Address, webSocket: String) {
            self.chainID = chainID
            self.settlement = settlement
            self.webSocket = webSocket
        }
    }

    public struct Status: Equatable, Sendable {
        /// Pending transactions announced, and how many of them were settlements.
        public var announced = 0
        public var settlements = 0
        /// Announced settlement-like transactions whose bytes were not served (dropped meanwhile, or the node failed).
        public var unfetched = 0
        /// Malformed announcements, transactions or settle calls: counted, skipped.
        public var malformed = 0
        public var landed = 0
        public var malformedLogs = 0
        public var connected = false
    }

    public let configuration: Configuration
    public let pending: AsyncStream<PendingSettlement>
    public let landed: AsyncStream<LandedSettlement>
    private let pendingContinuation: AsyncStream<PendingSettlement>.Continuation
    private let landedContinuation: AsyncStream<LandedSettlement>.Continuation
    private let shared = Mutex(Status())
    private let logger: Logger

    public init(_ configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        (pending, pendingContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(configuration.buffer))
        (landed, landedContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(configuration.buffer))
    }

    public var status: Status { shared.withLock { $0 } }

    public func run() async throws {
        defer {
            pendingContinuation.finish()
            landedContinuation.finish()
        }
        let session = WebSocketSession(url: configuration.webSocket, logger: logger)
        let rpc = RPCClient(session)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await session.run() }
            group.addTask {
                for await event in session.subscribe([.string("newPendingTransactions"), .bool(true)]).cancelOnGracefulShutdown() {
                    guard case .item(let item) = event else {
                        self.shared.withLock { $0.connected = true }
                        continue
                    }
                    await self.announced(item, rpc: rpc)
                }
            }
            group.addTask {
                var grouper = SettlementLogGrouper()
                let filter: JSONValue = .object([("address", .string(self.configuration.settlement.checksummed))])
                for await event in session.subscribe([.string("logs"), filter]).cancelOnGracefulShutdown() {
                    guard case .item(let item) = event else { continue }
                    self.logged(item, &grouper)
                }
            }
            // The first stream to end (a shutdown) ends the others.
            _ = await group.next()
            _ = await group.next()
            group.cancelAll()
        }
    }

    /// One announcement: a full transaction (filtered before anything is fetched) or a hash.
    func announced(_ item: JSONValue, rpc: RPCClient) async {
        shared.withLock { $0.announced += 1 }
        let hash: String
        switch item {
        case .string(let h): hash = h
        case .object:
            guard let h = item["hash"]?.stringValue else { return count(\.malformed) }
            guard let to = item["to"]?.stringValue, (try? Address(hex: to)) == configuration.settlement,
                  let input = item["input"]?.stringValue ?? item["data"]?.stringValue, input.lowercased().hasPrefix("0x13d79a0b") else { return }
            hash = h
        default: return count(\.malformed)
        }
        guard let expected = try? Hex.decodePrefixed(hash), expected.count == 32 else { return count(\.malformed) }
        let raw: [UInt8]
        do {
            let v = try await rpc.call("eth_getRawTransactionByHash", [.string(hash)])
            guard let text = v.stringValue, let bytes = try? Hex.decodePrefixed(text) else { return count(\.unfetched) }
            raw = bytes
        } catch {
            return count(\.unfetched)
        }
        do {
            guard let p = try PendingSettlement(raw: raw, settlement: configuration.settlement, seenAt: WallClock.nanoseconds()) else { return }
            guard p.hash == expected else { return count(\.malformed) }
            shared.withLock { $0.settlements += 1 }
            pendingContinuation.yield(p)
        } catch {
            logger.debug("malformed settlement", metadata: ["arb.tx": "\(hash)", "error": "\(error)"])
            count(\.malformed)
        }
    }

    /// One log of the settlement contract.
    func logged(_ item: JSONValue, _ grouper: inout SettlementLogGrouper) {
        guard let log = try? EthClient.log(item), let h = item["transactionHash"]?.stringValue, let tx = try? UInt256(hex: h) else {
            return count(\.malformedLogs)
        }
        let before = grouper.counters.malformed
        if let s = grouper.add(log, txHash: tx) {
            shared.withLock { $0.landed += 1 }
            landedContinuation.yield(s)
        }
        if grouper.counters.malformed > before { count(\.malformedLogs) }
    }

    private func count(_ field: WritableKeyPath<Status, Int>) { shared.withLock { $0[keyPath: field] += 1 } }
}
