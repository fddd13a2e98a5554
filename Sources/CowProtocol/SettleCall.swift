import EVMCodec
import EVMPrimitives
import EVMSigning

/// CoW Protocol's settlement contract (protocol-facts §4), the same address on every CoW chain.
public enum GPv2 {
    public static let settlement = try! Address(hex: "0x9008D19f58AAbD9eD0D60971565AA8510560ab41")
    public static let settleSelector: [UInt8] = [0x13, 0xd7, 0x9a, 0x0b]
    static let settle = try! FunctionSignature(
        "settle(address[],uint256[],(uint256,uint256,address,uint256,uint256,uint32,bytes32,uint256,uint256,uint256,bytes)[],(address,uint256,bytes)[][3])")
    /// `Order(address sellToken,…,string buyTokenBalance)`'s EIP-712 type hash.
    static let orderTypeHash = try! Hex.decode("0xd5a25ba2e97094ad7d83dc28a6572da797d6b3e7fc6663bd93efb789fc17e489")
    static let kindHashes = [OrderFlags.Kind.sell: Keccak256.hash(Array("sell".utf8)), .buy: Keccak256.hash(Array("buy".utf8))]
    static let balanceHashes = [OrderFlags.Balance.erc20: "erc20", .external: "external", .internal: "internal"]
        .mapValues { Keccak256.hash(Array($0.utf8)) }

    /// The EIP-712 domain separator of `settlement` on `chainID` ({"Gnosis Protocol", "v2", chainId, verifyingContract}).
    public static func domainSeparator(chainID: UInt64, settlement: Address = GPv2.settlement) -> [UInt8] {
        let type = Keccak256.hash(Array("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)".utf8))
        return Keccak256.hash(type + Keccak256.hash(Array("Gnosis Protocol".utf8)) + Keccak256.hash(Array("v2".utf8))
                              + UInt256(chainID).bigEndianBytes + [UInt8](repeating: 0, count: 12) + settlement.bytes)
    }
}

/// Why calldata, a log or a flag word is not a settlement's.
public struct CowDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notSettle, malformed, badFlags, badIndex, badSignature, badLog, badOrderUid
    }
    public let code: Code
    public let detail: String
    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
    public var description: String { "\(code.rawValue): \(detail)" }
}

/// A trade's flags word: bit 0 kind, bit 1 partially fillable, bits 2–3 the sell-token balance
/// (`0x` erc20, `10` external, `11` internal), bit 4 the buy-token balance, bits 5–6 the signing
/// scheme. Anything above bit 6 is refused, as the contract refuses a scheme past 3.
public struct OrderFlags: Equatable, Hashable, Sendable {
    public enum Kind: String, Sendable { case sell, buy }
    public enum Balance: String, Sendable, Hashable { case erc20, external, `internal` }
    public enum Scheme: String, Sendable { case eip712, ethSign, eip1271, preSign }

    public var kind: Kind
    public var partiallyFillable: Bool
    public var sellBalance: Balance
    public var buyBalance: Balance
    public var scheme: Scheme

    public init(word: UInt256) throws(CowDecodeError) {
        guard word < UInt256(128) else { throw CowDecodeError(.badFlags, "flags \(word) set bits past the signing scheme") }
        let f = word.w0
        kind = f & 1 == 0 ? .sell : .buy
        partiallyFillable = f & 2 != 0
        sellBalance = f & 8 == 0 ? .erc20 : (f & 4 == 0 ? .external : .internal)
        buyBalance = f & 16 == 0 ? .erc20 : .internal
        scheme = [Scheme.eip712, .ethSign, .eip1271, .preSign][Int(f >> 5)]
    }
}

/// A decoded `settle(tokens, clearingPrices, trades, interactions[3])` call, strictly: the ABI
/// (out-of-bounds offsets, dirty padding, truncation refused), then GPv2's own shape: one price
/// per token, trade indices within the tokens, flags within the defined bits, signatures of
/// their scheme's length.
public struct SettleCall: Equatable, Sendable {
    public struct Trade: Equatable, Sendable {
        public var sellTokenIndex: Int
        public var buyTokenIndex: Int
        public var receiver: Address
        public var sellAmount: UInt256
        public var buyAmount: UInt256
        public var validTo: UInt32
        public var appData: [UInt8]
        public var feeAmount: UInt256
        public var flags: OrderFlags
        public var executedAmount: UInt256
        public var signature: [UInt8]
    }

    public struct Interaction: Equatable, Sendable {
        public var target: Address
        public var value: UInt256
        public var callData: [UInt8]
        /// The first four bytes of the call data, as the contract logs them (zero when shorter).
        public var selector: [UInt8] { callData.count >= 4 ? Array(callData[0..<4]) : [0, 0, 0, 0] }
    }

    public var tokens: [Address]
    public var clearingPrices: [UInt256]
    public var trades: [Trade]
    /// Pre-, intra- and post-interactions.
    public var interactions: [[Interaction]]

    public init(calldata: [UInt8]) throws(CowDecodeError) {
        guard calldata.count >= 4, Array(calldata[0..<4]) == GPv2.settleSelector else { throw CowDecodeError(.notSettle, "not a settle call") }
        let v: [ABIValue]
        do {
            v = try GPv2.settle.decodeCalldata(calldata)
        } catch {
            throw CowDecodeError(.malformed, "\(error)")
        }
        tokens = v[0].elements!.map { $0.addressValue! }
        clearingPrices = v[1].elements!.map { $0.uintValue! }
        guard tokens.count == clearingPrices.count else {
            throw CowDecodeError(.malformed, "\(tokens.count) tokens and \(clearingPrices.count) clearing prices")
        }
        let n = tokens.count
        trades = try v[2].elements!.map { (t) throws(CowDecodeError) -> Trade in
            let f = t.elements!
            let sell = f[0].uintValue!, buy = f[1].uintValue!
            guard sell < UInt256(UInt64(n)), buy < UInt256(UInt64(n)) else { throw CowDecodeError(.badIndex, "token index \(sell)/\(buy) of \(n)") }
            let flags = try OrderFlags(word: f[8].uintValue!)
            let signature = f[10].bytesValue!
            switch flags.scheme {
            case .eip712, .ethSign: guard signature.count == 65 else { throw CowDecodeError(.badSignature, "an ECDSA signature of \(signature.count) bytes") }
            case .preSign: guard signature.count == 20 else { throw CowDecodeError(.badSignature, "a pre-signature of \(signature.count) bytes") }
            case .eip1271: guard signature.count >= 20 else { throw CowDecodeError(.badSignature, "an EIP-1271 signature of \(signature.count) bytes") }
            }
            return Trade(sellTokenIndex: Int(sell.w0), buyTokenIndex: Int(buy.w0), receiver: f[2].addressValue!, sellAmount: f[3].uintValue!,
                         buyAmount: f[4].uintValue!, validTo: UInt32(f[5].uintValue!.w0), appData: f[6].bytesValue!, feeAmount: f[7].uintValue!,
                         flags: flags, executedAmount: f[9].uintValue!, signature: signature)
        }
        interactions = v[3].elements!.map { list in
            list.elements!.map { i in
                let f = i.elements!
                return Interaction(target: f[0].addressValue!, value: f[1].uintValue!, callData: f[2].bytesValue!)
            }
        }
    }

    /// The order a trade signs, hashed as EIP-712 under `domain` (`GPv2.domainSeparator`).
    public func orderDigest(_ t: Trade, domain: [UInt8]) -> [UInt8] {
        let pad = [UInt8](repeating: 0, count: 12)
        var words = GPv2.orderTypeHash + pad + tokens[t.sellTokenIndex].bytes + pad + tokens[t.buyTokenIndex].bytes + pad + t.receiver.bytes
        for n in [t.sellAmount, t.buyAmount, UInt256(UInt64(t.validTo))] { words += n.bigEndianBytes }
        words += t.appData + t.feeAmount.bigEndianBytes + GPv2.kindHashes[t.flags.kind]! + (t.flags.partiallyFillable ? UInt256.one : .zero).bigEndianBytes
        words += GPv2.balanceHashes[t.flags.sellBalance]! + GPv2.balanceHashes[t.flags.buyBalance]!
        let structHash = Keccak256.hash(words)
        return Keccak256.hash([0x19, 0x01] + domain + structHash)
    }

    /// The trade's owner: recovered from an EIP-712 or eth_sign signature, else the signature's
    /// first 20 bytes (EIP-1271 and pre-sign; the contract checks those on-chain).
    public func owner(_ t: Trade, domain: [UInt8]) throws(CowDecodeError) -> Address {
        switch t.flags.scheme {
        case .eip712, .ethSign:
            let digest = orderDigest(t, domain: domain)
            do {
                let sig = try Signature(bytes65: t.signature)
                return try sig.recoverSigner(digest: t.flags.scheme == .eip712 ? digest : PersonalMessage.digest(digest))
            } catch {
                throw CowDecodeError(.badSignature, "\(error)")
            }
        case .eip1271, .preSign:
            return t.signature.withUnsafeBytes { Address(bytesAt: $0.baseAddress!) }
        }
    }

    /// The trade's orderUid: digest ‖ owner ‖ validTo.
    public func orderUid(_ t: Trade, domain: [UInt8]) throws(CowDecodeError) -> OrderUid {
        OrderUid(digest: orderDigest(t, domain: domain), owner: try owner(t, domain: domain), validTo: t.validTo)
    }

    /// What each trade sells and buys at the clearing prices, as the contract executes it: a sell
    /// order its sell amount (or executed amount when partially fillable) for that times the sell
    /// price over the buy price, rounded up; a buy order the reverse, rounded down. Nil when a
    /// price is zero or the product passes 256 bits (the contract's checked math reverts).
    public func executedAmounts(_ t: Trade) -> (sell: UInt256, buy: UInt256)? {
        let sellPrice = clearingPrices[t.sellTokenIndex], buyPrice = clearingPrices[t.buyTokenIndex]
        guard !sellPrice.isZero, !buyPrice.isZero else { return nil }
        if t.flags.kind == .sell {
            let sold = t.flags.partiallyFillable ? t.executedAmount : t.sellAmount
            guard let product = sold.checkedMul(sellPrice) else { return nil }
            let (q, r) = product.quotientAndRemainder(dividingBy: buyPrice)
            return (sold, r.isZero ? q : q &+ .one)
        }
        let bought = t.flags.partiallyFillable ? t.executedAmount : t.buyAmount
        guard let product = bought.checkedMul(buyPrice) else { return nil }
        return (product / sellPrice, bought)
    }
}

/// A GPv2 orderUid (56 bytes): the order's EIP-712 digest, its owner, its validTo.
public struct OrderUid: Equatable, Hashable, Sendable {
    public var digest: [UInt8]
    public var owner: Address
    public var validTo: UInt32

    public init(digest: [UInt8], owner: Address, validTo: UInt32) {
        self.digest = digest
        self.owner = owner
        self.validTo = validTo
    }

    public init(bytes b: [UInt8]) throws(CowDecodeError) {
        guard b.count == 56 else { throw CowDecodeError(.badOrderUid, "an orderUid of \(b.count) bytes") }
        digest = Array(b[0..<32])
        owner = b.withUnsafeBytes { Address(bytesAt: $0.baseAddress! + 32) }
        validTo = UInt32(b[52]) << 24 | UInt32(b[53]) << 16 | UInt32(b[54]) << 8 | UInt32(b[55])
    }

    public var bytes: [UInt8] { digest + owner.bytes + [UInt8(validTo >> 24), UInt8(validTo >> 16 & 0xff), UInt8(validTo >> 8 & 0xff), UInt8(validTo & 0xff)] }
}

/// A settlement seen pending: its signed transaction (as seen), hash, sender, and decoded call.
public struct PendingSettlement: Sendable {
    public var raw: [UInt8]
    public var hash: [UInt8]
    public var sender: Address
    public var call: SettleCall
    /// The transaction's input (the settle call data).
    public var callData: [UInt8]
    /// When it was seen (nanoseconds since the epoch).
    public var seenAt: UInt64

    public init(raw: [UInt8], hash: [UInt8], sender: Address, call: SettleCall, callData: [UInt8], seenAt: UInt64 = 0) {
        self.raw = raw
        self.hash = hash
        self.sender = sender
        self.call = call
        self.callData = callData
        self.seenAt = seenAt
    }

    /// The settlement in `raw` (a signed transaction) when it calls `settle` on `settlement`:
    /// nil when it is some other transaction; throws when it is a malformed settle call.
    public init?(raw: [UInt8], settlement: Address, seenAt: UInt64) throws(CowDecodeError) {
        let tx: SignedTransaction
        do {
            tx = try SignedTransaction(raw: raw)
        } catch {
            throw CowDecodeError(.malformed, "not a signed transaction: \(error)")
        }
        guard tx.transaction.to == settlement, tx.transaction.data.starts(with: GPv2.settleSelector) else { return nil }
        self.init(raw: raw, hash: tx.hash, sender: tx.from, call: try SettleCall(calldata: tx.transaction.data), callData: tx.transaction.data,
                  seenAt: seenAt)
    }
}
