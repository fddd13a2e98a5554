import EVMCodec
import EVMPrimitives

/// GPv2Settlement's events (protocol-facts §4), decoded strictly: the topic count, indexed
/// addresses with clean padding, the data's ABI, a 56-byte orderUid.
public enum SettlementEvent: Equatable, Sendable {
    case trade(Trade)
    case interaction(target: Address, value: UInt256, selector: [UInt8])
    case settlement(solver: Address)

    public struct Trade: Equatable, Sendable {
        public var owner: Address
        public var sellToken: Address
        public var buyToken: Address
        public var sellAmount: UInt256
        public var buyAmount: UInt256
        public var feeAmount: UInt256
        public var orderUid: OrderUid
    }

    public static let tradeTopic = try! UInt256(hex: "0xa07a543ab8a018198e99ca0184c93fe9050a79400a0a723441f84de1d972cc17")
    public static let interactionTopic = try! UInt256(hex: "0xed99827efb37016f2275f98c4bcf71c7551c75d59e9b450f79fa32e60be672c2")
    public static let settlementTopic = try! UInt256(hex: "0x40338ce1a7c49204f0099533b1e9a7ee0a3d261f84974ab7af36105b8c4e9db4")
    static let tradeData: [ABIType] = [.address, .address, .uint(256), .uint(256), .uint(256), .bytes]
    static let interactionData: [ABIType] = [.uint(256), .fixedBytes(4)]

    /// The event of `log` (nil: not one of these three); throws when it is one of them, malformed.
    public static func decode(_ log: EVMLog) throws(CowDecodeError) -> SettlementEvent? {
        guard let topic = log.topics.first else { return nil }
        switch topic {
        case tradeTopic:
            let owner = try indexed(log)
            let v = try data(tradeData, log)
            let uid = try OrderUid(bytes: v[5].bytesValue!)
            return .trade(Trade(owner: owner, sellToken: v[0].addressValue!, buyToken: v[1].addressValue!, sellAmount: v[2].uintValue!,
                                buyAmount: v[3].uintValue!, feeAmount: v[4].uintValue!, orderUid: uid))
        case interactionTopic:
            let target = try indexed(log)
            let v = try data(interactionData, log)
            return .interaction(target: target, value: v[0].uintValue!, selector: v[1].bytesValue!)
        case settlementTopic:
            let solver = try indexed(log)
            guard log.data.isEmpty else { throw CowDecodeError(.badLog, "Settlement with \(log.data.count) bytes of data") }
            return .settlement(solver: solver)
        default:
            return nil
        }
    }

    static func indexed(_ log: EVMLog) throws(CowDecodeError) -> Address {
        guard log.topics.count == 2 else { throw CowDecodeError(.badLog, "\(log.topics.count) topics") }
        guard log.topics[1] >> 160 == .zero else { throw CowDecodeError(.badLog, "an indexed address with dirty padding") }
        return Address(truncating: log.topics[1])
    }

    static func data(_ types: [ABIType], _ log: EVMLog) throws(CowDecodeError) -> [ABIValue] {
        do {
            let v = try ABI.decode(types, from: log.data)
            // The exact encoding: nothing after it.
            guard try ABI.encode(v, as: types).count == log.data.count else { throw CowDecodeError(.badLog, "trailing bytes") }
            return v
        } catch let e as CowDecodeError {
            throw e
        } catch {
            throw CowDecodeError(.badLog, "\(error)")
        }
    }
}

/// A settlement as its logs tell it once it landed: the solver, its trades, the interactions'
/// targets and selectors, in order.
public struct LandedSettlement: Equatable, Sendable {
    public var transactionHash: UInt256
    public var block: UInt64
    public var solver: Address
    public var trades: [SettlementEvent.Trade]
    public var interactions: [(target: Address, selector: [UInt8])]

    public static func == (a: LandedSettlement, b: LandedSettlement) -> Bool {
        a.transactionHash == b.transactionHash && a.block == b.block && a.solver == b.solver && a.trades == b.trades
            && a.interactions.map(\.target) == b.interactions.map(\.target) && a.interactions.map(\.selector) == b.interactions.map(\.selector)
    }
}

/// Groups a settlement contract's logs by transaction: a transaction's `Trade` and `Interaction`
/// logs are held until its `Settlement` log (the contract's last), which completes it. Logs of
/// another transaction before that leave the incomplete one behind (counted); malformed logs are
/// counted and skipped.
public struct SettlementLogGrouper: Sendable {
    public struct Counters: Equatable, Sendable {
        public var settlements = 0
        public var malformed = 0
        public var incomplete = 0
        public var removed = 0
        public init() {}
    }

    public private(set) var counters = Counters()
    private var open: (tx: UInt256, block: UInt64, trades: [SettlementEvent.Trade], interactions: [(Address, [UInt8])])?

    public init() {}

    /// The settlement `log` completes, if any. Logs need `transactionHash` (`txHash`).
    public mutating func add(_ log: EVMLog, txHash: UInt256) -> LandedSettlement? {
        if log.removed {
            counters.removed += 1
            return nil
        }
        let event: SettlementEvent?
        do {
            event = try SettlementEvent.decode(log)
        } catch {
            counters.malformed += 1
            return nil
        }
        guard let event else { return nil }
        if let o = open, o.tx != txHash || o.block != log.blockNumber {
            counters.incomplete += 1
            open = nil
        }
        var o = open ?? (txHash, log.blockNumber, [], [])
        switch event {
        case .trade(let t): o.trades.append(t)
        case .interaction(let target, _, let selector): o.interactions.append((target, selector))
        case .settlement(let solver):
            open = nil
            counters.settlements += 1
            return LandedSettlement(transactionHash: txHash, block: log.blockNumber, solver: solver, trades: o.trades,
                                    interactions: o.interactions.map { (target: $0.0, selector: $0.1) })
        }
        open = o
        return nil
    }
}
