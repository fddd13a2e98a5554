/// A log as a node delivers it (`eth_getLogs`, a `logs` subscription), parsed at the edge.
public struct EVMLog: Equatable, Sendable {
    public var address: Address
    public var topics: [UInt256]
    public var data: [UInt8]
    public var blockNumber: UInt64
    public var blockHash: UInt256
    public var transactionIndex: UInt32
    public var logIndex: UInt32
    /// True when a reorg dropped the log (the node re-sends it so).
    public var removed: Bool

    public init(address: Address, topics: [UInt256], data: [UInt8], blockNumber: UInt64, blockHash: UInt256 = .zero,
                transactionIndex: UInt32 = 0, logIndex: UInt32, removed: Bool = false) {
        self.address = address
        self.topics = topics
        self.data = data
        self.blockNumber = blockNumber
        self.blockHash = blockHash
        self.transactionIndex = transactionIndex
        self.logIndex = logIndex
        self.removed = removed
    }

    /// Position in the chain: logs apply in this order.
    public var position: LogPosition { LogPosition(block: blockNumber, index: logIndex) }
}

/// A log's place in the chain, ordered by block then log index.
public struct LogPosition: Comparable, Hashable, Sendable {
    public var block: UInt64
    public var index: UInt32

    public init(block: UInt64, index: UInt32) {
        self.block = block
        self.index = index
    }

    public static func < (a: LogPosition, b: LogPosition) -> Bool {
        a.block != b.block ? a.block < b.block : a.index < b.index
    }
}
