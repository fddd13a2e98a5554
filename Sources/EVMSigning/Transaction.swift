import EVMCodec
import EVMPrimitives

/// One EIP-2930 access-list entry.
public struct AccessListEntry: Hashable, Sendable {
    public var address: Address
    public var storageKeys: [UInt256]

    public init(address: Address, storageKeys: [UInt256] = []) {
        self.address = address
        self.storageKeys = storageKeys
    }
}

/// The EIP-2718 envelope of a transaction.
public enum TransactionType: UInt8, Hashable, Sendable {
    case legacy = 0
    case accessList = 1
    case dynamicFee = 2
}

/// An unsigned transaction of any supported type.
///
/// Legacy and EIP-2930 transactions use ``gasPrice``; EIP-1559 ones use ``maxFeePerGas`` and
/// ``maxPriorityFeePerGas``. ``chainId`` is nil only for a pre-EIP-155 legacy transaction.
public struct Transaction: Hashable, Sendable {
    public var type: TransactionType
    public var chainId: UInt64?
    public var nonce: UInt64
    public var gasPrice: UInt256
    public var maxPriorityFeePerGas: UInt256
    public var maxFeePerGas: UInt256
    public var gasLimit: UInt64
    /// Nil creates a contract.
    public var to: Address?
    public var value: UInt256
    public var data: [UInt8]
    public var accessList: [AccessListEntry]

    public init(
        type: TransactionType, chainId: UInt64?, nonce: UInt64, gasPrice: UInt256 = .zero,
        maxPriorityFeePerGas: UInt256 = .zero, maxFeePerGas: UInt256 = .zero, gasLimit: UInt64,
        to: Address?, value: UInt256 = .zero, data: [UInt8] = [], accessList: [AccessListEntry] = []
    ) {
        self.type = type
        self.chainId = chainId
        self.nonce = nonce
        self.gasPrice = gasPrice
        self.maxPriorityFeePerGas = maxPriorityFeePerGas
        self.maxFeePerGas = maxFeePerGas
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
        self.accessList = accessList
    }

    /// The access list as RLP: `[[address, [key…]]…]`.
    var accessListItem: RLPItem {
        .list(accessList.map { e in
            .list([.address(e.address), .list(e.storageKeys.map { .bytes($0.bigEndianBytes) })])
        })
    }

    /// Writes the fields shared by the signing payload and the signed envelope.
    func writeFields(into w: inout RLPWriter) {
        switch type {
        case .legacy:
            w.append(uint: nonce)
            w.append(uint: gasPrice)
            w.append(uint: gasLimit)
            w.append(address: to)
            w.append(uint: value)
            w.append(bytes: data)
        case .accessList:
            w.append(uint: chainId ?? 0)
            w.append(uint: nonce)
            w.append(uint: gasPrice)
            w.append(uint: gasLimit)
            w.append(address: to)
            w.append(uint: value)
            w.append(bytes: data)
            w.append(accessListItem)
        case .dynamicFee:
            w.append(uint: chainId ?? 0)
            w.append(uint: nonce)
            w.append(uint: maxPriorityFeePerGas)
            w.append(uint: maxFeePerGas)
            w.append(uint: gasLimit)
            w.append(address: to)
            w.append(uint: value)
            w.append(bytes: data)
            w.append(accessListItem)
        }
    }

    /// The bytes whose keccak256 is signed.
    public var signingPayload: [UInt8] {
        var w = RLPWriter(capacity: 64 + data.count)
        writeFields(into: &w)
        if type == .legacy {
            if let chainId { // EIP-155
                w.append(uint: chainId)
                w.append(uint: UInt64(0))
                w.append(uint: UInt64(0))
            }
            return w.list()
        }
        return w.list(typePrefix: type.rawValue)
    }

    /// keccak256 of ``signingPayload``.
    public var signingHash: [UInt8] { Keccak256.hash(signingPayload) }

    /// Signs and encodes.
    public func signed(with key: PrivateKey) -> SignedTransaction {
        let sig = key.sign(digest: signingHash)
        return SignedTransaction(transaction: self, signature: sig, from: key.address)
    }
}

/// A signed transaction: its raw encoding, hash and sender.
public struct SignedTransaction: Hashable, Sendable {
    public let transaction: Transaction
    public let signature: Signature
    public let from: Address
    /// The network encoding (what `eth_sendRawTransaction` takes).
    public let raw: [UInt8]
    /// keccak256(raw).
    public let hash: [UInt8]

    init(transaction: Transaction, signature: Signature, from: Address) {
        self.transaction = transaction
        self.signature = signature
        self.from = from
        var w = RLPWriter(capacity: 140 + transaction.data.count)
        transaction.writeFields(into: &w)
        if transaction.type == .legacy {
            w.append(uint: SignedTransaction.legacyV(chainId: transaction.chainId, yParity: signature.yParity))
        } else {
            w.append(uint: UInt64(signature.yParity))
        }
        w.append(uint: signature.r)
        w.append(uint: signature.s)
        raw = transaction.type == .legacy ? w.list() : w.list(typePrefix: transaction.type.rawValue)
        hash = Keccak256.hash(raw)
    }

    /// The legacy `v`: 27/28 without a chain id, `recId + 2·chainId + 35` with one (EIP-155).
    /// For typed transactions, the y parity.
    public var v: UInt256 {
        guard transaction.type == .legacy else { return UInt256(UInt64(signature.yParity)) }
        return SignedTransaction.legacyV(chainId: transaction.chainId, yParity: signature.yParity)
    }

    static func legacyV(chainId: UInt64?, yParity: UInt8) -> UInt256 {
        guard let chainId else { return UInt256(27 + UInt64(yParity)) }
        return UInt256(chainId) * 2 + 35 + UInt256(UInt64(yParity))
    }
}
